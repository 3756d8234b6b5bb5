//! Reading GitHub's answers (`github::wire`) and the public key (`seal::PublicKey::parse`) on
//! arbitrary text: never panics; a page that parses, written back as GitHub would send it, parses
//! to the same items; a `Link` header written from a `next` target gives that target back; and a
//! paging link that is followed never leads to another host than the API's.
//!
//! The whole input is a response body (list pages of secrets, variables and repositories, a
//! public key). Its lines are also `Link` header values, and its first two lines an API base and
//! a link, and a key id and a key.
#![no_main]

use http::header::{HeaderMap, HeaderValue, LINK};
use http::Uri;
use libfuzzer_sys::fuzz_target;
use secretsync::github::wire::{
    next_link, page_items, same_origin, KeyBody, RepoItem, SecretItem, VariableItem,
};
use secretsync::seal::PublicKey;
use serde_json::{json, Value};

const APIS: &[&str] = &[
    "https://api.github.com",
    "https://ghe.example/api/v3",
    "http://127.0.0.1:8088",
];

/// Where a URL's requests go: scheme and authority (host and port), as `http` reads it.
fn origin(url: &str) -> Option<(String, String)> {
    let uri = url.parse::<Uri>().ok()?;
    Some((
        uri.scheme_str()?.to_owned(),
        uri.authority()?.as_str().to_owned(),
    ))
}

/// A link `same_origin` lets the client follow is requested at `{api}{path}`: that URL must go
/// where the API is, or it must not be a URL at all (the request then fails before it is sent).
fn never_elsewhere(api: &str, link: &str) {
    let Some(path) = same_origin(api, link) else {
        return;
    };
    let requested = format!("{api}{path}");
    if let Ok(uri) = requested.parse::<Uri>() {
        let went = (
            uri.scheme_str().map(str::to_owned),
            uri.authority().map(|a| a.as_str().to_owned()),
        );
        let (scheme, authority) = origin(api).expect("the APIs are URLs");
        assert_eq!(
            went,
            (Some(scheme), Some(authority)),
            "link {link:?} followed from {api:?} to {requested:?}"
        );
    }
}

/// Every list a page holds, written back as GitHub writes it (only the fields read), then read
/// again: the same items.
fn pages_round_trip(text: &str) {
    if let Ok(items) = page_items::<SecretItem>(text, Some("secrets")) {
        let written: Vec<Value> = items
            .iter()
            .map(
                |i| json!({"name": i.name, "updated_at": i.updated_at, "visibility": i.visibility}),
            )
            .collect();
        same_items(
            &items,
            &json!({"total_count": items.len(), "secrets": written}),
            Some("secrets"),
        );
    }
    if let Ok(items) = page_items::<VariableItem>(text, Some("variables")) {
        let written: Vec<Value> = items
            .iter()
            .map(|i| json!({"name": i.name, "value": i.value, "visibility": i.visibility}))
            .collect();
        same_items(
            &items,
            &json!({"total_count": items.len(), "variables": written}),
            Some("variables"),
        );
    }
    if let Ok(items) = page_items::<RepoItem>(text, None) {
        let written: Vec<Value> = items
            .iter()
            .map(|i| json!({"id": i.id, "name": i.name}))
            .collect();
        same_items(&items, &Value::Array(written), None);
    }
}

fn same_items<T: serde::de::DeserializeOwned + std::fmt::Debug>(
    items: &[T],
    page: &Value,
    key: Option<&str>,
) {
    let text = page.to_string();
    let again =
        page_items::<T>(&text, key).unwrap_or_else(|e| panic!("{text:?} does not read again: {e}"));
    assert_eq!(
        format!("{items:?}"),
        format!("{again:?}"),
        "written back as {text:?}"
    );
}

/// A `Link` header with `target` as its `next` entry, between two others, gives `target` back.
/// (A `next_link` that split on every `,` or `;`, or matched `rel` loosely, would not.)
fn next_round_trip(target: &str) {
    // A header value read as text is visible ASCII and spaces; a URL in `<>` has none of these.
    let clean = !target.is_empty()
        && target.bytes().all(|b| (b' '..=b'~').contains(&b))
        && !target.contains([',', ';', '<', '>'])
        && target.trim() == target;
    if !clean {
        return;
    }
    let header = format!(
        r#"<{target}&page=1>; rel="prev", <{target}>; rel="next", <{target}&page=9>; rel="last""#
    );
    if let Ok(value) = HeaderValue::from_str(&header) {
        let mut headers = HeaderMap::new();
        headers.insert(LINK, value);
        assert_eq!(
            next_link(&headers).as_deref(),
            Some(target),
            "from {header:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    let _ = page_items::<RepoItem>(text, Some("repositories"));
    pages_round_trip(text);
    // A public-key answer is one object; `page_items` with no key reads an array of them.
    if let Ok(mut keys) = page_items::<KeyBody>(&format!("[{text}]"), None) {
        if let Some(body) = keys.pop() {
            let _ = PublicKey::parse(&body.key_id, &body.key);
        }
    }

    let mut lines = text.splitn(3, '\n');
    let first = lines.next().unwrap_or("");
    let second = lines.next().unwrap_or("");
    let _ = PublicKey::parse(first, second);
    for api in APIS {
        never_elsewhere(api, first);
        never_elsewhere(api, text);
        next_round_trip(&format!("{api}{first}"));
    }
    next_round_trip(first);

    // Each line one `Link` value, as a header may come several times; and all in one value.
    let mut headers = HeaderMap::new();
    for line in text.lines() {
        if let Ok(value) = HeaderValue::from_str(line) {
            headers.append(LINK, value);
        }
    }
    for headers in [headers, single(text)] {
        if let Some(link) = next_link(&headers) {
            assert!(!link.contains(','), "next link {link:?} spans two entries");
            for api in APIS {
                never_elsewhere(api, &link);
            }
        }
    }
});

fn single(text: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(text) {
        headers.insert(LINK, value);
    }
    headers
}
