//! `secretsync state new-key`: a new random team key for `[state] store = "github"`. It goes to
//! stdout only, for the user to put in a secret store (a repository secret for CI, the keyring
//! through `secretsync set` for teammates); it is never kept anywhere by secretsync.

use super::{Context, ExitStatus};
use crate::cli::{StateAction, StateCommandArgs};
use crate::error::Error;
use crate::state::Fingerprinter;

pub fn run(args: StateCommandArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    match args.action {
        StateAction::NewKey => {
            let key = Fingerprinter::new_key_text();
            writeln!(cx.out, "{}", key.as_str())?;
            Ok(ExitStatus::Success)
        }
    }
}
