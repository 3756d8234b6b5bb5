//! Organization scale: 200 repositories × 5 secrets through `repos = { org, match }`, a no-op
//! re-run, and a run under a secondary rate limit that must finish without a failure.

use std::time::Duration;

use secretsync_sandbox::{Scope, SecondaryLimit};

use crate::support::Env;

const REPOS: usize = 200;
const NAMES: [&str; 5] = ["A_ONE", "A_TWO", "A_THREE", "A_FOUR", "A_FIVE"];

fn fan_env() -> Env {
    let env = Env::new();
    env.sandbox.add_org("fan");
    for i in 0..REPOS {
        env.sandbox.add_repo(&format!("fan/svc-{i:03}"));
    }
    env.sandbox.add_repo("fan/website");
    // The sandbox is not github.com: its one limit, when set, counts writes per second.
    let mut body = String::from("[github.limits]\npoints = 1000000\nwindow_secs = 1\n");
    for name in NAMES {
        body.push_str(&format!("[secrets.{name}]\nvalue = \"v-{name}\"\n"));
    }
    body.push_str("[[targets]]\nrepos = { org = \"fan\", match = \"svc-*\" }\n");
    env.config(&body);
    env
}

fn all_set(env: &Env) {
    for i in 0..REPOS {
        let scope = Scope::Repo(format!("fan/svc-{i:03}"));
        assert_eq!(
            env.sandbox.scope_names(&scope).len(),
            NAMES.len(),
            "svc-{i:03}"
        );
    }
    assert!(
        env.sandbox
            .scope_names(&Scope::Repo("fan/website".into()))
            .is_empty(),
        "not matched"
    );
}

#[test]
fn fan_out_then_no_op() {
    let env = fan_env();
    let out = env.cmd(&["apply", "--yes"]).run();
    out.assert_code(0);
    assert!(
        out.stdout
            .contains(&format!("Applied: {} created", REPOS * NAMES.len())),
        "{}",
        out.stdout.lines().last().unwrap_or("")
    );
    all_set(&env);

    env.sandbox.clear_requests();
    let out = env.cmd(&["apply", "--yes"]).run();
    out.assert_code(0);
    let requests = env.requests();
    let secret_lists = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/actions/secrets"))
        .count();
    assert_eq!(secret_lists, REPOS, "exactly one list request per target");
    assert!(requests.iter().all(|r| r.method == "GET"), "no writes");
    assert_eq!(env.counts().1, 0, "no public key");
    let repo_pages = requests
        .iter()
        .filter(|r| r.path == "/orgs/fan/repos")
        .count();
    assert_eq!(repo_pages, 3, "201 repositories are 3 pages of 100");
}

#[test]
fn fan_out_under_a_secondary_limit_finishes_within_the_bound() {
    let env = fan_env();
    // 300 writes in any 5 s: hit whenever the writes go faster than 60 a second, which even a
    // loaded machine's debug build does at 4 in flight (a 1 s window needed 300 a second, and
    // a busy CI machine did not always get there).
    env.sandbox.set_secondary_limit(Some(SecondaryLimit {
        writes: 300,
        window: Duration::from_secs(5),
        retry_after: Some(5),
        ..SecondaryLimit::default()
    }));
    env.sandbox.reset_max_in_flight();
    let out = env.cmd(&["apply", "--yes", "--concurrency", "4"]).run();
    out.assert_code(0);
    all_set(&env);
    assert!(
        out.stdout.contains("0 failed"),
        "{}",
        out.stdout.lines().last().unwrap_or("")
    );
    let limited = env.requests().iter().filter(|r| r.status == 429).count();
    assert!(limited > 0, "the limit was hit");
    // Every request pauses while one waits: a client that ignored retry-after would collect
    // hundreds of 429s here.
    assert!(
        limited <= 16,
        "{limited} answers of 429; stderr: {}",
        out.stderr.lines().take(20).collect::<Vec<_>>().join("\n")
    );
    assert!(
        out.stderr.contains("secondary rate limit") && out.stderr.contains("waiting until"),
        "{}",
        out.stderr
    );
    let peak = env.sandbox.max_in_flight();
    assert!(
        peak <= 4,
        "at most --concurrency requests in flight, saw {peak}"
    );
}
