//! `prompt` sources through a REAL pseudo-terminal (rexpect), and with no terminal at all
//! (`setsid`, from util-linux). The pty starts with echo ON, as a user's terminal does, so a value
//! that secretsync failed to hide would show up in what the pty printed.
//!
//! Needs `setsid` and `stty`; see `.ci/install-real-components`. Without them the tests skip,
//! except under `CI`, where they fail.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rexpect::process::WaitStatus;
use rexpect::session::{spawn_with_options, Options, PtySession};
use secretsync::sandbox::{Sandbox, SandboxConfig};

const REPO: &str = "acme/shop";
const SECRET: &str = "REGISTRY_PASSWORD";
const LABEL: &str = "Registry password";
const TIMEOUT: Duration = Duration::from_secs(15);

/// Turns echo back on (rexpect turns it off), records the pty's name for `stty -F`, and runs
/// secretsync on this terminal. Inputs come from the environment.
const PTY_SCRIPT: &str = r#"
stty echo || exit 90
tty >"$TTY_FILE" || exit 91
exec "$SECRETSYNC" --config "$CONFIG" --state-dir "$STATE_DIR" apply --yes
"#;

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            dir.join(program).metadata().is_ok_and(|m| {
                m.is_file()
                    && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
            })
        })
    })
}

/// Whether the tools are here. Under `CI` a missing one is a failure, not a skip.
fn tools_present(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !on_path(t)).collect();
    if missing.is_empty() {
        return true;
    }
    let what = format!(
        "{} (Debian packages util-linux, coreutils)",
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

struct Fixture {
    dir: tempfile::TempDir,
    sandbox: Sandbox,
    config: PathBuf,
}

impl Fixture {
    fn new(secrets: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let sandbox = Sandbox::spawn(SandboxConfig::default()).expect("sandbox");
        let config = dir.path().join("secretsync.toml");
        let text = format!(
            "[github]\napi_url = \"{}\"\n\n{secrets}\n[[targets]]\nrepo = \"{REPO}\"\n",
            sandbox.api_url()
        );
        std::fs::write(&config, text).expect("write config");
        Fixture {
            dir,
            sandbox,
            config,
        }
    }

    fn prompt_config() -> Fixture {
        Fixture::new(&format!(
            "[secrets.{SECRET}]\nfrom = [{{ env = \"SECRETSYNC_TEST_UNSET_VAR\" }}, \
             {{ prompt = \"{LABEL}\", confirm = true }}]\n"
        ))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn puts(&self) -> Vec<String> {
        self.sandbox
            .requests()
            .into_iter()
            .filter(|r| r.method == "PUT")
            .map(|r| r.path)
            .collect()
    }

    /// `secretsync apply --yes` on a fresh pty whose echo is on.
    fn spawn_on_pty(&self) -> Pty {
        let mut command = Command::new("sh");
        command
            .args(["-c", PTY_SCRIPT])
            .env("SECRETSYNC", env!("CARGO_BIN_EXE_secretsync"))
            .env("CONFIG", &self.config)
            .env("STATE_DIR", self.path("state"))
            .env("TTY_FILE", self.path("tty-name"))
            .env("GH_TOKEN", SandboxConfig::default().token)
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_TOKEN")
            .env_remove("SECRETSYNC_CONFIG")
            .env_remove("SECRETSYNC_TEST_UNSET_VAR");
        let options = Options::new().timeout_ms(Some(TIMEOUT.as_millis() as u64));
        let session = spawn_with_options(command, options).expect("spawn on a pty");
        Pty {
            session,
            tty_file: self.path("tty-name"),
            seen: String::new(),
        }
    }
}

/// A running secretsync on a pty, and everything the pty printed so far.
struct Pty {
    session: PtySession,
    tty_file: PathBuf,
    seen: String,
}

impl Pty {
    fn expect(&mut self, needle: &str) {
        match self.session.exp_string(needle) {
            Ok(before) => {
                self.seen.push_str(&before);
                self.seen.push_str(needle);
            }
            Err(error) => panic!(
                "did not see {needle:?} ({error}); the pty printed so far:\n{}",
                self.seen
            ),
        }
    }

    /// Wait until the terminal no longer echoes, then type `value` and Enter. Typing earlier
    /// would race the program switching echo off, as a very fast typist would.
    fn type_hidden(&mut self, value: &str) {
        let tty = std::fs::read_to_string(&self.tty_file).expect("tty name");
        let tty = tty.trim();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let settings = Command::new("stty")
                .args(["-F", tty, "-a"])
                .stdin(Stdio::null())
                .output()
                .expect("run stty");
            let text = String::from_utf8_lossy(&settings.stdout);
            if text.split_whitespace().any(|flag| flag == "-echo") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the prompt left terminal echo on, so typed input would show:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.session.send_line(value).expect("type on the pty");
    }

    /// Wait for the end; returns the exit code.
    fn finish(&mut self) -> i32 {
        match self.session.exp_eof() {
            Ok(rest) => self.seen.push_str(&rest),
            Err(error) => panic!("no EOF ({error}); the pty printed:\n{}", self.seen),
        }
        match self.session.process().wait() {
            Ok(WaitStatus::Exited(_, code)) => code,
            other => panic!("secretsync did not exit normally: {other:?}\n{}", self.seen),
        }
    }
}

#[test]
fn prompt_with_confirm_on_a_real_pty() {
    if !tools_present("prompt_with_confirm_on_a_real_pty", &["stty"]) {
        return;
    }
    let fixture = Fixture::prompt_config();
    let value = "pty-Typed-Value-4711";
    let mut pty = fixture.spawn_on_pty();
    pty.expect(&format!("{LABEL}: "));
    pty.type_hidden(value);
    pty.expect(&format!("Confirm {LABEL}: "));
    pty.type_hidden(value);
    let code = pty.finish();
    assert_eq!(code, 0, "the pty printed:\n{}", pty.seen);
    assert!(
        !pty.seen.contains("Typed-Value"),
        "the typed value was shown:\n{}",
        pty.seen
    );
    assert!(pty.seen.contains(SECRET), "no report:\n{}", pty.seen);
    assert_eq!(
        fixture.sandbox.plaintext(REPO, SECRET).as_deref(),
        Some(value.as_bytes())
    );
    assert_eq!(fixture.puts().len(), 1, "{:?}", fixture.sandbox.requests());
}

#[test]
fn mismatched_confirmation_asks_again() {
    if !tools_present("mismatched_confirmation_asks_again", &["stty"]) {
        return;
    }
    let fixture = Fixture::prompt_config();
    let mut pty = fixture.spawn_on_pty();
    pty.expect(&format!("{LABEL}: "));
    pty.type_hidden("first-Attempt-AAA");
    pty.expect(&format!("Confirm {LABEL}: "));
    pty.type_hidden("typo-Attempt-BBB");
    pty.expect("did not match");
    pty.expect(&format!("{LABEL}: "));
    pty.type_hidden("second-Attempt-CCC");
    pty.expect(&format!("Confirm {LABEL}: "));
    pty.type_hidden("second-Attempt-CCC");
    let code = pty.finish();
    assert_eq!(code, 0, "the pty printed:\n{}", pty.seen);
    assert!(
        !pty.seen.contains("Attempt-"),
        "a typed value was shown:\n{}",
        pty.seen
    );
    assert_eq!(
        fixture.sandbox.plaintext(REPO, SECRET).as_deref(),
        Some(&b"second-Attempt-CCC"[..]),
        "the value after the retry was not the one applied"
    );
    assert_eq!(fixture.puts().len(), 1, "{:?}", fixture.sandbox.requests());
}

#[test]
fn without_a_terminal_a_prompt_is_a_one_line_error() {
    if !tools_present(
        "without_a_terminal_a_prompt_is_a_one_line_error",
        &["setsid"],
    ) {
        return;
    }
    // A second secret that resolves fine: nothing at all may be written when one value is missing.
    let fixture = Fixture::new(&format!(
        "[secrets.{SECRET}]\nprompt = \"{LABEL}\"\nconfirm = true\n\n\
         [secrets.REGISTRY_USER]\nvalue = \"someone\"\n"
    ));
    let (out, err) = (fixture.path("stdout"), fixture.path("stderr"));
    // setsid: a new session without a controlling terminal, so /dev/tty cannot be opened.
    let mut child = Command::new("setsid")
        .arg("--wait")
        .arg(env!("CARGO_BIN_EXE_secretsync"))
        .arg("--config")
        .arg(&fixture.config)
        .arg("--state-dir")
        .arg(fixture.path("state"))
        .args(["apply", "--yes"])
        .env("GH_TOKEN", SandboxConfig::default().token)
        .env_remove("GITHUB_TOKEN")
        .env_remove("SECRETSYNC_CONFIG")
        .stdin(Stdio::null())
        .stdout(File::create(&out).expect("stdout file"))
        .stderr(File::create(&err).expect("stderr file"))
        .spawn()
        .expect("run setsid");
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("secretsync waited for a terminal that is not there");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = read(&err);
    assert_eq!(
        status.code(),
        Some(1),
        "stdout:\n{}\nstderr:\n{stderr}",
        read(&out)
    );
    let stderr = stderr.trim_end();
    assert_eq!(stderr.lines().count(), 1, "not one line:\n{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    for part in [&format!("`{SECRET}`"), "terminal", "env", "keyring"] {
        assert!(stderr.contains(part), "no {part:?} in: {stderr}");
    }
    assert!(
        fixture.puts().is_empty(),
        "wrote without all values: {:?}",
        fixture.puts()
    );
    assert_eq!(fixture.sandbox.plaintext(REPO, "REGISTRY_USER"), None);
}

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}
