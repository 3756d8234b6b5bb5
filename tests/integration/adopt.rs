//! `secretsync adopt`: secrets set on GitHub by hand (`gh secret set`) are taken as holding their
//! declared values, so the first plan says "in sync" instead of "cannot be compared" and apply
//! sends nothing. Only what the plan cannot compare is trusted; only state is written.

use rexpect::process::WaitStatus;
use rexpect::session::spawn_command;
use secretsync_sandbox::{Fault, FaultKind, Scope};

use serde::Deserialize;

use crate::support::{Env, Output, OTHER, REPO};

/// The `adopt --json` document as docs/json.md gives it: a field added or renamed without
/// updating the page fails here.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    version: u32,
    command: String,
    ok: bool,
    adopted: usize,
    targets: Vec<Target>,
    unresolved: Vec<Unresolved>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Target {
    target: String,
    error: Option<TargetError>,
    adopted: Vec<String>,
    skipped: Vec<Skipped>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetError {
    status: Option<u16>,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Skipped {
    name: String,
    reason_code: String,
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Unresolved {
    name: String,
    reason: String,
}

const VALUES: [(&str, &str); 4] = [
    ("A_VALUE", "value-a-1"),
    ("B_VALUE", "value-b-1"),
    ("C_VALUE", "value-c-1"),
    ("D_VALUE", "value-d-1"),
];

const FOUR: &str = "[secrets.A]\nenv = \"A_VALUE\"\n[secrets.B]\nenv = \"B_VALUE\"\n\
    [secrets.C]\nenv = \"C_VALUE\"\n[secrets.D]\nenv = \"D_VALUE\"\n";

/// `secretsync ARGS` with every declared value in the environment.
fn run(env: &Env, args: &[&str]) -> Output {
    let mut run = env.cmd(args);
    for (var, value) in VALUES {
        run = run.env(var, value);
    }
    run.run()
}

/// The requests that change something on GitHub, as `METHOD path`.
fn writes(env: &Env) -> Vec<String> {
    env.requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// Four secrets set on the repository by hand, with the values the config declares.
fn set_by_hand(env: &Env) {
    for (name, (_, value)) in ["A", "B", "C", "D"].iter().zip(VALUES) {
        env.sandbox.put_outside(REPO, name, value.as_bytes());
    }
}

fn environment() -> Scope {
    Scope::Environment(REPO.into(), "production".into())
}

#[test]
fn adopted_secrets_are_in_sync_and_apply_writes_nothing_over_every_kind_of_scope() {
    let env = Env::new();
    env.config(&format!(
        "{FOUR}[[targets]]\nrepo = \"{REPO}\"\n\n\
         [[targets]]\nrepo = \"{REPO}\"\nenvironment = \"production\"\nsecrets = [\"A\"]\n\n\
         [[targets]]\norg = \"acme\"\nvisibility = \"all\"\nsecrets = [\"B\"]\n"
    ));
    set_by_hand(&env);
    env.sandbox.add_environment(REPO, "production");
    env.sandbox
        .scope_put_outside(&environment(), "A", b"value-a-1");
    env.sandbox.add_org("acme");
    env.sandbox
        .scope_put_outside(&Scope::Org("acme".into()), "B", b"value-b-1");

    let plan = run(&env, &["plan"]);
    plan.assert_code(0);
    assert_eq!(
        plan.stdout.matches("value cannot be compared").count(),
        6,
        "{}",
        plan.stdout
    );

    env.sandbox.clear_requests();
    let adopt = run(&env, &["adopt", "--yes"]);
    adopt.assert_code(0);
    assert!(writes(&env).is_empty(), "adopt wrote: {:?}", writes(&env));
    for target in [REPO, "acme/shop (environment production)", "org acme"] {
        assert!(
            adopt.stdout.contains(&format!("{target}\n")),
            "{}",
            adopt.stdout
        );
    }
    assert_eq!(
        adopt.stdout.matches("  trust  ").count(),
        6,
        "{}",
        adopt.stdout
    );
    assert!(
        adopt.stdout.contains("Adopted 6 secret(s)"),
        "{}",
        adopt.stdout
    );

    let plan = run(&env, &["plan", "--detailed-exitcode"]);
    plan.assert_code(0);
    assert!(
        plan.stdout.contains("In sync: 6 unchanged"),
        "{}",
        plan.stdout
    );
    env.sandbox.clear_requests();
    run(&env, &["apply", "--yes"]).assert_code(0);
    assert!(writes(&env).is_empty(), "apply wrote: {:?}", writes(&env));
}

/// The cost for one repository with four secrets: one listing, nothing else.
#[test]
fn adopting_a_repository_costs_one_listing() {
    let env = Env::new();
    env.config_for_repo(FOUR);
    set_by_hand(&env);
    env.sandbox.clear_requests();
    run(&env, &["adopt", "--yes"]).assert_code(0);
    let requests: Vec<String> = env
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        requests,
        [format!("GET /repos/{REPO}/actions/secrets")],
        "{requests:?}"
    );
}

#[test]
fn no_terminal_and_no_yes_is_refused_before_anything() {
    let env = Env::new();
    env.config_for_repo(FOUR);
    set_by_hand(&env);
    // Some state to keep: A adopted already.
    run(&env, &["adopt", "--yes", "A"]).assert_code(0);
    let before = env.state_files();
    env.sandbox.clear_requests();
    let out = run(&env, &["adopt"]);
    out.assert_code(1);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(
        lines[0].contains("secretsync adopt --yes"),
        "{}",
        out.stderr
    );
    assert!(env.requests().is_empty(), "{:?}", env.requests());
    assert_eq!(env.state_files(), before, "the state changed");
}

/// `adopt` on a pseudo-terminal, answering `answer`; what the pty showed, and the exit code.
fn adopt_answering(env: &Env, answer: &str) -> (String, i32) {
    let mut command = env.cmd(&["adopt"]);
    for (var, value) in VALUES {
        command = command.env(var, value);
    }
    let mut pty = spawn_command(command.into_pty_command(), Some(30_000)).expect("a pty");
    let shown = pty
        .exp_string("Trust 3 secret(s) on GitHub as holding their declared values? [y/N] ")
        .expect("the question");
    pty.send_line(answer).expect("answer");
    let rest = pty.exp_eof().expect("the run ends");
    let code = match pty.process_mut().wait().expect("exit status") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("unexpected end: {other:?}"),
    };
    (format!("{shown}{rest}"), code)
}

#[test]
fn on_a_terminal_the_names_are_shown_and_no_writes_nothing() {
    let env = Env::new();
    env.config_for_repo(FOUR);
    set_by_hand(&env);
    run(&env, &["adopt", "--yes", "A"]).assert_code(0);
    let before = env.state_files();

    let (shown, code) = adopt_answering(&env, "n");
    assert_eq!(code, 1, "{shown}");
    let trusted: Vec<&str> = shown
        .lines()
        .filter(|l| l.starts_with("  trust "))
        .collect();
    assert_eq!(
        trusted,
        ["  trust  B", "  trust  C", "  trust  D"],
        "{shown}"
    );
    assert!(shown.contains("not confirmed"), "{shown}");
    assert_eq!(env.state_files(), before, "no writes nothing");

    let (shown, code) = adopt_answering(&env, "y");
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("Adopted 3 secret(s)"), "{shown}");
    assert_ne!(env.state_files(), before);
}

#[test]
fn only_what_cannot_be_compared_is_trusted_and_the_rest_says_why() {
    let env = Env::new();
    // SAME and DRIFTED applied by secretsync; DRIFTED then set by someone else.
    env.config_for_repo(
        "[secrets.SAME]\nvalue = \"same-1\"\n[secrets.DRIFTED]\nvalue = \"drift-1\"\n",
    );
    env.apply();
    env.sandbox.advance_clock(1);
    env.sandbox.put_outside(REPO, "DRIFTED", b"someone else's");
    env.sandbox.put_outside(REPO, "HAND", b"hand-1");
    env.sandbox.put_outside(REPO, "SHORT", b"x");
    env.sandbox.put_outside(REPO, "UNSET", b"unset-1");
    let declared = "[secrets.SAME]\nvalue = \"same-1\"\n[secrets.DRIFTED]\nvalue = \"drift-1\"\n\
         [secrets.HAND]\nvalue = \"hand-1\"\n[secrets.MISSING]\nvalue = \"missing-1\"\n\
         [secrets.UNSET]\nenv = \"UNSET_VALUE\"\n";
    env.config_for_repo(&format!(
        "{declared}[secrets.SHORT]\nvalue = \"x\"\nmin_length = 8\n"
    ));
    env.sandbox.clear_requests();
    let out = env.cmd(&["adopt", "--yes", "--json"]).run();
    out.assert_code(1);
    assert!(writes(&env).is_empty(), "{:?}", writes(&env));
    let doc: Doc = out.json();
    assert_eq!((doc.version, doc.command.as_str()), (1, "adopt"));
    assert!(!doc.ok);
    assert_eq!(doc.adopted, 1);
    let target = &doc.targets[0];
    assert_eq!(
        (target.target.as_str(), target.error.is_none()),
        (REPO, true)
    );
    assert_eq!(target.adopted, ["HAND"]);
    let skipped: Vec<(&str, &str)> = target
        .skipped
        .iter()
        .map(|s| (s.name.as_str(), s.reason_code.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("DRIFTED", "drift"),
            ("MISSING", "absent"),
            ("SAME", "in_sync")
        ]
    );
    assert!(target.skipped[0].reason.contains("changed on GitHub at"));
    let unresolved: Vec<(&str, &str)> = doc
        .unresolved
        .iter()
        .map(|u| (u.name.as_str(), u.reason.as_str()))
        .collect();
    assert_eq!(unresolved.len(), 2, "{unresolved:?}");
    assert_eq!((unresolved[0].0, unresolved[1].0), ("SHORT", "UNSET"));
    assert!(
        unresolved[1].1.starts_with("no value for `UNSET`"),
        "{unresolved:?}"
    );
    assert!(
        out.stderr
            .contains("`UNSET` was not adopted: no value for `UNSET`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("`SHORT` was not adopted"),
        "{}",
        out.stderr
    );

    // Drift stays drift, a missing secret stays a create; what was adopted is in sync. (A value
    // that breaks its rules stops a plan, so SHORT goes.)
    env.config_for_repo(declared);
    let plan = env.cmd(&["plan"]).env("UNSET_VALUE", "unset-1").run();
    let line = |name: &str| {
        plan.stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("DRIFTED").contains("changed on GitHub at"),
        "{}",
        plan.stdout
    );
    assert!(
        line("MISSING").contains("absent on GitHub"),
        "{}",
        plan.stdout
    );
    assert!(
        line("HAND").contains("same as the last apply"),
        "{}",
        plan.stdout
    );
    assert!(
        line("UNSET").contains("cannot be compared"),
        "{}",
        plan.stdout
    );
}

#[test]
fn names_restrict_adoption_and_an_unknown_one_is_a_clear_error() {
    let env = Env::new();
    env.config_for_repo(FOUR);
    set_by_hand(&env);
    let out = run(&env, &["adopt", "--yes", "A", "c"]);
    out.assert_code(0);
    assert!(out.stdout.contains("trust  A\n"), "{}", out.stdout);
    assert!(out.stdout.contains("trust  C\n"), "{}", out.stdout);
    assert!(!out.stdout.contains(" B"), "{}", out.stdout);
    let plan = run(&env, &["plan"]);
    assert_eq!(
        plan.stdout.matches("value cannot be compared").count(),
        2,
        "{}",
        plan.stdout
    );

    let out = run(&env, &["adopt", "--yes", "E"]);
    out.assert_code(1);
    assert!(
        out.stderr.contains("`E` is not a declared secret"),
        "{}",
        out.stderr
    );

    // Nothing left to adopt among the names: said so, exit 0, nothing written.
    let before = env.state_files();
    let out = run(&env, &["adopt", "--yes", "A"]);
    out.assert_code(0);
    assert!(out.stdout.contains("Nothing to adopt"), "{}", out.stdout);
    assert!(
        out.stdout.contains("A  already recorded, in sync"),
        "{}",
        out.stdout
    );
    assert_eq!(env.state_files(), before);
}

#[test]
fn a_later_write_by_someone_else_is_still_drift() {
    let env = Env::new();
    env.config_for_repo(FOUR);
    set_by_hand(&env);
    run(&env, &["adopt", "--yes"]).assert_code(0);
    assert_only_c_drifts_after_a_later_write(&env);
}

#[test]
fn an_intent_left_by_a_write_that_never_landed_does_not_hide_a_later_write() {
    let env = Env::new();
    env.config_for_repo(FOUR);
    set_by_hand(&env);
    // The connection drops before GitHub carries out C's write: its fate is unknown to apply,
    // so its intent stays in the state.
    env.sandbox
        .inject_fault(Fault::new("PUT", "/C", FaultKind::Reset));
    run(&env, &["apply", "--yes", "--retries", "0"]).assert_code(1);
    env.sandbox.clear_faults();
    let adopt = run(&env, &["adopt", "--yes"]);
    adopt.assert_code(0);
    assert!(adopt.stdout.contains("trust  C"), "{}", adopt.stdout);
    assert_only_c_drifts_after_a_later_write(&env);
}

/// Someone rewrites C a second after the adoption: the plan shows C, and only C, as drift.
fn assert_only_c_drifts_after_a_later_write(env: &Env) {
    env.sandbox.advance_clock(1);
    env.sandbox.put_outside(REPO, "C", b"rotated by hand");
    let plan = run(env, &["plan"]);
    let drifted: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.contains("changed on GitHub at"))
        .collect();
    assert_eq!(drifted.len(), 1, "{}", plan.stdout);
    assert!(drifted[0].contains(" C "), "{}", plan.stdout);
}

const KEY: &str = "0123456789abcdef0123456789abcdef-team-key";
const STATE: &str = "[state]\nstore = \"github\"\nkey = { env = \"SECRETSYNC_KEY\" }\n";

/// `secretsync ARGS` as a machine with its own state folder and the team key.
fn as_machine(env: &Env, machine: &str, args: &[&str]) -> Output {
    let state = env.path(&format!("state-{machine}"));
    let mut command = env
        .command(env!("CARGO_BIN_EXE_secretsync"))
        .args(args)
        .arg("--config")
        .arg(env.path("secretsync.toml"))
        .arg("--state-dir")
        .arg(state)
        .env("SECRETSYNC_KEY", KEY);
    for (var, value) in VALUES {
        command = command.env(var, value);
    }
    command.run()
}

#[test]
fn with_the_shared_store_another_machine_sees_the_adopted_secrets_in_sync() {
    let env = Env::new();
    env.config(&format!("{STATE}{FOUR}[[targets]]\nrepo = \"{REPO}\"\n"));
    set_by_hand(&env);
    env.sandbox.clear_requests();
    as_machine(&env, "a", &["adopt", "--yes"]).assert_code(0);
    assert_eq!(
        writes(&env),
        [format!("POST /repos/{REPO}/actions/variables")],
        "only the shared record is written"
    );
    let plan = as_machine(&env, "b", &["plan", "--detailed-exitcode"]);
    plan.assert_code(0);
    assert!(
        plan.stdout.contains("In sync: 4 unchanged"),
        "{}",
        plan.stdout
    );
    env.sandbox.clear_requests();
    as_machine(&env, "b", &["apply", "--yes"]).assert_code(0);
    assert!(writes(&env).is_empty(), "{:?}", writes(&env));

    // A second adoption merges into the record: PATCH, never a secret.
    env.config(&format!(
        "{STATE}{FOUR}[secrets.E]\nvalue = \"e-1\"\n[[targets]]\nrepo = \"{REPO}\"\n"
    ));
    env.sandbox.put_outside(REPO, "E", b"e-1");
    env.sandbox.clear_requests();
    as_machine(&env, "c", &["adopt", "--yes"]).assert_code(0);
    assert_eq!(
        writes(&env),
        [format!(
            "PATCH /repos/{REPO}/actions/variables/SECRETSYNC_STATE"
        )]
    );
    let plan = as_machine(&env, "a", &["plan", "--detailed-exitcode"]);
    plan.assert_code(0);
    assert!(
        plan.stdout.contains("In sync: 5 unchanged"),
        "{}",
        plan.stdout
    );
}

#[test]
fn a_target_that_cannot_be_listed_fails_alone() {
    let env = Env::new();
    env.config(&format!(
        "{FOUR}[[targets]]\nrepo = \"{REPO}\"\n[[targets]]\nrepo = \"{OTHER}\"\n"
    ));
    set_by_hand(&env);
    env.sandbox.put_outside(OTHER, "A", b"value-a-1");
    env.sandbox
        .inject_list_failure(OTHER, 403, "Resource not accessible by integration");
    let out = run(&env, &["adopt", "--yes", "--json"]);
    out.assert_code(1);
    let doc: Doc = out.json();
    assert_eq!(doc.adopted, 4);
    let failed = &doc.targets[1];
    assert_eq!(failed.target, OTHER);
    let error = failed.error.as_ref().expect("the listing failed");
    assert_eq!(error.status, Some(403));
    assert!(
        error.message.contains("Resource not accessible"),
        "{error:?}"
    );
    assert!(failed.adopted.is_empty());
    assert!(
        out.stderr.contains(&format!("error: {OTHER}: ")),
        "{}",
        out.stderr
    );
}
