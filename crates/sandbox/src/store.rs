//! The sandbox's in-memory state: repositories (with ids), organizations, environments, keypairs,
//! secrets and variables per scope, tokens, injected failures, limits, the clock and the request
//! log.

use super::limits::Limits;
use super::named::Named;
use super::traffic::{Answered, Arrival};
use super::*;

/// How GitHub writes `updated_at` and `created_at`: RFC 3339, UTC, whole seconds.
const UPDATED_AT: &str = "%Y-%m-%dT%H:%M:%SZ";

pub(super) struct Secret {
    pub(super) created_at: String,
    pub(super) updated_at: String,
    pub(super) ciphertext: Vec<u8>,
    pub(super) plaintext: Vec<u8>,
    /// Organization scopes only.
    pub(super) access: Option<Access>,
}

pub(super) struct Variable {
    pub(super) value: String,
    pub(super) created_at: String,
    pub(super) updated_at: String,
    /// Organization scopes only.
    pub(super) access: Option<Access>,
}

/// Which repositories of an organization see an org secret or variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Access {
    pub(super) visibility: Visibility,
    /// Repository ids; empty unless `visibility` is `Selected`.
    pub(super) selected: BTreeSet<u64>,
}

impl Access {
    pub(super) fn all() -> Access {
        Access {
            visibility: Visibility::All,
            selected: BTreeSet::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Visibility {
    All,
    Private,
    Selected,
}

impl Visibility {
    pub(super) fn parse(text: &str) -> Option<Visibility> {
        match text {
            "all" => Some(Visibility::All),
            "private" => Some(Visibility::Private),
            "selected" => Some(Visibility::Selected),
            _ => None,
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Visibility::All => "all",
            Visibility::Private => "private",
            Visibility::Selected => "selected",
        }
    }
}

pub(super) struct Keypair {
    pub(super) key_id: String,
    pub(super) secret: SecretKey,
    pub(super) public: PublicKey,
}

pub(super) struct RepoInfo {
    pub(super) id: u64,
    /// `owner/name` as first seen.
    pub(super) full_name: String,
}

impl RepoInfo {
    pub(super) fn owner(&self) -> &str {
        self.full_name.split_once('/').map_or("", |(o, _)| o)
    }

    pub(super) fn name(&self) -> &str {
        self.full_name.split_once('/').map_or("", |(_, n)| n)
    }
}

pub(super) struct EnvInfo {
    pub(super) id: u64,
    /// As first created.
    pub(super) name: String,
    /// RFC 3339, whole seconds: GitHub's environment answers carry it.
    pub(super) created_at: String,
}

pub(super) struct Injected {
    pub(super) status: u16,
    pub(super) message: String,
}

pub(super) struct State {
    /// The keypair of every repository's Actions secrets (`KEY_ID`); kept for compatibility with
    /// [`Sandbox::secret_key_bytes`].
    pub(super) secret_key: SecretKey,
    pub(super) public_key: PublicKey,
    /// Every other scope's keypair, made on first use; keyed by normalized scope.
    pub(super) scope_keys: HashMap<Scope, Keypair>,
    pub(super) api_url: String,
    /// Where paging links point instead of `api_url`: see [`Sandbox::set_link_origin`].
    pub(super) link_origin: Option<String>,
    pub(super) latency: Duration,
    pub(super) tokens: HashMap<String, TokenAccess>,
    /// Tokens registered with a kind; others take theirs from their access (see [`TokenKind`]).
    pub(super) token_kinds: HashMap<String, TokenKind>,
    /// Lower-cased `owner/repo`; `None` = every repository exists.
    pub(super) known_repos: Option<BTreeSet<String>>,
    /// Lower-cased `owner/repo` -> id and name, for every repository seen so far.
    pub(super) repos: BTreeMap<String, RepoInfo>,
    /// Lower-cased organizations added with [`Sandbox::add_org`].
    pub(super) orgs: BTreeSet<String>,
    /// Lower-cased `owner/repo` whose user is no admin: see [`Sandbox::set_repo_admin`].
    pub(super) not_admin: BTreeSet<String>,
    /// Lower-cased organization -> id, given on first `GET /orgs/{org}`.
    pub(super) org_ids: BTreeMap<String, u64>,
    /// (lower-cased `owner/repo`, lower-cased environment) -> environment.
    pub(super) environments: BTreeMap<(String, String), EnvInfo>,
    /// Shared by repositories, environments and keys, so every id is distinct.
    pub(super) next_id: u64,
    /// Normalized scope -> upper-cased name -> secret.
    pub(super) secrets: Named<Secret>,
    /// Normalized scope -> upper-cased name -> variable.
    pub(super) variables: Named<Variable>,
    /// Unix seconds of the latest time given out, so the clock never goes back.
    pub(super) clock: i64,
    /// Seconds added to the wall clock: see [`Sandbox::advance_clock`].
    pub(super) clock_offset: i64,
    /// The second the clock is stopped at: see [`Sandbox::pin_clock`].
    pub(super) clock_pinned: Option<i64>,
    /// Every request as it arrived, in arrival order.
    pub(super) arrivals: Vec<Arrival>,
    /// Every request as it was answered, in answer order.
    pub(super) answered: Vec<Answered>,
    /// Keyed by (lower-cased repo/org or "*", upper-cased name or "*").
    pub(super) write_failures: HashMap<(String, String), Injected>,
    /// Keyed by lower-cased repo/org or "*".
    pub(super) list_failures: HashMap<String, Injected>,
    #[cfg(feature = "contract")]
    pub(super) contract: super::contract::Run,
    pub(super) public_key_override: Option<String>,
    pub(super) limits: Limits,
    /// Scripted faults: see [`Sandbox::inject_fault`].
    pub(super) faults: super::faults::Faults,
}

/// Lower-cases the parts GitHub matches case-insensitively.
pub(super) fn normalize(scope: &Scope) -> Scope {
    match scope {
        Scope::Repo(r) => Scope::Repo(r.to_lowercase()),
        Scope::Environment(r, e) => Scope::Environment(r.to_lowercase(), e.to_lowercase()),
        Scope::Org(o) => Scope::Org(o.to_lowercase()),
        Scope::DependabotRepo(r) => Scope::DependabotRepo(r.to_lowercase()),
        Scope::DependabotOrg(o) => Scope::DependabotOrg(o.to_lowercase()),
    }
}

pub(super) fn is_org_scope(scope: &Scope) -> bool {
    matches!(scope, Scope::Org(_) | Scope::DependabotOrg(_))
}

/// The repository (`owner/repo`) or organization a scope lives in, lower-cased.
pub(super) fn location(scope: &Scope) -> String {
    match scope {
        Scope::Repo(r)
        | Scope::Environment(r, _)
        | Scope::DependabotRepo(r)
        | Scope::Org(r)
        | Scope::DependabotOrg(r) => r.to_lowercase(),
    }
}

impl State {
    pub(super) fn new(config: &SandboxConfig, api_url: String) -> State {
        let secret_key = SecretKey::generate(&mut OsRng);
        let mut state = State {
            public_key: secret_key.public_key(),
            secret_key,
            scope_keys: HashMap::new(),
            api_url,
            link_origin: None,
            latency: config.latency,
            tokens: HashMap::from([(config.token.clone(), TokenAccess::Full)]),
            token_kinds: HashMap::new(),
            known_repos: config
                .repos
                .as_ref()
                .map(|repos| repos.iter().map(|r| r.to_lowercase()).collect()),
            repos: BTreeMap::new(),
            orgs: BTreeSet::new(),
            not_admin: BTreeSet::new(),
            org_ids: BTreeMap::new(),
            environments: BTreeMap::new(),
            next_id: 100_001,
            secrets: HashMap::new(),
            variables: HashMap::new(),
            clock: 0,
            clock_offset: 0,
            clock_pinned: None,
            arrivals: Vec::new(),
            answered: Vec::new(),
            write_failures: HashMap::new(),
            list_failures: HashMap::new(),
            #[cfg(feature = "contract")]
            contract: Default::default(),
            public_key_override: None,
            limits: Limits::new(Instant::now()),
            faults: Default::default(),
        };
        // Configured repositories get their ids up front, in name order.
        for repo in config.repos.iter().flatten() {
            state.ensure_repo(repo);
        }
        state
    }

    /// GitHub's clock: the wall clock's second (moved by a test's offset or pin), never earlier
    /// than a time already given. Two writes in the same second get the same `updated_at`, as on
    /// GitHub.
    fn now(&self) -> i64 {
        let wall = chrono::Utc::now().timestamp() + self.clock_offset;
        self.clock_pinned.unwrap_or(wall).max(self.clock)
    }

    /// The `Date` of an answer sent now, on the clock `updated_at` is read from: as GitHub's,
    /// never earlier than any write already answered, so a client may take it as an upper bound
    /// on its own write's `updated_at`.
    pub(super) fn date(&self) -> HeaderValue {
        let text = stamp(self.now(), "%a, %d %b %Y %H:%M:%S GMT");
        HeaderValue::from_str(&text).expect("an HTTP date is a valid header value")
    }

    /// The `updated_at` of a write made now.
    pub(super) fn tick(&mut self) -> String {
        self.clock = self.now();
        stamp(self.clock, UPDATED_AT)
    }

    /// Moves the clock `seconds` on, pinned or not.
    pub(super) fn advance_clock(&mut self, seconds: i64) {
        match &mut self.clock_pinned {
            Some(pinned) => *pinned += seconds,
            None => self.clock_offset += seconds,
        }
    }

    fn fresh_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Whether `repo` (`owner/repo`, any case) exists.
    pub(super) fn repo_exists(&self, repo: &str) -> bool {
        let repo = repo.to_lowercase();
        self.known_repos
            .as_ref()
            .is_none_or(|known| known.contains(&repo))
    }

    /// Makes `repo` exist (if repositories are restricted) and gives it an id; returns the id.
    pub(super) fn ensure_repo(&mut self, repo: &str) -> u64 {
        let key = repo.to_lowercase();
        if let Some(known) = &mut self.known_repos {
            known.insert(key.clone());
        }
        if let Some(info) = self.repos.get(&key) {
            return info.id;
        }
        let id = self.fresh_id();
        let info = RepoInfo {
            id,
            full_name: repo.to_owned(),
        };
        self.repos.insert(key, info);
        id
    }

    pub(super) fn repo(&self, repo: &str) -> Option<&RepoInfo> {
        self.repos.get(&repo.to_lowercase())
    }

    pub(super) fn repo_by_id(&self, id: u64) -> Option<&RepoInfo> {
        self.repos.values().find(|info| info.id == id)
    }

    pub(super) fn org_exists(&self, org: &str) -> bool {
        let org = org.to_lowercase();
        match &self.known_repos {
            None => true,
            Some(known) => {
                self.orgs.contains(&org)
                    || known
                        .iter()
                        .any(|r| r.split_once('/').is_some_and(|(o, _)| o == org))
            }
        }
    }

    /// The organization's stable id, given on first use.
    pub(super) fn org_id(&mut self, org: &str) -> u64 {
        let key = org.to_lowercase();
        if let Some(id) = self.org_ids.get(&key) {
            return *id;
        }
        let id = self.fresh_id();
        self.org_ids.insert(key, id);
        id
    }

    /// The organization's repositories that have ids, sorted by name.
    pub(super) fn org_repos(&self, org: &str) -> Vec<&RepoInfo> {
        let org = org.to_lowercase();
        let mut repos: Vec<&RepoInfo> = self
            .repos
            .values()
            .filter(|info| info.owner().to_lowercase() == org && self.repo_exists(&info.full_name))
            .collect();
        repos.sort_by_key(|info| info.name().to_lowercase());
        repos
    }

    pub(super) fn environment(&self, repo: &str, env: &str) -> Option<&EnvInfo> {
        self.environments
            .get(&(repo.to_lowercase(), env.to_lowercase()))
    }

    /// Creates the environment if needed; returns its id.
    pub(super) fn ensure_environment(&mut self, repo: &str, env: &str) -> u64 {
        let key = (repo.to_lowercase(), env.to_lowercase());
        if let Some(info) = self.environments.get(&key) {
            return info.id;
        }
        let id = self.fresh_id();
        let info = EnvInfo {
            id,
            name: env.to_owned(),
            created_at: stamp(self.now(), UPDATED_AT),
        };
        self.environments.insert(key, info);
        id
    }

    /// Whether the scope's repository, environment or organization exists.
    pub(super) fn scope_exists(&self, scope: &Scope) -> bool {
        match scope {
            Scope::Repo(r) | Scope::DependabotRepo(r) => self.repo_exists(r),
            Scope::Environment(r, e) => self.repo_exists(r) && self.environment(r, e).is_some(),
            Scope::Org(o) | Scope::DependabotOrg(o) => self.org_exists(o),
        }
    }

    /// Makes the scope exist (for handle methods that set state directly).
    pub(super) fn ensure_scope(&mut self, scope: &Scope) {
        match scope {
            Scope::Repo(r) | Scope::DependabotRepo(r) => {
                self.ensure_repo(r);
            }
            Scope::Environment(r, e) => {
                self.ensure_repo(r);
                self.ensure_environment(r, e);
            }
            Scope::Org(o) | Scope::DependabotOrg(o) => {
                self.orgs.insert(o.to_lowercase());
            }
        }
    }

    /// The scope's key id and public key, making the keypair on first use.
    pub(super) fn public_key_of(&mut self, scope: &Scope) -> (String, PublicKey) {
        if let Scope::Repo(_) = scope {
            return (KEY_ID.to_owned(), self.public_key.clone());
        }
        let key = self.keypair(scope);
        (key.key_id.clone(), key.public.clone())
    }

    fn keypair(&mut self, scope: &Scope) -> &Keypair {
        let scope = normalize(scope);
        if !self.scope_keys.contains_key(&scope) {
            let id = self.fresh_id();
            let secret = SecretKey::generate(&mut OsRng);
            let keypair = Keypair {
                key_id: format!("sandbox-key-{id}"),
                public: secret.public_key(),
                secret,
            };
            self.scope_keys.insert(scope.clone(), keypair);
        }
        &self.scope_keys[&scope]
    }

    /// Opens a sealed value with the scope's private key; `None` if it does not open.
    pub(super) fn unseal(&mut self, scope: &Scope, ciphertext: &[u8]) -> Option<Vec<u8>> {
        let secret = match scope {
            Scope::Repo(_) => &self.secret_key,
            _ => &self.keypair(scope).secret,
        };
        secret.unseal(ciphertext).ok()
    }

    pub(super) fn secrets_of(&self, scope: &Scope) -> Option<&BTreeMap<String, Secret>> {
        self.secrets.get(&normalize(scope))
    }

    pub(super) fn secret(&self, scope: &Scope, name: &str) -> Option<&Secret> {
        self.secrets_of(scope)?.get(&name.to_uppercase())
    }

    /// Stores a secret: a new value and/or new access. Returns whether it was created (rather
    /// than updated). Creating needs a value; org scopes default to visibility `all`.
    pub(super) fn store_secret(
        &mut self,
        scope: &Scope,
        name: &str,
        value: Option<(Vec<u8>, Vec<u8>)>,
        access: Option<Access>,
    ) -> bool {
        let now = self.tick();
        let org = is_org_scope(scope);
        let secrets = self.secrets.entry(normalize(scope)).or_default();
        let name = name.to_uppercase();
        match secrets.get_mut(&name) {
            Some(secret) => {
                secret.updated_at = now;
                if let Some((ciphertext, plaintext)) = value {
                    secret.ciphertext = ciphertext;
                    secret.plaintext = plaintext;
                }
                if access.is_some() && org {
                    secret.access = access;
                }
                false
            }
            None => {
                let (ciphertext, plaintext) = value.unwrap_or_default();
                let secret = Secret {
                    created_at: now.clone(),
                    updated_at: now,
                    ciphertext,
                    plaintext,
                    access: org.then(|| access.unwrap_or_else(Access::all)),
                };
                secrets.insert(name, secret);
                true
            }
        }
    }

    pub(super) fn variables_of(&self, scope: &Scope) -> Option<&BTreeMap<String, Variable>> {
        self.variables.get(&normalize(scope))
    }

    pub(super) fn variable(&self, scope: &Scope, name: &str) -> Option<&Variable> {
        self.variables_of(scope)?.get(&name.to_uppercase())
    }

    /// Creates or updates a variable; returns whether it was created.
    pub(super) fn store_variable(
        &mut self,
        scope: &Scope,
        name: &str,
        value: Option<String>,
        access: Option<Access>,
    ) -> bool {
        let now = self.tick();
        let org = is_org_scope(scope);
        let variables = self.variables.entry(normalize(scope)).or_default();
        let name = name.to_uppercase();
        match variables.get_mut(&name) {
            Some(variable) => {
                variable.updated_at = now;
                if let Some(value) = value {
                    variable.value = value;
                }
                if access.is_some() && org {
                    variable.access = access;
                }
                false
            }
            None => {
                let variable = Variable {
                    value: value.unwrap_or_default(),
                    created_at: now.clone(),
                    updated_at: now,
                    access: org.then(|| access.unwrap_or_else(Access::all)),
                };
                variables.insert(name, variable);
                true
            }
        }
    }

    pub(super) fn write_failure(&self, location: &str, name: &str) -> Option<&Injected> {
        let name = name.to_uppercase();
        let candidates = [
            (location, name.as_str()),
            ("*", name.as_str()),
            (location, "*"),
            ("*", "*"),
        ];
        let found = candidates
            .into_iter()
            .find_map(|(r, n)| self.write_failures.get(&(r.to_owned(), n.to_owned())));
        found
    }

    pub(super) fn list_failure(&self, location: &str) -> Option<&Injected> {
        self.list_failures
            .get(location)
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

/// `secs` (Unix seconds on the sandbox's clock) written in `format`.
fn stamp(secs: i64, format: &str) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .expect("a timestamp near now is representable")
        .format(format)
        .to_string()
}
