//! Carrying out a plan for one repository: fetch the public key only when something is sealed,
//! write each change, list again, and record what succeeded. It decides nothing itself: what to
//! write comes from the plan, and a failed write never stops the others (but a revoked token does).

use std::collections::BTreeMap;

use secrecy::SecretString;

use crate::config::Repo;
use crate::github::{Client, GithubError, Written};
use crate::plan::{Action, Change, Fingerprint, Record, Remote};
use crate::seal;
use crate::state::{Locked, StateDir, StateError};

/// Everything known about one target after `plan` or `apply`: what renderers show.
#[derive(Debug)]
pub struct TargetReport {
    pub repo: Repo,
    pub changes: Vec<Change>,
    /// Per written name: how the write went. Empty for `plan`.
    pub results: BTreeMap<String, Result<Written, GithubError>>,
    /// Declared names absent on GitHub (after the writes, for `apply`).
    pub missing: Vec<String>,
    /// A failure of the target as a whole (listing, public key, final listing).
    pub error: Option<GithubError>,
}

impl TargetReport {
    /// A target whose listing failed: nothing is known about it.
    pub fn failed_at_start(repo: Repo, error: GithubError) -> TargetReport {
        TargetReport {
            repo,
            changes: Vec::new(),
            results: BTreeMap::new(),
            missing: Vec::new(),
            error: Some(error),
        }
    }

    /// A planned target: what is missing is what is declared and not listed.
    pub fn planned(repo: Repo, changes: Vec<Change>, remote: &[Remote]) -> TargetReport {
        TargetReport {
            missing: missing(&changes, remote),
            repo,
            changes,
            results: BTreeMap::new(),
            error: None,
        }
    }

    pub fn failed(&self) -> usize {
        self.results.values().filter(|r| r.is_err()).count()
    }
}

/// A value ready to seal, with the fingerprint to record once it is written.
pub struct Ready {
    pub value: SecretString,
    pub fingerprint: Fingerprint,
}

/// Where records go: the state folder, and the API host they belong to.
pub struct Recorder<'a> {
    pub state: &'a StateDir,
    pub host: &'a str,
}

/// Write `changes` to `repo`. `values` holds a ready value for every create and update.
pub async fn apply_target(
    client: &Client,
    repo: &Repo,
    changes: Vec<Change>,
    values: &BTreeMap<String, Ready>,
    recorder: &Recorder<'_>,
) -> Result<TargetReport, StateError> {
    let mut report = TargetReport {
        repo: repo.clone(),
        changes,
        results: BTreeMap::new(),
        missing: Vec::new(),
        error: None,
    };
    let writes: Vec<&Change> = report
        .changes
        .iter()
        .filter(|c| c.action.writes())
        .collect();
    if writes.is_empty() {
        return Ok(report);
    }
    let locked = recorder.state.lock(recorder.host, repo)?;
    let key = if writes.iter().any(|c| c.action.seals()) {
        match client.public_key(repo).await {
            Ok(key) => {
                tracing::info!(repo = %repo, key_id = %key.key_id, "fetched the public key");
                Some(key)
            }
            Err(e) => {
                report.error = Some(e);
                None
            }
        }
    } else {
        None
    };
    let mut results = BTreeMap::new();
    let mut fatal: Option<GithubError> = None;
    for change in &writes {
        if let Some(e) = &fatal {
            results.insert(change.name.clone(), Err(e.clone()));
            continue;
        }
        let result = match change.action {
            Action::Delete => client
                .delete_secret(repo, &change.name)
                .await
                .map(|()| Written::Updated),
            _ => {
                let (Some(key), Some(ready)) = (&key, values.get(&change.name)) else {
                    // No key (already reported as the target's error) or no value: not written.
                    continue;
                };
                let sealed = seal::seal(key, &ready.value);
                client.put_secret(repo, &change.name, &sealed).await
            }
        };
        match &result {
            Ok(written) => tracing::info!(repo = %repo, name = %change.name, ?written, "written"),
            Err(e) if e.is_fatal() => fatal = Some(e.clone()),
            Err(_) => {}
        }
        results.insert(change.name.clone(), result);
    }
    report.results = results;

    // GitHub's `updated_at` after our writes is what the next plan compares against.
    let listed = client.list_secrets(repo).await;
    let remote: Vec<Remote> = match listed {
        Ok(remote) => remote,
        Err(e) => {
            report.error.get_or_insert(e);
            // Without the listing there is no timestamp to record: leave the records as they
            // were, so the next run re-sends these values rather than trusting a guess.
            return Ok(report);
        }
    };
    record(&locked, &report, values, &remote)?;
    report.missing = missing(&report.changes, &remote);
    Ok(report)
}

fn record(
    locked: &Locked,
    report: &TargetReport,
    values: &BTreeMap<String, Ready>,
    remote: &[Remote],
) -> Result<(), StateError> {
    let listed: BTreeMap<&str, &str> = remote
        .iter()
        .map(|r| (r.name.as_str(), r.updated_at.as_str()))
        .collect();
    locked.update(|records| {
        for (name, result) in &report.results {
            if result.is_err() {
                continue;
            }
            match (values.get(name), listed.get(name.as_str())) {
                (Some(ready), Some(updated_at)) => {
                    records.insert(
                        name.clone(),
                        Record {
                            fingerprint: ready.fingerprint.clone(),
                            updated_at: (*updated_at).to_string(),
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
    })
}

/// Declared names (every change that is not an extra or delete) that GitHub does not list.
pub fn missing(changes: &[Change], remote: &[Remote]) -> Vec<String> {
    changes
        .iter()
        .filter(|c| !matches!(c.action, Action::Extra | Action::Delete))
        .filter(|c| !remote.iter().any(|r| r.name == c.name))
        .map(|c| c.name.clone())
        .collect()
}
