//! A local, in-memory, GitHub-compatible REST API for Actions secrets and variables in every
//! scope: repository, environment, organization, and Dependabot (repository and organization).
//!
//! `secretsync sandbox` serves it for offline rehearsals, `secretsync demo` runs it in-process, and
//! integration tests start it, point the real binary at [`Sandbox::api_url`], then inspect and
//! manipulate its state directly. It holds an X25519 keypair per scope and unseals every value it
//! receives to verify it, answering with GitHub's status codes and JSON shapes. It can impose
//! GitHub's primary and secondary rate limits, inject transient faults (502, dropped connections)
//! and measure a client's concurrency. It never prints or logs plaintexts or tokens.
#![forbid(unsafe_code)]
// Handlers return `Err(Response)` for GitHub's error answers: one per request, on its way out, so
// its size costs nothing that matters.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxumState};
use axum::response::Response;
use axum::Router;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use crypto_box::aead::OsRng;
use crypto_box::{PublicKey, SecretKey};
use http::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LINK, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Map, Value};
use tokio::sync::oneshot;

const KEY_ID: &str = "sandbox-key-1";
const DOCS_URL: &str = "https://docs.github.com/rest";
const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// Far above GitHub's 48 KB value limit once sealed and base64-encoded.
const MAX_BODY_BYTES: usize = 1 << 20;
const DEFAULT_PER_PAGE: u64 = 30;
const MAX_PER_PAGE: u64 = 100;
const VARIABLES_DEFAULT_PER_PAGE: u64 = 10;
const VARIABLES_MAX_PER_PAGE: u64 = 30;
/// GitHub's limit on a variable's value, like a secret's.
const MAX_VARIABLE_BYTES: usize = 48 * 1024;
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
    /// Authenticates, but every variables endpoint answers 403 (a fine-grained token without
    /// the "Variables" or "Environments" permission).
    NoVariables,
}

/// What kind of token a registered token plays, as GitHub tells them apart in its answers.
///
/// - `Classic`: a personal access token (classic) or an OAuth token with these scopes. Every
///   answer carries `X-OAuth-Scopes`. Without `repo` the sandbox's repositories (all private)
///   are hidden: 404 on everything under `/repos/{o}/{r}`, and an empty `/orgs/{org}/repos`.
///   Without `admin:org`, organization secrets and variables answer 403 "Must have admin rights
///   to Repository." with `X-Accepted-OAuth-Scopes: admin:org`.
/// - `FineGrained`: a fine-grained personal access token; no `X-OAuth-Scopes`.
/// - `App`: a GitHub App installation token: `GET /user` answers 403 "Resource not accessible by
///   integration", and `GET /installation/repositories` lists the repositories.
///
/// A token added with [`Sandbox::add_token`] (and `SandboxConfig::token`) is `Classic` with
/// [`DEFAULT_SCOPES`] for [`TokenAccess::Full`], and `FineGrained` for
/// [`TokenAccess::NoSecrets`] and [`TokenAccess::NoVariables`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    Classic(Vec<String>),
    FineGrained,
    App,
}

/// The scopes of the default classic token.
pub const DEFAULT_SCOPES: &[&str] = &["repo", "admin:org"];

/// The `login` that `GET /user` answers for personal tokens.
pub const SANDBOX_LOGIN: &str = "sandbox-user";

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

/// Which secrets or variables: the scopes GitHub keeps them in. Repository and organization
/// names are matched case-insensitively, and so are environment names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `owner/repo`: repository Actions secrets and variables.
    Repo(String),
    /// (`owner/repo`, environment name): environment secrets and variables.
    Environment(String, String),
    /// Organization Actions secrets and variables.
    Org(String),
    /// `owner/repo`: repository Dependabot secrets (Dependabot has no variables).
    DependabotRepo(String),
    /// Organization Dependabot secrets.
    DependabotOrg(String),
}

/// GitHub's primary rate limit, shrunk for tests: see [`Sandbox::set_primary_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrimaryLimit {
    /// Requests allowed before every request answers 403.
    pub requests: u32,
    /// How long after the budget ran out it refills.
    pub reset_after: Duration,
}

/// GitHub's secondary rate limits: see [`Sandbox::set_secondary_limit`]. The default limits
/// nothing; [`SecondaryLimit::github`] is GitHub's model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondaryLimit {
    /// Writes (PUT, POST, PATCH, DELETE) allowed within any `window`, whatever their endpoint;
    /// more answer 429.
    pub writes: u32,
    pub window: Duration,
    /// Seconds sent in `retry-after` on a 429 or 403; `None` omits the header.
    pub retry_after: Option<u64>,
    /// Requests in flight at once: one arriving while this many are in flight answers 403.
    pub in_flight: Option<usize>,
    /// Points each endpoint (method and path, names replaced) may spend within any `window`,
    /// counted on arrival; a request past them answers 403.
    pub points: Option<u32>,
    /// What a GET costs against `points`.
    pub read_points: u32,
    /// What a PUT, POST, PATCH or DELETE costs against `points`.
    pub write_points: u32,
}

impl Default for SecondaryLimit {
    fn default() -> SecondaryLimit {
        SecondaryLimit {
            writes: u32::MAX,
            window: Duration::from_secs(60),
            retry_after: Some(60),
            in_flight: None,
            points: None,
            read_points: 1,
            write_points: 5,
        }
    }
}

impl SecondaryLimit {
    /// GitHub's model, shrunk for tests: `in_flight` at once, and `points` per endpoint per
    /// `window` at GitHub's costs (a read 1, a write 5), answered 403 with `retry-after`.
    pub fn github(in_flight: usize, points: u32, window: Duration, retry_after: u64) -> Self {
        SecondaryLimit {
            window,
            retry_after: Some(retry_after),
            in_flight: Some(in_flight),
            points: Some(points),
            ..SecondaryLimit::default()
        }
    }
}

/// A fault for the next requests: see [`Sandbox::inject_transient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transient {
    /// Answer 502 with a GitHub-shaped body.
    BadGateway,
    /// Close the connection without sending any response.
    Drop,
}

mod access;
#[cfg(feature = "contract")]
mod contract;
mod faults;
mod handle;
mod identity;
mod limits;
mod named;
mod respond;
mod routes;
mod secrets;
mod server;
mod shapes;
mod store;
#[cfg(test)]
mod tests;
mod tls;
mod traffic;
mod variables;

pub use faults::{Fault, FaultKind};
use respond::*;
use server::{app, serve};
use store::*;
pub use tls::{TestCa, ENTERPRISE_API_PREFIX};

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
        let url = format!("http://{}", reachable(listener.local_addr()?));
        let (sandbox, shutdown) = Sandbox::new(&config, url);
        tokio::spawn(serve(listener, app(sandbox.state.clone(), ""), shutdown));
        Ok(sandbox)
    }

    /// Start on a dedicated thread with its own tokio runtime (used by tests and sync callers).
    pub fn spawn(config: SandboxConfig) -> std::io::Result<Sandbox> {
        Sandbox::spawn_with(config, |listener, state, shutdown| {
            let url = format!("http://{}", reachable(listener.local_addr()?));
            Ok((url, serve(listener, app(state, ""), shutdown)))
        })
    }

    /// Binds, then on the runtime's thread runs what `serving` makes of the listener, the state
    /// and the shutdown signal; `serving` also names the URL the sandbox is reached at.
    fn spawn_with<F>(
        config: SandboxConfig,
        serving: impl FnOnce(
            tokio::net::TcpListener,
            Shared,
            oneshot::Receiver<()>,
        ) -> std::io::Result<(String, F)>,
    ) -> std::io::Result<Sandbox>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let std_listener = std::net::TcpListener::bind(config.addr)?;
        std_listener.set_nonblocking(true)?;
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let (tx, rx) = oneshot::channel();
        let state: Shared = Arc::new(Mutex::new(State::new(&config, String::new())));
        let (url, served) = serving(listener, state.clone(), rx)?;
        lock(&state).api_url = url.clone();
        std::thread::Builder::new()
            .name("secretsync-sandbox".to_owned())
            .spawn(move || runtime.block_on(served))?;
        Ok(Sandbox {
            state,
            api_url: url,
            shutdown: Some(tx),
        })
    }

    fn new(config: &SandboxConfig, api_url: String) -> (Sandbox, oneshot::Receiver<()>) {
        let state = State::new(config, api_url.clone());
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
        let state = lock(&self.state);
        state.answered.iter().map(|a| a.record.clone()).collect()
    }

    /// Each request's headers and body as it arrived, in arrival order, but its `Authorization`
    /// header and a sealed `encrypted_value`: what a leak test searches for secrets. Taken, so
    /// the next call returns only what came since (each run's requests searched once).
    pub fn take_traffic(&self) -> Vec<Vec<u8>> {
        let mut state = lock(&self.state);
        let arrivals = state.arrivals.iter_mut();
        arrivals.filter_map(|a| a.traffic.take()).collect()
    }

    /// The round trips on the critical path of the requests answered so far: the longest chain
    /// of requests each of which arrived after the one before it was answered. Requests sent
    /// together (arriving before any of them is answered) are one round trip; a request that
    /// needed an earlier answer is a round trip more. Meaningful under injected latency, which
    /// keeps requests sent together from being answered before the last of them arrives.
    pub fn round_trips(&self) -> usize {
        let state = lock(&self.state);
        let spans: Vec<_> = state
            .answered
            .iter()
            .map(|a| (a.arrived, a.answered))
            .collect();
        round_trips(&spans)
    }

    pub fn clear_requests(&self) {
        let mut state = lock(&self.state);
        state.arrivals.clear();
        state.answered.clear();
    }

    /// How many `method` requests whose path ends with `path_suffix` have arrived, answered or
    /// not: a test can wait for a request to be in flight (under latency, say) without guessing
    /// how long it takes to be sent.
    pub fn arrived(&self, method: &str, path_suffix: &str) -> usize {
        let state = lock(&self.state);
        let arrivals = state.arrivals.iter();
        arrivals
            .filter(|a| faults::aimed_at(Some(method), path_suffix, &a.method, &a.path))
            .count()
    }

    /// Secret names of `repo` (`owner/repo`), sorted and upper-case.
    pub fn names(&self, repo: &str) -> Vec<String> {
        self.scope_names(&Scope::Repo(repo.to_owned()))
    }

    pub fn plaintext(&self, repo: &str, name: &str) -> Option<Vec<u8>> {
        self.scope_plaintext(&Scope::Repo(repo.to_owned()), name)
    }

    pub fn ciphertext(&self, repo: &str, name: &str) -> Option<Vec<u8>> {
        self.scope_ciphertext(&Scope::Repo(repo.to_owned()), name)
    }

    pub fn updated_at(&self, repo: &str, name: &str) -> Option<String> {
        self.scope_updated_at(&Scope::Repo(repo.to_owned()), name)
    }

    /// The private key of every repository's Actions secrets (other scopes have their own).
    pub fn secret_key_bytes(&self) -> [u8; 32] {
        lock(&self.state).secret_key.to_bytes()
    }

    pub fn public_key_bytes(&self) -> [u8; 32] {
        lock(&self.state).public_key.to_bytes()
    }

    /// As if someone set the secret in GitHub's web UI: stores it and bumps updated_at.
    pub fn put_outside(&self, repo: &str, name: &str, plaintext: &[u8]) {
        self.scope_put_outside(&Scope::Repo(repo.to_owned()), name, plaintext);
    }

    /// Writes of `name` in `repo` ("*" = any repo, and also any name) answer `status` with
    /// GitHub-shaped `message`, until [`Sandbox::clear_failures`]. This covers PUT and DELETE of
    /// secrets and POST, PATCH and DELETE of variables in every scope; `repo` is the
    /// `owner/repo` of repository and environment scopes and the organization of org scopes.
    pub fn inject_write_failure(&self, repo: &str, name: &str, status: u16, message: &str) {
        let key = (repo_key(repo), name.to_uppercase());
        let injected = Injected {
            status,
            message: message.to_owned(),
        };
        lock(&self.state).write_failures.insert(key, injected);
    }

    /// Listing secrets or variables of `repo` ("*" = any; an organization for org scopes)
    /// answers `status` with `message`, until [`Sandbox::clear_failures`].
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

    /// Serve this raw JSON body (status 200) for every public-key request, in every scope,
    /// instead of the real key.
    pub fn override_public_key(&self, raw_json: Option<String>) {
        lock(&self.state).public_key_override = raw_json;
    }

    /// Accepts `token` with `access`: a classic token with [`DEFAULT_SCOPES`] for
    /// [`TokenAccess::Full`], a fine-grained one for [`TokenAccess::NoSecrets`] (see
    /// [`TokenKind`]; `add_classic_token` and the like choose the kind).
    pub fn add_token(&self, token: &str, access: TokenAccess) {
        let mut state = lock(&self.state);
        state.tokens.insert(token.to_owned(), access);
        state.token_kinds.remove(token);
    }

    /// Set or change latency at run time.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state).latency = latency;
    }
}

/// A sandbox bound to every interface is still reached through loopback from here.
fn reachable(local: SocketAddr) -> SocketAddr {
    match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), local.port())
        }
        _ => local,
    }
}

/// The longest chain of `(arrived, answered)` spans, each arriving at or after the answer of the
/// one before.
fn round_trips(spans: &[(Instant, Instant)]) -> usize {
    let mut spans = spans.to_vec();
    spans.sort();
    let mut depth = vec![0usize; spans.len()];
    for i in 0..spans.len() {
        let before = (0..i)
            .filter(|&j| spans[j].1 <= spans[i].0)
            .map(|j| depth[j])
            .max()
            .unwrap_or(0);
        depth[i] = before + 1;
    }
    depth.into_iter().max().unwrap_or(0)
}

#[cfg(test)]
mod round_trip_tests {
    use super::*;

    #[test]
    fn requests_sent_together_are_one_round_trip_and_each_dependent_one_more() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        assert_eq!(round_trips(&[]), 0);
        // Three at once: one round trip.
        let together = [(at(0), at(100)), (at(1), at(101)), (at(2), at(102))];
        assert_eq!(round_trips(&together), 1);
        // Then one after the first answer, and one after that: three round trips.
        let mut chain = together.to_vec();
        chain.push((at(101), at(201)));
        chain.push((at(202), at(302)));
        assert_eq!(round_trips(&chain), 3);
        // A late request that overlapped the others is no extra round trip.
        chain.push((at(150), at(250)));
        assert_eq!(round_trips(&chain), 3);
    }
}
