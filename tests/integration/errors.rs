//! Bad input: each case gets a clear one-line message, exit 1, no write to GitHub, and no change
//! to the state left by an earlier good apply.

use crate::support::{Env, ALIYUN, REPO};

struct Case {
    name: &'static str,
    /// Config body after the `[github]` table; `None` keeps the good ALIYUN config.
    config: Option<&'static str>,
    env: &'static [(&'static str, &'static str)],
    setup: fn(&Env),
    expect: &'static [&'static str],
    /// Only `apply` meets this problem (`plan` never fetches the public key).
    apply_only: bool,
}

fn nothing(_: &Env) {}

const GOOD_ENV: &[(&str, &str)] = &[("ALIYUN_PASSWORD", "Pass-word1")];

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "malformed TOML",
            config: Some("[secrets.A\nvalue = \"x\"\n"),
            env: GOOD_ENV,
            setup: nothing,
            apply_only: false,
            expect: &["secretsync.toml:4:"],
        },
        Case {
            name: "unknown key",
            config: Some("[secrets.A]\nvalue = \"x\"\nallow_emtpy = true\n[[targets]]\nrepo = \"acme/shop\"\n"),
            env: GOOD_ENV,
            setup: nothing,
            apply_only: false,
            expect: &["secretsync.toml:6:", "unknown key `allow_emtpy`", "did you mean `allow_empty`"],
        },
        Case {
            name: "invalid name",
            config: Some("[secrets.1PASSWORD]\nvalue = \"x\"\n[[targets]]\nrepo = \"acme/shop\"\n"),
            env: GOOD_ENV,
            setup: nothing,
            apply_only: false,
            expect: &["secretsync.toml:4:", "`1PASSWORD` starts with a digit"],
        },
        Case {
            name: "duplicate names",
            config: Some("[secrets.pw]\nvalue = \"x\"\n[secrets.PW]\nvalue = \"y\"\n[[targets]]\nrepo = \"acme/shop\"\n"),
            env: GOOD_ENV,
            setup: nothing,
            apply_only: false,
            expect: &["ignore case"],
        },
        Case {
            name: "missing env var",
            config: None,
            env: &[],
            setup: nothing,
            apply_only: false,
            expect: &["ALIYUN_PASSWORD"],
        },
        Case {
            name: "empty value",
            config: None,
            env: &[("ALIYUN_PASSWORD", "")],
            setup: nothing,
            apply_only: false,
            expect: &["`ALIYUN_PASSWORD` is empty", "allow_empty"],
        },
        Case {
            name: "oversized value",
            config: Some("[secrets.BIG]\nfile = \"big.txt\"\n[[targets]]\nrepo = \"acme/shop\"\n"),
            env: GOOD_ENV,
            setup: |env| env.write("big.txt", &"b".repeat(49_153)),
            apply_only: false,
            expect: &["`BIG` is 49153 bytes", "limit of 49152"],
        },
        Case {
            name: "bad token",
            config: None,
            env: &[("ALIYUN_PASSWORD", "Pass-word1"), ("GH_TOKEN", "wrong-token")],
            setup: nothing,
            apply_only: false,
            expect: &["rejected the token (401", "GH_TOKEN"],
        },
        Case {
            name: "unknown repo",
            config: Some("[secrets.A]\nvalue = \"x\"\n[[targets]]\nrepo = \"acme/nope\"\n"),
            env: GOOD_ENV,
            setup: nothing,
            apply_only: false,
            expect: &["`acme/nope` was not found (404)", "cannot see it"],
        },
        Case {
            name: "malformed public key",
            config: None,
            env: &[("ALIYUN_PASSWORD", "Pass-word2")],
            setup: |env| env.sandbox.override_public_key(Some(r#"{"key_id":"k1","key":"AAAA"}"#.into())),
            apply_only: true,
            expect: &["public key", "3 bytes, not the 32"],
        },
        Case {
            name: "server 500 on listing",
            config: None,
            env: GOOD_ENV,
            setup: |env| env.sandbox.inject_list_failure(REPO, 500, "Internal trouble"),
            apply_only: false,
            expect: &["500 Internal trouble", "listing secrets"],
        },
        Case {
            name: "token without the Secrets permission",
            config: None,
            env: &[("ALIYUN_PASSWORD", "Pass-word1"), ("GH_TOKEN", "read-only-token")],
            setup: |env| env.sandbox.add_token("read-only-token", secretsync_sandbox::TokenAccess::NoSecrets),
            apply_only: false,
            expect: &["403", "Secrets permission"],
        },
    ]
}

#[test]
fn bad_input_catalogue() {
    for case in cases() {
        let env = Env::new();
        // A good apply first, so there is state that must survive the bad run untouched.
        env.config(ALIYUN);
        env.apply_with_password("Pass-word1").assert_code(0);
        let state_before = env.state_files();
        let names_before = env.sandbox.names(REPO);
        if let Some(body) = case.config {
            env.config(body);
        }
        (case.setup)(&env);
        env.sandbox.clear_requests();
        let commands: &[&[&str]] = if case.apply_only {
            &[&["apply", "--yes"]]
        } else {
            &[&["plan"], &["apply", "--yes"]]
        };
        for command in commands {
            // Bad input is not worth retrying; retries have their own tests.
            let mut run = env
                .cmd(command)
                .arg("--retries=0")
                .env_remove("ALIYUN_PASSWORD");
            for (k, v) in case.env {
                run = run.env(k, v);
            }
            let out = run.run();
            assert_eq!(
                out.code, 1,
                "{}: {command:?} exit code; stderr: {}",
                case.name, out.stderr
            );
            let error_lines: Vec<&str> = out
                .stderr
                .lines()
                .filter(|l| l.starts_with("error: "))
                .collect();
            let shown = format!("{}{}", out.stdout, out.stderr);
            for needle in case.expect {
                assert!(
                    shown.contains(needle),
                    "{}: {command:?}: missing `{needle}` in:\n{shown}",
                    case.name
                );
            }
            assert!(
                !error_lines.is_empty() || out.stdout.contains('!'),
                "{}: no error line:\n{shown}",
                case.name
            );
            for line in &error_lines {
                assert!(
                    line.len() < 400,
                    "{}: error is not one short line: {line}",
                    case.name
                );
            }
        }
        let writes = env.requests().iter().filter(|r| r.method != "GET").count();
        assert_eq!(writes, 0, "{}: nothing is written", case.name);
        assert_eq!(
            env.state_files(),
            state_before,
            "{}: state is untouched",
            case.name
        );
        assert_eq!(env.sandbox.names(REPO), names_before, "{}", case.name);
    }
}

#[test]
fn config_problems_are_found_before_any_request() {
    let env = Env::new();
    env.config("[secrets.GITHUB_TOKEN]\nvalue = \"x\"\n[[targets]]\nrepo = \"acme/shop\"\nsecrets = [\"NOPE*\"]\n");
    let out = env.cmd(&["plan"]).run();
    out.assert_code(1);
    assert!(out.stderr.contains("reserves"), "{}", out.stderr);
    assert!(env.requests().is_empty());
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let env = Env::new();
    env.write(
        "secretsync.toml",
        "[github]\napi_url = \"http://github.example.com\"\n[secrets.A]\nvalue = \"x\"\n[[targets]]\nrepo = \"acme/shop\"\n",
    );
    let out = env.cmd(&["plan"]).run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("secretsync.toml:2:") && out.stderr.contains("plain http"),
        "{}",
        out.stderr
    );
}

#[test]
fn missing_config_and_missing_token() {
    let env = Env::new();
    let out = env.cmd(&["plan"]).run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("no config file at") && out.stderr.contains("--config"),
        "{}",
        out.stderr
    );

    env.config(ALIYUN);
    let out = env
        .cmd(&["plan"])
        .env_remove("GH_TOKEN")
        .env("PATH", "/nonexistent")
        .env("ALIYUN_PASSWORD", "p")
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("GH_TOKEN"), "{}", out.stderr);
    assert!(env.requests().is_empty());
}

#[test]
fn failing_command_source_shows_its_stderr() {
    let env = Env::new();
    env.config("[secrets.A]\ncommand = [\"sh\", \"-c\", \"echo vault is sealed >&2; exit 3\"]\n[[targets]]\nrepo = \"acme/shop\"\n");
    let out = env.cmd(&["plan"]).run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("`A`") && out.stderr.contains("vault is sealed"),
        "{}",
        out.stderr
    );
}
