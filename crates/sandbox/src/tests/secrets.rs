//! Repository secrets over real HTTP (the key, PUT and unseal, paging, validation, DELETE,
//! injected failures, timestamps) and the server itself: credentials, unknown routes, latency,
//! a spawned sandbox, holds.

use super::{call, call_as, raw, started, Reply, REPO};
use crate::*;

fn secrets_path(name: &str) -> String {
    format!("/repos/{REPO}/actions/secrets/{name}")
}

fn sealed_body(sandbox: &Sandbox, plaintext: &[u8]) -> String {
    let ciphertext = PublicKey::from(sandbox.public_key_bytes())
        .seal(&mut OsRng, plaintext)
        .expect("seal");
    json!({"encrypted_value": BASE64.encode(ciphertext), "key_id": KEY_ID}).to_string()
}

async fn put_value(sandbox: &Sandbox, name: &str, plaintext: &[u8]) -> Reply {
    let body = sealed_body(sandbox, plaintext);
    call(sandbox, "PUT", &secrets_path(name), &body).await
}

#[tokio::test]
async fn public_key_round_trips_through_put_and_unseal() {
    let sandbox = started().await;
    let reply = call(&sandbox, "GET", &secrets_path("public-key"), "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(JSON_CONTENT_TYPE));
    let key = reply.json();
    assert_eq!(key["key_id"], KEY_ID);
    let key_bytes = BASE64
        .decode(key["key"].as_str().expect("key"))
        .expect("base64");
    assert_eq!(key_bytes, sandbox.public_key_bytes());
    assert_eq!(
        SecretKey::from(sandbox.secret_key_bytes())
            .public_key()
            .to_bytes(),
        sandbox.public_key_bytes()
    );

    let created = put_value(&sandbox, "api_token", b"first").await;
    assert_eq!((created.status, created.body.as_str()), (201, "{}"));
    // In a later second, so `updated_at` moves off `created_at`.
    sandbox.advance_clock(1);
    let updated = put_value(&sandbox, "API_TOKEN", b"second").await;
    assert_eq!((updated.status, updated.body.as_str()), (204, ""));

    assert_eq!(sandbox.names(REPO), vec!["API_TOKEN"]);
    assert_eq!(
        sandbox.plaintext(REPO, "api_token"),
        Some(b"second".to_vec())
    );
    let ciphertext = sandbox.ciphertext("Acme/App", "API_TOKEN").expect("stored");
    assert_eq!(ciphertext.len(), b"second".len() + 48);

    let one = call(&sandbox, "GET", &secrets_path("Api_Token"), "").await;
    assert_eq!(one.status, 200);
    let one = one.json();
    assert_eq!(one["name"], "API_TOKEN");
    assert_eq!(
        one["updated_at"].as_str(),
        sandbox.updated_at(REPO, "API_TOKEN").as_deref()
    );
    assert_ne!(one["created_at"], one["updated_at"]);
}

#[tokio::test]
async fn rejects_bad_credentials_missing_user_agent_and_no_secrets_tokens() {
    let sandbox = started().await;
    let target = format!("/repos/{REPO}/actions/secrets");
    let bad = call_as(&sandbox, "nope", "GET", &target, "").await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["message"], "Bad credentials");
    assert_eq!(bad.json()["documentation_url"], DOCS_URL);

    let anonymous = raw(
        &sandbox,
        &format!("GET {target} HTTP/1.1\r\nUser-Agent: t\r\n"),
        "",
    )
    .await;
    assert_eq!(anonymous.status, 401);

    let token_scheme = raw(
        &sandbox,
        &format!(
            "GET {target} HTTP/1.1\r\nAuthorization: token sandbox-token\r\nUser-Agent: t\r\n"
        ),
        "",
    )
    .await;
    assert_eq!(token_scheme.status, 200);

    let no_agent = raw(
        &sandbox,
        &format!("GET {target} HTTP/1.1\r\nAuthorization: Bearer sandbox-token\r\n"),
        "",
    )
    .await;
    assert_eq!(no_agent.status, 403);

    sandbox.add_token("read-only", TokenAccess::NoSecrets);
    let forbidden = call_as(&sandbox, "read-only", "GET", &target, "").await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(
        forbidden.json()["message"],
        "Resource not accessible by personal access token"
    );

    let statuses: Vec<u16> = sandbox.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![401, 401, 200, 403, 403]);
    assert_eq!(sandbox.requests()[0].path, target);
    sandbox.clear_requests();
    assert!(sandbox.requests().is_empty());
}

#[tokio::test]
async fn unknown_repo_and_unknown_route_are_not_found() {
    let config = SandboxConfig {
        repos: Some(BTreeSet::from(["Acme/App".to_owned()])),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.expect("start");
    let known = call(&sandbox, "GET", "/repos/acme/app/actions/secrets", "").await;
    assert_eq!(known.status, 200);
    assert_eq!(known.json(), json!({"total_count": 0, "secrets": []}));
    assert!(known.header("link").is_none());

    let unknown = call(&sandbox, "GET", "/repos/acme/other/actions/secrets", "").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json(),
        json!({"message": "Not Found", "documentation_url": DOCS_URL})
    );
    let elsewhere = call(&sandbox, "GET", "/gists", "").await;
    assert_eq!(elsewhere.status, 404);
    let wrong_method = call(&sandbox, "POST", "/repos/acme/app/actions/secrets", "").await;
    assert_eq!(wrong_method.status, 404);
}

#[tokio::test]
async fn lists_in_pages_with_github_link_headers() {
    let sandbox = started().await;
    for i in 0..150 {
        sandbox.put_outside(REPO, &format!("secret_{i:03}"), b"v");
    }
    let base = format!("/repos/{REPO}/actions/secrets");
    let first = call(&sandbox, "GET", &format!("{base}?per_page=100&page=1"), "").await;
    assert_eq!(first.status, 200);
    let body = first.json();
    assert_eq!(body["total_count"], 150);
    let names = body["secrets"].as_array().expect("secrets");
    assert_eq!(names.len(), 100);
    assert_eq!(names[0]["name"], "SECRET_000");
    // GitHub's links name the repository by id, not the path as sent.
    let url = sandbox.api_url();
    let id = sandbox.repo_id(REPO).expect("listed, so it has an id");
    let by_id = format!("/repositories/{id}/actions/secrets");
    assert_eq!(
        first.header("link"),
        Some(
            format!(
                "<{url}{by_id}?per_page=100&page=2>; rel=\"next\", <{url}{by_id}?per_page=100&page=2>; rel=\"last\""
            )
            .as_str()
        )
    );

    let second = call(&sandbox, "GET", &format!("{by_id}?page=2&per_page=100"), "").await;
    let body = second.json();
    let names = body["secrets"].as_array().expect("secrets");
    assert_eq!(names.len(), 50);
    assert_eq!(names[49]["name"], "SECRET_149");
    let link = second.header("link").expect("link on the last page");
    assert!(link.contains("rel=\"prev\"") && link.contains("rel=\"first\""));
    assert!(!link.contains("rel=\"next\""));

    let default_page = call(&sandbox, "GET", &base, "").await;
    assert_eq!(
        default_page.json()["secrets"].as_array().map(Vec::len),
        Some(30)
    );
    let clamped = call(&sandbox, "GET", &format!("{base}?per_page=500"), "").await;
    assert_eq!(
        clamped.json()["secrets"].as_array().map(Vec::len),
        Some(100)
    );
    let beyond = call(&sandbox, "GET", &format!("{base}?per_page=100&page=3"), "").await;
    assert_eq!(beyond.json()["secrets"], json!([]));
    assert_eq!(sandbox.requests()[0].query, "per_page=100&page=1");
    let no_such_id = call(&sandbox, "GET", "/repositories/1/actions/secrets", "").await;
    assert_eq!(no_such_id.status, 404);
}

#[tokio::test]
async fn put_validates_name_body_key_id_and_ciphertext() {
    let sandbox = started().await;
    let good = sealed_body(&sandbox, b"value");
    for name in ["1ABC", "GITHUB_TOKEN", "github_x", "BAD-NAME", "A%20B"] {
        let reply = call(&sandbox, "PUT", &secrets_path(name), &good).await;
        assert_eq!(reply.status, 422, "{name}");
    }
    let bad_key_id = json!({"encrypted_value": "AAAA", "key_id": "other"}).to_string();
    let reply = call(&sandbox, "PUT", &secrets_path("OK"), &bad_key_id).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.json()["message"], "Bad key_id");

    let garbage = json!({"encrypted_value": BASE64.encode([7u8; 60]), "key_id": KEY_ID});
    let reply = call(&sandbox, "PUT", &secrets_path("OK"), &garbage.to_string()).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.json()["errors"][0]["field"], "encrypted_value");

    let other_key = SecretKey::generate(&mut OsRng).public_key();
    let sealed = other_key.seal(&mut OsRng, b"value").expect("seal");
    let wrong_key = json!({"encrypted_value": BASE64.encode(sealed), "key_id": KEY_ID});
    let reply = call(&sandbox, "PUT", &secrets_path("OK"), &wrong_key.to_string()).await;
    assert_eq!(reply.status, 422);

    for body in [
        "not json",
        "{}",
        r#"{"key_id":"sandbox-key-1"}"#,
        r#"{"encrypted_value":"!!!","key_id":"sandbox-key-1"}"#,
    ] {
        let reply = call(&sandbox, "PUT", &secrets_path("OK"), body).await;
        assert_eq!(reply.status, 422, "{body}");
    }
    assert!(sandbox.names(REPO).is_empty());
}

#[tokio::test]
async fn delete_then_not_found() {
    let sandbox = started().await;
    sandbox.put_outside(REPO, "gone", b"x");
    let deleted = call(&sandbox, "DELETE", &secrets_path("GONE"), "").await;
    assert_eq!((deleted.status, deleted.body.as_str()), (204, ""));
    let again = call(&sandbox, "DELETE", &secrets_path("GONE"), "").await;
    assert_eq!(again.status, 404);
    let get = call(&sandbox, "GET", &secrets_path("GONE"), "").await;
    assert_eq!(get.status, 404);
    assert!(sandbox.plaintext(REPO, "GONE").is_none());
}

#[tokio::test]
async fn injected_failures_answer_until_cleared() {
    let sandbox = started().await;
    sandbox.inject_write_failure(REPO, "flaky", 502, "Server Error");
    sandbox.inject_list_failure("*", 403, "API rate limit exceeded");
    let put = put_value(&sandbox, "FLAKY", b"x").await;
    assert_eq!(put.status, 502);
    assert_eq!(put.json()["message"], "Server Error");
    let delete = call(&sandbox, "DELETE", &secrets_path("flaky"), "").await;
    assert_eq!(delete.status, 502);
    assert_eq!(put_value(&sandbox, "STEADY", b"x").await.status, 201);

    let list = call(&sandbox, "GET", "/repos/any/where/actions/secrets", "").await;
    assert_eq!(list.status, 403);
    assert_eq!(list.json()["message"], "API rate limit exceeded");

    sandbox.clear_failures();
    assert_eq!(put_value(&sandbox, "FLAKY", b"x").await.status, 201);
    let list = call(
        &sandbox,
        "GET",
        &format!("/repos/{REPO}/actions/secrets"),
        "",
    )
    .await;
    assert_eq!(list.json()["total_count"], 2);
}

#[tokio::test]
async fn updated_at_has_whole_seconds_shared_by_writes_in_one_second() {
    let sandbox = started().await;
    // 2033-05-18T03:33:20Z: later than the wall clock, so the pin is the time given.
    sandbox.pin_clock(2_000_000_000);
    let first = put_value(&sandbox, "CLOCK", b"1").await;
    let at_first = sandbox.updated_at(REPO, "CLOCK").expect("stored");
    put_value(&sandbox, "CLOCK", b"2").await;
    let at_second = sandbox.updated_at(REPO, "CLOCK").expect("stored");
    assert_eq!(at_first, at_second, "GitHub's times have whole seconds");
    let date = first.header("date").expect("a Date").to_owned();
    let date = chrono::DateTime::parse_from_rfc2822(&date).expect("an HTTP date");
    let updated = chrono::DateTime::parse_from_rfc3339(&at_first).expect("RFC 3339");
    assert_eq!(date, updated, "the answer's Date is the write's second");

    sandbox.advance_clock(1);
    sandbox.put_outside(REPO, "CLOCK", b"3");
    let third = sandbox.updated_at(REPO, "CLOCK").expect("stored");
    assert!(at_second < third, "{at_second} {third}");
    assert!(third.ends_with('Z') && third.len() == "2026-11-29T05:00:00Z".len());
    assert_eq!(sandbox.plaintext(REPO, "CLOCK"), Some(b"3".to_vec()));

    // Pinned back in time, the clock still never gives an earlier time than it gave.
    sandbox.pin_clock(0);
    sandbox.put_outside(REPO, "CLOCK", b"4");
    assert_eq!(sandbox.updated_at(REPO, "CLOCK"), Some(third));
}

#[tokio::test]
async fn public_key_override_and_latency() {
    let sandbox = started().await;
    sandbox.override_public_key(Some(r#"{"key_id":"x","key":"short"}"#.to_owned()));
    let reply = call(&sandbox, "GET", &secrets_path("public-key"), "").await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, r#"{"key_id":"x","key":"short"}"#)
    );
    sandbox.override_public_key(None);
    let reply = call(&sandbox, "GET", &secrets_path("public-key"), "").await;
    assert_eq!(reply.json()["key_id"], KEY_ID);

    sandbox.set_latency(Duration::from_millis(200));
    let started_at = std::time::Instant::now();
    call(&sandbox, "GET", &secrets_path("public-key"), "").await;
    assert!(started_at.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn spawned_sandbox_serves_from_its_own_thread_and_stops_on_drop() {
    let sandbox = Sandbox::spawn(SandboxConfig::default()).expect("spawn");
    let url = sandbox.api_url();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'));
    assert_eq!(put_value(&sandbox, "FROM_THREAD", b"hi").await.status, 201);
    assert_eq!(sandbox.plaintext(REPO, "FROM_THREAD"), Some(b"hi".to_vec()));
    let host = url.trim_start_matches("http://").to_owned();
    drop(sandbox);
    // Shutdown is asynchronous; the listener should close shortly after the drop.
    let mut closed = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(&host).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(closed, "sandbox still accepting connections after drop");
}

#[tokio::test]
async fn a_hold_answers_no_request_until_all_have_arrived() {
    let sandbox = started().await;
    sandbox.hold("PUT", "/actions/secrets/A", 2, Duration::from_secs(60));
    let first = put_value(&sandbox, "A", b"1");
    tokio::pin!(first);
    // Alone at the barrier it is not answered, however long it is given (the limit is a minute).
    let alone = tokio::time::timeout(Duration::from_millis(300), &mut first).await;
    assert!(alone.is_err(), "answered before the second arrived");
    let (first, second) = tokio::join!(first, put_value(&sandbox, "A", b"2"));
    // Released together, either may be carried out first: one creates, the other updates.
    let mut statuses = [first.status, second.status];
    statuses.sort();
    assert_eq!(statuses, [201, 204]);
    // Once reached, the barrier lets later requests through at once.
    let third = tokio::time::timeout(Duration::from_secs(30), put_value(&sandbox, "A", b"3")).await;
    assert_eq!(third.map(|r| r.status).ok(), Some(204));
}

#[tokio::test]
async fn a_request_has_arrived_before_it_is_answered() {
    let sandbox = started().await;
    // Held at a barrier for two, the first PUT is in flight until the second comes.
    sandbox.hold("PUT", "/actions/secrets/A", 2, Duration::from_secs(60));
    let first = put_value(&sandbox, "A", b"1");
    tokio::pin!(first);
    let seen = async {
        while sandbox.arrived("PUT", "/actions/secrets/A") == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        _ = &mut first => panic!("answered before the second arrived"),
        () = seen => {}
    }
    assert!(sandbox.requests().is_empty(), "arrived, not answered");
    assert_eq!(sandbox.arrived("GET", "/actions/secrets/A"), 0, "only PUTs");
    let (first, second) = tokio::join!(first, put_value(&sandbox, "A", b"2"));
    assert_eq!([first.status / 100, second.status / 100], [2, 2]);
    assert_eq!(sandbox.arrived("put", "/secrets/A"), 2);
    assert_eq!(sandbox.requests().len(), 2);
    sandbox.clear_requests();
    assert_eq!(sandbox.arrived("PUT", ""), 0);
}
