//! `secretsync plan`: show what apply would change, writing nothing; with
//! `--detailed-exitcode`, exit 2 when changes are pending.

use super::{finished, Context, ExitStatus};
use crate::cli::PlanArgs;
use crate::error::Error;
use crate::source::PromptMode;
use crate::sync::{self, RunOptions};

pub fn run(args: PlanArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let options = RunOptions {
        prune: args.prune,
        prompts: if args.interactive {
            PromptMode::Ask
        } else {
            PromptMode::Defer
        },
        ..cx.options(args.json, args.network)
    };
    let outcome = cx.sync((args.config, args.state), sync::Command::Plan, &options)?;
    Ok(match finished(&outcome) {
        ExitStatus::Success if outcome.pending > 0 && args.detailed_exitcode => ExitStatus::Changes,
        status => status,
    })
}
