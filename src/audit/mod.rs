//! `secretsync audit`: which secrets the workflows use, compared with those declared and present.
//!
//! [`scan_text`] finds the uses in one workflow's text and [`compare`] sets them against the
//! config and GitHub; both are pure. `run` does the I/O around them: reading
//! `.github/workflows`, listing each target's secrets, and printing.

mod compare;
mod report;
mod scan;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use compare::{
    all_uses, compare, DeclaredUnused, Findings, Inventory, Location, Missing, PresentUnused,
    BUILT_IN, RUNNER_READ,
};
pub use scan::{scan_text, Scan, Unresolved, Use};

use crate::config::{App, Config, Place};
use crate::error::{Error, LocalError, UsageError};
use crate::exit::ExitStatus;
use crate::github::{Client, GithubError, HttpCache, Pacing};
use crate::scope::Scope;

/// `secretsync audit`'s options, free of clap.
#[derive(Debug, Clone)]
pub struct Options {
    pub checkout: PathBuf,
    pub json: bool,
    pub detailed_exitcode: bool,
    pub offline: bool,
}

/// Where workflows live in a checkout; also how locations name their files.
const WORKFLOWS: &str = ".github/workflows";

pub fn run(
    config: &Config,
    options: &Options,
    pacing: Pacing,
    cache: Option<HttpCache>,
    out: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let folder = options.checkout.join(WORKFLOWS);
    let Workflows { files, skipped } = workflow_files(&folder)?;
    // On stderr: `--json` promises one document on stdout and nothing else.
    for line in &skipped {
        eprintln!("warning: {line}");
    }
    let mut scans = Vec::with_capacity(files.len());
    for (name, path) in &files {
        let bytes = std::fs::read(path).map_err(|error| LocalError::WorkflowUnreadable {
            path: path.clone(),
            error,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        scans.push(scan_text(&Path::new(WORKFLOWS).join(name), &text));
    }
    let present = match options.offline {
        true => None,
        false => Some(present(config, pacing, cache)?),
    };
    let inventory = Inventory {
        declared: declared(config),
        present,
    };
    let findings = compare(&scans, &inventory);
    let uses = all_uses(&scans);
    let folder_text = folder.display().to_string();
    let summary = report::Summary {
        folder: &folder_text,
        files: files.len(),
        uses: &uses,
        offline: options.offline,
    };
    match options.json {
        true => report::json(out, &summary, &findings)?,
        false => report::text(out, &summary, &findings)?,
    }
    Ok(match options.detailed_exitcode && findings.count() > 0 {
        true => ExitStatus::Changes,
        false => ExitStatus::Success,
    })
}

/// The workflow files directly in `folder` (GitHub reads no subfolders), by name, and one
/// warning line for each workflow-named entry that cannot be read as a file.
fn workflow_files(folder: &Path) -> Result<Workflows, Error> {
    if !folder.is_dir() {
        return Err(UsageError::NoWorkflowsFolder {
            folder: folder.to_owned(),
        }
        .into());
    }
    let unlistable = |error: std::io::Error| LocalError::FolderUnlistable {
        folder: folder.to_owned(),
        error,
    };
    let mut found = Workflows::default();
    for entry in std::fs::read_dir(folder).map_err(unlistable)? {
        let entry = entry.map_err(unlistable)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_workflow_name(&name) {
            continue;
        }
        let path = entry.path();
        // `metadata` follows links: a link to a file is read, as git checks out its target.
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => found.files.push((name, path)),
            Ok(meta) if meta.is_dir() => {}
            // Reading a FIFO would block the audit; a socket or device is no workflow.
            Ok(_) => found.skipped.push(format!(
                "skipped `{}`: not a regular file; a workflow must be a plain file",
                path.display()
            )),
            Err(e) => found.skipped.push(format!(
                "skipped `{}`: {e}; fix or remove the link",
                path.display()
            )),
        }
    }
    found.files.sort();
    found.skipped.sort();
    Ok(found)
}

#[derive(Debug, Default)]
struct Workflows {
    files: Vec<(String, PathBuf)>,
    skipped: Vec<String>,
}

/// `.yml` or `.yaml` in any case: GitHub's docs name the two extensions but not their case, and a
/// workflow the audit missed would hide its secrets' uses, which is worse than reading one more.
fn is_workflow_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yml") || lower.ends_with(".yaml")
}

/// Declared secrets, except those only Dependabot targets carry: Dependabot's registries use
/// them, not workflows.
fn declared(config: &Config) -> BTreeMap<String, usize> {
    config
        .secrets
        .iter()
        .filter(|(name, _)| {
            let mut carriers = config
                .targets
                .iter()
                .filter(|t| t.secrets.contains(name))
                .peekable();
            carriers.peek().is_none() || !carriers.all(|t| t.place.app() == App::Dependabot)
        })
        .map(|(name, decl)| (name.clone(), decl.line))
        .collect()
}

/// The secrets GitHub holds in every Actions scope the config targets (repositories,
/// environments, organizations, and each repository a `repos = { org, match }` finds), with the
/// scopes that hold each.
fn present(
    config: &Config,
    pacing: Pacing,
    cache: Option<HttpCache>,
) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let token = crate::source::resolve_token(&config.token)?;
    let (runtime, client) = crate::github::connect(config, token.value, pacing)?;
    let client = client.with_cache(cache);
    runtime.block_on(async {
        let mut scopes: Vec<(Scope, bool)> = Vec::new();
        for target in &config.targets {
            for scope in actions_scopes(&client, &target.place).await? {
                if !scopes.iter().any(|(s, _)| *s == scope) {
                    scopes.push((scope, target.create_environment));
                }
            }
        }
        let listings = futures::future::join_all(
            scopes
                .iter()
                .map(|(scope, creatable)| list(&client, scope, *creatable)),
        )
        .await;
        let mut present: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for ((scope, _), listing) in scopes.iter().zip(listings) {
            for remote in listing? {
                present
                    .entry(remote.name.to_ascii_uppercase())
                    .or_default()
                    .push(scope.to_string());
            }
        }
        Ok(present)
    })
}

/// A scope's secrets; an environment still to be created holds none.
async fn list(
    client: &Client,
    scope: &Scope,
    creatable: bool,
) -> Result<Vec<crate::plan::Remote>, Error> {
    match client.list_secrets(scope).await {
        Err(GithubError::NotFound { .. } | GithubError::NoEnvironment { .. })
            if creatable && matches!(scope, Scope::Environment { .. }) =>
        {
            Ok(Vec::new())
        }
        other => Ok(other?),
    }
}

/// The Actions scopes of one target; Dependabot's secrets are not given to workflows' own runs.
async fn actions_scopes(client: &Client, place: &Place) -> Result<Vec<Scope>, Error> {
    if place.app() == App::Dependabot {
        return Ok(Vec::new());
    }
    Ok(client.scopes(place).await?)
}
