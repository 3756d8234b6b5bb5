//! The one error type that reaches the user. Each layer or concern has its own enum; they
//! convert into [`Error`], whose `Display` is one line that says what failed and what to do about
//! it. The concerns of the commands themselves are here: [`UsageError`] and [`LocalError`] in
//! files of their own, and the small [`ValueError`], [`ChecksFailed`] and [`Interruption`].

mod local;
#[cfg(test)]
mod tests;
mod usage;

pub use local::LocalError;
pub use usage::UsageError;

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
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error(transparent)]
    Local(#[from] LocalError),
    #[error(transparent)]
    Interrupted(#[from] Interruption),
    #[error(transparent)]
    Check(#[from] ChecksFailed),
    #[error("cannot write output: {0}")]
    Output(std::io::Error),
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
        matches!(self, Error::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Output(e)
    }
}

/// A value broke a rule (empty, too large); names the secret, never the value.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    #[error("the value for `{name}` on standard input is not UTF-8; pass the value as UTF-8 text")]
    StdinNotUtf8 { name: String },
    /// Every rule every value broke, one line each, so one run shows all there is to fix.
    #[error("{}", .problems.join("\nerror: "))]
    BrokenRules { problems: Vec<String> },
}

impl ValueError {
    /// The problems found, as an error; none is no error.
    pub fn unless_none(problems: Vec<String>) -> Result<(), ValueError> {
        match problems.is_empty() {
            true => Ok(()),
            false => Err(ValueError::BrokenRules { problems }),
        }
    }
}

/// Registry checks failed before anything was written; one line per failure.
#[derive(Debug, thiserror::Error)]
#[error("{}; nothing was written (fix it, or pass --skip-checks to write anyway)", .failures.join("\nerror: "))]
pub struct ChecksFailed {
    pub failures: Vec<String>,
}

/// Ctrl-C during apply: the writes done are recorded.
#[derive(Debug, thiserror::Error)]
pub enum Interruption {
    #[error("interrupted while waiting for another run's lock; nothing was written")]
    WaitingForLock,
    #[error("interrupted: what was written is recorded; run `secretsync apply` again to finish")]
    DuringApply,
}
