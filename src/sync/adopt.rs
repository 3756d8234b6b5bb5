//! `secretsync adopt`: take the secrets already on GitHub as holding their declared values.
//! The values are resolved and every scope is listed and planned exactly as `plan` does; the
//! secrets the plan cannot compare (on GitHub, nothing recorded) are shown, confirmed, and
//! recorded with GitHub's `updated_at` as if this machine had applied them. Only state is
//! written: the local files, and the shared record with `[state] store = "github"`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use crate::adopt::{self, Skipped};
use crate::config::Config;
use crate::error::{Error, UsageError};
use crate::github::GithubError;
use crate::plan::{Record, Recorded};
use crate::progress::Progress;
use crate::scope::Scope;
use crate::shared_state;
use crate::source::PromptMode;
use crate::state::{Locked, StateDir};

use super::gather::{self, PlannedJob, RunContext};
use super::resolve::{self, Values};
use super::{confirm, expand, fingerprint_key, Command, RunOptions, RunOutcome};

/// Why a target adopted nothing: GitHub's status, if it answered, and one line.
#[derive(Serialize)]
struct TargetError {
    status: Option<u16>,
    message: String,
}

/// One scope (or a target that could not be expanded): what is trusted, what is not and why.
struct Adoption {
    target: String,
    scope: Option<Scope>,
    error: Option<TargetError>,
    /// The trusted names, each with the record to write: the fingerprint and GitHub's time.
    records: Recorded,
    skipped: Vec<Skipped>,
    /// Trusted names that another run recorded between the plan and the record: left alone.
    late: Vec<String>,
}

impl Adoption {
    fn failed(target: String, error: &GithubError) -> Adoption {
        Adoption {
            target,
            scope: None,
            error: Some(TargetError {
                status: error.status(),
                message: error.to_string(),
            }),
            records: Recorded::new(),
            skipped: Vec::new(),
            late: Vec::new(),
        }
    }

    /// Pick from a planned scope; its values (held for writes) are dropped here.
    fn of(planned: PlannedJob) -> Adoption {
        let PlannedJob { report, writes } = planned;
        if let Some(e) = &report.error {
            return Adoption::failed(report.target, e);
        }
        let picked = adopt::pick(&report.changes, |n| writes.secrets.contains_key(n));
        let records = picked
            .trusted
            .into_iter()
            .filter_map(|name| {
                let listed = writes.remote_secrets.iter().find(|r| r.name == name)?;
                let record = Record {
                    fingerprint: writes.secrets.get(&name)?.fingerprint.clone(),
                    updated_at: Some(listed.updated_at.clone()),
                };
                Some((name, record))
            })
            .collect();
        Adoption {
            target: report.target,
            scope: Some(writes.scope),
            error: None,
            records,
            skipped: picked.skipped,
            late: Vec::new(),
        }
    }
}

/// `secretsync adopt [NAMES...]`, from a loaded config to the report.
pub fn adopt(
    config: &Config,
    state: &StateDir,
    names: &[String],
    options: &RunOptions,
    out: &mut dyn Write,
) -> Result<RunOutcome, Error> {
    if !options.yes && !std::io::stdin().is_terminal() {
        return Err(UsageError::NoTerminalToConfirmAdopt.into());
    }
    let token = crate::source::resolve_token(&config.token)?;
    let config = adopt::narrowed(config, names)?;
    let (secrets, unresolved) = resolve::resolve_each(&config, PromptMode::Ask);
    let config = adopt::without(config, &unresolved.keys().map(String::as_str).collect());
    let values = Values {
        secrets,
        variables: BTreeMap::new(),
    };
    let (key, have_key) = fingerprint_key(&config, state, Command::Apply)?;
    let (runtime, client) = super::connect(&config, state, token.value, options)?;
    let scan = RunContext {
        client: &client,
        config: &config,
        key: &key,
        have_key,
        state,
        prune: false,
        only: None,
        applying: false,
    };
    runtime.block_on(steps(&scan, values, unresolved, options, out))
}

/// Plan, show, confirm, record, report.
async fn steps(
    scan: &RunContext<'_>,
    values: Values,
    unresolved: BTreeMap<String, String>,
    options: &RunOptions,
    out: &mut dyn Write,
) -> Result<RunOutcome, Error> {
    let progress = Progress::start(options.progress);
    let (jobs, failed) = expand::expand(scan.config, scan.client).await?;
    let planned = gather::plan_all(scan, &values, jobs, &progress).await?;
    drop(values);
    progress.finish();
    let mut adoptions: Vec<Adoption> = failed
        .iter()
        .filter_map(|r| Some(Adoption::failed(r.target.clone(), r.error.as_ref()?)))
        .collect();
    adoptions.extend(planned.into_iter().map(Adoption::of));
    let trusted: usize = adoptions.iter().map(|a| a.records.len()).sum();
    preview(options, trusted, &adoptions, &unresolved, out)?;
    if trusted > 0 {
        let question =
            format!("Trust {trusted} secret(s) on GitHub as holding their declared values?");
        if !options.yes && !confirm::ask(&question)? {
            return Err(UsageError::NotConfirmed.into());
        }
        record_all(scan, &mut adoptions).await?;
    }
    finish(out, options, &adoptions, &unresolved)
}

/// Write each scope's records under its lock: the shared record first (re-read, merged per name,
/// written back), then the local file. A name recorded since the plan read it is left as it is.
async fn record_all(scan: &RunContext<'_>, adoptions: &mut [Adoption]) -> Result<(), Error> {
    let scopes: Vec<&Scope> = adoptions
        .iter()
        .filter(|a| !a.records.is_empty())
        .filter_map(|a| a.scope.as_ref())
        .collect();
    let stop = AtomicBool::new(false);
    let Some(locks) = scan.state.lock_all(scan.host(), &scopes, &stop).await? else {
        return Err(Error::Internal("the state locks were not taken".into()));
    };
    // One scope at a time: a repository's Actions and Dependabot scopes share one variable.
    for adoption in adoptions.iter_mut().filter(|a| !a.records.is_empty()) {
        let Some(locked) = adoption.scope.as_ref().and_then(|s| locks.get(s)) else {
            continue;
        };
        if let Err(e) = record_scope(scan, adoption, locked).await {
            adoption.error = Some(TargetError {
                status: None,
                message: format!("not adopted: {e}; run adopt again"),
            });
            adoption.records.clear();
        }
    }
    Ok(())
}

/// Record one scope's trusted names; those recorded meanwhile are moved to the skipped.
async fn record_scope(
    scan: &RunContext<'_>,
    adoption: &mut Adoption,
    locked: &Locked,
) -> Result<(), String> {
    let scope = adoption.scope.clone().ok_or("no scope")?;
    if scan.shared() {
        let mut loaded = shared_state::load(scan.client, &scope, scan.key)
            .await
            .map_err(|e| format!("{}: {e}", crate::config::STATE_VARIABLE))?;
        let section = loaded.document.section_mut(&scope);
        keep_unrecorded(adoption, section);
        for (name, record) in &adoption.records {
            section.insert(name.clone(), record.clone());
        }
        if !adoption.records.is_empty() {
            shared_state::save(scan.client, &scope, &loaded)
                .await
                .map_err(|e| format!("{}: {e}", crate::config::STATE_VARIABLE))?;
        }
    }
    let shared = scan.shared();
    locked
        .update(|loaded| {
            if !shared {
                keep_unrecorded(adoption, &loaded.records);
            }
            for (name, record) in &adoption.records {
                loaded.records.insert(name.clone(), record.clone());
                // The record says what GitHub holds; a left-over intent of a write that never
                // landed would later take someone else's write for ours.
                loaded.intents.remove(name);
            }
        })
        .map_err(|e| format!("the state folder: {e}"))
}

/// A name that has a record now (another run recorded it since the plan) is not trusted.
fn keep_unrecorded(adoption: &mut Adoption, recorded: &Recorded) {
    let meanwhile: Vec<String> = adoption
        .records
        .keys()
        .filter(|name| recorded.contains_key(*name))
        .cloned()
        .collect();
    for name in meanwhile {
        adoption.records.remove(&name);
        adoption.late.push(name.clone());
        adoption.skipped.push(Skipped {
            name,
            reason_code: "recorded",
            reason: "recorded by another run meanwhile; left as it is".into(),
        });
    }
}

/// What will be trusted, before anything is recorded: on stdout; with JSON, on stderr when a
/// person is asked, else not at all.
fn preview(
    options: &RunOptions,
    trusted: usize,
    adoptions: &[Adoption],
    unresolved: &BTreeMap<String, String>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    if !options.json {
        return Ok(text(out, adoptions, unresolved)?);
    }
    if !options.yes && trusted > 0 {
        text(&mut std::io::stderr(), adoptions, unresolved)?;
    }
    Ok(())
}

/// The names per target: those to trust, and the others with why.
fn text(
    out: &mut dyn Write,
    adoptions: &[Adoption],
    unresolved: &BTreeMap<String, String>,
) -> std::io::Result<()> {
    for a in adoptions {
        writeln!(out, "{}", a.target)?;
        if a.error.is_some() {
            writeln!(out, "  ! failed; its error is shown after the report")?;
        }
        let names = a.records.keys().chain(a.skipped.iter().map(|s| &s.name));
        let width = names.map(String::len).max().unwrap_or(0);
        for name in a.records.keys() {
            writeln!(out, "  trust  {name}")?;
        }
        for s in &a.skipped {
            writeln!(out, "  skip   {:<width$}  {}", s.name, s.reason)?;
        }
    }
    for (name, why) in unresolved {
        writeln!(out, "not adopted: {name}: {why}")?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonDocument<'a> {
    version: u32,
    command: &'static str,
    ok: bool,
    adopted: usize,
    targets: Vec<JsonTarget<'a>>,
    unresolved: Vec<JsonUnresolved<'a>>,
}

#[derive(Serialize)]
struct JsonTarget<'a> {
    target: &'a str,
    error: Option<&'a TargetError>,
    adopted: Vec<&'a String>,
    skipped: &'a [Skipped],
}

#[derive(Serialize)]
struct JsonUnresolved<'a> {
    name: &'a str,
    reason: &'a str,
}

/// The report, and how the run ended: any target that failed or value that could not be
/// resolved fails it.
fn finish(
    out: &mut dyn Write,
    options: &RunOptions,
    adoptions: &[Adoption],
    unresolved: &BTreeMap<String, String>,
) -> Result<RunOutcome, Error> {
    let adopted: usize = adoptions.iter().map(|a| a.records.len()).sum();
    let mut failures: Vec<String> = adoptions
        .iter()
        .filter_map(|a| Some(format!("{}: {}", a.target, a.error.as_ref()?.message)))
        .collect();
    failures.extend(
        unresolved
            .iter()
            .map(|(name, why)| format!("`{name}` was not adopted: {why}")),
    );
    let ok = failures.is_empty();
    if options.json {
        json(out, adoptions, unresolved, ok, adopted)?;
    } else {
        for a in adoptions {
            for name in &a.late {
                writeln!(
                    out,
                    "{name} ({}): recorded by another run meanwhile; left as it is",
                    a.target
                )?;
            }
        }
        summary(out, adopted)?;
    }
    Ok(RunOutcome {
        pending: 0,
        ok,
        failure: (!ok).then(|| failures.join("\nerror: ")),
    })
}

fn summary(out: &mut dyn Write, adopted: usize) -> std::io::Result<()> {
    match adopted {
        0 => writeln!(out, "Nothing to adopt: no declared secret is on GitHub without a record; nothing was written."),
        n => writeln!(out, "Adopted {n} secret(s): recorded as set by this machine; the next plan shows them in sync and apply does not send them."),
    }
}

fn json(
    out: &mut dyn Write,
    adoptions: &[Adoption],
    unresolved: &BTreeMap<String, String>,
    ok: bool,
    adopted: usize,
) -> Result<(), Error> {
    let doc = JsonDocument {
        version: 1,
        command: "adopt",
        ok,
        adopted,
        targets: adoptions
            .iter()
            .map(|a| JsonTarget {
                target: &a.target,
                error: a.error.as_ref(),
                adopted: a.records.keys().collect(),
                skipped: &a.skipped,
            })
            .collect(),
        unresolved: unresolved
            .iter()
            .map(|(name, reason)| JsonUnresolved { name, reason })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}
