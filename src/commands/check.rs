//! `secretsync check`: try the registry credentials in `[[checks]]` (the work is in `crate::check`).

use super::{Context, ExitStatus};
use crate::cli::CheckArgs;
use crate::error::Error;

pub fn run(args: CheckArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let config = cx.config(args.config)?;
    crate::check::run(&config, args.json, cx.out)
}
