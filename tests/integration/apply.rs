//! plan and apply against the sandbox: create, no-op, rotation, drift, prune, paging, partial
//! failure and concurrent runs, counted by the requests the sandbox saw.

use crate::support::{Env, ALIYUN, REPO};

fn aliyun() -> Env {
    let env = Env::new();
    env.config(ALIYUN);
    env
}

#[test]
fn first_apply_creates_all_and_second_writes_nothing() {
    let env = aliyun();
    let out = env.apply_with_password("Pass-word1");
    out.assert_code(0);
    assert!(
        out.stdout.contains("Applied: 4 created, 0 updated"),
        "{}",
        out.stdout
    );
    // one list and the public key in the same round, four writes; no list after (each
    // answer's Date bounds its write's time)
    assert_eq!(env.counts(), (1, 1, 4, 0));
    assert_eq!(
        env.plaintext("ALIYUN_PASSWORD").as_deref(),
        Some("Pass-word1")
    );
    assert_eq!(
        env.plaintext("ALIYUN_USERNAME").as_deref(),
        Some("acme-account")
    );

    env.sandbox.clear_requests();
    let out = env.apply_with_password("Pass-word1");
    out.assert_code(0);
    assert!(
        out.stdout.contains("In sync: 4 unchanged"),
        "{}",
        out.stdout
    );
    assert_eq!(
        env.counts(),
        (1, 0, 0, 0),
        "a no-op apply is one list request"
    );
}

#[test]
fn rotation_plans_and_writes_exactly_one() {
    let env = aliyun();
    env.apply_with_password("Pass-word1").assert_code(0);
    env.sandbox.clear_requests();

    let plan = env
        .cmd(&["plan"])
        .env("ALIYUN_PASSWORD", "Pass-word2")
        .run();
    plan.assert_code(0);
    let updates: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.contains(" update "))
        .collect();
    assert_eq!(updates.len(), 1, "{}", plan.stdout);
    assert!(updates[0].contains("ALIYUN_PASSWORD") && updates[0].contains("value changed"));
    assert_eq!(env.counts(), (1, 0, 0, 0), "plan only lists");

    env.sandbox.clear_requests();
    env.apply_with_password("Pass-word2").assert_code(0);
    assert_eq!(env.counts(), (1, 1, 1, 0));
    assert_eq!(
        env.plaintext("ALIYUN_PASSWORD").as_deref(),
        Some("Pass-word2")
    );
}

#[test]
fn drift_on_github_is_detected_and_repaired() {
    let env = aliyun();
    env.apply_with_password("Pass-word1").assert_code(0);
    // In a later second: one in the same second is GitHub's blind spot (edges.rs).
    env.sandbox.advance_clock(1);
    env.sandbox
        .put_outside(REPO, "ALIYUN_USERNAME", b"acme-nickname");
    let changed_at = env.sandbox.updated_at(REPO, "ALIYUN_USERNAME").unwrap();

    let plan = env
        .cmd(&["plan"])
        .env("ALIYUN_PASSWORD", "Pass-word1")
        .run();
    let line = plan
        .stdout
        .lines()
        .find(|l| l.contains("ALIYUN_USERNAME"))
        .unwrap_or_default();
    assert!(
        line.contains("update") && line.contains("changed on GitHub at"),
        "{line}"
    );
    assert!(
        line.contains(&changed_at),
        "the reason gives the time: {line}"
    );

    env.apply_with_password("Pass-word1").assert_code(0);
    assert_eq!(
        env.plaintext("ALIYUN_USERNAME").as_deref(),
        Some("acme-account")
    );
    let again = env
        .cmd(&["plan"])
        .env("ALIYUN_PASSWORD", "Pass-word1")
        .run();
    assert!(again.stdout.contains("In sync"), "{}", again.stdout);
}

#[test]
fn unrecorded_secret_is_updated_with_a_reason() {
    let env = aliyun();
    env.sandbox
        .put_outside(REPO, "ALIYUN_PASSWORD", b"set-by-hand");
    let plan = env
        .cmd(&["plan"])
        .env("ALIYUN_PASSWORD", "Pass-word1")
        .run();
    let line = plan
        .stdout
        .lines()
        .find(|l| l.contains("ALIYUN_PASSWORD"))
        .unwrap_or_default();
    assert!(
        line.contains("update") && line.contains("cannot be compared"),
        "{line}"
    );
    env.apply_with_password("Pass-word1").assert_code(0);
    assert_eq!(
        env.plaintext("ALIYUN_PASSWORD").as_deref(),
        Some("Pass-word1")
    );
}

#[test]
fn extras_are_kept_unless_pruned() {
    let env = aliyun();
    env.sandbox.put_outside(REPO, "OLD_TOKEN", b"old");
    let out = env.apply_with_password("p");
    assert!(out.stdout.contains("? OLD_TOKEN"), "{}", out.stdout);
    assert!(env.sandbox.names(REPO).contains(&"OLD_TOKEN".to_string()));

    let plan = env
        .cmd(&["plan", "--prune"])
        .env("ALIYUN_PASSWORD", "p")
        .run();
    assert!(
        plan.stdout.contains("- OLD_TOKEN") && plan.stdout.contains("delete"),
        "{}",
        plan.stdout
    );
    env.sandbox.clear_requests();
    env.cmd(&["apply", "--prune", "--yes"])
        .env("ALIYUN_PASSWORD", "p")
        .run()
        .assert_code(0);
    assert!(!env.sandbox.names(REPO).contains(&"OLD_TOKEN".to_string()));
    assert_eq!(env.counts(), (1, 0, 0, 1), "a delete needs no public key");
}

#[test]
fn listing_follows_pages_past_100() {
    let env = aliyun();
    for i in 0..150 {
        env.sandbox
            .put_outside(REPO, &format!("EXTRA_{i:03}"), b"x");
    }
    let out = env.cmd(&["plan"]).env("ALIYUN_PASSWORD", "p").run();
    out.assert_code(0);
    assert_eq!(
        out.stdout.lines().filter(|l| l.contains(" extra ")).count(),
        150
    );
    let lists: Vec<_> = env
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert_eq!(
        lists.len(),
        2,
        "150 secrets are two pages of 100: {lists:?}"
    );
    assert!(lists[0].query.contains("per_page=100"));
}

#[test]
fn one_failed_write_does_not_stop_the_others_and_a_rerun_converges() {
    let env = aliyun();
    env.sandbox
        .inject_write_failure(REPO, "ALIYUN_PASSWORD", 500, "Server Error: injected");
    let out = env.apply_with_password("Pass-word1");
    out.assert_code(1);
    let attempts = env
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("/ALIYUN_PASSWORD"))
        .count();
    assert_eq!(
        attempts, 4,
        "a 500 is retried 3 times by default, then reported"
    );
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("ALIYUN_PASSWORD") && l.contains("failed"))
        .unwrap_or_default();
    assert!(
        line.contains("failed: 500 Server Error: injected"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("missing on GitHub after apply: ALIYUN_PASSWORD"),
        "{}",
        out.stdout
    );
    assert_eq!(env.sandbox.names(REPO).len(), 3);
    let state = env.state_files();
    let recorded = state
        .iter()
        .find(|(p, _)| p.ends_with("shop/actions.json"))
        .expect("state file");
    let text = String::from_utf8_lossy(&recorded.1);
    assert!(
        text.contains("ALIYUN_USERNAME") && !text.contains("ALIYUN_PASSWORD"),
        "{text}"
    );

    env.sandbox.clear_failures();
    env.sandbox.clear_requests();
    env.apply_with_password("Pass-word1").assert_code(0);
    assert_eq!(
        env.counts(),
        (1, 1, 1, 0),
        "the re-run writes only what failed"
    );
    assert_eq!(
        env.plaintext("ALIYUN_PASSWORD").as_deref(),
        Some("Pass-word1")
    );
}

#[test]
fn prompt_only_values_are_unknown_in_plan() {
    let env = Env::new();
    env.config("[secrets.PW]\nprompt = \"Password\"\n\n[[targets]]\nrepo = \"acme/shop\"\n");
    let out = env.cmd(&["plan"]).run();
    out.assert_code(0);
    assert!(out.stdout.contains("asked for on apply"), "{}", out.stdout);
    assert!(out.stdout.contains("[prompt]"), "{}", out.stdout);
}

#[test]
fn targets_select_by_glob_and_files_strip_one_newline() {
    let env = Env::new();
    env.write("pw.txt", "line\n\n");
    env.config(
        "[secrets.ALIYUN_PASSWORD]\nfile = \"pw.txt\"\nno_surrounding_whitespace = false\n[secrets.OTHER]\nvalue = \"o\"\n\n\
         [[targets]]\nrepo = \"acme/shop\"\nsecrets = [\"ALIYUN_*\"]\n\n\
         [[targets]]\nrepo = \"acme/web\"\n",
    );
    env.apply();
    assert_eq!(env.sandbox.names(REPO), ["ALIYUN_PASSWORD"]);
    assert_eq!(env.sandbox.names("acme/web"), ["ALIYUN_PASSWORD", "OTHER"]);
    assert_eq!(env.plaintext("ALIYUN_PASSWORD").as_deref(), Some("line\n"));
}

#[test]
fn concurrent_applies_leave_consistent_state() {
    let env = aliyun();
    let a = env.cmd(&["apply", "--yes"]).env("ALIYUN_PASSWORD", "p1");
    let b = env.cmd(&["apply", "--yes"]).env("ALIYUN_PASSWORD", "p1");
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(move || a.run());
        let hb = s.spawn(move || b.run());
        (ha.join().unwrap(), hb.join().unwrap())
    });
    ra.assert_code(0);
    rb.assert_code(0);
    for (path, bytes) in env.state_files() {
        if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_slice::<serde_json::Value>(&bytes).expect("state is whole JSON");
        }
    }
    // Whatever interleaving happened, the state now describes GitHub: a re-run is a no-op.
    env.sandbox.clear_requests();
    let out = env.apply_with_password("p1");
    out.assert_code(0);
    assert_eq!(env.counts().2, 0, "{}", out.stdout);
}
