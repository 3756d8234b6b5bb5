//! `secretsync adopt [NAMES...]`: take secrets already on GitHub as holding their declared
//! values, asking first unless `--yes`; writes only state.

use super::{finished, Context, ExitStatus};
use crate::cli::AdoptArgs;
use crate::error::Error;
use crate::sync::{self, RunOptions};

pub fn run(args: AdoptArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let config = cx.config(args.config)?;
    let state = cx.state(args.state)?;
    let options = RunOptions {
        yes: args.yes,
        ..cx.options(args.json, args.network)
    };
    let outcome = sync::adopt(&config, &state, &args.names, &options, cx.out)?;
    Ok(finished(&outcome))
}
