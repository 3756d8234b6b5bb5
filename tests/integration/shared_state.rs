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

/// `secretsync ARGS` as "machine" `machine` (its own state folder), with the team key and
/// `vars` in its environment.
fn as_machine(env: &Env, machine: &str, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let state = env.path(&format!("state-{machine}"));
    let mut run = env
        .command(env!("CARGO_BIN_EXE_secretsync"))
        .args(args)
        .arg("--config")
        .arg(env.path("secretsync.toml"))
        .arg("--state-dir")
        .arg(state)
        .env(KEY_VAR, KEY);
    for (var, value) in vars {
        run = run.env(var, value);
    }
    run.run()
}

/// The founding story's command as machine `machine`, with the password given.
fn on(env: &Env, machine: &str, args: &[&str], password: &str) -> Output {
    as_machine(env, machine, args, &[("ALIYUN_PASSWORD", password)])
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
        changes[0].contains("another machine applied a different value"),
        "{}",
        plan.stdout
    );
    // On B itself, a new value is an ordinary change.
    let plan = on(&env, "b", &["plan"], "Pass-word3");
    assert!(
        plan.stdout.contains("value changed since the last apply"),
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
    env.sandbox.advance_clock(1);
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
    env.sandbox.reset_max_in_flight();
    // Both reads are held until both have arrived: sent one after the other, they never would be.
    env.sandbox
        .hold("GET", "", 2, std::time::Duration::from_secs(10));
    apply(&env, "b", "Pass-word1").assert_code(0);
    assert_eq!(
        env.sandbox.max_in_flight(),
        2,
        "the listing and the record in one round"
    );
    env.sandbox.clear_faults();
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
    // Local store: list and key, PUT. Shared: the listing's round also reads the record; after
    // the PUT it is read again and one PATCH writes it.
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert_eq!(
        seen.iter().filter(|s| s.starts_with("PATCH")).count(),
        1,
        "{seen:?}"
    );
}

/// Every scope kind at once: repository, environment, organization (selected, no repository),
/// Dependabot for a repository and an organization, and a `repos` fan-out.
const EVERY_SCOPE: &str = r#"
[secrets.A]
env = "VALUE_A"

[[targets]]
repo = "acme/shop"

[[targets]]
repo = "acme/shop"
environment = "production"

[[targets]]
org = "acme"
visibility = "private"

[[targets]]
repo = "acme/shop"
app = "dependabot"

[[targets]]
org = "acme"
app = "dependabot"
visibility = "private"

[[targets]]
repos = ["acme/web", "acme/api"]
"#;

#[test]
fn every_scope_keeps_its_record_where_every_machine_finds_it() {
    let env = Env::new();
    env.sandbox.add_repo(REPO);
    env.sandbox.add_repo("acme/web");
    env.sandbox.add_repo("acme/api");
    env.sandbox.add_environment(REPO, "production");
    env.config(&format!("{STATE}{EVERY_SCOPE}"));
    let run = |machine: &str, value: &str, args: &[&str]| {
        as_machine(&env, machine, args, &[("VALUE_A", value)])
    };
    run("a", "v1", &["apply", "--yes"]).assert_code(0);
    let puts = secret_puts(&env.requests());
    assert_eq!(puts.len(), 7, "one write per scope: {puts:?}");

    // Each record sits in its Actions scope; Dependabot's beside Actions' in the same variable.
    let shop = record(&env, &Scope::Repo(REPO.into()));
    assert!(
        shop.contains("\"actions\"") && shop.contains("\"dependabot\""),
        "{shop}"
    );
    let org = record(&env, &Scope::Org("acme".into()));
    assert!(
        org.contains("\"actions\"") && org.contains("\"dependabot\""),
        "{org}"
    );
    for scope in [
        Scope::Environment(REPO.into(), "production".into()),
        Scope::Repo("acme/web".into()),
        Scope::Repo("acme/api".into()),
    ] {
        assert!(record(&env, &scope).contains("\"A\""), "{scope:?}");
    }
    // The organization's record is seen by no workflow.
    assert_eq!(
        env.sandbox
            .org_variable_access(&Scope::Org("acme".into()), "SECRETSYNC_STATE"),
        Some(("selected".into(), Vec::new()))
    );

    env.sandbox.clear_requests();
    let plan = run("b", "v1", &["plan", "--detailed-exitcode"]);
    plan.assert_code(0);
    assert!(
        plan.stdout.contains("In sync: 7 unchanged"),
        "{}",
        plan.stdout
    );
    run("b", "v1", &["apply", "--yes"]).assert_code(0);
    assert!(secret_puts(&env.requests()).is_empty());
    // The record is never an undeclared variable, and prune leaves it alone.
    let pruned = run("b", "v1", &["apply", "--yes", "--prune"]);
    pruned.assert_code(0);
    assert!(
        !pruned.stdout.contains("SECRETSYNC_STATE"),
        "{}",
        pruned.stdout
    );
    assert!(env
        .sandbox
        .variable(&Scope::Repo(REPO.into()), "SECRETSYNC_STATE")
        .is_some());
}

#[test]
fn moving_from_local_to_shared_and_back_resends_once_and_converges() {
    let env = Env::new();
    env.config(ALIYUN);
    env.apply_with_password("Pass-word1").assert_code(0);

    env.config(&format!("{STATE}{ALIYUN}"));
    let plan = on(&env, "a", &["plan"], "Pass-word1");
    let unrecorded = plan
        .stdout
        .lines()
        .filter(|l| l.contains("not in the shared record") && l.contains("sent once"))
        .count();
    assert_eq!(unrecorded, 4, "{}", plan.stdout);
    env.sandbox.clear_requests();
    apply(&env, "a", "Pass-word1").assert_code(0);
    assert_eq!(
        secret_puts(&env.requests()).len(),
        4,
        "sent once to record them"
    );
    env.sandbox.clear_requests();
    apply(&env, "a", "Pass-word1").assert_code(0);
    assert!(secret_puts(&env.requests()).is_empty());

    // Back to this machine's own store: it still works, and settles again.
    env.config(ALIYUN);
    for _ in 0..2 {
        env.apply_with_password("Pass-word1").assert_code(0);
    }
    env.sandbox.clear_requests();
    let last = env.apply_with_password("Pass-word1");
    last.assert_code(0);
    assert!(
        last.stdout.contains("In sync: 4 unchanged"),
        "{}",
        last.stdout
    );
    assert!(secret_puts(&env.requests()).is_empty());
}

#[test]
fn the_record_variable_cannot_be_declared() {
    let env = Env::new();
    env.config(&format!(
        "[variables.SECRETSYNC_STATE]\nvalue = \"x\"\n[[targets]]\nrepo = \"{REPO}\"\n"
    ));
    let out = env.cmd(&["plan"]).run();
    out.assert_code(1);
    assert!(out.stderr.contains("secretsync.toml:4:"), "{}", out.stderr);
    assert!(out.stderr.contains("shared record"), "{}", out.stderr);
}

/// Two configs for one repository, each declaring its own secret, as two machines' would.
fn two_configs(env: &Env) {
    let api = env.sandbox.api_url();
    for (file, name) in [("one.toml", "FIRST"), ("two.toml", "SECOND")] {
        env.write(
            file,
            &format!(
                "[github]\napi_url = \"{api}\"\n{STATE}[secrets.{name}]\nvalue = \"{name}-value\"\n[[targets]]\nrepo = \"{REPO}\"\n"
            ),
        );
    }
}

fn apply_config(env: &Env, file: &str, machine: &str) -> Output {
    env.command(env!("CARGO_BIN_EXE_secretsync"))
        .args(["apply", "--yes", "--config"])
        .arg(env.path(file))
        .arg("--state-dir")
        .arg(env.path(&format!("state-{machine}")))
        .env(KEY_VAR, KEY)
        .run()
}

#[test]
fn the_record_is_merged_per_name_so_no_machine_loses_anothers() {
    let env = Env::new();
    two_configs(&env);
    apply_config(&env, "one.toml", "a").assert_code(0);
    apply_config(&env, "two.toml", "b").assert_code(0);
    let text = record(&env, &Scope::Repo(REPO.into()));
    assert!(
        text.contains("\"FIRST\"") && text.contains("\"SECOND\""),
        "{text}"
    );
    env.sandbox.clear_requests();
    apply_config(&env, "one.toml", "fresh").assert_code(0);
    assert!(secret_puts(&env.requests()).is_empty());
}

#[test]
fn concurrent_applies_from_two_machines_converge_on_the_next_apply() {
    let env = Env::new();
    two_configs(&env);
    env.sandbox
        .set_latency(std::time::Duration::from_millis(30));
    for round in 0..3 {
        env.sandbox.clear_requests();
        std::thread::scope(|s| {
            let one = s.spawn(|| apply_config(&env, "one.toml", &format!("a{round}")));
            let two = s.spawn(|| apply_config(&env, "two.toml", &format!("b{round}")));
            one.join().expect("joins").assert_code(0);
            two.join().expect("joins").assert_code(0);
        });
        if round == 2 {
            // Whatever raced in the first round was settled by the second.
            assert!(secret_puts(&env.requests()).is_empty(), "round {round}");
        }
    }
    let text = record(&env, &Scope::Repo(REPO.into()));
    assert!(
        text.contains("\"FIRST\"") && text.contains("\"SECOND\""),
        "{text}"
    );
}

#[test]
fn a_shared_record_that_cannot_be_written_is_said_and_the_next_apply_records_it() {
    let env = team();
    apply(&env, "a", "Pass-word1").assert_code(0);
    // In one second GitHub's times could not tell the next write from this one.
    env.sandbox.advance_clock(1);
    env.sandbox
        .inject_write_failure(REPO, "SECRETSYNC_STATE", 422, "Validation Failed");
    let failed = apply(&env, "a", "Pass-word2");
    failed.assert_code(1);
    let said = format!("{}{}", failed.stdout, failed.stderr);
    assert!(
        said.contains("1 write(s) reached GitHub but could not be recorded: SECRETSYNC_STATE"),
        "{said}"
    );
    assert!(
        !said.contains("state folder is writable"),
        "not a local fault: {said}"
    );
    env.sandbox.clear_failures();

    // Our own write is never drift: the name is sent once more and recorded.
    let plan = on(&env, "a", &["plan"], "Pass-word2");
    let line = plan
        .stdout
        .lines()
        .find(|l| l.contains("ALIYUN_PASSWORD"))
        .unwrap_or_default();
    assert!(line.contains("not in the shared record"), "{}", plan.stdout);
    env.sandbox.clear_requests();
    apply(&env, "a", "Pass-word2").assert_code(0);
    assert_eq!(secret_puts(&env.requests()), ["ALIYUN_PASSWORD"]);
    // Every machine agrees again.
    env.sandbox.clear_requests();
    let other = on(&env, "b", &["plan", "--detailed-exitcode"], "Pass-word2");
    other.assert_code(0);
}
