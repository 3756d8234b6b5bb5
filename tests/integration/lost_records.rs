//! Writes that reached GitHub but were not recorded (the record failed, the process was killed)
//! are told in the report and never come back as someone else's drift; a write that cannot be
//! announced in the state is not sent. Also the state's own files: a key open to others is
//! refused, a state file open to others is warned about.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use secretsync_sandbox::{Fault, FaultKind};

use crate::support::{finish, wait_until, Env, REPO};

fn body(count: usize, prefix: &str) -> String {
    let mut body = String::new();
    for i in 0..count {
        body.push_str(&format!("[secrets.S{i:02}]\nvalue = \"{prefix}{i}\"\n"));
    }
    body.push_str(&format!("[[targets]]\nrepo = \"{REPO}\"\n"));
    body
}

fn state_file(env: &Env) -> PathBuf {
    let host = env.sandbox.api_url().replace("http://", "");
    env.state_dir().join(host).join(REPO).join("actions.json")
}

/// Put a folder where the state file is (which fails a write even for root), keeping the file.
fn break_state(env: &Env) {
    let file = state_file(env);
    std::fs::rename(&file, file.with_extension("saved")).expect("move the state away");
    std::fs::create_dir(&file).expect("a folder in its place");
}

fn mend_state(env: &Env) {
    let file = state_file(env);
    std::fs::remove_dir(&file).expect("remove the folder");
    std::fs::rename(file.with_extension("saved"), &file).expect("move the state back");
}

/// `plan --json`: each change's reason code.
fn reason_codes(env: &Env) -> Vec<String> {
    let out = env.cmd(&["plan", "--json"]).run();
    out.assert_code(0);
    let doc: serde_json::Value = out.json();
    doc["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .flat_map(|t| t["changes"].as_array().cloned().unwrap_or_default())
        .map(|c| c["reason_code"].as_str().unwrap_or("").to_string())
        .collect()
}

fn count(codes: &[String], code: &str) -> usize {
    codes.iter().filter(|c| *c == code).count()
}

/// The writes are held in flight (they land after 4 s); meanwhile the state becomes unwritable,
/// so their record fails.
fn record_fails_after_the_writes(json: bool) {
    const COUNT: usize = 4;
    let env = Env::new();
    env.config(&body(COUNT, "v"));
    env.apply();
    // The next writes land in a later second than this apply's record.
    env.sandbox.advance_clock(1);
    env.config(&body(COUNT, "w"));
    // One more than will ever come: all are held for the whole 4 s.
    env.sandbox
        .hold("PUT", "", COUNT + 1, Duration::from_secs(4));
    env.sandbox.clear_requests();
    let mut args = vec!["apply", "--yes", "--retries", "0"];
    if json {
        args.push("--json");
    }
    let mut child = env.cmd(&args).spawn();
    wait_until("the writes in flight", &mut child, || {
        env.sandbox.arrived("PUT", "") == COUNT
    });
    break_state(&env);
    let out = finish(child);
    out.assert_code(1);
    assert_eq!(env.counts().2, COUNT, "every write was sent");
    let report = match json {
        true => {
            let doc: serde_json::Value = out.json();
            doc["targets"][0]["error"]["message"]
                .as_str()
                .expect("the target's error")
                .to_string()
        }
        // The text report marks the target failed and names each write made; its error is
        // told once, on stderr, after the report.
        false => {
            assert!(out.stdout.contains("~ S00  updated"), "{}", out.stdout);
            out.stderr.clone()
        }
    };
    assert!(
        report.contains("4 write(s) reached GitHub but could not be recorded"),
        "{report}\n--- stderr\n{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);

    mend_state(&env);
    env.sandbox.clear_faults();
    let codes = reason_codes(&env);
    assert_eq!(count(&codes, "same"), COUNT, "{codes:?}");
    env.sandbox.clear_requests();
    env.apply();
    assert_eq!(env.counts().2, 0, "the re-run re-sent");
    let text = std::fs::read_to_string(state_file(&env)).expect("state");
    assert!(!text.contains("intents"), "{text}");
}

#[test]
fn a_failed_record_is_reported_and_not_drift_later() {
    record_fails_after_the_writes(false);
}

#[test]
fn a_failed_record_is_reported_in_json_too() {
    record_fails_after_the_writes(true);
}

/// The state becomes unusable after the plan, while the public key is being fetched (GitHub
/// asks for a 2-second wait): the intents cannot be written, so no value is sent.
#[test]
fn nothing_is_sent_when_the_writes_cannot_be_announced() {
    let env = Env::new();
    env.config(&body(2, "v"));
    env.apply();
    env.config(&body(2, "w"));
    env.sandbox.inject_fault(
        Fault::new(
            "GET",
            "/public-key",
            FaultKind::RateLimit { retry_after: 2 },
        )
        .times(1),
    );
    env.sandbox.clear_requests();
    let mut child = env.cmd(&["apply", "--yes"]).spawn();
    wait_until("the public key's first answer", &mut child, || {
        env.requests()
            .iter()
            .any(|r| r.path.ends_with("/public-key"))
    });
    break_state(&env);
    let out = finish(child);
    out.assert_code(1);
    assert_eq!(env.counts().2, 0, "a write was sent");
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(
        line.contains("nothing was sent to `acme/shop`"),
        "{}",
        out.stderr
    );
    assert!(line.contains("actions.json"), "names the file: {line}");
    assert!(
        !out.stdout.contains("updated") && out.stdout.contains("! failed"),
        "the report shows the target failed with nothing written: {}",
        out.stdout
    );
    mend_state(&env);
    env.apply();
    assert_eq!(env.plaintext("S00").as_deref(), Some("w0"));
}

/// Killed (no chance to record) after three writes landed, the fourth held by GitHub.
#[test]
fn sigkill_after_writes_landed_is_not_drift_and_a_rerun_converges() {
    const COUNT: usize = 12;
    let env = Env::new();
    env.config(&body(COUNT, "v"));
    env.apply();
    // The next writes land in a later second than this apply's record.
    env.sandbox.advance_clock(1);
    env.config(&body(COUNT, "w"));
    env.sandbox
        .inject_fault(Fault::new("PUT", "", FaultKind::Hang(Duration::from_secs(10))).skip(3));
    env.sandbox.clear_requests();
    let mut child = env
        .cmd(&["apply", "--yes", "--concurrency", "1"])
        .spawn_quiet();
    wait_until("the fourth write", &mut child, || env.counts().2 == 4);
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("kill");
    let _ = child.wait();
    let landed = (0..COUNT)
        .filter(|i| env.plaintext(&format!("S{i:02}")) == Some(format!("w{i}")))
        .count();
    assert_eq!(landed, 3);

    let codes = reason_codes(&env);
    assert_eq!(count(&codes, "drift"), 0, "{codes:?}");
    assert_eq!(count(&codes, "same"), 3, "{codes:?}");
    assert_eq!(count(&codes, "value_changed"), COUNT - 3, "{codes:?}");

    env.sandbox.clear_faults();
    env.sandbox.clear_requests();
    env.apply();
    assert_eq!(env.counts().2, COUNT - 3, "the re-run's writes");
    env.sandbox.clear_requests();
    env.apply();
    assert_eq!(env.counts().2, 0, "the third run wrote");
}

#[test]
fn a_key_open_to_others_is_refused_with_the_fix() {
    let env = Env::new();
    env.config(&body(1, "v"));
    env.apply();
    let key = env.state_dir().join("key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    env.sandbox.clear_requests();
    for command in [&["plan"][..], &["apply", "--yes"]] {
        let out = env.cmd(command).run();
        out.assert_code(1);
        let fix = format!("run `chmod 600 {}`", key.display());
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains(&fix), "{}", out.stderr);
    }
    assert!(env.requests().is_empty(), "asked GitHub");
}

#[test]
fn a_state_file_open_to_others_is_warned_about() {
    let env = Env::new();
    env.config(&body(1, "v"));
    env.apply();
    let file = state_file(&env);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = env.cmd(&["plan"]).run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("warning: state file")
            && out
                .stderr
                .contains(&format!("chmod 600 {}", file.display())),
        "{}",
        out.stderr
    );
}

#[test]
fn a_lock_file_that_is_a_link_is_refused_and_not_followed() {
    let env = Env::new();
    env.config(&body(1, "v"));
    env.apply();
    env.config(&body(1, "w"));
    let lock = state_file(&env).with_extension("json.lock");
    let target = env.path("elsewhere");
    std::fs::remove_file(&lock).expect("remove the lock file");
    std::os::unix::fs::symlink(&target, &lock).expect("symlink");
    env.sandbox.clear_requests();
    let out = env.cmd(&["apply", "--yes"]).run();
    out.assert_code(1);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("is a symbolic link")
            && out.stderr.contains(&format!("rm {}", lock.display())),
        "{}",
        out.stderr
    );
    assert!(!target.exists(), "the link was followed");
    assert_eq!(env.counts().2, 0, "a write was sent");
}
