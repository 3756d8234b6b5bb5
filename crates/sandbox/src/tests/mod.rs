//! The sandbox's tests, one file per area, all over real HTTP but `faults` (see each file's
//! opening line); this file holds the shared test client and nothing else.

use super::*;

mod conditional;
mod faults;
mod identity;
mod limits;
mod scopes;
mod secrets;
mod tls;
mod variables;

pub(super) const REPO: &str = "acme/app";

pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: String,
}

impl Reply {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("response body is JSON")
    }
}

/// A minimal blocking HTTP/1.1 client on its own thread, so the tests exercise the real socket
/// without extra crates (tokio's `io-util` feature is not enabled).
pub(super) async fn raw(sandbox: &Sandbox, request_head: &str, body: &str) -> Reply {
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

pub(super) async fn call_as(
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

pub(super) async fn call(sandbox: &Sandbox, method: &str, target: &str, body: &str) -> Reply {
    call_as(sandbox, "sandbox-token", method, target, body).await
}

pub(super) async fn started() -> Sandbox {
    Sandbox::start(SandboxConfig::default())
        .await
        .expect("start sandbox")
}
