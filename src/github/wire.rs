//! What GitHub's answers look like, and reading them: pure functions over text and headers,
//! kept apart from the client so they can be tested and fuzzed on their own.

use http::header::{HeaderMap, LINK};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub struct SecretItem {
    pub name: String,
    pub updated_at: String,
    pub visibility: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct VariableItem {
    pub name: String,
    #[serde(deserialize_with = "scalar_text")]
    pub value: String,
    pub visibility: Option<String>,
}

/// A variable's value is text, but GitHub's own example listing gives one as `true`: a number or
/// a boolean is read as the text it would be, so one such value cannot fail a whole listing.
fn scalar_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(text) => Ok(text),
        scalar @ (Value::Bool(_) | Value::Number(_)) => Ok(scalar.to_string()),
        _ => Err(serde::de::Error::custom("a variable's value is not text")),
    }
}

#[derive(Debug, Deserialize)]
pub struct RepoItem {
    pub id: u64,
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct KeyBody {
    #[serde(default)]
    pub key_id: String,
    #[serde(default)]
    pub key: String,
}

/// The items of one page of a list: the array under `key`, or the whole answer when `None`.
pub fn page_items<T: DeserializeOwned>(body: &str, key: Option<&str>) -> Result<Vec<T>, String> {
    let page: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let items = match key {
        Some(key) => page.get(key).cloned(),
        None => Some(page),
    }
    .ok_or_else(|| "no list in the answer".to_string())?;
    serde_json::from_value(items).map_err(|e| e.to_string())
}

/// A paging link, as a path under `api`; `None` when it points anywhere else, since following
/// it would send the token to another host.
pub fn same_origin(api: &str, link: &str) -> Option<String> {
    let prefix = format!("{api}/");
    link.starts_with(&prefix)
        .then(|| link[api.len()..].to_string())
}

/// The page size a list URL asks for: its `per_page`, else GitHub's default of 30.
pub fn per_page(url: &str) -> usize {
    url.split_once('?')
        .map_or("", |(_, query)| query)
        .split('&')
        .find_map(|pair| pair.strip_prefix("per_page=")?.parse().ok())
        .unwrap_or(30)
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|part| {
            let (target, params) = part.split_once(';')?;
            let is_next = params
                .split(';')
                .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
            is_next.then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
        })
}

/// An HTTP `Date` (RFC 9110's IMF-fixdate, or the older forms RFC 2822 reads) as GitHub writes
/// `updated_at`: RFC 3339, UTC, whole seconds.
pub fn http_date(text: &str) -> Option<String> {
    let parsed = chrono::DateTime::parse_from_rfc2822(text.trim()).ok()?;
    Some(
        parsed
            .with_timezone(&chrono::Utc)
            .format(crate::plan::TIME_FORMAT)
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_next() {
        let mut h = HeaderMap::new();
        h.insert(
            LINK,
            "<https://api.github.com/repositories/1/actions/secrets?page=2>; rel=\"next\", <https://api.github.com/repositories/1/actions/secrets?page=5>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/repositories/1/actions/secrets?page=2")
        );
        let mut last_only = HeaderMap::new();
        last_only.insert(LINK, "<https://x/y?page=1>; rel=\"prev\"".parse().unwrap());
        assert_eq!(next_link(&last_only), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn page_sizes() {
        assert_eq!(per_page("http://h/orgs/o/repos?per_page=100"), 100);
        assert_eq!(per_page("http://h/x?page=2&per_page=7"), 7);
        assert_eq!(per_page("http://h/x?page=2"), 30);
        assert_eq!(per_page("http://h/x?per_page=lots"), 30);
    }

    #[test]
    fn pages_and_origins() {
        let items: Vec<SecretItem> = page_items(
            r#"{"total_count":1,"secrets":[{"name":"A","created_at":"t","updated_at":"u"}]}"#,
            Some("secrets"),
        )
        .unwrap();
        assert_eq!(
            (items[0].name.as_str(), items[0].updated_at.as_str()),
            ("A", "u")
        );
        assert!(page_items::<SecretItem>("{}", Some("secrets"))
            .unwrap_err()
            .contains("no list"));
        assert!(page_items::<SecretItem>("<html>", Some("secrets")).is_err());
        let repos: Vec<RepoItem> = page_items(r#"[{"id":7,"name":"r"}]"#, None).unwrap();
        assert_eq!(repos[0].id, 7);
        assert_eq!(
            same_origin("https://h/api/v3", "https://h/api/v3/repos?page=2").as_deref(),
            Some("/repos?page=2")
        );
        assert_eq!(
            same_origin("https://h/api/v3", "https://evil/api/v3/repos"),
            None
        );
        assert_eq!(same_origin("https://h", "https://h.evil/x"), None);
    }

    #[test]
    fn an_http_date_reads_as_githubs_updated_at() {
        assert_eq!(
            http_date("Tue, 01 Dec 2026 18:00:07 GMT").as_deref(),
            Some("2026-12-01T18:00:07Z")
        );
        assert_eq!(http_date("yesterday"), None);
        assert_eq!(http_date(""), None);
    }
}
