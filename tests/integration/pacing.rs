//! The pacer against GitHub's secondary limits (the sandbox's model of them): a budget known in
//! `[github.limits]` is spent without a single limit answer, a wrong one is learnt from the first
//! answer, `--concurrency` is a ceiling, and the default is GitHub's 100 in flight.

use std::time::Duration;

use secretsync_sandbox::SecondaryLimit;

use crate::support::{Env, OTHER, REPO};

/// `count` secrets named `P000_X`, `P001_X`, ... for `REPO` and `OTHER` (a repository holds at
/// most 100; every secret's write is one endpoint for GitHub's budget, whatever the repository),
/// after `limits` (a `[github.limits]` table or nothing).
fn secrets_config(env: &Env, count: usize, limits: &str) {
    let mut body = String::from(limits);
    for i in 0..count {
        body.push_str(&format!("[secrets.P{i:03}_X]\nvalue = \"v{i}\"\n"));
    }
    body.push_str(&format!("[[targets]]\nrepos = [\"{REPO}\", \"{OTHER}\"]\n"));
    env.config(&body);
}

fn all_set(env: &Env, count: usize) {
    for repo in [REPO, OTHER] {
        let names = env.sandbox.names(repo);
        assert_eq!(names.len(), count, "{repo}: {names:?}");
        for i in [0, count / 2, count - 1] {
            let value = env.sandbox.plaintext(repo, &format!("P{i:03}_X"));
            assert_eq!(value.as_deref(), Some(format!("v{i}").as_bytes()));
        }
    }
}

/// 20 in flight, 200 points per endpoint per second (40 writes of 5), `retry-after: 1`.
fn limited_sandbox() -> Env {
    let env = Env::new();
    env.sandbox.set_secondary_limit(Some(SecondaryLimit::github(
        20,
        200,
        Duration::from_secs(1),
        1,
    )));
    env
}

fn limit_answers(env: &Env) -> usize {
    let limited = |status: u16| status == 403 || status == 429;
    env.requests().iter().filter(|r| limited(r.status)).count()
}

#[test]
fn a_budget_known_in_the_config_is_spent_without_one_limit_answer() {
    let env = limited_sandbox();
    let limits = "[github.limits]\nin_flight = 20\npoints = 200\nwindow_secs = 1\nread_points = 1\nwrite_points = 5\n";
    secrets_config(&env, 80, limits);
    env.sandbox.reset_max_in_flight();
    let out = env.cmd(&["apply", "--yes"]).run();
    out.assert_code(0);
    all_set(&env, 80);
    assert_eq!(limit_answers(&env), 0, "{}", out.stderr);
    assert!(!out.stderr.contains("rate limit"), "{}", out.stderr);
    let peak = env.sandbox.max_in_flight();
    assert!(peak <= 20, "at most 20 in flight, saw {peak}");
}

#[test]
fn a_wrong_points_budget_is_learnt_from_the_first_limit_answer() {
    let env = limited_sandbox();
    // The points are github.com's 900 a minute: the sandbox allows 200 a second.
    secrets_config(
        &env,
        80,
        "[github.limits]\nin_flight = 20\nwindow_secs = 1\n",
    );
    let out = env.cmd(&["apply", "--yes"]).run();
    out.assert_code(0);
    all_set(&env, 80);
    // The requests in flight when the budget is crossed are all refused (at most the 20 in
    // flight), and no others: after the first answer and its one-second `retry-after`, the learnt
    // budget never trips the limit again.
    let answers = limit_answers(&env);
    assert!((1..=20).contains(&answers), "{answers} limit answers");
    let late: Vec<Duration> = env.sandbox.limited_arrivals();
    assert!(
        late.iter().all(|after| *after < Duration::from_secs(1)),
        "limit answers to requests sent after learning: {late:?}"
    );
    assert!(env.sandbox.max_in_flight() <= 20);
}

#[test]
fn concurrency_is_a_ceiling_below_the_budget() {
    for (limits, flag) in [
        (
            "[github.limits]\nin_flight = 100\n",
            &["--concurrency", "3"][..],
        ),
        (
            "[github.limits]\nin_flight = 3\n",
            &["--concurrency", "50"][..],
        ),
    ] {
        let env = Env::new();
        secrets_config(&env, 6, limits);
        // The first three writes are answered only once all three are in flight: the ceiling is
        // seen to be used, whatever the machine's load.
        env.sandbox.hold("PUT", "_X", 3, Duration::from_secs(30));
        env.sandbox.set_latency(Duration::from_millis(20));
        env.sandbox.reset_max_in_flight();
        env.cmd(&["apply", "--yes"]).args(flag).run().assert_code(0);
        all_set(&env, 6);
        assert_eq!(env.sandbox.max_in_flight(), 3, "{limits} {flag:?}");
    }
}

#[test]
fn by_default_a_hundred_requests_go_at_once_and_no_more() {
    let env = Env::new();
    // 150 writes: 750 of the endpoint's 900 points, so only the ceiling holds them back.
    secrets_config(&env, 75, "");
    // The first hundred writes are answered only once all hundred are in flight; a client that
    // sent fewer at once would wait out the hold and show a lower peak.
    env.sandbox.hold("PUT", "_X", 100, Duration::from_secs(60));
    env.sandbox.reset_max_in_flight();
    env.cmd(&["apply", "--yes"]).run().assert_code(0);
    all_set(&env, 75);
    assert_eq!(env.sandbox.max_in_flight(), 100);
}
