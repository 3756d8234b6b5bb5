//! After the writes: announce each secret's write in the state before it is sent (an intent),
//! list the scope again, and record what was written with GitHub's time, so the next plan tells
//! our writes from drift.

use std::collections::BTreeMap;

use crate::github::{Client, GithubError, Written};
use crate::plan::{Action, Change, Fingerprint, Intent, ItemKind, Reason, Record, Remote};
use crate::scope::Scope;
use crate::state::{Locked, StateError};

use super::{ScopeReport, SealedSecrets};

/// List the secrets again and record what was written; the secrets GitHub does not list go to
/// `missing`.
pub(super) async fn list_and_record(
    client: &Client,
    report: &mut ScopeReport,
    scope: &Scope,
    outgoing: &SealedSecrets,
    locked: &Locked,
    missing: &mut Vec<String>,
) {
    // GitHub's `updated_at` after our writes is what the next plan compares against.
    let recorded = match client.list_secrets(scope).await {
        Ok(remote) => {
            missing.extend(absent(
                &report.changes,
                ItemKind::Secret,
                remote.iter().map(|r| r.name.as_str()),
            ));
            let listed: BTreeMap<&str, &str> = remote
                .iter()
                .map(|r| (r.name.as_str(), r.updated_at.as_str()))
                .collect();
            record(locked, report, outgoing, Some(&listed))
        }
        // Without the listing there is no timestamp to record. The values did reach GitHub,
        // so record their fingerprints with the time left open: the next apply trusts the
        // fingerprint and fills the time in, instead of sending every value again.
        Err(e) => {
            report.error.get_or_insert(e);
            record(locked, report, outgoing, None)
        }
    };
    if let Err(e) = recorded {
        attach_record_failure(report, &e);
    }
}

/// List the variables again: those GitHub does not list go to `missing`.
pub(super) async fn list_variables(
    client: &Client,
    report: &mut ScopeReport,
    scope: &Scope,
    missing: &mut Vec<String>,
) {
    match client.list_variables(scope).await {
        Ok(remote) => missing.extend(absent(
            &report.changes,
            ItemKind::Variable,
            remote.iter().map(|r| r.name.as_str()),
        )),
        Err(e) => {
            report.error.get_or_insert(e);
        }
    }
}

/// The writes were sent but could not be recorded: say so in the target's report. Their
/// intents stay in the state, so the next plan knows them as ours rather than drift.
fn attach_record_failure(report: &mut ScopeReport, e: &StateError) {
    let sent = report.results.values().filter(|r| r.is_ok()).count();
    let mut message = format!(
        "{sent} write(s) reached GitHub but could not be recorded: {e}; run apply again once the state folder is writable"
    );
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
    let since = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
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
/// from GitHub are kept until a listing says so).
fn record(
    locked: &Locked,
    report: &ScopeReport,
    outgoing: &SealedSecrets,
    listed: Option<&BTreeMap<&str, &str>>,
) -> Result<(), StateError> {
    let is_listed = |name: &str| listed.is_none_or(|l| l.contains_key(name));
    locked.update(|loaded| {
        let records = &mut loaded.records;
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
        loaded.intents.retain(|name, _| {
            !sent_here(report, name)
                || (is_listed(name)
                    && !intent_done(report.results.get(&(ItemKind::Secret, name.clone()))))
        });
    })
}

/// Declared names of `kind` (every change that is not an extra or delete) that GitHub does not list.
fn absent<'a>(
    changes: &[Change],
    kind: ItemKind,
    listed: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let listed: std::collections::BTreeSet<&str> = listed.collect();
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
}
