//! `file = "path"`: a value read from a file.

use std::io;
use std::path::Path;

use secrecy::SecretString;
use zeroize::Zeroizing;

use super::{one_line, strip_newline, Outcome, SourceError};

pub(super) fn from_file(secret: &str, path: &Path) -> Result<Outcome, SourceError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Ok(Outcome::Nothing(format!("no file `{}`", path.display())));
        }
        Err(error) => {
            return Err(SourceError::FileRead {
                secret: secret.to_owned(),
                path: path.to_owned(),
                detail: one_line(&error.to_string()),
            });
        }
    };
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Outcome::Value(SecretString::from(strip_newline(text)))),
        Err(_) => Err(SourceError::FileNotUtf8 {
            secret: secret.to_owned(),
            path: path.to_owned(),
        }),
    }
}
