//! `secretsync man`: print the man page, or write one per subcommand (the work is in
//! `crate::man`).

use super::{Context, ExitStatus};
use crate::cli::ManArgs;
use crate::error::Error;

pub fn run(args: ManArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    crate::man::run(args.dir.as_deref(), cx.out)?;
    Ok(ExitStatus::Success)
}
