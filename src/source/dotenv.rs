//! `dotenv = { file = ".env", key = "NAME" }`: one key of a `.env` file, read as `gh secret set -f`
//! reads it (`crate::dotenv` has the format). A missing file or key is "nothing here", so a chain
//! goes on.

use std::path::Path;

use super::file::read_text;
use super::{Outcome, SourceError};
use crate::dotenv::Entries;

/// A `.env` holds many values; a file past this is not one.
const DOTENV_CAP: usize = 1024 * 1024;
/// How many of the file's keys a "no key" message lists, and how long each may be.
const LISTED_KEYS: usize = 5;
const LISTED_KEY_CHARS: usize = 40;

pub(super) fn from_dotenv(secret: &str, path: &Path, key: &str) -> Result<Outcome, SourceError> {
    let Some(entries) = entries(secret, path)? else {
        return Ok(Outcome::Nothing(format!("no file `{}`", path.display())));
    };
    match entries.get(key) {
        Some(value) => Ok(Outcome::Value(value.clone())),
        None => Ok(Outcome::Nothing(format!(
            "no key `{key}` in `{}`{}",
            path.display(),
            known_keys(&entries)
        ))),
    }
}

/// The keys of a `.env` file as this source reads it, so that `init --from-dotenv` and the
/// source never disagree: sorted, a key written twice once. `None` when there is no file. The
/// values are read (the parser needs them) and dropped, zeroed.
pub fn keys(path: &Path) -> Result<Option<Vec<String>>, SourceError> {
    let entries = entries("init --from-dotenv", path)?;
    Ok(entries.map(|entries| entries.into_keys().collect()))
}

/// The file's keys and values, or None when there is no file (so a chain may go on to its next
/// source). `secret` is who reads, for errors.
fn entries(secret: &str, path: &Path) -> Result<Option<Entries>, SourceError> {
    let too_large = || SourceError::DotenvTooLarge {
        secret: secret.to_owned(),
        path: path.to_owned(),
        limit: DOTENV_CAP,
    };
    let Some(text) = read_text(secret, path, DOTENV_CAP, too_large)? else {
        return Ok(None);
    };
    crate::dotenv::parse(&text)
        .map(Some)
        .map_err(|error| syntax(secret, path, error))
}

fn syntax(secret: &str, path: &Path, error: crate::dotenv::SyntaxError) -> SourceError {
    SourceError::DotenvSyntax {
        secret: secret.to_owned(),
        path: path.to_owned(),
        line: error.line,
        problem: error.problem,
        key: error
            .key
            .map(|k| format!(" (key `{k}`)"))
            .unwrap_or_default(),
    }
}

/// " (it has `A`, `B`)": a few of the file's keys, for a misspelt `key`. Keys are names, never
/// values; long ones are left out all the same.
fn known_keys(entries: &Entries) -> String {
    let names: Vec<String> = entries
        .keys()
        .filter(|k| k.len() <= LISTED_KEY_CHARS)
        .take(LISTED_KEYS)
        .map(|k| format!("`{k}`"))
        .collect();
    if names.is_empty() {
        return " (it has no keys)".to_owned();
    }
    let more = if entries.len() > names.len() {
        ", ..."
    } else {
        ""
    };
    format!(" (it has {}{more})", names.join(", "))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(".env");
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    #[test]
    fn a_missing_key_lists_a_few_keys_and_no_value() {
        let (_dir, path) = write("ALPHA=canary-one\nBETA=canary-two\n");
        let Ok(Outcome::Nothing(why)) = from_dotenv("S", &path, "GAMMA") else {
            panic!("expected nothing for an absent key");
        };
        assert!(why.contains("no key `GAMMA`"), "{why}");
        assert!(why.contains("`ALPHA`, `BETA`"), "{why}");
        assert!(!why.contains("canary"), "{why}");
    }

    #[test]
    fn a_missing_file_lets_the_chain_go_on() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outcome = from_dotenv("S", &dir.path().join("absent.env"), "S");
        assert!(matches!(outcome, Ok(Outcome::Nothing(why)) if why.contains("no file")));
    }

    #[test]
    fn a_present_key_gives_its_value() {
        let (_dir, path) = write("export S='p@ss word'\n");
        let Ok(Outcome::Value(secret)) = from_dotenv("S", &path, "S") else {
            panic!("expected a value");
        };
        assert_eq!(secret.expose_secret(), "p@ss word");
    }

    #[test]
    fn a_syntax_error_message_holds_no_value() {
        let (_dir, path) = write("S=\"canary-secret\n");
        let Err(error) = from_dotenv("S", &path, "S") else {
            panic!("expected a syntax error");
        };
        let shown = format!("{error} {error:?}");
        assert!(shown.contains("line 1 (key `S`)"), "{shown}");
        assert!(!shown.contains("canary"), "{shown}");
    }
}
