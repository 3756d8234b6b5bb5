//! `secretsync completions`: print a shell completion script for the command line in `cli`.

use super::{Context, ExitStatus};
use crate::cli::CompletionsArgs;
use crate::error::Error;

pub fn run(args: CompletionsArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let mut command = crate::cli::command();
    // clap_complete panics on a write error; generating into memory first turns a closed pipe
    // into the usual quiet exit.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "secretsync", &mut script);
    cx.out.write_all(&script)?;
    Ok(ExitStatus::Success)
}
