//! The two logs of requests: each as it arrived (what [`Sandbox::arrived`] counts, and what it
//! carried, for the leak tests), and each as it was answered (what [`Sandbox::requests`] and
//! [`Sandbox::round_trips`] read). A request is in the first from arrival on, in the second once
//! answered; one that is never answered is in the first only.
//!
//! What it carried is every header and the body's bytes, but the two places a secret is meant
//! to travel (the token's `Authorization` header and a sealed `encrypted_value`), so that
//! anything else carrying a secret can be searched for.

use super::*;

/// A request as it arrived, before any latency or answer.
pub(super) struct Arrival {
    pub(super) method: Method,
    pub(super) path: String,
    /// Its [`kept`] headers and body, until [`Sandbox::take_traffic`] takes them.
    pub(super) traffic: Option<Vec<u8>>,
}

impl Arrival {
    pub(super) fn of(parts: &http::request::Parts, body: Option<&[u8]>) -> Arrival {
        Arrival {
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            traffic: Some(kept(&parts.headers, body)),
        }
    }
}

/// A request as it was answered (status 0: no answer was sent), with when it arrived.
pub(super) struct Answered {
    pub(super) record: RequestRecord,
    pub(super) arrived: Instant,
    pub(super) answered: Instant,
}

/// `headers` as `name: value` lines (bytes as sent) but `Authorization`, then the body: a JSON
/// object without its `encrypted_value` (written back, so escapes are undone and an escaped
/// secret is found too), any other body as it came.
pub(super) fn kept(headers: &HeaderMap, body: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in headers {
        if name == AUTHORIZATION {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    let body = body.unwrap_or_default();
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut object)) => {
            object.remove("encrypted_value");
            out.extend_from_slice(Value::Object(object).to_string().as_bytes());
        }
        Ok(other) => out.extend_from_slice(other.to_string().as_bytes()),
        Err(_) => out.extend_from_slice(body),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_all_but_the_token_and_the_sealed_value() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer tok"));
        headers.insert(USER_AGENT, HeaderValue::from_static("agent"));
        let body = br#"{"encrypted_value":"c2VhbGVk","key_id":"k","note":"\u0041bc"}"#;
        let text = String::from_utf8(kept(&headers, Some(body))).expect("utf-8");
        assert!(text.contains("user-agent: agent\n"), "{text}");
        assert!(
            text.contains(r#""key_id":"k""#) && text.contains("Abc"),
            "{text}"
        );
        assert!(
            !text.contains("tok") && !text.contains("c2VhbGVk"),
            "{text}"
        );
        let raw = kept(&HeaderMap::new(), Some(b"not json \xff"));
        assert!(raw.ends_with(b"not json \xff"));
    }
}
