//! Building answers: JSON bodies (each with its strong `ETag`), GitHub's error shapes, `Link`
//! paging, conditional GETs answered 304, and a body that breaks the connection.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::HttpBody;

use super::*;

/// Every JSON answer is made here, so every one carries the `ETag` of its body; the server keeps
/// it only on a GET's success (`conditional`).
pub(super) fn json_response(status: StatusCode, body: String) -> Response {
    let etag = etag_of(body.as_bytes());
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, etag);
    }
    response
}

/// A strong entity tag: the same body always has the same one, a different body another.
pub(super) fn etag_of(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let hex: String = Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// Whether an `If-None-Match` value names `etag` (RFC 9110 13.1.2: `*`, or a list of entity
/// tags compared weakly, so `W/"x"` matches `"x"`).
pub(super) fn none_match(if_none_match: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(etag);
    let mut rest = if_none_match.trim();
    if rest == "*" {
        return true;
    }
    // Tags may hold commas inside their quotes, so the list is read tag by tag.
    while let Some(start) = rest.find('"') {
        let Some(len) = rest[start + 1..].find('"') else {
            return false;
        };
        let tag = &rest[start..start + len + 2];
        if tag == ours {
            return true;
        }
        rest = &rest[start + len + 2..];
    }
    false
}

/// A GET's success keeps its `ETag`, and is answered 304 with no body when the client already
/// holds it; every other answer drops the `ETag`.
pub(super) fn conditional(
    method: &Method,
    headers: &HeaderMap,
    mut response: Response,
) -> Response {
    let etag = response.headers_mut().remove(ETAG);
    let etag = match etag {
        Some(etag) if method == Method::GET && response.status() == StatusCode::OK => etag,
        _ => return response,
    };
    let matched = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| etag.to_str().is_ok_and(|ours| none_match(v, ours)));
    let mut response = match matched {
        true => empty(StatusCode::NOT_MODIFIED),
        false => response,
    };
    response.headers_mut().insert(ETAG, etag);
    response
}

pub(super) fn json_value(status: StatusCode, value: &Value) -> Response {
    json_response(status, value.to_string())
}

pub(super) fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// GitHub's 201 answer to a create: an empty object.
pub(super) fn created() -> Response {
    json_response(StatusCode::CREATED, "{}".to_owned())
}

pub(super) fn github_error(status: StatusCode, message: &str) -> Response {
    json_value(
        status,
        &json!({"message": message, "documentation_url": DOCS_URL}),
    )
}

pub(super) fn not_found() -> Response {
    github_error(StatusCode::NOT_FOUND, "Not Found")
}

pub(super) fn problems_parsing_json() -> Response {
    github_error(StatusCode::UNPROCESSABLE_ENTITY, "Problems parsing JSON")
}

/// 422 with one entry in `errors`; `resource` is e.g. "Secret" or "Variable".
pub(super) fn validation_failed(
    resource: &str,
    field: &str,
    code: &str,
    message: &str,
) -> Response {
    json_value(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({
            "message": "Validation Failed",
            "errors": [{"resource": resource, "field": field, "code": code, "message": message}],
            "documentation_url": DOCS_URL,
        }),
    )
}

/// Marks an answer a test planted on purpose (a fault, a limit, a replaced key): exempt from the
/// check against GitHub's description.
pub(super) fn exempt(response: Response) -> Response {
    #[cfg(feature = "contract")]
    let response = {
        let mut response = response;
        response.extensions_mut().insert(super::contract::Exempt);
        response
    };
    response
}

pub(super) fn injected(failure: &Injected) -> Response {
    exempt(injected_answer(failure))
}

fn injected_answer(failure: &Injected) -> Response {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // These statuses may not carry a body.
    if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return empty(status);
    }
    github_error(status, &failure.message)
}

/// The JSON object of a request body, or the answer to send instead.
pub(super) fn body_object(body: Option<Bytes>) -> Result<Map<String, Value>, Response> {
    match body.map(|b| serde_json::from_slice::<Value>(&b)) {
        Some(Ok(Value::Object(fields))) => Ok(fields),
        _ => Err(problems_parsing_json()),
    }
}

/// `per_page` and `page` from a query string, like GitHub: non-numbers are ignored, `per_page`
/// is clamped to `1..=max`, pages start at 1.
#[derive(Debug, Clone, Copy)]
pub(super) struct Paging {
    pub(super) per_page: u64,
    pub(super) page: u64,
}

impl Paging {
    pub(super) fn parse(query: &str, default: u64, max: u64) -> Paging {
        let mut paging = Paging {
            per_page: default,
            page: 1,
        };
        for (key, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
            match (key, value.parse::<u64>()) {
                ("per_page", Ok(n)) => paging.per_page = n.clamp(1, max),
                ("page", Ok(n)) => paging.page = n.max(1),
                _ => {}
            }
        }
        paging
    }

    /// This page's slice of `items`.
    pub(super) fn slice<T>(&self, items: Vec<T>) -> Vec<T> {
        let skip =
            usize::try_from((self.page - 1).saturating_mul(self.per_page)).unwrap_or(usize::MAX);
        let take = usize::try_from(self.per_page).unwrap_or(usize::MAX);
        items.into_iter().skip(skip).take(take).collect()
    }

    /// Adds GitHub's `Link` header (prev, next, last, first) for `total` items listed at `base`
    /// (an absolute URL without query), when there is more than one page.
    pub(super) fn link(&self, response: &mut Response, base: &str, total: u64) {
        let (per_page, page) = (self.per_page, self.page);
        let last = total.div_ceil(per_page).max(1);
        let link =
            |n: u64, rel: &str| format!("<{base}?per_page={per_page}&page={n}>; rel=\"{rel}\"");
        let mut links = Vec::new();
        if page > 1 {
            links.push(link((page - 1).min(last), "prev"));
        }
        if page < last {
            links.push(link(page + 1, "next"));
            links.push(link(last, "last"));
        }
        if page > 1 {
            links.push(link(1, "first"));
        }
        if !links.is_empty() {
            if let Ok(value) = HeaderValue::from_str(&links.join(", ")) {
                response.headers_mut().insert(LINK, value);
            }
        }
    }
}

/// A paged `{total_count, <key>: [...]}` answer.
pub(super) fn paged_object(key: &str, items: Vec<Value>, paging: Paging, base: &str) -> Response {
    let total = items.len() as u64;
    let page = paging.slice(items);
    let mut response = json_value(StatusCode::OK, &json!({"total_count": total, key: page}));
    paging.link(&mut response, base, total);
    response
}

/// A paged bare-array answer (e.g. an organization's repositories).
pub(super) fn paged_array(items: Vec<Value>, paging: Paging, base: &str) -> Response {
    let total = items.len() as u64;
    let page = paging.slice(items);
    let mut response = json_value(StatusCode::OK, &Value::Array(page));
    paging.link(&mut response, base, total);
    response
}

/// A response whose body fails on its first poll. hyper buffers the head and polls the body
/// before flushing, so the failure aborts the connection with nothing sent: the client sees the
/// connection close with no response.
pub(super) fn dropped_connection() -> Response {
    Response::new(Body::new(FailingBody))
}

struct FailingBody;

impl HttpBody for FailingBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox: injected dropped connection",
        ))))
    }
}
