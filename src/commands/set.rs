//! `secretsync set`: store a secret's value in its keyring source.

use super::{Context, ExitStatus};
use crate::cli::SetArgs;
use crate::error::Error;

pub fn run(args: SetArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let config = cx.config(args.config)?;
    crate::new_value::set(&config, &args.name, args.stdin, cx.out)
}
