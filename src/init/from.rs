//! `init --from-github` and `init --from-dotenv`: read what exists, declare it, write it with
//! the writer presets use, and say what could not be inferred, in the file and on stdout.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::config::{ApiUrl, DEFAULT_API_URL};
use crate::error::{Error, UsageError};
use crate::exit::ExitStatus;
use crate::github::Pacing;
use crate::scope::{App, Repo, Scope};

use super::draft::{self, Draft, TargetDraft};
use super::from_github::{self, Wanted};
use super::render::{self, Origin};
use super::{folder_of, refuse_existing, write_config};

/// What to read, and where the config goes.
#[derive(Debug, Default)]
pub struct Reading {
    pub github: Option<Wanted>,
    pub dotenv: Option<PathBuf>,
    /// The target of a `.env`'s secrets when GitHub is not read.
    pub repo: Option<String>,
    pub api_url: Option<String>,
    pub force: bool,
}

/// The `.env` file's keys, and its path as the config names it.
struct Dotenv {
    keys: Vec<String>,
    written: String,
}

const PLACEHOLDER: &str = "OWNER/REPO";

pub fn run(
    path: &Path,
    reading: Reading,
    pacing: Pacing,
    out: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let api = api_url(reading.api_url.as_deref())?;
    refuse_existing(path, reading.force)?;
    let scopes = match &reading.github {
        Some(wanted) => wanted.scopes()?,
        None => Vec::new(),
    };
    if scopes.is_empty() && reading.dotenv.is_none() {
        return Err(UsageError::InitNothingToRead.into());
    }
    let dotenv = reading
        .dotenv
        .as_deref()
        .map(|file| read_dotenv(file, path))
        .transpose()?;
    let listings = match scopes.is_empty() {
        true => Vec::new(),
        false => from_github::list(&api, &scopes, pacing)?,
    };
    let mut draft = draft::draft(&listings, dotenv.as_ref().map(|d| d.keys.as_slice()));
    if reading.github.is_none() {
        target_the_dotenv(&mut draft, reading.repo.as_deref())?;
    }
    if draft.targets.is_empty() {
        return Err(UsageError::InitNothingFound {
            targets: read_from(&scopes, reading.dotenv.as_deref()),
        }
        .into());
    }
    value_notes(&mut draft, dotenv.as_ref());
    let command = match (reading.github.is_some(), dotenv.is_some()) {
        (true, true) => "`secretsync init --from-github --from-dotenv`",
        (true, false) => "`secretsync init --from-github`",
        _ => "`secretsync init --from-dotenv`",
    };
    let origin = Origin {
        command,
        api_url: reading.api_url.as_deref().map(|_| api.as_str()),
        dotenv_file: dotenv.as_ref().map(|d| d.written.as_str()),
    };
    let text = render::render(&draft, &origin);
    parses(&text, path)?;
    write_config(path, &text, reading.force)?;
    report(out, path, &draft, &listings)?;
    Ok(ExitStatus::Success)
}

fn api_url(flag: Option<&str>) -> Result<ApiUrl, Error> {
    let text = flag.unwrap_or(DEFAULT_API_URL);
    ApiUrl::parse(text).map_err(|reason| {
        UsageError::InitApiUrl {
            url: without_credentials(text),
            reason,
        }
        .into()
    })
}

/// `url` as an error may show it: credentials before an `@` (refused, as a token belongs in
/// GH_TOKEN) become `***`, so the message refusing them does not print them.
fn without_credentials(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

fn read_dotenv(file: &Path, config: &Path) -> Result<Dotenv, Error> {
    let keys = crate::source::dotenv_keys(file)?.ok_or_else(|| UsageError::InitNoDotenv {
        path: file.to_owned(),
    })?;
    Ok(Dotenv {
        keys,
        written: relative_to_folder_of(file, config)
            .to_string_lossy()
            .into_owned(),
    })
}

/// `file` as the config at `config` names it: the dotenv source reads a relative path from the
/// config's folder, so the path is made relative to that folder (with `..` where needed).
fn relative_to_folder_of(file: &Path, config: &Path) -> PathBuf {
    let absolute = |p: &Path| {
        p.canonicalize()
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_owned())
    };
    let (file, folder) = (absolute(file), absolute(folder_of(config)));
    let file_parts: Vec<Component> = file.components().collect();
    let folder_parts: Vec<Component> = folder.components().collect();
    let common = file_parts
        .iter()
        .zip(&folder_parts)
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return file;
    }
    let mut relative = PathBuf::new();
    for _ in common..folder_parts.len() {
        relative.push("..");
    }
    for part in &file_parts[common..] {
        relative.push(part);
    }
    relative
}

/// Without GitHub, the `.env`'s secrets go to `--repo`, or to a placeholder a note points at;
/// past the number of secrets a repository holds, the rest are declared on no target, and a
/// note says so (a target over the limit is not a valid config).
fn target_the_dotenv(draft: &mut Draft, repo: Option<&str>) -> Result<(), Error> {
    let text = repo.unwrap_or(PLACEHOLDER);
    let repo = Repo::parse(text).ok_or_else(|| UsageError::RepoNotOwnerName {
        repo: text.to_owned(),
    })?;
    let scope = Scope::Repo {
        repo,
        app: App::Actions,
    };
    if draft.secrets.is_empty() {
        return Ok(());
    }
    let limit = scope.limits().secrets;
    let carried = draft.secrets.len().min(limit);
    let (listed, over) = draft.secrets.split_at_mut(carried);
    for secret in listed.iter_mut() {
        secret.at = vec![scope.to_string()];
    }
    let names: Vec<String> = listed.iter().map(|s| s.name.clone()).collect();
    if !over.is_empty() {
        let left: Vec<String> = over.iter().map(|s| format!("`{}`", s.name)).collect();
        draft.notes.push(format!(
            "`{scope}` holds at most {limit} secrets, and the `.env` file has {} more: {}; declared, \
             carried by no target: add them to another target's `secrets` to send them",
            left.len(),
            left.join(", ")
        ));
    }
    if text == PLACEHOLDER {
        draft.notes.push(format!(
            "the target `{PLACEHOLDER}` is a placeholder: put your repository there (or pass --repo)"
        ));
    }
    draft.targets.push(TargetDraft {
        scope,
        access: None,
        secrets: names,
        variables: Vec::new(),
    });
    Ok(())
}

fn read_from(scopes: &[Scope], dotenv: Option<&Path>) -> String {
    let mut places: Vec<String> = scopes.iter().map(|s| format!("`{s}`")).collect();
    places.extend(dotenv.map(|p| format!("`{}`", p.display())));
    places.join(", ")
}

/// Where each secret's value will come from: GitHub never returns one, and a `.env`'s stay in it.
fn value_notes(draft: &mut Draft, dotenv: Option<&Dotenv>) {
    let mut notes = Vec::new();
    let from_github = draft.secrets.iter().filter(|s| s.on_github).count();
    if from_github > 0 {
        let first = match dotenv {
            Some(d) => format!("the `.env` file `{}` when it has the key, then ", d.written),
            None => String::new(),
        };
        notes.push(format!(
            "secret values are unknown: GitHub never returns them. Each of the {from_github} secrets \
             found on GitHub takes its value from {first}the env var of its name, then the keyring \
             (service \"secretsync\", user the repository or organization it was found at and its name \
             in lower case, as `acme/shop/db_password`; `secretsync set NAME` stores it there), then a prompt on apply that offers to remember it. Until `secretsync adopt` or \
             an apply records them, `secretsync plan` says each \"cannot be compared\""
        ));
    }
    if let Some(d) = dotenv {
        notes.push(format!(
            "values stay in `{}`: the config names the file and its keys, never a value; keep the \
             file out of version control",
            d.written
        ));
    }
    notes.append(&mut draft.notes);
    draft.notes = notes;
}

/// The text must read back as a valid config; one that does not is a bug here, not the user's.
fn parses(text: &str, path: &Path) -> Result<(), Error> {
    crate::config::parse(text, path, folder_of(path))
        .map(|_| ())
        .map_err(|problems| {
            let first = problems.first().map(|p| p.message.clone());
            Error::Internal(format!(
                "the config init wrote does not read back: {}",
                first.unwrap_or_default()
            ))
        })
}

fn report(
    out: &mut dyn Write,
    path: &Path,
    draft: &Draft,
    listings: &[from_github::Listing],
) -> Result<(), Error> {
    if !listings.is_empty() {
        let places: Vec<String> = listings.iter().map(|l| l.scope.to_string()).collect();
        let secrets: usize = listings.iter().map(|l| l.secrets.len()).sum();
        let variables: usize = listings.iter().map(|l| l.variables.len()).sum();
        writeln!(
            out,
            "read {}: {} (names only), {}",
            places.join(", "),
            count(secrets, "secret"),
            count(variables, "variable")
        )?;
    }
    writeln!(
        out,
        "wrote {}: {}, {}, {}",
        path.display(),
        count(draft.secrets.len(), "secret"),
        count(draft.variables.len(), "variable"),
        count(draft.targets.len(), "target")
    )?;
    for note in &draft.notes {
        writeln!(out, "note: {note}")?;
    }
    writeln!(out, "then run `secretsync plan`")?;
    Ok(())
}

/// "1 secret", "2 secrets".
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
