//! `secretsync set`: store a secret's value (or, with `--state-key`, the team key) in its keyring
//! source.

use super::{Context, ExitStatus};
use crate::cli::SetArgs;
use crate::error::Error;
use crate::new_value;

pub fn run(args: SetArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let config = cx.config(args.config)?;
    match &args.name {
        Some(name) => new_value::set(new_value::declared(&config, name)?, args.stdin, cx.out),
        None => new_value::set_state_key(&config, args.stdin, cx.out),
    }
}
