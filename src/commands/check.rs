//! `secretsync check`: try every registry credential in `[[checks]]` and report (the work is in
//! `crate::checks`); exit 0 when all pass.

use super::{Context, ExitStatus};
use crate::cli::CheckArgs;
use crate::error::Error;

pub fn run(args: CheckArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let config = cx.config(args.config)?;
    let all_passed = crate::checks::report(&config, args.json, cx.out)?;
    Ok(ExitStatus::from(all_passed))
}
