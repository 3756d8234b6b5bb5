//! Sending one scope's writes: each change to its endpoint, concurrently within the client's
//! bound. A rejected token stops the writes not yet sent: the client refuses them itself (for
//! every scope of the run, not only this one), and they are reported as not sent.

use std::collections::BTreeMap;

use crate::github::{Client, GithubError, Landed, Written};
use crate::plan::{Action, Change, ItemKind, OrgAccess, Reason};
use crate::scope::Scope;

use super::{ScopeWrites, SealedSecrets};

/// How each write went, and for each secret GitHub accepted, when at the latest it landed.
#[derive(Default)]
pub(super) struct Sent {
    pub results: BTreeMap<(ItemKind, String), Result<Written, GithubError>>,
    pub at_latest: BTreeMap<String, Option<String>>,
}

/// Send every write concurrently (within the client's bound).
pub(super) async fn send_all(
    client: &Client,
    writes: &[&Change],
    work: &ScopeWrites,
    outgoing: &SealedSecrets,
) -> Sent {
    let scope = &work.scope;
    let outcomes = futures::future::join_all(writes.iter().map(|change| async move {
        let result = write(client, change, work, outgoing).await?;
        if let Ok(landed) = &result {
            let written = landed.written;
            tracing::info!(target = %scope, name = %change.name, kind = ?change.kind, ?written, "written");
        }
        Some(((change.kind, change.name.clone()), result))
    }))
    .await;
    let mut sent = Sent::default();
    for (key, result) in outcomes.into_iter().flatten() {
        if let (ItemKind::Secret, Ok(landed)) = (key.0, &result) {
            sent.at_latest
                .insert(key.1.clone(), landed.at_latest.clone());
        }
        sent.results
            .insert(key, result.map(|landed| landed.written));
    }
    sent
}

/// One write. `None` when it was not attempted (no key: the target's error says why).
async fn write(
    client: &Client,
    change: &Change,
    work: &ScopeWrites,
    outgoing: &SealedSecrets,
) -> Option<Result<Landed, GithubError>> {
    let scope = &work.scope;
    let name = change.name.as_str();
    let access_only = matches!(change.reason, Reason::AccessChanged { .. });
    Some(match (change.kind, change.action) {
        (ItemKind::Secret, Action::Delete) => client.delete_secret(scope, name).await,
        (ItemKind::Variable, Action::Delete) => client.delete_variable(scope, name).await,
        (kind, _) if access_only => {
            let remote = work.remote_access(kind, name);
            let want = work.access.as_ref()?;
            change_access(client, scope, name, kind, want, remote, work).await
        }
        (ItemKind::Secret, _) => {
            let sealed = outgoing.sealed.get(name)?;
            client
                .put_secret(scope, name, Some(sealed), work.access.as_ref())
                .await
        }
        (ItemKind::Variable, Action::Create) => {
            client
                .create_variable(scope, name, work.variables.get(name)?, work.access.as_ref())
                .await
        }
        (ItemKind::Variable, _) => {
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
    kind: ItemKind,
    want: &OrgAccess,
    have: Option<&OrgAccess>,
    work: &ScopeWrites,
) -> Result<Landed, GithubError> {
    if have.is_some_and(|h| h.visibility == want.visibility) {
        return client
            .set_selected(scope, name, kind == ItemKind::Variable, &want.repositories)
            .await;
    }
    match kind {
        ItemKind::Secret => client.put_secret(scope, name, None, Some(want)).await,
        ItemKind::Variable => match work.variables.get(name) {
            Some(value) => client.update_variable(scope, name, value, Some(want)).await,
            None => {
                client
                    .set_selected(scope, name, true, &want.repositories)
                    .await
            }
        },
    }
}
