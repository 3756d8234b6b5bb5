//! The Docker Registry v2 client behind `[[checks]]`: registry credentials, tried for real
//! before anything is written to GitHub. It logs in the way `docker login` does, then proves push
//! permission on each repository, so that a nickname for the account name, the console password for the registry's fixed password, a
//! missing namespace or a missing secret shows up here and not as "push access denied" in a
//! failed workflow run.
//!
//! The flow (see `registry-auth.md`): `GET /v2/` without credentials; a `Basic` challenge is
//! answered with basic auth on `/v2/`; a `Bearer` challenge sends the credentials to the token
//! service (the challenge's realm). Push is proven by the token's `access` claim when the token
//! is a readable JWT, otherwise by starting a blob upload (`POST /v2/NAME/blobs/uploads/`) and
//! cancelling it.
//!
//! The password lives in a [`SecretString`] and is exposed only to build an `Authorization`
//! header; it never reaches a message, a log line or a `Debug` output. The registry, username
//! and repositories may hold secrets' values too: they are [`Filled`], so every message and log
//! line names them as the config wrote them (`secret:NAME`). Whatever the servers answer (their
//! errors, a token service's URL) may echo any of these, and is scrubbed of all of them.

// A query component is percent-encoded as a path segment is: everything but RFC 3986's unreserved.
use crate::scope::encode_segment as encode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use http::{Method, Uri};
use secrecy::{ExposeSecret as _, SecretString};

mod endpoint;
mod filled;
mod scrub;
mod transport;
// The GitHub client words a refused TLS handshake the same way.
pub(crate) use transport::describe_tls;
pub mod wwwauth;

pub use filled::{shown, Filled};
pub use wwwauth::parse_www_authenticate;

use crate::config::is_loopback;
use endpoint::{endpoint, valid_repository, Endpoint};
use scrub::Scrubber;
use transport::{NetError, Response, Target};
use wwwauth::{parse_challenges, Challenge};

/// What to try: a registry, credentials, and the repositories they must be able to push to.
#[derive(Debug)]
pub struct Probe {
    /// `host[:port]`, or with an explicit scheme: `https://host`, `http://host:5000`. A bare
    /// host means https, except loopback hosts (`localhost`, 127.0.0.0/8, `::1`), which mean
    /// http, as Docker treats them.
    pub registry: Filled,
    pub username: Filled,
    pub password: SecretString,
    /// Repositories to prove push on, e.g. `acme/frontend`.
    pub push: Vec<Filled>,
}

/// The result of one step: the login, or push on one repository. Repositories are as shown (a
/// [`Filled`]'s redacted form); the free texts are scrubbed of every value the probe holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Ok,
    /// The registry or its token service refused the username and password (401).
    BadCredentials,
    /// Logged in, but push is not allowed: `insufficient_scope`, `DENIED`, or a token without
    /// push.
    PushDenied {
        repository: String,
    },
    /// `NAME_UNKNOWN` / 404: the repository or its namespace does not exist.
    NameUnknown {
        repository: String,
    },
    /// DNS, a refused connection, a timeout.
    Unreachable {
        reason: String,
    },
    /// A certificate or TLS handshake failure.
    Tls {
        reason: String,
    },
    /// Anything else; `status` is 0 when no HTTP answer was involved (a malformed registry
    /// address or repository name, a token service that may not receive the password).
    Unexpected {
        status: u16,
        message: String,
    },
}

impl StepOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, StepOutcome::Ok)
    }

    /// One plain-language line: what happened, the likely cause, and the fix.
    pub fn explain(&self, registry: &str) -> String {
        match self {
            StepOutcome::Ok => format!("{registry}: ok"),
            StepOutcome::BadCredentials => format!(
                "{registry} refused the username and password (401): is the username the \
                 account name, not the nickname? is the password the registry's fixed \
                 password, not the console password?"
            ),
            StepOutcome::PushDenied { repository } => format!(
                "{registry}: logged in, but push to `{repository}` is denied: check that the \
                 namespace `{}` exists and is spelled as in the registry's console, and that \
                 this account may push to it",
                namespace(repository)
            ),
            StepOutcome::NameUnknown { repository } => format!(
                "{registry}: repository `{repository}` does not exist (NAME_UNKNOWN): check the \
                 namespace `{}` and the repository name, or create them in the registry's \
                 console (or turn on auto-create)",
                namespace(repository)
            ),
            StepOutcome::Unreachable { reason } => format!(
                "{registry} is unreachable ({reason}): check the host name and port, and that \
                 this machine can reach it"
            ),
            StepOutcome::Tls { reason } => format!(
                "TLS with {registry} failed ({reason}): check the host name; a registry with a \
                 self-signed certificate needs its CA trusted, and one serving plain HTTP needs \
                 `http://` in front of its address"
            ),
            StepOutcome::Unexpected { status: 0, message } => format!("{registry}: {message}"),
            StepOutcome::Unexpected { status, message } => {
                format!("{registry} answered unexpectedly (HTTP {status}): {message}")
            }
        }
    }

    /// A stable name for scripts and JSON.
    pub fn code(&self) -> &'static str {
        match self {
            StepOutcome::Ok => "ok",
            StepOutcome::BadCredentials => "bad_credentials",
            StepOutcome::PushDenied { .. } => "push_denied",
            StepOutcome::NameUnknown { .. } => "name_unknown",
            StepOutcome::Unreachable { .. } => "unreachable",
            StepOutcome::Tls { .. } => "tls",
            StepOutcome::Unexpected { .. } => "unexpected",
        }
    }

    fn texts_mut(&mut self) -> Option<&mut String> {
        match self {
            StepOutcome::Unreachable { reason } | StepOutcome::Tls { reason } => Some(reason),
            StepOutcome::Unexpected { message, .. } => Some(message),
            _ => None,
        }
    }
}

fn namespace(repository: &str) -> &str {
    repository
        .rsplit_once('/')
        .map(|(ns, _)| ns)
        .unwrap_or(repository)
}

/// The login, then push on each repository of [`Probe::push`] (in the same order, as shown).
/// When the login fails, `repositories` is empty: nothing further can be proven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    pub registry: String,
    pub login: StepOutcome,
    pub repositories: Vec<(String, StepOutcome)>,
}

impl ProbeReport {
    pub fn is_ok(&self) -> bool {
        self.login.is_ok() && self.repositories.iter().all(|(_, o)| o.is_ok())
    }

    /// [`StepOutcome::explain`] for the login and every repository that is not ok.
    pub fn problems(&self) -> Vec<String> {
        std::iter::once(&self.login)
            .chain(self.repositories.iter().map(|(_, o)| o))
            .filter(|o| !o.is_ok())
            .map(|o| o.explain(&self.registry))
            .collect()
    }
}

/// How [`check_with`] proves push permission on a Bearer-token registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PushProof {
    /// Read the token's `access` claim when the token is a readable JWT that has one; otherwise
    /// start and cancel an upload. Writes nothing to registries that issue JWTs.
    #[default]
    TokenClaims,
    /// Always start (and cancel) an upload: what the registry itself enforces.
    UploadProbe,
}

/// Log in like `docker login`, then prove push permission on each repository.
pub async fn check(probe: &Probe) -> ProbeReport {
    check_with(probe, PushProof::default()).await
}

/// [`check`], choosing how push is proven on Bearer-token registries.
pub async fn check_with(probe: &Probe, proof: PushProof) -> ProbeReport {
    let scrubber = Scrubber::for_probe(probe);
    let mut report = run(probe, &scrubber, proof).await;
    scrubber.report(&mut report);
    report
}

/// How the registry wants credentials.
enum Auth {
    /// `/v2/` answered 200 without credentials.
    Anonymous,
    Basic,
    Bearer {
        realm: Target,
        service: Option<String>,
    },
}

/// Credentials ready for an `Authorization` header; never printed.
struct Credential(SecretString);

impl Credential {
    fn basic(username: &str, password: &SecretString) -> Credential {
        let raw = zeroize::Zeroizing::new(format!("{username}:{}", password.expose_secret()));
        Credential(SecretString::from(format!(
            "Basic {}",
            STANDARD.encode(raw.as_bytes())
        )))
    }

    fn bearer(token: &SecretString) -> Credential {
        Credential(SecretString::from(format!(
            "Bearer {}",
            token.expose_secret()
        )))
    }

    fn header(&self) -> Result<(HeaderName, HeaderValue), StepOutcome> {
        let mut value =
            HeaderValue::from_str(self.0.expose_secret()).map_err(|_| StepOutcome::Unexpected {
                status: 0,
                message: "the username, password or token holds characters that cannot go in \
                          an HTTP header (line breaks or control characters)"
                    .into(),
            })?;
        value.set_sensitive(true);
        Ok((AUTHORIZATION, value))
    }
}

fn net(e: NetError) -> StepOutcome {
    match e {
        NetError::Unreachable(reason) => StepOutcome::Unreachable { reason },
        NetError::Tls(reason) => StepOutcome::Tls { reason },
    }
}

async fn request(
    method: Method,
    target: &Target,
    credential: Option<&Credential>,
) -> Result<Response, StepOutcome> {
    let headers = match credential {
        Some(c) => vec![c.header()?],
        None => vec![],
    };
    transport::send(method, target, headers).await.map_err(net)
}

async fn run(probe: &Probe, scrubber: &Scrubber, proof: PushProof) -> ProbeReport {
    let mut report = ProbeReport {
        registry: probe.registry.to_string(),
        login: StepOutcome::Ok,
        repositories: Vec::new(),
    };
    let endpoint = match endpoint(&probe.registry) {
        Ok(e) => e,
        Err(message) => {
            report.login = StepOutcome::Unexpected { status: 0, message };
            return report;
        }
    };
    let basic = Credential::basic(probe.username.expose(), &probe.password);
    let session = match login(&endpoint, &probe.username, &basic, scrubber).await {
        Ok(session) => session,
        Err(outcome) => {
            report.login = outcome;
            return report;
        }
    };
    for repository in &probe.push {
        let outcome = if valid_repository(repository.expose()) {
            push(&endpoint, &session, &basic, repository, proof)
                .await
                .unwrap_or_else(|o| o)
        } else {
            StepOutcome::Unexpected {
                status: 0,
                message: format!(
                    "`{repository}` is not a valid repository name: lower-case letters, digits \
                     and `.`, `_`, `-` between them, components separated by `/` \
                     (e.g. `acme/frontend`)"
                ),
            }
        };
        report.repositories.push((repository.to_string(), outcome));
    }
    report
}

/// `GET /v2/` without credentials, then the login its challenge asks for.
async fn login(
    endpoint: &Endpoint,
    username: &Filled,
    basic: &Credential,
    scrubber: &Scrubber,
) -> Result<Auth, StepOutcome> {
    let v2 = endpoint.url("/v2/", "/v2/")?;
    let first = request(Method::GET, &v2, None).await?;
    let auth = match first.status {
        200 => return Ok(Auth::Anonymous),
        401 => auth_from(endpoint, &first, scrubber)?,
        404 => {
            return Err(StepOutcome::Unexpected {
                status: 404,
                message: format!(
                    "no Docker Registry v2 API at {}: is this the registry's host name?",
                    v2.shown
                ),
            })
        }
        status => return Err(unexpected(status, &first, "GET /v2/")),
    };
    match &auth {
        Auth::Anonymous => {}
        Auth::Basic => {
            let r = request(Method::GET, &v2, Some(basic)).await?;
            match r.status {
                200 => {}
                401 => return Err(StepOutcome::BadCredentials),
                status => return Err(unexpected(status, &r, "GET /v2/ with basic auth")),
            }
        }
        Auth::Bearer { realm, service } => {
            let token = match token(realm, service.as_deref(), None, Some(username), basic).await {
                Ok(token) => token,
                Err(TokenFail::Refused(401)) => return Err(StepOutcome::BadCredentials),
                Err(TokenFail::Refused(status)) => {
                    return Err(StepOutcome::Unexpected {
                        status,
                        message: format!("the token service {} refused the login", realm.shown),
                    })
                }
                Err(TokenFail::Other(outcome)) => return Err(outcome),
            };
            let r = request(Method::GET, &v2, Some(&Credential::bearer(&token))).await?;
            match r.status {
                200 => {}
                401 => return Err(StepOutcome::BadCredentials),
                status => return Err(unexpected(status, &r, "GET /v2/ with the login token")),
            }
        }
    }
    Ok(auth)
}

/// The challenge of a 401 on `/v2/`: Bearer preferred to Basic.
fn auth_from(
    endpoint: &Endpoint,
    response: &Response,
    scrubber: &Scrubber,
) -> Result<Auth, StepOutcome> {
    let challenges: Vec<Challenge> = response
        .headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_challenges)
        .collect();
    if let Some(bearer) = challenges.iter().find(|c| c.is("bearer")) {
        let Some(realm) = bearer.param("realm") else {
            return Err(StepOutcome::Unexpected {
                status: 401,
                message: "the registry's Bearer challenge names no token service (realm)".into(),
            });
        };
        let uri = realm_url(realm, endpoint.https)?;
        // The realm is the server's text, and often names the registry's host.
        let shown = scrubber.text(&show_uri(&uri));
        return Ok(Auth::Bearer {
            realm: Target { uri, shown },
            service: bearer.param("service").map(str::to_string),
        });
    }
    if challenges.iter().any(|c| c.is("basic")) {
        return Ok(Auth::Basic);
    }
    Err(StepOutcome::Unexpected {
        status: 401,
        message: "the registry asks for credentials but offers neither Basic nor Bearer \
                  authentication (WWW-Authenticate missing or not understood)"
            .into(),
    })
}

/// A token service URL the password may be sent to: http(s) only, and not plain http to
/// another machine when the registry itself is https.
fn realm_url(realm: &str, registry_https: bool) -> Result<Uri, StepOutcome> {
    let shown = sanitize(realm, 200);
    let refuse = |message: String| StepOutcome::Unexpected { status: 0, message };
    let uri: Uri = realm.parse().map_err(|_| {
        refuse(format!(
            "the registry's token service `{shown}` is not an http(s) URL; the password was \
             not sent there"
        ))
    })?;
    let host = uri.host().unwrap_or("");
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") && !host.is_empty() => Ok(uri),
        Some(s) if s.eq_ignore_ascii_case("http") && !host.is_empty() => {
            if registry_https && !is_loopback(host) {
                Err(refuse(format!(
                    "the registry is https but its token service `{shown}` is plain http; \
                     the password was not sent there (fix the registry's auth realm)"
                )))
            } else {
                Ok(uri)
            }
        }
        _ => Err(refuse(format!(
            "the registry's token service `{shown}` is not an http(s) URL; the password was \
             not sent there"
        ))),
    }
}

enum TokenFail {
    /// The token service answered this status (401, 403, ...).
    Refused(u16),
    Other(StepOutcome),
}

/// `GET realm?service=S[&scope=repository:NAME:push,pull]` with basic auth; the login (no
/// repository) names the `account` instead.
async fn token(
    realm: &Target,
    service: Option<&str>,
    repository: Option<&Filled>,
    username: Option<&Filled>,
    basic: &Credential,
) -> Result<SecretString, TokenFail> {
    let mut query = Vec::new();
    if let Some(service) = service {
        query.push(format!("service={}", encode(service)));
    }
    if let Some(repository) = repository {
        let scope = format!("repository:{}:push,pull", repository.expose());
        query.push(format!("scope={}", encode(&scope)));
    }
    if let Some(username) = username {
        query.push(format!("account={}", encode(username.expose())));
    }
    let realm_text = realm.uri.to_string();
    let sep = if realm_text.contains('?') { '&' } else { '?' };
    let uri: Uri = format!("{realm_text}{sep}{}", query.join("&"))
        .parse()
        .map_err(|_| {
            TokenFail::Other(StepOutcome::Unexpected {
                status: 0,
                message: format!("cannot make a token request URL from `{}`", realm.shown),
            })
        })?;
    let shown = match repository {
        Some(repository) => format!("{} (push to {repository})", realm.shown),
        None => format!("{} (login)", realm.shown),
    };
    let r = request(Method::GET, &Target { uri, shown }, Some(basic))
        .await
        .map_err(TokenFail::Other)?;
    if r.status != 200 {
        return Err(TokenFail::Refused(r.status));
    }
    let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
    ["token", "access_token"]
        .iter()
        .find_map(|k| {
            json.get(k)
                .and_then(|v| v.as_str())
                .filter(|t| !t.is_empty())
        })
        .map(|t| SecretString::from(t.to_string()))
        .ok_or_else(|| {
            TokenFail::Other(StepOutcome::Unexpected {
                status: 200,
                message: format!("the token service {} answered without a token", realm.shown),
            })
        })
}

/// Push permission on one repository.
async fn push(
    endpoint: &Endpoint,
    auth: &Auth,
    basic: &Credential,
    repository: &Filled,
    proof: PushProof,
) -> Result<StepOutcome, StepOutcome> {
    let denied = || StepOutcome::PushDenied {
        repository: repository.to_string(),
    };
    let credential = match auth {
        Auth::Anonymous => None,
        Auth::Basic => Some(Credential(basic.0.clone())),
        Auth::Bearer { realm, service } => {
            let token = match token(realm, service.as_deref(), Some(repository), None, basic).await
            {
                Ok(token) => token,
                Err(TokenFail::Refused(401 | 403)) => return Ok(denied()),
                Err(TokenFail::Refused(404)) => {
                    return Ok(StepOutcome::NameUnknown {
                        repository: repository.to_string(),
                    })
                }
                Err(TokenFail::Refused(status)) => {
                    return Ok(StepOutcome::Unexpected {
                        status,
                        message: format!(
                            "the token service {} refused a token for `{repository}`",
                            realm.shown
                        ),
                    })
                }
                Err(TokenFail::Other(outcome)) => return Ok(outcome),
            };
            if proof == PushProof::TokenClaims {
                match jwt_grants_push(token.expose_secret(), repository.expose()) {
                    Some(true) => return Ok(StepOutcome::Ok),
                    Some(false) => return Ok(denied()),
                    None => {}
                }
            }
            Some(Credential::bearer(&token))
        }
    };
    upload_probe(endpoint, credential.as_ref(), repository).await
}

/// `POST /v2/NAME/blobs/uploads/`: 202 means push is allowed (the upload is then cancelled).
async fn upload_probe(
    endpoint: &Endpoint,
    credential: Option<&Credential>,
    repository: &Filled,
) -> Result<StepOutcome, StepOutcome> {
    let url = endpoint.url(
        &format!("/v2/{}/blobs/uploads/", repository.expose()),
        &format!("/v2/{repository}/blobs/uploads/"),
    )?;
    let r = request(Method::POST, &url, credential).await?;
    let codes = error_codes(&r.body);
    let has = |code: &str| codes.iter().any(|(c, _)| c == code);
    Ok(match r.status {
        202 => {
            cancel_upload(endpoint, &url, &r, credential).await;
            StepOutcome::Ok
        }
        404 => StepOutcome::NameUnknown {
            repository: repository.to_string(),
        },
        _ if has("NAME_UNKNOWN") => StepOutcome::NameUnknown {
            repository: repository.to_string(),
        },
        401 | 403 => StepOutcome::PushDenied {
            repository: repository.to_string(),
        },
        405 => StepOutcome::Unexpected {
            status: 405,
            message: format!(
                "the registry does not accept pushes to `{repository}` (read-only, or a \
                 pull-through cache){}",
                detail(&r)
            ),
        },
        status => unexpected(status, &r, &format!("starting an upload to `{repository}`")),
    })
}

/// `DELETE <Location>` of a started upload; a refusal is ignored (registries purge stale
/// uploads). The Location is the server's text and may name the host: the request is shown as
/// the upload it cancels.
async fn cancel_upload(
    endpoint: &Endpoint,
    upload: &Target,
    started: &Response,
    credential: Option<&Credential>,
) {
    let Some(location) = started
        .headers
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    let uri = if location.starts_with('/') {
        endpoint.url(location, "").ok().map(|t| t.uri)
    } else {
        location.parse::<Uri>().ok().filter(|u| {
            // Only back to the registry itself: credentials go nowhere else.
            u.authority().map(|a| a.as_str()) == Some(endpoint.authority.as_str())
                && matches!(u.scheme_str(), Some("http" | "https"))
        })
    };
    if let Some(uri) = uri {
        let shown = format!("{} (its Location)", upload.shown);
        let _ = request(Method::DELETE, &Target { uri, shown }, credential).await;
    }
}

/// `Some(true)` when the token is a JWT whose `access` claim grants push (or `*`) on
/// `repository`, `Some(false)` when it has an `access` claim without that, `None` when the
/// token is not a readable JWT with an `access` claim.
fn jwt_grants_push(token: &str, repository: &str) -> Option<bool> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let lenient = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let bytes = lenient.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let access = claims.get("access")?.as_array()?;
    let grants = access.iter().any(|entry| {
        entry.get("type").and_then(|t| t.as_str()) == Some("repository")
            && entry.get("name").and_then(|n| n.as_str()) == Some(repository)
            && entry
                .get("actions")
                .and_then(|a| a.as_array())
                .is_some_and(|actions| {
                    actions
                        .iter()
                        .any(|a| matches!(a.as_str(), Some("push" | "*")))
                })
    });
    Some(grants)
}

/// `{"errors":[{"code":..,"message":..}]}` as (code, message) pairs.
fn error_codes(body: &[u8]) -> Vec<(String, String)> {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    json.get("errors")
        .and_then(|e| e.as_array())
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let text =
                        |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                    (text("code"), text("message"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The registry's own words, for a message: its error codes and messages, or the start of
/// its body; empty when it said nothing.
fn detail(r: &Response) -> String {
    let codes = error_codes(&r.body);
    let text = if codes.is_empty() {
        sanitize(&String::from_utf8_lossy(&r.body), 200)
    } else {
        let joined = codes
            .iter()
            .map(|(c, m)| {
                if m.is_empty() {
                    c.clone()
                } else {
                    format!("{c}: {m}")
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        sanitize(&joined, 300)
    };
    if text.is_empty() {
        String::new()
    } else {
        format!("; the registry said: {text}")
    }
}

fn unexpected(status: u16, r: &Response, what: &str) -> StepOutcome {
    StepOutcome::Unexpected {
        status,
        message: format!("{what} answered {status}{}", detail(r)),
    }
}

/// One line, at most `max` characters, no control characters.
fn sanitize(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.split_whitespace().collect::<Vec<_>>().join(" ");
    if trimmed.chars().count() > max {
        let cut: String = trimmed.chars().take(max).collect();
        format!("{cut}...")
    } else {
        trimmed
    }
}

/// A URL for a message: without its query.
fn show_uri(uri: &Uri) -> String {
    format!(
        "{}://{}{}",
        uri.scheme_str().unwrap_or(""),
        uri.authority().map(|a| a.as_str()).unwrap_or(""),
        uri.path()
    )
}

#[cfg(test)]
mod tests;
