//! `file = "path"`: a value read from a regular file, up to the size of a value. Anything else
//! (a FIFO that would block, `/dev/zero` that never ends, a directory) is refused before reading.

use std::fs::{File, FileType, OpenOptions};
use std::io::{self, Read as _};
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::Path;

use secrecy::SecretString;
use zeroize::Zeroizing;

use super::{one_line, strip_newline, Outcome, SourceError};

/// GitHub's limit for a value, plus the line break that is stripped.
const FILE_CAP: usize = crate::source::MAX_VALUE_BYTES + 2;

pub(super) fn from_file(secret: &str, path: &Path) -> Result<Outcome, SourceError> {
    let read_error = |error: io::Error| SourceError::FileRead {
        secret: secret.to_owned(),
        path: path.to_owned(),
        detail: one_line(&error.to_string()),
    };
    let file = match open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Ok(Outcome::Nothing(format!("no file `{}`", path.display())));
        }
        Err(error) => return Err(read_error(error)),
    };
    // Checked on the open file, not the path, so nothing can be swapped in between.
    let kind = file.metadata().map_err(read_error)?.file_type();
    if let Some(what) = not_regular(kind) {
        return Err(SourceError::FileNotRegular {
            secret: secret.to_owned(),
            path: path.to_owned(),
            what,
        });
    }
    // Sized up front: a grown Vec would leave unzeroised copies of the value behind.
    let mut bytes = Zeroizing::new(Vec::with_capacity(FILE_CAP + 1));
    file.take(FILE_CAP as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() > FILE_CAP {
        return Err(SourceError::FileTooLarge {
            secret: secret.to_owned(),
            path: path.to_owned(),
            limit: crate::source::MAX_VALUE_BYTES,
        });
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Outcome::Value(SecretString::from(strip_newline(text)))),
        Err(_) => Err(SourceError::FileNotUtf8 {
            secret: secret.to_owned(),
            path: path.to_owned(),
        }),
    }
}

/// Opening a FIFO for reading blocks until a writer comes; non-blocking, it returns at once, and
/// the type check then refuses it. Regular files read the same either way.
pub(super) fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
}

pub(super) fn not_regular(kind: FileType) -> Option<&'static str> {
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        Some("a special file")
    }
}
