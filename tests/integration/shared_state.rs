//! `[state] store = "github"`: the record of what was applied lives in each scope's
//! `SECRETSYNC_STATE` variable, so every machine and every fresh CI runner agrees on it.
//! Machines are played by separate state folders against one sandbox.

use secretsync_sandbox::{RequestRecord, Scope};

use crate::support::{Env, Output, ALIYUN, REPO, TOKEN};

const KEY: &str = "0123456789abcdef0123456789abcdef-team-key";
const KEY_VAR: &str = "SECRETSYNC_KEY";
const STATE: &str = "[state]\nstore = \"github\"\nkey = { env = \"SECRETSYNC_KEY\" }\n";

/// The founding story's config with the shared store.
fn team() -> Env {
    let env = Env::new();
    env.config(&format!("{STATE}{ALIYUN}"));
    env
}

/// `secretsync ARGS` as "machine" `machine` (its own state folder), with the team key and the
/// password given.
fn on(env: &Env, machine: &str, args: &[&str], password: &str) -> Output {
    let state = env.path(&format!("state-{machine}"));
    env.command(env!("CARGO_BIN_EXE_secretsync"))
        .args(args)
        .arg("--config")
        .arg(env.path("secretsync.toml"))
        .arg("--state-dir")
        .arg(state)
        .env(KEY_VAR, KEY)
        .env("ALIYUN_PASSWORD", password)
        .run()
}

fn apply(env: &Env, machine: &str, password: &str) -> Output {
    on(env, machine, &["apply", "--yes"], password)
}

fn secret_puts(requests: &[RequestRecord]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.method == "PUT" && r.path.contains("/secrets/"))
        .map(|r| r.path.rsplit('/').next().unwrap_or_default().to_string())
        .collect()
}

fn record(env: &Env, scope: &Scope) -> String {
    env.sandbox
        .variable(scope, "SECRETSYNC_STATE")
        .expect("the shared record exists")
}

#[test]
fn a_second_machine_finds_everything_in_sync_and_sees_a_rotation_as_applied_elsewhere() {
    let env = team();
    let a = apply(&env, "a", "Pass-word1");
    a.assert_code(0);
    assert_eq!(secret_puts(&env.requests()).len(), 4);

    env.sandbox.clear_requests();
    let plan = on(&env, "b", &["plan", "--detailed-exitcode"], "Pass-word1");
    plan.assert_code(0);
    assert!(
        plan.stdout.contains("In sync: 4 unchanged"),
        "{}",
        plan.stdout
    );
    let b = apply(&env, "b", "Pass-word1");
    b.assert_code(0);
    assert!(secret_puts(&env.requests()).is_empty(), "B sends no write");

    // B rotates the password; A still has the old one.
    env.sandbox.clear_requests();
    apply(&env, "b", "Pass-word2").assert_code(0);
    assert_eq!(secret_puts(&env.requests()), ["ALIYUN_PASSWORD"]);
    let plan = on(&env, "a", &["plan"], "Pass-word1");
    plan.assert_code(0);
    let changes: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.contains(" update "))
        .collect();
    assert_eq!(changes.len(), 1, "{}", plan.stdout);
    assert!(changes[0].contains("ALIYUN_PASSWORD"), "{}", plan.stdout);
    assert!(
        changes[0].contains("differs from the value recorded by the last apply"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("changed on GitHub"),
        "not drift: {}",
        plan.stdout
    );
}

#[test]
fn fresh_ci_runners_converge_to_no_writes() {
    let env = team();
    let mut writes = Vec::new();
    for run in 0..3 {
        env.sandbox.clear_requests();
        apply(&env, &format!("ci-{run}"), "Pass-word1").assert_code(0);
        writes.push(secret_puts(&env.requests()).len());
    }
    assert_eq!(writes, [4, 0, 0]);
}

#[test]
fn someone_elses_write_is_drift_on_every_machine() {
    let env = team();
    apply(&env, "a", "Pass-word1").assert_code(0);
    apply(&env, "b", "Pass-word1").assert_code(0);
    env.sandbox
        .put_outside(REPO, "ALIYUN_USERNAME", b"nickname");
    for machine in ["a", "b", "fresh"] {
        let plan = on(&env, machine, &["plan"], "Pass-word1");
        plan.assert_code(0);
        let line = plan
            .stdout
            .lines()
            .find(|l| l.contains("ALIYUN_USERNAME"))
            .unwrap_or_default();
        assert!(
            line.contains("changed on GitHub at"),
            "{machine}: {}",
            plan.stdout
        );
    }
}

#[test]
fn a_wrong_key_stops_before_any_write_naming_the_scope_and_variable() {
    let env = team();
    apply(&env, "a", "Pass-word1").assert_code(0);
    env.sandbox.clear_requests();
    let out = env
        .cmd(&["apply", "--yes"])
        .env(KEY_VAR, "another-key-another-key-another-key!")
        .env("ALIYUN_PASSWORD", "Pass-word2")
        .run();
    out.assert_code(1);
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", out.stderr);
    assert!(
        errors[0].contains("SECRETSYNC_STATE") && errors[0].contains(REPO),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("another `[state] key`"), "{}", errors[0]);
    assert!(env.requests().iter().all(|r| r.method == "GET"), "no write");
}

#[test]
fn a_missing_or_short_key_is_a_clear_error() {
    let env = team();
    let out = env
        .cmd(&["plan"])
        .env("ALIYUN_PASSWORD", "Pass-word1")
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("`[state] key`") && out.stderr.contains(KEY_VAR),
        "{}",
        out.stderr
    );
    let out = env
        .cmd(&["plan"])
        .env(KEY_VAR, "short")
        .env("ALIYUN_PASSWORD", "Pass-word1")
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("secretsync state new-key"),
        "{}",
        out.stderr
    );
    assert!(env.requests().is_empty(), "nothing asked of GitHub");
}

#[test]
fn the_record_holds_no_value_no_plain_digest_and_no_token() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let env = team();
    let canary = "CANARY-shared-7f3e9b";
    apply(&env, "a", canary).assert_code(0);
    let text = record(&env, &Scope::Repo(REPO.into()));
    let digest = sha2::Sha256::digest(canary.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
    for needle in [canary, &hex, &b64, TOKEN, KEY] {
        assert!(
            !text.contains(needle),
            "the record holds {needle:?}: {text}"
        );
    }
    for value in ["acme-account", "acme"] {
        let digest = sha2::Sha256::digest(value.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!text.contains(&hex));
    }
}

#[test]
fn a_no_op_is_one_round_and_a_rotation_adds_the_record() {
    let env = team();
    apply(&env, "a", "Pass-word1").assert_code(0);
    env.sandbox.clear_requests();
    apply(&env, "b", "Pass-word1").assert_code(0);
    let seen: Vec<(String, String)> = env
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(seen.len(), 2, "a secrets listing and the record: {seen:?}");
    assert!(seen.iter().any(|(_, p)| p.ends_with("/actions/secrets")));
    assert!(seen
        .iter()
        .any(|(_, p)| p.ends_with("/actions/variables/SECRETSYNC_STATE")));

    env.sandbox.clear_requests();
    apply(&env, "b", "Pass-word2").assert_code(0);
    let seen: Vec<String> = env
        .requests()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    // Local store: list, key, PUT, list. Shared: each listing's round also reads the record,
    // and one PATCH writes it.
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert_eq!(
        seen.iter().filter(|s| s.starts_with("PATCH")).count(),
        1,
        "{seen:?}"
    );
}
