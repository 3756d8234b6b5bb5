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

mod server;
mod store;
#[cfg(test)]
mod tests;

use server::serve;
use store::*;

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
