//! `secretsync doctor` against the sandbox playing each kind of token: classic (with and without
//! the scopes the targets need), fine-grained (with and without the secrets permission), a
//! GitHub App installation, a rejected token, and no GitHub at all. Doctor must never write:
//! every test checks that only GET requests reached the sandbox, and that the token is never
//! printed.

use serde::Deserialize;

use secretsync_sandbox::TokenAccess;

use crate::support::{Env, Output, OTHER, REPO, TOKEN};

const SECRET_AND_VARIABLE: &str =
    "[secrets.DEPLOY_KEY]\nvalue = \"k1\"\n\n[variables.REGION]\nvalue = \"eu\"\n\n";

/// A config with one secret and one variable, and these targets.
fn config(env: &Env, targets: &str) {
    env.config(&format!("{SECRET_AND_VARIABLE}{targets}"));
}

fn repo_target() -> String {
    format!("[[targets]]\nrepo = \"{REPO}\"\n")
}

/// `doctor` with `token` as GH_TOKEN.
fn doctor(env: &Env, token: &str, args: &[&str]) -> Output {
    let mut all = vec!["doctor"];
    all.extend_from_slice(args);
    let out = env.cmd(&all).env("GH_TOKEN", token).run();
    for text in [&out.stdout, &out.stderr] {
        assert!(!text.contains(token), "the token was printed:\n{text}");
    }
    out
}

#[track_caller]
fn assert_read_only(env: &Env) {
    let requests = env.requests();
    assert!(!requests.is_empty(), "doctor asked GitHub nothing");
    let writes: Vec<String> = requests
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "doctor wrote: {writes:?}");
}

fn problems(out: &Output) -> Vec<&str> {
    out.stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("FAIL"))
        .collect()
}

#[track_caller]
fn assert_contains(out: &Output, needle: &str) {
    assert!(
        out.stdout.contains(needle),
        "stdout lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout,
        out.stderr
    );
}

fn asked(env: &Env, path: &str) -> bool {
    env.requests().iter().any(|r| r.path == path)
}

#[test]
fn a_good_classic_token_passes_every_check() {
    let env = Env::new();
    config(&env, &repo_target());
    let out = doctor(&env, TOKEN, &[]);
    out.assert_code(0);
    assert_contains(
        &out,
        "`sandbox-user`, a classic token with scopes repo, admin:org",
    );
    assert_contains(&out, "the token has the `repo` scope");
    assert_contains(&out, "repository `acme/shop` exists");
    assert_contains(&out, "can read the Actions secrets public key");
    assert_contains(&out, "can list the Actions secrets (0 present)");
    assert_contains(&out, "can list the Actions variables (0 present)");
    assert_contains(&out, "Everything passed.");
    assert!(problems(&out).is_empty(), "{}", out.stdout);
    // Grouped per target: the target's name heads its checks.
    let lines: Vec<&str> = out.stdout.lines().collect();
    let head = lines
        .iter()
        .position(|l| *l == REPO)
        .expect("a target heading");
    assert!(lines[head + 1].starts_with("  ok"), "{}", out.stdout);
    for path in [
        "/user",
        "/repos/acme/shop",
        "/repos/acme/shop/actions/secrets/public-key",
        "/repos/acme/shop/actions/secrets",
        "/repos/acme/shop/actions/variables",
    ] {
        assert!(asked(&env, path), "{path} not asked");
    }
    assert_read_only(&env);
}

#[test]
fn a_classic_token_without_repo_is_told_to_add_the_scope() {
    let env = Env::new();
    env.sandbox
        .add_classic_token("tok-classic-73", &["read:org"]);
    config(&env, &repo_target());
    let out = doctor(&env, "tok-classic-73", &[]);
    out.assert_code(1);
    assert_contains(&out, "a classic token with scopes read:org");
    let problems = problems(&out);
    assert_eq!(problems.len(), 1, "{}", out.stdout);
    assert!(
        problems[0].contains("lacks the `repo` scope")
            && problems[0].contains("https://github.com/settings/tokens")
            && problems[0].contains("gh auth refresh -s repo"),
        "{}",
        problems[0]
    );
    assert_contains(&out, "1 problem.");
    assert_read_only(&env);
}

#[test]
fn without_the_scope_github_hides_the_repository_and_refuses_org_secrets() {
    // What doctor's scope check predicts is what the sandbox, like GitHub, does: 404 for a
    // private repository without `repo`, 403 for organization secrets without `admin:org`.
    let env = Env::new();
    env.sandbox.add_classic_token("tok-classic-74", &["repo"]);
    config(&env, "[[targets]]\norg = \"acme\"\nvisibility = \"all\"\n");
    let out = doctor(&env, "tok-classic-74", &[]);
    out.assert_code(1);
    let problems = problems(&out);
    assert_eq!(problems.len(), 1, "{}", out.stdout);
    assert!(
        problems[0].contains("lacks the `admin:org` scope"),
        "{}",
        problems[0]
    );
    let listed = env.cmd(&["plan"]).env("GH_TOKEN", "tok-classic-74").run();
    listed.assert_code(1);
    // The target's error is said on stderr; the report marks the target.
    assert!(listed.stderr.contains("403"), "{}", listed.stderr);
}

#[test]
fn a_fine_grained_token_is_recognised_by_the_missing_scopes_header() {
    let env = Env::new();
    env.sandbox
        .add_fine_grained_token("tok-fg-full-71", TokenAccess::Full);
    config(&env, &repo_target());
    let out = doctor(&env, "tok-fg-full-71", &[]);
    out.assert_code(0);
    assert_contains(&out, "`sandbox-user`, a fine-grained token");
    assert!(!out.stdout.contains("scope"), "{}", out.stdout);
    assert_read_only(&env);
}

#[test]
fn a_fine_grained_token_without_the_secrets_permission_is_told_which_one() {
    let env = Env::new();
    env.sandbox
        .add_fine_grained_token("tok-fg-nosec-72", TokenAccess::NoSecrets);
    config(&env, &repo_target());
    let out = doctor(&env, "tok-fg-nosec-72", &[]);
    out.assert_code(1);
    assert_contains(&out, "repository `acme/shop` exists");
    let problems = problems(&out);
    assert_eq!(problems.len(), 1, "{}", out.stdout);
    for part in [
        "cannot read the public key of the Actions secrets of `acme/shop`",
        "403",
        "`secrets=read`",
        "repository \"Secrets\" permission",
        "https://github.com/settings/personal-access-tokens",
    ] {
        assert!(problems[0].contains(part), "{part:?} in {}", problems[0]);
    }
    assert_read_only(&env);
}

#[test]
fn an_app_installation_token_is_checked_through_its_installation() {
    let env = Env::new();
    env.sandbox.add_app_token("tok-app-75");
    config(&env, &repo_target());
    let out = doctor(&env, "tok-app-75", &[]);
    out.assert_code(0);
    assert_contains(
        &out,
        "a GitHub App installation token that reaches 2 repositories",
    );
    assert!(asked(&env, "/installation/repositories"));
    assert_contains(&out, "can list the Actions secrets");
    assert_read_only(&env);

    let json = doctor(&env, "tok-app-75", &["--json"]);
    let doc: Doc = json.json();
    assert_eq!(doc.token.kind.as_deref(), Some("app"));
    assert_eq!(doc.token.login, None);
    assert_eq!(doc.token.scopes, None);
}

#[test]
fn a_rejected_token_is_one_line_and_nothing_more_is_asked() {
    let env = Env::new();
    config(&env, &repo_target());
    let out = doctor(&env, "tok-wrong-76", &[]);
    out.assert_code(1);
    let problems = problems(&out);
    assert_eq!(problems.len(), 1, "{}", out.stdout);
    assert!(
        problems[0].contains("GitHub rejected the token from GH_TOKEN (401 Bad credentials)")
            && problems[0].contains("gh auth login"),
        "{}",
        problems[0]
    );
    let paths: Vec<String> = env.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/user"]);
}

#[test]
fn an_unknown_repository_may_also_be_one_the_token_cannot_see() {
    let env = Env::new();
    config(&env, "[[targets]]\nrepo = \"acme/ghost\"\n");
    let out = doctor(&env, TOKEN, &[]);
    out.assert_code(1);
    let problems = problems(&out);
    assert_eq!(problems.len(), 1, "{}", out.stdout);
    assert!(
        problems[0].contains("repository `acme/ghost` does not exist, or the token cannot see it"),
        "{}",
        problems[0]
    );
    // Nothing after the repository is asked: it would only fail for the same reason.
    assert!(!asked(&env, "/repos/acme/ghost/actions/secrets/public-key"));
    assert_read_only(&env);
}

#[test]
fn a_missing_environment_is_a_problem_unless_apply_will_create_it() {
    let env = Env::new();
    let target = |create: bool| {
        format!(
            "[[targets]]\nrepo = \"{REPO}\"\nenvironment = \"production\"\n{}",
            if create {
                "create_environment = true\n"
            } else {
                ""
            }
        )
    };
    config(&env, &target(false));
    let out = doctor(&env, TOKEN, &[]);
    out.assert_code(1);
    assert_contains(&out, "acme/shop (environment production)");
    let problems = problems(&out);
    assert_eq!(problems.len(), 1, "{}", out.stdout);
    assert!(
        problems[0].contains("environment `production` of `acme/shop` does not exist")
            && problems[0].contains("create_environment = true"),
        "{}",
        problems[0]
    );

    config(&env, &target(true));
    let out = doctor(&env, TOKEN, &[]);
    out.assert_code(0);
    assert_contains(&out, "does not exist yet; `apply` will create it");
    assert!(!env.sandbox.has_environment(REPO, "production"));
    assert_read_only(&env);

    env.sandbox.add_environment(REPO, "production");
    let out = doctor(&env, TOKEN, &[]);
    out.assert_code(0);
    assert_contains(&out, "environment `production` of `acme/shop` exists");
    assert!(asked(
        &env,
        "/repos/acme/shop/environments/production/secrets/public-key"
    ));
    assert_read_only(&env);
}

#[test]
fn organization_dependabot_and_matching_targets() {
    let env = Env::new();
    config(
        &env,
        &format!(
            "[[targets]]\norg = \"acme\"\nvisibility = \"selected\"\nrepositories = [\"shop\", \"web\"]\n\n\
             [[targets]]\nrepo = \"{REPO}\"\napp = \"dependabot\"\nsecrets = [\"DEPLOY_KEY\"]\n\n\
             [[targets]]\nrepos = {{ org = \"acme\", match = \"we*\" }}\n\n\
             [[targets]]\norg = \"nowhere\"\nvisibility = \"all\"\n"
        ),
    );
    let out = doctor(&env, TOKEN, &[]);
    out.assert_code(1);
    assert_contains(&out, "org acme\n");
    assert_contains(&out, "the token has the `admin:org` and `repo` scopes");
    assert_contains(&out, "organization `acme` exists");
    assert_contains(&out, "can read the organization secrets public key");
    assert_contains(&out, "can list the organization variables (0 present)");
    assert_contains(&out, "acme/shop (dependabot)\n");
    assert_contains(&out, "can list the Dependabot secrets (0 present)");
    assert_contains(
        &out,
        "can list the repositories of `acme`: 1 of 2 match `we*`",
    );
    assert_contains(&out, "the 2 selected repositories of `acme` exist");
    let problems = problems(&out);
    assert_eq!(problems.len(), 1, "{}", out.stdout);
    assert!(
        problems[0].contains("organization `nowhere` does not exist"),
        "{}",
        problems[0]
    );
    assert!(!env
        .requests()
        .iter()
        .any(|r| r.path.contains("/dependabot/") && r.path.contains("variables")));
    assert_read_only(&env);
}

/// docs/doctor.md: "Within a target the checks stop at the first problem". A selected repository that
/// cannot be found is such a problem: nothing of the organization's secrets is asked after it.
#[test]
fn a_missing_selected_repository_stops_its_target() {
    let env = Env::new();
    config(
        &env,
        "[[targets]]\norg = \"acme\"\nvisibility = \"selected\"\nrepositories = [\"shop\", \"nonexistent\"]\n",
    );
    let out = doctor(&env, TOKEN, &[]);
    out.assert_code(1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let fail = lines
        .iter()
        .position(|l| l.contains("FAIL") && l.contains("selected repository `nonexistent`"))
        .unwrap_or_else(|| panic!("no FAIL line for `nonexistent`:\n{}", out.stdout));
    let after = lines[fail + 1..]
        .iter()
        .take_while(|l| l.starts_with("  "))
        .count();
    assert_eq!(
        after, 0,
        "checks went on after the problem:\n{}",
        out.stdout
    );
    for path in [
        "/orgs/acme/actions/secrets/public-key",
        "/orgs/acme/actions/secrets",
    ] {
        assert!(!asked(&env, path), "{path} asked after the problem");
    }
    assert_read_only(&env);
}

#[test]
fn an_unreachable_api_is_one_line_naming_api_url() {
    let env = Env::new();
    env.write(
        "secretsync.toml",
        &format!(
            "[github]\napi_url = \"http://127.0.0.1:9\"\n\n{SECRET_AND_VARIABLE}{}",
            repo_target()
        ),
    );
    let out = doctor(&env, TOKEN, &["--retries", "0"]);
    out.assert_code(1);
    let problems = problems(&out);
    assert_eq!(problems.len(), 1, "{}", out.stdout);
    assert!(
        problems[0].contains("cannot reach GitHub at http://127.0.0.1:9")
            && problems[0].contains("`[github] api_url`"),
        "{}",
        problems[0]
    );
    assert!(!out.stdout.contains("acme/shop"), "{}", out.stdout);

    let json = doctor(&env, TOKEN, &["--retries", "0", "--json"]);
    json.assert_code(1);
    let doc: Doc = json.json();
    assert!(!doc.reachable && !doc.ok && !doc.token.ok);
    assert!(doc.targets.is_empty());
    assert!(doc.token.message.contains("api_url"));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    version: u32,
    api_url: String,
    reachable: bool,
    token: Token,
    targets: Vec<Target>,
    #[serde(default)]
    shared_state: Option<Shared>,
    ok: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Shared {
    variable: String,
    key: Check,
    scopes: Vec<Home>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Home {
    scope: String,
    write: String,
    checks: Vec<Check>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Token {
    ok: bool,
    login: Option<String>,
    kind: Option<String>,
    scopes: Option<Vec<String>>,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Target {
    target: String,
    checks: Vec<Check>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Check {
    check: String,
    ok: bool,
    message: String,
}

#[test]
fn json_is_the_documented_document() {
    let env = Env::new();
    config(
        &env,
        &format!("{}\n[[targets]]\nrepo = \"acme/ghost\"\n", repo_target()),
    );
    let out = doctor(&env, TOKEN, &["--json"]);
    out.assert_code(1);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let doc: Doc = out.json();
    assert_eq!(doc.version, 1);
    // The local store's document has no shared record part.
    assert!(!out.stdout.contains("shared_state"), "{}", out.stdout);
    assert!(doc.shared_state.is_none());
    assert_eq!(doc.api_url, env.sandbox.api_url());
    assert!(doc.reachable);
    assert!(!doc.ok);
    assert!(doc.token.ok);
    assert_eq!(doc.token.login.as_deref(), Some("sandbox-user"));
    assert_eq!(doc.token.kind.as_deref(), Some("classic"));
    assert_eq!(
        doc.token.scopes,
        Some(vec!["repo".to_string(), "admin:org".to_string()])
    );
    assert!(doc.token.message.contains("works"));
    let targets: Vec<&str> = doc.targets.iter().map(|t| t.target.as_str()).collect();
    assert_eq!(targets, [REPO, "acme/ghost"]);
    let names: Vec<&str> = doc.targets[0]
        .checks
        .iter()
        .map(|c| c.check.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "scopes",
            "repository",
            "public_key",
            "list_secrets",
            "list_variables"
        ]
    );
    assert!(doc.targets[0].checks.iter().all(|c| c.ok));
    let ghost = &doc.targets[1].checks;
    assert_eq!(ghost.len(), 2);
    assert_eq!(ghost[1].check, "repository");
    assert!(!ghost[1].ok);
    assert!(ghost[1]
        .message
        .contains("does not exist, or the token cannot see it"));

    env.sandbox
        .add_fine_grained_token("tok-fg-full-71", TokenAccess::Full);
    config(&env, &repo_target());
    let fine = doctor(&env, "tok-fg-full-71", &["--json"]);
    fine.assert_code(0);
    let doc: Doc = fine.json();
    assert!(doc.ok);
    assert_eq!(doc.token.kind.as_deref(), Some("fine-grained"));
    assert_eq!(doc.token.scopes, None);
    // Fine-grained tokens have no scopes to check.
    assert_eq!(doc.targets[0].checks[0].check, "repository");
    assert_read_only(&env);
}

const TEAM_KEY: &str = "0123456789abcdef0123456789abcdef-team-key";
const OTHER_TEAM_KEY: &str = "fedcba9876543210fedcba9876543210-other-key";
const SHARED: &str = "[state]\nstore = \"github\"\nkey = { env = \"SECRETSYNC_KEY\" }\n\n";

/// A config with the shared store, one secret and one variable, and these targets.
fn shared_config(env: &Env, targets: &str) {
    env.config(&format!("{SHARED}{SECRET_AND_VARIABLE}{targets}"));
}

/// `secretsync ARGS` with `token` and the team key `key` (none: the variable is unset); neither
/// may appear in what it prints.
fn with_key(env: &Env, token: &str, key: Option<&str>, args: &[&str]) -> Output {
    let mut run = env.cmd(args).env("GH_TOKEN", token);
    if let Some(key) = key {
        run = run.env("SECRETSYNC_KEY", key);
    }
    let out = run.run();
    for text in [&out.stdout, &out.stderr] {
        assert!(!text.contains(token), "the token was printed:\n{text}");
        for key in [TEAM_KEY, OTHER_TEAM_KEY] {
            assert!(!text.contains(key), "the team key was printed:\n{text}");
        }
    }
    out
}

/// An apply with `key` writes the shared record of every target's scope.
fn apply_with(env: &Env, key: &str) {
    with_key(env, TOKEN, Some(key), &["apply", "--yes"]).assert_code(0);
    env.sandbox.clear_requests();
}

fn shared_doctor(env: &Env, token: &str, key: Option<&str>, args: &[&str]) -> Output {
    let mut all = vec!["doctor"];
    all.extend_from_slice(args);
    with_key(env, token, key, &all)
}

#[test]
fn a_shared_record_written_with_the_team_key_passes() {
    let env = Env::new();
    shared_config(&env, &repo_target());
    apply_with(&env, TEAM_KEY);
    let out = shared_doctor(&env, TOKEN, Some(TEAM_KEY), &[]);
    out.assert_code(0);
    assert_contains(
        &out,
        "shared record (`[state] store = \"github\"`, variable SECRETSYNC_STATE)",
    );
    assert_contains(&out, "the team key (`[state] key`) comes from its source");
    assert_contains(&out, "shared record of acme/shop");
    assert_contains(
        &out,
        "can read the Actions variables, where SECRETSYNC_STATE is kept",
    );
    assert_contains(&out, "holds a shared record written with this key");
    assert_contains(&out, "the token's user is an admin of `acme/shop`");
    assert_contains(&out, "Everything passed.");
    assert!(asked(
        &env,
        "/repos/acme/shop/actions/variables/SECRETSYNC_STATE"
    ));
    assert_read_only(&env);

    let json = shared_doctor(&env, TOKEN, Some(TEAM_KEY), &["--json"]);
    json.assert_code(0);
    let doc: Doc = json.json();
    let shared = doc.shared_state.expect("a shared record part");
    assert_eq!(shared.variable, "SECRETSYNC_STATE");
    assert_eq!(shared.key.check, "state_key");
    assert!(shared.key.ok);
    assert_eq!(shared.scopes.len(), 1);
    let home = &shared.scopes[0];
    assert_eq!(home.scope, REPO);
    assert_eq!(home.write, "allowed");
    let names: Vec<&str> = home.checks.iter().map(|c| c.check.as_str()).collect();
    assert_eq!(names, ["state_read", "state_record", "state_write"]);
    assert!(home.checks.iter().all(|c| c.ok));
}

#[test]
fn no_shared_record_yet_passes_with_a_note() {
    let env = Env::new();
    shared_config(&env, &repo_target());
    let out = shared_doctor(&env, TOKEN, Some(TEAM_KEY), &[]);
    out.assert_code(0);
    assert_contains(&out, "no shared record yet; the first apply writes it");
    assert_contains(&out, "Everything passed.");
    assert_read_only(&env);
}

#[test]
fn a_shared_record_written_with_another_key_fails_naming_scope_and_variable() {
    let env = Env::new();
    shared_config(&env, &repo_target());
    apply_with(&env, OTHER_TEAM_KEY);
    let out = shared_doctor(&env, TOKEN, Some(TEAM_KEY), &[]);
    out.assert_code(1);
    let wrong = problems(&out);
    assert_eq!(wrong.len(), 1, "{}", out.stdout);
    assert!(
        wrong[0].contains(
            "variable SECRETSYNC_STATE of `acme/shop` was written with another `[state] key`"
        ) && wrong[0].contains("give this machine the team's key"),
        "{}",
        wrong[0]
    );
    assert_contains(&out, "1 problem.");
    // The write check still tells its part.
    assert_contains(&out, "the token's user is an admin of `acme/shop`");
    assert_read_only(&env);

    // Damaged is a problem too, with its fix.
    let scope = secretsync_sandbox::Scope::Repo(REPO.into());
    env.sandbox
        .set_variable_outside(&scope, "SECRETSYNC_STATE", "{not json");
    let out = shared_doctor(&env, TOKEN, Some(TEAM_KEY), &[]);
    out.assert_code(1);
    let damaged = problems(&out);
    assert_eq!(damaged.len(), 1, "{}", out.stdout);
    assert!(
        damaged[0].contains("variable SECRETSYNC_STATE of `acme/shop` is damaged")
            && damaged[0].contains("delete it on GitHub"),
        "{}",
        damaged[0]
    );
}

#[test]
fn each_matched_repository_has_its_shared_record_checked() {
    let env = Env::new();
    shared_config(&env, &format!("[[targets]]\nrepo = \"{OTHER}\"\n"));
    apply_with(&env, OTHER_TEAM_KEY);
    shared_config(
        &env,
        "[[targets]]\nrepos = { org = \"acme\", match = \"*\" }\n",
    );
    env.sandbox.clear_requests();
    let out = shared_doctor(&env, TOKEN, Some(TEAM_KEY), &[]);
    out.assert_code(1);
    let listings = env
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/orgs/acme/repos")
        .count();
    assert_eq!(listings, 1, "the match's repositories are listed once");
    assert_contains(&out, "shared record of acme/shop");
    assert_contains(&out, "shared record of acme/web");
    let problems = problems(&out);
    assert_eq!(problems.len(), 1, "{}", out.stdout);
    assert!(
        problems[0].contains("SECRETSYNC_STATE of `acme/web` was written with another"),
        "{}",
        problems[0]
    );
    assert_contains(&out, "no shared record yet; the first apply writes it");
    assert_read_only(&env);
}

#[test]
fn a_token_that_cannot_read_the_variables_cannot_read_the_shared_record() {
    let env = Env::new();
    env.sandbox
        .add_fine_grained_token("tok-fg-novars-81", TokenAccess::NoVariables);
    shared_config(&env, &repo_target());
    let out = shared_doctor(&env, "tok-fg-novars-81", Some(TEAM_KEY), &[]);
    out.assert_code(1);
    let line = shared_problem(&out);
    assert!(
        line.contains("the token cannot read the Actions variables of `acme/shop` (403")
            && line.contains("GitHub asks for `actions_variables=read`")
            && line.contains("repository \"Variables\" permission (read and write)")
            && line.contains("SECRETSYNC_STATE cannot be read there"),
        "{line}"
    );
    // Not mistaken for "no record yet": the record is not asked for at all.
    assert!(
        !out.stdout.contains("no shared record yet"),
        "{}",
        out.stdout
    );
    assert!(!asked(
        &env,
        "/repos/acme/shop/actions/variables/SECRETSYNC_STATE"
    ));
    let json = shared_doctor(&env, "tok-fg-novars-81", Some(TEAM_KEY), &["--json"]);
    json.assert_code(1);
    let shared = json
        .json::<Doc>()
        .shared_state
        .expect("a shared record part");
    assert_eq!(shared.scopes[0].write, "unknown");
    assert_read_only(&env);

    // A target that cannot be reached is one problem: its scope's record is not probed again.
    env.sandbox.add_org("acme");
    env.sandbox
        .add_classic_token("tok-classic-repo-81", &["repo"]);
    shared_config(
        &env,
        "[[targets]]\norg = \"acme\"\nvisibility = \"all\"\n\n[[targets]]\nrepo = \"acme/ghost\"\n",
    );
    let out = shared_doctor(&env, "tok-classic-repo-81", Some(TEAM_KEY), &[]);
    out.assert_code(1);
    let lines = problems(&out);
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(
        lines[0].contains("lacks the `admin:org` scope"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("`acme/ghost` does not exist"),
        "{}",
        lines[1]
    );
    assert!(!out.stdout.contains("shared record of"), "{}", out.stdout);
    assert!(!asked(&env, "/orgs/acme/actions/variables"));
    assert!(!asked(&env, "/repos/acme/ghost/actions/variables"));
}

#[test]
fn an_environment_apply_will_create_has_no_record_yet() {
    let env = Env::new();
    shared_config(
        &env,
        &format!("[[targets]]\nrepo = \"{REPO}\"\nenvironment = \"production\"\ncreate_environment = true\n"),
    );
    let out = shared_doctor(&env, TOKEN, Some(TEAM_KEY), &[]);
    out.assert_code(0);
    assert_contains(&out, "shared record of acme/shop (environment production)");
    assert_contains(
        &out,
        "environment `production` of `acme/shop` does not exist yet, so neither does its shared record",
    );
    assert_contains(&out, "Everything passed.");
    assert_read_only(&env);
}

/// The one problem line that is about the shared record.
fn shared_problem(out: &Output) -> &str {
    problems(out)
        .into_iter()
        .find(|l| l.contains("SECRETSYNC_STATE"))
        .unwrap_or_else(|| panic!("no shared record problem:\n{}\n{}", out.stdout, out.stderr))
}

#[test]
fn writing_the_shared_record_is_judged_by_what_github_tells() {
    let env = Env::new();
    shared_config(&env, &repo_target());
    env.sandbox.set_repo_admin(REPO, false);
    let out = shared_doctor(&env, TOKEN, Some(TEAM_KEY), &[]);
    out.assert_code(1);
    let problems = problems(&out);
    assert_eq!(problems.len(), 1, "{}", out.stdout);
    assert!(
        problems[0].contains("the token's user is not an admin of `acme/shop`")
            && problems[0].contains("SECRETSYNC_STATE"),
        "{}",
        problems[0]
    );

    // A fine-grained token's permissions are not told without a write: said so, not failed.
    env.sandbox
        .add_fine_grained_token("tok-fg-full-82", TokenAccess::Full);
    let out = shared_doctor(&env, "tok-fg-full-82", Some(TEAM_KEY), &["--json"]);
    out.assert_code(0);
    let doc: Doc = out.json();
    let home = &doc.shared_state.expect("a shared record part").scopes[0];
    assert_eq!(home.write, "unknown");
    let write = home.checks.last().expect("a write check");
    assert_eq!(write.check, "state_write");
    assert!(
        write
            .message
            .contains("cannot tell whether the token may write SECRETSYNC_STATE")
            && write
                .message
                .contains("repository \"Variables\" permission (read and write)"),
        "{}",
        write.message
    );
    assert_read_only(&env);
}

#[test]
fn a_team_key_missing_from_its_source_is_a_problem_and_the_record_is_not_judged() {
    let env = Env::new();
    shared_config(&env, &repo_target());
    apply_with(&env, TEAM_KEY);
    let out = shared_doctor(&env, TOKEN, None, &[]);
    out.assert_code(1);
    let problems = problems(&out);
    assert_eq!(problems.len(), 1, "{}", out.stdout);
    assert!(problems[0].contains("SECRETSYNC_KEY"), "{}", problems[0]);
    assert!(!out.stdout.contains("written with"), "{}", out.stdout);

    // Too short to be a team key: the usual line, and the key is not shown.
    let out = shared_doctor(&env, TOKEN, Some("short-key"), &[]);
    out.assert_code(1);
    assert!(!out.stdout.contains("short-key"), "{}", out.stdout);
    assert_contains(&out, "a team key needs at least");
    assert_read_only(&env);
}
