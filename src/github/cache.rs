//! The conditional-GET cache: for each listing URL, the `ETag` of its last 200 answer and the
//! page that came with it, so the next run can send `If-None-Match` and, on GitHub's 304, use
//! the page it already has. A 304 costs nothing of the primary rate limit, so a run that changes
//! nothing spends none of it.
//!
//! One file per URL under the state folder's `http_cache/`, named by a hash of the URL, written
//! whole (temp file + rename, mode 0600). It holds what listings show: names, timestamps, ids,
//! variable values (which are not secret); never a token or a secret value. It is a cache, not a
//! record: a file that cannot be read, is damaged or is another URL's is ignored (the request goes
//! out plain), and a file that cannot be written costs the next run one full answer.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The folder's name under the state folder. `_` is always encoded in a host's folder name
/// (`scope::host_folder`), so no API host's records can land here.
pub const FOLDER: &str = "http_cache";

const VERSION: u32 = 1;

/// A cache file larger than this is not one we wrote: every page is bounded well below it.
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// One listing page as last answered in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub etag: String,
    pub body: String,
    /// The page's `rel="next"` link: a 304 need not repeat the `Link` header.
    pub next: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    version: u32,
    /// The URL the entry answers: a file copied or renamed onto another URL's name is not used.
    url: String,
    #[serde(flatten)]
    entry: Entry,
}

/// The cache folder of one state folder.
#[derive(Debug, Clone)]
pub struct HttpCache {
    dir: PathBuf,
}

impl HttpCache {
    /// The cache under `state_root` (made on the first write, not here).
    pub fn in_state_folder(state_root: &Path) -> HttpCache {
        HttpCache {
            dir: state_root.join(FOLDER),
        }
    }

    /// Where `url`'s entry lives: a URL holds characters no file name may.
    pub fn file(&self, url: &str) -> PathBuf {
        let digest = Sha256::digest(url.as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.json"))
    }

    /// `url`'s entry, if a whole and valid one is kept for it.
    pub fn get(&self, url: &str) -> Option<Entry> {
        let path = self.file(url);
        let mut bytes = Vec::new();
        let read = fs::File::open(&path)
            .and_then(|file| file.take(MAX_FILE_BYTES).read_to_end(&mut bytes));
        if let Err(e) = read {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::info!(path = %path.display(), "ignoring an unreadable cache file: {e}");
            }
            return None;
        }
        let file: CacheFile = match serde_json::from_slice(&bytes) {
            Ok(file) => file,
            Err(e) => {
                tracing::info!(path = %path.display(), "ignoring a damaged cache file: {e}");
                return None;
            }
        };
        let usable = file.version == VERSION
            && file.url == url
            && http::HeaderValue::from_str(&file.entry.etag).is_ok()
            && !file.entry.etag.is_empty();
        if !usable {
            tracing::info!(path = %path.display(), "ignoring a cache file of another URL or version");
            return None;
        }
        Some(file.entry)
    }

    /// Keep `entry` for `url`. A failure only costs a full answer next time: logged for `-v`.
    pub fn put(&self, url: &str, entry: &Entry) {
        if let Err(e) = self.write(url, entry) {
            tracing::info!(dir = %self.dir.display(), "could not keep a listing in the cache: {e}");
        }
    }

    /// Drop `url`'s entry, so the next request for it goes out plain.
    pub fn forget(&self, url: &str) {
        let path = self.file(url);
        if let Err(e) = fs::remove_file(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::info!(path = %path.display(), "could not remove a cache file: {e}");
            }
        }
    }

    fn write(&self, url: &str, entry: &Entry) -> std::io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        let file = CacheFile {
            version: VERSION,
            url: url.to_owned(),
            entry: entry.clone(),
        };
        let json = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".entry")
            .permissions(fs::Permissions::from_mode(0o600))
            .tempfile_in(&self.dir)?;
        tmp.write_all(&json)?;
        tmp.persist(self.file(url)).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            etag: "\"abc\"".into(),
            body: r#"{"total_count":0,"secrets":[]}"#.into(),
            next: Some("http://h/next?page=2".into()),
        }
    }

    #[test]
    fn round_trips_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HttpCache::in_state_folder(dir.path());
        let url = "http://h/repos/o/r/actions/secrets?per_page=100";
        assert_eq!(cache.get(url), None);
        cache.put(url, &entry());
        assert_eq!(cache.get(url), Some(entry()));
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cache.dir), 0o700);
        assert_eq!(mode(&cache.file(url)), 0o600);
        cache.forget(url);
        assert_eq!(cache.get(url), None);
    }

    #[test]
    fn damaged_or_foreign_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HttpCache::in_state_folder(dir.path());
        let (a, b) = ("http://h/a?per_page=100", "http://h/b?per_page=100");
        cache.put(a, &entry());
        let whole = fs::read(cache.file(a)).unwrap();
        // Another URL's file under this URL's name.
        fs::write(cache.file(b), &whole).unwrap();
        assert_eq!(cache.get(b), None);
        for damaged in [&whole[..whole.len() / 2], b"\x00\xffgarbage", b""] {
            fs::write(cache.file(a), damaged).unwrap();
            assert_eq!(cache.get(a), None);
        }
        // An ETag that cannot be a header is never sent.
        let mut bad = entry();
        bad.etag = "\"a\nb\"".into();
        cache.put(a, &bad);
        assert_eq!(cache.get(a), None);
    }

    #[test]
    fn a_failed_write_is_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the folder should be.
        fs::write(dir.path().join(FOLDER), b"").unwrap();
        let cache = HttpCache::in_state_folder(dir.path());
        cache.put("http://h/a", &entry());
        assert_eq!(cache.get("http://h/a"), None);
    }
}
