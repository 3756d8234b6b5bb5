//! `prompt` sources through a REAL pseudo-terminal (rexpect), and with no terminal at all
//! (`setsid`, from util-linux). The pty starts with echo ON, as a user's terminal does, so a value
//! that secretsync failed to hide would show up in what the pty printed.
//!
//! Needs `setsid` and `stty`; see `.ci/install-real-components`. Without them the tests skip,
//! except under `CI`, where they fail.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rexpect::process::WaitStatus;
use rexpect::session::{spawn_with_options, Options, PtySession};

use crate::support::{require_tools, Env};

const SECRET: &str = "REGISTRY_PASSWORD";
const LABEL: &str = "Registry password";
const TIMEOUT: Duration = Duration::from_secs(15);
const STTY: &[(&str, &str)] = &[("stty", "coreutils")];

/// Turns echo back on (rexpect turns it off), records the pty's name for `stty -F`, and runs the
/// command given as arguments (secretsync) on this terminal.
const PTY_SCRIPT: &str = r#"
stty echo || exit 90
tty >"$TTY_FILE" || exit 91
exec "$@"
"#;

/// A confirmed prompt, reached because the environment variable before it is unset.
fn prompt_env() -> Env {
    let env = Env::new();
    env.config_for_repo(&format!(
        "[secrets.{SECRET}]\nfrom = [{{ env = \"SECRETSYNC_TEST_UNSET_VAR\" }}, \
         {{ prompt = \"{LABEL}\", confirm = true }}]\n"
    ));
    env
}

/// A running secretsync on a pty, and everything the pty printed so far.
struct Pty {
    session: PtySession,
    tty_file: PathBuf,
    seen: String,
}

impl Pty {
    /// `secretsync ARGS` on a fresh pty whose echo is on.
    fn spawn(env: &Env, args: &[&str]) -> Pty {
        let tty_file = env.path("tty-name");
        let command = env
            .cmd(args)
            .env("NO_COLOR", "1")
            .env("TTY_FILE", &tty_file)
            .wrap(&["sh", "-c", PTY_SCRIPT, "sh"])
            .into_pty_command();
        let options = Options::new().timeout_ms(Some(TIMEOUT.as_millis() as u64));
        let session = spawn_with_options(command, options).expect("spawn on a pty");
        Pty {
            session,
            tty_file,
            seen: String::new(),
        }
    }

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

    /// Wait for `prompt`, then type `value` at it.
    fn answer(&mut self, prompt: &str, value: &str) {
        self.expect(prompt);
        self.type_hidden(value);
    }

    /// Wait for the end, which must be exit code 0.
    fn succeed(&mut self) {
        match self.session.exp_eof() {
            Ok(rest) => self.seen.push_str(&rest),
            Err(error) => panic!("no EOF ({error}); the pty printed:\n{}", self.seen),
        }
        let code = match self.session.process().wait() {
            Ok(WaitStatus::Exited(_, code)) => code,
            other => panic!("secretsync did not exit normally: {other:?}\n{}", self.seen),
        };
        assert_eq!(code, 0, "the pty printed:\n{}", self.seen);
    }
}

#[test]
fn prompt_with_confirm_on_a_real_pty() {
    if !require_tools("prompt_with_confirm_on_a_real_pty", STTY) {
        return;
    }
    let env = prompt_env();
    let value = "pty-Typed-Value-4711";
    let mut pty = Pty::spawn(&env, &["apply", "--yes"]);
    pty.answer(&format!("{LABEL}: "), value);
    pty.answer(&format!("Confirm {LABEL}: "), value);
    pty.succeed();
    assert!(
        !pty.seen.contains("Typed-Value"),
        "the typed value was shown:\n{}",
        pty.seen
    );
    assert!(pty.seen.contains(SECRET), "no report:\n{}", pty.seen);
    assert_eq!(env.plaintext(SECRET).as_deref(), Some(value));
    assert_eq!(env.counts().2, 1, "{:?}", env.requests());
}

#[test]
fn mismatched_confirmation_asks_again() {
    if !require_tools("mismatched_confirmation_asks_again", STTY) {
        return;
    }
    let env = prompt_env();
    let mut pty = Pty::spawn(&env, &["apply", "--yes"]);
    pty.answer(&format!("{LABEL}: "), "first-Attempt-AAA");
    pty.answer(&format!("Confirm {LABEL}: "), "typo-Attempt-BBB");
    pty.expect("did not match");
    pty.answer(&format!("{LABEL}: "), "second-Attempt-CCC");
    pty.answer(&format!("Confirm {LABEL}: "), "second-Attempt-CCC");
    pty.succeed();
    assert!(
        !pty.seen.contains("Attempt-"),
        "a typed value was shown:\n{}",
        pty.seen
    );
    assert_eq!(
        env.plaintext(SECRET).as_deref(),
        Some("second-Attempt-CCC"),
        "the value after the retry was not the one applied"
    );
    assert_eq!(env.counts().2, 1, "{:?}", env.requests());
}

/// `plan --interactive` on a pty, typing `value` at the one (unconfirmed) prompt; returns what
/// the pty printed.
fn interactive_plan(env: &Env, value: &str) -> String {
    let mut pty = Pty::spawn(env, &["plan", "--interactive"]);
    pty.answer(&format!("{LABEL}: "), value);
    pty.succeed();
    assert!(
        !pty.seen.contains("Confirm"),
        "a prompt without `confirm` asked twice:\n{}",
        pty.seen
    );
    assert!(
        !pty.seen.contains("Typed-"),
        "the typed value was shown:\n{}",
        pty.seen
    );
    pty.seen
}

#[test]
fn interactive_plan_asks_and_compares_with_the_last_apply() {
    if !require_tools(
        "interactive_plan_asks_and_compares_with_the_last_apply",
        STTY,
    ) {
        return;
    }
    // Only a prompt gives this value, and it asks once.
    let env = Env::new();
    env.config_for_repo(&format!("[secrets.{SECRET}]\nprompt = \"{LABEL}\"\n"));
    let value = "first-Typed-Value";
    let mut pty = Pty::spawn(&env, &["apply", "--yes"]);
    pty.answer(&format!("{LABEL}: "), value);
    pty.succeed();
    assert_eq!(env.plaintext(SECRET).as_deref(), Some(value));
    assert_eq!(env.counts().2, 1, "{:?}", env.requests());

    let seen = interactive_plan(&env, value);
    assert!(
        seen.contains(&format!("= {SECRET}")),
        "the same value is not unchanged:\n{seen}"
    );
    assert!(!seen.contains(&format!("~ {SECRET}")), "{seen}");

    let seen = interactive_plan(&env, "other-Typed-Value");
    assert!(
        seen.contains(&format!("~ {SECRET}")),
        "another value is not an update:\n{seen}"
    );
    assert!(seen.contains("value changed"), "{seen}");

    // Without --interactive, plan never asks, even on a terminal: it ends without any typing.
    let mut pty = Pty::spawn(&env, &["plan"]);
    pty.succeed();
    assert!(
        !pty.seen.contains(&format!("{LABEL}:")),
        "plan prompted without --interactive:\n{}",
        pty.seen
    );
    assert!(
        pty.seen.contains("asked for on apply"),
        "the value is not shown as unknown until apply:\n{}",
        pty.seen
    );

    assert_eq!(env.counts().2, 1, "a plan wrote: {:?}", env.requests());
    assert_eq!(env.plaintext(SECRET).as_deref(), Some(value));
}

#[test]
fn without_a_terminal_a_prompt_is_a_one_line_error() {
    if !require_tools(
        "without_a_terminal_a_prompt_is_a_one_line_error",
        &[("setsid", "util-linux")],
    ) {
        return;
    }
    // A second secret that resolves fine: nothing at all may be written when one value is missing.
    let env = Env::new();
    env.config_for_repo(&format!(
        "[secrets.{SECRET}]\nprompt = \"{LABEL}\"\nconfirm = true\n\n\
         [secrets.REGISTRY_USER]\nvalue = \"someone\"\n"
    ));
    // setsid: a new session without a controlling terminal, so /dev/tty cannot be opened.
    let out = env
        .cmd(&["apply", "--yes"])
        .wrap(&["setsid", "--wait"])
        .run_with_timeout(TIMEOUT);
    out.assert_code(1);
    let stderr = out.stderr.trim_end();
    assert_eq!(stderr.lines().count(), 1, "not one line:\n{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    for part in [&format!("`{SECRET}`"), "terminal", "env", "keyring"] {
        assert!(stderr.contains(part), "no {part:?} in: {stderr}");
    }
    assert_eq!(
        env.counts().2,
        0,
        "wrote without all values: {:?}",
        env.requests()
    );
    assert_eq!(env.plaintext("REGISTRY_USER"), None);
}

/// The preset's chain on a machine with no Secret Service (SSH, containers): the unreachable
/// keyring is noted and skipped, the prompt is reached, and nothing offers to store the value in
/// a keyring that is not there.
#[test]
fn an_unreachable_keyring_leads_on_to_the_prompt() {
    if !require_tools("an_unreachable_keyring_leads_on_to_the_prompt", STTY) {
        return;
    }
    let env = Env::new();
    env.config_for_repo(&format!(
        "[secrets.{SECRET}]\nfrom = [\n  {{ env = \"SECRETSYNC_TEST_UNSET_VAR\" }},\n  \
         {{ keyring = {{ service = \"secretsync\", user = \"pty\" }} }},\n  \
         {{ prompt = \"{LABEL}\", confirm = true, remember = true }},\n]\n"
    ));
    let tty_file = env.path("tty-name");
    let command = env
        .cmd(&["apply", "--yes"])
        .without_dbus(&env.path("runtime"))
        .env("NO_COLOR", "1")
        .env("TTY_FILE", &tty_file)
        .wrap(&["sh", "-c", PTY_SCRIPT, "sh"])
        .into_pty_command();
    let options = Options::new().timeout_ms(Some(TIMEOUT.as_millis() as u64));
    let mut pty = Pty {
        session: spawn_with_options(command, options).expect("spawn on a pty"),
        tty_file,
        seen: String::new(),
    };
    let value = "pty-Headless-Value-0815";
    pty.expect("note: the keyring is not reachable");
    pty.answer(&format!("{LABEL}: "), value);
    pty.answer(&format!("Confirm {LABEL}: "), value);
    pty.succeed();
    assert!(!pty.seen.contains("Store"), "{}", pty.seen);
    assert!(!pty.seen.contains("Headless-Value"), "{}", pty.seen);
    assert_eq!(env.plaintext(SECRET).as_deref(), Some(value));
}

/// Runs secretsync on the terminal, then reads what is left in the terminal's input, as the
/// user's shell would once secretsync ends.
const LEFTOVER_SCRIPT: &str = r#"
stty echo || exit 90
"$@"
echo "exit=$?"
read -r -t 1 leftover
echo "leftover=[$leftover]"
"#;

#[test]
fn a_command_that_asks_on_the_terminal_is_ended_at_once_and_what_was_typed_is_discarded() {
    if !require_tools(
        "a_command_that_asks_on_the_terminal_is_ended_at_once_and_what_was_typed_is_discarded",
        STTY,
    ) {
        return;
    }
    let env = Env::new();
    // A password manager asking for its passphrase on the terminal, as pinentry-curses does.
    env.config_for_repo(&format!(
        "[secrets.{SECRET}]\ncommand = [\"sh\", \"-c\", \"printf 'Passphrase: ' >/dev/tty; \
         read -r x </dev/tty; echo \\\"$x\\\"\"]\ntimeout = \"10m\"\n"
    ));
    let command = env
        .cmd(&["plan"])
        .env("NO_COLOR", "1")
        .wrap(&["bash", "-c", LEFTOVER_SCRIPT, "bash"])
        .into_pty_command();
    let options = Options::new().timeout_ms(Some(TIMEOUT.as_millis() as u64));
    let mut session = spawn_with_options(command, options).expect("spawn on a pty");
    // Typed ahead, before the command asks: it waits in the terminal's input all the same.
    session.send_line("typed-passphrase").expect("type");
    let seen = session
        .exp_eof()
        .expect("the run ends well within the test's timeout");
    assert!(
        seen.contains("stopped to ask on the terminal") && seen.contains("`sh`"),
        "{seen}"
    );
    assert!(!seen.contains("did not finish within"), "{seen}");
    assert!(seen.contains("exit=1"), "{seen}");
    assert!(
        seen.contains("leftover=[]"),
        "the shell would read it: {seen}"
    );
}
