//! Apply and record: lock the state of every scope that gets a secret, carry out each scope's
//! plan concurrently, and stop sending on Ctrl-C.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::apply::{self, Recorder, ScopeReport, SharedRecorder};
use crate::error::{Error, Interruption};
use crate::github::Client;
use crate::progress::Progress;
use crate::scope::Scope;
use crate::source;

use super::gather::{PlannedJob, RunContext};
use super::signals::interrupt_on_signals;

/// Apply every planned job and add their reports to `reports`. Returns whether the run was
/// interrupted (the reports then say what was written and what was not sent).
pub(super) async fn apply_all(
    cx: &RunContext<'_>,
    planned: Vec<PlannedJob>,
    pending: usize,
    show_progress: bool,
    reports: &mut Vec<ScopeReport>,
) -> Result<bool, Error> {
    let stop = cx.client.stop_flag();
    source::leave_signals_to_caller();
    let listener = interrupt_on_signals(Arc::clone(&stop))?;
    // Every lock the writes need, taken before the first write and held until the last
    // record, in one global order: runs with overlapping targets take turns.
    let scopes: Vec<&Scope> = planned
        .iter()
        .filter(|p| p.report.error.is_none() && writes_secrets(&p.report))
        .map(|p| &p.writes.scope)
        .collect();
    let Some(locks) = cx.state.lock_all(cx.host(), &scopes, &stop).await? else {
        listener.abort();
        return Err(Interruption::WaitingForLock.into());
    };
    // Drawn only once the locks are held: while waiting, the line to read is the one saying so,
    // and an interrupted wait leaves no progress line behind.
    let progress = Progress::start(show_progress);
    progress.targets.store(planned.len(), Ordering::Relaxed);
    progress.planned.store(planned.len(), Ordering::Relaxed);
    progress.writes.store(pending, Ordering::Relaxed);
    let shared = cx
        .shared()
        .then(|| SharedRecorder::new(cx.key, scopes.iter().copied()));
    let recorder = Recorder {
        locks: &locks,
        shared: shared.as_ref(),
    };
    let applied = planned
        .into_iter()
        .map(|p| apply_job(cx.client, p, &recorder, &progress));
    reports.extend(futures::future::join_all(applied).await);
    drop(locks);
    progress.finish();
    listener.abort();
    Ok(stop.load(Ordering::SeqCst))
}

/// Whether a target's plan writes a secret, and so needs its state locked.
fn writes_secrets(report: &ScopeReport) -> bool {
    report.secret_writes().next().is_some()
}

async fn apply_job(
    client: &Client,
    planned: PlannedJob,
    recorder: &Recorder<'_>,
    progress: &Progress,
) -> ScopeReport {
    if planned.report.error.is_some() {
        return planned.report;
    }
    let writes = planned
        .report
        .changes
        .iter()
        .filter(|c| c.action.writes())
        .count();
    let report = apply::apply_target(client, planned.report, planned.writes, recorder).await;
    progress.written.fetch_add(writes, Ordering::Relaxed);
    report
}
