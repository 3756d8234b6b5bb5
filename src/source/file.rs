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
    let too_large = || SourceError::FileTooLarge {
        secret: secret.to_owned(),
        path: path.to_owned(),
        limit: crate::source::MAX_VALUE_BYTES,
    };
    Ok(match read_text(secret, path, FILE_CAP, too_large)? {
        None => Outcome::Nothing(format!("no file `{}`", path.display())),
        Some(text) => Outcome::Value(SecretString::from(strip_newline(&text))),
    })
}

/// A regular file's text, of at most `cap` bytes (`too_large` is the error past it), or None when
/// there is no file, so a chain may go on to its next source. The `file` and `dotenv` sources
/// read through this.
pub(super) fn read_text(
    secret: &str,
    path: &Path,
    cap: usize,
    too_large: impl FnOnce() -> SourceError,
) -> Result<Option<Zeroizing<String>>, SourceError> {
    let read_error = |error: io::Error| SourceError::FileRead {
        secret: secret.to_owned(),
        path: path.to_owned(),
        detail: one_line(&error.to_string()),
    };
    let file = match open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
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
    let mut bytes = Zeroizing::new(Vec::with_capacity(cap + 1));
    file.take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() > cap {
        return Err(too_large());
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Some(Zeroizing::new(text.to_owned()))),
        Err(_) => Err(SourceError::FileNotUtf8 {
            secret: secret.to_owned(),
            path: path.to_owned(),
        }),
    }
}

/// Opening a FIFO for reading blocks until a writer comes; non-blocking, it returns at once, and
/// the type check then refuses it. Regular files read the same either way.
fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
}

fn not_regular(kind: FileType) -> Option<&'static str> {
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
