//! The record of what was applied, kept in GitHub for the whole team (`[state] store =
//! "github"`): one `SECRETSYNC_STATE` Actions variable per scope, holding a key check and, per
//! secret, the keyed fingerprint and GitHub's `updated_at` after the write. Dependabot scopes
//! have no variables, so theirs sits in the matching Actions scope's variable, in its own
//! section.
//!
//! The variable is readable by anyone who can read the scope's variables, so it holds nothing
//! from which a value can be told without the team key: fingerprints are the keyed MACs the
//! local store keeps (bound to host, scope and name), and the key check is a MAC of a fixed
//! label. The format is pure; [`load`] and [`save`] are the two requests that read and write it,
//! and [`team_key`] takes the key from its source.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::config::{Decl, STATE_VARIABLE};
use crate::github::{Client, GithubError};
use crate::plan::{OrgAccess, Recorded};
use crate::scope::{App, Scope, Visibility};
use crate::source::{self, PromptMode, Resolution, SourceError};
use crate::state::{Fingerprinter, MIN_TEAM_KEY_CHARS};

const FORMAT_VERSION: u32 = 1;

/// GitHub refuses a variable over 48 KB; a record that large is refused before it is sent.
const MAX_BYTES: usize = 48 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    /// The key's source had no key: the source's own message.
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("the `[state] key` is {chars} characters; a team key needs at least {MIN_TEAM_KEY_CHARS}: make one with `secretsync state new-key`")]
    ShortKey { chars: usize },
    #[error("variable {STATE_VARIABLE} of `{home}` was written with another `[state] key`; give this machine the team's key (the one CI and teammates use), or delete the variable to start the shared record afresh")]
    WrongKey { home: String },
    #[error("variable {STATE_VARIABLE} of `{home}` is damaged ({reason}); delete it on GitHub, and the next apply re-sends each value of that scope once")]
    Damaged { home: String, reason: String },
    #[error("variable {STATE_VARIABLE} of `{home}` was written by a newer secretsync (format {version}); upgrade secretsync on this machine")]
    Newer { home: String, version: u32 },
    #[error("the shared record of `{home}` would be {bytes} bytes, over GitHub's 48 KB for a variable; split the scope's secrets across fewer names, or use `[state] store = \"local\"`")]
    TooLarge { home: String, bytes: usize },
}

/// The team key from its source, asking on a terminal if that is where it comes from: without
/// the key nothing recorded can be compared, so a plan asks too.
pub fn team_key(decl: &Decl) -> Result<Fingerprinter, SharedError> {
    match source::resolve(&decl.name, &decl.chain, PromptMode::Ask)? {
        Resolution::Value { value, .. } => key_from(&value),
        // `Ask` never defers; were it to, no key is no key.
        Resolution::Deferred => Err(SharedError::ShortKey { chars: 0 }),
    }
}

/// The team key in `value`, if it is long enough to be one.
pub fn key_from(value: &SecretString) -> Result<Fingerprinter, SharedError> {
    Fingerprinter::from_team_key(value).ok_or_else(|| SharedError::ShortKey {
        chars: value.expose_secret().trim().chars().count(),
    })
}

/// Where a scope's record lives: the Actions scope whose variable holds it.
pub fn home(scope: &Scope) -> Scope {
    match scope {
        Scope::Repo { repo, .. } => Scope::Repo {
            repo: repo.clone(),
            app: App::Actions,
        },
        Scope::Org { org, .. } => Scope::Org {
            org: org.clone(),
            app: App::Actions,
        },
        Scope::Environment { .. } => scope.clone(),
    }
}

/// One variable's content: the key check, and a section per app that keeps its record there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    version: u32,
    check: String,
    #[serde(default, skip_serializing_if = "Recorded::is_empty")]
    actions: Recorded,
    #[serde(default, skip_serializing_if = "Recorded::is_empty")]
    dependabot: Recorded,
}

impl Document {
    /// The record held in `text` (the variable's value; `None` when there is none yet), after
    /// checking that it was written with this key.
    pub fn read(
        text: Option<&str>,
        key: &Fingerprinter,
        home: &Scope,
    ) -> Result<Document, SharedError> {
        let Some(text) = text else {
            return Ok(Document::empty(key));
        };
        let damaged = |reason: String| SharedError::Damaged {
            home: home.to_string(),
            reason,
        };
        // The version is looked at first, so a newer format is told apart from damage.
        let probe: serde_json::Value =
            serde_json::from_str(text).map_err(|e| damaged(e.to_string()))?;
        match probe.get("version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(v) if v > u64::from(FORMAT_VERSION) => {
                return Err(SharedError::Newer {
                    home: home.to_string(),
                    version: u32::try_from(v).unwrap_or(u32::MAX),
                })
            }
            _ => return Err(damaged("no known format version".into())),
        }
        let document: Document =
            serde_json::from_value(probe).map_err(|e| damaged(e.to_string()))?;
        if document.check != key.key_check() {
            return Err(SharedError::WrongKey {
                home: home.to_string(),
            });
        }
        Ok(document)
    }

    fn empty(key: &Fingerprinter) -> Document {
        Document {
            version: FORMAT_VERSION,
            check: key.key_check(),
            actions: Recorded::new(),
            dependabot: Recorded::new(),
        }
    }

    /// The records of `scope` (whose home this document is).
    pub fn section(&self, scope: &Scope) -> &Recorded {
        match app_of(scope) {
            App::Actions => &self.actions,
            App::Dependabot => &self.dependabot,
        }
    }

    pub fn section_mut(&mut self, scope: &Scope) -> &mut Recorded {
        match app_of(scope) {
            App::Actions => &mut self.actions,
            App::Dependabot => &mut self.dependabot,
        }
    }

    /// The variable's new value: compact JSON, within GitHub's size for a variable.
    pub fn to_text(&self, home: &Scope) -> Result<String, SharedError> {
        let text = serde_json::to_string(self).expect("a shared record serialises");
        if text.len() > MAX_BYTES {
            return Err(SharedError::TooLarge {
                home: home.to_string(),
                bytes: text.len(),
            });
        }
        Ok(text)
    }
}

/// A scope's record as GitHub held it when read: the document (empty when there was none),
/// and whether the variable exists, which decides how it is written back.
pub struct Loaded {
    pub document: Document,
    existed: bool,
}

/// Why a record could not be had: GitHub's answer, or what the variable holds.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error(transparent)]
    Shared(#[from] SharedError),
}

impl Loaded {
    /// Whether GitHub held the variable when it was read.
    pub fn existed(&self) -> bool {
        self.existed
    }
}

/// Read the record of `scope` (from its home's variable) and check it was written with `key`.
pub async fn load(
    client: &Client,
    scope: &Scope,
    key: &Fingerprinter,
) -> Result<Loaded, LoadError> {
    let home = home(scope);
    let text = client.get_variable(&home, STATE_VARIABLE).await?;
    let document = Document::read(text.as_deref(), key, &home)?;
    Ok(Loaded {
        document,
        existed: text.is_some(),
    })
}

/// Write the record of `scope` back: a PATCH, or a POST when the variable is new (an
/// organization's shared with no repository, so no workflow sees it).
pub async fn save(client: &Client, scope: &Scope, loaded: &Loaded) -> Result<(), LoadError> {
    let home = home(scope);
    let value = loaded.document.to_text(&home)?;
    if loaded.existed {
        client
            .update_variable(&home, STATE_VARIABLE, &value, None)
            .await?;
        return Ok(());
    }
    let access = home.is_org().then(|| OrgAccess {
        visibility: Visibility::Selected,
        repositories: Vec::new(),
        names: BTreeMap::new(),
    });
    client
        .create_variable(&home, STATE_VARIABLE, &value, access.as_ref())
        .await?;
    Ok(())
}

fn app_of(scope: &Scope) -> App {
    match scope {
        Scope::Repo { app, .. } | Scope::Org { app, .. } => *app,
        Scope::Environment { .. } => App::Actions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Fingerprint, Record};
    use crate::scope::Repo;

    fn repo(app: App) -> Scope {
        Scope::Repo {
            repo: Repo::parse("o/r").unwrap(),
            app,
        }
    }

    fn record(fp: &str) -> Record {
        Record {
            fingerprint: Fingerprint(fp.into()),
            updated_at: Some("2026-01-01T00:00:00Z".into()),
        }
    }

    #[test]
    fn dependabot_keeps_its_record_in_the_actions_scope_in_its_own_section() {
        let key = Fingerprinter::for_tests([7; 32]);
        assert_eq!(home(&repo(App::Dependabot)), repo(App::Actions));
        let mut doc = Document::read(None, &key, &repo(App::Actions)).unwrap();
        doc.section_mut(&repo(App::Dependabot))
            .insert("A".into(), record("d"));
        doc.section_mut(&repo(App::Actions))
            .insert("A".into(), record("a"));
        let text = doc.to_text(&repo(App::Actions)).unwrap();
        let back = Document::read(Some(&text), &key, &repo(App::Actions)).unwrap();
        assert_eq!(back.section(&repo(App::Dependabot))["A"], record("d"));
        assert_eq!(back.section(&repo(App::Actions))["A"], record("a"));
    }

    #[test]
    fn another_key_is_told_apart_from_changed_values() {
        let ours = Fingerprinter::for_tests([1; 32]);
        let theirs = Fingerprinter::for_tests([2; 32]);
        let text = Document::empty(&theirs)
            .to_text(&repo(App::Actions))
            .unwrap();
        let err = Document::read(Some(&text), &ours, &repo(App::Actions)).unwrap_err();
        assert!(matches!(err, SharedError::WrongKey { .. }), "{err:?}");
        assert!(err.to_string().contains("`o/r`"), "{err}");
    }

    #[test]
    fn damaged_and_newer_records_are_clear_errors() {
        let key = Fingerprinter::for_tests([1; 32]);
        let home = repo(App::Actions);
        for text in [
            "",
            "{",
            "[]",
            "{\"version\":1}",
            "{\"version\":\"1\"}",
            "null",
        ] {
            let err = Document::read(Some(text), &key, &home).unwrap_err();
            assert!(
                matches!(err, SharedError::Damaged { .. }),
                "{text}: {err:?}"
            );
        }
        let err = Document::read(Some("{\"version\":9,\"x\":1}"), &key, &home).unwrap_err();
        assert!(
            matches!(&err, SharedError::Newer { home, version: 9 } if home == "o/r"),
            "{err:?}"
        );
    }

    #[test]
    fn a_record_over_githubs_limit_is_refused() {
        let key = Fingerprinter::for_tests([1; 32]);
        let home = repo(App::Actions);
        let mut doc = Document::empty(&key);
        for i in 0..1000 {
            doc.section_mut(&home)
                .insert(format!("NAME_{i}"), record(&"f".repeat(76)));
        }
        assert!(matches!(
            doc.to_text(&home),
            Err(SharedError::TooLarge { .. })
        ));
    }
}
