//! `secretsync doctor`: check the token and each target's reachability (the work is in
//! `crate::doctor`).

use super::{Context, ExitStatus};
use crate::cli::DoctorArgs;
use crate::error::Error;

pub fn run(args: DoctorArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let config = cx.config(args.config)?;
    let pacing = cx.pacing(args.network);
    crate::doctor::run(&config, args.json, pacing, cx.http_cache(), cx.out)
}
