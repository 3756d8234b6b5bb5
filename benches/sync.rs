//! `cargo bench --bench sync [-- --write BENCHMARKS.md] [--criterion DIR] [--binary PATH]`
//!
//! The report generator of BENCHMARKS.md; `.ci/bench` is the one command that runs everything in
//! order (release build, `benches/micro.rs` under criterion, then this) and writes the file.
//!
//! 1. Drives secretsync in-process (`secretsync::run`, exactly what the binary does) against its
//!    built-in sandbox with 100 ms of injected latency per request, and compares the requests the
//!    sandbox saw and the wall time of the measured command with the ideal for each case.
//! 2. Reads the criterion medians of `benches/micro.rs` from `--criterion DIR` (default
//!    `target/criterion`).
//! 3. Times the start-up of the release binary (`--binary PATH`, default
//!    `target/release/secretsync`): `--version`, spawned and waited for, 30 times.
//! 4. Measures the peak memory of that binary applying 5 secrets to 200 repositories, under GNU
//!    time, against a sandbox in this process.
//!
//! Every trial of 1 runs in a fresh child process (this same executable, re-run with
//! `--trial CASE`) with a fresh sandbox and a fresh state folder. The child's stdout, where
//! secretsync prints its usual report, goes to /dev/null so this process's stdout carries only the
//! Markdown report; the child hands its measurements back on stderr, on lines that start with
//! `RESULT_PREFIX`.

mod binary;
mod micro_figures;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use secretsync_sandbox::{RequestRecord, Sandbox, SandboxConfig};

const LATENCY: Duration = Duration::from_millis(100);
const CONCURRENCY: u64 = 4;
const RUNS: usize = 5;
const TOKEN: &str = "bench-token";
const RESULT_PREFIX: &str = "secretsync-bench-result:";
const REPRODUCE: &str = "bash .ci/bench";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    FirstApply,
    Rotation,
    NoOp,
}

const CASES: [Case; 3] = [Case::FirstApply, Case::Rotation, Case::NoOp];

impl Case {
    fn id(self) -> &'static str {
        match self {
            Case::FirstApply => "first-apply",
            Case::Rotation => "rotation",
            Case::NoOp => "no-op",
        }
    }

    fn from_id(id: &str) -> Option<Case> {
        CASES.into_iter().find(|c| c.id() == id)
    }

    fn title(self) -> &'static str {
        match self {
            Case::FirstApply => "First apply: 100 secrets, 1 repository",
            Case::Rotation => "Rotation: 1 of 100 secrets changed, 1 repository",
            Case::NoOp => "No-op apply: 50 repositories × 4 secrets, nothing changed",
        }
    }

    fn repos(self) -> Vec<String> {
        match self {
            Case::FirstApply | Case::Rotation => vec!["bench/app".to_owned()],
            Case::NoOp => (1..=50).map(|i| format!("bench/app{i:02}")).collect(),
        }
    }

    fn secrets(self) -> usize {
        match self {
            Case::FirstApply | Case::Rotation => 100,
            Case::NoOp => 4,
        }
    }

    /// (writes, changed targets, unchanged targets) of the measured command.
    fn shape(self) -> (u64, u64, u64) {
        match self {
            Case::FirstApply => (100, 1, 0),
            Case::Rotation => (1, 1, 0),
            Case::NoOp => (0, 0, 50),
        }
    }

    /// Changes, plus list before, public key and list after per changed target, plus one list
    /// per unchanged target.
    fn ideal_requests(self) -> u64 {
        let (writes, changed, unchanged) = self.shape();
        writes + 3 * changed + unchanged
    }

    /// The same, by method and path pattern.
    fn ideal_breakdown(self) -> BTreeMap<String, u64> {
        let (writes, changed, unchanged) = self.shape();
        let mut ideal = BTreeMap::new();
        let mut add = |key: &str, n: u64| {
            if n > 0 {
                *ideal.entry(key.to_owned()).or_insert(0) += n;
            }
        };
        add(
            "GET /repos/{owner}/{repo}/actions/secrets",
            2 * changed + unchanged,
        );
        add(
            "GET /repos/{owner}/{repo}/actions/secrets/public-key",
            changed,
        );
        add("PUT /repos/{owner}/{repo}/actions/secrets/{name}", writes);
        ideal
    }

    /// Latency rounds on the critical path at the concurrency bound, and how they add up.
    fn ideal_rounds(self) -> (u64, String) {
        let c = CONCURRENCY;
        match self {
            Case::FirstApply => {
                let writes = 100u64.div_ceil(c);
                (
                    1 + 1 + writes + 1,
                    format!("1 list + 1 key + ⌈100/{c}⌉ = {writes} write rounds + 1 list"),
                )
            }
            Case::Rotation => (4, "1 list + 1 key + 1 write + 1 list".to_owned()),
            Case::NoOp => {
                let lists = 50u64.div_ceil(c);
                (lists, format!("⌈50/{c}⌉ = {lists} rounds of lists"))
            }
        }
    }

    fn ideal_wall(self) -> Duration {
        LATENCY * u32::try_from(self.ideal_rounds().0).expect("few rounds")
    }
}

/// What one trial measured.
struct Trial {
    exit: i32,
    wall: Duration,
    max_in_flight: usize,
    requests: Vec<RequestRecord>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut write_to = None;
    let mut trial = None;
    let mut criterion_dir = manifest_dir.join("target/criterion");
    let mut binary_path = manifest_dir.join("target/release/secretsync");
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--write" => {
                i += 1;
                match args.get(i) {
                    Some(path) => write_to = Some(path.clone()),
                    None => fail("--write needs a file name, e.g. --write BENCHMARKS.md"),
                }
            }
            "--criterion" => {
                i += 1;
                match args.get(i) {
                    Some(dir) => criterion_dir = PathBuf::from(dir),
                    None => fail("--criterion needs a folder, e.g. --criterion target/criterion"),
                }
            }
            "--binary" => {
                i += 1;
                match args.get(i) {
                    Some(path) => binary_path = PathBuf::from(path),
                    None => fail("--binary needs a file, e.g. --binary target/release/secretsync"),
                }
            }
            "--trial" => {
                i += 1;
                match args.get(i).and_then(|id| Case::from_id(id)) {
                    Some(case) => trial = Some(case),
                    None => fail("--trial needs a case: first-apply, rotation or no-op"),
                }
            }
            // `cargo bench` passes `--bench`; filters and other harness flags mean nothing here.
            _ => {}
        }
        i += 1;
    }

    if let Some(case) = trial {
        run_trial(case);
        return;
    }

    let mut results = Vec::new();
    for case in CASES {
        let mut trials = Vec::new();
        for run in 1..=RUNS {
            eprintln!("secretsync bench: {} run {run}/{RUNS}", case.id());
            trials.push(spawn_trial(case));
        }
        results.push((case, trials));
    }

    let micro = micro_figures::BENCHES
        .iter()
        .map(|&(group, bench, _)| micro_figures::read(&criterion_dir, group, bench))
        .collect();
    eprintln!("secretsync bench: start-up of {}", binary_path.display());
    let startup = binary::startup(&binary_path);
    if let Err(e) = &startup {
        eprintln!("secretsync bench: start-up not measured: {e}");
    }
    let memory = (1..=binary::MEMORY_RUNS)
        .map(|run| {
            eprintln!(
                "secretsync bench: fan-out memory run {run}/{}",
                binary::MEMORY_RUNS
            );
            binary::memory_run(&binary_path)
        })
        .collect::<Result<Vec<_>, String>>();
    if let Err(e) = &memory {
        eprintln!("secretsync bench: peak memory not measured: {e}");
    }
    let extras = Extras {
        micro,
        startup,
        memory,
        version_rss_kib: binary::version_rss_kib(&binary_path),
        binary: binary_path,
        sync_secs: started.elapsed().as_secs_f64(),
    };

    let report = report(&results, &extras);
    print!("{report}");
    if let Some(path) = write_to {
        // `cargo bench` runs benches from the package root, so a relative name lands beside
        // Cargo.toml.
        if let Err(e) = std::fs::write(&path, &report) {
            fail(&format!("cannot write {path}: {e}"));
        }
        eprintln!("secretsync bench: wrote {path}");
    }
}

fn fail(message: &str) -> ! {
    eprintln!("secretsync bench: {message}");
    std::process::exit(1);
}

// ---------------------------------------------------------------------------------------------
// The child: one trial.

fn run_trial(case: Case) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&format!("no temp dir: {e}")));
    let state_dir = dir.path().join("state");
    let config_path = dir.path().join("secretsync.toml");
    let sandbox = Sandbox::spawn(SandboxConfig {
        latency: LATENCY,
        token: TOKEN.into(),
        ..SandboxConfig::default()
    })
    .unwrap_or_else(|e| fail(&format!("cannot start the sandbox: {e}")));
    for repo in case.repos() {
        sandbox.add_repo(&repo);
    }
    std::fs::write(dir.path().join("token"), TOKEN).expect("write the token file");
    std::fs::write(dir.path().join("rotated.txt"), "rotated-value-before\n")
        .expect("write the rotated value");
    std::fs::write(&config_path, config(case, &sandbox.api_url())).expect("write the config");

    let apply = || {
        let mut args: Vec<std::ffi::OsString> = ["secretsync", "apply", "--yes", "--config"]
            .map(Into::into)
            .to_vec();
        args.push(config_path.clone().into());
        args.push("--state-dir".into());
        args.push(state_dir.clone().into());
        args.extend(["--concurrency", &CONCURRENCY.to_string()].map(Into::into));
        secretsync::run(args)
    };

    if case != Case::FirstApply {
        // The preparatory first apply is not measured, so it need not wait out the latency.
        sandbox.set_latency(Duration::ZERO);
        let exit = apply();
        if exit != 0 {
            fail(&format!(
                "{}: the preparatory apply exited {exit}",
                case.id()
            ));
        }
        if case == Case::Rotation {
            std::fs::write(dir.path().join("rotated.txt"), "rotated-value-after\n")
                .expect("rotate the value");
        }
        sandbox.set_latency(LATENCY);
    }

    sandbox.clear_requests();
    sandbox.reset_max_in_flight();
    let start = Instant::now();
    let exit = apply();
    let wall = start.elapsed();
    let requests = sandbox.requests();

    let mut line = format!(
        "{RESULT_PREFIX} trial exit={exit} wall_ns={} max_in_flight={}",
        wall.as_nanos(),
        sandbox.max_in_flight()
    );
    for r in &requests {
        let query = if r.query.is_empty() { "-" } else { &r.query };
        let _ = write!(
            line,
            "\n{RESULT_PREFIX} request {} {} {} {}",
            r.method, r.path, query, r.status
        );
    }
    eprintln!("{line}");
}

fn config(case: Case, api_url: &str) -> String {
    let mut toml = format!("[github]\napi_url = \"{api_url}\"\ntoken = {{ file = \"token\" }}\n\n");
    let n = case.secrets();
    for i in 1..=n {
        if case == Case::Rotation && i == n {
            let _ = writeln!(toml, "[secrets.BENCH_{i:03}]\nfile = \"rotated.txt\"\n");
        } else {
            let _ = writeln!(
                toml,
                "[secrets.BENCH_{i:03}]\nvalue = \"bench-value-{i:03}-0123456789abcdef\"\n"
            );
        }
    }
    let repos = case.repos();
    if let [repo] = repos.as_slice() {
        let _ = writeln!(toml, "[[targets]]\nrepo = \"{repo}\"");
    } else {
        let list: Vec<String> = repos.iter().map(|r| format!("\"{r}\"")).collect();
        let _ = writeln!(toml, "[[targets]]\nrepos = [{}]", list.join(", "));
    }
    toml
}

// ---------------------------------------------------------------------------------------------
// The parent: run the trials, then report.

fn spawn_trial(case: Case) -> Trial {
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(&format!("no current exe: {e}")));
    let mut child = Command::new(exe)
        .args(["--trial", case.id()])
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .env_remove("SECRETSYNC_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("cannot start a trial: {e}")));
    let stderr = child.stderr.take().expect("piped stderr");
    let mut trial = None;
    let mut requests = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap_or_else(|e| fail(&format!("reading a trial: {e}")));
        let Some(rest) = line.strip_prefix(RESULT_PREFIX) else {
            // secretsync's own diagnostics (warnings and errors) pass through.
            eprintln!("  | {line}");
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        match fields.as_slice() {
            ["trial", exit, wall, in_flight] => {
                let value = |field: &str| field.split_once('=').map_or("", |(_, v)| v).to_owned();
                trial = Some(Trial {
                    exit: value(exit).parse().unwrap_or(-1),
                    wall: Duration::from_nanos(value(wall).parse().unwrap_or(0)),
                    max_in_flight: value(in_flight).parse().unwrap_or(0),
                    requests: Vec::new(),
                });
            }
            ["request", method, path, query, status] => requests.push(RequestRecord {
                method: (*method).to_owned(),
                path: (*path).to_owned(),
                query: if *query == "-" {
                    String::new()
                } else {
                    (*query).to_owned()
                },
                status: status.parse().unwrap_or(0),
            }),
            _ => fail(&format!("unreadable trial line: {line}")),
        }
    }
    let status = child.wait().expect("wait for a trial");
    let mut trial = trial.unwrap_or_else(|| fail(&format!("{} trial failed: {status}", case.id())));
    trial.requests = requests;
    trial
}

/// `GET /repos/bench/app/actions/secrets/BENCH_001` → `GET /repos/{owner}/{repo}/actions/secrets/{name}`.
fn pattern(r: &RequestRecord) -> String {
    let segments: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    for (i, segment) in segments.iter().enumerate() {
        let generic = match (i, segments.first()) {
            (1, Some(&"repos")) => "{owner}",
            (2, Some(&"repos")) => "{repo}",
            (1, Some(&"orgs")) => "{org}",
            _ if i > 0
                && matches!(segments[i - 1], "secrets" | "variables")
                && *segment != "public-key" =>
            {
                "{name}"
            }
            _ if i > 0 && segments[i - 1] == "environments" => "{environment}",
            _ => segment,
        };
        out.push(generic);
    }
    format!("{} /{}", r.method, out.join("/"))
}

fn breakdown(requests: &[RequestRecord]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for r in requests {
        *counts.entry(pattern(r)).or_insert(0) += 1;
    }
    counts
}

fn median<T: Copy + Ord>(values: &[T]) -> T {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

/// What the report needs besides the sync trials.
struct Extras {
    micro: Vec<Result<micro_figures::Figure, String>>,
    startup: Result<binary::Startup, String>,
    memory: Result<Vec<binary::MemoryRun>, String>,
    version_rss_kib: Result<u64, String>,
    binary: PathBuf,
    /// How long this process took until the report (sync trials, start-up, memory).
    sync_secs: f64,
}

fn median_f64(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// `1944250` → `1,944,250`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// A number of seconds that `.ci/bench` passes in the environment.
fn env_secs(name: &str) -> Option<f64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

fn minutes(secs: f64) -> String {
    if secs >= 90.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{secs:.0} s")
    }
}

fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let parts: Vec<&str> = text.split_whitespace().take(3).collect();
    (parts.len() == 3).then(|| parts.join(" "))
}

/// `abc1234`, plus `-dirty` and the changed files when tracked files differ from that commit.
fn commit() -> String {
    let Some(head) = command_output("git", &["rev-parse", "--short", "HEAD"]) else {
        return "unknown (not a git checkout)".to_owned();
    };
    // The report itself does not make the code measured any different.
    let changed = command_output("git", &["diff", "--name-only", "HEAD"])
        .map(|text| {
            text.lines()
                .filter(|p| *p != "BENCHMARKS.md")
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if changed.is_empty() {
        head
    } else {
        format!(
            "{head}-dirty (changed, not committed: {})",
            changed.join(", ")
        )
    }
}

fn report(results: &[(Case, Vec<Trial>)], extras: &Extras) -> String {
    let c = CONCURRENCY;
    let latency_ms = LATENCY.as_millis();
    let mut md = String::new();
    let w = &mut md;

    // How long the whole command took, from the timings `.ci/bench` hands in.
    let build = env_secs("SECRETSYNC_BENCH_BUILD_SECS");
    let micro = env_secs("SECRETSYNC_BENCH_MICRO_SECS");
    let total = env_secs("SECRETSYNC_BENCH_STARTED").map(|started| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        now - started
    });

    let _ = writeln!(w, "# secretsync benchmarks\n");
    let took = total.map_or_else(String::new, |t| {
        format!(" The last run took {} on the machine below;", minutes(t))
    });
    let _ = writeln!(
        w,
        "Every number in this file is written by one command, `{REPRODUCE}`, and none by hand \
         (`benches/sync.rs` writes the file; `benches/micro.rs` holds the criterion \
         benchmarks).{took} too slow for CI, it is run by hand when a change may have moved a \
         figure. Each figure is a median over several runs, and each is set beside what it \
         would ideally be:"
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "1. **Requests and wall time of `apply`** against a local fake GitHub that waits \
         {latency_ms} ms before every answer, so that time is spent on round trips as it is \
         against the real GitHub. Compared with the fewest requests that could do the job and \
         the fewest {latency_ms} ms rounds they need at the default concurrency of {c}. Three \
         cases: the first apply of 100 secrets to one repository, the rotation of 1 secret of \
         100, and an apply that changes nothing on 50 repositories × 4 secrets."
    );
    let _ = writeln!(
        w,
        "2. **CPU time of the steps between requests**, measured by criterion: sealing one \
         value (the encryption GitHub requires), fingerprinting one value (how secretsync tells \
         later whether a value changed), and planning 1,000 secrets. Compared with one \
         {latency_ms} ms round trip, the unit every apply is made of."
    );
    let _ = writeln!(
        w,
        "3. **Start-up time** of the release binary: `secretsync --version`, started and waited \
         for. Compared with starting `{}`, a program that does nothing: the cost of any process \
         on this machine.",
        binary::TRUE
    );
    let _ = writeln!(
        w,
        "4. **Peak memory** (maximum resident set) of the release binary applying 5 secrets to \
         each of 200 repositories that it finds by listing an organization. Compared with the \
         same binary printing `--version`: what it costs to be loaded at all."
    );
    let _ = writeln!(w);

    let _ = writeln!(w, "## Reproduce\n");
    let _ = writeln!(w, "```sh\n{REPRODUCE}\n```\n");
    let _ = writeln!(
        w,
        "It installs GNU time (`/usr/bin/time`, Debian package `time`) if it is missing, builds \
         the release binary and the benchmarks, runs `cargo bench --bench micro` (criterion; \
         its raw output stays in `target/criterion/`), then `cargo bench --bench sync -- --write \
         BENCHMARKS.md`, which runs figures 1, 3 and 4 and writes this file. It is not part of \
         CI (`.ci/run`)."
    );
    let _ = writeln!(w);
    if build.is_some() || micro.is_some() || total.is_some() {
        let part = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), minutes);
        let _ = writeln!(
            w,
            "Time taken by the last run: building {}; criterion {}; figures 1, 3 and 4 {}; \
             in all {}. The build time depends on what was already built (from scratch, expect \
             several more minutes), and a source file changed during the run makes cargo \
             rebuild before the next phase.\n",
            part(build),
            part(micro),
            minutes(extras.sync_secs),
            part(total),
        );
    }

    let _ = writeln!(w, "## Machine\n");
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let arch = command_output("uname", &["-m"]).unwrap_or_else(|| std::env::consts::ARCH.into());
    let rustc = command_output("rustc", &["--version"]).unwrap_or_else(|| "rustc not found".into());
    let _ = writeln!(w, "| | |\n|---|---|");
    let _ = writeln!(w, "| nproc | {nproc} |");
    let _ = writeln!(w, "| `uname -m` | {arch} |");
    let _ = writeln!(w, "| OS | {} |", std::env::consts::OS);
    let _ = writeln!(
        w,
        "| CPU | {} |",
        cpu_model().unwrap_or_else(|| "unknown".into())
    );
    let _ = writeln!(w, "| `rustc --version` | {rustc} |");
    let _ = writeln!(
        w,
        "| profile | release (`cargo build --release`; benches: bench, which is release) |"
    );
    let _ = writeln!(
        w,
        "| secretsync | {}, commit {} |",
        env!("CARGO_PKG_VERSION"),
        commit()
    );
    if let Some(start) = std::env::var("SECRETSYNC_BENCH_LOAD_START")
        .ok()
        .filter(|l| !l.trim().is_empty())
    {
        let _ = writeln!(
            w,
            "| load average (1, 5, 15 min) at the start | {} |",
            start.trim()
        );
    }
    if let Some(end) = load_average() {
        let _ = writeln!(w, "| load average (1, 5, 15 min) at the end | {end} |");
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "A load average above nproc means other work shared the CPUs during the run; the \
         CPU-bound figures (2, 3, and the part of 1 above the ideal) are then pessimistic.\n"
    );

    at_a_glance(w, results, extras);

    let _ = writeln!(
        w,
        "## 1. Requests and wall time of `apply` against the ideal\n"
    );
    let _ = writeln!(
        w,
        "secretsync runs in-process (`secretsync::run`, exactly what the binary does) against \
         the built-in sandbox, a local in-memory GitHub that delays every answer by \
         {latency_ms} ms. Each command runs with `--concurrency {c}` (the default)."
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Each case runs {RUNS} times, each time in a fresh process with a fresh sandbox and a \
         fresh state folder. For the rotation and no-op cases a first apply (not measured, with \
         no injected latency) prepares the sandbox and the state, then only the second apply is \
         measured. The request count is what the sandbox saw during the measured command; the \
         wall time is the median of the {RUNS} runs, from the call of `secretsync::run` to its \
         return (config, token, planning, sealing, writes, the listing after, the state file)."
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "The ideal request count is: one write per change, plus three requests per target that \
         changes (the list of secrets before, the public key, the list after), plus one list per \
         target that does not change. The ideal wall time is the critical path at the concurrency \
         bound c = {c}: the number of latency rounds that cannot overlap, times {latency_ms} ms. \
         A ratio of 1.00 is the ideal; above it is overhead."
    );
    let _ = writeln!(w);

    let _ = writeln!(w, "### Summary\n");
    let _ = writeln!(
        w,
        "Injected latency {latency_ms} ms per request, `--concurrency {c}`, median of {RUNS} runs.\n"
    );
    let _ = writeln!(
        w,
        "| case | requests | ideal requests | ratio | wall time (median) | ideal wall time | ratio | exit codes |"
    );
    let _ = writeln!(w, "|---|---:|---:|---:|---:|---:|---:|---|");
    for (case, trials) in results {
        let counts: Vec<usize> = trials.iter().map(|t| t.requests.len()).collect();
        let count = median(&counts);
        let (lo, hi) = (
            counts.iter().min().copied().unwrap_or(0),
            counts.iter().max().copied().unwrap_or(0),
        );
        let count_text = if lo == hi {
            count.to_string()
        } else {
            format!("{count} ({lo}–{hi})")
        };
        let wall = median(&trials.iter().map(|t| t.wall).collect::<Vec<_>>());
        let ideal_requests = case.ideal_requests();
        let ideal_wall = case.ideal_wall();
        let exits: Vec<String> = trials.iter().map(|t| t.exit.to_string()).collect();
        let _ = writeln!(
            w,
            "| {} | {count_text} | {ideal_requests} | {:.2} | {} | {} | {:.2} | {} |",
            case.title(),
            count as f64 / ideal_requests as f64,
            secs(wall),
            secs(ideal_wall),
            wall.as_secs_f64() / ideal_wall.as_secs_f64(),
            exits.join(" "),
        );
    }
    let _ = writeln!(w);

    for (case, trials) in results {
        let _ = writeln!(w, "### {}\n", case.title());
        let (rounds, how) = case.ideal_rounds();
        let _ = writeln!(
            w,
            "Ideal wall time: {how} = {rounds} × {latency_ms} ms = {}.\n",
            secs(case.ideal_wall())
        );
        let walls: Vec<String> = trials.iter().map(|t| secs(t.wall)).collect();
        let in_flight: Vec<String> = trials.iter().map(|t| t.max_in_flight.to_string()).collect();
        let _ = writeln!(w, "- wall time of each run: {}", walls.join(", "));
        let _ = writeln!(
            w,
            "- most requests in flight at once, each run: {} (bound: {c})",
            in_flight.join(", ")
        );
        let failed: usize = trials
            .iter()
            .flat_map(|t| &t.requests)
            .filter(|r| !(200..300).contains(&r.status))
            .count();
        let _ = writeln!(
            w,
            "- answers that were not 2xx, all runs together: {failed}\n"
        );

        // Requests by method and path pattern; the run with the median count stands for all
        // (they are listed separately when the runs differ).
        let ideal = case.ideal_breakdown();
        let per_run: Vec<BTreeMap<String, u64>> =
            trials.iter().map(|t| breakdown(&t.requests)).collect();
        let all_same = per_run.windows(2).all(|p| p[0] == p[1]);
        let mut keys: Vec<String> = ideal.keys().cloned().collect();
        for run in &per_run {
            keys.extend(run.keys().cloned());
        }
        keys.sort();
        keys.dedup();
        if all_same {
            let _ = writeln!(w, "| request | measured (every run) | ideal | extra |");
            let _ = writeln!(w, "|---|---:|---:|---:|");
        } else {
            let header: Vec<String> = (1..=trials.len()).map(|i| format!("run {i}")).collect();
            let _ = writeln!(w, "| request | {} | ideal |", header.join(" | "));
            let _ = writeln!(w, "|---|{}---:|", "---:|".repeat(trials.len()));
        }
        for key in &keys {
            let want = ideal.get(key).copied().unwrap_or(0);
            if all_same {
                let got = per_run[0].get(key).copied().unwrap_or(0);
                let extra = got as i64 - want as i64;
                let _ = writeln!(w, "| `{key}` | {got} | {want} | {extra:+} |");
            } else {
                let got: Vec<String> = per_run
                    .iter()
                    .map(|run| run.get(key).copied().unwrap_or(0).to_string())
                    .collect();
                let _ = writeln!(w, "| `{key}` | {} | {want} |", got.join(" | "));
            }
        }
        let _ = writeln!(w);
    }

    micro_section(w, extras);
    startup_section(w, extras);
    memory_section(w, extras);
    md
}

fn median_duration(values: &[Duration]) -> Duration {
    Duration::from_secs_f64(median_f64(
        &values.iter().map(Duration::as_secs_f64).collect::<Vec<_>>(),
    ))
}

fn median_rss_kib(runs: &[binary::MemoryRun]) -> u64 {
    median(&runs.iter().map(|r| r.max_rss_kib).collect::<Vec<_>>())
}

/// One table with the headline of every figure.
fn at_a_glance(w: &mut String, results: &[(Case, Vec<Trial>)], extras: &Extras) {
    let _ = writeln!(w, "## At a glance\n");
    let _ = writeln!(w, "| figure | median | compared with | ratio (or share) |");
    let _ = writeln!(w, "|---|---:|---|---:|");
    for (case, trials) in results {
        let wall = median(&trials.iter().map(|t| t.wall).collect::<Vec<_>>());
        let requests = median(&trials.iter().map(|t| t.requests.len()).collect::<Vec<_>>());
        let _ = writeln!(
            w,
            "| 1. {}: wall time ({requests} requests) | {} | ideal {} ({} requests) | {:.2} |",
            case.title(),
            secs(wall),
            secs(case.ideal_wall()),
            case.ideal_requests(),
            wall.as_secs_f64() / case.ideal_wall().as_secs_f64(),
        );
    }
    let round_ns = LATENCY.as_secs_f64() * 1e9;
    for (&(group, bench, what), figure) in micro_figures::BENCHES.iter().zip(&extras.micro) {
        match figure {
            Ok(f) => {
                let _ = writeln!(
                    w,
                    "| 2. `{group}/{bench}`: {what} | {} | one {} ms round trip | {:.3} % |",
                    micro_figures::human_ns(f.median_ns),
                    LATENCY.as_millis(),
                    100.0 * f.median_ns / round_ns,
                );
            }
            Err(_) => {
                let _ = writeln!(w, "| 2. `{group}/{bench}`: {what} | not measured | | |");
            }
        }
    }
    match &extras.startup {
        Ok(s) => {
            let run = median_duration(&s.runs);
            let floor = median_duration(&s.floor);
            let _ = writeln!(
                w,
                "| 3. start-up: `secretsync --version` | {} | `{}`: {} | {:.1} |",
                ms(run),
                binary::TRUE,
                ms(floor),
                run.as_secs_f64() / floor.as_secs_f64(),
            );
        }
        Err(_) => {
            let _ = writeln!(
                w,
                "| 3. start-up: `secretsync --version` | not measured | | |"
            );
        }
    }
    match (&extras.memory, &extras.version_rss_kib) {
        (Ok(runs), floor) => {
            let rss = median_rss_kib(runs);
            let (floor_text, ratio) = match floor {
                Ok(f) => (
                    format!("`secretsync --version`: {}", mib(*f)),
                    format!("{:.1}", rss as f64 / *f as f64),
                ),
                Err(_) => (String::new(), String::new()),
            };
            let _ = writeln!(
                w,
                "| 4. peak memory: `apply` of {} secrets to {} repositories | {} | {floor_text} | {ratio} |",
                binary::FAN_SECRETS,
                binary::FAN_REPOS,
                mib(rss),
            );
        }
        (Err(_), _) => {
            let _ = writeln!(w, "| 4. peak memory: fan-out `apply` | not measured | | |");
        }
    }
    let _ = writeln!(w);
}

fn micro_section(w: &mut String, extras: &Extras) {
    let latency_ms = LATENCY.as_millis();
    let round_ns = LATENCY.as_secs_f64() * 1e9;
    let _ = writeln!(
        w,
        "## 2. CPU time of the steps between requests (criterion)\n"
    );
    let _ = writeln!(
        w,
        "`benches/micro.rs`, run by criterion 0.5 with its defaults (3 s of warm-up, then 100 \
         samples over about 5 s, each sample many iterations). The figure is criterion's median \
         time per iteration (`target/criterion/<group>/<bench>/new/estimates.json`, `median`), \
         with its 95 % confidence interval. Inputs are made before timing: a fixed 32-byte \
         public key, printable values of 32 bytes and 4 KiB, a fingerprint key made by \
         `StateDir::key` in a temporary folder."
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "The plan's 1,000 secrets are a routine apply of a long-lived set: 85 % unchanged, 5 % \
         value changed, 2 % changed on GitHub since (drift), 3 % on GitHub with no record, 3 % \
         new, 2 % deleted on GitHub since the last apply, plus 50 names on GitHub that are not \
         declared (GitHub lists 1,000 names; 940 are recorded; `prune` off)."
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "| benchmark | what | median | 95 % interval | samples (iterations) | share of one {latency_ms} ms round trip |"
    );
    let _ = writeln!(w, "|---|---|---:|---:|---:|---:|");
    let mut missing = Vec::new();
    for (&(group, bench, what), figure) in micro_figures::BENCHES.iter().zip(&extras.micro) {
        match figure {
            Ok(f) => {
                let _ = writeln!(
                    w,
                    "| `{group}/{bench}` | {what} | {} | {} – {} | {} ({}) | {:.4} % |",
                    micro_figures::human_ns(f.median_ns),
                    micro_figures::human_ns(f.low_ns),
                    micro_figures::human_ns(f.high_ns),
                    f.samples,
                    thousands(f.iterations),
                    100.0 * f.median_ns / round_ns,
                );
            }
            Err(e) => {
                let _ = writeln!(w, "| `{group}/{bench}` | {what} | not measured | | | |");
                missing.push(e.clone());
            }
        }
    }
    let _ = writeln!(w);
    for e in missing {
        let _ = writeln!(
            w,
            "- not measured: {e} (run `cargo bench --bench micro` first, or `{REPRODUCE}`)"
        );
    }
    let figure = |group: &str, bench: &str| {
        micro_figures::BENCHES
            .iter()
            .zip(&extras.micro)
            .find(|((g, b, _), _)| *g == group && *b == bench)
            .and_then(|(_, f)| f.as_ref().ok())
    };
    if let (Some(seal), Some(fp), Some(plan)) = (
        figure("seal", "32B"),
        figure("fingerprint", "32B"),
        figure("plan", "1000_secrets"),
    ) {
        let per_secret = seal.median_ns + fp.median_ns;
        let _ = writeln!(
            w,
            "In words: sealing and fingerprinting one short secret takes {} of CPU, so the 100 \
             writes of the first apply in figure 1 spend about {} on them against {} of round \
             trips; planning costs {} per secret.\n",
            micro_figures::human_ns(per_secret),
            micro_figures::human_ns(per_secret * 100.0),
            secs(Case::FirstApply.ideal_wall()),
            micro_figures::human_ns(plan.median_ns / 1000.0),
        );
    }
}

fn startup_section(w: &mut String, extras: &Extras) {
    let _ = writeln!(w, "## 3. Start-up time\n");
    let _ = writeln!(
        w,
        "`{} --version`, spawned with `std::process::Command` and waited for (stdout and stderr \
         to /dev/null), {} times after {} unmeasured runs; after each, `{}` the same way, so \
         both see the same machine. The difference of the medians is what secretsync itself \
         costs to start (loading and relocating the binary, the runtime, parsing the arguments).",
        extras.binary.display(),
        binary::STARTUP_RUNS,
        3,
        binary::TRUE,
    );
    let _ = writeln!(w);
    match &extras.startup {
        Ok(s) => {
            let _ = writeln!(w, "Version: `{}`.\n", s.version);
            let _ = writeln!(w, "| command | median | min | max | runs |");
            let _ = writeln!(w, "|---|---:|---:|---:|---:|");
            for (name, runs) in [
                ("`secretsync --version`".to_owned(), &s.runs),
                (format!("`{}`", binary::TRUE), &s.floor),
            ] {
                let _ = writeln!(
                    w,
                    "| {name} | {} | {} | {} | {} |",
                    ms(median_duration(runs)),
                    ms(runs.iter().min().copied().unwrap_or_default()),
                    ms(runs.iter().max().copied().unwrap_or_default()),
                    runs.len(),
                );
            }
            let diff =
                median_duration(&s.runs).as_secs_f64() - median_duration(&s.floor).as_secs_f64();
            let _ = writeln!(w);
            let _ = writeln!(
                w,
                "secretsync's own start-up, median minus median: {:.2} ms.\n",
                diff * 1e3
            );
        }
        Err(e) => {
            let _ = writeln!(w, "Not measured: {e}.\n");
        }
    }
}

fn memory_section(w: &mut String, extras: &Extras) {
    let _ = writeln!(w, "## 4. Peak memory of a 200-repository fan-out\n");
    let _ = writeln!(
        w,
        "`{} apply --yes --config … --state-dir …` as a child process under GNU time \
         (`{} -f %M`, the maximum resident set in KiB, shown here in MiB = 1,024 KiB), with \
         `GH_TOKEN` set to the sandbox's token. The sandbox runs in the benchmark process (so \
         its memory is not counted) with organization `fan`: repositories `svc-000` … `svc-{:03}` \
         and `website`. The config declares {} secrets (literal values) and one target, \
         `repos = {{ org = \"fan\", match = \"svc-*\" }}`; each run starts from an empty sandbox \
         and an empty state folder, so it lists the organization, then creates all {} secrets. \
         No latency is injected: memory depends on what is held, not on how long answers take, \
         and the concurrency bound ({CONCURRENCY}) caps what is in flight either way. Median of \
         {} runs.",
        extras.binary.display(),
        binary::GNU_TIME,
        binary::FAN_REPOS - 1,
        binary::FAN_SECRETS,
        thousands((binary::FAN_REPOS * binary::FAN_SECRETS) as u64),
        binary::MEMORY_RUNS,
    );
    let _ = writeln!(w);
    match &extras.memory {
        Ok(runs) => {
            let _ = writeln!(w, "| run | max RSS | wall time | requests | writes |");
            let _ = writeln!(w, "|---|---:|---:|---:|---:|");
            for (i, r) in runs.iter().enumerate() {
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | {} | {} |",
                    i + 1,
                    mib(r.max_rss_kib),
                    secs(r.wall),
                    r.requests,
                    r.writes
                );
            }
            let _ = writeln!(
                w,
                "| **median** | **{}** | {} | | |",
                mib(median_rss_kib(runs)),
                secs(median_duration(
                    &runs.iter().map(|r| r.wall).collect::<Vec<_>>()
                )),
            );
            let _ = writeln!(w);
            match &extras.version_rss_kib {
                Ok(floor) => {
                    let _ = writeln!(
                        w,
                        "For comparison, `secretsync --version` under the same GNU time peaks at \
                         {}: the binary loaded, doing nothing. The fan-out adds {} to that.\n",
                        mib(*floor),
                        mib(median_rss_kib(runs).saturating_sub(*floor)),
                    );
                }
                Err(e) => {
                    let _ = writeln!(w, "(`secretsync --version` not measured: {e}.)\n");
                }
            }
        }
        Err(e) => {
            let _ = writeln!(w, "Not measured: {e}.\n");
        }
    }
}
