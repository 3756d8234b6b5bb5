//! The exit-code contract: 0 ok and in sync, 1 any error (usage included), 2 pending changes with
//! `plan --detailed-exitcode`; `--help` and `--version` exit 0.

use crate::support::{Env, ALIYUN};

#[test]
fn help_version_and_usage() {
    let env = Env::new();
    let help = env.cmd(&["--help"]).run();
    help.assert_code(0);
    assert!(help.stdout.contains("plan") && help.stdout.contains("apply"));
    let version = env.cmd(&["--version"]).run();
    version.assert_code(0);
    assert!(version.stdout.starts_with("secretsync "));
    let bad = env.cmd(&["plan", "--no-such-flag"]).run();
    bad.assert_code(1);
    let missing = env.cmd(&[]).run();
    missing.assert_code(1);
}

#[test]
fn detailed_exitcode() {
    let env = Env::new();
    env.config(ALIYUN);
    let pending = env
        .cmd(&["plan", "--detailed-exitcode"])
        .env("ALIYUN_PASSWORD", "p")
        .run();
    pending.assert_code(2);
    let plain = env.cmd(&["plan"]).env("ALIYUN_PASSWORD", "p").run();
    plain.assert_code(0);
    assert!(
        env.state_files().is_empty(),
        "plan writes no state, not even the key"
    );
    assert!(
        env.requests().iter().all(|r| r.method == "GET"),
        "plan only reads"
    );
    env.apply_with_password("p").assert_code(0);
    let in_sync = env
        .cmd(&["plan", "--detailed-exitcode"])
        .env("ALIYUN_PASSWORD", "p")
        .run();
    in_sync.assert_code(0);
}

#[test]
fn apply_without_terminal_needs_yes() {
    let env = Env::new();
    env.config(ALIYUN);
    let out = env.cmd(&["apply"]).env("ALIYUN_PASSWORD", "p").run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("--yes") && out.stderr.contains("no terminal"),
        "{}",
        out.stderr
    );
    assert!(env.requests().is_empty(), "refused before any request");
}

#[test]
fn demo_runs_offline() {
    let env = Env::new();
    let out = env.cmd(&["demo"]).env_remove("GH_TOKEN").run();
    out.assert_code(0);
    assert!(out.stdout.contains("Plan: 4 to create"), "{}", out.stdout);
    assert!(
        out.stdout.contains("Plan: 0 to create, 1 to update"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("In sync: 4 unchanged"),
        "{}",
        out.stdout
    );
    // A teammate's machine (its own state folder, the same team key) writes nothing.
    let teammate = out
        .stdout
        .split("6. Already in sync there")
        .nth(1)
        .unwrap_or_default();
    assert!(teammate.contains("In sync: 4 unchanged"), "{}", out.stdout);
    assert!(
        out.stdout.contains("received 5 sealed writes"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("Fixed-Registry-Pass1")
            && !out.stdout.contains("Rotated-Registry-Pass2")
    );
    // The demo's own files raise no warning (its token file is not open to others).
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}
