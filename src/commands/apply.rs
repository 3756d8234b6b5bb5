//! `secretsync apply`: make GitHub match the config, asking first unless `--yes`.

use super::{finished, Context, ExitStatus};
use crate::cli::ApplyArgs;
use crate::error::Error;
use crate::source::PromptMode;
use crate::sync::{self, RunOptions};

pub fn run(args: ApplyArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let options = RunOptions {
        prune: args.prune,
        prompts: PromptMode::Ask,
        yes: args.yes,
        skip_checks: args.skip_checks,
        ..cx.options(args.json, args.network)
    };
    let outcome = cx.sync((args.config, args.state), sync::Command::Apply, &options)?;
    Ok(finished(&outcome))
}
