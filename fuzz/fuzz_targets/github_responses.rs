//! Reading GitHub's answers (`github::wire`) and the public key (`seal::PublicKey::parse`) on
//! arbitrary text: never panics, and a paging link is only followed inside the API.
//!
//! The whole input is a response body (list pages of secrets, variables and repositories, a
//! public key). Its lines are also `Link` header values, and its first two lines an API base and
//! a link, and a key id and a key.
#![no_main]

use http::header::{HeaderMap, HeaderValue, LINK};
use libfuzzer_sys::fuzz_target;
use secretsync::github::wire::{
    next_link, page_items, same_origin, KeyBody, RepoItem, SecretItem, VariableItem,
};
use secretsync::seal::PublicKey;

const APIS: &[&str] = &["https://api.github.com", "https://ghe.example/api/v3", "http://127.0.0.1:8088"];

fn check_same_origin(api: &str, link: &str) {
    if let Some(path) = same_origin(api, link) {
        assert!(path.starts_with('/'), "path {path:?} from api {api:?} link {link:?}");
        assert_eq!(format!("{api}{path}"), link, "path {path:?} from api {api:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    let _ = page_items::<SecretItem>(text, Some("secrets"));
    let _ = page_items::<VariableItem>(text, Some("variables"));
    let _ = page_items::<RepoItem>(text, Some("repositories"));
    let _ = page_items::<RepoItem>(text, None);
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
    check_same_origin(first, second);
    for api in APIS {
        check_same_origin(api, first);
        check_same_origin(api, text);
    }

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
                check_same_origin(api, &link);
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
