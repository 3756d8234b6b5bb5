//! The registry credential check against a real `docker-registry` (distribution 2.8) started on
//! 127.0.0.1: htpasswd mode, and token mode behind the tests' own token server with per-user
//! grants; plus TLS and connection failures, and small in-process fakes for the answers that a
//! real distribution registry does not give (NAME_UNKNOWN with auto-create, odd statuses).
//! Every `StepOutcome` variant is reached here. Without docker-registry, htpasswd or openssl the
//! tests that need them skip, or fail under CI.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use secrecy::SecretString;
use secretsync::registry::{check, check_with, Filled, Probe, ProbeReport, PushProof, StepOutcome};

use crate::registry_support::{free_port, tools, Registry, RegistryAuth, TokenServer, User};

fn probe(registry: &str, username: &str, password: &str, push: &[&str]) -> Probe {
    Probe {
        registry: Filled::literal(registry),
        username: Filled::literal(username),
        password: SecretString::from(password.to_string()),
        push: push.iter().map(|s| Filled::literal(s)).collect(),
    }
}

fn outcomes(report: &ProbeReport) -> Vec<(&str, &StepOutcome)> {
    report
        .repositories
        .iter()
        .map(|(r, o)| (r.as_str(), o))
        .collect()
}

#[track_caller]
fn assert_ok(report: &ProbeReport, registry: &Registry) {
    assert!(
        report.is_ok(),
        "{report:#?}\n{:?}\n--- registry log\n{}",
        report.problems(),
        registry.log()
    );
}

// ---- htpasswd mode ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htpasswd_good_credentials_log_in_and_push() {
    if !tools("htpasswd_good_credentials_log_in_and_push") {
        return;
    }
    let registry = Registry::start(RegistryAuth::Htpasswd(&[
        ("acme-account", "fixed-Pa55:word"),
        ("other", "other-pass"),
    ]));
    let report = check(&probe(
        &registry.addr(),
        "acme-account",
        "fixed-Pa55:word",
        &["acme/frontend", "acme/backend"],
    ))
    .await;
    assert_ok(&report, &registry);
    assert_eq!(report.login, StepOutcome::Ok);
    assert_eq!(
        outcomes(&report),
        vec![
            ("acme/frontend", &StepOutcome::Ok),
            ("acme/backend", &StepOutcome::Ok)
        ]
    );
    // An explicit http:// scheme works the same.
    let explicit = format!("http://{}", registry.addr());
    let report = check(&probe(&explicit, "other", "other-pass", &["acme/x"])).await;
    assert_ok(&report, &registry);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htpasswd_wrong_password_or_user_is_bad_credentials() {
    if !tools("htpasswd_wrong_password_or_user_is_bad_credentials") {
        return;
    }
    let registry = Registry::start(RegistryAuth::Htpasswd(&[("acme-account", "fixed-pass")]));
    for (user, password) in [
        ("acme-account", "console-pass"),
        ("Acme Nickname", "fixed-pass"),
        ("acme-account", ""),
    ] {
        let report = check(&probe(&registry.addr(), user, password, &["acme/frontend"])).await;
        assert_eq!(report.login, StepOutcome::BadCredentials, "{user}");
        assert!(report.repositories.is_empty());
        assert!(!report.is_ok());
        assert_eq!(report.login.code(), "bad_credentials");
        assert!(report.problems()[0].contains("not the nickname"));
    }
}

// ---- token mode ----

fn users() -> Vec<User> {
    vec![
        User {
            name: "pusher",
            password: "push-pass",
            grants: vec![("acme/*", vec!["pull", "push"])],
        },
        User {
            name: "puller",
            password: "pull-pass",
            grants: vec![("acme/*", vec!["pull"])],
        },
        User {
            name: "canary",
            password: CANARY,
            grants: vec![("acme/*", vec!["pull", "push"])],
        },
        User {
            name: "scoped",
            password: "scoped-pass",
            grants: vec![("acme/frontend", vec!["push", "pull"])],
        },
    ]
}

async fn token_registry() -> (TokenServer, Registry) {
    let server = TokenServer::start(users()).await;
    let registry = Registry::start(RegistryAuth::Token(&server));
    (server, registry)
}

const BOTH: [PushProof; 2] = [PushProof::TokenClaims, PushProof::UploadProbe];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_good_credentials_with_push_grant() {
    if !tools("token_good_credentials_with_push_grant") {
        return;
    }
    let (server, registry) = token_registry().await;
    for proof in BOTH {
        let report = check_with(
            &probe(
                &registry.addr(),
                "pusher",
                "push-pass",
                &["acme/frontend", "acme/api"],
            ),
            proof,
        )
        .await;
        assert_ok(&report, &registry);
        assert_eq!(report.repositories.len(), 2, "{proof:?}");
    }
    // The login asked for no scope; each repository asked for push and pull on itself.
    let seen = server.seen();
    assert!(seen.iter().all(|s| s.authorized));
    let scopes: Vec<&str> = seen
        .iter()
        .flat_map(|s| s.query.iter())
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(
        scopes.contains(&"repository:acme/frontend:push,pull"),
        "{scopes:?}"
    );
    assert!(seen.iter().all(|s| s
        .query
        .iter()
        .any(|(k, v)| k == "service" && v == crate::registry_support::SERVICE)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_wrong_password_is_bad_credentials() {
    if !tools("token_wrong_password_is_bad_credentials") {
        return;
    }
    let (server, registry) = token_registry().await;
    for (user, password) in [("pusher", "console-pass"), ("nickname", "push-pass")] {
        let report = check(&probe(&registry.addr(), user, password, &["acme/frontend"])).await;
        assert_eq!(report.login, StepOutcome::BadCredentials, "{report:?}");
        assert!(report.repositories.is_empty());
    }
    assert!(server.seen().iter().all(|s| !s.authorized));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_pull_only_user_is_push_denied() {
    if !tools("token_pull_only_user_is_push_denied") {
        return;
    }
    let (_server, registry) = token_registry().await;
    for proof in BOTH {
        let report = check_with(
            &probe(&registry.addr(), "puller", "pull-pass", &["acme/frontend"]),
            proof,
        )
        .await;
        assert_eq!(report.login, StepOutcome::Ok, "{proof:?}: {report:?}");
        assert_eq!(
            outcomes(&report),
            vec![(
                "acme/frontend",
                &StepOutcome::PushDenied {
                    repository: "acme/frontend".into()
                }
            )],
            "{proof:?}\n{}",
            registry.log()
        );
        assert!(!report.is_ok());
        let line = report.problems().join("\n");
        assert!(line.contains("push to `acme/frontend` is denied"), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_repository_outside_the_grant_is_push_denied() {
    if !tools("token_repository_outside_the_grant_is_push_denied") {
        return;
    }
    let (_server, registry) = token_registry().await;
    for proof in BOTH {
        let report = check_with(
            &probe(
                &registry.addr(),
                "scoped",
                "scoped-pass",
                &["acme/frontend", "acme/backend", "other/frontend"],
            ),
            proof,
        )
        .await;
        assert_eq!(report.login, StepOutcome::Ok);
        let denied = |r: &str| StepOutcome::PushDenied {
            repository: r.into(),
        };
        assert_eq!(
            outcomes(&report),
            vec![
                ("acme/frontend", &StepOutcome::Ok),
                ("acme/backend", &denied("acme/backend")),
                ("other/frontend", &denied("other/frontend")),
            ],
            "{proof:?}\n{}",
            registry.log()
        );
    }
}

// ---- connections and TLS ----

#[tokio::test]
async fn closed_port_is_unreachable() {
    let port = free_port();
    for registry in [
        format!("127.0.0.1:{port}"),
        format!("https://127.0.0.1:{port}"),
    ] {
        let report = check(&probe(&registry, "u", "p", &["acme/frontend"])).await;
        match &report.login {
            StepOutcome::Unreachable { reason } => {
                assert!(reason.contains("cannot connect"), "{reason}");
                // The registry may be a secret's value: only the message's caller names it.
                assert!(!reason.contains("127.0.0.1"), "{reason}");
            }
            other => panic!("{registry}: {other:?}"),
        }
        assert_eq!(report.login.code(), "unreachable");
        assert!(report.repositories.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_plain_http_registry_is_tls() {
    if !tools("https_to_a_plain_http_registry_is_tls") {
        return;
    }
    let registry = Registry::start(RegistryAuth::Htpasswd(&[("u", "p")]));
    let report = check(&probe(
        &format!("https://{}", registry.addr()),
        "u",
        "p",
        &["acme/frontend"],
    ))
    .await;
    match &report.login {
        StepOutcome::Tls { reason } => assert!(reason.contains("plain HTTP"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(report.login.code(), "tls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_registry_is_tls() {
    if !tools("self_signed_registry_is_tls") {
        return;
    }
    let registry = Registry::start_with(RegistryAuth::Htpasswd(&[("u", "p")]), true);
    let report = check(&probe(
        &format!("https://{}", registry.addr()),
        "u",
        "p",
        &["acme/frontend"],
    ))
    .await;
    match &report.login {
        StepOutcome::Tls { reason } => assert!(reason.contains("self-signed"), "{reason}"),
        other => panic!("{other:?}\n{}", registry.log()),
    }
    // A bare loopback address means plain http, which this registry does not speak.
    let bare = check(&probe(&registry.addr(), "u", "p", &[])).await;
    assert!(!bare.is_ok());
}

// ---- small fakes for what a real distribution registry does not answer ----

/// How a fake answers one request.
type Answer = fn(&Method, &str, &HeaderMap) -> Response;

/// A fake registry on 127.0.0.1: `answer` gets each request (method, path, headers) and
/// returns the response; every request is recorded.
struct Fake {
    port: u16,
    seen: Arc<Mutex<Vec<(Method, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    async fn start(answer: Answer) -> Fake {
        Fake::start_with(answer).await
    }

    /// As [`Fake::start`], with an answer that may hold data (another server's address).
    async fn start_with(
        answer: impl Fn(&Method, &str, &HeaderMap) -> Response + Clone + Send + Sync + 'static,
    ) -> Fake {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        let app = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
            let recorded = recorded.clone();
            let answer = answer.clone();
            async move {
                recorded
                    .lock()
                    .expect("lock")
                    .push((method.clone(), uri.path().to_string()));
                answer(&method, uri.path(), &headers)
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake { port, seen, task }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<(Method, String)> {
        self.seen.lock().expect("lock").clone()
    }
}

fn errors(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        serde_json::json!({"errors": [{"code": code, "message": message}]}).to_string(),
    )
        .into_response()
}

/// Basic auth on `/v2/`; uploads answered by repository: `acme/missing` NAME_UNKNOWN (as a
/// registry with auto-create off), `acme/gone` a bare 404, `acme/readonly` 405, `acme/broken`
/// 500, `acme/denied` 403 DENIED, anything else 202 with a Location.
fn basic_fake(method: &Method, path: &str, headers: &HeaderMap) -> Response {
    let authorized = headers.contains_key("authorization");
    if !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", r#"Basic realm="fake""#)],
        )
            .into_response();
    }
    match (method.as_str(), path) {
        ("GET", "/v2/") => StatusCode::OK.into_response(),
        ("POST", "/v2/acme/missing/blobs/uploads/") => errors(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            "repository name not known to registry",
        ),
        ("POST", "/v2/acme/gone/blobs/uploads/") => StatusCode::NOT_FOUND.into_response(),
        ("POST", "/v2/acme/readonly/blobs/uploads/") => errors(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "the operation is unsupported",
        ),
        ("POST", "/v2/acme/broken/blobs/uploads/") => {
            (StatusCode::INTERNAL_SERVER_ERROR, "upstream\nexploded").into_response()
        }
        ("POST", "/v2/acme/denied/blobs/uploads/") => errors(
            StatusCode::FORBIDDEN,
            "DENIED",
            "requested access to the resource is denied",
        ),
        ("POST", p) if p.ends_with("/blobs/uploads/") => (
            StatusCode::ACCEPTED,
            [("location", format!("{p}abc-123?_state=x"))],
        )
            .into_response(),
        // The cancel of a started upload is refused: it must not matter.
        ("DELETE", _) => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

#[tokio::test]
async fn name_unknown_and_other_upload_answers() {
    let fake = Fake::start(basic_fake).await;
    let report = check(&probe(
        &fake.addr(),
        "u",
        "p",
        &[
            "acme/missing",
            "acme/gone",
            "acme/readonly",
            "acme/broken",
            "acme/denied",
            "acme/fine",
            "Acme/Upper",
        ],
    ))
    .await;
    assert_eq!(report.login, StepOutcome::Ok);
    let got = outcomes(&report);
    assert_eq!(
        got[0].1,
        &StepOutcome::NameUnknown {
            repository: "acme/missing".into()
        }
    );
    assert_eq!(got[0].1.code(), "name_unknown");
    assert_eq!(
        got[1].1,
        &StepOutcome::NameUnknown {
            repository: "acme/gone".into()
        }
    );
    match got[2].1 {
        StepOutcome::Unexpected {
            status: 405,
            message,
        } => {
            assert!(message.contains("UNSUPPORTED"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    match got[3].1 {
        StepOutcome::Unexpected {
            status: 500,
            message,
        } => {
            assert!(message.contains("upstream exploded"), "{message}");
            assert!(!message.contains('\n'));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        got[4].1,
        &StepOutcome::PushDenied {
            repository: "acme/denied".into()
        }
    );
    assert_eq!(got[5].1, &StepOutcome::Ok);
    match got[6].1 {
        StepOutcome::Unexpected { status: 0, message } => {
            assert!(message.contains("not a valid repository name"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // The started upload was cancelled at its Location; the invalid name was never sent.
    let seen = fake.seen();
    assert!(seen
        .iter()
        .any(|(m, p)| m == Method::DELETE && p == "/v2/acme/fine/blobs/uploads/abc-123"));
    assert!(!seen.iter().any(|(_, p)| p.contains("Acme")));
    let explained = report.problems().join("\n");
    assert!(
        explained.contains("does not exist (NAME_UNKNOWN)"),
        "{explained}"
    );
}

#[tokio::test]
async fn unexpected_answers_on_v2() {
    fn server_error(_: &Method, _: &str, _: &HeaderMap) -> Response {
        errors(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "maintenance",
        )
    }
    fn not_a_registry(_: &Method, _: &str, _: &HeaderMap) -> Response {
        StatusCode::NOT_FOUND.into_response()
    }
    fn no_challenge(_: &Method, _: &str, _: &HeaderMap) -> Response {
        StatusCode::UNAUTHORIZED.into_response()
    }
    fn bad_realm(_: &Method, _: &str, _: &HeaderMap) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            [(
                "www-authenticate",
                r#"Bearer realm="file:///etc/passwd",service="s""#,
            )],
        )
            .into_response()
    }
    let cases: [(Answer, u16, &str); 4] = [
        (server_error, 503, "UNAVAILABLE: maintenance"),
        (not_a_registry, 404, "no Docker Registry v2 API"),
        (no_challenge, 401, "neither Basic nor Bearer"),
        (bad_realm, 0, "the password was not sent there"),
    ];
    for (answer, status, text) in cases {
        let fake = Fake::start(answer).await;
        let report = check(&probe(&fake.addr(), "u", "p", &["acme/x"])).await;
        match &report.login {
            StepOutcome::Unexpected { status: s, message } => {
                assert_eq!(*s, status, "{message}");
                assert!(message.contains(text), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(report.login.code(), "unexpected");
        // The bad realm never got the credentials: only the first, anonymous request was made.
        if status == 0 {
            assert_eq!(fake.seen().len(), 1);
        }
    }
}

/// An open registry is checked without a login, and the cancel of its upload does not follow a
/// `Location` on another host: a second listener there, which takes anything, gets nothing.
#[tokio::test]
async fn open_registry_needs_no_login() {
    let elsewhere = Fake::start(|_, _, _| StatusCode::NO_CONTENT.into_response()).await;
    let location = format!("http://{}/v2/acme/x/blobs/uploads/steal", elsewhere.addr());
    let open = move |method: &Method, path: &str, _: &HeaderMap| match (method.as_str(), path) {
        ("GET", "/v2/") => StatusCode::OK.into_response(),
        ("POST", _) => (StatusCode::ACCEPTED, [("location", location.clone())]).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    };
    let fake = Fake::start_with(open).await;
    let report = check(&probe(&fake.addr(), "u", "p", &["acme/x"])).await;
    assert!(report.is_ok(), "{report:?}");
    assert!(
        fake.seen().iter().any(|(m, _)| m == Method::POST),
        "no upload was started, so no Location was given: {:?}",
        fake.seen()
    );
    assert_eq!(elsewhere.seen(), vec![], "a request went to the other host");
    assert!(!fake.seen().iter().any(|(m, _)| m == Method::DELETE));
}

// ---- the password never leaks ----

const CANARY: &str = "Canary-pw-7f3a9c-DO-NOT-LEAK";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_never_appears_in_a_report() {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("u:{CANARY}"));
    let mut reports = Vec::new();

    // A server that echoes what it got, decoded, in its error.
    fn echo(_: &Method, _: &str, headers: &HeaderMap) -> Response {
        use base64::Engine as _;
        let Some(auth) = headers.get("authorization") else {
            return (
                StatusCode::UNAUTHORIZED,
                [("www-authenticate", r#"Basic realm="echo""#)],
            )
                .into_response();
        };
        let raw = auth.to_str().unwrap_or("").trim_start_matches("Basic ");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        errors(
            StatusCode::BAD_REQUEST,
            "BAD",
            &format!("you sent {decoded} ({raw})"),
        )
    }
    let fake = Fake::start(echo).await;
    reports.push(check(&probe(&fake.addr(), "u", CANARY, &["acme/x"])).await);
    let closed = free_port();
    reports.push(
        check(&probe(
            &format!("127.0.0.1:{closed}"),
            "u",
            CANARY,
            &["acme/x"],
        ))
        .await,
    );

    if tools("the_password_never_appears_in_a_report") {
        let registry = Registry::start(RegistryAuth::Htpasswd(&[("u", CANARY)]));
        for password in [CANARY, "wrong"] {
            reports.push(check(&probe(&registry.addr(), "u", password, &["acme/x"])).await);
        }
        let (_server, token_registry) = token_registry().await;
        for user in ["canary", "pusher"] {
            let report = check(&probe(&token_registry.addr(), user, CANARY, &["acme/x"])).await;
            reports.push(report);
        }
        let tls = Registry::start_with(RegistryAuth::Htpasswd(&[("u", CANARY)]), true);
        reports.push(
            check(&probe(
                &format!("https://{}", tls.addr()),
                "u",
                CANARY,
                &["acme/x"],
            ))
            .await,
        );
    }

    let probe_debug = format!("{:?}", probe("r", "u", CANARY, &["acme/x"]));
    assert!(!probe_debug.contains(CANARY), "{probe_debug}");
    let mut codes = Vec::new();
    for report in &reports {
        let mut text = format!("{report:?}\n{report:#?}\n");
        text.push_str(&report.login.explain(&report.registry));
        for (_, outcome) in &report.repositories {
            text.push_str(&outcome.explain(&report.registry));
        }
        text.push_str(&report.problems().join("\n"));
        assert!(!text.contains(CANARY), "the password leaked:\n{text}");
        assert!(
            !text.contains(&basic),
            "the basic credentials leaked:\n{text}"
        );
        codes.push(report.login.code());
    }
    // The echo was scrubbed, not just absent.
    match &reports[0].login {
        StepOutcome::Unexpected {
            status: 400,
            message,
        } => {
            assert!(message.contains("[REDACTED]"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(codes.contains(&"unreachable"));
    if reports.len() > 2 {
        // Successful logins (htpasswd and token) were among them.
        assert_eq!(
            reports.iter().filter(|r| r.is_ok()).count(),
            2,
            "{reports:#?}"
        );
    }
}
