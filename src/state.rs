//! This machine's state folder: what the last apply wrote, per API host and scope (a keyed
//! fingerprint of each value and the `updated_at` GitHub listed for it afterwards; never a
//! value), the write-ahead intents, the locks, and the fingerprint keys. With `[state] store =
//! "github"` the records live in GitHub instead (`shared_state`); intents and locks stay here.
//! Its `http_cache/` folder belongs to `github::cache` (listings' ETags), not to this module.
//!
//! Fingerprints are HMAC-SHA256 under a 32-byte random key kept in a separate file (`key`, mode
//! 0600) beside the state files. Someone who reads a state file alone cannot test a guessed value;
//! they would need the key too. Each fingerprint also binds the host, repository and name, so two
//! equal values elsewhere do not show up as equal fingerprints. Files are written atomically
//! (temp file + rename) with mode 0600, under an exclusive lock on a sibling `.lock` file.
//!
//! Before an apply sends a secret it records an intent (the fingerprint it is about to send, and
//! when), so that a write whose record is lost (a crash, a kill, a failed record) is known as
//! ours and never reported as someone else's drift (see `plan::settle`).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::plan::{Fingerprint, Intents, Recorded};
use crate::scope::{self, Scope};

const KEY_FILE: &str = "key";
const FORMAT_VERSION: u32 = 1;

/// The shortest team key accepted: guessing one must be out of reach.
pub const MIN_TEAM_KEY_CHARS: usize = 32;

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
    #[error("state key `{path}` is open to other users (mode {mode:03o}); run `chmod 600 {path}`")]
    KeyExposed { path: PathBuf, mode: u32 },
    #[error("state file `{path}` records `{recorded}`, not `{expected}`; move it away, and the next apply re-sends the values of `{expected}`")]
    Mismatch {
        path: PathBuf,
        recorded: String,
        expected: String,
    },
    #[error("state lock `{path}` is a symbolic link, which secretsync does not follow; remove it (`rm {path}`) and run again")]
    LockIsLink { path: PathBuf },
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
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    intents: Intents,
}

/// One scope's state: what was recorded, and the writes begun but not recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    pub records: Recorded,
    pub intents: Intents,
}

/// How often a run waiting for another apply's lock looks again.
const LOCK_POLL: Duration = Duration::from_millis(50);

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

    /// `root/<host>/<scope's file>`, e.g. `root/api.github.com/owner/repo/actions.json`: one
    /// file per scope, never shared (`scope::host_folder`, `Scope::state_file`).
    pub fn file(&self, host: &str, scope: &Scope) -> PathBuf {
        self.root
            .join(scope::host_folder(host))
            .join(scope.state_file())
    }

    /// Where earlier releases kept the file, read while the new one is absent.
    fn legacy_file(&self, host: &str, scope: &Scope) -> PathBuf {
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
        self.root.join(host).join(scope.legacy_state_file())
    }

    /// The fingerprint key, if one exists. `plan` uses this: it never makes a key. A key
    /// others may read is refused, as ssh refuses such a private key.
    pub fn existing_key(&self) -> Result<Option<Fingerprinter>, StateError> {
        let path = self.root.join(KEY_FILE);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path, e)),
        };
        let metadata = file.metadata().map_err(|e| io_error(&path, e))?;
        if let Some(mode) = crate::perms::open_mode(&metadata) {
            return Err(StateError::KeyExposed { path, mode });
        }
        let mut text = Zeroizing::new(String::new());
        file.read_to_string(&mut text)
            .map_err(|e| io_error(&path, e))?;
        Fingerprinter::from_hex(text.trim())
            .map(Some)
            .ok_or(StateError::BadKey { path })
    }

    /// The fingerprint key, made on first use. Safe when two runs race to make it: the key is
    /// written whole to a temp file and linked into place, so the loser reads the winner's key.
    pub fn key(&self) -> Result<Fingerprinter, StateError> {
        if let Some(key) = self.existing_key()? {
            return Ok(key);
        }
        create_dir(&self.root)?;
        let path = self.root.join(KEY_FILE);
        let hex = Fingerprinter::new_key_text();
        let tmp = tempfile::Builder::new()
            .prefix(".key")
            .permissions(fs::Permissions::from_mode(0o600))
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

    /// One scope's records and intents; empty when there is no file yet. A file others may
    /// read gets a warning (the next apply writes it back with mode 0600).
    pub fn load(&self, host: &str, scope: &Scope) -> Result<Loaded, StateError> {
        let path = self.file(host, scope);
        if let Some(mode) = crate::perms::open_to_others(&path).filter(|_| path.is_file()) {
            eprintln!(
                "warning: state file `{}` is open to other users (mode {mode:03o}); run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
        self.read(host, scope)
    }

    /// The new file; while it is absent, the old layout's file if it records this very scope.
    fn read(&self, host: &str, scope: &Scope) -> Result<Loaded, StateError> {
        let path = self.file(host, scope);
        if let Some(loaded) = read_state(&path, host, scope)? {
            return Ok(loaded);
        }
        let legacy = self.legacy_file(host, scope);
        match read_state(&legacy, host, scope) {
            Ok(found) => Ok(found.unwrap_or_default()),
            // The old layout let two scopes share a file: one that records another scope is
            // not this scope's, and is left alone.
            Err(StateError::Mismatch { recorded, .. }) => {
                tracing::warn!(path = %legacy.display(), %recorded, expected = %scope, "old state file ignored: it records another scope");
                Ok(Loaded::default())
            }
            Err(e) => Err(e),
        }
    }

    /// Read, change and write back one scope's state under its lock, if no other run holds
    /// it; `Ok(false)` when one does (the change is then left to a later run).
    pub fn try_update(
        &self,
        host: &str,
        scope: &Scope,
        change: impl FnOnce(&mut Loaded),
    ) -> Result<bool, StateError> {
        let (file, path, lock_path) = self.open_lock(host, scope)?;
        if !try_lock(&file, &lock_path)? {
            return Ok(false);
        }
        self.locked(file, path, host, scope).update(change)?;
        Ok(true)
    }

    /// Lock every scope's state, in one global order (by path under the root, the same in
    /// every run), so that runs with overlapping targets take turns instead of each holding
    /// what the other waits for. Polls without blocking the runtime; says once on stderr what
    /// it waits for. `Ok(None)` when `stop` was raised while waiting: nothing is held then.
    pub async fn lock_all(
        &self,
        host: &str,
        scopes: &[&Scope],
        stop: &AtomicBool,
    ) -> Result<Option<BTreeMap<Scope, Locked>>, StateError> {
        let mut order: Vec<(PathBuf, &Scope)> =
            scopes.iter().map(|s| (self.file(host, s), *s)).collect();
        order.sort();
        order.dedup_by(|a, b| a.0 == b.0);
        let mut held = BTreeMap::new();
        for (_, scope) in order {
            let (file, path, lock_path) = self.open_lock(host, scope)?;
            let mut told = false;
            while !try_lock(&file, &lock_path)? {
                if stop.load(Ordering::SeqCst) {
                    return Ok(None);
                }
                if !told {
                    eprintln!(
                        "waiting for another secretsync run to finish with `{}`",
                        path.display()
                    );
                    told = true;
                }
                tokio::time::sleep(LOCK_POLL).await;
            }
            held.insert(scope.clone(), self.locked(file, path, host, scope));
        }
        Ok(Some(held))
    }

    /// Open (making it if needed) the scope's lock file, never through a symbolic link.
    fn open_lock(&self, host: &str, scope: &Scope) -> Result<(File, PathBuf, PathBuf), StateError> {
        let path = self.file(host, scope);
        let dir = path.parent().expect("a state file has a folder");
        create_dir(dir)?;
        let lock_path = path.with_extension("json.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&lock_path);
        match lock {
            Ok(lock) => Ok((lock, path, lock_path)),
            Err(_)
                if fs::symlink_metadata(&lock_path).is_ok_and(|m| m.file_type().is_symlink()) =>
            {
                Err(StateError::LockIsLink { path: lock_path })
            }
            Err(e) => Err(io_error(&lock_path, e)),
        }
    }

    fn locked(&self, lock: File, path: PathBuf, host: &str, scope: &Scope) -> Locked {
        Locked {
            _lock: lock,
            path,
            state: self.clone(),
            host: host.to_string(),
            scope: scope.clone(),
        }
    }

    /// Hold one scope's lock, waiting as long as it takes; for tests of the locking itself.
    #[cfg(test)]
    fn lock_blocking(&self, host: &str, scope: &Scope) -> Result<Locked, StateError> {
        let (file, path, lock_path) = self.open_lock(host, scope)?;
        file.lock().map_err(|e| io_error(&lock_path, e))?;
        Ok(self.locked(file, path, host, scope))
    }
}

/// One scope's state, locked.
pub struct Locked {
    _lock: File,
    path: PathBuf,
    state: StateDir,
    host: String,
    scope: Scope,
}

impl Locked {
    /// Read the state as it is now, change it, and write it back atomically.
    pub fn update(&self, change: impl FnOnce(&mut Loaded)) -> Result<(), StateError> {
        let path = &self.path;
        let dir = path.parent().expect("a state file has a folder");
        let mut loaded = self.state.read(&self.host, &self.scope)?;
        change(&mut loaded);
        let file = StateFile {
            version: FORMAT_VERSION,
            api: self.host.clone(),
            repo: self.scope.to_string(),
            secrets: loaded.records,
            intents: loaded.intents,
        };
        let json = serde_json::to_vec_pretty(&file).expect("state serialises");
        let mut tmp = tempfile::Builder::new()
            .prefix(".state")
            .permissions(fs::Permissions::from_mode(0o600))
            .tempfile_in(dir)
            .map_err(|e| io_error(dir, e))?;
        tmp.write_all(&json)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| io_error(path, e))?;
        tmp.persist(path).map_err(|e| io_error(path, e.error))?;
        Ok(())
    }
}

/// Take the lock unless another run holds it (`Ok(false)`).
fn try_lock(file: &File, lock_path: &Path) -> Result<bool, StateError> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        Err(TryLockError::Error(e)) => Err(io_error(lock_path, e)),
    }
}

fn create_dir(dir: &Path) -> Result<(), StateError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| io_error(dir, e))
}

/// A state file, checked to be this scope's; `None` when there is none.
fn read_state(path: &Path, host: &str, scope: &Scope) -> Result<Option<Loaded>, StateError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
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
    let expected = scope.to_string();
    if file.repo != expected || file.api != host {
        return Err(StateError::Mismatch {
            path: path.to_path_buf(),
            recorded: format!("{} at {}", file.repo, file.api),
            expected: format!("{expected} at {host}"),
        });
    }
    Ok(Some(Loaded {
        records: file.secrets,
        intents: file.intents,
    }))
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

    /// The team's key for a shared record (`[state] key`): any text of at least
    /// [`MIN_TEAM_KEY_CHARS`] characters, stretched to 32 bytes by HMAC under a fixed label so
    /// that the same text gives the same key on every machine.
    pub fn from_team_key(text: &SecretString) -> Option<Fingerprinter> {
        let text = text.expose_secret().trim();
        if text.chars().count() < MIN_TEAM_KEY_CHARS {
            return None;
        }
        let mut mac =
            Hmac::<Sha256>::new_from_slice(text.as_bytes()).expect("HMAC takes any key length");
        mac.update(b"secretsync-team-key-v1");
        Some(Fingerprinter {
            key: Zeroizing::new(mac.finalize().into_bytes().to_vec()),
        })
    }

    /// A MAC of a fixed label: tells whether a shared record was written with this key, and
    /// nothing about the key or any value.
    pub fn key_check(&self) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"secretsync-key-check-v1");
        format!("hmac-sha256:{}", hex_encode(&mac.finalize().into_bytes()))
    }

    /// 32 new random bytes as hex: this machine's key file, or a team key to keep in a secret
    /// store.
    pub fn new_key_text() -> Zeroizing<String> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        Zeroizing::new(hex_encode(bytes.as_ref()))
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
            .lock_blocking("127.0.0.1:9", &repo())
            .unwrap()
            .update(|l| {
                l.records.insert("A".into(), rec.clone());
            })
            .unwrap();
        let loaded = state.load("127.0.0.1:9", &repo()).unwrap();
        assert_eq!(loaded.records.get("A"), Some(&rec));
        let path = state.file("127.0.0.1:9", &repo());
        assert!(path.ends_with("127.0.0.1:9/o/r/actions.json"));
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
                            .lock_blocking("h", &repo())
                            .unwrap()
                            .update(|l| {
                                l.records.insert(
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
        assert_eq!(state.load("h", &repo()).unwrap().records.len(), 160);
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

    fn record(updated_at: &str) -> Record {
        Record {
            fingerprint: Fingerprint("hmac-sha256:00".into()),
            updated_at: Some(updated_at.into()),
        }
    }

    fn write_legacy(state: &StateDir, scope: &Scope, recorded_as: &Scope) {
        let path = state.legacy_file("h", scope);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let file = StateFile {
            version: FORMAT_VERSION,
            api: "h".into(),
            repo: recorded_as.to_string(),
            secrets: [("A".to_string(), record("t"))].into(),
            intents: Intents::new(),
        };
        fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
    }

    /// The old layout's file is read while the new one is absent, only for the scope it
    /// records; the next write goes to the new layout.
    #[test]
    fn old_layout_is_migrated_only_for_its_own_scope() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        write_legacy(&state, &repo(), &repo());
        assert_eq!(state.load("h", &repo()).unwrap().records["A"], record("t"));
        let env = Scope::Environment {
            repo: crate::scope::Repo::parse("o/r").unwrap(),
            environment: "prod".into(),
        };
        let lookalike = Scope::Repo {
            repo: crate::scope::Repo::parse("o/r.env.prod").unwrap(),
            app: crate::scope::App::Actions,
        };
        write_legacy(&state, &env, &lookalike);
        assert!(state.load("h", &env).unwrap().records.is_empty());
        assert_eq!(
            state.load("h", &lookalike).unwrap().records["A"],
            record("t")
        );
        state
            .lock_blocking("h", &repo())
            .unwrap()
            .update(|l| {
                l.records.insert("B".into(), record("u"));
            })
            .unwrap();
        let text = fs::read_to_string(state.file("h", &repo())).unwrap();
        assert!(text.contains("\"A\"") && text.contains("\"B\""), "{text}");
    }

    #[test]
    fn a_file_recording_another_scope_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        let other = Scope::Repo {
            repo: crate::scope::Repo::parse("o/other").unwrap(),
            app: crate::scope::App::Actions,
        };
        state
            .lock_blocking("h", &other)
            .unwrap()
            .update(|l| {
                l.records.insert("A".into(), record("t"));
            })
            .unwrap();
        let path = state.file("h", &repo());
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::copy(state.file("h", &other), &path).unwrap();
        let err = state.load("h", &repo()).unwrap_err().to_string();
        assert!(
            err.contains("records `o/other at h`, not `o/r at h`") && !err.contains('\n'),
            "{err}"
        );
    }

    #[test]
    fn a_key_open_to_others_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        state.key().unwrap();
        let path = dir.path().join("key");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = state.existing_key().unwrap_err().to_string();
        assert!(
            err.contains("mode 644") && err.contains(&format!("chmod 600 {}", path.display())),
            "{err}"
        );
        assert!(state.key().is_err());
    }

    #[test]
    fn a_lock_file_that_is_a_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        let path = state.file("h", &repo());
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let target = dir.path().join("elsewhere");
        let lock = path.with_extension("json.lock");
        std::os::unix::fs::symlink(&target, &lock).unwrap();
        let err = state.try_update("h", &repo(), |_| {}).unwrap_err();
        assert!(matches!(err, StateError::LockIsLink { .. }), "{err}");
        assert!(err.to_string().contains("rm "), "{err}");
        assert!(!target.exists(), "the link was followed");
    }

    /// Two runs lock overlapping scopes given in opposite orders: both finish.
    #[test]
    fn lock_all_takes_overlapping_locks_in_one_order() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        let a = repo();
        let b = Scope::Repo {
            repo: crate::scope::Repo::parse("o/s").unwrap(),
            app: crate::scope::App::Actions,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let stop = AtomicBool::new(false);
        runtime.block_on(async {
            let orders: [&[&Scope]; 2] = [&[&a, &b], &[&b, &a]];
            let runs = orders.map(|scopes| {
                let state = state.clone();
                let stop = &stop;
                async move {
                    for _ in 0..20 {
                        let held = state.lock_all("h", scopes, stop).await.unwrap().unwrap();
                        assert_eq!(held.len(), 2);
                        tokio::task::yield_now().await;
                    }
                }
            });
            futures::future::join_all(runs).await;
        });
        let held = state.try_update("h", &a, |_| {}).unwrap();
        assert!(held, "the locks were released");
    }

    #[test]
    fn waiting_for_a_lock_ends_when_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        let _held = state.lock_blocking("h", &repo()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let stop = AtomicBool::new(true);
        let got = runtime
            .block_on(state.lock_all("h", &[&repo()], &stop))
            .unwrap();
        assert!(got.is_none());
    }
}
