//! The hidden prompt on the terminal, and the visible yes/no question.

use std::fs::OpenOptions;
use std::io::{self, Write as _};

use secrecy::SecretString;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::{one_line, SourceError, CONFIRM_ATTEMPTS};

/// Ask a visible question on the terminal and read one line.
pub(super) fn ask_tty(question: &str) -> io::Result<String> {
    let mut tty = OpenOptions::new().read(true).write(true).open("/dev/tty")?;
    write!(tty, "{question}")?;
    tty.flush()?;
    let mut answer = String::new();
    io::BufRead::read_line(&mut io::BufReader::new(tty), &mut answer)?;
    Ok(answer)
}

/// Ask for a value on the terminal, hidden (and twice with `confirm`).
pub fn from_prompt(secret: &str, label: &str, confirm: bool) -> Result<SecretString, SourceError> {
    let mut tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| SourceError::NoTerminal {
            secret: secret.to_owned(),
        })?;
    ask(
        secret,
        label,
        confirm,
        |prompt| rpassword::prompt_password(prompt).map(Zeroizing::new),
        |message| {
            // A failed write to the terminal only loses the hint; the retry still happens.
            let _ = writeln!(tty, "{message}");
        },
    )
}

/// The prompt dialogue, apart from the terminal so tests can drive it.
pub(super) fn ask(
    secret: &str,
    label: &str,
    confirm: bool,
    mut read: impl FnMut(&str) -> io::Result<Zeroizing<String>>,
    mut say: impl FnMut(&str),
) -> Result<SecretString, SourceError> {
    let failed = |error: io::Error| SourceError::PromptFailed {
        secret: secret.to_owned(),
        detail: one_line(&error.to_string()),
    };
    for attempt in 1..=CONFIRM_ATTEMPTS {
        let first = read(&format!("{label}: ")).map_err(failed)?;
        if !confirm {
            return Ok(SecretString::from(first.as_str()));
        }
        let second = read(&format!("Confirm {label}: ")).map_err(failed)?;
        if bool::from(first.as_bytes().ct_eq(second.as_bytes())) {
            return Ok(SecretString::from(first.as_str()));
        }
        if attempt < CONFIRM_ATTEMPTS {
            say("values did not match, try again");
        }
    }
    Err(SourceError::ConfirmMismatch {
        secret: secret.to_owned(),
    })
}
