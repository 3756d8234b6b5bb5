//! The sandbox's in-memory state: secrets per repository, tokens, injected failures, the clock
//! and the request log.

use super::*;

pub(super) struct Secret {
    pub(super) created_at: String,
    pub(super) updated_at: String,
    pub(super) ciphertext: Vec<u8>,
    pub(super) plaintext: Vec<u8>,
}

pub(super) struct Injected {
    pub(super) status: u16,
    pub(super) message: String,
}

pub(super) struct State {
    pub(super) secret_key: SecretKey,
    pub(super) public_key: PublicKey,
    pub(super) api_url: String,
    pub(super) latency: Duration,
    pub(super) tokens: HashMap<String, TokenAccess>,
    /// Lower-cased `owner/repo`; `None` = every repository exists.
    pub(super) known_repos: Option<BTreeSet<String>>,
    /// Lower-cased `owner/repo` -> upper-cased name -> secret.
    pub(super) secrets: HashMap<String, BTreeMap<String, Secret>>,
    /// Unix seconds of the latest write, so each write gets a strictly later timestamp.
    pub(super) clock: i64,
    pub(super) requests: Vec<RequestRecord>,
    /// Keyed by (lower-cased repo or "*", upper-cased name or "*").
    pub(super) write_failures: HashMap<(String, String), Injected>,
    /// Keyed by lower-cased repo or "*".
    pub(super) list_failures: HashMap<String, Injected>,
    pub(super) public_key_override: Option<String>,
}

impl State {
    pub(super) fn tick(&mut self) -> String {
        let next = chrono::Utc::now().timestamp().max(self.clock + 1);
        self.clock = next;
        chrono::DateTime::from_timestamp(next, 0)
            .expect("a timestamp near now is representable")
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    }

    pub(super) fn repo_exists(&self, repo: &str) -> bool {
        self.known_repos
            .as_ref()
            .is_none_or(|known| known.contains(repo))
    }

    pub(super) fn secret(&self, repo: &str, name: &str) -> Option<&Secret> {
        self.secrets.get(&repo_key(repo))?.get(&name.to_uppercase())
    }

    /// Stores a value, returning whether it was created (rather than updated).
    pub(super) fn store(
        &mut self,
        repo: &str,
        name: &str,
        ciphertext: Vec<u8>,
        plaintext: Vec<u8>,
    ) -> bool {
        let now = self.tick();
        let secrets = self.secrets.entry(repo.to_owned()).or_default();
        match secrets.get_mut(name) {
            Some(secret) => {
                secret.updated_at = now;
                secret.ciphertext = ciphertext;
                secret.plaintext = plaintext;
                false
            }
            None => {
                let secret = Secret {
                    created_at: now.clone(),
                    updated_at: now,
                    ciphertext,
                    plaintext,
                };
                secrets.insert(name.to_owned(), secret);
                true
            }
        }
    }

    pub(super) fn write_failure(&self, repo: &str, name: &str) -> Option<&Injected> {
        [(repo, name), ("*", name), (repo, "*"), ("*", "*")]
            .into_iter()
            .find_map(|(r, n)| self.write_failures.get(&(r.to_owned(), n.to_owned())))
    }

    pub(super) fn list_failure(&self, repo: &str) -> Option<&Injected> {
        self.list_failures
            .get(repo)
            .or_else(|| self.list_failures.get("*"))
    }
}

pub(super) type Shared = Arc<Mutex<State>>;

pub(super) fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared
        .lock()
        .expect("sandbox state mutex poisoned by a panicking thread")
}

pub(super) fn repo_key(repo: &str) -> String {
    if repo == "*" {
        repo.to_owned()
    } else {
        repo.to_lowercase()
    }
}
