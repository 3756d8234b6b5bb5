//! The registry client's HTTP: one HTTP/1.1 request per connection, made step by step so each
//! failure is told apart: resolving and connecting (the registry is unreachable), the TLS
//! handshake (a certificate or protocol problem), then the exchange itself. Connecting and the
//! handshake are bounded by [`CONNECT_TIMEOUT`], the whole request by [`REQUEST_TIMEOUT`].
//!
//! The registry's address may be a secret's value, so no message or log line made here names the
//! host, an address or the URL: a request is logged by its [`Target`]'s shown form, and the
//! errors of the resolver, hyper and rustls are reduced to words that cannot hold a name.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, HOST, USER_AGENT};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Registry answers here are small JSON documents; anything longer is cut.
const MAX_BODY: usize = 1 << 20;

pub(crate) struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Where a request goes, and how it is named in logs: as the config wrote the registry and the
/// repository (`secret:NAME` in place of a value), never by the URL itself.
pub(crate) struct Target {
    pub uri: Uri,
    pub shown: String,
}

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NetError {
    /// DNS, a refused or timed-out connection, a connection dropped mid-answer.
    Unreachable(String),
    /// The TLS handshake failed: an untrusted or mismatched certificate, or no TLS at all.
    Tls(String),
}

/// `method url` with `headers` and an empty body; the answer's body is read whole (up to 1 MiB).
/// Header values marked sensitive stay out of every message.
pub(crate) async fn send(
    method: Method,
    target: &Target,
    headers: Vec<(HeaderName, HeaderValue)>,
) -> Result<Response, NetError> {
    let started = Instant::now();
    let exchanged = exchange(method.clone(), &target.uri, headers);
    let result = match timeout(REQUEST_TIMEOUT, exchanged).await {
        Ok(result) => result,
        Err(_) => Err(NetError::Unreachable(format!(
            "no answer within {} s",
            REQUEST_TIMEOUT.as_secs()
        ))),
    };
    let outcome = match &result {
        Ok(r) => r.status.to_string(),
        Err(NetError::Unreachable(_)) => "unreachable".into(),
        Err(NetError::Tls(_)) => "TLS failed".into(),
    };
    tracing::debug!(
        "registry {method} {} -> {outcome} ({} ms)",
        target.shown,
        started.elapsed().as_millis()
    );
    result
}

async fn exchange(
    method: Method,
    url: &Uri,
    headers: Vec<(HeaderName, HeaderValue)>,
) -> Result<Response, NetError> {
    let https = match url.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(NetError::Unreachable("not an http(s) URL".into())),
    };
    let authority = url
        .authority()
        .ok_or_else(|| NetError::Unreachable("a URL without a host".into()))?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
    let path = url
        .path_and_query()
        .map(|p| p.as_str())
        .filter(|p| !p.is_empty())
        .unwrap_or("/");
    let mut builder = Request::builder()
        .method(method.clone())
        .uri(path)
        .header(HOST, authority.as_str())
        .header(
            USER_AGENT,
            concat!("secretsync/", env!("CARGO_PKG_VERSION")),
        );
    if method == Method::POST || method == Method::PUT {
        builder = builder.header(CONTENT_LENGTH, "0");
    }
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let request = builder
        .body(Empty::<Bytes>::new())
        .map_err(|e| NetError::Unreachable(format!("cannot build the request: {e}")))?;

    let deadline = Instant::now() + CONNECT_TIMEOUT;
    let tcp = connect(&host, port, deadline).await?;
    if https {
        let tls = handshake(&host, tcp, deadline).await?;
        over(tls, request).await
    } else {
        over(tcp, request).await
    }
}

async fn connect(host: &str, port: u16, deadline: Instant) -> Result<TcpStream, NetError> {
    if is_reserved_invalid(host) {
        return Err(NetError::Unreachable(
            "cannot resolve the host name: `.invalid` names never resolve (RFC 6761)".to_owned(),
        ));
    }
    let addrs: Vec<_> =
        match tokio::time::timeout_at(deadline, tokio::net::lookup_host((host, port))).await {
            Err(_) => {
                return Err(NetError::Unreachable(format!(
                    "looking up the host name took more than {} s",
                    CONNECT_TIMEOUT.as_secs()
                )))
            }
            // The standard library's lookup error is the resolver's words for the failure
            // ("Name or service not known"), without the name.
            Ok(Err(e)) => {
                return Err(NetError::Unreachable(format!(
                    "cannot resolve the host name: {e}"
                )))
            }
            Ok(Ok(addrs)) => addrs.collect(),
        };
    let mut last = "the host name resolves to no address".to_string();
    for addr in addrs {
        match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Ok(Err(e)) => last = format!("cannot connect: {}", os_words(&e)),
            Err(_) => {
                last = format!("connecting took more than {} s", CONNECT_TIMEOUT.as_secs());
                break;
            }
        }
    }
    Err(NetError::Unreachable(last))
}

async fn handshake(
    host: &str,
    tcp: TcpStream,
    deadline: Instant,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, NetError> {
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| NetError::Tls("the host is not a valid TLS server name".into()))?;
    let config = tls_config()
        .config
        .clone()
        .map_err(|e| NetError::Tls(format!("TLS is unavailable: {e}")))?;
    let connector = tokio_rustls::TlsConnector::from(config);
    match tokio::time::timeout_at(deadline, connector.connect(name, tcp)).await {
        Err(_) => Err(NetError::Tls(format!(
            "the TLS handshake took more than {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
        Ok(Err(e)) => {
            let mut reason = match e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                Some(tls) => describe_tls(tls),
                None if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    "the server closed the connection during the TLS handshake".to_string()
                }
                None => os_words(&e),
            };
            if tls_config().roots == 0 {
                reason.push_str(
                    " (no trusted CA certificates were found on this system: install ca-certificates)",
                );
            }
            Err(NetError::Tls(reason))
        }
        Ok(Ok(tls)) => Ok(tls),
    }
}

/// RFC 6761 reserves `.invalid`: resolvers should answer it without asking the network, and
/// not every system resolver does, so it is answered here.
pub(super) fn is_reserved_invalid(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "invalid" || host.ends_with(".invalid")
}

/// An I/O error by its kind, or the operating system's words for its code: neither can hold a
/// host name, which a resolver's or a library's own message might.
fn os_words(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
        None => e.kind().to_string(),
    }
}

/// A rustls error in plain words, with rustls's own words after them where those cannot hold a
/// name (a certificate error's can: "not valid for name ...").
pub(crate) fn describe_tls(error: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let plain = match error {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => {
                "the certificate is not issued by a trusted CA (self-signed, or a private CA)"
            }
            // A trusted CA has the issuer's name but did not sign it: a private CA's namesake.
            C::BadSignature => "the certificate is not signed by a trusted CA",
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the certificate is not valid for this host name"
            }
            C::Expired | C::ExpiredContext { .. } => "the certificate has expired",
            C::NotValidYet | C::NotValidYetContext { .. } => "the certificate is not valid yet",
            C::Revoked => "the certificate is revoked",
            C::Other(other) if other.to_string().contains("CaUsedAsEndEntity") => {
                "the server presents a CA certificate as its own (a self-signed certificate)"
            }
            _ => "the certificate was refused",
        },
        rustls::Error::InvalidMessage(_) => {
            "the server did not answer with TLS (does it serve plain HTTP? then use http://)"
        }
        rustls::Error::AlertReceived(_) => "the server refused the TLS handshake",
        rustls::Error::PeerIncompatible(_) => {
            "the server supports no TLS version or cipher in common"
        }
        _ => "the TLS handshake failed",
    };
    match error {
        rustls::Error::InvalidMessage(_)
        | rustls::Error::AlertReceived(_)
        | rustls::Error::PeerIncompatible(_)
        | rustls::Error::PeerMisbehaved(_) => format!("{plain}: {error}"),
        _ => plain.to_string(),
    }
}

async fn over<S>(stream: S, request: Request<Empty<Bytes>>) -> Result<Response, NetError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let lost = |e: hyper::Error| NetError::Unreachable(format!("the connection failed: {e}"));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(lost)?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let result = async {
        let response = sender.send_request(request).await.map_err(lost)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .map_err(|e| NetError::Unreachable(format!("reading the answer failed: {e}")))?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
    .await;
    drop(sender);
    driver.abort();
    result
}

struct Tls {
    /// An error only if ring lacked the default protocol versions, which it does not.
    config: Result<Arc<rustls::ClientConfig>, String>,
    roots: usize,
}

/// rustls with ring and the system's trusted roots, built once.
fn tls_config() -> &'static Tls {
    static TLS: OnceLock<Tls> = OnceLock::new();
    TLS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        let (added, _ignored) = roots.add_parsable_certificates(found.certs);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|builder| {
                let mut config = builder.with_root_certificates(roots).with_no_client_auth();
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                Arc::new(config)
            })
            .map_err(|e| e.to_string());
        Tls {
            config,
            roots: added,
        }
    })
}
