//! The contract run can fail: a request GitHub's REST description does not accept, and an answer
//! it does not document, are both reported, naming the request. (Every other test runs with the
//! check on and fails on any violation: see `Drop for Env`.)

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use secretsync_sandbox::{Fault, FaultKind, Sandbox, SandboxConfig};

const TOKEN: &str = "contract-token";

fn sandbox() -> Sandbox {
    let sandbox = Sandbox::spawn(SandboxConfig {
        token: TOKEN.to_owned(),
        ..SandboxConfig::default()
    })
    .expect("sandbox starts");
    sandbox.validate_against_openapi();
    sandbox
}

/// One HTTP/1.1 request over a plain socket, as a client with a bug would send it; the status.
fn send(sandbox: &Sandbox, method: &str, path: &str, body: &str) -> u16 {
    send_as(sandbox, method, path, body, "application/json")
}

fn send_as(sandbox: &Sandbox, method: &str, path: &str, body: &str, content_type: &str) -> u16 {
    let addr = sandbox.api_url().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: contract-test\r\n\
         Authorization: Bearer {TOKEN}\r\nContent-Type: {content_type}\r\n\
         Accept: application/vnd.github+json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line")
}

fn sealed_put(extra: &str) -> String {
    format!(r#"{{"encrypted_value":"c2VhbGVk","key_id":"sandbox-key-1"{extra}}}"#)
}

#[test]
fn a_body_field_github_does_not_accept_is_a_violation_naming_the_request() {
    let sandbox = sandbox();
    let path = "/repos/acme/shop/actions/secrets/PLANTED";
    // The sandbox itself ignores the extra field; only the description refuses it.
    send(&sandbox, "PUT", path, &sealed_put(r#","visibility":"all""#));
    let violations = sandbox.contract_violations();
    assert!(
        violations
            .iter()
            .any(|v| v.starts_with(&format!("PUT {path} ")) && v.contains("visibility")),
        "{violations:#?}"
    );
}

#[test]
fn a_body_sent_as_anything_but_json_is_a_violation() {
    let sandbox = sandbox();
    let path = "/repos/acme/shop/actions/secrets/PLANTED";
    send_as(&sandbox, "PUT", path, &sealed_put(""), "text/plain");
    let violations = sandbox.contract_violations();
    assert!(
        violations
            .iter()
            .any(|v| v.starts_with(&format!("PUT {path} ")) && v.contains("Content-Type")),
        "{violations:#?}"
    );
}

#[test]
fn a_well_formed_request_and_its_answer_are_no_violation() {
    let sandbox = sandbox();
    send(
        &sandbox,
        "GET",
        "/repos/acme/shop/actions/secrets/public-key",
        "",
    );
    send(
        &sandbox,
        "GET",
        "/repos/acme/shop/actions/secrets?per_page=100",
        "",
    );
    assert_eq!(sandbox.contract_violations(), Vec::<String>::new());
}

#[test]
fn an_undocumented_query_parameter_is_a_violation() {
    let sandbox = sandbox();
    send(
        &sandbox,
        "GET",
        "/repos/acme/shop/actions/secrets?limit=5",
        "",
    );
    let violations = sandbox.contract_violations();
    assert!(
        violations.iter().any(|v| v.contains("`limit`")),
        "{violations:#?}"
    );
}

#[test]
fn an_answer_github_does_not_document_is_a_violation_naming_the_request() {
    let sandbox = sandbox();
    sandbox.check_scripted_answers();
    // 200 to a secret's PUT (GitHub documents 201 and 204), and a public key answered with an
    // error's fields instead of `key_id` and `key`.
    sandbox.inject_fault(Fault::new(
        "PUT",
        "/PLANTED",
        FaultKind::Status(200, "ok".into()),
    ));
    sandbox.inject_fault(Fault::new(
        "GET",
        "/public-key",
        FaultKind::Status(200, "ok".into()),
    ));
    let put = "/repos/acme/shop/actions/secrets/PLANTED";
    assert_eq!(send(&sandbox, "PUT", put, &sealed_put("")), 200);
    let key = "/repos/acme/shop/actions/secrets/public-key";
    assert_eq!(send(&sandbox, "GET", key, ""), 200);
    let violations = sandbox.contract_violations();
    let reported = |start: &str, what: &str| {
        violations
            .iter()
            .any(|v| v.starts_with(start) && v.contains(what))
    };
    assert!(
        reported(
            &format!("PUT {put} "),
            "answered 200: a status the operation does not list"
        ),
        "{violations:#?}"
    );
    assert!(
        reported(&format!("GET {key} "), "documentation_url, message"),
        "{violations:#?}"
    );
}

#[test]
fn a_path_github_does_not_have_is_a_violation() {
    let sandbox = sandbox();
    send(&sandbox, "GET", "/repos/acme/shop/actions/secret", "");
    let violations = sandbox.contract_violations();
    assert!(
        violations
            .iter()
            .any(|v| v.starts_with("GET /repos/acme/shop/actions/secret: no operation")),
        "{violations:#?}"
    );
}

#[test]
fn a_public_key_answer_without_its_key_is_a_violation() {
    let sandbox = sandbox();
    sandbox.check_scripted_answers();
    sandbox.override_public_key(Some(r#"{"key_id":"k1"}"#.to_owned()));
    let key = "/repos/acme/shop/actions/secrets/public-key";
    assert_eq!(send(&sandbox, "GET", key, ""), 200);
    let violations = sandbox.contract_violations();
    assert!(
        violations
            .iter()
            .any(|v| v.starts_with(&format!("GET {key} "))
                && v.contains("missing required property \"key\"")),
        "{violations:#?}"
    );
}

/// GitHub's own examples, from the committed description, for the operations the client reads.
mod examples {
    use secretsync::github::wire::{page_items, KeyBody, RepoItem, SecretItem, VariableItem};
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    fn description() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/crates/sandbox/openapi/github.json"
        );
        let text = std::fs::read_to_string(path).expect("the committed description");
        serde_json::from_str(&text).expect("JSON")
    }

    /// Every example of the 200 answers of GET operations whose path ends with `suffix`, with
    /// the operation's path; asserts there is at least one.
    fn examples(suffix: &str) -> Vec<(String, String)> {
        let doc = description();
        let mut found = Vec::new();
        for (path, methods) in doc["paths"].as_object().expect("paths") {
            if !path.ends_with(suffix) {
                continue;
            }
            let examples = &methods["get"]["responses"]["200"]["json"]["examples"];
            for example in examples.as_object().into_iter().flatten().map(|(_, e)| e) {
                found.push((path.clone(), example.to_string()));
            }
        }
        assert!(!found.is_empty(), "no example for {suffix}");
        found
    }

    fn every_page<T: DeserializeOwned>(suffix: &str, key: Option<&str>) -> usize {
        let mut items = 0;
        for (path, example) in examples(suffix) {
            let page: Vec<T> = page_items(&example, key)
                .unwrap_or_else(|err| panic!("GET {path}: GitHub's example: {err}"));
            items += page.len();
        }
        items
    }

    #[test]
    fn the_client_reads_every_listing_github_gives_as_an_example() {
        // Repository, environment, organization and Dependabot listings.
        assert!(every_page::<SecretItem>("/secrets", Some("secrets")) > 0);
        assert!(every_page::<VariableItem>("/variables", Some("variables")) > 0);
        assert!(every_page::<RepoItem>("}/repositories", Some("repositories")) > 0);
        assert!(every_page::<RepoItem>("/installation/repositories", Some("repositories")) > 0);
        assert!(every_page::<RepoItem>("/orgs/{org}/repos", None) > 0);
    }

    #[test]
    fn the_client_reads_every_single_item_github_gives_as_an_example() {
        for (path, example) in examples("/{secret_name}") {
            let item: Result<SecretItem, _> = serde_json::from_str(&example);
            assert!(item.is_ok(), "GET {path}: {item:?}");
        }
        for (path, example) in examples("/variables/{name}") {
            let item: Result<VariableItem, _> = serde_json::from_str(&example);
            assert!(item.is_ok(), "GET {path}: {item:?}");
        }
        for (path, example) in examples("/repos/{owner}/{repo}") {
            let item: Result<RepoItem, _> = serde_json::from_str(&example);
            assert!(item.is_ok(), "GET {path}: {item:?}");
        }
        for (path, example) in examples("/public-key") {
            let key: KeyBody = serde_json::from_str(&example).expect("a key");
            assert!(
                !key.key_id.is_empty() && !key.key.is_empty(),
                "GET {path}: no key_id or key in {example}"
            );
        }
    }
}
