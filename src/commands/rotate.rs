//! `secretsync rotate`: store a changed value and apply just that secret everywhere.

use super::{finished, Context, ExitStatus};
use crate::cli::RotateArgs;
use crate::error::Error;
use crate::rotation::Rotation;
use crate::source::PromptMode;
use crate::sync::RunOptions;

pub fn run(args: RotateArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let config = cx.config(args.config)?;
    let state = cx.state(args.state)?;
    let rotation = Rotation {
        name: &args.name,
        stdin: args.stdin,
        skip_checks: args.skip_checks,
        options: RunOptions {
            prompts: PromptMode::Ask,
            yes: args.yes,
            ..cx.options(args.json, args.network)
        },
        state: &state,
    };
    let outcome = crate::rotation::rotate(&config, rotation, cx.out)?;
    Ok(finished(&outcome))
}
