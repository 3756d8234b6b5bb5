//! One file per subcommand: each turns its flags into the options of the module that does the
//! work, runs it, and says how the run ended. A new subcommand costs a file here and an arm in
//! `run::dispatch`.

pub mod adopt;
pub mod apply;
pub mod audit;
pub mod check;
pub mod completions;
pub mod demo;
pub mod doctor;
pub mod init;
pub mod man;
pub mod plan;
pub mod rotate;
pub mod sandbox;
pub mod set;
pub mod state;

use std::io::Write;
use std::path::PathBuf;

use crate::cli::{ConfigArgs, NetworkArgs, StateArgs, Ui};
use crate::config::{self, Config};
use crate::error::Error;
pub use crate::exit::ExitStatus;
use crate::github::{HttpCache, Pacing};
use crate::source::PromptMode;
use crate::state::StateDir;
use crate::sync::{self, RunOptions};

/// What every subcommand gets besides its own flags.
pub struct Context<'a> {
    pub ui: Ui,
    /// Stdout.
    pub out: &'a mut dyn Write,
}

impl Context<'_> {
    /// The subcommand's `--config`, else `$SECRETSYNC_CONFIG`, else `./secretsync.toml`.
    fn config_path(&self, flag: ConfigArgs) -> PathBuf {
        config::locate(
            flag.config.as_deref(),
            std::env::var_os("SECRETSYNC_CONFIG"),
        )
    }

    fn config(&self, flag: ConfigArgs) -> Result<Config, Error> {
        Ok(config::load(&self.config_path(flag))?)
    }

    fn state(&self, flag: StateArgs) -> Result<StateDir, Error> {
        Ok(StateDir::locate(
            flag.state_dir.as_deref(),
            std::env::var_os("XDG_STATE_HOME"),
            std::env::var_os("HOME"),
        )?)
    }

    /// The pacing the flags ask for; the defaults, which their help names, are the transport's.
    fn pacing(&self, flags: NetworkArgs) -> Pacing {
        let default = Pacing::default();
        let secs = std::time::Duration::from_secs;
        Pacing {
            concurrency: flags.concurrency.map(usize::from),
            max_wait: flags.max_wait.map_or(default.max_wait, secs),
            retries: flags.retries.unwrap_or(default.retries),
            timeout: flags.timeout.map_or(default.timeout, secs),
            ..default
        }
    }

    /// A plan's options; apply and rotate change what they need.
    fn options(&self, json: bool, network: NetworkArgs) -> RunOptions {
        RunOptions {
            prune: false,
            json,
            prompts: PromptMode::Defer,
            yes: false,
            style: self.ui.style(json),
            pacing: self.pacing(network),
            progress: self.ui.progress(json),
            skip_checks: true,
            http_cache: true,
        }
    }

    /// The default state folder's conditional-GET cache, for the commands that take no
    /// `--state-dir` (doctor, audit); none when there is no such folder to name.
    fn http_cache(&self) -> Option<HttpCache> {
        let state = self.state(StateArgs::default()).ok()?;
        Some(HttpCache::in_state_folder(state.root()))
    }

    /// Plan or apply with the config and state the flags point at.
    fn sync(
        &mut self,
        flags: (ConfigArgs, StateArgs),
        command: sync::Command,
        options: &RunOptions,
    ) -> Result<sync::RunOutcome, Error> {
        let config = self.config(flags.0)?;
        let state = self.state(flags.1)?;
        sync::run(&config, &state, command, options, None, self.out)
    }
}

/// How a plan, apply or rotate ended: a report that holds failures says so on stderr too, so
/// that scripts reading only stderr see why, and exits 1.
fn finished(outcome: &sync::RunOutcome) -> ExitStatus {
    if outcome.ok {
        return ExitStatus::Success;
    }
    if let Some(line) = &outcome.failure {
        eprintln!("error: {line}");
    }
    ExitStatus::Failure
}
