//! What the last apply wrote, per API host and repository: a keyed fingerprint of each value and
//! the `updated_at` GitHub listed for it afterwards. Never a value.
//!
//! Fingerprints are HMAC-SHA256 under a 32-byte random key kept in a separate file (`key`, mode
//! 0600) beside the state files. Someone who reads a state file alone cannot test a guessed value;
//! they would need the key too. Each fingerprint also binds the host, repository and name, so two
//! equal values elsewhere do not show up as equal fingerprints. Files are written atomically
//! (temp file + rename) with mode 0600, under an exclusive lock on a sibling `.lock` file.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::plan::{Fingerprint, Recorded};
use crate::scope::Scope;

const KEY_FILE: &str = "key";
const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("no state folder: neither --state-dir, $XDG_STATE_HOME nor $HOME is set; pass --state-dir DIR")]
    NoHome,
    #[error("state `{path}`: {reason}; {hint}")]
    Io {
        path: PathBuf,
        reason: String,
        hint: &'static str,
    },
    #[error("state file `{path}` is damaged ({reason}); delete it, and the next apply re-sends every value of that repository")]
    Corrupt { path: PathBuf, reason: String },
    #[error("state key `{path}` is damaged; delete it together with the state files beside it, and the next apply re-sends every value")]
    BadKey { path: PathBuf },
}

fn io_error(path: &Path, e: std::io::Error) -> StateError {
    use std::io::ErrorKind;
    // Permissions are the fix only when they are the cause: a file where the state folder (or
    // one of its folders) should be needs another path, not another mode.
    let hint = match e.kind() {
        ErrorKind::NotADirectory | ErrorKind::AlreadyExists => {
            "a part of that path is a file, not a folder; pass --state-dir a folder (or a path where one can be made)"
        }
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            "check its permissions, or pass --state-dir a folder you can write to"
        }
        _ => "check the path and its permissions, or pass --state-dir another folder",
    };
    StateError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
        hint,
    }
}

/// The state folder: `--state-dir`, else `$XDG_STATE_HOME/secretsync`, else `~/.local/state/secretsync`.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    version: u32,
    api: String,
    repo: String,
    secrets: Recorded,
}

impl StateDir {
    pub fn new(root: PathBuf) -> StateDir {
        StateDir { root }
    }

    pub fn locate(
        flag: Option<&Path>,
        xdg_state_home: Option<std::ffi::OsString>,
        home: Option<std::ffi::OsString>,
    ) -> Result<StateDir, StateError> {
        let root = match (flag, xdg_state_home, home) {
            (Some(dir), _, _) => dir.to_path_buf(),
            (None, Some(xdg), _) if !xdg.is_empty() => PathBuf::from(xdg).join("secretsync"),
            (None, _, Some(home)) if !home.is_empty() => {
                PathBuf::from(home).join(".local/state/secretsync")
            }
            _ => return Err(StateError::NoHome),
        };
        Ok(StateDir { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/<host>/<scope's file>`, e.g. `root/api.github.com/owner/repo.json`. Names are
    /// already restricted to safe characters (`scope`), except the port's `:`, fine in a file name.
    pub fn file(&self, host: &str, scope: &Scope) -> PathBuf {
        let host: String = host
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.root.join(host).join(scope.state_file())
    }

    /// The fingerprint key, if one exists. `plan` uses this: it never creates files.
    pub fn existing_key(&self) -> Result<Option<Fingerprinter>, StateError> {
        let path = self.root.join(KEY_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => Fingerprinter::from_hex(text.trim())
                .map(Some)
                .ok_or(StateError::BadKey { path }),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    /// The fingerprint key, made on first use. Safe when two runs race to make it: the key is
    /// written whole to a temp file and linked into place, so the loser reads the winner's key.
    pub fn key(&self) -> Result<Fingerprinter, StateError> {
        if let Some(key) = self.existing_key()? {
            return Ok(key);
        }
        create_dir(&self.root)?;
        let path = self.root.join(KEY_FILE);
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        let hex = Zeroizing::new(hex_encode(bytes.as_ref()));
        let tmp = tempfile::Builder::new()
            .prefix(".key")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .tempfile_in(&self.root)
            .map_err(|e| io_error(&self.root, e))?;
        tmp.as_file()
            .write_all(hex.as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| io_error(tmp.path(), e))?;
        match fs::hard_link(tmp.path(), &path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(&path, e)),
        }
        self.existing_key()?.ok_or(StateError::BadKey { path })
    }

    /// The records for one repository; empty when there is no file yet.
    pub fn load(&self, host: &str, scope: &Scope) -> Result<Recorded, StateError> {
        let path = self.file(host, scope);
        read_records(&path)
    }

    /// Read, change and write back one repository's records under an exclusive lock, so that
    /// concurrent applies each see the other's writes instead of overwriting them.
    pub fn update(
        &self,
        host: &str,
        scope: &Scope,
        change: impl FnOnce(&mut Recorded),
    ) -> Result<(), StateError> {
        self.lock(host, scope)?.update(change)
    }

    /// Hold one repository's lock until the guard drops. `apply` holds it from its first write
    /// to its record, so that two applies to one repository take turns: otherwise one could
    /// record the `updated_at` of the other's write against its own fingerprint.
    pub fn lock(&self, host: &str, scope: &Scope) -> Result<Locked, StateError> {
        let path = self.file(host, scope);
        let dir = path.parent().expect("a state file has a folder");
        create_dir(dir)?;
        let lock_path = path.with_extension("json.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|e| io_error(&lock_path, e))?;
        lock.lock().map_err(|e| io_error(&lock_path, e))?;
        Ok(Locked {
            _lock: lock,
            path,
            host: host.to_string(),
            repo: scope.to_string(),
        })
    }
}

/// One repository's state, locked.
pub struct Locked {
    _lock: File,
    path: PathBuf,
    host: String,
    repo: String,
}

impl Locked {
    /// Read the records as they are now, change them, and write them back atomically.
    pub fn update(&self, change: impl FnOnce(&mut Recorded)) -> Result<(), StateError> {
        let path = &self.path;
        let dir = path.parent().expect("a state file has a folder");
        let mut records = read_records(path)?;
        change(&mut records);
        let file = StateFile {
            version: FORMAT_VERSION,
            api: self.host.clone(),
            repo: self.repo.clone(),
            secrets: records,
        };
        let json = serde_json::to_vec_pretty(&file).expect("state serialises");
        let mut tmp = tempfile::Builder::new()
            .prefix(".state")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .tempfile_in(dir)
            .map_err(|e| io_error(dir, e))?;
        tmp.write_all(&json)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| io_error(path, e))?;
        tmp.persist(path).map_err(|e| io_error(path, e.error))?;
        Ok(())
    }
}

fn create_dir(dir: &Path) -> Result<(), StateError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| io_error(dir, e))
}

fn read_records(path: &Path) -> Result<Recorded, StateError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Recorded::new()),
        Err(e) => return Err(io_error(path, e)),
    };
    let file: StateFile = serde_json::from_slice(&bytes).map_err(|e| StateError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if file.version != FORMAT_VERSION {
        return Err(StateError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("format version {} is not {FORMAT_VERSION}", file.version),
        });
    }
    Ok(file.secrets)
}

/// Computes keyed fingerprints. Holds the key; has no `Debug` that could show it.
pub struct Fingerprinter {
    key: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprinter([REDACTED])")
    }
}

impl Fingerprinter {
    fn from_hex(text: &str) -> Option<Fingerprinter> {
        if text.len() != 64 {
            return None;
        }
        let key = (0..32)
            .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        Some(Fingerprinter {
            key: Zeroizing::new(key),
        })
    }

    /// A throwaway key, for a `plan` before any apply made one: its fingerprints match nothing.
    pub fn ephemeral() -> Fingerprinter {
        let mut key = Zeroizing::new(vec![0u8; 32]);
        OsRng.fill_bytes(&mut key);
        Fingerprinter { key }
    }

    #[cfg(test)]
    pub fn for_tests(key: [u8; 32]) -> Fingerprinter {
        Fingerprinter {
            key: Zeroizing::new(key.to_vec()),
        }
    }

    /// HMAC-SHA256 over host, scope, name and value, each separated by a NUL.
    pub fn fingerprint(
        &self,
        host: &str,
        scope: &Scope,
        name: &str,
        value: &SecretString,
    ) -> Fingerprint {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        for part in [
            b"secretsync-v1".as_slice(),
            host.as_bytes(),
            scope.to_string().as_bytes(),
            name.as_bytes(),
            value.expose_secret().as_bytes(),
        ] {
            mac.update(part);
            mac.update(&[0]);
        }
        Fingerprint(format!(
            "hmac-sha256:{}",
            hex_encode(&mac.finalize().into_bytes())
        ))
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Record;
    use std::os::unix::fs::PermissionsExt;

    fn repo() -> Scope {
        Scope::Repo {
            repo: crate::scope::Repo::parse("o/r").unwrap(),
            app: crate::scope::App::Actions,
        }
    }

    #[test]
    fn fingerprints_are_keyed_and_bound_to_place() {
        let a = Fingerprinter::for_tests([1; 32]);
        let b = Fingerprinter::for_tests([2; 32]);
        let v = SecretString::from("hunter2");
        let fa = a.fingerprint("h", &repo(), "N", &v);
        assert_eq!(fa, a.fingerprint("h", &repo(), "N", &v));
        assert_ne!(fa, b.fingerprint("h", &repo(), "N", &v));
        assert_ne!(fa, a.fingerprint("h", &repo(), "M", &v));
        assert_ne!(fa, a.fingerprint("h2", &repo(), "N", &v));
        assert_ne!(
            fa,
            a.fingerprint("h", &repo(), "N", &SecretString::from("hunter3"))
        );
        assert!(!fa.0.contains("hunter2"));
    }

    #[test]
    fn key_is_made_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join("s"));
        assert!(state.existing_key().unwrap().is_none());
        let k1 = state.key().unwrap();
        let k2 = state.key().unwrap();
        let v = SecretString::from("x");
        assert_eq!(
            k1.fingerprint("h", &repo(), "N", &v),
            k2.fingerprint("h", &repo(), "N", &v)
        );
        let mode = fs::metadata(dir.path().join("s/key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(dir.path().join("s"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
    }

    #[test]
    fn update_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        let rec = Record {
            fingerprint: Fingerprint("hmac-sha256:00".into()),
            updated_at: Some("t".into()),
        };
        state
            .update("127.0.0.1:9", &repo(), |r| {
                r.insert("A".into(), rec.clone());
            })
            .unwrap();
        let loaded = state.load("127.0.0.1:9", &repo()).unwrap();
        assert_eq!(loaded.get("A"), Some(&rec));
        let path = state.file("127.0.0.1:9", &repo());
        assert!(path.ends_with("127.0.0.1:9/o/r.json"));
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn concurrent_updates_keep_every_write() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        std::thread::scope(|s| {
            for t in 0..8 {
                let state = state.clone();
                s.spawn(move || {
                    for i in 0..20 {
                        state
                            .update("h", &repo(), |r| {
                                r.insert(
                                    format!("S{t}_{i}"),
                                    Record {
                                        fingerprint: Fingerprint("f".into()),
                                        updated_at: Some("t".into()),
                                    },
                                );
                            })
                            .unwrap();
                    }
                });
            }
        });
        assert_eq!(state.load("h", &repo()).unwrap().len(), 160);
    }

    #[test]
    fn damaged_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        let path = state.file("h", &repo());
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "{not json").unwrap();
        let err = state.load("h", &repo()).unwrap_err().to_string();
        assert!(
            err.contains("damaged") && err.contains("delete it"),
            "{err}"
        );
    }

    #[test]
    fn locate_order() {
        let d = StateDir::locate(None, Some("/x".into()), Some("/home/u".into())).unwrap();
        assert_eq!(d.root(), Path::new("/x/secretsync"));
        let d = StateDir::locate(None, None, Some("/home/u".into())).unwrap();
        assert_eq!(d.root(), Path::new("/home/u/.local/state/secretsync"));
        let d = StateDir::locate(Some(Path::new("/s")), Some("/x".into()), None).unwrap();
        assert_eq!(d.root(), Path::new("/s"));
        assert!(StateDir::locate(None, None, None).is_err());
    }
}
