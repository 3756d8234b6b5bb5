//! Around the writes: announce each secret's write in the state before it is sent (an intent),
//! then record what was written with GitHub's time for it, so the next plan tells our writes from
//! drift. The time is the write's answer's `Date`, an upper bound on the `updated_at` GitHub gave
//! it; only when an answer lacks one is the scope listed again for the exact times.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::STATE_VARIABLE;
use crate::github::{Client, GithubError, Written};
use crate::plan::{
    Action, Change, Fingerprint, Intent, ItemKind, Reason, Record, Recorded, Remote,
    RemoteVariable, TIME_FORMAT,
};
use crate::scope::Scope;
use crate::shared_state;
use crate::state::{Fingerprinter, Locked, StateError};

use super::{ScopeReport, SealedSecrets};

/// What the scope holds after the writes, without listing it again: the listing before, with each
/// secret written at its answer's `Date` and each deleted one gone. A write GitHub refused leaves
/// the name as it was listed. `None` when only a listing can tell: an accepted write's answer
/// had no `Date`, or a write's fate is unknown (its answer lost or garbled).
pub(super) fn known_after(
    report: &ScopeReport,
    before: &[Remote],
    at_latest: &BTreeMap<String, Option<String>>,
) -> Option<Vec<Remote>> {
    let mut now: BTreeMap<&str, Remote> = before
        .iter()
        .map(|r| (r.name.as_str(), r.clone()))
        .collect();
    for change in report.secret_writes() {
        match report.result(change) {
            Some(Ok(_)) => {}
            unknown if !intent_done(unknown) => return None,
            _ => continue,
        }
        if change.action == Action::Delete {
            now.remove(change.name.as_str());
            continue;
        }
        let time = at_latest.get(&change.name).cloned().flatten()?;
        let access = now.get(change.name.as_str()).and_then(|r| r.access.clone());
        let landed = Remote {
            name: change.name.clone(),
            updated_at: time,
            access,
        };
        now.insert(change.name.as_str(), landed);
    }
    Some(now.into_values().collect())
}

/// Record what was written; the declared secrets GitHub does not hold go to `missing`. What the
/// scope holds now is `known` from the answers, or else listed again. With a shared record, its
/// variable is re-read (in the listing's round), merged per name and written back before the
/// local intents are let go.
pub(super) async fn record_writes(
    client: &Client,
    report: &mut ScopeReport,
    (scope, known): (&Scope, Option<Vec<Remote>>),
    outgoing: &SealedSecrets,
    recorder: (&Locked, Option<&SharedRecorder<'_>>),
    missing: &mut Vec<String>,
) {
    let (locked, shared) = recorder;
    // Held from the re-read to the write: a repository's Actions and Dependabot scopes share
    // one variable.
    let _home = match shared {
        Some(shared) => Some(shared.hold(scope).await),
        None => None,
    };
    let reread = async {
        match shared {
            Some(shared) => Some(shared_state::load(client, scope, shared.key).await),
            None => None,
        }
    };
    let listing = async {
        match known {
            Some(known) => Ok(known),
            None => client.list_secrets(scope).await,
        }
    };
    let (listing, reread) = tokio::join!(listing, reread);
    let remote = listed_after(report, listing, missing);
    let listed: Option<BTreeMap<&str, &str>> = remote.as_ref().map(|remote| {
        remote
            .iter()
            .map(|r| (r.name.as_str(), r.updated_at.as_str()))
            .collect()
    });
    let mut keep_intents = false;
    if let Some(reread) = reread {
        let saved = save_shared(client, scope, reread, report, outgoing, listed.as_ref());
        if let Err(e) = saved.await {
            // The intents stay, so this machine still knows these writes as its own.
            keep_intents = true;
            attach_record_failure(report, &format!("{STATE_VARIABLE}: {e}"), "run apply again");
        }
    }
    if let Err(e) = record(locked, report, outgoing, listed.as_ref(), keep_intents) {
        attach_record_failure(
            report,
            &e,
            "run apply again once the state folder is writable",
        );
    }
}

/// Fold this run's writes into the shared record as re-read, and write it back.
async fn save_shared(
    client: &Client,
    scope: &Scope,
    reread: Result<shared_state::Loaded, shared_state::LoadError>,
    report: &ScopeReport,
    outgoing: &SealedSecrets,
    listed: Option<&BTreeMap<&str, &str>>,
) -> Result<(), shared_state::LoadError> {
    let mut loaded = reread?;
    merge(loaded.document.section_mut(scope), report, outgoing, listed);
    shared_state::save(client, scope, &loaded).await
}

/// What the scope holds after the writes; the declared secrets it lacks go to `missing`. Without
/// it there is no timestamp to record. The values did reach GitHub, so their fingerprints are recorded
/// with the time left open: the next apply trusts the fingerprint and fills the time in,
/// instead of sending every value again.
fn listed_after(
    report: &mut ScopeReport,
    listing: Result<Vec<Remote>, GithubError>,
    missing: &mut Vec<String>,
) -> Option<Vec<Remote>> {
    match listing {
        Ok(remote) => {
            missing.extend(absent(
                &report.changes,
                ItemKind::Secret,
                remote.iter().map(|r| r.name.as_str()),
            ));
            Some(remote)
        }
        Err(e) => {
            report.error.get_or_insert(e);
            None
        }
    }
}

/// The shared record of a run: the team key, and one lock per variable.
pub struct SharedRecorder<'a> {
    pub key: &'a Fingerprinter,
    homes: BTreeMap<Scope, tokio::sync::Mutex<()>>,
}

impl<'a> SharedRecorder<'a> {
    pub fn new<'s>(key: &'a Fingerprinter, scopes: impl IntoIterator<Item = &'s Scope>) -> Self {
        let homes = scopes
            .into_iter()
            .map(|s| (shared_state::home(s), tokio::sync::Mutex::new(())))
            .collect();
        SharedRecorder { key, homes }
    }

    async fn hold(&self, scope: &Scope) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.homes.get(&shared_state::home(scope)) {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }
}

/// The declared variables GitHub does not hold after the writes: those listed before or written
/// now (each write's 201 or 204 says it holds it), less those deleted.
pub(super) fn absent_variables(report: &ScopeReport, before: &[RemoteVariable]) -> Vec<String> {
    let mut held: BTreeSet<&str> = before.iter().map(|r| r.name.as_str()).collect();
    let variable_writes = report
        .changes
        .iter()
        .filter(|c| c.kind == ItemKind::Variable && c.action.writes());
    for change in variable_writes {
        match (report.result(change), change.action) {
            (Some(Ok(_)), Action::Delete) => held.remove(change.name.as_str()),
            (Some(Ok(_)), _) => held.insert(change.name.as_str()),
            _ => false,
        };
    }
    absent(&report.changes, ItemKind::Variable, held.into_iter())
}

/// The writes were sent but could not be recorded (in the shared record, or in the state
/// folder, as `e` says): say so in the target's report, with what to do. Their intents stay in
/// the state, so the next plan knows them as ours rather than drift.
fn attach_record_failure(report: &mut ScopeReport, e: &dyn std::fmt::Display, fix: &str) {
    let sent = report.results.values().filter(|r| r.is_ok()).count();
    let mut message =
        format!("{sent} write(s) reached GitHub but could not be recorded: {e}; {fix}");
    if let Some(earlier) = report.error.take() {
        message.push_str(&format!(" (also: {earlier})"));
    }
    report.error = Some(GithubError::State(message));
}

/// Persist an intent for every secret about to be sent, before any is sent.
pub(super) fn intend(
    locked: &Locked,
    writes: &[&Change],
    outgoing: &SealedSecrets,
    planned_from: &[Remote],
) -> Result<(), StateError> {
    let since = chrono::Utc::now().format(TIME_FORMAT).to_string();
    let sent: Vec<(&String, &Fingerprint)> = writes
        .iter()
        .filter(|c| c.kind == ItemKind::Secret && c.action != Action::Delete)
        .filter(|c| {
            matches!(c.reason, Reason::AccessChanged { .. })
                || outgoing.sealed.contains_key(&c.name)
        })
        .filter_map(|c| outgoing.fingerprints.get_key_value(&c.name))
        .collect();
    if sent.is_empty() {
        return Ok(());
    }
    locked.update(|loaded| {
        for (name, fingerprint) in sent {
            loaded.intents.insert(
                name.clone(),
                Intent {
                    fingerprint: fingerprint.clone(),
                    since: since.clone(),
                    base: planned_from
                        .iter()
                        .find(|r| r.name == *name)
                        .map(|r| r.updated_at.clone()),
                },
            );
        }
    })
}

/// Whether this run planned to write the secret `name` (other intents belong to other runs).
fn sent_here(report: &ScopeReport, name: &str) -> bool {
    report.secret_writes().any(|c| c.name == name)
}

/// Whether a write's intent can go: it was recorded, it was never sent, or GitHub answered it
/// with an error. A write whose answer was lost or garbled may still have landed, so its intent
/// stays. (An intent kept too long could take someone else's later write for ours, so only
/// writes whose fate is unknown keep one.)
fn intent_done(result: Option<&Result<Written, GithubError>>) -> bool {
    match result {
        None | Some(Ok(_)) => true,
        Some(Err(
            GithubError::Network { .. }
            | GithubError::Malformed { .. }
            | GithubError::Setup(_)
            | GithubError::State(_),
        )) => false,
        Some(Err(_)) => true,
    }
}

/// Record the secrets this run wrote, with GitHub's time for each from `listed` (`None`: the
/// listing after the writes failed, so the times are left open and the records of secrets gone
/// from GitHub are kept until a listing says so). `keep_intents`: the shared record could not be
/// written, so this machine keeps knowing these writes as its own.
fn record(
    locked: &Locked,
    report: &ScopeReport,
    outgoing: &SealedSecrets,
    listed: Option<&BTreeMap<&str, &str>>,
    keep_intents: bool,
) -> Result<(), StateError> {
    let is_listed = |name: &str| listed.is_none_or(|l| l.contains_key(name));
    locked.update(|loaded| {
        merge(&mut loaded.records, report, outgoing, listed);
        loaded.intents.retain(|name, _| {
            !sent_here(report, name)
                || keep_intents
                || (is_listed(name)
                    && !intent_done(report.results.get(&(ItemKind::Secret, name.clone()))))
        });
    })
}

/// Fold this run's secret writes into `records` (the local file's, or the shared record's).
fn merge(
    records: &mut Recorded,
    report: &ScopeReport,
    outgoing: &SealedSecrets,
    listed: Option<&BTreeMap<&str, &str>>,
) {
    let is_listed = |name: &str| listed.is_none_or(|l| l.contains_key(name));
    // Access-only writes land here too: they move `updated_at`, and the fingerprint is the
    // unchanged value's.
    for ((kind, name), result) in &report.results {
        if *kind != ItemKind::Secret || result.is_err() {
            continue;
        }
        let time = listed.map(|l| l.get(name.as_str()));
        match (outgoing.fingerprints.get(name), time) {
            // A delete, or a write GitHub does not list: nothing to compare any more.
            (None, _) | (_, Some(None)) => {
                records.remove(name);
            }
            (Some(fingerprint), time) => {
                let record = Record {
                    fingerprint: fingerprint.clone(),
                    updated_at: time.flatten().map(|t| (*t).to_string()),
                };
                records.insert(name.clone(), record);
            }
        }
    }
    // A record of a secret that is gone from GitHub can never match again.
    records.retain(|name, _| is_listed(name));
}

/// Declared names of `kind` (every change that is not an extra or delete) that GitHub does not list.
fn absent<'a>(
    changes: &[Change],
    kind: ItemKind,
    listed: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let listed: BTreeSet<&str> = listed.collect();
    changes
        .iter()
        .filter(|c| c.kind == kind && !matches!(c.action, Action::Extra | Action::Delete))
        .filter(|c| !listed.contains(c.name.as_str()))
        .map(|c| c.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str, action: Action) -> Change {
        Change {
            kind: ItemKind::Secret,
            name: name.into(),
            action,
            reason: Reason::Absent,
            source: None,
        }
    }

    #[test]
    fn absent_names_only_declared_items_that_are_not_listed() {
        let changes = [
            change("CREATED", Action::Create),
            change("LOST", Action::Update),
            change("DELETED", Action::Delete),
            change("EXTRA", Action::Extra),
        ];
        let listed = ["CREATED"].into_iter();
        assert_eq!(absent(&changes, ItemKind::Secret, listed), ["LOST"]);
        assert!(absent(&changes, ItemKind::Variable, [].into_iter()).is_empty());
    }

    #[test]
    fn only_a_write_of_unknown_fate_keeps_its_intent() {
        let lost = GithubError::Network {
            api: "https://api.github.com".into(),
            target: "o/r".into(),
            op: crate::github::Op::Put("A".into()),
            reason: "connection reset".into(),
        };
        assert!(!intent_done(Some(&Err(lost))));
        assert!(intent_done(None));
        assert!(intent_done(Some(&Err(GithubError::BadToken {
            target: "o/r".into(),
            op: crate::github::Op::Put("A".into()),
            message: "Bad credentials".into(),
        }))));
    }

    fn remote(name: &str, updated_at: &str) -> Remote {
        Remote {
            name: name.into(),
            updated_at: updated_at.into(),
            access: None,
        }
    }

    #[test]
    fn what_the_scope_holds_after_the_writes_is_known_from_their_answers() {
        let changes = vec![
            change("NEW", Action::Create),
            change("CHANGED", Action::Update),
            change("GONE", Action::Delete),
            change("FAILED", Action::Update),
        ];
        let mut report = ScopeReport::planned("o/r".into(), changes);
        for name in ["NEW", "CHANGED", "GONE"] {
            let written = Ok(Written::Updated);
            report
                .results
                .insert((ItemKind::Secret, name.into()), written);
        }
        let refused = GithubError::BadToken {
            target: "o/r".into(),
            op: crate::github::Op::Put("FAILED".into()),
            message: "Bad credentials".into(),
        };
        report
            .results
            .insert((ItemKind::Secret, "FAILED".into()), Err(refused));
        let before = [
            remote("CHANGED", "2026-01-01T00:00:00Z"),
            remote("GONE", "2026-01-01T00:00:00Z"),
            remote("FAILED", "2026-01-01T00:00:00Z"),
            remote("OTHER", "2026-01-01T00:00:00Z"),
        ];
        let date = Some("2026-01-02T00:00:00Z".to_string());
        let at_latest = BTreeMap::from([
            ("NEW".to_string(), date.clone()),
            ("CHANGED".to_string(), date.clone()),
        ]);
        let known = known_after(&report, &before, &at_latest).expect("every answer had a Date");
        let times: Vec<(&str, &str)> = known
            .iter()
            .map(|r| (r.name.as_str(), r.updated_at.as_str()))
            .collect();
        assert_eq!(
            times,
            [
                ("CHANGED", "2026-01-02T00:00:00Z"),
                ("FAILED", "2026-01-01T00:00:00Z"),
                ("NEW", "2026-01-02T00:00:00Z"),
                ("OTHER", "2026-01-01T00:00:00Z"),
            ]
        );
        // A write whose answer was lost may have landed: only a listing can tell.
        let mut lost = ScopeReport::planned("o/r".into(), vec![change("NEW", Action::Create)]);
        let network = GithubError::Network {
            api: "https://api.github.com".into(),
            target: "o/r".into(),
            op: crate::github::Op::Put("NEW".into()),
            reason: "connection reset".into(),
        };
        lost.results
            .insert((ItemKind::Secret, "NEW".into()), Err(network));
        assert_eq!(known_after(&lost, &before, &BTreeMap::new()), None);
        // An accepted write whose answer had no Date: only a listing can tell its time.
        let undated = BTreeMap::from([("NEW".to_string(), date), ("CHANGED".to_string(), None)]);
        assert_eq!(known_after(&report, &before, &undated), None);
    }
}
