//! The last step: render the reports and say what the run ended with, for the exit code and for
//! scripts that read only stderr.

use std::io::Write;

use crate::apply::ScopeReport;
use crate::error::{Error, Interruption};
use crate::github::GithubError;
use crate::render::{self, Mode};

use super::{Command, RunOptions};

/// What a run ended with, for the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// Writes still pending (plan), or 0 after apply.
    pub pending: usize,
    /// Nothing failed: no target error, no failed write, nothing missing after apply.
    pub ok: bool,
    /// When something failed: what to say on stderr (lines joined by `\nerror: `), so scripts
    /// that read only stderr see why.
    pub failure: Option<String>,
}

/// How the run's reports are shown and judged.
pub(super) struct Shown {
    pub mode: Mode,
    pub pending: usize,
    /// Writes were sent: a failed write or a missing item then fails the run too.
    pub written: bool,
}

impl Shown {
    /// After planning only: `plan`, or an `apply` with nothing to write.
    pub fn planned(command: Command, pending: usize) -> Shown {
        let mode = match command {
            Command::Plan => Mode::Plan,
            Command::Apply => Mode::Apply,
        };
        Shown {
            mode,
            pending,
            written: false,
        }
    }

    /// After the writes.
    pub fn applied() -> Shown {
        Shown {
            mode: Mode::Apply,
            pending: 0,
            written: true,
        }
    }
}

/// An interrupted apply ends in an error once its report is out.
pub(super) fn unless_interrupted(
    outcome: RunOutcome,
    interrupted: bool,
) -> Result<RunOutcome, Error> {
    if interrupted {
        return Err(Interruption::DuringApply.into());
    }
    Ok(outcome)
}

/// Render the reports and judge them.
pub(super) fn report(
    out: &mut dyn Write,
    reports: &[ScopeReport],
    warnings: &[String],
    shown: Shown,
    options: &RunOptions,
) -> Result<RunOutcome, Error> {
    let ok = reports.iter().all(|r| {
        r.error.is_none() && (!shown.written || (r.failed() == 0 && r.missing.is_empty()))
    });
    render::report(
        out,
        reports,
        warnings,
        shown.mode,
        ok,
        options.json,
        options.style,
    )?;
    Ok(RunOutcome {
        pending: shown.pending,
        ok,
        failure: failure_line(reports).filter(|_| !ok),
    })
}

/// The lines for stderr when reports hold failures: each failed target's error (the report only
/// marks them, so each is said once), or a count of failed writes, pointing at the report.
fn failure_line(reports: &[ScopeReport]) -> Option<String> {
    let mut lines: Vec<String> = Vec::new();
    // A rejected token or an unreachable GitHub fails every target alike: said once, counted.
    let mut alike: Vec<(std::mem::Discriminant<GithubError>, usize, usize)> = Vec::new();
    for error in reports.iter().filter_map(|r| r.error.as_ref()) {
        if matches!(
            error,
            GithubError::BadToken { .. } | GithubError::Network { .. } | GithubError::Tls { .. }
        ) {
            let kind = std::mem::discriminant(error);
            if let Some(seen) = alike.iter_mut().find(|(k, _, _)| *k == kind) {
                seen.2 += 1;
                continue;
            }
            alike.push((kind, lines.len(), 0));
        }
        lines.push(error.to_string());
    }
    for (_, at, more) in alike.into_iter().filter(|(_, _, more)| *more > 0) {
        lines[at].push_str(&format!(" (and {more} more target(s) alike)"));
    }
    if !lines.is_empty() {
        return Some(lines.join("\nerror: "));
    }
    let failed: usize = reports.iter().map(ScopeReport::failed).sum();
    let missing: usize = reports.iter().map(|r| r.missing.len()).sum();
    (failed + missing > 0).then(|| {
        format!("{failed} write(s) failed and {missing} declared item(s) are missing on GitHub; see the report, fix the cause, and run apply again")
    })
}

#[cfg(test)]
mod tests {
    use crate::github::Op;
    use crate::plan::{Action, Change, ItemKind, Reason};

    use super::*;

    fn bad_token(target: &str) -> ScopeReport {
        let error = GithubError::BadToken {
            target: target.into(),
            op: Op::List,
            message: "Bad credentials".into(),
        };
        ScopeReport::failed_at_start(target.into(), error)
    }

    fn missing_one() -> ScopeReport {
        let change = Change {
            kind: ItemKind::Secret,
            name: "A".into(),
            action: Action::Create,
            reason: Reason::Absent,
            source: None,
        };
        ScopeReport::planned("o/r".into(), vec![change])
    }

    #[test]
    fn a_rejected_token_is_said_once_and_counted() {
        let reports = [bad_token("o/a"), bad_token("o/b"), bad_token("o/c")];
        let line = failure_line(&reports).unwrap();
        assert_eq!(line.matches("\nerror: ").count(), 0, "{line}");
        assert!(line.ends_with(" (and 2 more target(s) alike)"), "{line}");
    }

    #[test]
    fn after_writes_a_missing_item_fails_the_run_but_not_before() {
        let reports = [missing_one()];
        let options = RunOptions::unattended(true, Default::default());
        let judge = |written| {
            let shown = Shown {
                mode: Mode::Apply,
                pending: 0,
                written,
            };
            let mut json = Vec::new();
            let outcome = report(&mut json, &reports, &[], shown, &options).unwrap();
            // The document states the same verdict as the exit code.
            let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
            assert_eq!(doc["ok"], outcome.ok);
            outcome
        };
        assert!(judge(false).ok);
        let after = judge(true);
        assert!(!after.ok);
        assert!(after
            .failure
            .unwrap()
            .contains("1 declared item(s) are missing"));
    }

    #[test]
    fn an_interrupted_apply_ends_in_its_own_error_after_the_report() {
        let options = RunOptions::unattended(false, Default::default());
        let outcome = || report(&mut Vec::new(), &[], &[], Shown::applied(), &options).unwrap();
        assert!(unless_interrupted(outcome(), false).is_ok());
        assert!(matches!(
            unless_interrupted(outcome(), true),
            Err(Error::Interrupted(Interruption::DuringApply))
        ));
    }
}
