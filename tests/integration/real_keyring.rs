//! `keyring` sources against a REAL Secret Service: gnome-keyring-daemon on a private D-Bus
//! session bus (`dbus-run-session`), with every XDG folder in the temp dir. A value stored with
//! `secret-tool` (libsecret, the reference client) must reach the sandbox unchanged.
//!
//! Needs `dbus-run-session`, `gnome-keyring-daemon` and `secret-tool`; see
//! `.ci/install-real-components`. Without them the tests skip, except under `CI`, where they fail.

use std::time::Duration;

use crate::support::{read_text, require_tools, Env, Output, Run};

const SERVICE: &str = "secretsync-test";
/// The login keyring's own password.
const LOGIN: &str = "keyring-login-pw";
/// Generous: a run takes well under a second; this only stops a hang from hanging the suite.
const TIMEOUT: Duration = Duration::from_secs(20);

const TOOLS: &[(&str, &str)] = &[
    ("dbus-run-session", "dbus-daemon"),
    ("gnome-keyring-daemon", "gnome-keyring"),
    ("secret-tool", "libsecret-tools"),
];

/// The per-user folders, each under `xdg/` in the temp dir.
const XDG: &[(&str, &str)] = &[
    ("XDG_DATA_HOME", "xdg/data"),
    ("XDG_CONFIG_HOME", "xdg/config"),
    ("XDG_CACHE_HOME", "xdg/cache"),
    ("XDG_STATE_HOME", "xdg/state"),
    ("XDG_RUNTIME_DIR", "xdg/runtime"),
];

/// Runs inside `dbus-run-session`: optionally unlock the login keyring, store one value with
/// `secret-tool`, then run the command given as arguments (secretsync), if any, with its output
/// in files. Every input comes from the environment, not the text.
const SESSION_SCRIPT: &str = r#"
set -u
if [ -n "${KEYRING_PASSWORD:-}" ]; then
    unlocked=$(printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets) || exit 90
    eval "$unlocked"
fi
if [ -n "${STORE_FILE:-}" ]; then
    secret-tool store --label=secretsync-test service "$STORE_SERVICE" username "$STORE_USER" \
        <"$STORE_FILE" || exit 91
fi
[ "$#" -gt 0 ] || exit 0
exec "$@" <"${IN_FILE:-/dev/null}" >"$OUT_FILE" 2>"$ERR_FILE"
"#;

/// An `Env` whose temp dir also holds a home folder and every XDG folder (see [`isolated`]), or
/// `None` when `test` is skipped for want of the real components.
fn keyring_env(test: &str) -> Option<Env> {
    if !require_tools(test, TOOLS) {
        return None;
    }
    let env = Env::new();
    std::fs::create_dir(env.path("home")).expect("create home");
    for (_, dir) in XDG {
        std::fs::create_dir_all(env.path(dir)).expect("create xdg dir");
    }
    std::fs::set_permissions(
        env.path("xdg/runtime"),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("chmod runtime dir");
    Some(env)
}

/// `run` with every per-user folder in the temp dir: no D-Bus address, no keyring but the one
/// a session here starts.
fn isolated(env: &Env, run: Run) -> Run {
    XDG.iter().fold(
        run.env("HOME", env.path("home")).env("LANG", "C.UTF-8"),
        |run, (var, dir)| run.env(var, env.path(dir)),
    )
}

/// One `dbus-run-session`: what to do in it.
struct Session<'a> {
    /// Start gnome-keyring-daemon and unlock (or, in a fresh data folder, create) the login
    /// keyring with this password. Without it, the daemon is only started by D-Bus activation,
    /// and an existing login keyring stays locked.
    unlock: Option<&'a str>,
    /// Store (service, user, value) with `secret-tool store` before running secretsync.
    store: Option<(&'a str, &'a str, &'a str)>,
    /// Run secretsync with these arguments last, if any.
    run: Option<&'a [&'a str]>,
    /// What secretsync reads on standard input.
    stdin: Option<&'a str>,
}

/// Run a session; returns what secretsync printed and its exit code (the session's when
/// secretsync is not run). Panics when the keyring setup itself fails.
fn run_session(env: &Env, session: Session) -> Output {
    let launcher = ["dbus-run-session", "--", "sh", "-c", SESSION_SCRIPT, "sh"];
    let mut run = match session.run {
        Some(args) => env.cmd(args).wrap(&launcher),
        None => env.command(launcher[0]).args(&launcher[1..]),
    };
    if let Some(input) = session.stdin {
        env.write("stdin-value", input);
        run = run.env("IN_FILE", env.path("stdin-value"));
    }
    if let Some(password) = session.unlock {
        run = run.env("KEYRING_PASSWORD", password);
    }
    if let Some((service, user, value)) = session.store {
        env.write("stored-value", value);
        run = run
            .env("STORE_FILE", env.path("stored-value"))
            .env("STORE_SERVICE", service)
            .env("STORE_USER", user);
    }
    let (out, err) = (env.path("secretsync.stdout"), env.path("secretsync.stderr"));
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&err);
    let ran =
        isolated(env, run.env("OUT_FILE", &out).env("ERR_FILE", &err)).run_with_timeout(TIMEOUT);
    let setup_failed = match ran.code {
        90 => Some("gnome-keyring-daemon --unlock failed"),
        91 => Some("secret-tool store failed"),
        _ => None,
    };
    if let Some(what) = setup_failed {
        panic!(
            "{what} (exit code {}); session output:\n{}\n{}",
            ran.code, ran.stdout, ran.stderr
        );
    }
    if session.run.is_none() {
        ran.assert_code(0);
    }
    Output {
        code: ran.code,
        stdout: read_text(&out),
        stderr: read_text(&err),
    }
}

/// Unlock a fresh gnome-keyring on a private bus, store `stored` (if any) with secret-tool, and
/// run `secretsync apply --yes` in the same session.
fn apply_in_keyring_session(env: &Env, stored: Option<(&str, &str, &str)>) -> Output {
    run_session(
        env,
        Session {
            unlock: Some(LOGIN),
            store: stored,
            run: Some(&["apply", "--yes"]),
            stdin: None,
        },
    )
}

/// The stderr of a failed run, which must be exactly one line.
#[track_caller]
fn one_line_error(out: &Output) -> &str {
    out.assert_code(1);
    let stderr = out.stderr.trim_end();
    assert_eq!(stderr.lines().count(), 1, "not one line:\n{stderr}");
    stderr
}

#[test]
fn value_stored_with_secret_tool_reaches_github() {
    let Some(env) = keyring_env("value_stored_with_secret_tool_reaches_github") else {
        return;
    };
    env.config_for_repo(&format!(
        "[secrets.ALIYUN_PASSWORD]\nfrom = [{{ env = \"SECRETSYNC_TEST_UNSET_VAR\" }}, \
         {{ keyring = {{ service = \"{SERVICE}\", user = \"aliyun\" }} }}]\n"
    ));
    let value = "kr-Pässwörd ✓ with spaces & 'quotes' $HOME";
    let out = apply_in_keyring_session(&env, Some((SERVICE, "aliyun", value)));
    out.assert_code(0);
    assert_eq!(
        env.plaintext("ALIYUN_PASSWORD").as_deref(),
        Some(value),
        "the sandbox did not receive the value stored in the keyring"
    );
    assert_eq!(env.counts().2, 1, "{:?}", env.requests());
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.contains("kr-Pässwörd"),
            "the value was printed:\n{text}"
        );
    }
}

#[test]
fn absent_keyring_entry_falls_through_to_the_next_source() {
    let Some(env) = keyring_env("absent_keyring_entry_falls_through_to_the_next_source") else {
        return;
    };
    // The keyring holds an entry for another user of the same service, which must not be taken.
    env.config_for_repo(&format!(
        "[secrets.ALIYUN_PASSWORD]\nfrom = [\n  {{ keyring = {{ service = \"{SERVICE}\", user = \"nobody-here\" }} }},\n  {{ value = \"fallback-value\" }},\n]\n\n\
         [secrets.ALIYUN_USERNAME]\nkeyring = {{ service = \"{SERVICE}\", user = \"aliyun\" }}\n"
    ));
    let out = apply_in_keyring_session(&env, Some((SERVICE, "aliyun", "stored-for-aliyun")));
    out.assert_code(0);
    assert_eq!(
        env.plaintext("ALIYUN_PASSWORD").as_deref(),
        Some("fallback-value"),
        "an absent keyring entry did not fall through to `value`"
    );
    assert_eq!(
        env.plaintext("ALIYUN_USERNAME").as_deref(),
        Some("stored-for-aliyun"),
    );
}

#[test]
fn absent_keyring_entry_with_nothing_after_it_is_a_one_line_error() {
    let Some(env) = keyring_env("absent_keyring_entry_with_nothing_after_it_is_a_one_line_error")
    else {
        return;
    };
    env.config_for_repo(&format!(
        "[secrets.ALIYUN_PASSWORD]\nkeyring = {{ service = \"{SERVICE}\", user = \"nobody-here\" }}\n"
    ));
    let out = apply_in_keyring_session(&env, Some((SERVICE, "aliyun", "stored-for-aliyun")));
    let stderr = one_line_error(&out);
    assert!(stderr.contains("`ALIYUN_PASSWORD`"), "{stderr}");
    assert!(stderr.contains("nobody-here"), "{stderr}");
    assert!(!stderr.contains("stored-for-aliyun"), "{stderr}");
    assert_eq!(env.counts().2, 0, "{:?}", env.requests());
}

#[test]
fn without_a_session_bus_a_keyring_source_is_a_one_line_error() {
    let Some(env) = keyring_env("without_a_session_bus_a_keyring_source_is_a_one_line_error")
    else {
        return;
    };
    env.config_for_repo(&format!(
        "[secrets.ALIYUN_PASSWORD]\nfrom = [{{ env = \"SECRETSYNC_TEST_UNSET_VAR\" }}, \
         {{ keyring = {{ service = \"{SERVICE}\", user = \"aliyun\" }} }}]\n"
    ));
    // No DBUS_SESSION_BUS_ADDRESS, and XDG_RUNTIME_DIR is an empty folder: no bus anywhere.
    let out = isolated(&env, env.cmd(&["apply", "--yes"])).run_with_timeout(TIMEOUT);
    let stderr = one_line_error(&out);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("`ALIYUN_PASSWORD`"), "{stderr}");
    assert!(stderr.contains("keyring"), "{stderr}");
    assert_eq!(env.counts().2, 0, "{:?}", env.requests());
    assert_eq!(env.plaintext("ALIYUN_PASSWORD"), None);
}

#[test]
fn a_locked_keyring_is_a_one_line_error_not_a_hang() {
    let Some(env) = keyring_env("a_locked_keyring_is_a_one_line_error_not_a_hang") else {
        return;
    };
    env.config_for_repo(&format!(
        "[secrets.ALIYUN_PASSWORD]\nkeyring = {{ service = \"{SERVICE}\", user = \"aliyun\" }}\n"
    ));
    // First session: create the login keyring and store the value; the keyring stays on disk.
    run_session(
        &env,
        Session {
            unlock: Some(LOGIN),
            store: Some((SERVICE, "aliyun", "locked-away-value")),
            run: None,
            stdin: None,
        },
    );
    assert!(
        env.path("xdg/data/keyrings/login.keyring").is_file(),
        "gnome-keyring did not write its login keyring under XDG_DATA_HOME"
    );
    // Second session, as after a reboot: nobody unlocks it, and there is no display to prompt on.
    let out = run_session(
        &env,
        Session {
            unlock: None,
            store: None,
            run: Some(&["apply", "--yes"]),
            stdin: None,
        },
    );
    let stderr = one_line_error(&out);
    assert!(stderr.contains("`ALIYUN_PASSWORD`"), "{stderr}");
    assert!(stderr.contains("locked"), "{stderr}");
    assert!(!stderr.contains("locked-away-value"), "{stderr}");
    assert_eq!(env.counts().2, 0, "{:?}", env.requests());
}

/// Run secretsync with `args` (and `stdin`) in a session that unlocks the same login keyring.
fn in_session(env: &Env, args: &[&str], stdin: Option<&str>) -> Output {
    run_session(
        env,
        Session {
            unlock: Some(LOGIN),
            store: None,
            run: Some(args),
            stdin,
        },
    )
}

const PASSWORD_RULES: &str = "min_length = 8\nrequire = [\"upper\", \"lower\", \"digit\"]\n";

#[test]
fn set_stores_in_the_keyring_and_apply_reads_it() {
    let Some(env) = keyring_env("set_stores_in_the_keyring_and_apply_reads_it") else {
        return;
    };
    env.config_for_repo(&format!(
        "[secrets.ALIYUN_PASSWORD]\nfrom = [{{ env = \"SECRETSYNC_TEST_UNSET_VAR\" }}, {{ keyring = {{ service = \"{SERVICE}\", user = \"aliyun\" }} }}]\n{PASSWORD_RULES}"
    ));
    // A value that breaks the rules is refused, and nothing is stored.
    let refused = in_session(
        &env,
        &["set", "ALIYUN_PASSWORD", "--stdin"],
        Some("console-password1\n"),
    );
    let stderr = one_line_error(&refused);
    assert!(
        stderr.contains("lacks an upper-case letter") && !stderr.contains("console-password1"),
        "{stderr}"
    );
    let out = in_session(
        &env,
        &["set", "aliyun_password", "--stdin"],
        Some("Fixed-Pass1\n"),
    );
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("stored `ALIYUN_PASSWORD` in the keyring"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("Fixed-Pass1") && !out.stderr.contains("Fixed-Pass1"));
    assert_eq!(env.counts(), (0, 0, 0, 0), "set talks to no GitHub");
    in_session(&env, &["apply", "--yes"], None).assert_code(0);
    assert_eq!(
        env.plaintext("ALIYUN_PASSWORD").as_deref(),
        Some("Fixed-Pass1")
    );
}

#[test]
fn rotate_stores_and_applies_just_that_secret() {
    let Some(env) = keyring_env("rotate_stores_and_applies_just_that_secret") else {
        return;
    };
    env.config_for_repo(&format!(
        "[secrets.ALIYUN_USERNAME]\nvalue = \"acme-account\"\n\
         [secrets.ALIYUN_PASSWORD]\nkeyring = {{ service = \"{SERVICE}\", user = \"aliyun\" }}\n{PASSWORD_RULES}"
    ));
    let first = apply_in_keyring_session(&env, Some((SERVICE, "aliyun", "Old-Pass1")));
    first.assert_code(0);
    // Someone also changed the username on GitHub, a second later: rotate must not touch it.
    env.sandbox.advance_clock(1);
    env.sandbox
        .put_outside(crate::support::REPO, "ALIYUN_USERNAME", b"by hand");
    env.sandbox.clear_requests();
    let out = in_session(
        &env,
        &["rotate", "ALIYUN_PASSWORD", "--stdin", "--yes"],
        Some("Rotated-Pass2"),
    );
    out.assert_code(0);
    assert_eq!(
        env.plaintext("ALIYUN_PASSWORD").as_deref(),
        Some("Rotated-Pass2")
    );
    assert_eq!(
        env.plaintext("ALIYUN_USERNAME").as_deref(),
        Some("by hand"),
        "only the rotated secret"
    );
    assert_eq!(env.counts().2, 1, "exactly one write");
    assert!(!out.stdout.contains("Rotated-Pass2") && !out.stderr.contains("Rotated-Pass2"));
    // The keyring holds the new value: a plain apply now has nothing to say about the password.
    let plan = in_session(&env, &["plan"], None);
    let line = plan
        .stdout
        .lines()
        .find(|l| l.contains("ALIYUN_PASSWORD"))
        .unwrap_or_default()
        .to_string();
    assert!(line.contains("unchanged"), "{}", plan.stdout);
}

#[test]
fn set_state_key_stores_the_team_key_that_apply_then_uses() {
    let Some(env) = keyring_env("set_state_key_stores_the_team_key_that_apply_then_uses") else {
        return;
    };
    env.config_for_repo(&format!(
        "[state]\nstore = \"github\"\nkey = {{ keyring = {{ service = \"{SERVICE}\", user = \"team-key\" }} }}\n\
         [secrets.ALIYUN_USERNAME]\nvalue = \"acme-account\"\n"
    ));
    let team_key = "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed";
    let short = in_session(
        &env,
        &["set", "--state-key", "--stdin"],
        Some("too-short\n"),
    );
    assert!(
        one_line_error(&short).contains("secretsync state new-key"),
        "{}",
        short.stderr
    );
    let out = in_session(
        &env,
        &["set", "--state-key", "--stdin"],
        Some(&format!("{team_key}\n")),
    );
    out.assert_code(0);
    assert!(
        out.stdout.contains("stored `[state] key` in the keyring"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(team_key) && !out.stderr.contains(team_key));
    in_session(&env, &["apply", "--yes"], None).assert_code(0);
    let record = env
        .sandbox
        .variable(
            &secretsync_sandbox::Scope::Repo(crate::support::REPO.into()),
            "SECRETSYNC_STATE",
        )
        .expect("the shared record");
    assert!(
        record.contains("ALIYUN_USERNAME") && !record.contains(team_key),
        "{record}"
    );
}
