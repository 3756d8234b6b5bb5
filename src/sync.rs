//! One run of `plan` or `apply` from start to end: resolve the token and every value, check them,
//! list each target, plan, and (for `apply`) write. Each step is a call into its own module; this
//! one only puts them in order, and does everything that can fail locally before the network.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};

use secrecy::SecretString;

use crate::apply::{self, Ready, Recorder, TargetReport};
use crate::check;
use crate::config::{Config, Target};
use crate::error::Error;
use crate::github::Client;
use crate::plan::{self, Desired, Summary};
use crate::render::{self, Mode, Style};
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
}

/// A resolved value, or the knowledge that a prompt will give it on `apply`.
struct Value {
    secret: Option<SecretString>,
    kind: Option<SourceKind>,
}

/// Resolve every value a target uses, and check it. Reports every bad value, not just the first.
fn resolve_values(config: &Config, prompts: PromptMode) -> Result<BTreeMap<String, Value>, Error> {
    let used: std::collections::BTreeSet<&String> = config
        .targets
        .iter()
        .flat_map(|t| t.secrets.iter())
        .collect();
    let mut values = BTreeMap::new();
    let mut problems = Vec::new();
    for name in used {
        let decl = &config.secrets[name];
        let value = match source::resolve(&decl.name, &decl.chain, prompts)? {
            Resolution::Value { value, kind } => {
                problems.extend(check::value_problems(decl, &value));
                Value {
                    secret: Some(value),
                    kind: Some(kind),
                }
            }
            Resolution::Deferred => Value {
                secret: None,
                kind: Some(SourceKind::Prompt),
            },
        };
        values.insert(name.clone(), value);
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(Error::Value(problems.join("\nerror: ")))
    }
}

/// What the plan of one target needs from the values: fingerprints, never values.
fn desired(
    target: &Target,
    values: &BTreeMap<String, Value>,
    host: &str,
    key: &Fingerprinter,
) -> (Vec<Desired>, BTreeMap<String, Ready>) {
    let mut desired = Vec::new();
    let mut ready = BTreeMap::new();
    for name in &target.secrets {
        let value = &values[name];
        let fingerprint = value.secret.as_ref().map(|secret| {
            let fingerprint = key.fingerprint(host, &target.repo, name, secret);
            ready.insert(
                name.clone(),
                Ready {
                    value: secret.clone(),
                    fingerprint: fingerprint.clone(),
                },
            );
            fingerprint
        });
        desired.push(Desired {
            name: name.clone(),
            fingerprint,
            source: value.kind,
        });
    }
    (desired, ready)
}

/// What a run ended with, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Writes still pending (plan), or 0 after apply.
    pub pending: usize,
    /// Nothing failed: no target error, no failed write, nothing missing after apply.
    pub ok: bool,
}

/// Whether this is `plan` (never writes) or `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Plan,
    Apply,
}

/// `secretsync plan` and `secretsync apply`, from a loaded config to the rendered report.
pub fn run(
    config: &Config,
    state: &StateDir,
    command: Command,
    options: &Options,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    if command == Command::Apply && !options.yes && !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "apply needs confirmation, and there is no terminal to ask on; review with `secretsync plan`, then run `secretsync apply --yes`".into(),
        ));
    }
    let token = source::resolve_token(&config.token)?;
    tracing::info!(origin = %token.origin, "using a GitHub token");
    let prompts = match command {
        Command::Apply => PromptMode::Ask,
        Command::Plan => options.prompts,
    };
    let values = resolve_values(config, prompts)?;
    // `plan` never writes, so it never makes the key; without a key nothing recorded can match.
    let (key, have_key) = match command {
        Command::Apply => (state.key()?, true),
        Command::Plan => match state.existing_key()? {
            Some(key) => (key, true),
            None => (Fingerprinter::ephemeral(), false),
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let client = Client::new(&config.api_url, token.value)?;
        let host = config.api_url.host();
        let mut planned = Vec::new();
        for target in &config.targets {
            let (desired, ready) = desired(target, &values, host, &key);
            let report = match client.list_secrets(&target.repo).await {
                Err(e) => TargetReport::failed_at_start(target.repo.clone(), e),
                Ok(remote) => {
                    tracing::info!(repo = %target.repo, listed = remote.len(), "listed secrets");
                    let recorded = if have_key {
                        state.load(host, &target.repo)?
                    } else {
                        Default::default()
                    };
                    let changes = plan::plan(&desired, &remote, &recorded, options.prune);
                    TargetReport::planned(target.repo.clone(), changes, &remote)
                }
            };
            planned.push((report, ready));
        }
        let summary = planned.iter().fold(Summary::default(), |mut s, (r, _)| {
            s.add(Summary::of(&r.changes));
            s
        });
        if command == Command::Plan || summary.pending() == 0 {
            let reports: Vec<TargetReport> = planned.into_iter().map(|(r, _)| r).collect();
            let mode = if command == Command::Plan {
                Mode::Plan
            } else {
                Mode::Apply
            };
            render::report(out, &reports, mode, options.json, options.style)?;
            let ok = reports.iter().all(|r| r.error.is_none());
            return Ok(Outcome {
                pending: summary.pending(),
                ok,
            });
        }
        let reports: Vec<&TargetReport> = planned.iter().map(|(r, _)| r).collect();
        if !options.json {
            render::plan_preview(out, &reports, options.style)?;
        } else if !options.yes {
            // stdout carries only the JSON document; the person confirming still sees the plan.
            render::plan_preview(&mut std::io::stderr(), &reports, Style::default())?;
        }
        if !options.yes && !confirm(summary.pending())? {
            return Err(Error::Usage("nothing was written: not confirmed".into()));
        }
        let recorder = Recorder { state, host };
        let mut reports = Vec::new();
        for (report, ready) in planned {
            if report.error.is_some() {
                reports.push(report);
                continue;
            }
            let repo = report.repo.clone();
            reports.push(
                apply::apply_target(&client, &repo, report.changes, &ready, &recorder).await?,
            );
        }
        render::report(out, &reports, Mode::Apply, options.json, options.style)?;
        let ok = reports
            .iter()
            .all(|r| r.error.is_none() && r.failed() == 0 && r.missing.is_empty());
        Ok(Outcome { pending: 0, ok })
    })
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
