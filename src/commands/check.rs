//! `secretsync check`: try every registry credential in `[[checks]]` and report (the work is in
//! `crate::checks`); exit 0 when all pass.

use super::{Context, ExitStatus};
use crate::cli::CheckArgs;
use crate::error::Error;

pub fn run(args: CheckArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let config = cx.config(args.config)?;
    if config.checks.is_empty() {
        return Err(Error::Usage(format!(
            "`{}` has no [[checks]]; add one with registry, username, password and push (`secretsync init --preset aliyun-acr --config example.toml` writes an example)",
            config.path.display()
        )));
    }
    let all_passed = crate::checks::report(&config, args.json, cx.out)?;
    Ok(ExitStatus::from(all_passed))
}
