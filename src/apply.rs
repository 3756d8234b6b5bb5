//! Carrying out one scope's plan: create a missing environment if asked, fetch the public key only
//! when a value is sealed, write each change (concurrently, within the client's bound), list
//! again, and record what succeeded. It decides nothing itself: what to write comes from the
//! plan. A failed write never stops the others, but a rejected token stops all further writes.
//! Each secret's write is announced in the state (an intent) before it is sent, and nothing is
//! sent when that fails; a record that fails after the writes is told in the target's report.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::SecretString;

use crate::github::{Client, GithubError, Written};
use crate::plan::{
    Action, Change, Fingerprint, Intent, Kind, OrgAccess, Reason, Record, Remote, RemoteVariable,
};
use crate::scope::Scope;
use crate::seal::{self, Sealed};
use crate::state::{Locked, StateError};

/// Everything known about one target after `plan` or `apply`: what renderers show.
#[derive(Debug)]
pub struct TargetReport {
    /// How the target is named for people.
    pub target: String,
    pub changes: Vec<Change>,
    /// Per written (kind, name): how the write went. Empty for `plan`.
    pub results: BTreeMap<(Kind, String), Result<Written, GithubError>>,
    /// Declared names absent on GitHub (after the writes, for `apply`).
    pub missing: Vec<String>,
    /// A failure of the target as a whole (listing, public key, final listing).
    pub error: Option<GithubError>,
}

impl TargetReport {
    pub fn failed(&self) -> usize {
        self.results.values().filter(|r| r.is_err()).count()
    }

    /// A target that failed before it could be planned.
    pub fn failed_at_start(target: String, error: GithubError) -> TargetReport {
        TargetReport {
            target,
            changes: Vec::new(),
            results: BTreeMap::new(),
            missing: Vec::new(),
            error: Some(error),
        }
    }

    /// A planned target: what is missing is what is declared and not listed.
    pub fn planned(target: String, changes: Vec<Change>) -> TargetReport {
        TargetReport {
            missing: changes
                .iter()
                .filter(|c| c.action == Action::Create)
                .map(|c| c.name.clone())
                .collect(),
            target,
            changes,
            results: BTreeMap::new(),
            error: None,
        }
    }

    pub fn result(&self, change: &Change) -> Option<&Result<Written, GithubError>> {
        self.results.get(&(change.kind, change.name.clone()))
    }
}

/// A secret value to seal for the scope's key, with the fingerprint to record once it is written.
pub struct SecretToSeal {
    pub value: SecretString,
    pub fingerprint: Fingerprint,
}

/// What one scope's writes need besides the plan, as gathered while planning it.
pub struct ScopeWrites {
    pub scope: Scope,
    /// Taken out and sealed (and so dropped) before any write is sent.
    pub secrets: BTreeMap<String, SecretToSeal>,
    pub variables: BTreeMap<String, String>,
    /// Who may use an organization's items, wanted; and as GitHub has it now.
    pub access: Option<OrgAccess>,
    pub remote_secrets: Vec<Remote>,
    pub remote_variables: Vec<RemoteVariable>,
    /// The environment is missing and is to be created first.
    pub create_environment: bool,
}

impl ScopeWrites {
    /// Nothing to write yet, and nothing listed.
    pub fn new(scope: Scope) -> ScopeWrites {
        ScopeWrites {
            scope,
            secrets: BTreeMap::new(),
            variables: BTreeMap::new(),
            access: None,
            remote_secrets: Vec::new(),
            remote_variables: Vec::new(),
            create_environment: false,
        }
    }
}

/// Where records go: the locked state of every scope the run writes secrets to.
pub struct Recorder<'a> {
    pub locks: &'a BTreeMap<Scope, Locked>,
}

/// What the writes send and record: sealed values (for writes of a value) and fingerprints
/// (for every secret written, access-only changes included).
#[derive(Default)]
struct SealedSecrets {
    sealed: BTreeMap<String, Sealed>,
    fingerprints: BTreeMap<String, Fingerprint>,
}

/// Seal the values for the scope's key, consuming them: each `SecretString` is dropped (and so
/// zeroized) here, before the first write is sent and the network wait begins.
fn seal_all(
    key: Option<&seal::PublicKey>,
    secrets: BTreeMap<String, SecretToSeal>,
) -> SealedSecrets {
    let mut outgoing = SealedSecrets::default();
    for (name, ready) in secrets {
        if let Some(key) = key {
            outgoing
                .sealed
                .insert(name.clone(), seal::seal(key, &ready.value));
        }
        outgoing.fingerprints.insert(name, ready.fingerprint);
    }
    outgoing
}

/// Carry out one scope's plan: prepare, seal, announce the intents, send, list again and record.
pub async fn apply_target(
    client: &Client,
    mut report: TargetReport,
    mut work: ScopeWrites,
    recorder: &Recorder<'_>,
) -> TargetReport {
    let writes: Vec<&Change> = report
        .changes
        .iter()
        .filter(|c| c.action.writes())
        .collect();
    if writes.is_empty() {
        return report;
    }
    let scope = &work.scope;
    let locked = recorder.locks.get(scope);
    if let Err(e) = prepare(client, &writes, &work, locked).await {
        report.error = Some(e);
        return report;
    }
    let secrets = std::mem::take(&mut work.secrets);
    let (outgoing, key_error) = seal_for(client, &writes, scope, secrets).await;
    report.error = key_error;
    if let Some(locked) = locked {
        if let Err(e) = intend(locked, &writes, &outgoing, &work.remote_secrets) {
            report.error = Some(GithubError::State(format!(
                "nothing was sent to `{}`: {e}",
                work.scope
            )));
            return report;
        }
    }
    let secret_writes = writes.iter().any(|c| c.kind == Kind::Secret);
    let variable_writes = writes.iter().any(|c| c.kind == Kind::Variable);
    report.results = send_all(client, &writes, &work, &outgoing).await;
    let mut missing = Vec::new();
    if let (true, Some(locked)) = (secret_writes, locked) {
        list_and_record(
            client,
            &mut report,
            &work.scope,
            &outgoing,
            locked,
            &mut missing,
        )
        .await;
    }
    if variable_writes {
        match client.list_variables(&work.scope).await {
            Ok(remote) => missing.extend(absent(
                &report.changes,
                Kind::Variable,
                remote.iter().map(|r| r.name.as_str()),
            )),
            Err(e) => {
                report.error.get_or_insert(e);
            }
        }
    }
    report.missing = missing;
    report
}

/// Before anything is sealed: the lock that secret writes need must be held, and a missing
/// environment is created if asked.
async fn prepare(
    client: &Client,
    writes: &[&Change],
    work: &ScopeWrites,
    locked: Option<&Locked>,
) -> Result<(), GithubError> {
    let scope = &work.scope;
    if writes.iter().any(|c| c.kind == Kind::Secret) && locked.is_none() {
        return Err(GithubError::State(format!(
            "internal error: no state lock for `{scope}`; nothing was sent; this is a bug in secretsync, please report it"
        )));
    }
    if let (true, Scope::Environment { repo, environment }) = (work.create_environment, scope) {
        client.ensure_environment(repo, environment, true).await?;
    }
    Ok(())
}

/// Fetch the public key only when a value is sealed, and seal the values that will be written
/// (the rest are dropped unsealed). Without the key nothing is sealed, and the error says why.
async fn seal_for(
    client: &Client,
    writes: &[&Change],
    scope: &Scope,
    secrets: BTreeMap<String, SecretToSeal>,
) -> (SealedSecrets, Option<GithubError>) {
    let needs_key = writes.iter().any(|c| {
        c.kind == Kind::Secret
            && c.action.seals()
            && !matches!(c.reason, Reason::AccessChanged { .. })
    });
    let (key, error) = match needs_key {
        false => (None, None),
        true => match client.public_key(scope).await {
            Ok(key) => {
                tracing::info!(target = %scope, key_id = %key.key_id, "fetched the public key");
                (Some(key), None)
            }
            Err(e) => (None, Some(e)),
        },
    };
    let secrets: BTreeMap<String, SecretToSeal> = secrets
        .into_iter()
        .filter(|(name, _)| {
            writes
                .iter()
                .any(|c| c.kind == Kind::Secret && c.name == *name)
        })
        .collect();
    (seal_all(key.as_ref(), secrets), error)
}

/// Send every write concurrently (within the client's bound). A rejected token stops the writes
/// not yet sent; those are left out of the results.
async fn send_all(
    client: &Client,
    writes: &[&Change],
    work: &ScopeWrites,
    outgoing: &SealedSecrets,
) -> BTreeMap<(Kind, String), Result<Written, GithubError>> {
    let scope = &work.scope;
    let fatal = AtomicBool::new(false);
    let outcomes = futures::future::join_all(writes.iter().map(|change| {
        let fatal = &fatal;
        async move {
            if fatal.load(Ordering::SeqCst) {
                return None;
            }
            let result = write(client, change, work, outgoing).await?;
            match &result {
                Ok(written) => {
                    tracing::info!(target = %scope, name = %change.name, kind = ?change.kind, ?written, "written")
                }
                Err(e) if e.is_fatal() => fatal.store(true, Ordering::SeqCst),
                Err(_) => {}
            }
            Some(((change.kind, change.name.clone()), result))
        }
    }))
    .await;
    outcomes.into_iter().flatten().collect()
}

/// List the secrets again and record what was written; the secrets GitHub does not list go to
/// `missing`.
async fn list_and_record(
    client: &Client,
    report: &mut TargetReport,
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
                Kind::Secret,
                remote.iter().map(|r| r.name.as_str()),
            ));
            record(locked, report, outgoing, &remote)
        }
        // Without the listing there is no timestamp to record. The values did reach GitHub,
        // so record their fingerprints with the time left open: the next apply trusts the
        // fingerprint and fills the time in, instead of sending every value again.
        Err(e) => {
            report.error.get_or_insert(e);
            record_unconfirmed(locked, report, outgoing)
        }
    };
    if let Err(e) = recorded {
        attach_record_failure(report, &e);
    }
}

/// The writes were sent but could not be recorded: say so in the target's report. Their
/// intents stay in the state, so the next plan knows them as ours rather than drift.
fn attach_record_failure(report: &mut TargetReport, e: &StateError) {
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
fn intend(
    locked: &Locked,
    writes: &[&Change],
    outgoing: &SealedSecrets,
    planned_from: &[Remote],
) -> Result<(), StateError> {
    let since = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let sent: Vec<(&String, &Fingerprint)> = writes
        .iter()
        .filter(|c| c.kind == Kind::Secret && c.action != Action::Delete)
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
fn sent_here(report: &TargetReport, name: &str) -> bool {
    report
        .changes
        .iter()
        .any(|c| c.kind == Kind::Secret && c.action.writes() && c.name == name)
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

/// One write. `None` when it was not attempted (no key: the target's error says why).
async fn write(
    client: &Client,
    change: &Change,
    work: &ScopeWrites,
    outgoing: &SealedSecrets,
) -> Option<Result<Written, GithubError>> {
    let scope = &work.scope;
    let name = change.name.as_str();
    let access_only = matches!(change.reason, Reason::AccessChanged { .. });
    Some(match (change.kind, change.action) {
        (Kind::Secret, Action::Delete) => client.delete_secret(scope, name).await,
        (Kind::Variable, Action::Delete) => client.delete_variable(scope, name).await,
        (kind, _) if access_only => {
            let remote = match kind {
                Kind::Secret => work
                    .remote_secrets
                    .iter()
                    .find(|r| r.name == name)
                    .and_then(|r| r.access.as_ref()),
                Kind::Variable => work
                    .remote_variables
                    .iter()
                    .find(|r| r.name == name)
                    .and_then(|r| r.access.as_ref()),
            };
            let want = work.access.as_ref()?;
            change_access(client, scope, name, kind, want, remote, work).await
        }
        (Kind::Secret, _) => {
            let sealed = outgoing.sealed.get(name)?;
            client
                .put_secret(scope, name, Some(sealed), work.access.as_ref())
                .await
        }
        (Kind::Variable, Action::Create) => {
            client
                .create_variable(scope, name, work.variables.get(name)?, work.access.as_ref())
                .await
        }
        (Kind::Variable, _) => {
            client
                .update_variable(scope, name, work.variables.get(name)?, work.access.as_ref())
                .await
        }
    })
}

/// Change who may use an organization item without sending its value: the selected-repositories
/// endpoint when only the list changed, else a write of the visibility alone.
async fn change_access(
    client: &Client,
    scope: &Scope,
    name: &str,
    kind: Kind,
    want: &OrgAccess,
    have: Option<&OrgAccess>,
    work: &ScopeWrites,
) -> Result<Written, GithubError> {
    if have.is_some_and(|h| h.visibility == want.visibility) {
        return client
            .set_selected(scope, name, kind == Kind::Variable, &want.repositories)
            .await;
    }
    match kind {
        Kind::Secret => client.put_secret(scope, name, None, Some(want)).await,
        Kind::Variable => match work.variables.get(name) {
            Some(value) => client.update_variable(scope, name, value, Some(want)).await,
            None => {
                client
                    .set_selected(scope, name, true, &want.repositories)
                    .await
            }
        },
    }
}

fn record(
    locked: &Locked,
    report: &TargetReport,
    outgoing: &SealedSecrets,
    remote: &[Remote],
) -> Result<(), StateError> {
    let listed: BTreeMap<&str, &str> = remote
        .iter()
        .map(|r| (r.name.as_str(), r.updated_at.as_str()))
        .collect();
    locked.update(|loaded| {
        let records = &mut loaded.records;
        // Access-only writes land here too: they move `updated_at`, and the fingerprint is the
        // unchanged value's.
        for ((kind, name), result) in &report.results {
            if *kind != Kind::Secret || result.is_err() {
                continue;
            }
            match (outgoing.fingerprints.get(name), listed.get(name.as_str())) {
                (Some(fingerprint), Some(updated_at)) => {
                    records.insert(
                        name.clone(),
                        Record {
                            fingerprint: fingerprint.clone(),
                            updated_at: Some((*updated_at).to_string()),
                        },
                    );
                }
                _ => {
                    records.remove(name);
                }
            }
        }
        // A record of a secret that is gone from GitHub can never match again.
        records.retain(|name, _| listed.contains_key(name.as_str()));
        loaded.intents.retain(|name, _| {
            !sent_here(report, name)
                || (listed.contains_key(name.as_str())
                    && !intent_done(report.results.get(&(Kind::Secret, name.clone()))))
        });
    })
}

/// Record the secrets written when the listing after the writes failed: fingerprints without a
/// time.
fn record_unconfirmed(
    locked: &Locked,
    report: &TargetReport,
    outgoing: &SealedSecrets,
) -> Result<(), StateError> {
    locked.update(|loaded| {
        let records = &mut loaded.records;
        for ((kind, name), result) in &report.results {
            if *kind != Kind::Secret || result.is_err() {
                continue;
            }
            match outgoing.fingerprints.get(name) {
                Some(fingerprint) => {
                    records.insert(
                        name.clone(),
                        Record {
                            fingerprint: fingerprint.clone(),
                            updated_at: None,
                        },
                    );
                }
                // A delete: nothing to compare any more.
                None => {
                    records.remove(name);
                }
            }
        }
        loaded.intents.retain(|name, _| {
            !sent_here(report, name)
                || !intent_done(report.results.get(&(Kind::Secret, name.clone())))
        });
    })
}

/// Declared names of `kind` (every change that is not an extra or delete) that GitHub does not list.
fn absent<'a>(
    changes: &[Change],
    kind: Kind,
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
