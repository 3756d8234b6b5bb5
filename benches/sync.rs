//! `cargo bench --bench sync [-- --write BENCHMARKS.md]`
//!
//! Drives secretsync in-process (`secretsync::run`, exactly what the binary does) against its
//! built-in sandbox with 100 ms of injected latency per request, and compares the requests the
//! sandbox saw and the wall time of the measured command with the ideal for each case.
//!
//! Every trial runs in a fresh child process (this same executable, re-run with `--trial CASE`)
//! with a fresh sandbox and a fresh state folder. The child's stdout, where secretsync prints its
//! usual report, goes to /dev/null so this process's stdout carries only the Markdown report; the
//! child hands its measurements back on stderr, on lines that start with `RESULT_PREFIX`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use secretsync::sandbox::{RequestRecord, Sandbox, SandboxConfig};

const LATENCY: Duration = Duration::from_millis(100);
const CONCURRENCY: u64 = 4;
const RUNS: usize = 5;
const TOKEN: &str = "bench-token";
const RESULT_PREFIX: &str = "secretsync-bench-result:";
const REPRODUCE: &str = "cargo bench --bench sync -- --write BENCHMARKS.md";

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
    let mut write_to = None;
    let mut trial = None;
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

    let report = report(&results);
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
        let mut args: Vec<std::ffi::OsString> = vec!["secretsync".into(), "--config".into()];
        args.push(config_path.clone().into());
        args.push("--state-dir".into());
        args.push(state_dir.clone().into());
        args.extend(["--concurrency", &CONCURRENCY.to_string(), "apply", "--yes"].map(Into::into));
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

fn report(results: &[(Case, Vec<Trial>)]) -> String {
    let c = CONCURRENCY;
    let latency_ms = LATENCY.as_millis();
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(w, "# secretsync benchmarks\n");
    let _ = writeln!(
        w,
        "This file is generated by `benches/sync.rs`. It measures how many requests `secretsync apply` \
         sends to GitHub and how long it takes, against the ideal for each situation. It runs \
         secretsync in-process (`secretsync::run`, exactly what the binary does) against the \
         built-in sandbox, a local in-memory GitHub that delays every answer by {latency_ms} ms, \
         so that the time taken is dominated by round trips the way it is against the real \
         GitHub. Each command runs with `--concurrency {c}` (the default)."
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
    let _ = writeln!(w, "Reproduce with:\n\n```sh\n{REPRODUCE}\n```\n");
    let _ = writeln!(
        w,
        "(`cargo bench --bench sync` alone prints the same report without writing the file.)\n"
    );

    let _ = writeln!(w, "## Machine\n");
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let arch = command_output("uname", &["-m"]).unwrap_or_else(|| std::env::consts::ARCH.into());
    let rustc = command_output("rustc", &["--version"]).unwrap_or_else(|| "rustc not found".into());
    let _ = writeln!(w, "| | |\n|---|---|");
    let _ = writeln!(w, "| nproc | {nproc} |");
    let _ = writeln!(w, "| `uname -m` | {arch} |");
    let _ = writeln!(w, "| OS | {} |", std::env::consts::OS);
    if let Some(model) = cpu_model() {
        let _ = writeln!(w, "| CPU | {model} |");
    }
    let _ = writeln!(w, "| `rustc --version` | {rustc} |");
    let _ = writeln!(w, "| profile | bench (optimized) |");
    let commit = command_output("git", &["describe", "--always", "--dirty"])
        .map_or_else(String::new, |c| format!(", commit {c}"));
    let _ = writeln!(w, "| secretsync | {}{commit} |", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(w);

    let _ = writeln!(w, "## Summary\n");
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
        let _ = writeln!(w, "## {}\n", case.title());
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
    md
}
