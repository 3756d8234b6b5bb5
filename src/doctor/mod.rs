//! `secretsync doctor`: without writing anything, whether the token works, whose it is and what
//! kind, and whether each target can be read.
//!
//! Every request is a GET. The token's kind is told from GitHub's answers, never from its text:
//! `GET /user` answers classic (and OAuth) tokens with `X-OAuth-Scopes`, fine-grained tokens
//! without it, and GitHub App installation tokens with 403 "Resource not accessible by
//! integration". Then, per target: the scopes a classic token needs, whether the repository,
//! environment or organization exists, and whether the scope's public key and its secrets (and
//! variables) can be read, which makes write access likely. With `[state] store = "github"`,
//! per scope that holds a shared record: that the token can read its variables, that the record
//! (if any) was written with the team key, and what GitHub tells about writing the variables.

mod advice;
mod probes;
mod render;
mod shared;

use std::io::Write;

use serde::Serialize;

use crate::config::{Config, Store};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::github::{Client, HttpCache, Pacing};
use crate::scope::Scope;
use crate::source;

/// The `--json` document (docs/doctor.md).
#[derive(Debug, Serialize)]
pub struct DoctorReport {
    pub version: u32,
    pub api_url: String,
    /// GitHub answered at `api_url` (any HTTP answer counts).
    pub reachable: bool,
    pub token: TokenReport,
    /// Empty when GitHub could not be reached, or the token was rejected.
    pub targets: Vec<TargetReport>,
    /// Only with `[state] store = "github"` (absent otherwise, so other documents are unchanged),
    /// and only when the targets were probed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_state: Option<SharedReport>,
    pub ok: bool,
}

/// The shared record's checks (`[state] store = "github"`).
#[derive(Debug, Serialize)]
pub struct SharedReport {
    /// The variable that holds each scope's record.
    pub variable: &'static str,
    /// Whether the team key comes from its source and is long enough (check `state_key`).
    pub key: ProbeResult,
    /// One per scope that holds a record (where each target's scopes keep theirs), in config
    /// order.
    pub scopes: Vec<HomeReport>,
}

#[derive(Debug, Serialize)]
pub struct HomeReport {
    pub scope: String,
    /// Whether the token may write the scope's variables, as far as GitHub tells without a write.
    pub write: WriteAccess,
    pub checks: Vec<ProbeResult>,
}

/// What doctor can know, without writing, about the token writing a scope's variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WriteAccess {
    /// GitHub says so (a classic token's scope, and its user an admin of the repository).
    Allowed,
    /// The scope and the listing suggest so (a classic token on an organization).
    Likely,
    /// GitHub does not tell (fine-grained and app tokens), or the variables could not be read.
    Unknown,
    /// GitHub says no (a missing scope, or not an admin of the repository).
    Refused,
}

#[derive(Debug, Serialize)]
pub struct TokenReport {
    pub ok: bool,
    pub login: Option<String>,
    pub kind: Option<TokenKind>,
    /// A classic token's scopes; `None` for other kinds.
    pub scopes: Option<Vec<String>>,
    /// The line shown for the token: what it is, or the problem and its fix.
    pub message: String,
}

/// What kind of token, as GitHub's answers tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenKind {
    /// A classic personal access token, or an OAuth token such as `gh auth login` makes.
    Classic,
    FineGrained,
    /// A GitHub App installation token.
    App,
}

#[derive(Debug, Serialize)]
pub struct TargetReport {
    pub target: String,
    /// Called `checks` in the JSON document, as it always was.
    #[serde(rename = "checks")]
    pub probes: Vec<ProbeResult>,
    /// The scopes the target reached (a match's repositories), for the shared record's probes.
    #[serde(skip)]
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Serialize)]
pub struct ProbeResult {
    /// Stable: `scopes`, `repository`, `environment`, `organization`, `repositories`,
    /// `public_key`, `list_secrets`, `list_variables`; for the shared record `state_key`,
    /// `state_read`, `state_record`, `state_write`. Called `check` in the JSON document.
    #[serde(rename = "check")]
    pub probe: &'static str,
    pub ok: bool,
    pub message: String,
}

pub fn run(
    config: &Config,
    json: bool,
    pacing: Pacing,
    cache: Option<HttpCache>,
    out: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let token = source::resolve_token(&config.token)?;
    let (runtime, client) = crate::github::connect(config, token.value, pacing)?;
    let client = client.with_cache(cache);
    let report = runtime.block_on(diagnose(config, &client, &token.origin));
    if json {
        render::json(out, &report)?;
    } else {
        render::text(out, &report)?;
    }
    Ok(ExitStatus::from(report.ok))
}

/// Everything doctor finds, in config order.
pub async fn diagnose(config: &Config, client: &Client, origin: &str) -> DoctorReport {
    let identity = probes::identify(client, config, origin).await;
    let (targets, shared_state) = match identity.proceed {
        false => (Vec::new(), None),
        true => {
            let cx = probes::Context {
                client,
                kind: identity.token.kind,
                scopes: identity.token.scopes.as_deref(),
            };
            // Resolved before any probe runs: its source may ask on the terminal.
            let key = match &config.store {
                Store::Github { key } => Some(shared::team_key(key)),
                Store::Local => None,
            };
            let targets =
                futures::future::join_all(config.targets.iter().map(|t| probes::target(&cx, t)))
                    .await;
            // After the targets: a scope whose target could not be reached is left out.
            let shared = match key {
                Some(key) => Some(shared::record(&cx, config, &targets, key).await),
                None => None,
            };
            (targets, shared)
        }
    };
    let ok = identity.reachable
        && identity.token.ok
        && targets.iter().all(|t| t.probes.iter().all(|p| p.ok))
        && shared_state.as_ref().is_none_or(SharedReport::ok);
    DoctorReport {
        version: 1,
        api_url: config.api_url.to_string(),
        reachable: identity.reachable,
        token: identity.token,
        targets,
        shared_state,
        ok,
    }
}

impl SharedReport {
    /// Every check of the shared record.
    pub(super) fn checks(&self) -> impl Iterator<Item = &ProbeResult> {
        std::iter::once(&self.key).chain(self.scopes.iter().flat_map(|h| &h.checks))
    }

    fn ok(&self) -> bool {
        self.checks().all(|p| p.ok)
    }
}
