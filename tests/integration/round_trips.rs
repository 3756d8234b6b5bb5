//! The fewest round trips: a scope's key is fetched in its listing's round when a write is
//! certain before the listing, and nothing is listed again after the writes (each answer's `Date`
//! bounds the write's `updated_at`). Counted from the sandbox's request records under injected
//! latency, so the count is of round trips, not of time; drift is still caught after.

use std::time::Duration;

use crate::support::{Env, ALIYUN, OTHER, REPO};

/// Long enough that requests sent together, however loaded the machine, all arrive before the
/// first of them is answered.
const LATENCY: Duration = Duration::from_millis(300);

fn aliyun(env: &Env) {
    env.config(ALIYUN);
}

/// Run `apply --yes` with the password under latency, counting from a clean slate.
fn measured_apply(env: &Env, password: &str, extra: &[&str]) -> (usize, usize) {
    env.sandbox.set_latency(LATENCY);
    env.sandbox.clear_requests();
    let mut args = vec!["apply", "--yes"];
    args.extend(extra);
    let out = env.cmd(&args).env("ALIYUN_PASSWORD", password).run();
    out.assert_code(0);
    env.sandbox.set_latency(Duration::ZERO);
    (env.requests().len(), env.sandbox.round_trips())
}

#[test]
fn a_first_apply_of_four_secrets_is_two_round_trips() {
    let env = Env::new();
    aliyun(&env);
    let (requests, round_trips) = measured_apply(&env, "first", &[]);
    // The listing and the key together, then the four writes together.
    assert_eq!((requests, round_trips), (6, 2), "{:#?}", env.requests());
    assert_eq!(env.counts(), (1, 1, 4, 0));
    assert_eq!(env.plaintext("ALIYUN_PASSWORD").as_deref(), Some("first"));
}

#[test]
fn a_rotation_is_two_round_trips_and_three_requests() {
    let env = Env::new();
    aliyun(&env);
    env.apply_with_password("old").assert_code(0);
    let (requests, round_trips) = measured_apply(&env, "new", &[]);
    assert_eq!((requests, round_trips), (3, 2), "{:#?}", env.requests());
    assert_eq!(env.counts(), (1, 1, 1, 0));
    assert_eq!(env.plaintext("ALIYUN_PASSWORD").as_deref(), Some("new"));
    // And the record it made without listing again holds: nothing to do, one listing.
    let (requests, round_trips) = measured_apply(&env, "new", &[]);
    assert_eq!((requests, round_trips), (1, 1), "{:#?}", env.requests());
}

#[test]
fn a_first_apply_up_to_the_concurrency_bound_is_two_round_trips() {
    let env = Env::new();
    let secrets: String = (0..8)
        .map(|i| format!("[secrets.S{i}]\nvalue = \"v{i}\"\n"))
        .collect();
    env.config_for_repo(&secrets);
    let (requests, round_trips) = measured_apply(&env, "unused", &["--concurrency", "10"]);
    assert_eq!((requests, round_trips), (10, 2), "{:#?}", env.requests());
}

#[test]
fn a_write_by_someone_else_after_ours_is_still_drift() {
    let env = Env::new();
    aliyun(&env);
    env.apply_with_password("ours").assert_code(0);
    // Someone sets it in the web UI in a second after our answer's Date.
    env.sandbox.advance_clock(1);
    env.sandbox.put_outside(REPO, "ALIYUN_PASSWORD", b"theirs");
    let out = env
        .cmd(&["plan", "--json"])
        .env("ALIYUN_PASSWORD", "ours")
        .run();
    let plan: serde_json::Value = out.json();
    let reasons: Vec<(String, String)> = plan["targets"][0]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_owned(),
                c["reason_code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        reasons.contains(&("ALIYUN_PASSWORD".into(), "drift".into())),
        "{reasons:?}\n{}",
        out.stdout
    );
    let same = reasons.iter().filter(|(_, code)| code == "same").count();
    assert_eq!(same, 3, "{reasons:?}");
}

fn many(count: usize, changed: Option<usize>) -> String {
    let value = |i: usize| match changed {
        Some(c) if c == i => format!("new{i}"),
        _ => format!("v{i}"),
    };
    (0..count)
        .map(|i| format!("[secrets.S{i:03}]\nvalue = \"{}\"\n", value(i)))
        .collect()
}

#[test]
fn a_rotation_of_one_of_a_hundred_is_two_round_trips_and_three_requests() {
    let env = Env::new();
    env.config_for_repo(&many(100, None));
    env.apply();
    env.config_for_repo(&many(100, Some(42)));
    let (requests, round_trips) = measured_apply(&env, "unused", &[]);
    assert_eq!((requests, round_trips), (3, 2), "{:#?}", env.requests());
    assert_eq!(env.counts(), (1, 1, 1, 0));
}

#[test]
fn a_no_op_over_several_scopes_is_one_round_trip_and_answered_304_once_warm() {
    let env = Env::new();
    env.config(&format!(
        "[secrets.A]\nvalue = \"a\"\n[variables.V]\nvalue = \"v\"\n\n\
         [[targets]]\nrepos = [\"{REPO}\", \"{OTHER}\"]\n"
    ));
    env.apply();
    // The first no-op lists in full (the writes changed every listing's ETag)...
    let (requests, round_trips) = measured_apply(&env, "unused", &[]);
    assert_eq!(round_trips, 1, "{:#?}", env.requests());
    // ...and keeps the ETags, so the next is answered 304 throughout: the secrets and the
    // variables of both repositories, in one round.
    let (requests_warm, round_trips) = measured_apply(&env, "unused", &[]);
    assert_eq!((requests_warm, round_trips), (requests, 1));
    let statuses: Vec<u16> = env.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [304; 4], "{:#?}", env.requests());
}

#[test]
fn a_first_apply_of_a_hundred_is_two_round_trips_and_never_over_a_hundred_in_flight() {
    let env = Env::new();
    env.config_for_repo(&many(100, None));
    env.sandbox.reset_max_in_flight();
    // The writes are answered once all have arrived: however slowly a loaded machine sends
    // them, none is answered before the last is sent.
    env.sandbox.hold("PUT", "", 100, Duration::from_secs(30));
    let (requests, round_trips) = measured_apply(&env, "unused", &[]);
    assert_eq!((requests, round_trips), (102, 2), "{:#?}", env.counts());
    assert_eq!(env.sandbox.max_in_flight(), 100);
}
