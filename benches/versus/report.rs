//! Figure 1 in Markdown: the summary table, a section per case, and the at-a-glance rows.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use secretsync_sandbox::RequestRecord;

use super::{sandbox_limit_text, Case, CaseResult, Tool, Trial, GITHUB_MAX_IN_FLIGHT, LATENCY};
use crate::{median, secs};

/// `GET /repos/bench/app/actions/secrets/BENCH_001` → `GET /repos/{owner}/{repo}/actions/secrets/{name}`.
pub fn pattern(r: &RequestRecord) -> String {
    let segments: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    for (i, segment) in segments.iter().enumerate() {
        let generic = match (i, segments.first()) {
            (1, Some(&"repos")) => "{owner}",
            (2, Some(&"repos")) => "{repo}",
            (1, Some(&"orgs")) => "{org}",
            // GitHub's paging links name a repository by id.
            (1, Some(&"repositories")) => "{repository_id}",
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

/// Requests by method, path pattern and status.
fn breakdown(requests: &[RequestRecord]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for r in requests {
        *counts
            .entry(format!("{} → {}", pattern(r), r.status))
            .or_insert(0) += 1;
    }
    counts
}

/// The median of some number of every trial, with the range when the runs differ.
fn spread(trials: &[Trial], of: impl Fn(&Trial) -> u64) -> String {
    let values: Vec<u64> = trials.iter().map(of).collect();
    let (lo, hi) = (
        values.iter().min().copied().unwrap_or(0),
        values.iter().max().copied().unwrap_or(0),
    );
    if lo == hi {
        lo.to_string()
    } else {
        format!("{} ({lo}–{hi})", median(&values))
    }
}

pub fn median_wall(trials: &[Trial]) -> Duration {
    median(&trials.iter().map(|t| t.wall).collect::<Vec<_>>())
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}", a.as_secs_f64() / b.as_secs_f64())
}

/// The reference gh runs of a case: its first gh contender that was measured.
fn gh_reference(result: &CaseResult) -> Option<(Tool, &[Trial])> {
    result
        .by_tool
        .iter()
        .find_map(|(tool, trials)| match trials {
            Ok(t) if tool.is_gh() && !t.is_empty() => Some((*tool, t.as_slice())),
            _ => None,
        })
}

fn secretsync_trials(result: &CaseResult) -> Option<&[Trial]> {
    result
        .by_tool
        .iter()
        .find_map(|(tool, trials)| match trials {
            Ok(t) if *tool == Tool::Secretsync && !t.is_empty() => Some(t.as_slice()),
            _ => None,
        })
}

/// One row per case for the report's "At a glance" table.
pub fn glance_rows(w: &mut String, results: &[CaseResult]) {
    for result in results {
        let least = result.case.least();
        let Some(ours) = secretsync_trials(result) else {
            let _ = writeln!(
                w,
                "| 1. {}: secretsync | not measured | | |",
                result.case.title()
            );
            continue;
        };
        let wall = median_wall(ours);
        let (gh_text, gh_ratio) = match gh_reference(result) {
            Some((_, gh)) => {
                let gh_wall = median_wall(gh);
                (
                    format!("gh {}; ", secs(gh_wall)),
                    format!("{} × gh; ", ratio(wall, gh_wall)),
                )
            }
            None => (String::new(), String::new()),
        };
        let extra = match result.case {
            Case::NoOp200 => format!(
                " ({} of the primary budget)",
                spread(ours, |t| t.rate_limit_used)
            ),
            Case::Limited160 => format!(
                " ({} limit answers, {} of {} values set)",
                spread(ours, |t| t.limit_answers() as u64),
                spread(ours, |t| t.values_set as u64),
                ours.first().map_or(0, |t| t.declared),
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            w,
            "| 1. {}: secretsync, {} requests{extra}, {} round trips | {} | {gh_text}physical limit {} ({} round trips) | {gh_ratio}{} × limit |",
            result.case.title(),
            spread(ours, |t| t.requests.len() as u64),
            spread(ours, |t| t.round_trips as u64),
            secs(wall),
            secs(least.time),
            least.rounds,
            ratio(wall, least.time),
        );
    }
}

pub fn section(w: &mut String, results: &[CaseResult], gh_version: &str) {
    let latency_ms = LATENCY.as_millis();
    let _ = writeln!(
        w,
        "## 1. secretsync against gh and against the physical limit\n"
    );
    let _ = writeln!(
        w,
        "Each case runs {} times for each contender, the contenders taking turns run by run, \
         so that whatever else loads the machine falls on both alike. Every run has a fresh \
         sandbox (the built-in fake GitHub) that waits {latency_ms} ms before every answer and \
         is served over HTTPS under `/api/v3`, the way a GitHub Enterprise host is, with a \
         certificate from a CA made for that run. Both contenders are child processes timed \
         from spawn to exit, each paying its own start-up, TLS and HTTP stack:",
        super::runs()
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "- **secretsync**: the release binary, `secretsync apply --yes` with its defaults (no \
         `--concurrency`), a fresh state folder, `GH_TOKEN`, `SSL_CERT_FILE` naming the CA. \
         For a rotation one apply, and for the no-op two, run first (unmeasured, no latency)."
    );
    let _ = writeln!(
        w,
        "- **gh** ({gh_version}): `GH_HOST` the sandbox's `127.0.0.1:PORT`, \
         `GH_ENTERPRISE_TOKEN`, `SSL_CERT_FILE`, an empty `GH_CONFIG_DIR`, no terminal. \
         `gh secret set -f FILE` reads every secret from a dotenv file (mode 0600); `gh secret \
         set NAME` reads the one value from stdin. Values never go in argv. gh keeps no record, \
         so it cannot tell a no-op: it has no entry there. For a rotation the sandbox already \
         holds the values from before."
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "**Round trips** are counted by the sandbox from its request records \
         (`Sandbox::round_trips`): the longest chain of requests each of which arrived after the \
         one before it was answered. **The physical limit** is what any client needs, given what \
         depends on what and GitHub's documented limits, never secretsync's own plan: the \
         listings and, when a write is certain, the public key are independent, so they share one \
         round; the writes need the key, so they take the next; a round holds at most \
         {GITHUB_MAX_IN_FLIGHT} requests (GitHub's limit on requests in flight). So a first apply \
         or a rotation of up to {GITHUB_MAX_IN_FLIGHT} writes needs 2 round trips, a no-op 1 per \
         {GITHUB_MAX_IN_FLIGHT} targets; its time is those round trips × {latency_ms} ms. Ratios \
         are of medians; below 1.00 is faster than the reference."
    );
    let _ = writeln!(w);

    let _ = writeln!(w, "### Summary\n");
    let _ = writeln!(
        w,
        "| case | who | wall time (median) | requests | round trips | values set | exit codes | ÷ gh | ÷ physical limit |"
    );
    let _ = writeln!(w, "|---|---|---:|---:|---:|---:|---|---:|---:|");
    for result in results {
        summary_rows(w, result);
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "(÷ gh: a row's wall time over the first gh row's of the case; ÷ physical limit: over \
         the limit's time. Counts are medians, with the range when runs differ.)\n"
    );

    for result in results {
        case_section(w, result);
    }
}

fn summary_rows(w: &mut String, result: &CaseResult) {
    let case = result.case;
    let least = case.least();
    let gh_wall = gh_reference(result).map(|(_, t)| median_wall(t));
    for (tool, trials) in &result.by_tool {
        let trials = match trials {
            Ok(t) if !t.is_empty() => t,
            Ok(_) => continue,
            Err(e) => {
                let _ = writeln!(
                    w,
                    "| {} | {} | not measured: {e} | | | | | | |",
                    case.title(),
                    tool.label()
                );
                continue;
            }
        };
        let wall = median_wall(trials);
        let exits: Vec<String> = trials.iter().map(|t| t.exit.to_string()).collect();
        let declared = trials.first().map_or(0, |t| t.declared);
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} of {declared} | {} | {} | {} |",
            case.title(),
            tool.label(),
            secs(wall),
            spread(trials, |t| t.requests.len() as u64),
            spread(trials, |t| t.round_trips as u64),
            spread(trials, |t| t.values_set as u64),
            exits.join(" "),
            gh_wall.map_or_else(|| "—".to_owned(), |g| ratio(wall, g)),
            ratio(wall, least.time),
        );
    }
    let _ = writeln!(
        w,
        "| {} | *physical limit* | {} | | {} | | | | 1.00 |",
        case.title(),
        secs(least.time),
        least.rounds
    );
}

fn case_section(w: &mut String, result: &CaseResult) {
    let case = result.case;
    let least = case.least();
    let _ = writeln!(w, "### {}\n", case.title());
    let _ = writeln!(w, "{}\n", describe(case));
    let _ = writeln!(
        w,
        "Physical limit: {} = {} round trips, {}.\n",
        least.how,
        least.rounds,
        secs(least.time)
    );
    for (tool, trials) in &result.by_tool {
        let trials = match trials {
            Ok(t) if !t.is_empty() => t,
            Ok(_) => continue,
            Err(e) => {
                let _ = writeln!(w, "- {}: not measured: {e}", tool.label());
                continue;
            }
        };
        let walls: Vec<String> = trials.iter().map(|t| secs(t.wall)).collect();
        let _ = writeln!(w, "- {}:", tool.label());
        let _ = writeln!(w, "  - wall time of each run: {}", walls.join(", "));
        let per_run =
            |f: &dyn Fn(&Trial) -> String| trials.iter().map(f).collect::<Vec<_>>().join(", ");
        let _ = writeln!(
            w,
            "  - round trips, each run: {}; most requests in flight: {}",
            per_run(&|t| t.round_trips.to_string()),
            per_run(&|t| t.max_in_flight.to_string()),
        );
        let _ = writeln!(
            w,
            "  - answers of a secondary limit (403 or 429), each run: {}; primary budget spent \
             (`x-ratelimit-used`), each run: {}",
            per_run(&|t| t.limit_answers().to_string()),
            per_run(&|t| t.rate_limit_used.to_string()),
        );
        let _ = writeln!(
            w,
            "  - values set, each run: {} of {}; exit codes: {}",
            per_run(&|t| t.values_set.to_string()),
            trials.first().map_or(0, |t| t.declared),
            per_run(&|t| t.exit.to_string()),
        );
    }
    if case == Case::Rotate100 {
        rotate_one_line(w, result);
    }
    let _ = writeln!(w);
    requests_table(w, result);
}

fn describe(case: Case) -> String {
    let repos = case.repos().len();
    let names = case.names().len();
    let target = if repos == 1 {
        "one repository".to_owned()
    } else {
        format!("{repos} repositories")
    };
    match case {
        Case::First4 | Case::First100 => format!(
            "{names} secrets, none on GitHub yet, {target}; gh sets them all from a dotenv file."
        ),
        Case::Rotate4 | Case::Rotate100 => format!(
            "{names} secrets applied before; one value changed, {target}. gh sets {} from stdin{}.",
            case.rotated().unwrap_or_default(),
            if case == Case::Rotate100 {
                ", and, as a user re-running the same command does, all 100 with `-f`"
            } else {
                ""
            }
        ),
        Case::Limited160 => {
            let told = "secretsync's `[github.limits]` is set to the same numbers.";
            format!(
                "{names} secrets on each of {target} (GitHub holds at most 100 in one), none there \
                 yet: {} writes under secondary limits: {}. gh is run once per repository, one \
                 after the other, as a shell loop would. {told}",
                case.writes(),
                sandbox_limit_text()
            )
        }
        Case::NoOp200 => format!(
            "{names} secrets on each of {target}, applied twice before (so that whatever a run \
             keeps for the next, it has), then a third apply, measured, that changes nothing. \
             The primary budget it spends is the sandbox's `x-ratelimit-used` after minus before."
        ),
    }
}

fn rotate_one_line(w: &mut String, result: &CaseResult) {
    let wall_of = |which: Tool| {
        result
            .by_tool
            .iter()
            .find_map(|(tool, trials)| match trials {
                Ok(t) if *tool == which && !t.is_empty() => Some(median_wall(t)),
                _ => None,
            })
    };
    if let (Some(ours), Some(one)) = (wall_of(Tool::Secretsync), wall_of(Tool::GhOne)) {
        let _ = writeln!(
            w,
            "- secretsync ÷ gh setting just the one secret: {}",
            ratio(ours, one)
        );
    }
}

/// Requests by pattern and status, a column per contender (the run with the median count).
fn requests_table(w: &mut String, result: &CaseResult) {
    let measured: Vec<(Tool, BTreeMap<String, u64>)> = result
        .by_tool
        .iter()
        .filter_map(|(tool, trials)| {
            let trials = trials.as_ref().ok().filter(|t| !t.is_empty())?;
            let counts: Vec<usize> = trials.iter().map(|t| t.requests.len()).collect();
            let mid = median(&counts);
            let run = trials.iter().find(|t| t.requests.len() == mid)?;
            Some((*tool, breakdown(&run.requests)))
        })
        .collect();
    if measured.is_empty() {
        return;
    }
    let mut keys: Vec<&String> = measured.iter().flat_map(|(_, b)| b.keys()).collect();
    keys.sort();
    keys.dedup();
    let header: Vec<&str> = measured.iter().map(|(t, _)| t.label()).collect();
    let _ = writeln!(
        w,
        "Requests of the run with the median count, by path and answer:\n"
    );
    let _ = writeln!(w, "| request → status | {} |", header.join(" | "));
    let _ = writeln!(w, "|---|{}", "---:|".repeat(measured.len()));
    for key in keys {
        let cells: Vec<String> = measured
            .iter()
            .map(|(_, b)| b.get(key).copied().unwrap_or(0).to_string())
            .collect();
        let _ = writeln!(w, "| `{key}` | {} |", cells.join(" | "));
    }
    let _ = writeln!(w);
}
