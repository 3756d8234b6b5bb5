//! GitHub's REST API for secrets and variables in every scope, through octocrab's raw requests:
//! list every page, fetch (and cache) public keys, write sealed values, manage who may use
//! organization items. Every status is mapped to an error that says what it means for the user;
//! nothing above this module sees HTTP.

pub mod cache;
mod error;
pub mod identity;
mod pacer;
mod transport;
pub mod wire;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use http::header::{HeaderName, ACCEPT};
use http::{Method, StatusCode};
use octocrab::service::middleware::retry::RetryConfig;
use octocrab::Octocrab;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

pub use cache::HttpCache;
pub use error::{GithubError, Op};
pub use transport::Pacing;

use crate::config::{ApiUrl, Config, Place};
use crate::plan::{OrgAccess, Remote, RemoteVariable};
use crate::scope::{encode_segment, Repo, Scope, Visibility};
use crate::seal::{PublicKey, Sealed};
use error::{clean, server_message, target_of};
use transport::{Reply, Transport};
use wire::{KeyBody, RepoItem, SecretItem, VariableItem};

/// A hostile or broken server could page forever; nothing we list has this many pages.
const MAX_PAGES: usize = 1000;

pub struct Client {
    transport: Transport,
    keys: tokio::sync::Mutex<HashMap<Scope, PublicKey>>,
    /// Listings' ETags and pages, for conditional GETs; `None` sends every GET plain.
    cache: Option<HttpCache>,
}

/// The async runtime every command that talks to GitHub runs on, and a client on it for the
/// GitHub the config names, within its `[github.limits]`: two workers, as on the machines this
/// runs on; requests in flight are bounded by `Pacing`, not by threads.
pub fn connect(
    config: &Config,
    token: SecretString,
    pacing: Pacing,
) -> Result<(tokio::runtime::Runtime, Client), GithubError> {
    let pacing = Pacing {
        budget: config.limits,
        ..pacing
    };
    connect_to(&config.api_url, token, pacing)
}

/// As [`connect`], for the GitHub at `api` within `pacing.budget`, before there is a config
/// (`init`).
pub fn connect_to(
    api: &ApiUrl,
    token: SecretString,
    pacing: Pacing,
) -> Result<(tokio::runtime::Runtime, Client), GithubError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| GithubError::Setup(format!("cannot start the async runtime: {e}")))?;
    // The client's connector is made on the runtime it will run on.
    let client = {
        let _entered = runtime.enter();
        Client::new(api, token, pacing)?
    };
    Ok((runtime, client))
}

/// Whether a write made a new item or replaced one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
}

/// A write GitHub accepted, and when at the latest it took effect: the answer's `Date` (RFC
/// 3339, whole seconds; `None` when the answer had none GitHub's way). GitHub sets the item's
/// `updated_at` before it answers, on the same clock, so `updated_at` is at or before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed {
    pub written: Written,
    pub at_latest: Option<String>,
}

impl Client {
    /// Must be called inside a tokio runtime.
    pub fn new(api: &ApiUrl, token: SecretString, pacing: Pacing) -> Result<Client, GithubError> {
        let octo = Octocrab::builder()
            .base_uri(api.as_str())
            .map_err(|e| GithubError::Setup(e.to_string()))?
            .personal_token(token)
            .add_header(ACCEPT, "application/vnd.github+json".to_string())
            .add_header(
                HeaderName::from_static("x-github-api-version"),
                "2022-11-28".to_string(),
            )
            // Retrying is decided by `transport`, which knows what is safe and what GitHub asks.
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(pacing.timeout))
            .build()
            .map_err(|e| GithubError::Setup(e.to_string()))?;
        Ok(Client {
            transport: Transport::new(octo, api.clone(), pacing),
            keys: tokio::sync::Mutex::new(HashMap::new()),
            cache: None,
        })
    }

    /// Keep listings in `cache` and ask GitHub for each only if it changed since.
    pub fn with_cache(mut self, cache: Option<HttpCache>) -> Client {
        self.cache = cache;
        self
    }

    /// A flag that, once set, makes every write not yet sent fail as interrupted.
    pub fn stop_flag(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.transport.stop_flag()
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        body: Option<&Value>,
        target: &str,
        op: &Op,
    ) -> Result<Reply, GithubError> {
        self.transport
            .send(method, uri, body, target, op, &|_| Ok(()))
            .await
    }

    /// Every item of a paged list: `key` names the array in each page (`None`: the page is one).
    async fn paged<T: DeserializeOwned>(
        &self,
        first: String,
        key: Option<&str>,
        target: &str,
        op: &Op,
    ) -> Result<Vec<T>, GithubError> {
        let mut next = Some(first);
        let mut all = Vec::new();
        let mut pages = 0;
        while let Some(uri) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(malformed(target, op, "too many pages"));
            }
            let (items, link) = self.page(&uri, key, target, op).await?;
            all.extend(items);
            next = link
                .map(|link| {
                    wire::same_origin(self.transport.api().as_str(), &link).ok_or_else(|| {
                        malformed(target, op, "a paging link points to another host")
                    })
                })
                .transpose()?;
        }
        Ok(all)
    }

    /// One page's items and its `next` link: asked for with the cached page's ETag, if one is
    /// kept, and taken from the cache when GitHub answers 304.
    async fn page<T: DeserializeOwned>(
        &self,
        uri: &str,
        key: Option<&str>,
        target: &str,
        op: &Op,
    ) -> Result<(Vec<T>, Option<String>), GithubError> {
        let url = format!("{}{uri}", self.transport.api().as_str());
        // A kept page that no longer reads as one is not worth a 304.
        let kept = self.cache.as_ref().and_then(|cache| {
            let entry = cache.get(&url)?;
            let items = wire::page_items::<T>(&entry.body, key).ok()?;
            Some((entry, items))
        });
        // A garbled page (cut short, or a proxy's HTML) is fetched again.
        let check = |reply: &Reply| wire::page_items::<Value>(&reply.body, key).map(|_| ());
        let etag = kept.as_ref().map(|(entry, _)| entry.etag.as_str());
        let reply = self
            .transport
            .get_if_none_match(uri, etag, target, op, &check)
            .await?;
        match (reply.status, kept) {
            (StatusCode::NOT_MODIFIED, Some((entry, items))) => Ok((items, entry.next)),
            (StatusCode::OK, _) => {
                let items: Vec<T> = wire::page_items(&reply.body, key)
                    .map_err(|reason| malformed(target, op, &reason))?;
                let next = wire::next_link(&reply.headers);
                self.keep(&url, reply, next.clone(), items.len());
                Ok((items, next))
            }
            _ => Err(status_error(target, op.clone(), &reply)),
        }
    }

    /// Keep a page answered in full, with its ETag. A full last page is not kept: an item added
    /// after it can make a next page while this one stays the same, and a 304 would hide it.
    fn keep(&self, url: &str, reply: Reply, next: Option<String>, count: usize) {
        let Some(cache) = &self.cache else {
            return;
        };
        let etag = reply
            .headers
            .get(http::header::ETAG)
            .and_then(|v| v.to_str().ok());
        match etag {
            Some(etag) if next.is_some() || count < wire::per_page(url) => {
                let entry = cache::Entry {
                    etag: etag.to_owned(),
                    body: reply.body,
                    next,
                };
                cache.put(url, &entry);
            }
            _ => cache.forget(url),
        }
    }

    /// Every secret of `scope`; for organizations with who may use each.
    pub async fn list_secrets(&self, scope: &Scope) -> Result<Vec<Remote>, GithubError> {
        let target = target_of(scope);
        let uri = format!("{}?per_page=100", scope.secrets_path());
        let items: Vec<SecretItem> = self.paged(uri, Some("secrets"), &target, &Op::List).await?;
        let mut all = Vec::with_capacity(items.len());
        for item in items {
            let name = item.name.to_ascii_uppercase();
            let access = match scope.is_org() {
                false => None,
                true => Some(
                    self.access(
                        scope,
                        &item.name,
                        item.visibility.as_deref(),
                        false,
                        &target,
                    )
                    .await?,
                ),
            };
            all.push(Remote {
                name,
                updated_at: item.updated_at,
                access,
            });
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all.dedup_by(|a, b| a.name == b.name);
        Ok(all)
    }

    /// Every variable of `scope`, values included (variables are not secret).
    pub async fn list_variables(&self, scope: &Scope) -> Result<Vec<RemoteVariable>, GithubError> {
        let Some(path) = scope.variables_path() else {
            return Ok(Vec::new());
        };
        let target = target_of(scope);
        let uri = format!("{path}?per_page=30");
        let items: Vec<VariableItem> = self
            .paged(uri, Some("variables"), &target, &Op::ListVariables)
            .await?;
        let mut all = Vec::with_capacity(items.len());
        for item in items {
            let access = match scope.is_org() {
                false => None,
                true => Some(
                    self.access(scope, &item.name, item.visibility.as_deref(), true, &target)
                        .await?,
                ),
            };
            all.push(RemoteVariable {
                name: item.name.to_ascii_uppercase(),
                value: item.value,
                access,
            });
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// One variable's value; `None` when the scope has no variable of that name.
    pub async fn get_variable(
        &self,
        scope: &Scope,
        name: &str,
    ) -> Result<Option<String>, GithubError> {
        let target = target_of(scope);
        let op = Op::ReadVariable(name.to_string());
        if scope.variables_path().is_none() {
            return Err(malformed(&target, &op, "this scope has no variables"));
        }
        let uri = self.item_path(scope, name, true);
        let check = |reply: &Reply| match reply.status {
            StatusCode::OK => serde_json::from_str::<VariableItem>(&reply.body)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            _ => Ok(()),
        };
        let reply = self
            .transport
            .send(Method::GET, &uri, None, &target, &op, &check)
            .await?;
        match reply.status {
            StatusCode::OK => serde_json::from_str::<VariableItem>(&reply.body)
                .map(|item| Some(item.value))
                .map_err(|e| malformed(&target, &op, &e.to_string())),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(status_error(&target, op, &reply)),
        }
    }

    /// Who may use an organization item: its visibility, and for `selected` the repository ids.
    async fn access(
        &self,
        scope: &Scope,
        name: &str,
        visibility: Option<&str>,
        variable: bool,
        target: &str,
    ) -> Result<OrgAccess, GithubError> {
        let op = Op::Access(name.to_string());
        let visibility = visibility.and_then(Visibility::parse).ok_or_else(|| {
            malformed(
                target,
                &op,
                "an organization item without a known visibility",
            )
        })?;
        let mut names = BTreeMap::new();
        if visibility == Visibility::Selected {
            let uri = format!(
                "{}/repositories?per_page=100",
                self.item_path(scope, name, variable)
            );
            let repos: Vec<RepoItem> = self.paged(uri, Some("repositories"), target, &op).await?;
            let owner = match scope {
                Scope::Org { org, .. } => org.as_str(),
                _ => "",
            };
            for repo in repos {
                names.insert(repo.id, format!("{owner}/{}", repo.name));
            }
        }
        Ok(OrgAccess {
            visibility,
            repositories: names.keys().copied().collect(),
            names,
        })
    }

    fn item_path(&self, scope: &Scope, name: &str, variable: bool) -> String {
        let base = match variable {
            true => scope
                .variables_path()
                .unwrap_or_else(|| scope.secrets_path()),
            false => scope.secrets_path(),
        };
        format!("{base}/{}", encode_segment(name))
    }

    /// The scope's public key, fetched once per run. The cache is not held during the fetch:
    /// scopes fetch concurrently, and each scope belongs to one job, so none fetches twice.
    pub async fn public_key(&self, scope: &Scope) -> Result<PublicKey, GithubError> {
        if let Some(key) = self.keys.lock().await.get(scope) {
            return Ok(key.clone());
        }
        let target = target_of(scope);
        let uri = format!("{}/public-key", scope.secrets_path());
        let check = |reply: &Reply| {
            serde_json::from_str::<KeyBody>(&reply.body)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        let reply = self
            .transport
            .send(Method::GET, &uri, None, &target, &Op::PublicKey, &check)
            .await?;
        if reply.status != StatusCode::OK {
            return Err(status_error(&target, Op::PublicKey, &reply));
        }
        let body: KeyBody = serde_json::from_str(&reply.body)
            .map_err(|e| malformed(&target, &Op::PublicKey, &e.to_string()))?;
        let key = PublicKey::parse(&body.key_id, &body.key)
            .map_err(|error| GithubError::BadKey { target, error })?;
        self.keys.lock().await.insert(scope.clone(), key.clone());
        Ok(key)
    }

    /// Send a write and read its answer: 201 made something, 204 changed it. GitHub answers
    /// writes with nothing else; any other success (a proxy's 200 page, say) did not reach it,
    /// and counting it as written would record a value GitHub never got.
    async fn write(
        &self,
        method: Method,
        uri: &str,
        body: Option<Value>,
        target: &str,
        op: Op,
    ) -> Result<Landed, GithubError> {
        let check = |reply: &Reply| match reply.status {
            StatusCode::CREATED | StatusCode::NO_CONTENT => Ok(()),
            other => Err(format!(
                "a write was answered {other}, where GitHub answers 201 or 204"
            )),
        };
        let reply = self
            .transport
            .send(method, uri, body.as_ref(), target, &op, &check)
            .await?;
        let written = match reply.status {
            StatusCode::CREATED => Written::Created,
            StatusCode::NO_CONTENT => Written::Updated,
            _ => return Err(status_error(target, op, &reply)),
        };
        let at_latest = reply
            .headers
            .get(http::header::DATE)
            .and_then(|date| date.to_str().ok())
            .and_then(wire::http_date);
        Ok(Landed { written, at_latest })
    }

    /// PUT a secret. Without `sealed`, only an organization secret's access changes.
    pub async fn put_secret(
        &self,
        scope: &Scope,
        name: &str,
        sealed: Option<&Sealed>,
        access: Option<&OrgAccess>,
    ) -> Result<Landed, GithubError> {
        let mut fields = Vec::new();
        if let Some(sealed) = sealed {
            fields.push(("encrypted_value", json!(sealed.encrypted_value)));
            fields.push(("key_id", json!(sealed.key_id)));
        }
        let body = item_body(fields, access);
        let uri = self.item_path(scope, name, false);
        let op = Op::Put(name.to_string());
        self.write(Method::PUT, &uri, Some(body), &target_of(scope), op)
            .await
    }

    /// Replace the repositories that may use a `selected` organization item.
    pub async fn set_selected(
        &self,
        scope: &Scope,
        name: &str,
        variable: bool,
        repositories: &[u64],
    ) -> Result<Landed, GithubError> {
        let uri = format!("{}/repositories", self.item_path(scope, name, variable));
        let body = json!({ "selected_repository_ids": repositories });
        let op = Op::Access(name.to_string());
        self.write(Method::PUT, &uri, Some(body), &target_of(scope), op)
            .await
    }

    pub async fn delete_secret(&self, scope: &Scope, name: &str) -> Result<Landed, GithubError> {
        let uri = self.item_path(scope, name, false);
        let op = Op::Delete(name.to_string());
        self.write(Method::DELETE, &uri, None, &target_of(scope), op)
            .await
    }

    pub async fn delete_variable(&self, scope: &Scope, name: &str) -> Result<Landed, GithubError> {
        let uri = self.item_path(scope, name, true);
        let op = Op::DeleteVariable(name.to_string());
        self.write(Method::DELETE, &uri, None, &target_of(scope), op)
            .await
    }

    /// Create a variable. A 409 means it exists already (perhaps from our own earlier attempt
    /// whose answer was lost), so it is updated instead: never created twice.
    pub async fn create_variable(
        &self,
        scope: &Scope,
        name: &str,
        value: &str,
        access: Option<&OrgAccess>,
    ) -> Result<Landed, GithubError> {
        let op = Op::WriteVariable(name.to_string());
        let target = target_of(scope);
        let Some(path) = scope.variables_path() else {
            return Err(malformed(&target, &op, "this scope has no variables"));
        };
        let body = item_body(vec![("name", json!(name)), ("value", json!(value))], access);
        match self
            .write(Method::POST, &path, Some(body), &target, op)
            .await
        {
            Err(GithubError::Status { status: 409, .. }) => {
                self.update_variable(scope, name, value, access).await
            }
            other => other,
        }
    }

    pub async fn update_variable(
        &self,
        scope: &Scope,
        name: &str,
        value: &str,
        access: Option<&OrgAccess>,
    ) -> Result<Landed, GithubError> {
        let body = item_body(vec![("name", json!(name)), ("value", json!(value))], access);
        let uri = self.item_path(scope, name, true);
        let op = Op::WriteVariable(name.to_string());
        // GitHub answers a PATCH with 204; it never creates.
        self.write(Method::PATCH, &uri, Some(body), &target_of(scope), op)
            .await
            .map(|landed| Landed {
                written: Written::Updated,
                ..landed
            })
    }

    /// Whether the environment exists; `create` makes it when it does not.
    pub async fn ensure_environment(
        &self,
        repo: &Repo,
        environment: &str,
        create: bool,
    ) -> Result<(), GithubError> {
        let target = format!("{repo}");
        let uri = format!(
            "/repos/{}/{}/environments/{}",
            repo.owner,
            repo.name,
            encode_segment(environment)
        );
        let reply = self
            .send(Method::GET, &uri, None, &target, &Op::Environment)
            .await?;
        match reply.status {
            StatusCode::OK => return Ok(()),
            StatusCode::NOT_FOUND if create => {}
            StatusCode::NOT_FOUND => {
                return Err(GithubError::NoEnvironment {
                    repo: target,
                    environment: environment.to_string(),
                })
            }
            _ => return Err(status_error(&target, Op::Environment, &reply)),
        }
        let reply = self
            .send(
                Method::PUT,
                &uri,
                Some(&json!({})),
                &target,
                &Op::Environment,
            )
            .await?;
        match reply.status {
            StatusCode::OK | StatusCode::CREATED | StatusCode::NO_CONTENT => {
                tracing::info!(repo = %repo, environment, "created the environment");
                Ok(())
            }
            _ => Err(status_error(&target, Op::Environment, &reply)),
        }
    }

    /// The ids of an organization's repositories, by name, for `selected` access, each with
    /// its `org/name`.
    pub async fn repository_ids(
        &self,
        org: &str,
        names: &[String],
    ) -> Result<BTreeMap<u64, String>, GithubError> {
        let mut ids = BTreeMap::new();
        for name in names {
            let op = Op::RepoId(name.clone());
            let target = format!("{org}/{name}");
            let reply = self
                .send(
                    Method::GET,
                    &format!("/repos/{org}/{name}"),
                    None,
                    &target,
                    &op,
                )
                .await?;
            match reply.status {
                StatusCode::OK => {}
                StatusCode::NOT_FOUND => {
                    return Err(GithubError::UnknownRepository {
                        org: org.to_string(),
                        repo: name.clone(),
                    })
                }
                _ => return Err(status_error(&target, op, &reply)),
            }
            let item: RepoItem = serde_json::from_str(&reply.body)
                .map_err(|e| malformed(&target, &op, &e.to_string()))?;
            ids.insert(item.id, target);
        }
        Ok(ids)
    }

    /// The scopes a target's place stands for: itself, or for `repos = { org, match }` every
    /// repository of the organization whose name matches, as GitHub lists them now.
    pub async fn scopes(&self, place: &Place) -> Result<Vec<Scope>, GithubError> {
        match place {
            Place::Scope(scope) => Ok(vec![scope.clone()]),
            Place::Match { org, .. } => Ok(place.scopes_among(self.org_repositories(org).await?)),
        }
    }

    /// The names of every repository of an organization.
    pub async fn org_repositories(&self, org: &str) -> Result<Vec<String>, GithubError> {
        let target = format!("org {org}");
        let uri = format!("/orgs/{org}/repos?per_page=100");
        let repos: Vec<RepoItem> = self.paged(uri, None, &target, &Op::OrgRepos).await?;
        let mut names: Vec<String> = repos.into_iter().map(|r| r.name).collect();
        names.sort();
        Ok(names)
    }
}

/// A write's JSON body: `fields`, then who may use it, for organization items.
fn item_body(fields: Vec<(&str, Value)>, access: Option<&OrgAccess>) -> Value {
    let mut body: serde_json::Map<String, Value> = fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    if let Some(access) = access {
        body.insert("visibility".into(), json!(access.visibility.as_str()));
        if access.visibility == Visibility::Selected {
            body.insert("selected_repository_ids".into(), json!(access.repositories));
        }
    }
    Value::Object(body)
}

fn status_error(target: &str, op: Op, reply: &Reply) -> GithubError {
    let message = server_message(&reply.body);
    let target = target.to_string();
    match reply.status.as_u16() {
        401 => GithubError::BadToken {
            target,
            op,
            message,
        },
        404 if matches!(op, Op::List | Op::PublicKey | Op::ListVariables) => {
            GithubError::NotFound { target, op }
        }
        403 => GithubError::Forbidden {
            target,
            op,
            message,
        },
        422 => GithubError::Unprocessable {
            target,
            op,
            message,
        },
        status => GithubError::Status {
            target,
            op,
            status,
            message,
        },
    }
}

fn malformed(target: &str, op: &Op, reason: &str) -> GithubError {
    GithubError::Malformed {
        target: target.to_string(),
        op: op.clone(),
        reason: clean(reason),
    }
}
