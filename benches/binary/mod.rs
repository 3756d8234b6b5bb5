//! Figures of the release binary as a person runs it: process start-up time, and the peak memory
//! of an apply that fans out to 200 repositories.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use secretsync_sandbox::{Sandbox, SandboxConfig};

/// `--version` runs measured, after `STARTUP_WARMUP` unmeasured ones (page cache, dynamic loader).
pub const STARTUP_RUNS: usize = 30;
const STARTUP_WARMUP: usize = 3;

/// Fan-out runs measured for peak memory.
pub const MEMORY_RUNS: usize = 3;
pub const FAN_REPOS: usize = 200;
pub const FAN_SECRETS: usize = 5;
/// Where `/usr/bin/time` is expected (Debian package `time`; `.ci/bench` installs it).
pub const GNU_TIME: &str = "/usr/bin/time";

/// The floor a start-up is compared with: spawning a program that does nothing.
pub const TRUE: &str = "/usr/bin/true";

pub struct Startup {
    pub runs: Vec<Duration>,
    /// The same for `TRUE`, on the same machine, interleaved with the runs above.
    pub floor: Vec<Duration>,
    pub version: String,
}

fn spawn_timed(program: &Path, args: &[&str]) -> Result<Duration, String> {
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run `{}`: {e}", program.display()))?;
    let elapsed = start.elapsed();
    if !status.success() {
        return Err(format!("`{}` exited {status}", program.display()));
    }
    Ok(elapsed)
}

/// Spawn `binary --version` and wait for it, `STARTUP_RUNS` times, each followed by `TRUE`.
pub fn startup(binary: &Path) -> Result<Startup, String> {
    let version = Command::new(binary)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{} --version`: {e}", binary.display()))?;
    if !version.status.success() {
        return Err(format!(
            "`{} --version` exited {}",
            binary.display(),
            version.status
        ));
    }
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let mut runs = Vec::with_capacity(STARTUP_RUNS);
    let mut floor = Vec::with_capacity(STARTUP_RUNS);
    for i in 0..STARTUP_WARMUP + STARTUP_RUNS {
        let run = spawn_timed(binary, &["--version"])?;
        let nothing = spawn_timed(Path::new(TRUE), &[])?;
        if i >= STARTUP_WARMUP {
            runs.push(run);
            floor.push(nothing);
        }
    }
    Ok(Startup {
        runs,
        floor,
        version,
    })
}

/// Peak resident set, in KiB, of `program args` under GNU time.
fn max_rss_kib(mut command: Command, rss_file: &Path) -> Result<u64, String> {
    let out = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {GNU_TIME}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "the command exited {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text =
        std::fs::read_to_string(rss_file).map_err(|e| format!("no output from time: {e}"))?;
    // GNU time prints `%M` on the last line (a line before it may say the command's status).
    text.lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| format!("unreadable output of time: {text:?}"))
}

fn gnu_time(rss_file: &Path) -> Result<Command, String> {
    if !Path::new(GNU_TIME).exists() {
        return Err(format!(
            "{GNU_TIME} is missing (Debian package `time`; .ci/bench installs it)"
        ));
    }
    let mut command = Command::new(GNU_TIME);
    command.args(["-f", "%M", "-o"]).arg(rss_file);
    Ok(command)
}

/// The floor a peak memory is compared with: the binary's own `--version`, in KiB.
pub fn version_rss_kib(binary: &Path) -> Result<u64, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("no temp dir: {e}"))?;
    let rss_file = dir.path().join("max-rss");
    let mut command = gnu_time(&rss_file)?;
    command.arg(binary).arg("--version");
    max_rss_kib(command, &rss_file)
}

/// One fan-out apply of the release binary, measured.
pub struct MemoryRun {
    /// Peak resident set of the child, in KiB (GNU time's `%M`).
    pub max_rss_kib: u64,
    pub wall: Duration,
    pub requests: usize,
    pub writes: usize,
}

const TOKEN: &str = "bench-token";

/// The sandbox here enforces no secondary limit, and the config says so: at GitHub's 180 writes
/// a minute the 1,000 writes would take minutes, and memory is what is measured.
fn fan_config(api_url: &str) -> String {
    let mut toml = format!(
        "[github]\napi_url = \"{api_url}\"\n\n[github.limits]\npoints = 1000000\nwindow_secs = 1\n\n"
    );
    for i in 1..=FAN_SECRETS {
        toml.push_str(&format!(
            "[secrets.FAN_{i}]\nvalue = \"fan-value-{i}-0123456789abcdef0123456789\"\n\n"
        ));
    }
    toml.push_str("[[targets]]\nrepos = { org = \"fan\", match = \"svc-*\" }\n");
    toml
}

/// `secretsync apply --yes` by the release binary, as a child under GNU time, against a fresh
/// sandbox in this process (org `fan`: svc-000 … svc-199, and `website`, which does not match),
/// with a fresh state folder: the first apply, which creates all 1,000 secrets.
pub fn memory_run(binary: &Path) -> Result<MemoryRun, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("no temp dir: {e}"))?;
    let rss_file = dir.path().join("max-rss");
    let mut command = gnu_time(&rss_file)?;
    let sandbox = Sandbox::spawn(SandboxConfig {
        token: TOKEN.into(),
        ..SandboxConfig::default()
    })
    .map_err(|e| format!("cannot start the sandbox: {e}"))?;
    sandbox.add_org("fan");
    for i in 0..FAN_REPOS {
        sandbox.add_repo(&format!("fan/svc-{i:03}"));
    }
    sandbox.add_repo("fan/website");
    let config = dir.path().join("secretsync.toml");
    std::fs::write(&config, fan_config(&sandbox.api_url()))
        .map_err(|e| format!("cannot write the config: {e}"))?;
    let state_dir: PathBuf = dir.path().join("state");
    command
        .arg(binary)
        .args(["apply", "--yes", "--config"])
        .arg(&config)
        .arg("--state-dir")
        .arg(&state_dir)
        .env("GH_TOKEN", TOKEN)
        .env_remove("GITHUB_TOKEN")
        .env_remove("SECRETSYNC_CONFIG");

    sandbox.clear_requests();
    let start = Instant::now();
    let max_rss_kib =
        max_rss_kib(command, &rss_file).map_err(|e| format!("the fan-out apply: {e}"))?;
    let wall = start.elapsed();
    let requests = sandbox.requests();
    let writes = requests.iter().filter(|r| r.method == "PUT").count();
    if writes != FAN_REPOS * FAN_SECRETS {
        return Err(format!(
            "the fan-out apply wrote {writes} secrets, not {}",
            FAN_REPOS * FAN_SECRETS
        ));
    }
    Ok(MemoryRun {
        max_rss_kib,
        wall,
        requests: requests.len(),
        writes,
    })
}
