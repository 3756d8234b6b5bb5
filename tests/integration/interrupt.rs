//! Ctrl-C (and SIGTERM, SIGHUP) during apply: writes in flight finish, no new one starts, what
//! succeeded is recorded, the exit is non-zero, and a re-run writes exactly what is left.

use std::process::Command;
use std::time::Duration;

use crate::support::{finish, wait_until, Env, REPO};

const COUNT: usize = 12;

#[test]
fn sigint_records_what_was_written_and_a_rerun_finishes() {
    interrupt_records_what_was_written("-INT", false);
}

#[test]
fn sigterm_does_as_sigint() {
    interrupt_records_what_was_written("-TERM", false);
}

#[test]
fn sighup_does_as_sigint() {
    interrupt_records_what_was_written("-HUP", false);
}

/// A command source runs before the writes and watches signals to stop its command; once the
/// writes begin, every signal is apply's to handle.
#[test]
fn after_a_command_source_every_signal_still_stops_gracefully() {
    for signal in ["-INT", "-TERM", "-HUP"] {
        interrupt_records_what_was_written(signal, true);
    }
}

fn interrupt_records_what_was_written(signal: &str, command_source: bool) {
    let env = Env::new();
    let mut body = String::new();
    for i in 0..COUNT {
        match (i, command_source) {
            (0, true) => body.push_str("[secrets.S00]\ncommand = [\"printf\", \"v0\"]\n"),
            _ => body.push_str(&format!("[secrets.S{i:02}]\nvalue = \"v{i}\"\n")),
        }
    }
    body.push_str(&format!("[[targets]]\nrepo = \"{REPO}\"\n"));
    env.config(&body);
    env.sandbox.set_latency(Duration::from_millis(150));
    let mut child = env.cmd(&["apply", "--yes", "--concurrency", "1"]).spawn();
    // Interrupt once a few writes have landed, well before all of them.
    wait_until("three writes", &mut child, || {
        env.sandbox.names(REPO).len() >= 3
    });
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = finish(child);
    let stderr = &out.stderr;
    assert_eq!(out.code, 1, "{signal}: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let written = env.sandbox.names(REPO).len();
    assert!(written < COUNT, "stopped early: {written} of {COUNT}");

    let state = env
        .state_files()
        .into_iter()
        .find(|(p, _)| p.ends_with("shop/actions.json"))
        .expect("a state file");
    let records: serde_json::Value = serde_json::from_slice(&state.1).expect("whole JSON");
    let recorded = records["secrets"].as_object().map(|m| m.len()).unwrap_or(0);
    assert_eq!(
        recorded, written,
        "the state records exactly the writes that succeeded"
    );

    env.sandbox.set_latency(Duration::ZERO);
    env.sandbox.clear_requests();
    env.cmd(&["apply", "--yes"]).run().assert_code(0);
    assert_eq!(
        env.counts().2,
        COUNT - written,
        "the re-run writes exactly what was left"
    );
    assert_eq!(env.sandbox.names(REPO).len(), COUNT);
}

/// Writes waiting for GitHub's budget (here 2 a minute) wait up to a window: Ctrl-C must not
/// wait with them. The two sent are recorded, the rest are not sent, and the run ends at once.
#[test]
fn sigint_while_writes_wait_for_the_budget_ends_at_once() {
    let env = Env::new();
    let mut body = String::from("[github.limits]\npoints = 10\nwindow_secs = 60\n\n");
    for i in 0..4 {
        body.push_str(&format!("[secrets.S{i:02}]\nvalue = \"v{i}\"\n"));
    }
    body.push_str(&format!("[[targets]]\nrepo = \"{REPO}\"\n"));
    env.config(&body);
    let mut child = env.cmd(&["apply", "--yes"]).spawn();
    wait_until("two writes", &mut child, || {
        env.sandbox.names(REPO).len() == 2
    });
    let started = std::time::Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = finish(child);
    // Far below the 60 s the budget would have made the last two writes wait.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("interrupted"), "{}", out.stderr);
    assert_eq!(env.sandbox.names(REPO).len(), 2);
}
