//! Carrying out one scope's plan: create a missing environment if asked, fetch the public key only
//! when a value is sealed (the client keeps it if the listing's round fetched it), write each
//! change (concurrently, within the client's bound), and record what succeeded. It decides nothing itself: what to write comes from the
//! plan. A failed write never stops the others, but a rejected token stops all further writes.
//! Each secret's write is announced in the state (an intent) before it is sent, and nothing is
//! sent when that fails; a record that fails after the writes is told in the target's report.

mod record;
mod send;

pub use record::SharedRecorder;

use std::collections::BTreeMap;

use secrecy::SecretString;

use crate::github::{Client, GithubError, Written};
use crate::plan::{
    Action, Change, Fingerprint, ItemKind, OrgAccess, Reason, Remote, RemoteVariable,
};
use crate::scope::Scope;
use crate::seal::{self, Sealed};
use crate::state::Locked;

/// Everything known about one scope after `plan` or `apply` (or about a target that failed
/// before it could be expanded into scopes): what renderers show.
#[derive(Debug)]
pub struct ScopeReport {
    /// How the target is named for people.
    pub target: String,
    pub changes: Vec<Change>,
    /// Per written (kind, name): how the write went. Empty for `plan`.
    pub results: BTreeMap<(ItemKind, String), Result<Written, GithubError>>,
    /// Declared names absent on GitHub (after the writes, for `apply`).
    pub missing: Vec<String>,
    /// A failure of the target as a whole (listing, public key, a listing after the writes).
    pub error: Option<GithubError>,
}

impl ScopeReport {
    pub fn failed(&self) -> usize {
        self.results.values().filter(|r| r.is_err()).count()
    }

    /// A target that failed before it could be planned.
    pub fn failed_at_start(target: String, error: GithubError) -> ScopeReport {
        ScopeReport {
            target,
            changes: Vec::new(),
            results: BTreeMap::new(),
            missing: Vec::new(),
            error: Some(error),
        }
    }

    /// A planned target: what is missing is what is declared and not listed.
    pub fn planned(target: String, changes: Vec<Change>) -> ScopeReport {
        ScopeReport {
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

    /// The secrets this report's plan writes (and so records, under the scope's lock).
    pub fn secret_writes(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|c| c.kind == ItemKind::Secret && c.action.writes())
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

    /// Who may use the item `name` of `kind`, as GitHub listed it when the scope was planned.
    fn remote_access(&self, kind: ItemKind, name: &str) -> Option<&OrgAccess> {
        let access = match kind {
            ItemKind::Secret => &self.remote_secrets.iter().find(|r| r.name == name)?.access,
            ItemKind::Variable => {
                &self
                    .remote_variables
                    .iter()
                    .find(|r| r.name == name)?
                    .access
            }
        };
        access.as_ref()
    }
}

/// Where records go: the locked state of every scope the run writes secrets to, and the
/// team's shared record when `[state] store = "github"`.
pub struct Recorder<'a> {
    pub locks: &'a BTreeMap<Scope, Locked>,
    pub shared: Option<&'a SharedRecorder<'a>>,
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

/// Carry out one scope's plan: prepare, seal, announce the intents, send, record.
pub async fn apply_target(
    client: &Client,
    mut report: ScopeReport,
    mut work: ScopeWrites,
    recorder: &Recorder<'_>,
) -> ScopeReport {
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
        if let Err(e) = record::intend(locked, &writes, &outgoing, &work.remote_secrets) {
            report.error = Some(GithubError::State(format!(
                "nothing was sent to `{}`: {e}",
                work.scope
            )));
            return report;
        }
    }
    let secret_writes = writes.iter().any(|c| c.kind == ItemKind::Secret);
    let sent = send::send_all(client, &writes, &work, &outgoing).await;
    report.results = sent.results;
    // A refused token is the one failure to fix before anything else: the target says so in
    // full, beyond each write's short line.
    let token_refused = report.results.values().find_map(|r| {
        r.as_ref()
            .err()
            .filter(|e| matches!(e, GithubError::BadToken { .. }))
    });
    if let (None, Some(refused)) = (&report.error, token_refused) {
        report.error = Some(refused.clone());
    }
    let mut missing = record::absent_variables(&report, &work.remote_variables);
    if let (true, Some(locked)) = (secret_writes, locked) {
        let known = record::known_after(&report, &work.remote_secrets, &sent.at_latest);
        record::record_writes(
            client,
            &mut report,
            (&work.scope, known),
            &outgoing,
            (locked, recorder.shared),
            &mut missing,
        )
        .await;
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
    if writes.iter().any(|c| c.kind == ItemKind::Secret) && locked.is_none() {
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
        c.kind == ItemKind::Secret
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
                .any(|c| c.kind == ItemKind::Secret && c.name == *name)
        })
        .collect();
    (seal_all(key.as_ref(), secrets), error)
}
