//! One measured command against a fresh sandbox served over HTTPS under `/api/v3`, the way
//! gh reaches a GitHub Enterprise host: secretsync's release binary or gh, each a child process
//! timed from spawn to exit, so both pay their own start-up, TLS and HTTP stack.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use secretsync_sandbox::{RequestRecord, Sandbox, SandboxConfig};

use super::{Case, Tool, LATENCY};

const TOKEN: &str = "bench-token";

/// What one trial measured.
pub struct Trial {
    pub exit: i32,
    pub wall: Duration,
    pub requests: Vec<RequestRecord>,
    /// The sandbox's count of round trips on the critical path of the measured command.
    pub round_trips: usize,
    pub max_in_flight: usize,
    /// Primary budget (`x-ratelimit-used`) the measured command spent.
    pub rate_limit_used: u64,
    /// Declared values the sandbox holds after the command, of `declared`.
    pub values_set: usize,
    pub declared: usize,
}

impl Trial {
    /// Answers of a secondary limit: GitHub sends 403 or 429.
    pub fn limit_answers(&self) -> usize {
        self.requests
            .iter()
            .filter(|r| r.status == 403 || r.status == 429)
            .count()
    }
}

/// A private file: values are written only where the tool under test reads them.
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A warm-up (unmeasured) is told the sandbox's real budget, which has no secondary limit
/// outside the limited case: else GitHub's 180 writes a minute would make the no-op case's 800
/// warm-up writes take minutes.
fn config(case: Case, api_url: &str, rotated: bool, warm_up: bool) -> String {
    let mut toml = format!("[github]\napi_url = \"{api_url}\"\n");
    if case.limited() {
        let _ = write!(toml, "\n{}", super::secretsync_limits());
    } else if warm_up {
        toml.push_str("\n[github.limits]\npoints = 1000000\nwindow_secs = 1\n");
    }
    for (name, value) in case.values(rotated) {
        let _ = write!(toml, "\n[secrets.{name}]\nvalue = \"{value}\"\n");
    }
    let repos: Vec<String> = case.repos().iter().map(|r| format!("\"{r}\"")).collect();
    let _ = write!(toml, "\n[[targets]]\nrepos = [{}]\n", repos.join(", "));
    toml
}

/// The child's environment: nothing of the user's (no token, config, keyring or gh login),
/// and the sandbox's CA as the only one trusted.
fn isolated(program: &Path, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("SSL_CERT_FILE", dir.join("ca.pem"))
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn secretsync(binary: &Path, dir: &Path, config_path: &Path) -> Command {
    let mut command = isolated(binary, dir);
    command
        .args(["apply", "--yes", "--config"])
        .arg(config_path)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .env("GH_TOKEN", TOKEN)
        .stdin(Stdio::null());
    command
}

/// gh's commands for the case, one per repository (gh sets one repository's secrets per call;
/// a user loops over them), run one after the other.
fn gh(
    gh: &Path,
    tool: Tool,
    case: Case,
    dir: &Path,
    sandbox: &Sandbox,
) -> Result<Vec<Command>, String> {
    // gh talks to https://HOST/api/v3/ for any host but github.com.
    let api_url = sandbox.api_url();
    let host = api_url
        .trim_start_matches("https://")
        .trim_end_matches(secretsync_sandbox::ENTERPRISE_API_PREFIX);
    let base = || {
        let mut command = isolated(gh, dir);
        command
            .env("GH_HOST", host)
            .env("GH_ENTERPRISE_TOKEN", TOKEN)
            .env("GH_CONFIG_DIR", dir.join("gh"))
            .env("GH_NO_UPDATE_NOTIFIER", "1")
            .env("GH_PROMPT_DISABLED", "1")
            .args(["secret", "set"]);
        command
    };
    let mut commands = Vec::new();
    match tool {
        Tool::GhFile => {
            let lines: String = case
                .values(true)
                .iter()
                .map(|(name, value)| format!("{name}={value}\n"))
                .collect();
            write_private(&dir.join("secrets.env"), &lines)?;
            for repo in case.repos() {
                let mut command = base();
                command
                    .args(["-f", "secrets.env", "--repo", &repo])
                    .stdin(Stdio::null());
                commands.push(command);
            }
        }
        Tool::GhOne => {
            let name = case
                .rotated()
                .ok_or("gh sets one secret only in a rotation")?;
            let value = case
                .values(true)
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
                .unwrap_or_default();
            // On stdin, never in argv: gh reads the body from a stdin that is not a terminal.
            let path = dir.join("value");
            write_private(&path, &value)?;
            for repo in case.repos() {
                let stdin = std::fs::File::open(&path).map_err(|e| format!("cannot open {e}"))?;
                let mut command = base();
                command.args([name, "--repo", &repo]).stdin(stdin);
                commands.push(command);
            }
        }
        Tool::Secretsync => return Err("not gh".to_owned()),
    }
    Ok(commands)
}

/// Runs `commands` one after the other, each to its end: the first non-zero exit code (else
/// 0), the wall time of them all, and their stderr.
fn timed(commands: Vec<Command>) -> Result<(i32, Duration, String), String> {
    let start = Instant::now();
    let mut exit = 0;
    let mut stderr = String::new();
    for mut command in commands {
        let out = command
            .output()
            .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
        let code = out.status.code().unwrap_or(-1);
        if exit == 0 {
            exit = code;
        }
        stderr.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    Ok((exit, start.elapsed(), stderr))
}

pub fn run(case: Case, tool: Tool, binary: &Path, gh_path: &Path) -> Result<Trial, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("no temp dir: {e}"))?;
    let dir = dir.path();
    let (sandbox, ca) = Sandbox::spawn_https(SandboxConfig {
        token: TOKEN.into(),
        ..SandboxConfig::default()
    })
    .map_err(|e| format!("cannot start the sandbox: {e}"))?;
    for repo in case.repos() {
        sandbox.add_repo(&repo);
    }
    if case.limited() {
        sandbox.set_secondary_limit(Some(super::sandbox_limit()));
    }
    std::fs::write(dir.join("ca.pem"), ca.pem()).map_err(|e| format!("cannot write: {e}"))?;
    let config_path: PathBuf = dir.join("secretsync.toml");

    let commands = match tool {
        Tool::Secretsync => {
            for _ in 0..case.warm_ups() {
                write_private(&config_path, &config(case, &sandbox.api_url(), false, true))?;
                let (exit, _, stderr) = timed(vec![secretsync(binary, dir, &config_path)])?;
                if exit != 0 {
                    return Err(format!("a warm-up apply exited {exit}: {}", stderr.trim()));
                }
            }
            write_private(&config_path, &config(case, &sandbox.api_url(), true, false))?;
            vec![secretsync(binary, dir, &config_path)]
        }
        _ => {
            // gh keeps no record: what it finds on GitHub is all that a warm-up would leave.
            if case.warm_ups() > 0 {
                for repo in case.repos() {
                    for (name, value) in case.values(false) {
                        sandbox.put_outside(&repo, &name, value.as_bytes());
                    }
                }
            }
            gh(gh_path, tool, case, dir, &sandbox)?
        }
    };

    sandbox.set_latency(LATENCY);
    sandbox.clear_requests();
    sandbox.reset_max_in_flight();
    let used_before = sandbox.rate_limit_used();
    let (exit, wall, stderr) = timed(commands)?;
    if exit != 0 && !(case.limited() && tool.is_gh()) {
        // Neither tool prints values; the tail says why a run failed.
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        eprintln!("  | {} exited {exit}: {}", tool.label(), tail.join(" / "));
    }
    let declared = case.values(true);
    let repos = case.repos();
    let values_set = repos
        .iter()
        .flat_map(|repo| declared.iter().map(move |(n, v)| (repo, n, v)))
        .filter(|(repo, name, value)| {
            sandbox.plaintext(repo, name).as_deref() == Some(value.as_bytes())
        })
        .count();
    Ok(Trial {
        exit,
        wall,
        requests: sandbox.requests(),
        round_trips: sandbox.round_trips(),
        max_in_flight: sandbox.max_in_flight(),
        rate_limit_used: sandbox.rate_limit_used().saturating_sub(used_before),
        values_set,
        declared: declared.len() * repos.len(),
    })
}
