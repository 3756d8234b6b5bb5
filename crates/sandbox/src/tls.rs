//! Serving over HTTPS under GitHub Enterprise Server's `/api/v3` prefix, for clients that talk
//! to nothing else (gh, for any `GH_HOST` that is not github.com): a certificate authority made
//! at start-up, which the client is told to trust, and a certificate for 127.0.0.1 and localhost
//! signed by it. Nothing is read from or written to disk here; the caller writes the CA's PEM
//! where its client looks (`SSL_CERT_FILE` for gh).

use std::io;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::*;

/// Where GitHub Enterprise Server serves its REST API.
pub const ENTERPRISE_API_PREFIX: &str = "/api/v3";
/// A client that connects and never finishes its handshake must not stall the accept loop.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate authority that signed an HTTPS sandbox's certificate (see
/// [`Sandbox::spawn_https`]); made afresh for each sandbox, its key forgotten once it signed.
#[derive(Debug, Clone)]
pub struct TestCa {
    pem: String,
    der: CertificateDer<'static>,
}

impl TestCa {
    /// The CA's certificate in PEM: the file a client is told to trust (gh: `SSL_CERT_FILE`).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The same in DER, for a rustls root store.
    pub fn der(&self) -> CertificateDer<'static> {
        self.der.clone()
    }
}

impl Sandbox {
    /// Like [`Sandbox::spawn`], but over HTTPS with a certificate signed by a fresh [`TestCa`],
    /// and under [`ENTERPRISE_API_PREFIX`]: [`Sandbox::api_url`] is then
    /// `https://127.0.0.1:PORT/api/v3`, as a GitHub Enterprise Server's.
    pub fn spawn_https(config: SandboxConfig) -> io::Result<(Sandbox, TestCa)> {
        let (ca, acceptor) = certificates()?;
        let sandbox = Sandbox::spawn_with(config, move |tcp, state, shutdown| {
            let reached = reachable(tcp.local_addr()?);
            let url = format!("https://{reached}{ENTERPRISE_API_PREFIX}");
            let listener = TlsListener { tcp, acceptor };
            Ok((
                url,
                serve(listener, app(state, ENTERPRISE_API_PREFIX), shutdown),
            ))
        })?;
        Ok((sandbox, ca))
    }
}

fn certificates() -> io::Result<(TestCa, TlsAcceptor)> {
    let failed = |e: rcgen::Error| io::Error::other(format!("cannot make a certificate: {e}"));
    let ca_key = KeyPair::generate().map_err(failed)?;
    let mut ca_params = CertificateParams::new(Vec::new()).map_err(failed)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "secretsync sandbox test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(failed)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(failed)?;
    let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
    let mut params = CertificateParams::new(names).map_err(failed)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "secretsync sandbox");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = params.signed_by(&server_key, &issuer).map_err(failed)?;

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    // The provider is named rather than taken from the process default, which is ambiguous
    // when another crate in the tree enables a second one.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| {
            b.with_no_client_auth()
                .with_single_cert(vec![server_cert.der().clone()], key)
        })
        .map_err(|e| io::Error::other(format!("cannot configure TLS: {e}")))?;
    let ca = TestCa {
        pem: ca_cert.pem(),
        der: ca_cert.der().clone(),
    };
    Ok((ca, TlsAcceptor::from(Arc::new(config))))
}

/// Accepts TCP connections and completes their TLS handshakes, one at a time: on loopback a
/// handshake takes about a millisecond, and the injected latency is spent after it, in the
/// handler, where connections overlap.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, peer) = match self.tcp.accept().await {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!("sandbox: accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let handshake = self.acceptor.accept(stream);
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                Ok(Ok(tls)) => return (tls, peer),
                Ok(Err(err)) => tracing::debug!("sandbox: TLS handshake failed: {err}"),
                Err(_) => tracing::debug!("sandbox: TLS handshake timed out"),
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
