//! `init --from-github` and `init --from-dotenv` through the binary: the config written declares
//! exactly what GitHub (or the `.env` file) holds, `plan` on it proposes nothing GitHub does not
//! hold already, and every failure writes nothing.

use std::collections::BTreeSet;

use secretsync_sandbox::Scope;
use serde_json::Value;

use crate::support::{Env, Output, Run, OTHER, REPO};

/// No D-Bus session: every keyring source falls through to its prompt, which `plan` defers.
fn no_keyring(run: Run, env: &Env) -> Run {
    run.without_dbus(&env.path("no-runtime"))
}

fn init(env: &Env, args: &[&str]) -> Output {
    let api_url = env.sandbox.api_url();
    let mut all = vec!["init"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--api-url", &api_url]);
    env.cmd(&all).run()
}

fn plan_json(env: &Env) -> (Output, Value) {
    let out = no_keyring(env.cmd(&["plan", "--json"]), env).run();
    let doc = out.json::<Value>();
    (out, doc)
}

/// Every change of the plan as (target, kind, name, action, reason code).
fn changes(doc: &Value) -> BTreeSet<(String, String, String, String, String)> {
    let mut all = BTreeSet::new();
    for target in doc["targets"].as_array().expect("targets") {
        assert!(target["error"].is_null(), "{target}");
        for change in target["changes"].as_array().expect("changes") {
            let text = |key: &str| change[key].as_str().unwrap_or_default().to_owned();
            all.insert((
                target["target"].as_str().unwrap_or_default().to_owned(),
                text("kind"),
                text("name"),
                text("action"),
                text("reason_code"),
            ));
        }
    }
    all
}

fn row(target: &str, kind: &str, name: &str) -> (String, String, String, String, String) {
    let (action, code) = match kind {
        "secret" => ("update", "unrecorded"),
        _ => ("unchanged", "equal"),
    };
    (
        target.into(),
        kind.into(),
        name.into(),
        action.into(),
        code.into(),
    )
}

/// A repository with secrets and variables, one of its environments, its Dependabot secrets,
/// and its organization's Actions and Dependabot secrets and variables.
fn github_with_everything(env: &Env) {
    let repo = Scope::Repo(REPO.into());
    let production = Scope::Environment(REPO.into(), "production".into());
    env.sandbox.add_environment(REPO, "production");
    for (scope, name) in [
        (&repo, "DEPLOY_KEY"),
        (&repo, "NPM_TOKEN"),
        (&production, "DB_PASSWORD"),
        (&production, "NPM_TOKEN"),
        (&Scope::DependabotRepo(REPO.into()), "NPM_TOKEN"),
        (&Scope::Org("acme".into()), "ORG_WIDE"),
        (&Scope::DependabotOrg("acme".into()), "REGISTRY_TOKEN"),
    ] {
        env.sandbox
            .scope_put_outside(scope, name, b"unknown-to-init");
    }
    env.sandbox
        .set_variable_outside(&repo, "REGION", "eu-west-1");
    env.sandbox
        .set_variable_outside(&repo, "BANNER", "two\nlines \"quoted\" # not a comment");
    env.sandbox
        .set_variable_outside(&production, "REGION", "eu-west-1");
    env.sandbox
        .set_variable_outside(&Scope::Org("acme".into()), "ORG_VAR", "shared");
}

#[test]
fn from_github_declares_exactly_what_github_holds() {
    let env = Env::new();
    github_with_everything(&env);
    let out = init(
        &env,
        &[
            "--from-github",
            REPO,
            "--environment",
            "production",
            "--org",
            "acme",
            "--dependabot",
        ],
    );
    out.assert_code(0);
    assert!(
        out.stdout.contains("note: secret values are unknown")
            && out.stdout.contains("cannot be compared")
            && out.stdout.contains("secretsync adopt"),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(env.path("secretsync.toml")).expect("written");
    assert!(
        text.contains("# - secret values are unknown") && !text.contains("unknown-to-init"),
        "{text}"
    );
    assert!(
        text.contains("{ keyring = { service = \"secretsync\", user = \"acme/shop/npm_token\" } }")
            && text.contains("remember = true"),
        "{text}"
    );
    // Each name once, however many targets hold it.
    assert_eq!(text.matches("[secrets.NPM_TOKEN]").count(), 1, "{text}");

    let (plan, doc) = plan_json(&env);
    plan.assert_code(0);
    let env_label = format!("{REPO} (environment production)");
    let dependabot = format!("{REPO} (dependabot)");
    let expected: BTreeSet<_> = [
        row(REPO, "secret", "DEPLOY_KEY"),
        row(REPO, "secret", "NPM_TOKEN"),
        row(REPO, "variable", "BANNER"),
        row(REPO, "variable", "REGION"),
        row(&env_label, "secret", "DB_PASSWORD"),
        row(&env_label, "secret", "NPM_TOKEN"),
        row(&env_label, "variable", "REGION"),
        row(&dependabot, "secret", "NPM_TOKEN"),
        row("org acme", "secret", "ORG_WIDE"),
        row("org acme", "variable", "ORG_VAR"),
        row("org acme (dependabot)", "secret", "REGISTRY_TOKEN"),
    ]
    .into_iter()
    .collect();
    assert_eq!(changes(&doc), expected, "{}", plan.stdout);
    // Updates are pending (the values cannot be compared): 2 with --detailed-exitcode.
    let detailed = no_keyring(env.cmd(&["plan", "--detailed-exitcode"]), &env).run();
    detailed.assert_code(2);
}

#[test]
fn from_github_reads_one_repository_in_one_round() {
    let env = Env::new();
    github_with_everything(&env);
    // Under latency, so requests sent together all arrive before the first is answered.
    env.sandbox
        .set_latency(std::time::Duration::from_millis(300));
    env.sandbox.clear_requests();
    init(&env, &["--from-github", REPO]).assert_code(0);
    env.sandbox.set_latency(std::time::Duration::ZERO);
    let requests = env.requests();
    let paths: BTreeSet<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(requests.len(), 2, "{paths:?}");
    assert_eq!(env.sandbox.round_trips(), 1, "{paths:?}");
}

#[test]
fn a_variable_that_differs_is_declared_once_and_left_out_where_it_differs() {
    let env = Env::new();
    env.sandbox
        .set_variable_outside(&Scope::Repo(REPO.into()), "REGION", "eu-west-1");
    env.sandbox
        .set_variable_outside(&Scope::Repo(OTHER.into()), "REGION", "us-east-1");
    env.sandbox
        .scope_put_outside(&Scope::Repo(OTHER.into()), "ONLY_WEB", b"x");
    let out = init(&env, &["--from-github", REPO, OTHER]);
    out.assert_code(0);
    let note = "variable `REGION` differs between targets: declared as \"eu-west-1\"";
    assert!(out.stdout.contains(note), "{}", out.stdout);
    assert!(out.stdout.contains("\"us-east-1\""), "{}", out.stdout);
    let text = std::fs::read_to_string(env.path("secretsync.toml")).expect("written");
    assert!(
        text.contains("value = \"eu-west-1\"") && text.contains("# - variable `REGION` differs"),
        "{text}"
    );
    let (plan, doc) = plan_json(&env);
    plan.assert_code(0);
    let changes = changes(&doc);
    // Where it differs it is not listed, so the plan proposes no write of it there.
    let expected: BTreeSet<_> = [
        row(REPO, "variable", "REGION"),
        row(OTHER, "secret", "ONLY_WEB"),
    ]
    .into_iter()
    .collect();
    assert_eq!(changes, expected, "{}", plan.stdout);
}

#[test]
fn failures_write_nothing() {
    let env = Env::new();
    env.sandbox
        .scope_put_outside(&Scope::Repo(REPO.into()), "A", b"x");
    let config = env.path("secretsync.toml");
    let no_token = {
        let api_url = env.sandbox.api_url();
        env.cmd(&["init", "--from-github", REPO, "--api-url", &api_url])
            .env_remove("GH_TOKEN")
            .run()
    };
    no_token.assert_code(1);
    assert_eq!(no_token.stderr.lines().count(), 1, "{}", no_token.stderr);
    for part in ["GH_TOKEN", "GITHUB_TOKEN", "--from-github"] {
        assert!(no_token.stderr.contains(part), "{}", no_token.stderr);
    }
    for (target, args) in [
        ("acme/nope", &["--from-github", "acme/nope"][..]),
        (
            "acme/shop (environment staging)",
            &["--from-github", REPO, "--environment", "staging"][..],
        ),
        ("org nobody", &["--from-github", "--org", "nobody"][..]),
    ] {
        let out = init(&env, args);
        out.assert_code(1);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(
            out.stderr.contains(&format!("`{target}`")),
            "{}",
            out.stderr
        );
        assert!(!config.exists(), "{target}: a file was written");
    }
    // A token that may not read secrets (403): one line naming the place, nothing written.
    env.sandbox.add_token(
        "no-secrets-token",
        secretsync_sandbox::TokenAccess::NoSecrets,
    );
    let api_url = env.sandbox.api_url();
    let forbidden = env
        .cmd(&["init", "--from-github", REPO, "--api-url", &api_url])
        .env("GH_TOKEN", "no-secrets-token")
        .run();
    forbidden.assert_code(1);
    assert_eq!(forbidden.stderr.lines().count(), 1, "{}", forbidden.stderr);
    assert!(
        forbidden.stderr.contains("(403") && forbidden.stderr.contains(&format!("`{REPO}`")),
        "{}",
        forbidden.stderr
    );
    assert!(!config.exists());
    let nothing = init(&env, &["--from-github", OTHER]);
    nothing.assert_code(1);
    assert!(
        nothing.stderr.contains("nothing to declare"),
        "{}",
        nothing.stderr
    );
    assert!(!config.exists());
}

#[test]
fn an_existing_file_is_kept_unless_forced_and_a_link_is_replaced_not_followed() {
    let env = Env::new();
    env.sandbox
        .scope_put_outside(&Scope::Repo(REPO.into()), "A", b"x");
    let mine = "# mine, byte for byte\r\n\u{feff}";
    env.write("secretsync.toml", mine);
    env.sandbox.clear_requests();
    let kept = init(&env, &["--from-github", REPO]);
    kept.assert_code(1);
    assert!(kept.stderr.contains("--force"), "{}", kept.stderr);
    assert_eq!(
        std::fs::read_to_string(env.path("secretsync.toml")).unwrap(),
        mine
    );
    assert!(env.requests().is_empty(), "asked GitHub before refusing");

    std::fs::remove_file(env.path("secretsync.toml")).unwrap();
    env.write("elsewhere.toml", mine);
    std::os::unix::fs::symlink(env.path("elsewhere.toml"), env.path("secretsync.toml")).unwrap();
    init(&env, &["--from-github", REPO, "--force"]).assert_code(0);
    let link = std::fs::symlink_metadata(env.path("secretsync.toml")).unwrap();
    assert!(link.file_type().is_file(), "the link is still there");
    assert_eq!(
        std::fs::read_to_string(env.path("elsewhere.toml")).unwrap(),
        mine
    );
    assert!(secretsync::config::load(&env.path("secretsync.toml")).is_ok());
}

/// gh's `.env` format, every feature at once: `export`, quotes, a multi-line value, comments,
/// CRLF, a key written twice, and keys that cannot be GitHub secrets.
const CATALOGUE: &str = "# a comment\r\n\
    export EXPORTED=yes\r\n\
    SINGLE='single $HOME'\n\
    DOUBLE=\"two words\"\n\
    MULTI=\"line one\nline two\"\n\
    TWICE=first\n\
    TWICE=second\n\
    lower_case=fine # trailing comment\n\
    dotted.name=x\n\
    GITHUB_SHA=reserved\n";

#[test]
fn from_dotenv_declares_every_valid_key_and_plan_reads_the_values() {
    let env = Env::new();
    std::fs::create_dir(env.path("conf")).unwrap();
    env.write("app.env", CATALOGUE);
    let config = env.path("conf/secretsync.toml");
    let api_url = env.sandbox.api_url();
    let out = env
        .cmd(&[
            "init",
            "--config",
            config.to_str().unwrap(),
            "--from-dotenv",
            "app.env",
            "--repo",
            REPO,
            "--api-url",
            &api_url,
        ])
        .run();
    out.assert_code(0);
    for part in [
        "`dotted.name` has `.`",
        "`GITHUB_SHA` starts with `GITHUB_`",
    ] {
        assert!(out.stdout.contains(part), "{}", out.stdout);
    }
    let text = std::fs::read_to_string(&config).expect("written");
    for value in [
        "yes",
        "single",
        "two words",
        "line one",
        "first",
        "second",
        "fine",
    ] {
        assert!(!text.contains(&format!("= \"{value}")), "{value}: {text}");
    }
    // The file is named as the dotenv source resolves it: from the config's folder.
    assert!(text.contains("file = \"../app.env\""), "{text}");
    let loaded = secretsync::config::load(&config).expect("a valid config");
    let declared: Vec<&str> = loaded.secrets.keys().map(String::as_str).collect();
    assert_eq!(
        declared,
        [
            "DOUBLE",
            "EXPORTED",
            "LOWER_CASE",
            "MULTI",
            "SINGLE",
            "TWICE"
        ]
    );

    let plan = env
        .cmd(&["plan", "--json", "--config", config.to_str().unwrap()])
        .run();
    plan.assert_code(0);
    let doc = plan.json::<Value>();
    let mut names = Vec::new();
    for change in doc["targets"][0]["changes"].as_array().expect("changes") {
        assert_eq!(change["action"], "create", "{change}");
        assert_eq!(change["reason_code"], "absent", "{change}");
        assert_eq!(change["source"], "dotenv", "{change}");
        names.push(change["name"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(names, declared);
    no_keyring(
        env.cmd(&["apply", "--yes", "--config", config.to_str().unwrap()]),
        &env,
    )
    .run()
    .assert_code(0);
    assert_eq!(env.plaintext("TWICE").as_deref(), Some("second"));
    assert_eq!(env.plaintext("LOWER_CASE").as_deref(), Some("fine"));
    assert_eq!(
        env.plaintext("MULTI").as_deref(),
        Some("line one\nline two")
    );
}

#[test]
fn from_github_and_from_dotenv_put_the_file_first_for_the_names_it_has() {
    let env = Env::new();
    let repo = Scope::Repo(REPO.into());
    env.sandbox.scope_put_outside(&repo, "API_KEY", b"old");
    env.sandbox.scope_put_outside(&repo, "NOT_IN_FILE", b"old");
    env.write(".env", "API_KEY=from-the-file\nLOCAL_ONLY=x\n");
    let out = init(&env, &["--from-github", REPO, "--from-dotenv", ".env"]);
    out.assert_code(0);
    assert!(out.stdout.contains("`LOCAL_ONLY`"), "{}", out.stdout);
    let config = secretsync::config::load(&env.path("secretsync.toml")).expect("valid");
    let kinds = |name: &str| -> Vec<&str> {
        config.secrets[name]
            .chain
            .iter()
            .map(|s| s.kind().as_str())
            .collect()
    };
    assert_eq!(kinds("API_KEY"), ["dotenv", "env", "keyring", "prompt"]);
    assert_eq!(kinds("NOT_IN_FILE"), ["env", "keyring", "prompt"]);
    assert_eq!(kinds("LOCAL_ONLY"), ["dotenv"]);
    assert_eq!(config.targets[0].secrets, ["API_KEY", "NOT_IN_FILE"]);
}

#[test]
fn an_organization_target_takes_the_access_most_items_have_and_leaves_out_the_others() {
    let env = Env::new();
    // Two secrets for the selected repository `shop`, written by an apply that records nothing
    // where the plan below looks; one more visible to all.
    env.config(
        "[secrets.ORG_SEL]\nvalue = \"a\"\n[secrets.ORG_SEL2]\nvalue = \"b\"\n\
         [[targets]]\norg = \"acme\"\nvisibility = \"selected\"\nrepositories = [\"shop\"]\n",
    );
    let elsewhere = env.path("setup-state");
    env.cmd(&["apply", "--yes", "--state-dir", elsewhere.to_str().unwrap()])
        .run()
        .assert_code(0);
    std::fs::remove_file(env.path("secretsync.toml")).unwrap();
    env.sandbox
        .scope_put_outside(&Scope::Org("acme".into()), "ORG_ALL", b"x");
    let out = init(&env, &["--from-github", "--org", "acme"]);
    out.assert_code(0);
    let note = "`org acme`: one target can give its items one access, so it has visibility \
                \"selected\" (shop)";
    assert!(out.stdout.contains(note), "{}", out.stdout);
    assert!(
        out.stdout.contains("`ORG_ALL` (visibility \"all\")"),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(env.path("secretsync.toml")).expect("written");
    assert!(
        text.contains("visibility = \"selected\"\nrepositories = [\"shop\"]\nsecrets = [\"ORG_SEL\", \"ORG_SEL2\"]"),
        "{text}"
    );
    let (plan, doc) = plan_json(&env);
    plan.assert_code(0);
    // No access change is proposed: the one left out is kept as GitHub has it.
    let kept = (
        "org acme".to_owned(),
        "secret".to_owned(),
        "ORG_ALL".to_owned(),
        "extra".to_owned(),
        "undeclared".to_owned(),
    );
    let expected: BTreeSet<_> = [
        row("org acme", "secret", "ORG_SEL"),
        row("org acme", "secret", "ORG_SEL2"),
        kept,
    ]
    .into_iter()
    .collect();
    assert_eq!(changes(&doc), expected, "{}", plan.stdout);
}

/// The whole adoption of an existing setup: `init --from-github`, then `adopt`, after which
/// plan is in sync and apply writes nothing, with each value read from its env source.
#[test]
fn init_then_adopt_leaves_plan_in_sync_and_apply_writes_nothing() {
    let env = Env::new();
    github_with_everything(&env);
    let everything = [
        "--from-github",
        REPO,
        "--environment",
        "production",
        "--org",
        "acme",
        "--dependabot",
    ];
    init(&env, &everything).assert_code(0);
    let names = [
        "DEPLOY_KEY",
        "NPM_TOKEN",
        "DB_PASSWORD",
        "ORG_WIDE",
        "REGISTRY_TOKEN",
    ];
    // The values GitHub holds, given as the chain's first source: an env var of the same name.
    let with_values = |mut run: Run| {
        for name in names {
            run = run.env(name, "unknown-to-init");
        }
        no_keyring(run, &env)
    };
    let adopt = with_values(env.cmd(&["adopt", "--yes"])).run();
    adopt.assert_code(0);
    for name in names {
        assert!(adopt.stdout.contains(name), "{name}: {}", adopt.stdout);
    }
    env.sandbox.clear_requests();
    let plan = with_values(env.cmd(&["plan", "--json", "--detailed-exitcode"])).run();
    plan.assert_code(0);
    let rows = changes(&plan.json::<Value>());
    assert_eq!(rows.len(), 11, "{}", plan.stdout);
    for (target, kind, name, action, _) in &rows {
        assert_eq!(
            action, "unchanged",
            "{target} {kind} {name}: {}",
            plan.stdout
        );
    }
    with_values(env.cmd(&["apply", "--yes"]))
        .run()
        .assert_code(0);
    let writes: Vec<String> = env
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

/// `init --from-github` reads through the same transport as plan, with its network flags.
#[test]
fn from_github_takes_the_network_flags() {
    let env = Env::new();
    github_with_everything(&env);
    env.sandbox
        .inject_transient(2, secretsync_sandbox::Transient::BadGateway);
    let refused = init(&env, &["--from-github", REPO, "--retries", "0"]);
    refused.assert_code(1);
    assert!(refused.stderr.contains("502"), "{}", refused.stderr);
    assert!(!env.path("secretsync.toml").exists());
    env.sandbox
        .inject_transient(2, secretsync_sandbox::Transient::BadGateway);
    init(&env, &["--from-github", REPO]).assert_code(0);
}

/// A `.env` of more keys than a repository holds secrets: the target lists as many as it may,
/// the rest are declared on no target with a note, and the config is valid.
#[test]
fn from_dotenv_past_a_repositorys_limit_declares_the_rest_on_no_target() {
    let env = Env::new();
    let keys: Vec<String> = (0..101).map(|i| format!("KEY_{i:03}")).collect();
    let text: String = keys.iter().map(|k| format!("{k}=v\n")).collect();
    env.write("big.env", &text);
    let out = init(&env, &["--from-dotenv", "big.env", "--repo", REPO]);
    out.assert_code(0);
    assert!(
        out.stdout.contains("holds at most 100 secrets") && out.stdout.contains("`KEY_100`"),
        "{}",
        out.stdout
    );
    let config = secretsync::config::load(&env.path("secretsync.toml")).expect("valid");
    assert_eq!(config.secrets.len(), 101);
    assert_eq!(config.targets[0].secrets, keys[..100]);
}
