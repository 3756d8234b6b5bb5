//! `cargo bench --bench sync [-- --write BENCHMARKS.md] [--criterion DIR] [--binary PATH] [--gh PATH]`
//!
//! The report generator of BENCHMARKS.md; `.ci/bench` is the one command that runs everything in
//! order (release build, `benches/micro.rs` under criterion, then this) and writes the file.
//!
//! 1. Runs secretsync's release binary (`--binary PATH`, default `target/release/secretsync`)
//!    and gh (`--gh PATH`, default `gh` on the PATH) side by side against fresh sandboxes served
//!    over HTTPS with 100 ms of injected latency per request, and sets each case beside gh's wall
//!    time and the physical limit (`benches/versus/`).
//! 2. Reads the criterion medians of `benches/micro.rs` from `--criterion DIR` (default
//!    `target/criterion`).
//! 3. Times the start-up of the release binary: `--version`, spawned and waited for, 30 times.
//! 4. Measures the peak memory of that binary applying 5 secrets to 200 repositories, under GNU
//!    time, against a sandbox in this process.
//!
//! This process's stdout carries only the Markdown report; progress goes to stderr.

mod binary;
mod micro_figures;
mod versus;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use versus::{Case, CaseResult, LATENCY};

const REPRODUCE: &str = "bash .ci/bench";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut write_to = None;
    let mut gh_path = PathBuf::from("gh");
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
            "--gh" => {
                i += 1;
                match args.get(i) {
                    Some(path) => gh_path = PathBuf::from(path),
                    None => fail("--gh needs a file, e.g. --gh /usr/bin/gh"),
                }
            }
            // `cargo bench` passes `--bench`; filters and other harness flags mean nothing here.
            _ => {}
        }
        i += 1;
    }

    let gh_version = command_output(&gh_path.to_string_lossy(), &["--version"])
        .and_then(|v| v.lines().next().map(str::to_owned))
        .unwrap_or_else(|| format!("`{}` not found", gh_path.display()));
    let results = versus::run_all(&binary_path, &gh_path);

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
        gh_version,
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
    gh_version: String,
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

fn report(results: &[CaseResult], extras: &Extras) -> String {
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
        format!(" The last run took {} on the machine below.", minutes(t))
    });
    let _ = writeln!(
        w,
        "Every number in this file is written by one command, `{REPRODUCE}`, and none by hand \
         (`benches/sync.rs` writes the file; `benches/micro.rs` holds the criterion \
         benchmarks).{took} Too slow for CI, it is run by hand when a change may have moved a \
         figure. Each figure is a median over several runs, and each is set beside a reference \
         outside secretsync's own design: another tool doing the same job, or a physical floor:"
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "1. **Wall time, requests and round trips of `apply`, beside gh's and beside the \
         physical limit**, against a local fake GitHub that waits {latency_ms} ms before every \
         answer, so that time is spent on round trips as it is against the real GitHub. gh \
         (`gh secret set`) runs side by side in the same run. The physical limit is the fewest \
         round trips any client needs given GitHub's documented limits. Cases: the first apply \
         and a rotation of the 4 ALIYUN_* secrets, the same with 100 secrets, 160 writes under \
         secondary rate limits, and the primary budget a no-op apply over 200 repositories \
         spends."
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
        "It installs GNU time (`/usr/bin/time`, Debian package `time`) and GitHub's CLI (Debian \
         package `gh`) if they are missing, builds the release binary and the benchmarks, runs \
         `cargo bench --bench micro` (criterion; its raw output stays in `target/criterion/`), \
         then `cargo bench --bench sync -- --write BENCHMARKS.md`, which runs figures 1, 3 and \
         4 and writes this file. It is not part of \
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
         CPU-bound figures (2, 3, and the part of 1 above the physical limit) are then pessimistic.\n"
    );

    at_a_glance(w, results, extras);

    versus::report::section(w, results, &extras.gh_version);

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
fn at_a_glance(w: &mut String, results: &[CaseResult], extras: &Extras) {
    let _ = writeln!(w, "## At a glance\n");
    let _ = writeln!(w, "| figure | median | compared with | ratio (or share) |");
    let _ = writeln!(w, "|---|---:|---|---:|");
    versus::report::glance_rows(w, results);
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
             writes of the first apply of 100 in figure 1 spend about {} on them against the {} \
             its two round trips take at the least; planning costs {} per secret.\n",
            micro_figures::human_ns(per_secret),
            micro_figures::human_ns(per_secret * 100.0),
            secs(Case::First100.least().time),
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
         and the bound on requests in flight caps what is held at once either way. Median of \
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
