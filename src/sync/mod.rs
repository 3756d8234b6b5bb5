//! One run of `plan` or `apply` from start to end, as the steps it takes: resolve every value,
//! check them, expand the targets into scopes, gather what GitHub has and plan each scope,
//! confirm, apply and record, report. Each step is a module below; `run` only puts them in
//! order, and does everything that can fail locally before the network.

mod adopt;
mod confirm;
mod expand;
mod gather;
mod outcome;
mod resolve;
mod signals;
mod write;

use std::io::Write;

use secrecy::SecretString;

use crate::config::{Config, Store};
use crate::error::Error;
use crate::github::{HttpCache, Pacing};
use crate::precedence;
use crate::progress::Progress;
use crate::render::Style;
use crate::source::PromptMode;
use crate::state::{Fingerprinter, StateDir};

pub use adopt::adopt;
pub use outcome::RunOutcome;
pub use resolve::RotatedSecret;

use gather::RunContext;
use outcome::Shown;
use resolve::Values;

/// How a run was asked for, already free of clap.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub prune: bool,
    pub json: bool,
    /// `plan --interactive`; always on for `apply`.
    pub prompts: PromptMode,
    /// `apply --yes`.
    pub yes: bool,
    pub style: Style,
    pub pacing: Pacing,
    /// Draw progress on stderr (a terminal, and not `--json`).
    pub progress: bool,
    /// Do not run `[[checks]]` before writing (`apply --skip-checks`; `plan` never runs them).
    pub skip_checks: bool,
    /// Keep listings in the state folder's conditional-GET cache (`github::cache`), so a run
    /// that changes nothing costs no primary rate limit. Off for the demo's throwaway folders.
    pub http_cache: bool,
}

impl RunOptions {
    /// A run no one watches: `--yes`, prompts deferred, no progress, no `[[checks]]` (the demo,
    /// and tests of what follows the plan).
    pub fn unattended(json: bool, style: Style) -> RunOptions {
        RunOptions {
            prune: false,
            json,
            prompts: PromptMode::Defer,
            yes: true,
            style,
            pacing: Pacing::default(),
            progress: false,
            skip_checks: true,
            http_cache: false,
        }
    }
}

/// Whether this is `plan` (never writes) or `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Plan,
    Apply,
}

/// `secretsync plan` and `secretsync apply`, from a loaded config to the rendered report.
/// `rotated` is `rotate`'s one secret: the run then carries it alone, to the targets that have it.
pub fn run(
    config: &Config,
    state: &StateDir,
    command: Command,
    options: &RunOptions,
    rotated: Option<RotatedSecret>,
    out: &mut dyn Write,
) -> Result<RunOutcome, Error> {
    confirm::require_terminal(command, options)?;
    let token = crate::source::resolve_token(&config.token)?;
    let only = rotated.as_ref().map(|r| r.name.clone());
    let (config, values) = resolve::resolve(config, command, options.prompts, rotated)?;
    if command == Command::Apply && !options.skip_checks {
        resolve::check_values(&config, &values, options.json, out)?;
    }
    let (key, have_key) = fingerprint_key(&config, state, command)?;
    let (runtime, client) = connect(&config, state, token.value, options)?;
    let scan = RunContext {
        client: &client,
        config: &config,
        key: &key,
        have_key,
        state,
        prune: options.prune,
        only: only.as_deref(),
        applying: command == Command::Apply,
    };
    runtime.block_on(steps(&scan, values, command, options, out))
}

/// The client a run talks to GitHub through: paced as the options say, and keeping listings
/// under the state folder unless they say not to.
fn connect(
    config: &Config,
    state: &StateDir,
    token: SecretString,
    options: &RunOptions,
) -> Result<(tokio::runtime::Runtime, crate::github::Client), Error> {
    let (runtime, client) = crate::github::connect(config, token, options.pacing)?;
    let cache = options
        .http_cache
        .then(|| HttpCache::in_state_folder(state.root()));
    Ok((runtime, client.with_cache(cache)))
}

/// The steps that talk to GitHub: expand, gather and plan, then report (`plan`, or nothing to
/// write) or confirm, apply, record and report.
async fn steps(
    scan: &RunContext<'_>,
    values: Values,
    command: Command,
    options: &RunOptions,
    out: &mut dyn Write,
) -> Result<RunOutcome, Error> {
    let progress = Progress::start(options.progress);
    let (jobs, mut reports) = expand::expand(scan.config, scan.client).await?;
    let warnings = precedence::warnings(&expand::placed(&jobs));
    let planned = gather::plan_all(scan, &values, jobs, &progress).await?;
    // Each job holds its own copies of the values it writes; the run's copies end here.
    drop(values);
    progress.finish();
    let pending = gather::pending(&planned);
    if command == Command::Plan || pending == 0 {
        reports.extend(planned.into_iter().map(|p| p.report));
        let shown = Shown::planned(command, pending);
        return outcome::report(out, &reports, &warnings, shown, options);
    }
    confirm::preview_and_ask(out, &reports, &planned, &warnings, options, pending)?;
    let applying = write::apply_all(scan, planned, pending, options.progress, &mut reports);
    let interrupted = applying.await?;
    let outcome = outcome::report(out, &reports, &warnings, Shown::applied(), options)?;
    outcome::unless_interrupted(outcome, interrupted)
}

/// The key that fingerprints values: the team's `[state] key` for a shared record; else this
/// machine's. `plan` writes no state, so it never makes the local key; without a key nothing
/// recorded can match.
fn fingerprint_key(
    config: &Config,
    state: &StateDir,
    command: Command,
) -> Result<(Fingerprinter, bool), Error> {
    if let Store::Github { key } = &config.store {
        return Ok((crate::shared_state::team_key(key)?, true));
    }
    Ok(match command {
        Command::Apply => (state.key()?, true),
        Command::Plan => match state.existing_key()? {
            Some(key) => (key, true),
            None => (Fingerprinter::ephemeral(), false),
        },
    })
}
