//! Every scope through the real binary: environments, organizations (access changes that keep
//! the value), Dependabot, and precedence warnings.

use secretsync_sandbox::Scope;

use crate::support::{Env, REPO};

fn env_scope() -> Scope {
    Scope::Environment(REPO.into(), "production".into())
}

fn puts_to(env: &Env, suffix: &str) -> usize {
    env.requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with(suffix))
        .count()
}

#[test]
fn environment_secrets_need_the_environment_or_create_it() {
    let env = Env::new();
    let body = |create: bool| {
        format!(
            "[secrets.DEPLOY_KEY]\nvalue = \"k1\"\n[[targets]]\nrepo = \"{REPO}\"\nenvironment = \"production\"\n{}",
            if create { "create_environment = true\n" } else { "" }
        )
    };
    env.config(&body(false));
    let out = env.cmd(&["apply", "--yes"]).run();
    out.assert_code(1);
    // A failed target's error is said once, on stderr; the report marks the target.
    assert!(
        out.stderr
            .contains("environment `production` of `acme/shop` does not exist"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("create_environment = true"),
        "{}",
        out.stderr
    );

    env.config(&body(true));
    let plan = env.cmd(&["plan"]).run();
    plan.assert_code(0);
    assert!(plan.stdout.contains("+ DEPLOY_KEY"), "{}", plan.stdout);
    assert!(
        !env.sandbox.has_environment(REPO, "production"),
        "plan creates nothing"
    );

    env.cmd(&["apply", "--yes"]).run().assert_code(0);
    assert!(env.sandbox.has_environment(REPO, "production"));
    assert_eq!(
        env.sandbox
            .scope_plaintext(&env_scope(), "DEPLOY_KEY")
            .as_deref(),
        Some(&b"k1"[..])
    );
    assert!(
        env.sandbox.names(REPO).is_empty(),
        "repository secrets untouched"
    );

    env.sandbox.clear_requests();
    let again = env.cmd(&["apply", "--yes"]).run();
    again.assert_code(0);
    assert!(again.stdout.contains("In sync"), "{}", again.stdout);
    assert_eq!(env.counts().2, 0);

    env.sandbox.advance_clock(1);
    env.sandbox
        .scope_put_outside(&env_scope(), "DEPLOY_KEY", b"changed by hand");
    env.sandbox.scope_put_outside(&env_scope(), "STALE", b"old");
    let plan = env.cmd(&["plan", "--prune"]).run();
    assert!(
        plan.stdout.contains("changed on GitHub at"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("- STALE"), "{}", plan.stdout);
    env.cmd(&["apply", "--yes", "--prune"]).run().assert_code(0);
    assert_eq!(env.sandbox.scope_names(&env_scope()), ["DEPLOY_KEY"]);
    assert_eq!(
        env.sandbox
            .scope_plaintext(&env_scope(), "DEPLOY_KEY")
            .as_deref(),
        Some(&b"k1"[..])
    );
}

fn org_config(env: &Env, visibility: &str, repositories: &str) {
    env.config(&format!(
        "[secrets.NPM_TOKEN]\nvalue = \"npm-1\"\n[[targets]]\norg = \"acme\"\nvisibility = \"{visibility}\"\n{repositories}"
    ));
}

#[test]
fn organization_access_changes_do_not_resend_the_value() {
    let env = Env::new();
    let org = Scope::Org("acme".into());
    let shop = env.sandbox.add_repo(REPO);
    let web = env.sandbox.add_repo("acme/web");
    org_config(&env, "selected", "repositories = [\"shop\"]\n");
    env.cmd(&["apply", "--yes"]).run().assert_code(0);
    assert_eq!(
        env.sandbox.org_secret_access(&org, "NPM_TOKEN"),
        Some(("selected".into(), vec![shop]))
    );
    let sealed = env.sandbox.scope_ciphertext(&org, "NPM_TOKEN");

    // Only the selected repositories change: the selected-repositories endpoint, no value.
    org_config(&env, "selected", "repositories = [\"shop\", \"web\"]\n");
    let plan = env.cmd(&["plan"]).run();
    assert!(
        plan.stdout
            .contains("access selected: +acme/web; value kept"),
        "{}",
        plan.stdout
    );
    env.sandbox.clear_requests();
    env.cmd(&["apply", "--yes"]).run().assert_code(0);
    let mut both = vec![shop, web];
    both.sort_unstable();
    assert_eq!(
        env.sandbox.org_secret_access(&org, "NPM_TOKEN"),
        Some(("selected".into(), both))
    );
    assert_eq!(puts_to(&env, "/NPM_TOKEN/repositories"), 1);
    assert_eq!(
        puts_to(&env, "/NPM_TOKEN"),
        0,
        "the value is not written again"
    );
    assert_eq!(env.counts().1, 0, "no public key is needed");

    // Only the visibility changes: a write without the value, so the sealed bytes stay.
    org_config(&env, "all", "");
    env.sandbox.clear_requests();
    env.cmd(&["apply", "--yes"]).run().assert_code(0);
    assert_eq!(
        env.sandbox.org_secret_access(&org, "NPM_TOKEN"),
        Some(("all".into(), vec![]))
    );
    assert_eq!(
        env.sandbox.scope_ciphertext(&org, "NPM_TOKEN"),
        sealed,
        "same ciphertext: not re-sealed"
    );
    assert_eq!(env.counts().1, 0, "no public key is needed");
    let plan = env.cmd(&["plan"]).run();
    assert!(plan.stdout.contains("In sync"), "{}", plan.stdout);
}

#[test]
fn unknown_selected_repository_fails_before_any_write() {
    let env = Env::new();
    env.sandbox.add_repo(REPO);
    org_config(&env, "selected", "repositories = [\"shop\", \"nope\"]\n");
    let out = env.cmd(&["apply", "--yes"]).run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("repository `nope` does not exist in organization `acme`"),
        "{}",
        out.stderr
    );
    assert!(
        env.requests().iter().all(|r| r.method == "GET"),
        "nothing written"
    );
}

#[test]
fn dependabot_secrets_are_their_own_scope() {
    let env = Env::new();
    env.config(&format!(
        "[secrets.REGISTRY_TOKEN]\nvalue = \"dep\"\n[[targets]]\nrepo = \"{REPO}\"\napp = \"dependabot\"\n\
         [[targets]]\norg = \"acme\"\napp = \"dependabot\"\nvisibility = \"private\"\n"
    ));
    env.cmd(&["apply", "--yes"]).run().assert_code(0);
    let repo_scope = Scope::DependabotRepo(REPO.into());
    let org_scope = Scope::DependabotOrg("acme".into());
    assert_eq!(
        env.sandbox
            .scope_plaintext(&repo_scope, "REGISTRY_TOKEN")
            .as_deref(),
        Some(&b"dep"[..])
    );
    assert_eq!(
        env.sandbox
            .scope_plaintext(&org_scope, "REGISTRY_TOKEN")
            .as_deref(),
        Some(&b"dep"[..])
    );
    assert!(
        env.sandbox.names(REPO).is_empty(),
        "Actions secrets untouched"
    );
    let mut keys: Vec<String> = env
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/public-key"))
        .map(|r| r.path)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "/orgs/acme/dependabot/secrets/public-key",
            "/repos/acme/shop/dependabot/secrets/public-key"
        ],
        "one key per scope, each its own"
    );
}

#[test]
fn precedence_is_warned_about() {
    let env = Env::new();
    env.sandbox.add_repo(REPO);
    env.config(&format!(
        "[secrets.TOKEN]\nvalue = \"t\"\n\
         [[targets]]\norg = \"acme\"\nvisibility = \"all\"\n\
         [[targets]]\nrepo = \"{REPO}\"\n"
    ));
    let out = env.cmd(&["plan"]).run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("warning: secret `TOKEN` is set at several levels for acme/shop (organization acme, repository acme/shop); its workflows see the repository acme/shop value"),
        "{}",
        out.stdout
    );
}

/// The same life for a secret and a variable in every scope: create, no-op, update, drift, prune.
#[test]
fn every_scope_lives_the_same_life() {
    let cases: [(&str, Scope, bool); 5] = [
        ("repo = \"acme/shop\"", Scope::Repo(REPO.into()), true),
        (
            "repo = \"acme/shop\"\nenvironment = \"staging\"\ncreate_environment = true",
            Scope::Environment(REPO.into(), "staging".into()),
            true,
        ),
        (
            "org = \"acme\"\nvisibility = \"private\"",
            Scope::Org("acme".into()),
            true,
        ),
        (
            "repo = \"acme/shop\"\napp = \"dependabot\"",
            Scope::DependabotRepo(REPO.into()),
            false,
        ),
        (
            "org = \"acme\"\napp = \"dependabot\"\nvisibility = \"all\"",
            Scope::DependabotOrg("acme".into()),
            false,
        ),
    ];
    for (target, scope, has_variables) in cases {
        let env = Env::new();
        env.sandbox.add_repo(REPO);
        let config = |value: &str| {
            let variable = if has_variables {
                format!("[variables.SITE]\nvalue = \"{value}\"\n")
            } else {
                String::new()
            };
            env.config(&format!(
                "[secrets.KEY]\nvalue = \"{value}\"\n{variable}[[targets]]\n{target}\n"
            ));
        };
        config("one");
        env.cmd(&["apply", "--yes"]).run().assert_code(0);
        assert_eq!(
            env.sandbox.scope_plaintext(&scope, "KEY").as_deref(),
            Some(&b"one"[..]),
            "{scope:?}"
        );
        if has_variables {
            assert_eq!(
                env.sandbox.variable(&scope, "SITE").as_deref(),
                Some("one"),
                "{scope:?}"
            );
        }

        env.sandbox.clear_requests();
        let out = env.cmd(&["apply", "--yes"]).run();
        out.assert_code(0);
        assert!(
            env.requests().iter().all(|r| r.method == "GET"),
            "{scope:?}: a no-op writes nothing"
        );
        assert_eq!(env.counts().1, 0, "{scope:?}: and fetches no key");

        config("two");
        env.sandbox.clear_requests();
        env.cmd(&["apply", "--yes"]).run().assert_code(0);
        let writes = env.requests().iter().filter(|r| r.method != "GET").count();
        assert_eq!(
            writes,
            if has_variables { 2 } else { 1 },
            "{scope:?}: only what changed"
        );
        assert_eq!(
            env.sandbox.scope_plaintext(&scope, "KEY").as_deref(),
            Some(&b"two"[..]),
            "{scope:?}"
        );

        env.sandbox.advance_clock(1);
        env.sandbox.scope_put_outside(&scope, "KEY", b"by hand");
        env.sandbox.scope_put_outside(&scope, "LEFTOVER", b"x");
        if has_variables {
            env.sandbox.set_variable_outside(&scope, "OLD_VAR", "x");
        }
        let plan = env.cmd(&["plan", "--prune"]).run();
        assert!(
            plan.stdout.contains("changed on GitHub at"),
            "{scope:?}: {}",
            plan.stdout
        );
        assert!(
            plan.stdout.contains("- LEFTOVER"),
            "{scope:?}: {}",
            plan.stdout
        );
        env.cmd(&["apply", "--yes", "--prune"]).run().assert_code(0);
        assert_eq!(env.sandbox.scope_names(&scope), ["KEY"], "{scope:?}");
        assert_eq!(
            env.sandbox.scope_plaintext(&scope, "KEY").as_deref(),
            Some(&b"two"[..]),
            "{scope:?}"
        );
        if has_variables {
            assert_eq!(env.sandbox.variable_names(&scope), ["SITE"], "{scope:?}");
        }
        let plan = env.cmd(&["plan", "--prune"]).run();
        assert!(
            plan.stdout.contains("In sync"),
            "{scope:?}: {}",
            plan.stdout
        );
    }
}

/// Dependabot has no variables, but `variables = []` asks for none, so it is accepted: a config
/// that declares variables for other targets can say so explicitly on a Dependabot one.
#[test]
fn a_dependabot_target_accepts_an_empty_variables_list() {
    let env = Env::new();
    env.config(&format!(
        "[secrets.REGISTRY_TOKEN]\nvalue = \"dep\"\n[variables.REGION]\nvalue = \"eu\"\n\
         [[targets]]\nrepo = \"{REPO}\"\napp = \"dependabot\"\nvariables = []\n"
    ));
    let out = env.cmd(&["apply", "--yes"]).run();
    out.assert_code(0);
    assert_eq!(
        env.sandbox
            .scope_plaintext(&Scope::DependabotRepo(REPO.into()), "REGISTRY_TOKEN")
            .as_deref(),
        Some(&b"dep"[..])
    );
}

/// Scopes whose state files once coincided (a repository named like another's environment or
/// Dependabot file) apply together, and then plan as in sync.
#[test]
fn lookalike_scopes_keep_their_own_state() {
    let env = Env::new();
    for repo in ["acme/shop.env.prod", "acme/x", "acme/x.dependabot"] {
        env.sandbox.add_repo(repo);
    }
    env.sandbox.add_environment(REPO, "prod");
    env.config(
        "[secrets.A]\nvalue = \"a\"\n\
         [[targets]]\nrepo = \"acme/shop.env.prod\"\n\
         [[targets]]\nrepo = \"acme/shop\"\nenvironment = \"prod\"\n\
         [[targets]]\nrepo = \"acme/x.dependabot\"\n\
         [[targets]]\nrepo = \"acme/x\"\napp = \"dependabot\"\n",
    );
    env.cmd(&["apply", "--yes"])
        .run_with_timeout(std::time::Duration::from_secs(60))
        .assert_code(0);
    let out = env.cmd(&["plan", "--json"]).run();
    out.assert_code(0);
    let doc: serde_json::Value = out.json();
    let codes: Vec<&str> = doc["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .flat_map(|t| t["changes"].as_array().expect("changes"))
        .map(|c| c["reason_code"].as_str().expect("a reason"))
        .collect();
    assert_eq!(codes, ["same"; 4], "{}", out.stdout);
}
