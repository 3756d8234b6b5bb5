//! The one error type that reaches the user. Each layer has its own enum; they convert into
//! [`Error`], whose `Display` is one line that says what failed and what to do about it.

use crate::config::ConfigError;
use crate::exit::ExitStatus;
use crate::github::GithubError;
use crate::shared_state::SharedError;
use crate::source::SourceError;
use crate::state::StateError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Github(#[from] GithubError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Shared(#[from] SharedError),
    /// A value broke a rule (empty, too large); names the secret, never the value.
    #[error("{0}")]
    Value(String),
    #[error("{0}")]
    Usage(String),
    /// Ctrl-C during apply: the writes done are recorded.
    #[error("{0}")]
    Interrupted(String),
    /// A registry check failed before anything was written.
    #[error("{0}")]
    Check(String),
    #[error("cannot write output: {0}")]
    Output(String),
    /// Failures already reported in the output (failed writes, missing secrets): exit 1 quietly.
    #[error("{0}")]
    Reported(String),
    #[error("internal error: {0}; this is a bug in secretsync, please report it")]
    Internal(String),
}

impl Error {
    /// Every error exits 1, except a closed stdout: that is how `| head` ends a run (as rg).
    pub fn exit_status(&self) -> ExitStatus {
        if self.is_broken_pipe() {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }

    /// Stdout was closed by its reader; nothing is said about it.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.contains("Broken pipe"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Output(e.to_string())
    }
}
