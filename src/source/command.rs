//! `command = ["prog", "arg"]`: a value printed by a program.

use std::process::{Command, Stdio};

use secrecy::SecretString;
use zeroize::Zeroizing;

use super::{one_line, strip_newline, Outcome, SourceError, STDERR_MAX_CHARS, STDERR_MAX_LINES};

pub(super) fn from_command(secret: &str, argv: &[String]) -> Result<Outcome, SourceError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(SourceError::CommandEmpty {
            secret: secret.to_owned(),
        });
    };
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| SourceError::CommandSpawn {
            secret: secret.to_owned(),
            program: program.clone(),
            detail: one_line(&error.to_string()),
        })?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        return Err(SourceError::CommandFailed {
            secret: secret.to_owned(),
            program: program.clone(),
            status: output.status.to_string(),
            stderr: stderr_tail(&output.stderr),
        });
    }
    match std::str::from_utf8(&stdout) {
        Ok(text) => Ok(Outcome::Value(SecretString::from(strip_newline(text)))),
        Err(_) => Err(SourceError::CommandNotUtf8 {
            secret: secret.to_owned(),
            program: program.clone(),
        }),
    }
}

/// The last few lines of a command's stderr, on one line and short enough for a message.
pub(super) fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(STDERR_MAX_LINES)..].join(" / ");
    let tail = one_line(&tail);
    let count = tail.chars().count();
    if count <= STDERR_MAX_CHARS {
        tail
    } else {
        let kept: String = tail.chars().skip(count - STDERR_MAX_CHARS).collect();
        format!("...{kept}")
    }
}
