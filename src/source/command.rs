//! `command = ["prog", "arg"]`: a value printed by a program. The program runs in its own process
//! group, without the GitHub token in its environment, for at most its timeout; its output is read
//! up to the size of a value. On a timeout, an oversized output, or an interrupt of secretsync,
//! the whole group is killed, so no child or grandchild outlives the run.

use std::io::Read;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use secrecy::SecretString;
use zeroize::Zeroizing;

use super::{one_line, strip_newline, Outcome, SourceError, STDERR_MAX_CHARS, STDERR_MAX_LINES};

/// Long enough for a password manager that asks for its passphrase through pinentry.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest `timeout` accepted. A command still running after a day waits for something that
/// will not come; and the deadline, now plus the timeout, must stay within what the clock counts
/// (past it, adding panics).
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// GitHub's limit for a value, plus the line break that is stripped from the output.
const STDOUT_CAP: usize = crate::source::MAX_VALUE_BYTES + 2;

/// How often a running command is looked at for having stopped to read the terminal.
const STOP_CHECK: Duration = Duration::from_millis(200);

/// Only the tail of stderr is shown, so only a bounded tail is kept.
const STDERR_KEEP: usize = 4096;

/// Variables that carry a GitHub token to `gh` and the Actions toolkits. A source command gets
/// none of them: `plan` runs on pull requests, where a command is not necessarily trusted.
const TOKEN_VARS: [&str; 4] = [
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
];

/// A `command` source: the program and its arguments, its time limit, and the variables that hold
/// the token according to the config (`[github] token = { env = "VAR" }`), to keep from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSource {
    pub argv: Vec<String>,
    pub timeout: Duration,
    pub hidden_env: Vec<String>,
}

impl CommandSource {
    pub fn new(argv: Vec<String>) -> CommandSource {
        CommandSource {
            argv,
            timeout: DEFAULT_TIMEOUT,
            hidden_env: Vec::new(),
        }
    }

    pub fn program(&self) -> &str {
        self.argv.first().map(String::as_str).unwrap_or("")
    }
}

/// `timeout = "30s"`: a whole number of milliseconds, seconds, minutes or hours.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let fix = "write it as a number and a unit, such as \"30s\", \"2m\" or \"500ms\"";
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let Ok(number) = number.parse::<u64>() else {
        return Err(format!("`timeout = \"{text}\"` is not a duration; {fix}"));
    };
    let duration = match unit.trim() {
        "ms" => Duration::from_millis(number),
        "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        "h" => Duration::from_secs(number.saturating_mul(3600)),
        _ => return Err(format!("`timeout = \"{text}\"` has no known unit; {fix}")),
    };
    if duration.is_zero() {
        return Err(format!("`timeout = \"{text}\"` is zero; {fix}"));
    }
    if duration > MAX_TIMEOUT {
        return Err(format!(
            "`timeout = \"{text}\"` is longer than a day; give the command at most \"24h\""
        ));
    }
    Ok(duration)
}

pub(super) fn from_command(secret: &str, command: &CommandSource) -> Result<Outcome, SourceError> {
    let Some((program, args)) = command.argv.split_first() else {
        return Err(SourceError::CommandEmpty {
            secret: secret.to_owned(),
        });
    };
    let mut process = Command::new(program);
    process
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for var in TOKEN_VARS
        .iter()
        .copied()
        .chain(command.hidden_env.iter().map(String::as_str))
    {
        process.env_remove(var);
    }
    let finished = run(secret, program, process, command.timeout)?;
    if !finished.status.success() {
        return Err(SourceError::CommandFailed {
            secret: secret.to_owned(),
            program: program.clone(),
            status: finished.status.to_string(),
            stderr: stderr_tail(&finished.stderr),
        });
    }
    match std::str::from_utf8(&finished.stdout) {
        Ok(text) => Ok(Outcome::Value(SecretString::from(strip_newline(text)))),
        Err(_) => Err(SourceError::CommandNotUtf8 {
            secret: secret.to_owned(),
            program: program.clone(),
        }),
    }
}

pub(super) struct Finished {
    pub(super) status: ExitStatus,
    pub(super) stdout: Zeroizing<Vec<u8>>,
    pub(super) stderr: Vec<u8>,
}

enum Event {
    Exited(std::io::Result<ExitStatus>),
    Stdout(std::io::Result<Zeroizing<Vec<u8>>>),
    Stderr(Vec<u8>),
}

/// A running command's process group, registered so an interrupt can kill it; killed and
/// unregistered when dropped, whatever way the run ends, so nothing it started in the background
/// outlives it.
struct Group {
    pid: Pid,
}

impl Drop for Group {
    fn drop(&mut self) {
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        live.retain(|running| running.pid != self.pid);
        // ESRCH (the group is already gone) is the usual, fine outcome.
        let _ = killpg(self.pid, Signal::SIGKILL);
    }
}

/// Spawn, read both streams, and wait, all within `timeout`. `process` must be set up with
/// piped stdout and stderr and its own process group, as [`from_command`] does.
pub(super) fn run(
    secret: &str,
    program: &str,
    process: Command,
    timeout: Duration,
) -> Result<Finished, SourceError> {
    watch_signals();
    // The group is killed when `group` drops, after the wait, however it ended.
    let (child, group) = spawn(secret, program, process)?;
    collect(watch(child), group.pid, secret, program, timeout)
}

/// Start the command, registered so an interrupt can kill its group.
fn spawn(secret: &str, program: &str, mut process: Command) -> Result<(Child, Group), SourceError> {
    // The lock is held from spawn to registration, so an interrupt cannot fall between the two.
    let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
    let child = process.spawn().map_err(|error| SourceError::CommandSpawn {
        secret: secret.to_owned(),
        program: program.to_owned(),
        detail: one_line(&error.to_string()),
    })?;
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("Linux pids fit in an i32"));
    live.push(Running {
        pid,
        secret: secret.to_owned(),
        program: program.to_owned(),
    });
    drop(live);
    Ok((child, Group { pid }))
}

/// Both streams and the exit status, within `timeout`; a command that prints too much, stops to
/// read the terminal, or outlives its timeout ends the wait at once.
fn collect(
    events: mpsc::Receiver<Event>,
    pid: Pid,
    secret: &str,
    program: &str,
    timeout: Duration,
) -> Result<Finished, SourceError> {
    let deadline = Instant::now() + timeout;
    let (mut status, mut stdout, mut stderr) = (None, None, None);
    while status.is_none() || stdout.is_none() || stderr.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left.min(STOP_CHECK)) {
            Ok(Event::Exited(result)) => status = Some(result),
            Ok(Event::Stdout(Ok(read))) if read.len() > STDOUT_CAP => {
                return Err(SourceError::CommandTooLarge {
                    secret: secret.to_owned(),
                    program: program.to_owned(),
                    limit: crate::source::MAX_VALUE_BYTES,
                });
            }
            Ok(Event::Stdout(result)) => stdout = Some(result),
            Ok(Event::Stderr(tail)) => stderr = Some(tail),
            Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                if group_stopped(pid) {
                    discard_typed_input();
                    return Err(SourceError::CommandWantsTerminal {
                        secret: secret.to_owned(),
                        program: program.to_owned(),
                    });
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                return Err(SourceError::CommandTimeout {
                    secret: secret.to_owned(),
                    program: program.to_owned(),
                    timeout: describe(timeout),
                });
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let failed = |error: std::io::Error| SourceError::CommandSpawn {
        secret: secret.to_owned(),
        program: program.to_owned(),
        detail: one_line(&error.to_string()),
    };
    let stdout = stdout
        .unwrap_or_else(|| Ok(Zeroizing::new(Vec::new())))
        .map_err(failed)?;
    let status = status
        .unwrap_or_else(|| Err(std::io::Error::other("lost track of the process")))
        .map_err(failed)?;
    Ok(Finished {
        status,
        stdout,
        stderr: stderr.unwrap_or_default(),
    })
}

/// Whether a process of the command's group is stopped. The group is not the terminal's
/// foreground, so a process in it that reads the terminal (a passphrase prompt) is stopped by
/// SIGTTIN, and would wait for a foreground that never comes until the timeout.
fn group_stopped(group: Pid) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries
        .flatten()
        .filter(|entry| entry.file_name().to_str().is_some_and(is_pid))
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .any(|stat| stopped_in(&stat, group.as_raw()))
}

fn is_pid(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
}

/// `/proc/PID/stat` is "pid (comm) state ppid pgrp ...". The name may hold spaces and
/// parentheses, so the fields are read after its last `)`.
fn stopped_in(stat: &str, group: i32) -> bool {
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return false;
    };
    let mut fields = rest.split_whitespace();
    let state = fields.next();
    let pgrp = fields.nth(1).and_then(|p| p.parse::<i32>().ok());
    state == Some("T") && pgrp == Some(group)
}

/// What the user typed for the stopped command waits in the terminal's input. Left there, the
/// shell would read it as a command line once secretsync ends: a passphrase, run and kept in the
/// history.
fn discard_typed_input() {
    if let Ok(tty) = std::fs::File::open("/dev/tty") {
        let _ = nix::sys::termios::tcflush(&tty, nix::sys::termios::FlushArg::TCIFLUSH);
    }
}

/// One thread per stream and one to wait, each reporting once on the returned channel. Stdout
/// stops at one byte over the cap, and that report ends the run at once.
fn watch(mut child: Child) -> mpsc::Receiver<Event> {
    let (send, events) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        let send = send.clone();
        std::thread::spawn(move || send.send(Event::Stdout(read_capped(stdout))));
    }
    if let Some(stderr) = child.stderr.take() {
        let send = send.clone();
        std::thread::spawn(move || send.send(Event::Stderr(read_tail(stderr))));
    }
    std::thread::spawn(move || send.send(Event::Exited(child.wait())));
    events
}

fn read_capped(stdout: ChildStdout) -> std::io::Result<Zeroizing<Vec<u8>>> {
    // Sized up front: a grown Vec would leave unzeroised copies of the value behind.
    let mut buffer = Zeroizing::new(Vec::with_capacity(STDOUT_CAP + 1));
    stdout
        .take(STDOUT_CAP as u64 + 1)
        .read_to_end(&mut buffer)?;
    Ok(buffer)
}

fn read_tail(mut stderr: ChildStderr) -> Vec<u8> {
    let mut tail = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(read) = stderr.read(&mut chunk) {
        if read == 0 {
            break;
        }
        tail.extend_from_slice(&chunk[..read]);
        if tail.len() > 2 * STDERR_KEEP {
            tail.drain(..tail.len() - STDERR_KEEP);
        }
    }
    tail
}

fn describe(timeout: Duration) -> String {
    if timeout.subsec_millis() == 0 {
        format!("{}s", timeout.as_secs())
    } else {
        format!("{}ms", timeout.as_millis())
    }
}

/// A command running now: its group, and what to name when an interrupt stops it.
struct Running {
    pid: Pid,
    secret: String,
    program: String,
}

static LIVE: Mutex<Vec<Running>> = Mutex::new(Vec::new());

/// Set once the caller handles SIGINT, SIGTERM and SIGHUP itself (apply's writes stop
/// gracefully on each).
static CALLER_HANDLES_SIGNALS: AtomicBool = AtomicBool::new(false);

/// From now on, a signal that comes while no command runs is the caller's to handle (it has its
/// own listener).
pub fn leave_signals_to_caller() {
    CALLER_HANDLES_SIGNALS.store(true, Ordering::SeqCst);
}

/// On the first command, start a thread that, on SIGINT, SIGTERM or SIGHUP, kills every running
/// command's group and then ends secretsync as that signal would have.
fn watch_signals() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(signals) => signals,
            Err(error) => {
                tracing::debug!("cannot watch signals for source commands: {error}");
                return;
            }
        };
        std::thread::spawn(move || {
            for signal in signals.forever() {
                let live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
                if live.is_empty() && CALLER_HANDLES_SIGNALS.load(Ordering::SeqCst) {
                    continue;
                }
                for running in live.iter() {
                    let _ = killpg(running.pid, Signal::SIGKILL);
                    eprintln!(
                        "interrupted: stopped command `{}` for `{}`",
                        running.program, running.secret
                    );
                }
                // The lock stays held: no new command may start while the process ends.
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(crate::exit::ExitStatus::Signal(signal).code());
            }
        });
    });
}

/// The last few lines of a command's stderr, on one line and short enough for a message.
fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(STDERR_MAX_LINES)..].join(" / ");
    let tail = one_line(&tail);
    let count = tail.chars().count();
    if count <= STDERR_MAX_CHARS {
        tail
    } else {
        let kept: String = tail.chars().skip(count - STDERR_MAX_CHARS).collect();
        format!("...{kept}")
    }
}

#[cfg(test)]
mod tests {
    use super::stopped_in;

    #[test]
    fn a_stopped_process_of_the_group_is_seen_whatever_its_name() {
        assert!(stopped_in("42 (pass) T 1 4242 4242 0", 4242));
        assert!(stopped_in("43 (odd ) (name) T 42 4242 4242 0", 4242));
        assert!(!stopped_in("42 (pass) S 1 4242 4242 0", 4242));
        assert!(!stopped_in("42 (gpg) T 1 777 777 0", 4242));
        assert!(!stopped_in("42 (pass) t 1 4242 4242 0", 4242));
        assert!(!stopped_in("garbage", 4242));
    }
}
