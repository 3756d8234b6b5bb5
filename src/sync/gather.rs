//! Gather and plan, for every job concurrently: what GitHub has in the scope, what the state
//! recorded, and the values, through the pure `plan`. A GitHub failure belongs to its target;
//! anything else stops the run.

use std::collections::BTreeMap;

use secrecy::ExposeSecret;

use crate::apply::{ScopeReport, ScopeWrites, SecretToSeal};
use crate::config::{Config, Store, STATE_VARIABLE};
use crate::error::Error;
use crate::github::{Client, GithubError};
use crate::plan::{self, Change, Desired, DesiredVariable, OrgAccess, Remote, Summary};
use crate::progress::Progress;
use crate::scope::{Scope, Visibility};
use crate::shared_state::{self, LoadError};
use crate::state::{Fingerprinter, Loaded, StateDir};

use super::expand::Job;
use super::resolve::Values;

/// Read-only things every job's planning (and later writing) needs.
pub(super) struct RunContext<'a> {
    pub client: &'a Client,
    pub config: &'a Config,
    pub key: &'a Fingerprinter,
    pub have_key: bool,
    pub state: &'a StateDir,
    pub prune: bool,
    /// `rotate`'s secret: every other name is left out of the plan.
    pub only: Option<&'a str>,
    /// `apply` (not `plan`, which never writes): fetch the key in the listing's round when a
    /// write is certain, and fill in the times of records left open, from this run's listing.
    pub applying: bool,
}

impl RunContext<'_> {
    pub fn host(&self) -> &str {
        self.config.api_url.host()
    }

    /// Records live in each scope's `SECRETSYNC_STATE` variable, fingerprinted with `key`.
    pub fn shared(&self) -> bool {
        matches!(self.config.store, Store::Github { .. })
    }
}

/// A planned job: its report, and what applying it needs.
pub(super) struct PlannedJob {
    pub report: ScopeReport,
    pub writes: ScopeWrites,
}

/// How many writes the plans hold.
pub(super) fn pending(planned: &[PlannedJob]) -> usize {
    let summary = planned.iter().fold(Summary::default(), |mut s, p| {
        s.add(Summary::of(&p.report.changes));
        s
    });
    summary.pending()
}

/// A GitHub failure belongs to its target; anything else stops the run.
enum GatherError {
    Github(GithubError),
    Other(Error),
}

impl From<GithubError> for GatherError {
    fn from(e: GithubError) -> Self {
        GatherError::Github(e)
    }
}

/// Plan every job concurrently, counting them on the progress line.
pub(super) async fn plan_all(
    cx: &RunContext<'_>,
    values: &Values,
    jobs: Vec<Job>,
    progress: &Progress,
) -> Result<Vec<PlannedJob>, Error> {
    progress
        .targets
        .store(jobs.len(), std::sync::atomic::Ordering::Relaxed);
    let planning = jobs.into_iter().map(|job| async move {
        let planned = plan_job(cx, values, job).await;
        Progress::tick(&progress.planned);
        planned
    });
    futures::future::join_all(planning)
        .await
        .into_iter()
        .collect()
}

async fn plan_job(cx: &RunContext<'_>, values: &Values, job: Job) -> Result<PlannedJob, Error> {
    let label = job.scope.to_string();
    Ok(match gather(cx, values, &job).await {
        Ok((changes, writes)) => PlannedJob {
            report: ScopeReport::planned(label, changes),
            writes,
        },
        Err(GatherError::Github(e)) => PlannedJob {
            report: ScopeReport::failed_at_start(label, e),
            writes: ScopeWrites::new(job.scope),
        },
        Err(GatherError::Other(e)) => return Err(e),
    })
}

/// List what GitHub has for one job, and plan it against the values and the records.
async fn gather(
    cx: &RunContext<'_>,
    values: &Values,
    job: &Job,
) -> Result<(Vec<Change>, ScopeWrites), GatherError> {
    let scope = &job.scope;
    let create_environment = environment_to_create(cx.client, job).await?;
    let access = org_access(cx.client, job).await?;
    let mut writes = ScopeWrites::new(scope.clone());
    let loaded = local_state(cx, job)?;
    let desired = desired_secrets(cx, values, job, &access, &mut writes.secrets);
    let desired_variables = desired_variables(values, job, &access, &mut writes.variables);
    let shared = list_round(cx, job, create_environment, &desired, &loaded, &mut writes).await?;
    tracing::info!(target = %scope, secrets = writes.remote_secrets.len(), variables = writes.remote_variables.len(), "listed");
    let recorded = recorded(cx, job, &loaded, &writes.remote_secrets, shared)?;
    let mut changes = plan::plan(
        &desired,
        &writes.remote_secrets,
        &recorded,
        cx.prune && !job.secrets.is_empty(),
    );
    changes.extend(plan::plan_variables(
        &desired_variables,
        &writes.remote_variables,
        cx.prune && !job.variables.is_empty(),
    ));
    explain_unselected(cx.config, job, &mut changes);
    if cx.shared() {
        plan::against_shared_record(&mut changes, &desired, &loaded.records);
    }
    if let Some(name) = cx.only {
        changes.retain(|c| c.name == name);
    }
    writes.access = access;
    writes.create_environment = create_environment;
    Ok((changes, writes))
}

/// The one round of reads before the plan: the secrets and the shared record, the variables,
/// and the public key when a write is certain, all at once. Returns the shared record (with the
/// shared store).
async fn list_round(
    cx: &RunContext<'_>,
    job: &Job,
    create_environment: bool,
    desired: &[Desired],
    loaded: &Loaded,
    writes: &mut ScopeWrites,
) -> Result<Option<plan::Recorded>, GatherError> {
    let scope = &job.scope;
    // A missing environment to be created holds nothing yet: everything is a create.
    let listed = |items: &[String]| !items.is_empty() && !create_environment;
    let secrets = async {
        match listed(&job.secrets) {
            true => Some(tokio::join!(
                cx.client.list_secrets(scope),
                shared_record(cx, scope)
            )),
            false => None,
        }
    };
    let variables = async {
        match listed(&job.variables) {
            true => Some(cx.client.list_variables(scope).await),
            false => None,
        }
    };
    // The key in the same round: the client keeps it for the writes. A wasted fetch costs one
    // read; a missed one costs a round trip.
    let key = async {
        if cx.applying && !create_environment && write_certain(cx, desired, &loaded.records) {
            let _ = cx.client.public_key(scope).await;
        }
    };
    let (secrets, variables, ()) = tokio::join!(secrets, variables, key);
    // With the shared store, a scope with nothing listed (an environment to be created) has
    // an empty record, never this machine's.
    let mut shared = cx.shared().then(plan::Recorded::new);
    if let Some((listing, record)) = secrets {
        writes.remote_secrets = listing?;
        if let Some(record) = record? {
            shared = Some(record);
        }
    }
    if let Some(listing) = variables {
        writes.remote_variables = listing?;
        // secretsync's own record is never an undeclared variable, and never pruned.
        writes.remote_variables.retain(|v| v.name != STATE_VARIABLE);
    }
    Ok(shared)
}

/// Whether the job's environment is missing and is to be created by `apply`.
async fn environment_to_create(client: &Client, job: &Job) -> Result<bool, GithubError> {
    let Scope::Environment { repo, environment } = &job.scope else {
        return Ok(false);
    };
    match client.ensure_environment(repo, environment, false).await {
        Ok(()) => Ok(false),
        Err(GithubError::NoEnvironment { .. }) if job.create_environment => Ok(true),
        Err(e) => Err(e),
    }
}

/// Who may use an organization's items, as the target wants it, with the repositories' ids.
async fn org_access(client: &Client, job: &Job) -> Result<Option<OrgAccess>, GithubError> {
    let (Scope::Org { org, .. }, Some(access)) = (&job.scope, &job.access) else {
        return Ok(None);
    };
    let names = match access.visibility {
        Visibility::Selected => client.repository_ids(org, &access.repositories).await?,
        _ => BTreeMap::new(),
    };
    Ok(Some(OrgAccess {
        visibility: access.visibility,
        repositories: names.keys().copied().collect(),
        names,
    }))
}

/// The shared record of the scope, read in the same round as its listing (`None` without
/// `[state] store = "github"`). Written with another key, it stops the run before any write.
async fn shared_record(
    cx: &RunContext<'_>,
    scope: &Scope,
) -> Result<Option<plan::Recorded>, GatherError> {
    if !cx.shared() {
        return Ok(None);
    }
    match shared_state::load(cx.client, scope, cx.key).await {
        Ok(loaded) => Ok(Some(loaded.document.section(scope).clone())),
        Err(LoadError::Github(e)) => Err(GatherError::Github(e)),
        Err(LoadError::Shared(e)) => Err(GatherError::Other(e.into())),
    }
}

/// This machine's records and intents for the scope (none without a key or secrets).
fn local_state(cx: &RunContext<'_>, job: &Job) -> Result<Loaded, GatherError> {
    match cx.have_key && !job.secrets.is_empty() {
        true => cx
            .state
            .load(cx.host(), &job.scope)
            .map_err(|e| GatherError::Other(e.into())),
        false => Ok(Loaded::default()),
    }
}

/// Whether `apply` will write a value whatever the listing says: one this machine never
/// recorded, or recorded with another fingerprint. With the shared store only a local record
/// that differs counts: a name this machine never wrote may well be in the team's record.
fn write_certain(cx: &RunContext<'_>, desired: &[Desired], local: &plan::Recorded) -> bool {
    desired
        .iter()
        .filter(|d| cx.only.is_none_or(|only| d.name == only))
        .any(|d| match (&d.fingerprint, local.get(&d.name)) {
            (None, _) => false,
            (Some(_), None) => !cx.shared(),
            (Some(fingerprint), Some(record)) => record.fingerprint != *fingerprint,
        })
}

/// What the state recorded for the scope (the shared record's, when there is one). Writes of
/// an apply of this machine that was cut off before it recorded them are ours, not drift.
fn recorded(
    cx: &RunContext<'_>,
    job: &Job,
    loaded: &Loaded,
    remote: &[Remote],
    shared: Option<plan::Recorded>,
) -> Result<plan::Recorded, GatherError> {
    let recorded = match shared {
        // A shared record gets its times from the apply that writes it, never from here.
        Some(shared) => plan::settle_shared(&shared, &loaded.intents, remote),
        None => {
            let mut recorded = plan::settle(&loaded.records, &loaded.intents, remote);
            if cx.applying {
                adopt_times(cx, &job.scope, &mut recorded, remote)?;
            }
            recorded
        }
    };
    Ok(recorded)
}

/// The job's secrets as the plan sees them (fingerprints, never values); each known value goes
/// to `to_seal` for the writes.
fn desired_secrets(
    cx: &RunContext<'_>,
    values: &Values,
    job: &Job,
    access: &Option<OrgAccess>,
    to_seal: &mut BTreeMap<String, SecretToSeal>,
) -> Vec<Desired> {
    let mut desired = Vec::new();
    for name in &job.secrets {
        let value = &values.secrets[name];
        let fingerprint = value.secret.as_ref().map(|secret| {
            let fingerprint = cx.key.fingerprint(cx.host(), &job.scope, name, secret);
            let ready = SecretToSeal {
                value: secret.clone(),
                fingerprint: fingerprint.clone(),
            };
            to_seal.insert(name.clone(), ready);
            fingerprint
        });
        desired.push(Desired {
            name: name.clone(),
            fingerprint,
            source: Some(value.kind),
            access: access.clone(),
        });
    }
    desired
}

/// The job's variables as the plan sees them; each known value goes to `texts` for the writes.
fn desired_variables(
    values: &Values,
    job: &Job,
    access: &Option<OrgAccess>,
    texts: &mut BTreeMap<String, String>,
) -> Vec<DesiredVariable> {
    let mut desired = Vec::new();
    for name in &job.variables {
        let value = &values.variables[name];
        // Variables are not secret: GitHub shows them to anyone who can read the repository.
        let text = value.secret.as_ref().map(|s| s.expose_secret().to_string());
        if let Some(text) = &text {
            texts.insert(name.clone(), text.clone());
        }
        desired.push(DesiredVariable {
            name: name.clone(),
            value: text,
            source: Some(value.kind),
            access: access.clone(),
        });
    }
    desired
}

/// Declared names that the target's globs leave out are said to be so, not "not declared".
fn explain_unselected(config: &Config, job: &Job, changes: &mut [Change]) {
    let kinds = [
        (plan::ItemKind::Secret, &config.secrets),
        (plan::ItemKind::Variable, &config.variables),
    ];
    for ((kind, declared), selection) in kinds.into_iter().zip(&job.selection) {
        if let Some(selection) = selection {
            let declared = |name: &str| declared.contains_key(name);
            plan::explain_unselected(changes, kind, &declared, selection);
        }
    }
}

/// Records with no time (written when the listing after the writes failed, or settled from an
/// intent) take it from this listing, so drift is watched again from now on. Persisted only if
/// no other run holds the scope's lock; otherwise a later apply does it.
fn adopt_times(
    cx: &RunContext<'_>,
    scope: &Scope,
    recorded: &mut plan::Recorded,
    remote: &[Remote],
) -> Result<(), GatherError> {
    if plan::fill_times(recorded, remote).is_empty() {
        return Ok(());
    }
    // Weighed again under the lock: another run may have recorded since this one read.
    cx.state
        .try_update(cx.host(), scope, |loaded| {
            let mut settled = plan::settle(&loaded.records, &loaded.intents, remote);
            for name in plan::fill_times(&mut settled, remote) {
                loaded.intents.remove(&name);
                if let Some(record) = settled.remove(&name) {
                    loaded.records.insert(name, record);
                }
            }
        })
        .map(|_| ())
        .map_err(|e| GatherError::Other(e.into()))
}
