//! `secretsync set`: store a secret's value (or, with `--state-key`, the team key) in its keyring
//! source.

use super::{Context, ExitStatus};
use crate::cli::SetArgs;
use crate::error::Error;

pub fn run(args: SetArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let config = cx.config(args.config)?;
    let decl = match &args.name {
        Some(name) => crate::new_value::declared(&config, name)?,
        None => crate::new_value::state_key(&config)?,
    };
    crate::new_value::set(decl, args.stdin, cx.out)
}
