//! One run of `plan` or `apply` from start to end: resolve the token and every value, check them,
//! expand the targets into scopes, plan every scope concurrently, and (for `apply`) write. Each
//! step is a call into its own module; this one only puts them in order, and does everything
//! that can fail locally before the network.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::apply::{self, Ready, Recorder, TargetReport, Work};
use crate::checks;
use crate::config::{value_problems, Access, Config, Decl};
use crate::error::Error;
use crate::github::{Client, GithubError, Pacing};
use crate::plan::{self, Desired, DesiredVariable, OrgAccess, Remote, RemoteVariable, Summary};
use crate::precedence::{self, Placed};
use crate::progress::Progress;
use crate::render::{self, Mode, Style};
use crate::scope::{Scope, Visibility};
use crate::source::{self, PromptMode, Resolution, SourceKind};
use crate::state::{Fingerprinter, StateDir};

/// How a run was asked for, already free of clap.
#[derive(Debug, Clone)]
pub struct Options {
    pub prune: bool,
    pub json: bool,
    /// `plan --interactive`; always on for `apply`.
    pub prompts: PromptMode,
    /// `apply --yes`.
    pub yes: bool,
    pub style: Style,
    pub pacing: Pacing,
    /// Draw progress on stderr (a terminal, and not `--json`).
    pub progress: bool,
    /// Do not run `[[checks]]` before writing (`apply --skip-checks`; `plan` never runs them).
    pub skip_checks: bool,
}

/// One secret and its new value, for `rotate`: given to `run` by value, so the value's only copy
/// goes where every other value goes, and is dropped with them before the writes.
#[derive(Debug)]
pub struct Only {
    pub name: String,
    pub value: SecretString,
    /// Where the value came from: a prompt, or standard input.
    pub kind: SourceKind,
}

/// The config as `rotate` sees it: only the targets that carry the secret, carrying only it.
fn narrowed(config: &Config, only: &Only) -> Config {
    let mut config = config.clone();
    config.targets.retain(|t| t.secrets.contains(&only.name));
    for target in &mut config.targets {
        target.secrets = vec![only.name.clone()];
        target.variables.clear();
    }
    config
}

/// Whether this is `plan` (never writes) or `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Plan,
    Apply,
}

/// What a run ended with, for the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Writes still pending (plan), or 0 after apply.
    pub pending: usize,
    /// Nothing failed: no target error, no failed write, nothing missing after apply.
    pub ok: bool,
    /// When something failed: what to say on stderr (lines joined by `\nerror: `), so scripts
    /// that read only stderr see why.
    pub failure: Option<String>,
}

/// The lines for stderr when reports hold failures: each failed target's error (the report only
/// marks them, so each is said once), or a count of failed writes, pointing at the report.
fn failure_line(reports: &[TargetReport]) -> Option<String> {
    let mut lines: Vec<String> = Vec::new();
    // A rejected token or an unreachable GitHub fails every target alike: said once, counted.
    let mut alike: Vec<(std::mem::Discriminant<GithubError>, usize, usize)> = Vec::new();
    for error in reports.iter().filter_map(|r| r.error.as_ref()) {
        if matches!(
            error,
            GithubError::BadToken { .. } | GithubError::Network { .. }
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
    let failed: usize = reports.iter().map(TargetReport::failed).sum();
    let missing: usize = reports.iter().map(|r| r.missing.len()).sum();
    (failed + missing > 0).then(|| {
        format!("{failed} write(s) failed and {missing} declared item(s) are missing on GitHub; see the report, fix the cause, and run apply again")
    })
}

/// A resolved value, or the knowledge that a prompt will give it on `apply`.
struct Value {
    secret: Option<SecretString>,
    kind: SourceKind,
}

/// Every value the run uses, resolved and checked.
struct Values {
    secrets: BTreeMap<String, Value>,
    variables: BTreeMap<String, Value>,
}

/// One scope's share of the run, after `repos = { org, match }` is expanded.
struct Job {
    scope: Scope,
    secrets: Vec<String>,
    variables: Vec<String>,
    /// The target's globs as written, with its line: why declared names are left out.
    selection: [Option<String>; 2],
    access: Option<Access>,
    create_environment: bool,
}

/// A planned job, with what applying it needs.
struct Planned {
    job: Job,
    report: TargetReport,
    gathered: Gathered,
}

/// Read-only things every job's planning needs.
struct Context<'a> {
    client: &'a Client,
    config: &'a Config,
    values: &'a Values,
    key: &'a Fingerprinter,
    have_key: bool,
    state: &'a StateDir,
    host: &'a str,
    prune: bool,
    progress: &'a Progress,
    /// `rotate`'s secret: every other name is left out of the plan.
    only: Option<&'a str>,
    /// `apply` (not `plan`, which never writes): fill in the times of records written when a
    /// listing failed, from this run's listing.
    adopt: bool,
}

/// `secretsync plan` and `secretsync apply`, from a loaded config to the rendered report.
pub fn run(
    config: &Config,
    state: &StateDir,
    command: Command,
    options: &Options,
    only: Option<Only>,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    if command == Command::Apply && !options.yes && !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "apply needs confirmation, and there is no terminal to ask on; review with `secretsync plan`, then run `secretsync apply --yes`".into(),
        ));
    }
    let token = source::resolve_token(&config.token)?;
    let prompts = match command {
        Command::Apply => PromptMode::Ask,
        Command::Plan => options.prompts,
    };
    let narrowed_config;
    let only_name = only.as_ref().map(|o| o.name.clone());
    let (config, values) = match only {
        None => (config, resolve_values(config, prompts)?),
        Some(only) => {
            narrowed_config = narrowed(config, &only);
            let value = Value {
                secret: Some(only.value),
                kind: only.kind,
            };
            let values = Values {
                secrets: [(only.name, value)].into(),
                variables: BTreeMap::new(),
            };
            (&narrowed_config, values)
        }
    };
    if command == Command::Apply && !options.skip_checks {
        let known: BTreeMap<String, SecretString> = values
            .secrets
            .iter()
            .filter_map(|(name, v)| v.secret.clone().map(|s| (name.clone(), s)))
            .collect();
        // The checks' report goes where the plan goes; JSON keeps stdout to one document.
        let mut stderr = std::io::stderr();
        let sink: &mut dyn Write = if options.json { &mut stderr } else { &mut *out };
        checks::gate(config, &known, None, sink)?;
    }
    // `plan` never writes, so it never makes the key; without a key nothing recorded can match.
    let (key, have_key) = match command {
        Command::Apply => (state.key()?, true),
        Command::Plan => match state.existing_key()? {
            Some(key) => (key, true),
            None => (Fingerprinter::ephemeral(), false),
        },
    };
    let (runtime, client) = crate::github::connect(&config.api_url, token.value, options.pacing)?;
    runtime.block_on(async {
        let progress = Progress::start(options.progress);
        let (jobs, failed) = expand(config, &client).await?;
        let warnings = precedence::warnings(&placed(&jobs));
        progress
            .targets
            .store(jobs.len(), std::sync::atomic::Ordering::Relaxed);
        let context = Context {
            client: &client,
            config,
            values: &values,
            key: &key,
            have_key,
            state,
            host: config.api_url.host(),
            prune: options.prune,
            progress: &progress,
            only: only_name.as_deref(),
            adopt: command == Command::Apply,
        };
        let mut planned = Vec::new();
        for result in
            futures::future::join_all(jobs.into_iter().map(|job| plan_job(&context, job))).await
        {
            planned.push(result?);
        }
        // Each job holds its own copies of the values it writes; the run's copies end here.
        drop(values);
        let mut reports: Vec<TargetReport> = failed;
        let summary = planned.iter().fold(Summary::default(), |mut s, p| {
            s.add(Summary::of(&p.report.changes));
            s
        });
        if command == Command::Plan || summary.pending() == 0 {
            progress.finish();
            reports.extend(planned.into_iter().map(|p| p.report));
            let mode = if command == Command::Plan {
                Mode::Plan
            } else {
                Mode::Apply
            };
            render::report(out, &reports, &warnings, mode, options.json, options.style)?;
            let ok = reports.iter().all(|r| r.error.is_none());
            return Ok(Outcome {
                pending: summary.pending(),
                ok,
                failure: failure_line(&reports).filter(|_| !ok),
            });
        }
        progress.finish();
        let preview: Vec<&TargetReport> = reports
            .iter()
            .chain(planned.iter().map(|p| &p.report))
            .collect();
        if !options.json {
            render::plan_preview(out, &preview, &warnings, options.style)?;
        } else if !options.yes {
            // stdout carries only the JSON document; the person confirming still sees the plan.
            render::plan_preview(
                &mut std::io::stderr(),
                &preview,
                &warnings,
                Style::default(),
            )?;
        }
        if !options.yes && !confirm(summary.pending())? {
            return Err(Error::Usage("nothing was written: not confirmed".into()));
        }
        let progress = Progress::start(options.progress);
        progress
            .targets
            .store(planned.len(), std::sync::atomic::Ordering::Relaxed);
        progress
            .planned
            .store(planned.len(), std::sync::atomic::Ordering::Relaxed);
        progress
            .writes
            .store(summary.pending(), std::sync::atomic::Ordering::Relaxed);
        let stop = client.stop_flag();
        source::leave_signals_to_caller();
        let listener = interrupt_on_signals(Arc::clone(&stop))?;
        // Every lock the writes need, taken before the first write and held until the last
        // record, in one global order: runs with overlapping targets take turns.
        let scopes: Vec<&Scope> = planned
            .iter()
            .filter(|p| p.report.error.is_none() && writes_secrets(&p.report))
            .map(|p| &p.job.scope)
            .collect();
        let host = config.api_url.host();
        let Some(locks) = state.lock_all(host, &scopes, &stop).await? else {
            listener.abort();
            return Err(Error::Interrupted(
                "interrupted while waiting for another run's lock; nothing was written".into(),
            ));
        };
        let recorder = Recorder { locks: &locks };
        let applied = futures::future::join_all(
            planned
                .into_iter()
                .map(|p| apply_job(&client, p, &recorder, &progress)),
        )
        .await;
        drop(locks);
        progress.finish();
        listener.abort();
        reports.extend(applied);
        render::report(
            out,
            &reports,
            &warnings,
            Mode::Apply,
            options.json,
            options.style,
        )?;
        let ok = reports
            .iter()
            .all(|r| r.error.is_none() && r.failed() == 0 && r.missing.is_empty());
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::Interrupted(
                "interrupted: what was written is recorded; run `secretsync apply` again to finish"
                    .into(),
            ));
        }
        Ok(Outcome {
            pending: 0,
            ok,
            failure: failure_line(&reports).filter(|_| !ok),
        })
    })
}

/// Resolve every value a target uses, and check it. Reports every bad value, not just the first.
fn resolve_values(config: &Config, prompts: PromptMode) -> Result<Values, Error> {
    let mut problems = Vec::new();
    let mut resolve_all = |declared: &BTreeMap<String, Decl>,
                           used: BTreeSet<&String>|
     -> Result<BTreeMap<String, Value>, Error> {
        let mut values = BTreeMap::new();
        for name in used {
            let decl = &declared[name];
            let value = match source::resolve(&decl.name, &decl.chain, prompts)? {
                Resolution::Value { value, kind } => {
                    problems.extend(value_problems(decl, &value));
                    Value {
                        secret: Some(value),
                        kind,
                    }
                }
                Resolution::Deferred => Value {
                    secret: None,
                    kind: SourceKind::Prompt,
                },
            };
            values.insert(name.clone(), value);
        }
        Ok(values)
    };
    let secrets = resolve_all(
        &config.secrets,
        config
            .targets
            .iter()
            .flat_map(|t| t.secrets.iter())
            .collect(),
    )?;
    let variables = resolve_all(
        &config.variables,
        config
            .targets
            .iter()
            .flat_map(|t| t.variables.iter())
            .collect(),
    )?;
    if problems.is_empty() {
        Ok(Values { secrets, variables })
    } else {
        Err(Error::Value(problems.join("\nerror: ")))
    }
}

/// Targets into jobs: `repos = { org, match }` asks GitHub for the organization's repositories.
/// A target that cannot be expanded becomes a failed report; a scope reached twice is an error.
async fn expand(config: &Config, client: &Client) -> Result<(Vec<Job>, Vec<TargetReport>), Error> {
    let mut jobs: Vec<Job> = Vec::new();
    let mut failed = Vec::new();
    // Each scope's target line, so an overlap names both targets.
    let mut lines: Vec<(String, usize)> = Vec::new();
    for target in &config.targets {
        let scopes = match client.scopes(&target.place).await {
            Ok(scopes) => scopes,
            Err(e) => {
                failed.push(TargetReport::failed_at_start(target.place.to_string(), e));
                continue;
            }
        };
        for scope in scopes {
            let key = scope.to_string().to_lowercase();
            if let Some((_, first)) = lines.iter().find(|(k, _)| *k == key) {
                return Err(Error::Usage(format!(
                    "`{scope}` is reached by the targets on lines {first} and {} of `{}`; a scope may appear in one target only: narrow a `match`, or remove one of them",
                    target.line,
                    config.path.display()
                )));
            }
            lines.push((key, target.line));
            jobs.push(Job {
                scope,
                secrets: target.secrets.clone(),
                variables: target.variables.clone(),
                selection: [
                    selection("secrets", &target.secret_globs, target.line),
                    selection("variables", &target.variable_globs, target.line),
                ],
                access: target.access.clone(),
                create_environment: target.create_environment,
            });
        }
    }
    Ok((jobs, failed))
}

/// `secrets = ["A*"] on line 12`, for a reason; `None` when the target takes every name.
fn selection(key: &str, globs: &Option<Vec<String>>, line: usize) -> Option<String> {
    let globs = globs.as_ref()?;
    let quoted: Vec<String> = globs.iter().map(|g| format!("{g:?}")).collect();
    Some(format!("{key} = [{}] on line {line}", quoted.join(", ")))
}

/// Declared names that the target's globs leave out are said to be so, not "not declared".
fn explain_unselected(cx: &Context<'_>, job: &Job, changes: &mut [plan::Change]) {
    let kinds = [
        (plan::Kind::Secret, &cx.config.secrets),
        (plan::Kind::Variable, &cx.config.variables),
    ];
    for ((kind, declared), selection) in kinds.into_iter().zip(&job.selection) {
        if let Some(selection) = selection {
            let declared = |name: &str| declared.contains_key(name);
            plan::explain_unselected(changes, kind, &declared, selection);
        }
    }
}

fn placed(jobs: &[Job]) -> Vec<Placed<'_>> {
    jobs.iter()
        .map(|j| Placed {
            scope: &j.scope,
            secrets: &j.secrets,
            variables: &j.variables,
            reach: j
                .access
                .as_ref()
                .map(|a| (a.visibility, a.repositories.as_slice())),
        })
        .collect()
}

async fn plan_job(cx: &Context<'_>, job: Job) -> Result<Planned, Error> {
    let result = gather(cx, &job).await;
    Progress::tick(&cx.progress.planned);
    let label = job.scope.to_string();
    Ok(match result {
        Ok(mut gathered) => Planned {
            report: TargetReport::planned(label, std::mem::take(&mut gathered.changes)),
            job,
            gathered,
        },
        Err(GatherError::Github(e)) => Planned {
            report: TargetReport::failed_at_start(label, e),
            job,
            gathered: Gathered::default(),
        },
        Err(GatherError::Other(e)) => return Err(e),
    })
}

/// What GitHub has for one job, and what its writes will need.
#[derive(Default)]
struct Gathered {
    changes: Vec<plan::Change>,
    ready: BTreeMap<String, Ready>,
    variables: BTreeMap<String, String>,
    access: Option<OrgAccess>,
    remote_secrets: Vec<Remote>,
    remote_variables: Vec<RemoteVariable>,
    create_environment: bool,
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

/// List what GitHub has for one job, and plan it against the values and the records.
async fn gather(cx: &Context<'_>, job: &Job) -> Result<Gathered, GatherError> {
    let scope = &job.scope;
    let mut create_environment = false;
    if let Scope::Environment { repo, environment } = scope {
        match cx.client.ensure_environment(repo, environment, false).await {
            Ok(()) => {}
            Err(GithubError::NoEnvironment { .. }) if job.create_environment => {
                create_environment = true
            }
            Err(e) => return Err(e.into()),
        }
    }
    let access = match (scope, &job.access) {
        (Scope::Org { org, .. }, Some(access)) => {
            let names = match access.visibility {
                Visibility::Selected => cx.client.repository_ids(org, &access.repositories).await?,
                _ => BTreeMap::new(),
            };
            Some(OrgAccess {
                visibility: access.visibility,
                repositories: names.keys().copied().collect(),
                names,
            })
        }
        _ => None,
    };
    // A missing environment to be created holds nothing yet: everything is a create.
    let remote_secrets = match job.secrets.is_empty() || create_environment {
        true => Vec::new(),
        false => cx.client.list_secrets(scope).await?,
    };
    let remote_variables = match job.variables.is_empty() || create_environment {
        true => Vec::new(),
        false => cx.client.list_variables(scope).await?,
    };
    tracing::info!(target = %scope, secrets = remote_secrets.len(), variables = remote_variables.len(), "listed");
    let loaded = match cx.have_key && !job.secrets.is_empty() {
        true => cx
            .state
            .load(cx.host, scope)
            .map_err(|e| GatherError::Other(e.into()))?,
        false => Default::default(),
    };
    // Writes of an apply that was cut off before it recorded them are ours, not drift.
    let mut recorded = plan::settle(&loaded.records, &loaded.intents, &remote_secrets);
    if cx.adopt {
        adopt_times(cx, scope, &mut recorded, &remote_secrets)?;
    }
    let mut ready = BTreeMap::new();
    let desired: Vec<Desired> = job
        .secrets
        .iter()
        .map(|name| {
            let value = &cx.values.secrets[name];
            let fingerprint = value.secret.as_ref().map(|secret| {
                let fingerprint = cx.key.fingerprint(cx.host, scope, name, secret);
                ready.insert(
                    name.clone(),
                    Ready {
                        value: secret.clone(),
                        fingerprint: fingerprint.clone(),
                    },
                );
                fingerprint
            });
            Desired {
                name: name.clone(),
                fingerprint,
                source: Some(value.kind),
                access: access.clone(),
            }
        })
        .collect();
    let mut variables = BTreeMap::new();
    let desired_variables: Vec<DesiredVariable> = job
        .variables
        .iter()
        .map(|name| {
            let value = &cx.values.variables[name];
            // Variables are not secret: GitHub shows them to anyone who can read the repository.
            let text = value.secret.as_ref().map(|s| s.expose_secret().to_string());
            if let Some(text) = &text {
                variables.insert(name.clone(), text.clone());
            }
            DesiredVariable {
                name: name.clone(),
                value: text,
                source: Some(value.kind),
                access: access.clone(),
            }
        })
        .collect();
    let mut changes = plan::plan(
        &desired,
        &remote_secrets,
        &recorded,
        cx.prune && !job.secrets.is_empty(),
    );
    changes.extend(plan::plan_variables(
        &desired_variables,
        &remote_variables,
        cx.prune && !job.variables.is_empty(),
    ));
    explain_unselected(cx, job, &mut changes);
    if let Some(name) = cx.only {
        changes.retain(|c| c.name == name);
    }
    Ok(Gathered {
        changes,
        ready,
        variables,
        access,
        remote_secrets,
        remote_variables,
        create_environment,
    })
}

/// Records with no time (written when the listing after the writes failed, or settled from an
/// intent) take it from this listing, so drift is watched again from now on. Persisted only if
/// no other run holds the scope's lock; otherwise a later apply does it.
fn adopt_times(
    cx: &Context<'_>,
    scope: &Scope,
    recorded: &mut plan::Recorded,
    remote: &[Remote],
) -> Result<(), GatherError> {
    let times: BTreeMap<&str, &str> = remote
        .iter()
        .map(|r| (r.name.as_str(), r.updated_at.as_str()))
        .collect();
    let fill = |records: &mut plan::Recorded| -> Vec<String> {
        let mut filled = Vec::new();
        for (name, record) in records.iter_mut() {
            if let (None, Some(time)) = (&record.updated_at, times.get(name.as_str())) {
                record.updated_at = Some((*time).to_string());
                filled.push(name.clone());
            }
        }
        filled
    };
    if fill(recorded).is_empty() {
        return Ok(());
    }
    // Weighed again under the lock: another run may have recorded since this one read.
    cx.state
        .try_update(cx.host, scope, |loaded| {
            let mut settled = plan::settle(&loaded.records, &loaded.intents, remote);
            for name in fill(&mut settled) {
                loaded.intents.remove(&name);
                if let Some(record) = settled.remove(&name) {
                    loaded.records.insert(name, record);
                }
            }
        })
        .map(|_| ())
        .map_err(|e| GatherError::Other(e.into()))
}

/// Whether a target's plan writes a secret, and so needs its state locked.
fn writes_secrets(report: &TargetReport) -> bool {
    report
        .changes
        .iter()
        .any(|c| c.kind == plan::Kind::Secret && c.action.writes())
}

async fn apply_job(
    client: &Client,
    planned: Planned,
    recorder: &Recorder<'_>,
    progress: &Arc<Progress>,
) -> TargetReport {
    if planned.report.error.is_some() {
        return planned.report;
    }
    let writes = planned
        .report
        .changes
        .iter()
        .filter(|c| c.action.writes())
        .count();
    let mut gathered = planned.gathered;
    let secrets = std::mem::take(&mut gathered.ready);
    let work = Work {
        scope: &planned.job.scope,
        variables: &gathered.variables,
        access: gathered.access.as_ref(),
        remote_secrets: &gathered.remote_secrets,
        remote_variables: &gathered.remote_variables,
        create_environment: gathered.create_environment,
    };
    let report = apply::apply_target(client, planned.report, &work, secrets, recorder).await;
    progress
        .written
        .fetch_add(writes, std::sync::atomic::Ordering::Relaxed);
    report
}

/// On Ctrl-C (SIGINT), SIGTERM or SIGHUP, stop sending writes: those in flight finish, the rest
/// are reported as not sent, and what was written is still listed and recorded. A second signal
/// ends the process at once. The handlers are installed before this returns, so no signal in
/// between falls to the default (which would end the process with writes unrecorded).
fn interrupt_on_signals(
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<tokio::task::JoinHandle<()>, Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut streams = Vec::new();
    for kind in [
        SignalKind::interrupt(),
        SignalKind::terminate(),
        SignalKind::hangup(),
    ] {
        streams.push(
            signal(kind)
                .map_err(|e| Error::Internal(format!("cannot install a signal handler: {e}")))?,
        );
    }
    Ok(tokio::spawn(async move {
        if next_signal(&mut streams).await.is_none() {
            return;
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        eprintln!(
            "interrupted: finishing the writes in flight and recording them (Ctrl-C again to quit now)"
        );
        if next_signal(&mut streams).await.is_some() {
            std::process::exit(crate::exit::ExitStatus::Interrupted.code());
        }
    }))
}

async fn next_signal(streams: &mut [tokio::signal::unix::Signal]) -> Option<()> {
    futures::future::select_all(streams.iter_mut().map(|s| Box::pin(s.recv())))
        .await
        .0
}

/// Ask on the terminal; anything but yes is no.
fn confirm(pending: usize) -> Result<bool, Error> {
    let mut stderr = std::io::stderr();
    write!(stderr, "Write {pending} change(s) to GitHub? [y/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}
