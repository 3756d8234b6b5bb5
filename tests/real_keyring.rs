//! `keyring` sources against a REAL Secret Service: gnome-keyring-daemon on a private D-Bus
//! session bus (`dbus-run-session`), with every XDG folder in a temp dir. A value stored with
//! `secret-tool` (libsecret, the reference client) must reach the sandbox unchanged.
//!
//! Needs `dbus-run-session`, `gnome-keyring-daemon` and `secret-tool`; see
//! `.ci/install-real-components`. Without them the tests skip, except under `CI`, where they fail.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use secretsync::sandbox::{Sandbox, SandboxConfig};

const REPO: &str = "acme/shop";
const SERVICE: &str = "secretsync-test";
/// Generous: a run takes well under a second; this only stops a hang from hanging the suite.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Runs inside `dbus-run-session`: optionally unlock the login keyring, store one value with
/// `secret-tool`, and run secretsync. Every input comes from the environment, not the text.
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
[ -n "${SECRETSYNC:-}" ] || exit 0
exec "$SECRETSYNC" --config "$CONFIG" --state-dir "$STATE_DIR" apply --yes \
    >"$OUT_FILE" 2>"$ERR_FILE"
"#;

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            let candidate = dir.join(program);
            candidate.metadata().is_ok_and(|m| {
                m.is_file()
                    && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
            })
        })
    })
}

/// Whether the real components are here. Under `CI` a missing one is a failure, not a skip.
fn components_present(test: &str) -> bool {
    let missing: Vec<&str> = ["dbus-run-session", "gnome-keyring-daemon", "secret-tool"]
        .into_iter()
        .filter(|program| !on_path(program))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let what = format!(
        "{} (Debian packages dbus-daemon, gnome-keyring, libsecret-tools)",
        missing.join(", ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("{test}: missing {what}; install them with .ci/install-real-components");
    }
    // Straight to stderr, in one write: the test harness captures `eprintln!`, and a skip must
    // be seen.
    let line = format!("{test}: skipped: install {what} (see .ci/install-real-components)\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    false
}

/// A temp folder laid out as a user's home, with the secretsync files beside it.
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in [
            "home",
            "data",
            "config",
            "cache",
            "state",
            "runtime",
            "secretsync-state",
        ] {
            std::fs::create_dir(dir.path().join(sub)).expect("create dir");
        }
        std::fs::set_permissions(
            dir.path().join("runtime"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .expect("chmod runtime dir");
        World { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write_config(&self, sandbox: &Sandbox, secrets: &str) -> PathBuf {
        let text = format!(
            "[github]\napi_url = \"{}\"\n\n{secrets}\n[[targets]]\nrepo = \"{REPO}\"\n",
            sandbox.api_url()
        );
        let path = self.path("secretsync.toml");
        std::fs::write(&path, text).expect("write config");
        path
    }

    /// A command with nothing from the test's own environment but PATH, and every per-user
    /// folder in the temp dir; no D-Bus address, no GitHub token but the sandbox's.
    fn command(&self, program: &str, sandbox_token: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env("XDG_RUNTIME_DIR", self.path("runtime"))
            .env("LANG", "C.UTF-8")
            .env("GH_TOKEN", sandbox_token)
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        command
    }
}

struct Ran {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Run with stdout and stderr in files (a daemon that keeps a pipe open cannot block us), in its
/// own process group so that a hang is killed whole.
fn run(mut command: Command, world: &World, tag: &str) -> Ran {
    use std::os::unix::process::CommandExt as _;
    let out = world.path(&format!("{tag}.stdout"));
    let err = world.path(&format!("{tag}.stderr"));
    command
        .stdout(File::create(&out).expect("stdout file"))
        .stderr(File::create(&err).expect("stderr file"))
        .process_group(0);
    let mut child = command.spawn().expect("spawn");
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!(
                "{tag}: still running after {TIMEOUT:?}; stderr so far:\n{}",
                read(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ran {
        status,
        stdout: read(&out),
        stderr: read(&err),
    }
}

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

/// One `dbus-run-session`: what to do in it.
struct Session<'a> {
    /// Start gnome-keyring-daemon and unlock (or, in a fresh data folder, create) the login
    /// keyring with this password. Without it, the daemon is only started by D-Bus activation,
    /// and an existing login keyring stays locked.
    unlock: Option<&'a str>,
    /// Store (service, user, value) with `secret-tool store` before running secretsync.
    store: Option<(&'a str, &'a str, &'a str)>,
    /// Run `secretsync --config THIS apply --yes` last.
    apply: Option<&'a Path>,
}

/// Run a session; returns what secretsync printed and its exit status (the session's when
/// secretsync is not run). Panics when the keyring setup itself fails.
fn run_session(world: &World, session: Session) -> Ran {
    let token = SandboxConfig::default().token;
    let mut command = world.command("dbus-run-session", &token);
    command.args(["--", "sh", "-c", SESSION_SCRIPT]);
    if let Some(password) = session.unlock {
        command.env("KEYRING_PASSWORD", password);
    }
    if let Some((service, user, value)) = session.store {
        let file = world.path("stored-value");
        std::fs::write(&file, value).expect("write value file");
        command
            .env("STORE_FILE", &file)
            .env("STORE_SERVICE", service)
            .env("STORE_USER", user);
    }
    let (out, err) = (
        world.path("secretsync.stdout"),
        world.path("secretsync.stderr"),
    );
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&err);
    if let Some(config) = session.apply {
        command
            .env("SECRETSYNC", env!("CARGO_BIN_EXE_secretsync"))
            .env("CONFIG", config)
            .env("STATE_DIR", world.path("secretsync-state"))
            .env("OUT_FILE", &out)
            .env("ERR_FILE", &err);
    }
    let ran = run(command, world, "session");
    let setup_failed = match ran.status.code() {
        Some(90) => Some("gnome-keyring-daemon --unlock failed"),
        Some(91) => Some("secret-tool store failed"),
        _ => None,
    };
    if let Some(what) = setup_failed {
        panic!(
            "{what} ({:?}); session output:\n{}\n{}",
            ran.status, ran.stdout, ran.stderr
        );
    }
    if session.apply.is_none() {
        assert!(
            ran.status.success(),
            "keyring session failed:\n{}",
            ran.stderr
        );
    }
    Ran {
        status: ran.status,
        stdout: read(&out),
        stderr: read(&err),
    }
}

/// Unlock a fresh gnome-keyring on a private bus, store `stored` (if any) with secret-tool, and
/// run `secretsync apply --yes` in the same session.
fn apply_in_keyring_session(
    world: &World,
    config: &Path,
    stored: Option<(&str, &str, &str)>,
) -> Ran {
    run_session(
        world,
        Session {
            unlock: Some("keyring-login-pw"),
            store: stored,
            apply: Some(config),
        },
    )
}

fn puts(sandbox: &Sandbox) -> usize {
    sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.contains("/actions/secrets/"))
        .count()
}

#[test]
fn value_stored_with_secret_tool_reaches_github() {
    if !components_present("value_stored_with_secret_tool_reaches_github") {
        return;
    }
    let world = World::new();
    let sandbox = Sandbox::spawn(SandboxConfig::default()).expect("sandbox");
    let config = world.write_config(
        &sandbox,
        &format!(
            "[secrets.ALIYUN_PASSWORD]\nfrom = [{{ env = \"SECRETSYNC_TEST_UNSET_VAR\" }}, \
             {{ keyring = {{ service = \"{SERVICE}\", user = \"aliyun\" }} }}]\n"
        ),
    );
    let value = "kr-Pässwörd ✓ with spaces & 'quotes' $HOME";
    let run = apply_in_keyring_session(&world, &config, Some((SERVICE, "aliyun", value)));
    let out = &run;
    assert!(
        out.status.success(),
        "apply failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    assert_eq!(
        sandbox.plaintext(REPO, "ALIYUN_PASSWORD").as_deref(),
        Some(value.as_bytes()),
        "the sandbox did not receive the value stored in the keyring"
    );
    assert_eq!(puts(&sandbox), 1, "{:?}", sandbox.requests());
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.contains("kr-Pässwörd"),
            "the value was printed:\n{text}"
        );
    }
}

#[test]
fn absent_keyring_entry_falls_through_to_the_next_source() {
    if !components_present("absent_keyring_entry_falls_through_to_the_next_source") {
        return;
    }
    let world = World::new();
    let sandbox = Sandbox::spawn(SandboxConfig::default()).expect("sandbox");
    // The keyring holds an entry for another user of the same service, which must not be taken.
    let config = world.write_config(
        &sandbox,
        &format!(
            "[secrets.ALIYUN_PASSWORD]\nfrom = [\n  {{ keyring = {{ service = \"{SERVICE}\", user = \"nobody-here\" }} }},\n  {{ value = \"fallback-value\" }},\n]\n\n\
             [secrets.ALIYUN_USERNAME]\nkeyring = {{ service = \"{SERVICE}\", user = \"aliyun\" }}\n"
        ),
    );
    let run = apply_in_keyring_session(
        &world,
        &config,
        Some((SERVICE, "aliyun", "stored-for-aliyun")),
    );
    let out = &run;
    assert!(
        out.status.success(),
        "apply failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    assert_eq!(
        sandbox.plaintext(REPO, "ALIYUN_PASSWORD").as_deref(),
        Some(&b"fallback-value"[..]),
        "an absent keyring entry did not fall through to `value`"
    );
    assert_eq!(
        sandbox.plaintext(REPO, "ALIYUN_USERNAME").as_deref(),
        Some(&b"stored-for-aliyun"[..]),
    );
}

#[test]
fn absent_keyring_entry_with_nothing_after_it_is_a_one_line_error() {
    if !components_present("absent_keyring_entry_with_nothing_after_it_is_a_one_line_error") {
        return;
    }
    let world = World::new();
    let sandbox = Sandbox::spawn(SandboxConfig::default()).expect("sandbox");
    let config = world.write_config(
        &sandbox,
        &format!(
            "[secrets.ALIYUN_PASSWORD]\nkeyring = {{ service = \"{SERVICE}\", user = \"nobody-here\" }}\n"
        ),
    );
    let run = apply_in_keyring_session(
        &world,
        &config,
        Some((SERVICE, "aliyun", "stored-for-aliyun")),
    );
    let out = &run;
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", out.stderr);
    let stderr = out.stderr.trim_end();
    assert_eq!(stderr.lines().count(), 1, "not one line:\n{stderr}");
    assert!(stderr.contains("`ALIYUN_PASSWORD`"), "{stderr}");
    assert!(stderr.contains("nobody-here"), "{stderr}");
    assert!(!stderr.contains("stored-for-aliyun"), "{stderr}");
    assert_eq!(puts(&sandbox), 0, "{:?}", sandbox.requests());
}

#[test]
fn without_a_session_bus_a_keyring_source_is_a_one_line_error() {
    if !components_present("without_a_session_bus_a_keyring_source_is_a_one_line_error") {
        return;
    }
    let world = World::new();
    let sandbox = Sandbox::spawn(SandboxConfig::default()).expect("sandbox");
    let config = world.write_config(
        &sandbox,
        &format!(
            "[secrets.ALIYUN_PASSWORD]\nfrom = [{{ env = \"SECRETSYNC_TEST_UNSET_VAR\" }}, \
             {{ keyring = {{ service = \"{SERVICE}\", user = \"aliyun\" }} }}]\n"
        ),
    );
    // No DBUS_SESSION_BUS_ADDRESS, and XDG_RUNTIME_DIR is an empty folder: no bus anywhere.
    let mut command = world.command(
        env!("CARGO_BIN_EXE_secretsync"),
        &SandboxConfig::default().token,
    );
    command
        .arg("--config")
        .arg(&config)
        .arg("--state-dir")
        .arg(world.path("secretsync-state"));
    command.args(["apply", "--yes"]);
    let started = Instant::now();
    let out = run(command, &world, "no-bus");
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?} to give up on D-Bus",
        started.elapsed()
    );
    let stderr = out.stderr.trim_end();
    assert_eq!(stderr.lines().count(), 1, "not one line:\n{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("`ALIYUN_PASSWORD`"), "{stderr}");
    assert!(stderr.contains("keyring"), "{stderr}");
    assert_eq!(puts(&sandbox), 0, "{:?}", sandbox.requests());
    assert_eq!(sandbox.plaintext(REPO, "ALIYUN_PASSWORD"), None);
}

#[test]
fn a_locked_keyring_is_a_one_line_error_not_a_hang() {
    if !components_present("a_locked_keyring_is_a_one_line_error_not_a_hang") {
        return;
    }
    let world = World::new();
    let sandbox = Sandbox::spawn(SandboxConfig::default()).expect("sandbox");
    let config = world.write_config(
        &sandbox,
        &format!(
            "[secrets.ALIYUN_PASSWORD]\nkeyring = {{ service = \"{SERVICE}\", user = \"aliyun\" }}\n"
        ),
    );
    // First session: create the login keyring and store the value; the keyring stays on disk.
    run_session(
        &world,
        Session {
            unlock: Some("keyring-login-pw"),
            store: Some((SERVICE, "aliyun", "locked-away-value")),
            apply: None,
        },
    );
    assert!(
        world.path("data/keyrings/login.keyring").is_file(),
        "gnome-keyring did not write its login keyring under XDG_DATA_HOME"
    );
    // Second session, as after a reboot: nobody unlocks it, and there is no display to prompt on.
    let started = Instant::now();
    let out = run_session(
        &world,
        Session {
            unlock: None,
            store: None,
            apply: Some(&config),
        },
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    let stderr = out.stderr.trim_end();
    assert_eq!(stderr.lines().count(), 1, "not one line:\n{stderr}");
    assert!(stderr.contains("`ALIYUN_PASSWORD`"), "{stderr}");
    assert!(stderr.contains("locked"), "{stderr}");
    assert!(!stderr.contains("locked-away-value"), "{stderr}");
    assert_eq!(puts(&sandbox), 0, "{:?}", sandbox.requests());
}
