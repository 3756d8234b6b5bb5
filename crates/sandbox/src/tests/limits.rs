//! Limits and faults over real HTTP: rate-limit headers, the primary limit and its reset, the
//! secondary limit with and without `retry-after`, 502s, dropped connections, and the in-flight
//! gauge under concurrent requests.

use super::{call, started, REPO};
use crate::*;

fn header_u64(reply: &super::tests::Reply, name: &str) -> u64 {
    reply
        .header(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("header {name} missing or not a number"))
}

fn epoch_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn list_path() -> String {
    format!("/repos/{REPO}/actions/secrets")
}

#[tokio::test]
async fn every_answer_carries_rate_limit_headers() {
    let sandbox = started().await;
    let first = call(&sandbox, "GET", &list_path(), "").await;
    let second = call(&sandbox, "GET", "/nowhere", "").await;
    assert_eq!(second.status, 404);
    assert_eq!(header_u64(&first, "x-ratelimit-limit"), 5000);
    assert_eq!(header_u64(&first, "x-ratelimit-used"), 1);
    assert_eq!(header_u64(&second, "x-ratelimit-used"), 2);
    assert_eq!(header_u64(&second, "x-ratelimit-remaining"), 4998);
    assert!(header_u64(&second, "x-ratelimit-reset") > epoch_now());
}

#[tokio::test]
async fn primary_limit_answers_403_until_reset_then_refills() {
    let sandbox = started().await;
    sandbox.set_primary_limit(Some(PrimaryLimit {
        requests: 2,
        reset_after: Duration::from_millis(1500),
    }));
    let first = call(&sandbox, "GET", &list_path(), "").await;
    assert_eq!(
        (first.status, header_u64(&first, "x-ratelimit-remaining")),
        (200, 1)
    );
    let second = call(&sandbox, "GET", &list_path(), "").await;
    assert_eq!(
        (second.status, header_u64(&second, "x-ratelimit-remaining")),
        (200, 0)
    );
    let limited = call(&sandbox, "GET", &list_path(), "").await;
    assert_eq!(limited.status, 403);
    assert_eq!(
        limited.json()["message"],
        "API rate limit exceeded for user ID 1."
    );
    assert!(limited.json()["documentation_url"].is_string());
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(header_u64(&limited, "x-ratelimit-limit"), 2);
    let reset = header_u64(&limited, "x-ratelimit-reset");
    assert!(reset >= epoch_now() && reset <= epoch_now() + 3, "{reset}");
    // Writes are refused too, and nothing is stored.
    let write = call(&sandbox, "DELETE", &format!("{}/X", list_path()), "").await;
    assert_eq!(write.status, 403);

    tokio::time::sleep(Duration::from_millis(1600)).await;
    let recovered = call(&sandbox, "GET", &list_path(), "").await;
    assert_eq!(recovered.status, 200);
    assert_eq!(header_u64(&recovered, "x-ratelimit-remaining"), 1);
    let statuses: Vec<u16> = sandbox.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![200, 200, 403, 403, 200]);

    sandbox.set_primary_limit(None);
    for _ in 0..3 {
        assert_eq!(call(&sandbox, "GET", &list_path(), "").await.status, 200);
    }
}

#[tokio::test]
async fn secondary_limit_answers_429_with_and_without_retry_after() {
    let sandbox = started().await;
    sandbox.set_secondary_limit(Some(SecondaryLimit {
        writes: 2,
        window: Duration::from_millis(800),
        retry_after: Some(7),
        ..SecondaryLimit::default()
    }));
    let delete = |name: &'static str| format!("{}/{name}", list_path());
    assert_eq!(call(&sandbox, "DELETE", &delete("A"), "").await.status, 404);
    assert_eq!(call(&sandbox, "DELETE", &delete("B"), "").await.status, 404);
    // Reads are not limited.
    assert_eq!(call(&sandbox, "GET", &list_path(), "").await.status, 200);
    let limited = call(&sandbox, "DELETE", &delete("C"), "").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("7"));
    let message = limited.json()["message"].as_str().unwrap_or("").to_owned();
    assert!(message.starts_with("You have exceeded a secondary rate limit"));

    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(call(&sandbox, "DELETE", &delete("D"), "").await.status, 404);

    sandbox.set_secondary_limit(Some(SecondaryLimit {
        writes: 0,
        window: Duration::from_secs(60),
        retry_after: None,
        ..SecondaryLimit::default()
    }));
    let limited = call(
        &sandbox,
        "POST",
        &format!("/repos/{REPO}/actions/variables"),
        "{}",
    )
    .await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_none());
    sandbox.set_secondary_limit(None);
    assert_eq!(call(&sandbox, "DELETE", &delete("E"), "").await.status, 404);
    let statuses: Vec<u16> = sandbox.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![404, 404, 200, 429, 404, 429, 404]);
}

/// Sends one request and returns whatever came back before the connection ended, or the error.
async fn raw_exchange(sandbox: &Sandbox, path: &str) -> std::io::Result<String> {
    let host = sandbox.api_url().trim_start_matches("http://").to_owned();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer sandbox-token\r\n\
         User-Agent: t\r\nConnection: close\r\n\r\n"
    );
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&host)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(request.as_bytes())?;
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    })
    .await
    .expect("client thread")
}

#[tokio::test]
async fn transient_faults_answer_502_or_drop_the_connection_then_recover() {
    let sandbox = started().await;
    sandbox.inject_transient(2, Transient::BadGateway);
    sandbox.inject_transient(1, Transient::Drop);
    for _ in 0..2 {
        let reply = call(&sandbox, "GET", &list_path(), "").await;
        assert_eq!(reply.status, 502);
        assert!(reply.json()["message"].is_string());
        assert!(reply.header("x-ratelimit-remaining").is_some());
    }
    match raw_exchange(&sandbox, &list_path()).await {
        Err(_) => {}
        Ok(text) => assert!(
            !text.contains("\r\n\r\n"),
            "a dropped connection sent a response: {text:?}"
        ),
    }
    let after = raw_exchange(&sandbox, &list_path())
        .await
        .expect("next request");
    assert!(after.starts_with("HTTP/1.1 200"), "{after}");
    let statuses: Vec<u16> = sandbox.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![502, 502, 0, 200]);
}

#[tokio::test]
async fn max_in_flight_counts_concurrent_requests_during_latency() {
    let sandbox = started().await;
    sandbox.set_latency(Duration::from_millis(300));
    let path = list_path();
    let started_at = std::time::Instant::now();
    let replies = tokio::join!(
        call(&sandbox, "GET", &path, ""),
        call(&sandbox, "GET", &path, ""),
        call(&sandbox, "GET", &path, ""),
        call(&sandbox, "GET", &path, ""),
    );
    let elapsed = started_at.elapsed();
    for reply in [replies.0, replies.1, replies.2, replies.3] {
        assert_eq!(reply.status, 200);
    }
    assert_eq!(sandbox.max_in_flight(), 4);
    assert!(
        elapsed < Duration::from_millis(1000),
        "latency sleeps ran one after another: {elapsed:?}"
    );

    sandbox.reset_max_in_flight();
    assert_eq!(sandbox.max_in_flight(), 0);
    call(&sandbox, "GET", &path, "").await;
    call(&sandbox, "GET", &path, "").await;
    assert_eq!(sandbox.max_in_flight(), 1);
}

#[tokio::test]
async fn githubs_model_limits_points_per_endpoint_and_requests_in_flight() {
    let sandbox = started().await;
    sandbox.set_secondary_limit(Some(SecondaryLimit {
        points: Some(6),
        retry_after: Some(3),
        ..SecondaryLimit::default()
    }));
    let secret = |repo: &str, name: &str| format!("/repos/{repo}/actions/secrets/{name}");
    assert_eq!(
        call(&sandbox, "DELETE", &secret(REPO, "A"), "")
            .await
            .status,
        404
    );
    // The same endpoint in another repository shares the budget: 5 + 5 is past 6.
    let limited = call(&sandbox, "DELETE", &secret("other/repo", "B"), "").await;
    assert_eq!(limited.status, 403);
    assert_eq!(limited.header("retry-after"), Some("3"));
    let message = limited.json()["message"].as_str().unwrap_or("").to_owned();
    assert!(message.starts_with("You have exceeded a secondary rate limit"));
    // Another endpoint has its own; a read costs 1.
    let variable = format!("/repos/{REPO}/actions/variables/V");
    assert_eq!(call(&sandbox, "DELETE", &variable, "").await.status, 404);
    for _ in 0..6 {
        assert_eq!(call(&sandbox, "GET", &list_path(), "").await.status, 200);
    }
    assert_eq!(call(&sandbox, "GET", &list_path(), "").await.status, 403);
    assert_eq!(sandbox.limited_arrivals().len(), 2);

    // Two in flight at most: the third to arrive, while the hold keeps two, answers 403.
    sandbox.set_secondary_limit(Some(SecondaryLimit::github(
        2,
        1000,
        Duration::from_secs(60),
        1,
    )));
    assert!(
        sandbox.limited_arrivals().is_empty(),
        "a new limit starts afresh"
    );
    sandbox.hold("GET", "/actions/secrets", 3, Duration::from_secs(60));
    let path = list_path();
    let replies = tokio::join!(
        call(&sandbox, "GET", &path, ""),
        call(&sandbox, "GET", &path, ""),
        call(&sandbox, "GET", &path, ""),
    );
    let mut statuses = [replies.0.status, replies.1.status, replies.2.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 403]);
    assert_eq!(sandbox.limited_arrivals(), vec![Duration::ZERO]);
}

#[tokio::test]
async fn rate_limit_used_is_the_budget_the_answers_report() {
    let sandbox = started().await;
    assert_eq!(sandbox.rate_limit_used(), 0);
    call(&sandbox, "GET", &list_path(), "").await;
    let last = call(&sandbox, "GET", &list_path(), "").await;
    assert_eq!(sandbox.rate_limit_used(), 2);
    assert_eq!(header_u64(&last, "x-ratelimit-used"), 2);
}
