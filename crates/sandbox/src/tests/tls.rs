//! HTTPS under `/api/v3` (`Sandbox::spawn_https`), through a plain rustls client that trusts
//! only the sandbox's test CA, on its own thread: what gh does with an Enterprise `GH_HOST`.

use std::io::{Read, Write};
use std::net::TcpStream;

use super::REPO;
use crate::*;

/// One request over a fresh TLS connection to `sandbox`, verified against `ca` for `host`
/// (`127.0.0.1` or `localhost`); the status, the head and the body, or the failed handshake's
/// error.
fn try_https(
    sandbox: &Sandbox,
    ca: &TestCa,
    host: &str,
    target: &str,
) -> std::io::Result<(u16, String, String)> {
    let authority = sandbox.api_url();
    let authority = authority
        .trim_start_matches("https://")
        .split('/')
        .next()
        .expect("host and port");
    let port = authority.rsplit(':').next().expect("a port");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der()).expect("the CA is a valid root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).expect("a server name");
    let connection = rustls::ClientConnection::new(Arc::new(config), name).expect("a client");
    let tcp = TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: token sandbox-token\r\n\
         User-Agent: sandbox-test\r\nConnection: close\r\n\r\n"
    );
    tls.write_all(request.as_bytes())?;
    let mut text = String::new();
    tls.read_to_string(&mut text)?;
    let (head, body) = text.split_once("\r\n\r\n").expect("header end");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status line");
    Ok((status, head.to_owned(), body.to_owned()))
}

fn https(sandbox: &Sandbox, ca: &TestCa, host: &str, target: &str) -> (u16, String) {
    let (status, _, body) = try_https(sandbox, ca, host, target).expect("an answer over TLS");
    (status, body)
}

#[test]
fn a_client_trusting_the_test_ca_lists_secrets_under_api_v3() {
    let (sandbox, ca) = Sandbox::spawn_https(SandboxConfig::default()).expect("start");
    assert!(sandbox.api_url().starts_with("https://127.0.0.1:"));
    assert!(sandbox.api_url().ends_with("/api/v3"));
    assert!(ca.pem().starts_with("-----BEGIN CERTIFICATE-----"));
    sandbox.put_outside(REPO, "DEPLOY_KEY", b"a value");

    for host in ["127.0.0.1", "localhost"] {
        let listing = format!("/api/v3/repos/{REPO}/actions/secrets");
        let (status, body) = https(&sandbox, &ca, host, &listing);
        assert_eq!(status, 200, "{host}: {body}");
        let json: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(json["total_count"], 1, "{body}");
        assert_eq!(json["secrets"][0]["name"], "DEPLOY_KEY");
    }
    let requests = sandbox.requests();
    assert_eq!(requests[0].path, format!("/repos/{REPO}/actions/secrets"));

    // The next page's link leads back under the prefix, where a client can follow it.
    sandbox.put_outside(REPO, "OTHER_KEY", b"another value");
    let first_page = format!("/api/v3/repos/{REPO}/actions/secrets?per_page=1");
    let (_, head, _) = try_https(&sandbox, &ca, "127.0.0.1", &first_page).expect("an answer");
    let id = sandbox.repo_id(REPO).expect("an id");
    let next = format!("{}/repositories/{id}/actions/secrets?", sandbox.api_url());
    assert!(head.contains(&next), "{head}");

    // GitHub's paths without the prefix are not the API on an Enterprise host.
    let bare = format!("/repos/{REPO}/actions/secrets");
    assert_eq!(https(&sandbox, &ca, "127.0.0.1", &bare).0, 404);
    assert_eq!(https(&sandbox, &ca, "127.0.0.1", "/api/v3x/repos").0, 404);
}

#[test]
fn a_client_trusting_another_ca_is_refused() {
    let (sandbox, _) = Sandbox::spawn_https(SandboxConfig::default()).expect("start");
    let (_other, other_ca) = Sandbox::spawn_https(SandboxConfig::default()).expect("start");
    let target = format!("/api/v3/repos/{REPO}/actions/secrets");
    let refused = try_https(&sandbox, &other_ca, "127.0.0.1", &target)
        .expect_err("a certificate from another CA was trusted");
    assert!(refused.to_string().contains("certificate"), "{refused}");
    assert!(sandbox.requests().is_empty());
}
