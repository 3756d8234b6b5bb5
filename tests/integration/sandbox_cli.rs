//! `secretsync sandbox` as a user runs it: it prints its api_url, and plan/apply work against it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::Env;

/// Kills the sandbox process when the test ends, pass or fail.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sandbox_command_serves_what_apply_writes() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_secretsync"))
            .args(["sandbox", "--addr", "127.0.0.1:0", "--fail", "BROKEN=503"])
            .env_remove("SECRETSYNC_SANDBOX_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the sandbox starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("a first line");
    let api_url = first
        .trim()
        .strip_prefix("api_url = \"")
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("first line names the api_url: {first}"))
        .to_string();
    assert!(api_url.starts_with("http://127.0.0.1:"), "{api_url}");

    let env = Env::new();
    env.write(
        "secretsync.toml",
        &format!(
            "[github]\napi_url = \"{api_url}\"\n[secrets.GOOD]\nvalue = \"g\"\n[secrets.BROKEN]\nvalue = \"b\"\n[[targets]]\nrepo = \"me/rehearsal\"\n"
        ),
    );
    let out = env
        .cmd(&["apply", "--yes"])
        .env("GH_TOKEN", "sandbox-token")
        .run();
    out.assert_code(1);
    assert!(
        out.stdout.contains("GOOD") && out.stdout.contains("created"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("failed: 503 injected by --fail"),
        "{}",
        out.stdout
    );
    let plan = env.cmd(&["plan"]).env("GH_TOKEN", "sandbox-token").run();
    assert!(plan.stdout.contains("= GOOD"), "{}", plan.stdout);
    assert!(plan.stdout.contains("+ BROKEN"), "{}", plan.stdout);
    let wrong = env
        .cmd(&["plan"])
        .env("GH_TOKEN", "not-the-sandbox-token")
        .run();
    wrong.assert_code(1);
}

#[test]
fn sandbox_refuses_a_non_loopback_address() {
    let env = Env::new();
    let out = env.cmd(&["sandbox", "--addr", "0.0.0.0:0"]).run();
    out.assert_code(1);
    assert!(out.stderr.contains("loopback only"), "{}", out.stderr);
}

#[test]
fn very_verbose_logs_each_request_without_values() {
    let env = Env::new();
    env.config(crate::support::ALIYUN);
    let out = env
        .cmd(&["-vv", "apply", "--yes"])
        .env("ALIYUN_PASSWORD", "Pass-word1")
        .run();
    out.assert_code(0);
    let requests: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("github request"))
        .collect();
    // list and public key, four writes
    assert_eq!(requests.len(), 6, "{}", out.stderr);
    assert!(requests
        .iter()
        .any(|l| l.contains("PUT") && l.contains("status=201") && l.contains("elapsed_ms=")));
    assert!(
        out.stderr.contains("fetched the public key"),
        "{}",
        out.stderr
    );
    let quiet = env.apply_with_password("Pass-word1");
    assert!(
        quiet.stderr.is_empty(),
        "no diagnostics without -v: {}",
        quiet.stderr
    );
}
