//! A local, in-memory, GitHub-compatible REST API for repository Actions secrets.
//!
//! `secretsync sandbox` serves it for offline rehearsals, `secretsync demo` runs it in-process, and
//! integration tests start it, point the real binary at [`Sandbox::api_url`], then inspect and
//! manipulate its state directly. It holds its own X25519 keypair and unseals every value it
//! receives to verify it, answering with GitHub's status codes and JSON shapes. It never prints or
//! logs plaintexts or tokens.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxumState};
use axum::response::Response;
use axum::Router;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use crypto_box::aead::OsRng;
use crypto_box::{PublicKey, SecretKey};
use http::header::{AUTHORIZATION, CONTENT_TYPE, LINK, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;

const KEY_ID: &str = "sandbox-key-1";
const DOCS_URL: &str = "https://docs.github.com/rest";
const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// Far above GitHub's 48 KB value limit once sealed and base64-encoded.
const MAX_BODY_BYTES: usize = 1 << 20;
const DEFAULT_PER_PAGE: u64 = 30;
const MAX_PER_PAGE: u64 = 100;
const NO_USER_AGENT_MESSAGE: &str = "Request forbidden by administrative rules. Please make sure \
     your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). \
     Check https://developer.github.com for other possible causes.";

/// How to start a [`Sandbox`].
#[derive(Clone)]
pub struct SandboxConfig {
    /// Where to listen; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Delay before answering each request.
    pub latency: Duration,
    /// A token accepted with full access.
    pub token: String,
    /// `owner/repo` names that exist (case-insensitive); `None` means every repository exists.
    pub repos: Option<BTreeSet<String>>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            latency: Duration::ZERO,
            token: "sandbox-token".to_owned(),
            repos: None,
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("addr", &self.addr)
            .field("latency", &self.latency)
            .field("token", &"[REDACTED]")
            .field("repos", &self.repos)
            .finish()
    }
}

/// What a token registered with [`Sandbox::add_token`] may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAccess {
    Full,
    /// Authenticates, but every secrets endpoint answers 403.
    NoSecrets,
}

/// One request the sandbox answered, in arrival-of-answer order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    /// The raw path, without the query.
    pub path: String,
    /// The raw query string, without `?` (empty if none).
    pub query: String,
    pub status: u16,
}

struct Secret {
    created_at: String,
    updated_at: String,
    ciphertext: Vec<u8>,
    plaintext: Vec<u8>,
}

struct Injected {
    status: u16,
    message: String,
}

struct State {
    secret_key: SecretKey,
    public_key: PublicKey,
    api_url: String,
    latency: Duration,
    tokens: HashMap<String, TokenAccess>,
    /// Lower-cased `owner/repo`; `None` = every repository exists.
    known_repos: Option<BTreeSet<String>>,
    /// Lower-cased `owner/repo` -> upper-cased name -> secret.
    secrets: HashMap<String, BTreeMap<String, Secret>>,
    /// Unix seconds of the latest write, so each write gets a strictly later timestamp.
    clock: i64,
    requests: Vec<RequestRecord>,
    /// Keyed by (lower-cased repo or "*", upper-cased name or "*").
    write_failures: HashMap<(String, String), Injected>,
    /// Keyed by lower-cased repo or "*".
    list_failures: HashMap<String, Injected>,
    public_key_override: Option<String>,
}

impl State {
    fn tick(&mut self) -> String {
        let next = chrono::Utc::now().timestamp().max(self.clock + 1);
        self.clock = next;
        chrono::DateTime::from_timestamp(next, 0)
            .expect("a timestamp near now is representable")
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    }

    fn repo_exists(&self, repo: &str) -> bool {
        self.known_repos
            .as_ref()
            .is_none_or(|known| known.contains(repo))
    }

    fn secret(&self, repo: &str, name: &str) -> Option<&Secret> {
        self.secrets.get(&repo_key(repo))?.get(&name.to_uppercase())
    }

    /// Stores a value, returning whether it was created (rather than updated).
    fn store(&mut self, repo: &str, name: &str, ciphertext: Vec<u8>, plaintext: Vec<u8>) -> bool {
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

    fn write_failure(&self, repo: &str, name: &str) -> Option<&Injected> {
        [(repo, name), ("*", name), (repo, "*"), ("*", "*")]
            .into_iter()
            .find_map(|(r, n)| self.write_failures.get(&(r.to_owned(), n.to_owned())))
    }

    fn list_failure(&self, repo: &str) -> Option<&Injected> {
        self.list_failures
            .get(repo)
            .or_else(|| self.list_failures.get("*"))
    }
}

type Shared = Arc<Mutex<State>>;

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared
        .lock()
        .expect("sandbox state mutex poisoned by a panicking thread")
}

fn repo_key(repo: &str) -> String {
    if repo == "*" {
        repo.to_owned()
    } else {
        repo.to_lowercase()
    }
}

/// A running sandbox. Dropping it shuts the server down.
pub struct Sandbox {
    state: Shared,
    api_url: String,
    shutdown: Option<oneshot::Sender<()>>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The server may already be gone (e.g. its runtime ended); nothing left to stop then.
            let _ = shutdown.send(());
        }
    }
}

impl Sandbox {
    /// Bind and serve on the current tokio runtime (used by the CLI and the in-process demo).
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(config.addr).await?;
        let (sandbox, shutdown) = Sandbox::new(&config, listener.local_addr()?);
        tokio::spawn(serve(listener, sandbox.state.clone(), shutdown));
        Ok(sandbox)
    }

    /// Start on a dedicated thread with its own tokio runtime (used by tests and sync callers).
    pub fn spawn(config: SandboxConfig) -> std::io::Result<Sandbox> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let std_listener = std::net::TcpListener::bind(config.addr)?;
        std_listener.set_nonblocking(true)?;
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let (sandbox, shutdown) = Sandbox::new(&config, listener.local_addr()?);
        let state = sandbox.state.clone();
        std::thread::Builder::new()
            .name("secretsync-sandbox".to_owned())
            .spawn(move || runtime.block_on(serve(listener, state, shutdown)))?;
        Ok(sandbox)
    }

    fn new(config: &SandboxConfig, local: SocketAddr) -> (Sandbox, oneshot::Receiver<()>) {
        // A sandbox bound to every interface is still reached through loopback from here.
        let reachable = match local.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => {
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local.port())
            }
            IpAddr::V6(ip) if ip.is_unspecified() => {
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), local.port())
            }
            _ => local,
        };
        let api_url = format!("http://{reachable}");
        let secret_key = SecretKey::generate(&mut OsRng);
        let state = State {
            public_key: secret_key.public_key(),
            secret_key,
            api_url: api_url.clone(),
            latency: config.latency,
            tokens: HashMap::from([(config.token.clone(), TokenAccess::Full)]),
            known_repos: config
                .repos
                .as_ref()
                .map(|repos| repos.iter().map(|r| r.to_lowercase()).collect()),
            secrets: HashMap::new(),
            clock: 0,
            requests: Vec::new(),
            write_failures: HashMap::new(),
            list_failures: HashMap::new(),
            public_key_override: None,
        };
        let (tx, rx) = oneshot::channel();
        let sandbox = Sandbox {
            state: Arc::new(Mutex::new(state)),
            api_url,
            shutdown: Some(tx),
        };
        (sandbox, rx)
    }

    /// e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn api_url(&self) -> String {
        self.api_url.clone()
    }

    /// Serve until ctrl-c (for `secretsync sandbox`).
    pub async fn run_until_ctrl_c(self) {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!("sandbox: cannot listen for ctrl-c ({err}); stopping");
        }
    }

    /// Every request answered so far, in order, including rejected ones.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.state).requests.clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.state).requests.clear();
    }

    /// Secret names of `repo` (`owner/repo`), sorted and upper-case.
    pub fn names(&self, repo: &str) -> Vec<String> {
        lock(&self.state)
            .secrets
            .get(&repo_key(repo))
            .map(|secrets| secrets.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn plaintext(&self, repo: &str, name: &str) -> Option<Vec<u8>> {
        let state = lock(&self.state);
        state.secret(repo, name).map(|s| s.plaintext.clone())
    }

    pub fn ciphertext(&self, repo: &str, name: &str) -> Option<Vec<u8>> {
        let state = lock(&self.state);
        state.secret(repo, name).map(|s| s.ciphertext.clone())
    }

    pub fn updated_at(&self, repo: &str, name: &str) -> Option<String> {
        let state = lock(&self.state);
        state.secret(repo, name).map(|s| s.updated_at.clone())
    }

    pub fn secret_key_bytes(&self) -> [u8; 32] {
        lock(&self.state).secret_key.to_bytes()
    }

    pub fn public_key_bytes(&self) -> [u8; 32] {
        lock(&self.state).public_key.to_bytes()
    }

    /// As if someone set the secret in GitHub's web UI: stores it and bumps updated_at.
    pub fn put_outside(&self, repo: &str, name: &str, plaintext: &[u8]) {
        let mut state = lock(&self.state);
        let ciphertext = state
            .public_key
            .seal(&mut OsRng, plaintext)
            .expect("sealing to a valid public key cannot fail");
        state.store(
            &repo_key(repo),
            &name.to_uppercase(),
            ciphertext,
            plaintext.to_vec(),
        );
    }

    /// PUT and DELETE of `name` in `repo` ("*" = any repo, and also any name) answer `status`
    /// with GitHub-shaped `message`, until [`Sandbox::clear_failures`].
    pub fn inject_write_failure(&self, repo: &str, name: &str, status: u16, message: &str) {
        let key = (repo_key(repo), name.to_uppercase());
        let injected = Injected {
            status,
            message: message.to_owned(),
        };
        lock(&self.state).write_failures.insert(key, injected);
    }

    /// Listing secrets of `repo` ("*" = any) answers `status` with `message`, until
    /// [`Sandbox::clear_failures`].
    pub fn inject_list_failure(&self, repo: &str, status: u16, message: &str) {
        let injected = Injected {
            status,
            message: message.to_owned(),
        };
        lock(&self.state)
            .list_failures
            .insert(repo_key(repo), injected);
    }

    /// Forget every injected write and list failure.
    pub fn clear_failures(&self) {
        let mut state = lock(&self.state);
        state.write_failures.clear();
        state.list_failures.clear();
    }

    /// Serve this raw JSON body (status 200) for every public-key request instead of the real key.
    pub fn override_public_key(&self, raw_json: Option<String>) {
        lock(&self.state).public_key_override = raw_json;
    }

    pub fn add_token(&self, token: &str, access: TokenAccess) {
        lock(&self.state).tokens.insert(token.to_owned(), access);
    }

    /// Set or change latency at run time.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state).latency = latency;
    }
}

async fn serve(listener: tokio::net::TcpListener, state: Shared, shutdown: oneshot::Receiver<()>) {
    let app = Router::new().fallback(handle).with_state(state);
    let stopped = async {
        // An error means the handle was dropped without sending, which also means stop.
        let _ = shutdown.await;
    };
    if let Err(err) = axum::serve(listener, app)
        .with_graceful_shutdown(stopped)
        .await
    {
        tracing::warn!("sandbox server stopped: {err}");
    }
}

async fn handle(AxumState(shared): AxumState<Shared>, request: Request) -> Response {
    let latency = lock(&shared).latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (parts, body) = request.into_parts();
    // Read before locking: the lock is never held across an await.
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.ok();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();

    let mut state = lock(&shared);
    let response = answer(
        &mut state,
        &parts.method,
        &path,
        &query,
        &parts.headers,
        body,
    );
    let status = response.status().as_u16();
    tracing::debug!(method = %parts.method, path = %path, status, "sandbox request");
    state.requests.push(RequestRecord {
        method: parts.method.to_string(),
        path,
        query,
        status,
    });
    response
}

enum Endpoint {
    PublicKey,
    List,
    Get(String),
    Put(String),
    Delete(String),
}

struct Route {
    /// Path segments as sent, for building `Link` URLs.
    raw_owner: String,
    raw_repo: String,
    /// Lower-cased, percent-decoded `owner/repo`.
    repo: String,
    endpoint: Endpoint,
}

fn route(method: &Method, path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let (owner, repo, rest) = match segments.as_slice() {
        ["repos", owner, repo, "actions", "secrets", rest @ ..] => (*owner, *repo, rest),
        _ => return None,
    };
    let endpoint = match (method, rest) {
        (&Method::GET, []) => Endpoint::List,
        (&Method::GET, ["public-key"]) => Endpoint::PublicKey,
        (&Method::GET, [name]) => Endpoint::Get(percent_decode(name)?),
        (&Method::PUT, [name]) => Endpoint::Put(percent_decode(name)?),
        (&Method::DELETE, [name]) => Endpoint::Delete(percent_decode(name)?),
        _ => return None,
    };
    Some(Route {
        raw_owner: owner.to_owned(),
        raw_repo: repo.to_owned(),
        repo: format!("{}/{}", percent_decode(owner)?, percent_decode(repo)?).to_lowercase(),
        endpoint,
    })
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let known_scheme =
        scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    known_scheme.then(|| token.trim())
}

/// The checks, in the order GitHub's behaviour needs them, then the endpoint itself.
fn answer(
    state: &mut State,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: Option<Bytes>,
) -> Response {
    let route = route(method, path);

    match bearer_token(headers).and_then(|token| state.tokens.get(token)) {
        None => return github_error(StatusCode::UNAUTHORIZED, "Bad credentials"),
        Some(TokenAccess::NoSecrets) if route.is_some() => {
            let needs = if method == Method::GET {
                "secrets=read"
            } else {
                "secrets=write"
            };
            let mut response = github_error(
                StatusCode::FORBIDDEN,
                "Resource not accessible by personal access token",
            );
            response.headers_mut().insert(
                "x-accepted-github-permissions",
                HeaderValue::from_static(needs),
            );
            return response;
        }
        Some(_) => {}
    }
    if !headers.contains_key(USER_AGENT) {
        return github_error(StatusCode::FORBIDDEN, NO_USER_AGENT_MESSAGE);
    }
    let Some(route) = route else {
        return not_found();
    };
    if !state.repo_exists(&route.repo) {
        return not_found();
    }

    match &route.endpoint {
        Endpoint::PublicKey => match &state.public_key_override {
            Some(raw) => json_response(StatusCode::OK, raw.clone()),
            None => json_value(
                StatusCode::OK,
                &json!({"key_id": KEY_ID, "key": BASE64.encode(state.public_key.as_bytes())}),
            ),
        },
        Endpoint::List => {
            if let Some(failure) = state.list_failure(&route.repo) {
                return injected(failure);
            }
            list(state, &route, query)
        }
        Endpoint::Get(name) => match state.secret(&route.repo, name) {
            Some(secret) => json_value(StatusCode::OK, &secret_json(&name.to_uppercase(), secret)),
            None => not_found(),
        },
        Endpoint::Put(name) => {
            let name = name.to_uppercase();
            if let Some(failure) = state.write_failure(&route.repo, &name) {
                return injected(failure);
            }
            put(state, &route.repo, &name, body)
        }
        Endpoint::Delete(name) => {
            let name = name.to_uppercase();
            if let Some(failure) = state.write_failure(&route.repo, &name) {
                return injected(failure);
            }
            let removed = state
                .secrets
                .get_mut(&route.repo)
                .and_then(|secrets| secrets.remove(&name));
            match removed {
                Some(_) => empty(StatusCode::NO_CONTENT),
                None => not_found(),
            }
        }
    }
}

fn list(state: &State, route: &Route, query: &str) -> Response {
    let mut per_page = DEFAULT_PER_PAGE;
    let mut page = 1;
    for (key, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
        // Like GitHub, ignore values that are not numbers.
        match (key, value.parse::<u64>()) {
            ("per_page", Ok(n)) => per_page = n.clamp(1, MAX_PER_PAGE),
            ("page", Ok(n)) => page = n.max(1),
            _ => {}
        }
    }
    let empty_repo = BTreeMap::new();
    let secrets = state.secrets.get(&route.repo).unwrap_or(&empty_repo);
    let total = secrets.len() as u64;
    let last = total.div_ceil(per_page).max(1);
    let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let items: Vec<Value> = secrets
        .iter()
        .skip(skip)
        .take(per_page as usize)
        .map(|(name, secret)| secret_json(name, secret))
        .collect();
    let mut response = json_value(
        StatusCode::OK,
        &json!({"total_count": total, "secrets": items}),
    );

    let base = format!(
        "{}/repos/{}/{}/actions/secrets",
        state.api_url, route.raw_owner, route.raw_repo
    );
    let link = |n: u64, rel: &str| format!("<{base}?per_page={per_page}&page={n}>; rel=\"{rel}\"");
    // GitHub's order: prev, next, last, first.
    let mut links = Vec::new();
    if page > 1 {
        links.push(link((page - 1).min(last), "prev"));
    }
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
    }
    if !links.is_empty() {
        if let Ok(value) = HeaderValue::from_str(&links.join(", ")) {
            response.headers_mut().insert(LINK, value);
        }
    }
    response
}

fn put(state: &mut State, repo: &str, name: &str, body: Option<Bytes>) -> Response {
    if let Err(reason) = check_name(name) {
        return validation_failed("name", "invalid", reason);
    }
    let Some(Ok(Value::Object(fields))) = body.map(|b| serde_json::from_slice::<Value>(&b)) else {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "Problems parsing JSON");
    };
    let (Some(encrypted), Some(key_id)) = (
        fields.get("encrypted_value").and_then(Value::as_str),
        fields.get("key_id").and_then(Value::as_str),
    ) else {
        let missing = if fields
            .get("encrypted_value")
            .and_then(Value::as_str)
            .is_none()
        {
            "encrypted_value"
        } else {
            "key_id"
        };
        return validation_failed(
            missing,
            "missing_field",
            &format!("\"{missing}\" wasn't supplied as a string."),
        );
    };
    if key_id != KEY_ID {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "Bad key_id");
    }
    let Ok(ciphertext) = BASE64.decode(encrypted) else {
        return validation_failed("encrypted_value", "invalid", "is not valid base64");
    };
    let Ok(plaintext) = state.secret_key.unseal(&ciphertext) else {
        return validation_failed(
            "encrypted_value",
            "invalid",
            "could not be decrypted with the repository's public key",
        );
    };
    if state.store(repo, name, ciphertext, plaintext) {
        json_response(StatusCode::CREATED, "{}".to_owned())
    } else {
        empty(StatusCode::NO_CONTENT)
    }
}

fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err("Secret names can only contain alphanumeric characters ([A-Z], [0-9]) or underscores (_).");
    }
    if name.as_bytes()[0].is_ascii_digit() {
        return Err("Secret names must not start with a number.");
    }
    if name.to_ascii_uppercase().starts_with("GITHUB_") {
        return Err("Secret names must not start with the GITHUB_ prefix.");
    }
    Ok(())
}

fn secret_json(name: &str, secret: &Secret) -> Value {
    json!({"name": name, "created_at": secret.created_at, "updated_at": secret.updated_at})
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    response
}

fn json_value(status: StatusCode, value: &Value) -> Response {
    json_response(status, value.to_string())
}

fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

fn github_error(status: StatusCode, message: &str) -> Response {
    json_value(
        status,
        &json!({"message": message, "documentation_url": DOCS_URL}),
    )
}

fn not_found() -> Response {
    github_error(StatusCode::NOT_FOUND, "Not Found")
}

fn validation_failed(field: &str, code: &str, message: &str) -> Response {
    json_value(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({
            "message": "Validation Failed",
            "errors": [{"resource": "Secret", "field": field, "code": code, "message": message}],
            "documentation_url": DOCS_URL,
        }),
    )
}

fn injected(failure: &Injected) -> Response {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // These statuses may not carry a body.
    if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return empty(status);
    }
    github_error(status, &failure.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPO: &str = "acme/app";

    struct Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Reply {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }

        fn json(&self) -> Value {
            serde_json::from_str(&self.body).expect("response body is JSON")
        }
    }

    /// A minimal blocking HTTP/1.1 client on its own thread, so the tests exercise the real socket
    /// without extra crates (tokio's `io-util` feature is not enabled).
    async fn raw(sandbox: &Sandbox, request_head: &str, body: &str) -> Reply {
        let host = sandbox.api_url().trim_start_matches("http://").to_owned();
        let request = format!(
            "{request_head}Host: {host}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let text = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect(&host).expect("connect");
            stream.write_all(request.as_bytes()).expect("write");
            let mut text = String::new();
            stream
                .read_to_string(&mut text)
                .expect("read a utf-8 response");
            text
        })
        .await
        .expect("client thread");
        let (head, body) = text.split_once("\r\n\r\n").expect("header end");
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .expect("status line");
        let headers = lines
            .filter_map(|line| line.split_once(": "))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<Vec<_>>();
        assert!(
            !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("transfer-encoding")),
            "the test client does not decode chunked bodies"
        );
        Reply {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    async fn call_as(
        sandbox: &Sandbox,
        token: &str,
        method: &str,
        target: &str,
        body: &str,
    ) -> Reply {
        let head = format!(
            "{method} {target} HTTP/1.1\r\nAuthorization: Bearer {token}\r\nUser-Agent: sandbox-test\r\n"
        );
        raw(sandbox, &head, body).await
    }

    async fn call(sandbox: &Sandbox, method: &str, target: &str, body: &str) -> Reply {
        call_as(sandbox, "sandbox-token", method, target, body).await
    }

    fn secrets_path(name: &str) -> String {
        format!("/repos/{REPO}/actions/secrets/{name}")
    }

    fn sealed_body(sandbox: &Sandbox, plaintext: &[u8]) -> String {
        let ciphertext = PublicKey::from(sandbox.public_key_bytes())
            .seal(&mut OsRng, plaintext)
            .expect("seal");
        json!({"encrypted_value": BASE64.encode(ciphertext), "key_id": KEY_ID}).to_string()
    }

    async fn put_value(sandbox: &Sandbox, name: &str, plaintext: &[u8]) -> Reply {
        let body = sealed_body(sandbox, plaintext);
        call(sandbox, "PUT", &secrets_path(name), &body).await
    }

    async fn started() -> Sandbox {
        Sandbox::start(SandboxConfig::default())
            .await
            .expect("start sandbox")
    }

    #[tokio::test]
    async fn public_key_round_trips_through_put_and_unseal() {
        let sandbox = started().await;
        let reply = call(&sandbox, "GET", &secrets_path("public-key"), "").await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some(JSON_CONTENT_TYPE));
        let key = reply.json();
        assert_eq!(key["key_id"], KEY_ID);
        let key_bytes = BASE64
            .decode(key["key"].as_str().expect("key"))
            .expect("base64");
        assert_eq!(key_bytes, sandbox.public_key_bytes());
        assert_eq!(
            SecretKey::from(sandbox.secret_key_bytes())
                .public_key()
                .to_bytes(),
            sandbox.public_key_bytes()
        );

        let created = put_value(&sandbox, "api_token", b"first").await;
        assert_eq!((created.status, created.body.as_str()), (201, "{}"));
        let updated = put_value(&sandbox, "API_TOKEN", b"second").await;
        assert_eq!((updated.status, updated.body.as_str()), (204, ""));

        assert_eq!(sandbox.names(REPO), vec!["API_TOKEN"]);
        assert_eq!(
            sandbox.plaintext(REPO, "api_token"),
            Some(b"second".to_vec())
        );
        let ciphertext = sandbox.ciphertext("Acme/App", "API_TOKEN").expect("stored");
        assert_eq!(ciphertext.len(), b"second".len() + 48);

        let one = call(&sandbox, "GET", &secrets_path("Api_Token"), "").await;
        assert_eq!(one.status, 200);
        let one = one.json();
        assert_eq!(one["name"], "API_TOKEN");
        assert_eq!(
            one["updated_at"].as_str(),
            sandbox.updated_at(REPO, "API_TOKEN").as_deref()
        );
        assert_ne!(one["created_at"], one["updated_at"]);
    }

    #[tokio::test]
    async fn rejects_bad_credentials_missing_user_agent_and_no_secrets_tokens() {
        let sandbox = started().await;
        let target = format!("/repos/{REPO}/actions/secrets");
        let bad = call_as(&sandbox, "nope", "GET", &target, "").await;
        assert_eq!(bad.status, 401);
        assert_eq!(bad.json()["message"], "Bad credentials");
        assert_eq!(bad.json()["documentation_url"], DOCS_URL);

        let anonymous = raw(
            &sandbox,
            &format!("GET {target} HTTP/1.1\r\nUser-Agent: t\r\n"),
            "",
        )
        .await;
        assert_eq!(anonymous.status, 401);

        let token_scheme = raw(
            &sandbox,
            &format!(
                "GET {target} HTTP/1.1\r\nAuthorization: token sandbox-token\r\nUser-Agent: t\r\n"
            ),
            "",
        )
        .await;
        assert_eq!(token_scheme.status, 200);

        let no_agent = raw(
            &sandbox,
            &format!("GET {target} HTTP/1.1\r\nAuthorization: Bearer sandbox-token\r\n"),
            "",
        )
        .await;
        assert_eq!(no_agent.status, 403);

        sandbox.add_token("read-only", TokenAccess::NoSecrets);
        let forbidden = call_as(&sandbox, "read-only", "GET", &target, "").await;
        assert_eq!(forbidden.status, 403);
        assert_eq!(
            forbidden.json()["message"],
            "Resource not accessible by personal access token"
        );

        let statuses: Vec<u16> = sandbox.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, vec![401, 401, 200, 403, 403]);
        assert_eq!(sandbox.requests()[0].path, target);
        sandbox.clear_requests();
        assert!(sandbox.requests().is_empty());
    }

    #[tokio::test]
    async fn unknown_repo_and_unknown_route_are_not_found() {
        let config = SandboxConfig {
            repos: Some(BTreeSet::from(["Acme/App".to_owned()])),
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::start(config).await.expect("start");
        let known = call(&sandbox, "GET", "/repos/acme/app/actions/secrets", "").await;
        assert_eq!(known.status, 200);
        assert_eq!(known.json(), json!({"total_count": 0, "secrets": []}));
        assert!(known.header("link").is_none());

        let unknown = call(&sandbox, "GET", "/repos/acme/other/actions/secrets", "").await;
        assert_eq!(unknown.status, 404);
        assert_eq!(
            unknown.json(),
            json!({"message": "Not Found", "documentation_url": DOCS_URL})
        );
        let elsewhere = call(&sandbox, "GET", "/user", "").await;
        assert_eq!(elsewhere.status, 404);
        let wrong_method = call(&sandbox, "POST", "/repos/acme/app/actions/secrets", "").await;
        assert_eq!(wrong_method.status, 404);
    }

    #[tokio::test]
    async fn lists_in_pages_with_github_link_headers() {
        let sandbox = started().await;
        for i in 0..150 {
            sandbox.put_outside(REPO, &format!("secret_{i:03}"), b"v");
        }
        let base = format!("/repos/{REPO}/actions/secrets");
        let first = call(&sandbox, "GET", &format!("{base}?per_page=100&page=1"), "").await;
        assert_eq!(first.status, 200);
        let body = first.json();
        assert_eq!(body["total_count"], 150);
        let names = body["secrets"].as_array().expect("secrets");
        assert_eq!(names.len(), 100);
        assert_eq!(names[0]["name"], "SECRET_000");
        let url = sandbox.api_url();
        assert_eq!(
            first.header("link"),
            Some(
                format!(
                    "<{url}{base}?per_page=100&page=2>; rel=\"next\", <{url}{base}?per_page=100&page=2>; rel=\"last\""
                )
                .as_str()
            )
        );

        let second = call(&sandbox, "GET", &format!("{base}?page=2&per_page=100"), "").await;
        let body = second.json();
        let names = body["secrets"].as_array().expect("secrets");
        assert_eq!(names.len(), 50);
        assert_eq!(names[49]["name"], "SECRET_149");
        let link = second.header("link").expect("link on the last page");
        assert!(link.contains("rel=\"prev\"") && link.contains("rel=\"first\""));
        assert!(!link.contains("rel=\"next\""));

        let default_page = call(&sandbox, "GET", &base, "").await;
        assert_eq!(
            default_page.json()["secrets"].as_array().map(Vec::len),
            Some(30)
        );
        let clamped = call(&sandbox, "GET", &format!("{base}?per_page=500"), "").await;
        assert_eq!(
            clamped.json()["secrets"].as_array().map(Vec::len),
            Some(100)
        );
        let beyond = call(&sandbox, "GET", &format!("{base}?per_page=100&page=3"), "").await;
        assert_eq!(beyond.json()["secrets"], json!([]));
        assert_eq!(sandbox.requests()[0].query, "per_page=100&page=1");
    }

    #[tokio::test]
    async fn put_validates_name_body_key_id_and_ciphertext() {
        let sandbox = started().await;
        let good = sealed_body(&sandbox, b"value");
        for name in ["1ABC", "GITHUB_TOKEN", "github_x", "BAD-NAME", "A%20B"] {
            let reply = call(&sandbox, "PUT", &secrets_path(name), &good).await;
            assert_eq!(reply.status, 422, "{name}");
        }
        let bad_key_id = json!({"encrypted_value": "AAAA", "key_id": "other"}).to_string();
        let reply = call(&sandbox, "PUT", &secrets_path("OK"), &bad_key_id).await;
        assert_eq!(reply.status, 422);
        assert_eq!(reply.json()["message"], "Bad key_id");

        let garbage = json!({"encrypted_value": BASE64.encode([7u8; 60]), "key_id": KEY_ID});
        let reply = call(&sandbox, "PUT", &secrets_path("OK"), &garbage.to_string()).await;
        assert_eq!(reply.status, 422);
        assert_eq!(reply.json()["errors"][0]["field"], "encrypted_value");

        let other_key = SecretKey::generate(&mut OsRng).public_key();
        let sealed = other_key.seal(&mut OsRng, b"value").expect("seal");
        let wrong_key = json!({"encrypted_value": BASE64.encode(sealed), "key_id": KEY_ID});
        let reply = call(&sandbox, "PUT", &secrets_path("OK"), &wrong_key.to_string()).await;
        assert_eq!(reply.status, 422);

        for body in [
            "not json",
            "{}",
            r#"{"key_id":"sandbox-key-1"}"#,
            r#"{"encrypted_value":"!!!","key_id":"sandbox-key-1"}"#,
        ] {
            let reply = call(&sandbox, "PUT", &secrets_path("OK"), body).await;
            assert_eq!(reply.status, 422, "{body}");
        }
        assert!(sandbox.names(REPO).is_empty());
    }

    #[tokio::test]
    async fn delete_then_not_found() {
        let sandbox = started().await;
        sandbox.put_outside(REPO, "gone", b"x");
        let deleted = call(&sandbox, "DELETE", &secrets_path("GONE"), "").await;
        assert_eq!((deleted.status, deleted.body.as_str()), (204, ""));
        let again = call(&sandbox, "DELETE", &secrets_path("GONE"), "").await;
        assert_eq!(again.status, 404);
        let get = call(&sandbox, "GET", &secrets_path("GONE"), "").await;
        assert_eq!(get.status, 404);
        assert!(sandbox.plaintext(REPO, "GONE").is_none());
    }

    #[tokio::test]
    async fn injected_failures_answer_until_cleared() {
        let sandbox = started().await;
        sandbox.inject_write_failure(REPO, "flaky", 502, "Server Error");
        sandbox.inject_list_failure("*", 403, "API rate limit exceeded");
        let put = put_value(&sandbox, "FLAKY", b"x").await;
        assert_eq!(put.status, 502);
        assert_eq!(put.json()["message"], "Server Error");
        let delete = call(&sandbox, "DELETE", &secrets_path("flaky"), "").await;
        assert_eq!(delete.status, 502);
        assert_eq!(put_value(&sandbox, "STEADY", b"x").await.status, 201);

        let list = call(&sandbox, "GET", "/repos/any/where/actions/secrets", "").await;
        assert_eq!(list.status, 403);
        assert_eq!(list.json()["message"], "API rate limit exceeded");

        sandbox.clear_failures();
        assert_eq!(put_value(&sandbox, "FLAKY", b"x").await.status, 201);
        let list = call(
            &sandbox,
            "GET",
            &format!("/repos/{REPO}/actions/secrets"),
            "",
        )
        .await;
        assert_eq!(list.json()["total_count"], 2);
    }

    #[tokio::test]
    async fn updated_at_strictly_increases_across_quick_writes() {
        let sandbox = started().await;
        put_value(&sandbox, "CLOCK", b"1").await;
        let first = sandbox.updated_at(REPO, "CLOCK").expect("stored");
        put_value(&sandbox, "CLOCK", b"2").await;
        let second = sandbox.updated_at(REPO, "CLOCK").expect("stored");
        sandbox.put_outside(REPO, "CLOCK", b"3");
        let third = sandbox.updated_at(REPO, "CLOCK").expect("stored");
        assert!(first < second && second < third, "{first} {second} {third}");
        assert!(chrono::DateTime::parse_from_rfc3339(&third).is_ok());
        assert!(third.ends_with('Z') && third.len() == "2026-11-29T05:00:00Z".len());
        assert_eq!(sandbox.plaintext(REPO, "CLOCK"), Some(b"3".to_vec()));
    }

    #[tokio::test]
    async fn public_key_override_and_latency() {
        let sandbox = started().await;
        sandbox.override_public_key(Some(r#"{"key_id":"x","key":"short"}"#.to_owned()));
        let reply = call(&sandbox, "GET", &secrets_path("public-key"), "").await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, r#"{"key_id":"x","key":"short"}"#)
        );
        sandbox.override_public_key(None);
        let reply = call(&sandbox, "GET", &secrets_path("public-key"), "").await;
        assert_eq!(reply.json()["key_id"], KEY_ID);

        sandbox.set_latency(Duration::from_millis(200));
        let started_at = std::time::Instant::now();
        call(&sandbox, "GET", &secrets_path("public-key"), "").await;
        assert!(started_at.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn spawned_sandbox_serves_from_its_own_thread_and_stops_on_drop() {
        let sandbox = Sandbox::spawn(SandboxConfig::default()).expect("spawn");
        let url = sandbox.api_url();
        assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'));
        assert_eq!(put_value(&sandbox, "FROM_THREAD", b"hi").await.status, 201);
        assert_eq!(sandbox.plaintext(REPO, "FROM_THREAD"), Some(b"hi".to_vec()));
        let host = url.trim_start_matches("http://").to_owned();
        drop(sandbox);
        // Shutdown is asynchronous; the listener should close shortly after the drop.
        let mut closed = false;
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(&host).await.is_err() {
                closed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(closed, "sandbox still accepting connections after drop");
    }
}
