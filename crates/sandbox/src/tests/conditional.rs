//! Conditional GETs over real HTTP: a strong `ETag` on every GET's JSON answer, stable for the
//! same body and new when a secret changes; `If-None-Match` answered 304 (one tag, `W/`, a list,
//! `*`) with no body and the `ETag`; and a 304 spends none of the primary budget.

use super::{call, raw, started, Reply, REPO};
use crate::*;

fn list_path() -> String {
    format!("/repos/{REPO}/actions/secrets")
}

async fn get_if_none_match(sandbox: &Sandbox, path: &str, tags: &str) -> Reply {
    let head = format!(
        "GET {path} HTTP/1.1\r\nAuthorization: Bearer sandbox-token\r\nUser-Agent: sandbox-test\r\nIf-None-Match: {tags}\r\n"
    );
    raw(sandbox, &head, "").await
}

fn etag(reply: &Reply) -> String {
    reply.header("etag").expect("an ETag").to_owned()
}

#[tokio::test]
async fn the_etag_is_strong_stable_and_follows_the_body() {
    let sandbox = started().await;
    sandbox.put_outside(REPO, "A", b"one");
    let first = call(&sandbox, "GET", &list_path(), "").await;
    let again = call(&sandbox, "GET", &list_path(), "").await;
    assert_eq!(first.status, 200);
    let tag = etag(&first);
    assert!(
        tag.starts_with('"') && tag.ends_with('"') && tag.len() > 16,
        "{tag}"
    );
    assert_eq!(etag(&again), tag, "the same body, the same tag");
    assert_eq!(first.body, again.body);
    // A new value in a later second bumps `updated_at`, so the listing and its tag change.
    sandbox.advance_clock(1);
    sandbox.put_outside(REPO, "A", b"two");
    let changed = call(&sandbox, "GET", &list_path(), "").await;
    assert_ne!(etag(&changed), tag);
    // Other listings have their own; errors and writes carry none.
    let variables = call(
        &sandbox,
        "GET",
        &format!("/repos/{REPO}/actions/variables"),
        "",
    )
    .await;
    assert_ne!(etag(&variables), etag(&changed));
    assert_eq!(
        call(&sandbox, "GET", "/nowhere", "").await.header("etag"),
        None
    );
    let create = r#"{"name":"V","value":"x"}"#;
    let created = call(
        &sandbox,
        "POST",
        &format!("/repos/{REPO}/actions/variables"),
        create,
    )
    .await;
    assert_eq!((created.status, created.header("etag")), (201, None));
}

#[tokio::test]
async fn a_matching_if_none_match_is_answered_304_in_every_form() {
    let sandbox = started().await;
    sandbox.put_outside(REPO, "A", b"one");
    let tag = etag(&call(&sandbox, "GET", &list_path(), "").await);
    let forms = [
        tag.clone(),
        format!("W/{tag}"),
        format!("\"other\", {tag}"),
        format!("W/\"a,b\" ,W/{tag}"),
        "*".to_owned(),
    ];
    for form in forms {
        let reply = get_if_none_match(&sandbox, &list_path(), &form).await;
        assert_eq!(reply.status, 304, "{form}");
        assert_eq!(reply.body, "", "{form}");
        assert_eq!(reply.header("etag"), Some(tag.as_str()), "{form}");
    }
    for other in ["\"other\"", "W/\"other\"", "\"a\", \"b\"", ""] {
        let reply = get_if_none_match(&sandbox, &list_path(), other).await;
        assert_eq!(reply.status, 200, "{other}");
        assert_eq!(etag(&reply), tag, "{other}");
    }
    // A tag once current is not current after a change.
    sandbox.put_outside(REPO, "B", b"two");
    let reply = get_if_none_match(&sandbox, &list_path(), &tag).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("\"B\""), "{}", reply.body);
}

#[tokio::test]
async fn a_304_spends_no_primary_budget() {
    let sandbox = started().await;
    let tag = etag(&call(&sandbox, "GET", &list_path(), "").await);
    assert_eq!(sandbox.primary_used(), 1);
    for _ in 0..3 {
        let reply = get_if_none_match(&sandbox, &list_path(), &tag).await;
        assert_eq!(reply.status, 304);
        assert_eq!(reply.header("x-ratelimit-used"), Some("1"));
        assert_eq!(reply.header("x-ratelimit-remaining"), Some("4999"));
    }
    assert_eq!(sandbox.primary_used(), 1);
    let statuses: Vec<u16> = sandbox.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 304, 304, 304]);
    // Under a limit too: a spent budget is not spent further by 304s, and a miss spends one.
    sandbox.set_primary_limit(Some(PrimaryLimit {
        requests: 2,
        reset_after: Duration::from_secs(3600),
    }));
    assert_eq!(
        get_if_none_match(&sandbox, &list_path(), &tag).await.status,
        304
    );
    assert_eq!(
        get_if_none_match(&sandbox, &list_path(), "\"x\"")
            .await
            .status,
        200
    );
    assert_eq!(sandbox.primary_used(), 1);
}
