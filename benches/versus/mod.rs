//! Figure 1: secretsync against gh and against the physical limit, side by side in one run.
//!
//! Each case is run `runs()` times by each contender, interleaved (secretsync, then gh, then
//! secretsync again...) so that the machine's load falls on both alike; every trial has a fresh
//! sandbox over HTTPS with the same injected latency, and a fresh state folder. The physical
//! limit of a case is what any client needs given the information flow and GitHub's documented
//! limits, never what secretsync's own request plan happens to be.

pub mod report;
mod trial;

use std::path::Path;
use std::time::Duration;

use secretsync_sandbox::SecondaryLimit;

pub use trial::Trial;

/// Injected before every answer, about a round trip to api.github.com.
pub const LATENCY: Duration = Duration::from_millis(100);
/// Measured runs of each contender in each case, unless `SECRETSYNC_BENCH_RUNS` says otherwise
/// (fewer for a quick look; the report says how many).
pub fn runs() -> usize {
    std::env::var("SECRETSYNC_BENCH_RUNS")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5)
}
/// GitHub's documented secondary limit on concurrent requests: what bounds a round.
pub const GITHUB_MAX_IN_FLIGHT: u64 = 100;

/// The secondary limits of the limited case: GitHub's kind of limits (requests in flight, a
/// points budget per window per endpoint, a write costing 5 points), shrunk so that 160 writes
/// need four windows.
pub const LIMIT_IN_FLIGHT: u64 = 20;
pub const LIMIT_POINTS: u64 = 200;
pub const LIMIT_WINDOW: Duration = Duration::from_secs(1);
pub const LIMIT_READ_POINTS: u64 = 1;
pub const LIMIT_WRITE_POINTS: u64 = 5;
pub const LIMIT_RETRY_AFTER: u64 = 1;
/// Writes the points budget allows in one window.
pub const LIMIT_WRITES_PER_WINDOW: u64 = LIMIT_POINTS / LIMIT_WRITE_POINTS;

/// The limited case's limit: GitHub's model (requests in flight, points per endpoint per window
/// at 1 a read and 5 a write, 403 with `retry-after`).
pub fn sandbox_limit() -> SecondaryLimit {
    SecondaryLimit {
        read_points: u32::try_from(LIMIT_READ_POINTS).unwrap_or(u32::MAX),
        write_points: u32::try_from(LIMIT_WRITE_POINTS).unwrap_or(u32::MAX),
        ..SecondaryLimit::github(
            usize::try_from(LIMIT_IN_FLIGHT).unwrap_or(usize::MAX),
            u32::try_from(LIMIT_POINTS).unwrap_or(u32::MAX),
            LIMIT_WINDOW,
            LIMIT_RETRY_AFTER,
        )
    }
}

/// What the sandbox enforces in the limited case, in words, for the report.
pub fn sandbox_limit_text() -> String {
    format!(
        "{LIMIT_IN_FLIGHT} requests in flight, {LIMIT_POINTS} points per {} s window per \
         endpoint (a read {LIMIT_READ_POINTS}, a write {LIMIT_WRITE_POINTS}: \
         {LIMIT_WRITES_PER_WINDOW} writes), 403 with `retry-after: {LIMIT_RETRY_AFTER}` past them",
        LIMIT_WINDOW.as_secs()
    )
}

/// `[github.limits]` for secretsync's config in the limited case: the same budget.
pub fn secretsync_limits() -> String {
    format!(
        "[github.limits]\nin_flight = {LIMIT_IN_FLIGHT}\npoints = {LIMIT_POINTS}\n\
         window_secs = {}\nread_points = {LIMIT_READ_POINTS}\n\
         write_points = {LIMIT_WRITE_POINTS}\n",
        LIMIT_WINDOW.as_secs()
    )
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Case {
    First4,
    Rotate4,
    First100,
    Rotate100,
    Limited160,
    NoOp200,
}

pub const CASES: [Case; 6] = [
    Case::First4,
    Case::Rotate4,
    Case::First100,
    Case::Rotate100,
    Case::Limited160,
    Case::NoOp200,
];

/// The four secrets of the founding story (`secretsync init --preset aliyun-acr`).
const ALIYUN: [&str; 4] = [
    "ALIYUN_NAMESPACE",
    "ALIYUN_PASSWORD",
    "ALIYUN_REGISTRY",
    "ALIYUN_USERNAME",
];

/// Who runs a case.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tool {
    Secretsync,
    /// `gh secret set -f .env`: every declared secret, from a dotenv file.
    GhFile,
    /// `gh secret set NAME < value`: the one secret that changed.
    GhOne,
}

impl Tool {
    pub fn label(self) -> &'static str {
        match self {
            Tool::Secretsync => "secretsync",
            Tool::GhFile => "gh `secret set -f`",
            Tool::GhOne => "gh `secret set NAME`",
        }
    }

    pub fn is_gh(self) -> bool {
        self != Tool::Secretsync
    }
}

/// The least a case needs: round trips on the critical path, and the time they take.
pub struct Least {
    pub rounds: u64,
    pub time: Duration,
    pub how: String,
}

impl Case {
    pub fn title(self) -> &'static str {
        match self {
            Case::First4 => "First apply of the 4 ALIYUN_* secrets",
            Case::Rotate4 => "Rotate 1 of the 4",
            Case::First100 => "First apply of 100 secrets",
            Case::Rotate100 => "Rotate 1 of 100",
            Case::Limited160 => "160 writes under secondary limits",
            Case::NoOp200 => "No-op apply over 200 repositories",
        }
    }

    /// secretsync first, then the gh runs it is compared with; the first gh is the reference.
    pub fn tools(self) -> &'static [Tool] {
        match self {
            Case::First4 | Case::First100 | Case::Limited160 => &[Tool::Secretsync, Tool::GhFile],
            Case::Rotate4 => &[Tool::Secretsync, Tool::GhOne],
            Case::Rotate100 => &[Tool::Secretsync, Tool::GhFile, Tool::GhOne],
            // gh cannot tell that nothing changed: it has no no-op to compare with.
            Case::NoOp200 => &[Tool::Secretsync],
        }
    }

    pub fn repos(self) -> Vec<String> {
        match self {
            Case::NoOp200 => (0..200).map(|i| format!("bench/svc-{i:03}")).collect(),
            // GitHub holds at most 100 secrets in a repository.
            Case::Limited160 => vec!["bench/app-1".to_owned(), "bench/app-2".to_owned()],
            _ => vec!["bench/app".to_owned()],
        }
    }

    pub fn names(self) -> Vec<String> {
        let numbered = |n: usize| (1..=n).map(|i| format!("BENCH_{i:03}")).collect();
        match self {
            Case::First4 | Case::Rotate4 | Case::NoOp200 => {
                ALIYUN.iter().map(|&n| n.to_owned()).collect()
            }
            Case::First100 | Case::Rotate100 => numbered(100),
            Case::Limited160 => numbered(80),
        }
    }

    /// The secret whose value a rotation changes.
    pub fn rotated(self) -> Option<&'static str> {
        match self {
            Case::Rotate4 => Some("ALIYUN_PASSWORD"),
            Case::Rotate100 => Some("BENCH_100"),
            _ => None,
        }
    }

    /// Declared values: before the rotation (`rotated = false`), or as measured.
    pub fn values(self, rotated: bool) -> Vec<(String, String)> {
        self.names()
            .into_iter()
            .map(|name| {
                let after = rotated && self.rotated() == Some(name.as_str());
                let value = format!(
                    "{}-{}-0123456789abcdef",
                    name.to_lowercase(),
                    if after { "after" } else { "before" }
                );
                (name, value)
            })
            .collect()
    }

    /// secretsync applies run, unmeasured and without latency, before the measured one.
    pub fn warm_ups(self) -> usize {
        match self {
            Case::Rotate4 | Case::Rotate100 => 1,
            // The first creates, the second is a no-op that may keep what a third can reuse.
            Case::NoOp200 => 2,
            _ => 0,
        }
    }

    pub fn limited(self) -> bool {
        self == Case::Limited160
    }

    /// Writes the measured command must make.
    pub fn writes(self) -> u64 {
        match self {
            Case::Rotate4 | Case::Rotate100 => 1,
            Case::NoOp200 => 0,
            _ => (self.names().len() * self.repos().len()) as u64,
        }
    }

    /// The physical limit. Reading (each target's listing and, when a write is certain, its
    /// public key, all independent) takes one round of at most `GITHUB_MAX_IN_FLIGHT`
    /// requests; the writes need the key, so they take the rounds after. Under the limited
    /// case's budget, the writes beyond one window wait for the next.
    pub fn least(self) -> Least {
        let repos = self.repos().len() as u64;
        let writes = self.writes();
        let reads = if writes > 0 { 2 * repos } else { repos };
        let what = if writes > 0 { "list + key" } else { "lists" };
        if self.limited() {
            let windows = writes.div_ceil(LIMIT_WRITES_PER_WINDOW);
            let last = writes - (windows - 1) * LIMIT_WRITES_PER_WINDOW;
            let last_rounds = last.div_ceil(LIMIT_IN_FLIGHT);
            let rounds = 1 + writes.div_ceil(LIMIT_IN_FLIGHT);
            let time = LIMIT_WINDOW * u32::try_from(windows - 1).unwrap_or(u32::MAX)
                + LATENCY * u32::try_from(1 + last_rounds).unwrap_or(u32::MAX);
            let how = format!(
                "1 round ({what}), then {writes} writes at {LIMIT_WRITES_PER_WINDOW} a window: \
                 ⌈{writes}/{LIMIT_WRITES_PER_WINDOW}⌉ − 1 = {} windows of {} s waited, and the \
                 last window's {last} writes in ⌈{last}/{LIMIT_IN_FLIGHT}⌉ = {last_rounds} rounds \
                 ({LIMIT_IN_FLIGHT} in flight)",
                windows - 1,
                LIMIT_WINDOW.as_secs()
            );
            return Least { rounds, time, how };
        }
        let read_rounds = reads.div_ceil(GITHUB_MAX_IN_FLIGHT);
        let write_rounds = writes.div_ceil(GITHUB_MAX_IN_FLIGHT);
        let rounds = read_rounds + write_rounds;
        let mut how = format!("{reads} reads ({what}) in {read_rounds} round");
        if read_rounds > 1 {
            how.push_str(&format!("s of at most {GITHUB_MAX_IN_FLIGHT} in flight"));
        }
        if writes > 0 {
            let s = if writes == 1 { "" } else { "s" };
            how.push_str(&format!(", then {writes} write{s} in {write_rounds} round"));
        }
        Least {
            rounds,
            time: LATENCY * u32::try_from(rounds).unwrap_or(u32::MAX),
            how,
        }
    }
}

/// Every trial of one case, by contender, in `Case::tools` order.
pub struct CaseResult {
    pub case: Case,
    pub by_tool: Vec<(Tool, Result<Vec<Trial>, String>)>,
}

/// Runs every case, contenders interleaved run by run. A contender that cannot run (gh not
/// installed, the binary missing) is reported as not measured, with the reason.
pub fn run_all(binary: &Path, gh: &Path) -> Vec<CaseResult> {
    let mut results = Vec::new();
    for case in CASES {
        let mut by_tool: Vec<(Tool, Result<Vec<Trial>, String>)> = case
            .tools()
            .iter()
            .map(|&tool| (tool, Ok(Vec::new())))
            .collect();
        let runs = runs();
        for run in 1..=runs {
            for (tool, trials) in &mut by_tool {
                let Ok(done) = trials else { continue };
                eprintln!(
                    "secretsync bench: {} / {} run {run}/{runs}",
                    case.title(),
                    tool.label()
                );
                match trial::run(case, *tool, binary, gh) {
                    Ok(trial) => done.push(trial),
                    Err(e) => {
                        eprintln!("secretsync bench: {}: {e}", tool.label());
                        *trials = Err(e);
                    }
                }
            }
        }
        results.push(CaseResult { case, by_tool });
    }
    results
}
