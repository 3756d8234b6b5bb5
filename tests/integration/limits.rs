//! GitHub's limits and faults: the primary limit is waited out (or refused past --max-wait),
//! transient 502s and dropped connections are retried, and the concurrency bound holds.

use std::time::Duration;

use secretsync_sandbox::{PrimaryLimit, SecondaryLimit, Transient};

use crate::support::{Env, ALIYUN, REPO};

#[test]
fn the_primary_limit_is_waited_out() {
    let env = Env::new();
    env.config(ALIYUN);
    env.sandbox.set_primary_limit(Some(PrimaryLimit {
        requests: 3,
        reset_after: Duration::from_secs(1),
    }));
    let out = env.apply_with_password("p");
    out.assert_code(0);
    assert_eq!(env.sandbox.names(REPO).len(), 4);
    // Said as a plain line at the default verbosity, not as a timestamped log record.
    let waits: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("rate limit"))
        .collect();
    assert!(!waits.is_empty(), "{}", out.stderr);
    for line in waits {
        assert!(
            line.starts_with("GitHub's primary rate limit") && line.contains("waiting until"),
            "not a plain line: {line}"
        );
    }
}

#[test]
fn waiting_past_max_wait_is_a_clear_error_and_a_rerun_converges() {
    let env = Env::new();
    env.config(ALIYUN);
    env.sandbox.set_primary_limit(Some(PrimaryLimit {
        requests: 3,
        reset_after: Duration::from_secs(30),
    }));
    let out = env
        .cmd(&["apply", "--yes", "--max-wait", "1"])
        .env("ALIYUN_PASSWORD", "p")
        .run();
    out.assert_code(1);
    assert!(out.stdout.contains("past --max-wait"), "{}", out.stdout);
    env.sandbox.set_primary_limit(None);
    env.apply_with_password("p").assert_code(0);
    assert_eq!(env.sandbox.names(REPO).len(), 4);
    env.sandbox.clear_requests();
    env.apply_with_password("p").assert_code(0);
    assert_eq!(env.counts(), (1, 0, 0, 0));
}

#[test]
fn a_retry_after_past_any_clock_is_refused_like_a_long_wait() {
    let env = Env::new();
    env.config(ALIYUN);
    // The server's number of seconds, whatever it is, must not crash the run.
    env.sandbox.set_secondary_limit(Some(SecondaryLimit {
        writes: 0,
        window: Duration::from_secs(60),
        retry_after: Some(u64::MAX),
        ..SecondaryLimit::default()
    }));
    let out = env
        .cmd(&["apply", "--yes"])
        .env("ALIYUN_PASSWORD", "p")
        .run();
    out.assert_code(1);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(out.stdout.contains("past --max-wait"), "{}", out.stdout);
    env.sandbox.set_secondary_limit(None);
    env.cmd(&["apply", "--yes"])
        .env("ALIYUN_PASSWORD", "p")
        .run()
        .assert_code(0);
    assert_eq!(env.sandbox.names(REPO).len(), 4);
}

#[test]
fn transient_failures_are_retried() {
    for kind in [Transient::BadGateway, Transient::Drop] {
        let env = Env::new();
        env.config(ALIYUN);
        env.sandbox.inject_transient(2, kind);
        let out = env.apply_with_password("p");
        out.assert_code(0);
        assert_eq!(env.sandbox.names(REPO).len(), 4, "{kind:?}");
        assert_eq!(env.plaintext("ALIYUN_PASSWORD").as_deref(), Some("p"));
    }
}

#[test]
fn the_concurrency_bound_holds_and_is_used() {
    let env = Env::new();
    let mut body = String::from("[secrets.S]\nvalue = \"v\"\n[[targets]]\nrepos = [");
    for i in 0..12 {
        env.sandbox.add_repo(&format!("acme/r{i}"));
        body.push_str(&format!("\"acme/r{i}\", "));
    }
    body.push_str("]\n");
    env.config(&body);
    env.sandbox.set_latency(Duration::from_millis(40));
    // The first three listings are answered only once all three are in flight, so the bound is
    // seen to be used whatever the machine's load (a client that sent one at a time would wait
    // out the hold and show a peak of 1).
    env.sandbox
        .hold("GET", "/actions/secrets", 3, Duration::from_secs(30));
    env.sandbox.reset_max_in_flight();
    env.cmd(&["apply", "--yes", "--concurrency", "3"])
        .run()
        .assert_code(0);
    let peak = env.sandbox.max_in_flight();
    assert_eq!(peak, 3, "in flight at most 3, and all 3 used");
}
