//! `secretsync audit`: compare the secrets workflows use with those declared and present (the
//! work is in `crate::audit`).

use super::{Context, ExitStatus};
use crate::cli::AuditArgs;
use crate::error::Error;

pub fn run(args: AuditArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let config = cx.config(args.config)?;
    let options = crate::audit::Options {
        checkout: args.checkout,
        json: args.json,
        detailed_exitcode: args.detailed_exitcode,
        offline: args.offline,
    };
    let pacing = cx.pacing(args.network);
    crate::audit::run(&config, &options, pacing, cx.http_cache(), cx.out)
}
