//! The fault matrix: what `apply` does under every fault at each of its stages (the listing, the
//! public key, a write), each fault once clearing within the retries and once persisting. (There
//! is no listing after the writes: each answer's `Date` stands for it.) For every case:
//!
//! - a fault that clears within the retries is retried and the run succeeds (exit 0); one that
//!   persists fails the run (exit 1) with an error naming the stage. The exit code says what the
//!   run could confirm, not what landed: exit 0 exactly when every write was answered 201 or 204.
//!   A write carried out whose answer was lost or cut short landed, but nothing the client saw
//!   says so, so the run exits 1 even when every write truly landed (`write/lost-answer/forever`);
//! - the state file records exactly the writes that were confirmed, and every record vouches for
//!   the value GitHub really holds (a record never covers a wrong value);
//! - with the fault gone, a re-run writes exactly what neither is recorded nor landed unconfirmed
//!   (a write that landed is known from its intent, not re-sent), and a third run writes nothing.
//!
//! Every expectation (exit code, names recorded, the re-run's PUTs) follows from the case's
//! fault: its stage, whether the sandbox carries the faulted request out, and whether it persists;
//! never from what the sandbox holds after the run.
//!
//! GitHub starts with a stale `ALIYUN_PASSWORD` set outside secretsync (an update) and none of
//! the other three (creates). The cases run in parallel threads, each with its own sandbox:
//! most of their time is backoff and `--timeout 1`.
//!
//! One rule holds by design and shapes the expectations: a rejected token (401) stops the writes
//! not yet started.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use secretsync_sandbox::{Fault, FaultKind};

use crate::support::{Env, Output, ALIYUN, REPO};

const PASSWORD: &str = "Fault-Matrix-Pass1";
const STALE: &str = "an-old-password";
/// The secret whose write the `Write` stage faults: an update of a stale value.
const VICTIM: &str = "ALIYUN_PASSWORD";
const DECLARED: [(&str, &str); 4] = [
    ("ALIYUN_NAMESPACE", "acme"),
    ("ALIYUN_PASSWORD", PASSWORD),
    (
        "ALIYUN_REGISTRY",
        "crpi-x.cn-hangzhou.personal.cr.aliyuncs.com",
    ),
    ("ALIYUN_USERNAME", "acme-account"),
];
/// A transient fault hits this many attempts, then clears: within the default 3 retries.
const TRANSIENT: u32 = 2;
const FOREVER: u32 = u32::MAX;
/// Longer than the `--timeout 1` every run is given.
const HANG: Duration = Duration::from_secs(3);
/// Cases at once: they mostly sleep.
const WORKERS: usize = 24;

/// The stage of `apply` a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The first `GET .../actions/secrets`, which the plan is made from.
    List,
    /// `GET .../public-key`.
    Key,
    /// `PUT .../actions/secrets/ALIYUN_PASSWORD`, one write among four.
    Write,
    /// Every `PUT`.
    Writes,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::List => "list",
            Stage::Key => "key",
            Stage::Write => "write",
            Stage::Writes => "writes",
        }
    }

    fn fault(self, kind: FaultKind, times: u32) -> Fault {
        let fault = match self {
            Stage::List => Fault::new("GET", "/actions/secrets", kind),
            Stage::Key => Fault::new("GET", "/public-key", kind),
            Stage::Write => Fault::new("PUT", &format!("/{VICTIM}"), kind),
            Stage::Writes => Fault::new("PUT", "", kind),
        };
        fault.times(times)
    }

    /// The secrets whose writes this stage's fault hits.
    fn written(self) -> Vec<String> {
        match self {
            Stage::List | Stage::Key => vec![],
            Stage::Write => vec![VICTIM.to_owned()],
            Stage::Writes => DECLARED.iter().map(|(n, _)| n.to_string()).collect(),
        }
    }

    /// Whether the output names this stage as the one that failed.
    fn named_in(self, text: &str) -> bool {
        let target = format!("on `{REPO}`");
        match self {
            Stage::List => text.contains(&format!("listing secrets {target}")),
            Stage::Key => {
                text.contains(&format!("fetching the public key {target}"))
                    || text.contains(&format!("the public key GitHub gave for `{REPO}`"))
            }
            Stage::Write => failed_line(text, VICTIM),
            // Each write's line says how it went, and some failed.
            Stage::Writes => {
                DECLARED.iter().any(|(name, _)| failed_line(text, name))
                    && DECLARED.iter().all(|(name, _)| {
                        text.lines().any(|l| {
                            l.contains(&format!(" {name} "))
                                && (l.contains("failed:")
                                    || l.ends_with("created")
                                    || l.ends_with("updated")
                                    || l.ends_with("not written"))
                        })
                    })
            }
        }
    }
}

/// The result line of `name` says it failed.
fn failed_line(text: &str, name: &str) -> bool {
    text.lines()
        .any(|l| l.contains(&format!(" {name} ")) && l.contains("failed:"))
}

/// What a run must end in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Exit 0; every secret written, correct and recorded.
    Ok,
    /// Exit 1 naming the stage; `Recorded` says which secrets the state file then vouches for.
    Fail(Recorded),
}

/// Which declared secrets the state file holds after the faulted run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recorded {
    None,
    AllBut(&'static str),
    Only(&'static str),
    /// One secret, whichever of the writes in flight together the sandbox let through first.
    AnyOne,
}

/// How a case sets up its fault.
#[derive(Clone)]
enum Inject {
    Fault(Fault),
    /// The public key GitHub serves is this raw JSON.
    Key(&'static str),
}

#[derive(Clone)]
struct Case {
    id: String,
    stage: Stage,
    inject: Inject,
    want: Want,
    /// Extra arguments for the faulted run.
    args: &'static [&'static str],
    /// PUTs the faulted run must send, when that is part of the point.
    puts: Option<usize>,
    /// Hold the answers to the writes until all four are in flight, so that `puts` does not
    /// depend on how fast the first answers come back.
    hold_writes: bool,
    /// Text the faulted run's output must contain.
    says: Option<&'static str>,
    /// The faulted requests are carried out though their answer fails (the write lands).
    lands: bool,
}

/// Whether the sandbox carries out a request this fault hits before the answer goes wrong.
fn carried_out(kind: &FaultKind) -> bool {
    matches!(kind, FaultKind::LostAnswer | FaultKind::TruncatedJson)
}

fn case(stage: Stage, fault: &str, kind: FaultKind, times: u32, want: Want) -> Case {
    let tries = match times {
        FOREVER => "forever".to_owned(),
        n => format!("x{n}"),
    };
    Case {
        id: format!("{}/{fault}/{tries}", stage.name()),
        stage,
        lands: carried_out(&kind),
        inject: Inject::Fault(stage.fault(kind, times)),
        want,
        args: &[],
        puts: None,
        hold_writes: false,
        says: None,
    }
}

fn status(code: u16, message: &str) -> FaultKind {
    FaultKind::Status(code, message.to_owned())
}

/// The faults every stage meets.
fn faults() -> Vec<(&'static str, FaultKind)> {
    vec![
        ("500", status(500, "Internal Server Error")),
        ("502", status(502, "Server Error")),
        ("503", status(503, "Service Unavailable")),
        ("reset", FaultKind::Reset),
        ("hang", FaultKind::Hang(HANG)),
        ("truncated-json", FaultKind::TruncatedJson),
        ("wrong-content-type", FaultKind::WrongContentType),
        ("html-error-page", FaultKind::HtmlErrorPage(502)),
        ("lost-answer", FaultKind::LostAnswer),
        ("trickled-answer", FaultKind::Trickle),
        ("endless-answer", FaultKind::EndlessBody),
    ]
}

/// What each stage ends in when a fault persists. A persistent fault on the listing or the key
/// stops the target before any write; on one write, the three others land and are recorded (a
/// write answered 200 with half a JSON body is not GitHub's answer, 201 or 204, so it fails like
/// the others).
fn persistent(stage: Stage, _fault: &str) -> Want {
    match stage {
        Stage::List | Stage::Key | Stage::Writes => Want::Fail(Recorded::None),
        Stage::Write => Want::Fail(Recorded::AllBut(VICTIM)),
    }
}

/// The whole matrix: every stage × fault, transient and persistent, then the single cases.
fn matrix() -> Vec<Case> {
    let mut cases = Vec::new();
    for stage in [Stage::List, Stage::Key, Stage::Write] {
        for (fault, kind) in faults() {
            cases.push(case(stage, fault, kind.clone(), TRANSIENT, Want::Ok));
            cases.push(case(stage, fault, kind, FOREVER, persistent(stage, fault)));
        }
    }
    // Every write at once: two faulted attempts spread over four writes all clear.
    for (fault, kind) in [
        ("502", status(502, "Server Error")),
        ("reset", FaultKind::Reset),
        ("lost-answer", FaultKind::LostAnswer),
    ] {
        cases.push(case(
            Stage::Writes,
            fault,
            kind.clone(),
            TRANSIENT,
            Want::Ok,
        ));
        cases.push(case(
            Stage::Writes,
            fault,
            kind,
            FOREVER,
            persistent(Stage::Writes, fault),
        ));
    }
    // A public key that is not 32 bytes: nothing can be sealed, nothing is sent.
    cases.push(Case {
        id: "key/16-byte-key/forever".to_owned(),
        stage: Stage::Key,
        inject: Inject::Key(r#"{"key_id":"k1","key":"AAAAAAAAAAAAAAAAAAAAAA=="}"#),
        want: Want::Fail(Recorded::None),
        args: &[],
        puts: Some(0),
        hold_writes: false,
        says: Some("32"),
        lands: false,
    });
    // GitHub "later rejects" the key_id: 4xx is final, never retried.
    let bad_key_id = || status(422, "Bad key_id");
    cases.push(Case {
        puts: Some(4),
        says: Some("422 Bad key_id"),
        ..case(
            Stage::Writes,
            "422-bad-key-id",
            bad_key_id(),
            FOREVER,
            Want::Fail(Recorded::None),
        )
    });
    cases.push(Case {
        puts: Some(4),
        says: Some("422 Bad key_id"),
        ..case(
            Stage::Write,
            "422-bad-key-id",
            bad_key_id(),
            1,
            Want::Fail(Recorded::AllBut(VICTIM)),
        )
    });
    // The token is revoked after the first write: the second is refused (the revoking request
    // is answered 401, not carried out), no further write is sent, and the first write, in
    // name order, is recorded at its answer's time.
    cases.push(Case {
        id: "writes/401-after-first-write/forever".to_owned(),
        stage: Stage::Writes,
        inject: Inject::Fault(Fault::new("PUT", "", FaultKind::RevokeToken).skip(1)),
        want: Want::Fail(Recorded::Only("ALIYUN_NAMESPACE")),
        args: &["--concurrency", "1"],
        puts: Some(2),
        hold_writes: false,
        says: Some("rejected the token (401"),
        lands: false,
    });
    // The same at the default concurrency: the four writes are in flight together (the sandbox
    // holds their answers until all four have arrived, whatever the machine's load), so each is
    // answered (one created, three refused); none is left to stop.
    cases.push(Case {
        hold_writes: true,
        id: "writes/401-after-first-write-concurrent/forever".to_owned(),
        stage: Stage::Writes,
        inject: Inject::Fault(Fault::new("PUT", "", FaultKind::RevokeToken).skip(1)),
        want: Want::Fail(Recorded::AnyOne),
        args: &[],
        puts: Some(4),
        says: Some("rejected the token (401"),
        lands: false,
    });
    // A secondary rate limit on one write: waited out (retry-after), then it succeeds.
    cases.push(Case {
        says: Some("secondary rate limit"),
        ..case(
            Stage::Write,
            "429-retry-after",
            FaultKind::RateLimit { retry_after: 1 },
            1,
            Want::Ok,
        )
    });
    cases
}

#[test]
fn fault_matrix() {
    run_all(matrix());
}

#[test]
fn the_matrix_covers_every_stage_and_fault() {
    let ids: BTreeSet<String> = matrix().into_iter().map(|c| c.id).collect();
    for stage in ["list", "key", "write"] {
        for (fault, _) in faults() {
            for tries in ["x2", "forever"] {
                let id = format!("{stage}/{fault}/{tries}");
                assert!(ids.contains(&id), "no case {id}");
            }
        }
    }
}

/// Runs the cases on a few threads and reports every failure at once.
fn run_all(cases: Vec<Case>) {
    let started = Instant::now();
    let queue = Mutex::new(cases);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| loop {
                let Some(case) = queue.lock().unwrap().pop() else {
                    return;
                };
                let id = case.id.clone();
                let outcome = std::panic::catch_unwind(|| run_case(&case));
                if let Err(panic) = outcome {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.lock().unwrap().push(format!("{id}: {message}"));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} case(s) failed (in {:?}):\n\n{}",
        failures.len(),
        started.elapsed(),
        failures.join("\n\n")
    );
}

fn apply(env: &Env, extra: &[&str]) -> Output {
    let mut args = vec!["apply", "--yes", "--timeout", "1"];
    args.extend_from_slice(extra);
    env.cmd(&args).env("ALIYUN_PASSWORD", PASSWORD).run()
}

fn puts(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = env
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .filter_map(|r| r.path.rsplit('/').next().map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// Names the state file vouches for; each must hold the declared value on GitHub.
fn recorded(env: &Env, id: &str) -> BTreeSet<String> {
    // The repository's file is the one that says it is (whatever the folder layout).
    let Some(state) = env
        .state_files()
        .into_iter()
        .filter_map(|(_, bytes)| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .find(|state| state["repo"] == REPO)
    else {
        return BTreeSet::new();
    };
    let names: BTreeSet<String> = state["secrets"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    for name in &names {
        let declared = DECLARED.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
        assert_eq!(
            env.plaintext(name).as_deref(),
            declared,
            "{id}: the state vouches for `{name}`, which GitHub holds with another value"
        );
    }
    names
}

fn all_correct(env: &Env, id: &str) {
    for (name, value) in DECLARED {
        assert_eq!(
            env.plaintext(name).as_deref(),
            Some(value),
            "{id}: `{name}` on GitHub"
        );
    }
}

fn run_case(case: &Case) {
    let id = case.id.as_str();
    let env = Env::new();
    env.config(ALIYUN);
    env.sandbox.put_outside(REPO, VICTIM, STALE.as_bytes());
    // Our writes land in a later second, so a lost answer's write is told from the stale one.
    env.sandbox.advance_clock(1);
    if case.hold_writes {
        env.sandbox
            .hold("PUT", "", DECLARED.len(), Duration::from_secs(30));
    }
    match &case.inject {
        Inject::Fault(fault) => env.sandbox.inject_fault(fault.clone()),
        Inject::Key(json) => env.sandbox.override_public_key(Some((*json).to_owned())),
    }

    // The faulted run.
    let started = Instant::now();
    let out = apply(&env, case.args);
    let text = format!("{}\n{}", out.stdout, out.stderr);
    let context = format!("\n--- stdout\n{}\n--- stderr\n{}", out.stdout, out.stderr);
    assert!(!text.contains(PASSWORD), "{id}: the value leaked");
    assert!(!text.contains("panicked"), "{id}: a panic{context}");
    if let Some(says) = case.says {
        assert!(text.contains(says), "{id}: does not say {says:?}{context}");
    }
    if let Some(n) = case.puts {
        assert_eq!(puts(&env).len(), n, "{id}: PUTs sent{context}");
    }
    let all: BTreeSet<String> = DECLARED.iter().map(|(n, _)| n.to_string()).collect();
    let recorded_now = recorded(&env, id);
    match case.want {
        Want::Ok => {
            assert_eq!(out.code, 0, "{id}: exit code{context}");
            all_correct(&env, id);
            assert_eq!(recorded_now, all, "{id}: every write recorded{context}");
        }
        Want::Fail(expected) => {
            assert_eq!(out.code, 1, "{id}: exit code{context}");
            assert!(
                case.stage.named_in(&text),
                "{id}: the error does not name the stage ({:?}){context}",
                case.stage
            );
            let want: BTreeSet<String> = match expected {
                Recorded::None => BTreeSet::new(),
                Recorded::AllBut(name) => all.iter().filter(|n| *n != name).cloned().collect(),
                Recorded::Only(name) => [name.to_owned()].into(),
                Recorded::AnyOne if recorded_now.len() == 1 => recorded_now.clone(),
                Recorded::AnyOne => BTreeSet::from(["(any one)".to_owned()]),
            };
            assert_eq!(recorded_now, want, "{id}: what the state records{context}");
        }
    }

    // The observed behaviour, for `cargo test faults -- --nocapture`.
    let (lists, keys, put_count, _) = env.counts();
    let error = text
        .lines()
        .find(|l| l.contains("failed:") || l.trim_start().starts_with('!'))
        .unwrap_or("")
        .trim();
    println!(
        "{id:<44} exit {} lists {lists} keys {keys} puts {put_count} recorded {} in {:.1?} | {error}",
        out.code,
        recorded_now.len(),
        started.elapsed()
    );

    // With the fault gone a re-run writes exactly what is not recorded, and is then recorded.
    // A write that landed though its answer failed is known from its intent, not re-sent.
    let landed = match case.want {
        Want::Ok => all.clone(),
        Want::Fail(_) if case.lands => case.stage.written().into_iter().collect(),
        Want::Fail(_) => BTreeSet::new(),
    };
    let unrecorded: Vec<String> = all
        .difference(&recorded_now)
        .filter(|n| !landed.contains(*n))
        .cloned()
        .collect();
    env.sandbox.clear_faults();
    env.sandbox.override_public_key(None);
    env.sandbox.clear_requests();
    let rerun = apply(&env, &[]);
    rerun.assert_code(0);
    assert_eq!(puts(&env), unrecorded, "{id}: the re-run's writes");
    all_correct(&env, id);
    assert_eq!(recorded(&env, id), all, "{id}: recorded after the re-run");

    // Then nothing is left to do: one listing, no key, no write.
    env.sandbox.clear_requests();
    apply(&env, &[]).assert_code(0);
    assert_eq!(env.counts(), (1, 0, 0, 0), "{id}: the third run");
}
