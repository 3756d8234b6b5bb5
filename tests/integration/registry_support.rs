//! Test-only helpers for `registry.rs`: a real `docker-registry` (Debian's distribution 2.8)
//! started on 127.0.0.1 with a temp config and killed on drop, in htpasswd or token mode, with or
//! without a self-signed TLS certificate; and the token server of the tests' own, which checks
//! basic auth against its user table and issues RS256 JWTs the registry verifies.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::support::require_tools;

/// The programs these tests drive, with their Debian packages.
pub const TOOLS: &[(&str, &str)] = &[
    ("docker-registry", "docker-registry"),
    ("htpasswd", "apache2-utils"),
    ("openssl", "openssl"),
];

/// Whether `docker-registry`, `htpasswd` and `openssl` are here (skip, or fail under CI).
pub fn tools(test: &str) -> bool {
    require_tools(test, TOOLS)
}

pub const SERVICE: &str = "secretsync-test-registry";
pub const ISSUER: &str = "secretsync-test-issuer";

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn run(program: &str, args: &[&str], dir: &Path) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How the registry authenticates.
pub enum RegistryAuth<'a> {
    /// `htpasswd -Bbc` users: any of them may push anywhere.
    Htpasswd(&'a [(&'a str, &'a str)]),
    /// Tokens from `server`, verified with its certificate.
    Token(&'a TokenServer),
}

/// A running `docker-registry serve`, killed (and its folder removed) on drop.
pub struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Registry {
    /// A plain-HTTP registry on 127.0.0.1.
    pub fn start(auth: RegistryAuth) -> Registry {
        Self::start_with(auth, false)
    }

    /// With `tls`, it serves HTTPS with a self-signed certificate for 127.0.0.1.
    pub fn start_with(auth: RegistryAuth, tls: bool) -> Registry {
        // A port taken between `free_port` and the registry's bind: try again with another.
        let mut last = String::new();
        for _ in 0..3 {
            match Self::try_start(&auth, tls) {
                Ok(registry) => return registry,
                Err(log) => last = log,
            }
        }
        panic!("docker-registry did not start; its log:\n{last}");
    }

    /// `127.0.0.1:PORT`: a bare loopback address, which the check takes as http.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    fn try_start(auth: &RegistryAuth, tls: bool) -> Result<Registry, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let auth_yaml = match auth {
            RegistryAuth::Htpasswd(users) => {
                let file = dir.path().join("htpasswd");
                let file = file.to_str().expect("utf-8 path");
                for (i, (user, password)) in users.iter().enumerate() {
                    let flags = if i == 0 { "-Bbc" } else { "-Bb" };
                    run("htpasswd", &[flags, file, user, password], dir.path());
                }
                format!("auth:\n  htpasswd:\n    realm: secretsync-test\n    path: {file}\n")
            }
            RegistryAuth::Token(server) => format!(
                "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
                server.realm(),
                server.cert.display()
            ),
        };
        let tls_yaml = if tls {
            run(
                "openssl",
                &[
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                    "-keyout",
                    "tls.key",
                    "-out",
                    "tls.crt",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1",
                ],
                dir.path(),
            );
            format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                dir.path().join("tls.crt").display(),
                dir.path().join("tls.key").display()
            )
        } else {
            String::new()
        };
        let config = format!(
            "version: 0.1\n\
             log:\n  level: info\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n  \
             maintenance:\n    uploadpurging:\n      enabled: false\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: secretsync-test-http-secret\n{tls_yaml}\
             {auth_yaml}",
            data = dir.path().join("data").display(),
        );
        std::fs::write(dir.path().join("config.yml"), config).expect("write config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log file");
        let child = Command::new("docker-registry")
            .args(["serve", "config.yml"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .map_err(|e| format!("docker-registry: {e}"))?;
        let mut registry = Registry { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = registry.child.try_wait() {
                return Err(format!("exited with {status}:\n{}", registry.log()));
            }
            if answers(port) {
                return Ok(registry);
            }
            if Instant::now() > deadline {
                return Err(format!("no answer after 30 s:\n{}", registry.log()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `GET /v2/` on the port gets an HTTP status line (even a 400 from a TLS listener).
fn answers(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 8];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

/// A user of the token server: password, and the actions granted per repository (`acme/*`
/// matches every repository under `acme/`).
pub struct User {
    pub name: &'static str,
    pub password: &'static str,
    pub grants: Vec<(&'static str, Vec<&'static str>)>,
}

/// What the token server saw: the query, and whether the password matched.
#[derive(Debug, Clone)]
pub struct Seen {
    pub query: Vec<(String, String)>,
    pub authorized: bool,
}

struct Inner {
    users: Vec<User>,
    key: ring::signature::RsaKeyPair,
    kid: String,
    jti: AtomicU64,
    seen: Mutex<Vec<Seen>>,
}

/// The tests' own token service on 127.0.0.1, stopped on drop. Its signing key is an RSA key
/// made by `openssl`; `cert` is its self-signed certificate, the registry's `rootcertbundle`.
pub struct TokenServer {
    pub port: u16,
    pub cert: PathBuf,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl TokenServer {
    pub async fn start(users: Vec<User>) -> TokenServer {
        let dir = tempfile::tempdir().expect("tempdir");
        run(
            "openssl",
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "token.key",
                "-out",
                "token.crt",
                "-days",
                "2",
                "-subj",
                "/CN=secretsync-test-token",
            ],
            dir.path(),
        );
        run(
            "openssl",
            &[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-in",
                "token.key",
                "-outform",
                "DER",
                "-out",
                "token.pk8",
            ],
            dir.path(),
        );
        run(
            "openssl",
            &[
                "pkey",
                "-in",
                "token.key",
                "-pubout",
                "-outform",
                "DER",
                "-out",
                "token.spki",
            ],
            dir.path(),
        );
        let pkcs8 = std::fs::read(dir.path().join("token.pk8")).expect("pkcs8 key");
        let spki = std::fs::read(dir.path().join("token.spki")).expect("public key");
        let key = ring::signature::RsaKeyPair::from_pkcs8(&pkcs8).expect("an RSA key");
        let inner = Arc::new(Inner {
            users,
            key,
            kid: libtrust_key_id(&spki),
            jti: AtomicU64::new(1),
            seen: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind token server");
        let port = listener.local_addr().expect("addr").port();
        let app = Router::new()
            .route("/token", get(issue))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TokenServer {
            port,
            cert: dir.path().join("token.crt"),
            inner,
            task,
            _dir: dir,
        }
    }

    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen.lock().expect("lock").clone()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// libtrust's key id: base32 of the first 30 bytes of SHA-256 over the DER
/// SubjectPublicKeyInfo, in 12 groups of 4 characters joined by `:`.
pub fn libtrust_key_id(spki_der: &[u8]) -> String {
    let digest = Sha256::digest(spki_der);
    let encoded = base32(&digest[..30]);
    encoded
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

/// RFC 4648 base32 without padding.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u64, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(rest.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn grant_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// `GET /token?service=..&scope=repository:NAME:ACTIONS..`: 401 unless basic auth matches a
/// user; otherwise a token granting what was asked for and the user may do.
async fn issue(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let user = basic_credentials(&headers).and_then(|(name, password)| {
        inner
            .users
            .iter()
            .find(|u| u.name == name && u.password == password)
    });
    inner.seen.lock().expect("lock").push(Seen {
        query: query.clone(),
        authorized: user.is_some(),
    });
    let Some(user) = user else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})),
        )
            .into_response();
    };
    let mut access = Vec::new();
    for (_, scope) in query.iter().filter(|(k, _)| k == "scope") {
        let mut parts = scope.splitn(3, ':');
        let (Some(kind), Some(name), Some(actions)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if kind != "repository" {
            continue;
        }
        let allowed: Vec<&str> = actions
            .split(',')
            .filter(|action| {
                user.grants.iter().any(|(pattern, granted)| {
                    grant_matches(pattern, name) && granted.contains(action)
                })
            })
            .collect();
        access.push(serde_json::json!({"type": "repository", "name": name, "actions": allowed}));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "kid": inner.kid});
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": user.name,
        "aud": SERVICE,
        "iat": now,
        "nbf": now - 10,
        "exp": now + 300,
        "jti": format!("jti-{}", inner.jti.fetch_add(1, Ordering::Relaxed)),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0u8; inner.key.public().modulus_len()];
    inner
        .key
        .sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            signing_input.as_bytes(),
            &mut signature,
        )
        .expect("sign");
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature));
    Json(serde_json::json!({
        "token": token,
        "access_token": token,
        "expires_in": 300,
        "issued_at": "2025-01-01T00:00:00Z",
    }))
    .into_response()
}

#[test]
fn base32_matches_rfc4648() {
    assert_eq!(base32(b""), "");
    assert_eq!(base32(b"f"), "MY");
    assert_eq!(base32(b"fo"), "MZXQ");
    assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    let kid = libtrust_key_id(b"any key");
    assert_eq!(kid.len(), 12 * 4 + 11);
    assert_eq!(kid.split(':').count(), 12);
}

/// A registry that repeats what it was sent, as careless servers do: its Bearer challenge names
/// the host it was reached by (realm and service), its token service and its errors repeat the
/// URL, the repository and the user. It runs on its own thread, for tests that drive the binary,
/// and stops on drop. Repositories are answered by their last component: `denied` (the token
/// service refuses push), `missing` (NAME_UNKNOWN), `odd` (an unexpected 400), `realm` (the token
/// service fails with 500); anything else may be pushed to.
pub struct EchoRegistry {
    pub port: u16,
    /// Each request's query, headers but `Authorization`, and body, as [`EchoRegistry::traffic`].
    traffic: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The token the echo registry's token service issues: opaque, so push is proven by an upload.
const ECHO_TOKEN: &str = "echo-registry-opaque-token";

impl EchoRegistry {
    /// Listening on `ip` (any 127.0.0.0/8 address works on Linux, so a test can reach it by an
    /// address of its own choosing), accepting `user` with `password`.
    pub fn start(ip: &str, user: &str, password: &str) -> EchoRegistry {
        let listener = TcpListener::bind((ip, 0)).expect("bind the echo registry");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let expected = format!("{user}:{password}");
        let traffic = Arc::new(Mutex::new(Vec::new()));
        let kept = traffic.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = Router::new().fallback(
                    move |method: axum::http::Method,
                          uri: axum::http::Uri,
                          headers: HeaderMap,
                          body: axum::body::Bytes| {
                        let expected = expected.clone();
                        kept.lock()
                            .expect("lock")
                            .push(carried(&uri, &headers, &body));
                        async move { echo_answer(&method, &uri, &headers, &expected) }
                    },
                );
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        EchoRegistry {
            port,
            traffic,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl EchoRegistry {
    /// What each request carried but its `Authorization` header (where the password is meant to
    /// go): the query, the other headers and the body, for a leak test to search.
    pub fn traffic(&self) -> Vec<Vec<u8>> {
        self.traffic.lock().expect("lock").clone()
    }
}

/// A request's query, its headers but `Authorization`, and its body.
fn carried(uri: &axum::http::Uri, headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
    let mut out = format!("?{}\n", uri.query().unwrap_or("")).into_bytes();
    for (name, value) in headers {
        if name != axum::http::header::AUTHORIZATION {
            out.extend_from_slice(format!("{name}: ").as_bytes());
            out.extend_from_slice(value.as_bytes());
            out.push(b'\n');
        }
    }
    out.extend_from_slice(body);
    out
}

impl Drop for EchoRegistry {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn echo_errors(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        serde_json::json!({"errors": [{"code": code, "message": message}]}).to_string(),
    )
        .into_response()
}

fn echo_answer(
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    expected: &str,
) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let path = uri.path();
    let query = uri.query().unwrap_or("");
    let url = format!("http://{host}{path}?{query}");
    let auth = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let basic_ok = basic_credentials(headers)
        .is_some_and(|(user, password)| format!("{user}:{password}") == expected);
    let bearer_ok = auth == format!("Bearer {ECHO_TOKEN}");
    let user = expected.split_once(':').map_or("", |(user, _)| user);
    let challenge = format!(r#"Bearer realm="http://{host}/token",service="{host}""#);
    let last = |text: &str, name: &str| text.contains(&format!("%2F{name}%3A"));
    match (method.as_str(), path) {
        ("GET", "/token") if !basic_ok => echo_errors(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            &format!("{auth} may not log in at {url}"),
        ),
        ("GET", "/token") if last(query, "denied") => echo_errors(
            StatusCode::FORBIDDEN,
            "DENIED",
            &format!("no push at {url}"),
        ),
        ("GET", "/token") if last(query, "realm") => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("token service at {url} is down"),
        )
            .into_response(),
        ("GET", "/token") => Json(serde_json::json!({ "token": ECHO_TOKEN })).into_response(),
        _ if !bearer_ok => (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", challenge)],
            format!("log in at http://{host}/token to reach {url}"),
        )
            .into_response(),
        ("GET", "/v2/") => StatusCode::OK.into_response(),
        ("POST", p) if p.ends_with("/missing/blobs/uploads/") => echo_errors(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            &format!("repository name not known to registry: {p} at {host}"),
        ),
        ("POST", p) if p.ends_with("/odd/blobs/uploads/") => echo_errors(
            StatusCode::BAD_REQUEST,
            "BAD",
            &format!("cannot handle POST {url} for {user}"),
        ),
        ("POST", p) if p.ends_with("/blobs/uploads/") => (
            StatusCode::ACCEPTED,
            [("location", format!("http://{host}{p}upload-1"))],
        )
            .into_response(),
        ("DELETE", _) => StatusCode::NO_CONTENT.into_response(),
        _ => echo_errors(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("nothing at {url}"),
        ),
    }
}
