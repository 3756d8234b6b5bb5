//! `secretsync init`: write a commented config to start from, where `--config` would read it.

use super::{Context, ExitStatus};
use crate::cli::InitArgs;
use crate::error::Error;

pub fn run(args: InitArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let path = cx.config_path(args.config);
    crate::init::run(
        &path,
        args.preset.as_deref(),
        args.repo.as_deref(),
        args.force,
        cx.out,
    )
}
