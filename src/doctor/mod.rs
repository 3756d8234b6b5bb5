//! `secretsync doctor`: without writing anything, whether the token works, whose it is and what
//! kind, and whether each target can be read.
//!
//! Every request is a GET. The token's kind is told from GitHub's answers, never from its text:
//! `GET /user` answers classic (and OAuth) tokens with `X-OAuth-Scopes`, fine-grained tokens
//! without it, and GitHub App installation tokens with 403 "Resource not accessible by
//! integration". Then, per target: the scopes a classic token needs, whether the repository,
//! environment or organization exists, and whether the scope's public key and its secrets (and
//! variables) can be read, which makes write access likely.

mod advice;
mod probes;
mod render;

use std::io::Write;

use serde::Serialize;

use crate::config::Config;
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::github::{Client, Pacing};
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
    pub ok: bool,
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
}

#[derive(Debug, Serialize)]
pub struct ProbeResult {
    /// Stable: `scopes`, `repository`, `environment`, `organization`, `repositories`,
    /// `public_key`, `list_secrets`, `list_variables`. Called `check` in the JSON document.
    #[serde(rename = "check")]
    pub probe: &'static str,
    pub ok: bool,
    pub message: String,
}

pub fn run(
    config: &Config,
    json: bool,
    pacing: Pacing,
    out: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let token = source::resolve_token(&config.token)?;
    let (runtime, client) = crate::github::connect(&config.api_url, token.value, pacing)?;
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
    let targets = match identity.proceed {
        false => Vec::new(),
        true => {
            let cx = probes::Context {
                client,
                kind: identity.token.kind,
                scopes: identity.token.scopes.as_deref(),
            };
            futures::future::join_all(config.targets.iter().map(|t| probes::target(&cx, t))).await
        }
    };
    let ok = identity.reachable
        && identity.token.ok
        && targets.iter().all(|t| t.probes.iter().all(|p| p.ok));
    DoctorReport {
        version: 1,
        api_url: config.api_url.to_string(),
        reachable: identity.reachable,
        token: identity.token,
        targets,
        ok,
    }
}
