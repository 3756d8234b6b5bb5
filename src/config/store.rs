//! `[state]`: where the record of what was applied is kept. `store = "local"` (the default)
//! keeps it in the state folder; `store = "github"` keeps it in GitHub itself, in one Actions
//! variable per scope, fingerprinted under a team key that comes from a source like any value.

use serde::Deserialize;
use toml::Spanned;

use super::{Decl, RawSecret, Validator};

/// The variable that holds a scope's shared record. A reserved name: `[variables]` cannot
/// declare it, and plan and apply never show it as extra nor prune it.
pub const STATE_VARIABLE: &str = "SECRETSYNC_STATE";

/// Where the record of applied values lives.
#[derive(Debug, Clone, Default)]
pub enum Store {
    /// The state folder of this machine.
    #[default]
    Local,
    /// The `SECRETSYNC_STATE` variable of each scope, keyed by the team's shared `key`.
    Github { key: Decl },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawState {
    store: Option<Spanned<String>>,
    key: Option<Spanned<RawSecret>>,
}

impl Validator<'_> {
    pub(super) fn store(&mut self, raw: Option<Spanned<RawState>>) -> Store {
        let Some(raw) = raw else {
            return Store::Local;
        };
        let table = Some(raw.span().start);
        let raw = raw.into_inner();
        let github = match &raw.store {
            None => false,
            Some(store) => match store.get_ref().as_str() {
                "local" => false,
                "github" => true,
                other => {
                    self.problem(
                        Some(store.span().start),
                        format!("`[state] store = \"{other}\"` is not a store; use \"local\" (this machine's state folder) or \"github\" (a variable in each scope)"),
                    );
                    return Store::Local;
                }
            },
        };
        match (github, raw.key) {
            (true, Some(key)) => {
                let at = Some(key.span().start);
                let line = self.lines.line(key.span().start);
                let name = "[state] key";
                let decl =
                    self.declaration("state", (name, name.into()), key.into_inner(), at, line);
                Store::Github { key: decl }
            }
            (true, None) => {
                self.problem(table, "`[state] store = \"github\"` needs `key`, the team's shared fingerprint key, e.g. `key = { env = \"SECRETSYNC_KEY\" }`; `secretsync state new-key` prints a new one".into());
                Store::Local
            }
            (false, Some(key)) => {
                self.problem(Some(key.span().start), "`[state] key` is used only with `store = \"github\"`; add that, or remove `key`".into());
                Store::Local
            }
            (false, None) => Store::Local,
        }
    }
}
