//! Running the `[[checks]]` (parsed in `config/checks.rs`) before anything is written: resolve the secrets each check reads
//! (reusing values already at hand, so nothing is asked twice), try each registry, and report.
//! Checks are named by their config line and by the secrets they read: the registry host and
//! username are secret values too, so they are never printed.

use std::collections::BTreeMap;
use std::io::Write;

use secrecy::SecretString;
use serde::Serialize;

use crate::config::{CheckDecl, Config, Template};
use crate::error::{ChecksFailed, Error, UsageError};
use crate::registry::{self, shown, Filled, Probe, ProbeReport, StepOutcome};
use crate::source::{self, PromptMode, Resolution};

fn label(check: &CheckDecl) -> String {
    format!(
        "check on line {} (registry {}, user {})",
        check.line,
        shown(&check.registry),
        shown(&check.username)
    )
}

#[derive(Serialize)]
struct JsonCheck {
    line: usize,
    registry: String,
    username: String,
    login: JsonOutcome,
    repositories: Vec<JsonRepository>,
}

#[derive(Serialize)]
struct JsonOutcome {
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct JsonRepository {
    repository: String,
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct JsonDoc {
    version: u32,
    ok: bool,
    checks: Vec<JsonCheck>,
}

/// One check and what its probe found (the registry and repositories in their shown forms).
struct CheckResult {
    check: CheckDecl,
    report: ProbeReport,
}

impl CheckResult {
    fn ok(&self) -> bool {
        self.report.is_ok()
    }

    fn failures(&self) -> Vec<String> {
        let label = label(&self.check);
        self.report
            .problems()
            .into_iter()
            .map(|problem| format!("{label}: {problem}"))
            .collect()
    }
}

/// Values for every secret the checks read: `known` first, then each secret's own sources.
fn values_for(
    config: &Config,
    checks: &[&CheckDecl],
    known: &BTreeMap<String, SecretString>,
) -> Result<BTreeMap<String, SecretString>, Error> {
    let mut values = BTreeMap::new();
    for name in checks.iter().flat_map(|c| c.secrets()) {
        if values.contains_key(name) {
            continue;
        }
        let value = match known.get(name) {
            Some(value) => value.clone(),
            None => {
                let decl = &config.secrets[name];
                match source::resolve(&decl.name, &decl.chain, PromptMode::Ask)? {
                    Resolution::Value { value, .. } => value,
                    Resolution::Deferred => {
                        return Err(Error::Internal("a prompt was deferred while asking".into()))
                    }
                }
            }
        };
        values.insert(name.clone(), value);
    }
    Ok(values)
}

fn fill(template: &Template, values: &BTreeMap<String, SecretString>) -> Filled {
    let value = template.secret.as_ref().and_then(|name| values.get(name));
    Filled::new(template, value)
}

async fn run_all(
    checks: &[&CheckDecl],
    values: &BTreeMap<String, SecretString>,
) -> Vec<CheckResult> {
    let runs = checks.iter().map(|check| async move {
        let probe = Probe {
            registry: fill(&check.registry, values),
            username: fill(&check.username, values),
            password: values
                .get(&check.password)
                .cloned()
                .unwrap_or_else(|| SecretString::from("")),
            push: check.push.iter().map(|t| fill(t, values)).collect(),
        };
        CheckResult {
            check: (*check).clone(),
            report: registry::check(&probe).await,
        }
    });
    futures::future::join_all(runs).await
}

/// A login's line: what succeeded, or what went wrong and the likely fix.
fn login_message(outcome: &StepOutcome, registry: &str) -> String {
    match outcome {
        StepOutcome::Ok => format!("logged in to {registry}"),
        other => other.explain(registry),
    }
}

/// A push probe's line, likewise.
fn push_message(outcome: &StepOutcome, registry: &str, repository: &str) -> String {
    match outcome {
        StepOutcome::Ok => format!("may push to {repository}"),
        other => other.explain(registry),
    }
}

impl JsonCheck {
    fn of(r: &CheckResult) -> JsonCheck {
        let ProbeReport {
            registry,
            login,
            repositories,
        } = &r.report;
        JsonCheck {
            line: r.check.line,
            registry: registry.clone(),
            username: shown(&r.check.username),
            login: JsonOutcome {
                code: login.code(),
                message: login_message(login, registry),
            },
            repositories: repositories
                .iter()
                .map(|(repository, o)| JsonRepository {
                    repository: repository.clone(),
                    code: o.code(),
                    message: push_message(o, registry, repository),
                })
                .collect(),
        }
    }
}

fn render(out: &mut dyn Write, results: &[CheckResult], json: bool) -> Result<(), Error> {
    if json {
        render_json(out, results)
    } else {
        render_text(out, results)
    }
}

fn render_json(out: &mut dyn Write, results: &[CheckResult]) -> Result<(), Error> {
    let doc = JsonDoc {
        version: 1,
        ok: results.iter().all(CheckResult::ok),
        checks: results.iter().map(JsonCheck::of).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(|e| Error::Output(e.into()))?;
    writeln!(out)?;
    Ok(())
}

fn render_text(out: &mut dyn Write, results: &[CheckResult]) -> Result<(), Error> {
    for r in results {
        let registry = &r.report.registry;
        writeln!(out, "{}", label(&r.check))?;
        let mark = |o: &StepOutcome| if o.is_ok() { "ok  " } else { "FAIL" };
        let login = login_message(&r.report.login, registry);
        match r.report.login.is_ok() {
            true => writeln!(out, "  {} {login}", mark(&r.report.login))?,
            false => writeln!(out, "  {} login: {login}", mark(&r.report.login))?,
        }
        for (repository, o) in &r.report.repositories {
            let push = push_message(o, registry, repository);
            match o.is_ok() {
                true => writeln!(out, "  {} {push}", mark(o))?,
                false => writeln!(out, "  {} push {repository}: {push}", mark(o))?,
            }
        }
    }
    Ok(())
}

/// Run the checks (those that read `only`, when given). `known` holds values already resolved.
fn run_checks(
    config: &Config,
    known: &BTreeMap<String, SecretString>,
    only: Option<&str>,
) -> Result<Vec<CheckResult>, Error> {
    let checks: Vec<&CheckDecl> = config
        .checks
        .iter()
        .filter(|c| only.is_none_or(|name| c.secrets().any(|s| s == name)))
        .collect();
    if checks.is_empty() {
        return Ok(Vec::new());
    }
    let values = values_for(config, &checks, known)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    Ok(runtime.block_on(run_all(&checks, &values)))
}

/// `secretsync check`: run and report every check; whether all passed. A config without checks
/// is refused: an empty report would look like a pass.
pub fn report(config: &Config, json: bool, out: &mut dyn Write) -> Result<bool, Error> {
    if config.checks.is_empty() {
        return Err(UsageError::NoChecks {
            config: config.path.clone(),
        }
        .into());
    }
    let results = run_checks(config, &BTreeMap::new(), None)?;
    render(out, &results, json)?;
    Ok(results.iter().all(CheckResult::ok))
}

/// The checks as a gate before writing: an error naming each failure, or nothing.
pub fn gate(
    config: &Config,
    known: &BTreeMap<String, SecretString>,
    only: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let results = run_checks(config, known, only)?;
    render(out, &results, false)?;
    let failures: Vec<String> = results.iter().flat_map(CheckResult::failures).collect();
    match failures.is_empty() {
        true => Ok(()),
        false => Err(ChecksFailed { failures }.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_failed_check_closes_the_gate_naming_the_check() {
        let text = r#"
[secrets.REG]
value = "not a registry/ns"

[secrets.USER]
value = "u"

[secrets.PASS]
value = "p"

[[targets]]
repo = "o/one"
secrets = ["REG", "USER", "PASS"]

[[checks]]
registry = "secret:REG"
username = "secret:USER"
password = "secret:PASS"
"#;
        let config = crate::config::parsed(text);
        let mut out = Vec::new();
        match gate(&config, &BTreeMap::new(), None, &mut out) {
            Err(Error::Check(ChecksFailed { failures })) => {
                assert_eq!(failures.len(), 1, "{failures:?}");
                assert!(failures[0].contains("check on line 15"), "{failures:?}");
            }
            other => panic!("expected ChecksFailed, got {other:?}"),
        }
        assert!(!out.is_empty());
    }

    #[test]
    fn check_without_checks_is_refused_rather_than_passed() {
        let text =
            "[secrets.A]\nvalue = \"a\"\n\n[[targets]]\nrepo = \"o/one\"\nsecrets = [\"A\"]\n";
        let config = crate::config::parsed(text);
        let mut out = Vec::new();
        let got = report(&config, false, &mut out);
        assert!(
            matches!(&got, Err(Error::Usage(UsageError::NoChecks { config })) if config == Path::new("t.toml")),
            "{got:?}"
        );
        assert!(out.is_empty());
    }
}
