//! The sandbox's HTTP side: one fallback handler that routes GitHub's paths itself, so that every
//! answer, errors included, has GitHub's status codes and JSON shapes.

use super::*;

pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    state: Shared,
    shutdown: oneshot::Receiver<()>,
) {
    let app = Router::new().fallback(handle).with_state(state);
    let stopped = async {
        // An error means the handle was dropped without sending, which also means stop.
        let _ = shutdown.await;
    };
    if let Err(err) = axum::serve(listener, app)
        .with_graceful_shutdown(stopped)
        .await
    {
        tracing::warn!("sandbox server stopped: {err}");
    }
}

pub(super) async fn handle(AxumState(shared): AxumState<Shared>, request: Request) -> Response {
    let latency = lock(&shared).latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (parts, body) = request.into_parts();
    // Read before locking: the lock is never held across an await.
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.ok();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();

    let mut state = lock(&shared);
    let response = answer(
        &mut state,
        &parts.method,
        &path,
        &query,
        &parts.headers,
        body,
    );
    let status = response.status().as_u16();
    tracing::debug!(method = %parts.method, path = %path, status, "sandbox request");
    state.requests.push(RequestRecord {
        method: parts.method.to_string(),
        path,
        query,
        status,
    });
    response
}

pub(super) enum Endpoint {
    PublicKey,
    List,
    Get(String),
    Put(String),
    Delete(String),
}

pub(super) struct Route {
    /// Path segments as sent, for building `Link` URLs.
    raw_owner: String,
    raw_repo: String,
    /// Lower-cased, percent-decoded `owner/repo`.
    repo: String,
    endpoint: Endpoint,
}

pub(super) fn route(method: &Method, path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let (owner, repo, rest) = match segments.as_slice() {
        ["repos", owner, repo, "actions", "secrets", rest @ ..] => (*owner, *repo, rest),
        _ => return None,
    };
    let endpoint = match (method, rest) {
        (&Method::GET, []) => Endpoint::List,
        (&Method::GET, ["public-key"]) => Endpoint::PublicKey,
        (&Method::GET, [name]) => Endpoint::Get(percent_decode(name)?),
        (&Method::PUT, [name]) => Endpoint::Put(percent_decode(name)?),
        (&Method::DELETE, [name]) => Endpoint::Delete(percent_decode(name)?),
        _ => return None,
    };
    Some(Route {
        raw_owner: owner.to_owned(),
        raw_repo: repo.to_owned(),
        repo: format!("{}/{}", percent_decode(owner)?, percent_decode(repo)?).to_lowercase(),
        endpoint,
    })
}

pub(super) fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub(super) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let known_scheme =
        scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    known_scheme.then(|| token.trim())
}

/// The checks, in the order GitHub's behaviour needs them, then the endpoint itself.
pub(super) fn answer(
    state: &mut State,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: Option<Bytes>,
) -> Response {
    let route = route(method, path);

    match bearer_token(headers).and_then(|token| state.tokens.get(token)) {
        None => return github_error(StatusCode::UNAUTHORIZED, "Bad credentials"),
        Some(TokenAccess::NoSecrets) if route.is_some() => {
            let needs = if method == Method::GET {
                "secrets=read"
            } else {
                "secrets=write"
            };
            let mut response = github_error(
                StatusCode::FORBIDDEN,
                "Resource not accessible by personal access token",
            );
            response.headers_mut().insert(
                "x-accepted-github-permissions",
                HeaderValue::from_static(needs),
            );
            return response;
        }
        Some(_) => {}
    }
    if !headers.contains_key(USER_AGENT) {
        return github_error(StatusCode::FORBIDDEN, NO_USER_AGENT_MESSAGE);
    }
    let Some(route) = route else {
        return not_found();
    };
    if !state.repo_exists(&route.repo) {
        return not_found();
    }

    match &route.endpoint {
        Endpoint::PublicKey => match &state.public_key_override {
            Some(raw) => json_response(StatusCode::OK, raw.clone()),
            None => json_value(
                StatusCode::OK,
                &json!({"key_id": KEY_ID, "key": BASE64.encode(state.public_key.as_bytes())}),
            ),
        },
        Endpoint::List => {
            if let Some(failure) = state.list_failure(&route.repo) {
                return injected(failure);
            }
            list(state, &route, query)
        }
        Endpoint::Get(name) => match state.secret(&route.repo, name) {
            Some(secret) => json_value(StatusCode::OK, &secret_json(&name.to_uppercase(), secret)),
            None => not_found(),
        },
        Endpoint::Put(name) => {
            let name = name.to_uppercase();
            if let Some(failure) = state.write_failure(&route.repo, &name) {
                return injected(failure);
            }
            put(state, &route.repo, &name, body)
        }
        Endpoint::Delete(name) => {
            let name = name.to_uppercase();
            if let Some(failure) = state.write_failure(&route.repo, &name) {
                return injected(failure);
            }
            let removed = state
                .secrets
                .get_mut(&route.repo)
                .and_then(|secrets| secrets.remove(&name));
            match removed {
                Some(_) => empty(StatusCode::NO_CONTENT),
                None => not_found(),
            }
        }
    }
}

pub(super) fn list(state: &State, route: &Route, query: &str) -> Response {
    let mut per_page = DEFAULT_PER_PAGE;
    let mut page = 1;
    for (key, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
        // Like GitHub, ignore values that are not numbers.
        match (key, value.parse::<u64>()) {
            ("per_page", Ok(n)) => per_page = n.clamp(1, MAX_PER_PAGE),
            ("page", Ok(n)) => page = n.max(1),
            _ => {}
        }
    }
    let empty_repo = BTreeMap::new();
    let secrets = state.secrets.get(&route.repo).unwrap_or(&empty_repo);
    let total = secrets.len() as u64;
    let last = total.div_ceil(per_page).max(1);
    let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let items: Vec<Value> = secrets
        .iter()
        .skip(skip)
        .take(per_page as usize)
        .map(|(name, secret)| secret_json(name, secret))
        .collect();
    let mut response = json_value(
        StatusCode::OK,
        &json!({"total_count": total, "secrets": items}),
    );

    let base = format!(
        "{}/repos/{}/{}/actions/secrets",
        state.api_url, route.raw_owner, route.raw_repo
    );
    let link = |n: u64, rel: &str| format!("<{base}?per_page={per_page}&page={n}>; rel=\"{rel}\"");
    // GitHub's order: prev, next, last, first.
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
    response
}

pub(super) fn put(state: &mut State, repo: &str, name: &str, body: Option<Bytes>) -> Response {
    if let Err(reason) = check_name(name) {
        return validation_failed("name", "invalid", reason);
    }
    let Some(Ok(Value::Object(fields))) = body.map(|b| serde_json::from_slice::<Value>(&b)) else {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "Problems parsing JSON");
    };
    let (Some(encrypted), Some(key_id)) = (
        fields.get("encrypted_value").and_then(Value::as_str),
        fields.get("key_id").and_then(Value::as_str),
    ) else {
        let missing = if fields
            .get("encrypted_value")
            .and_then(Value::as_str)
            .is_none()
        {
            "encrypted_value"
        } else {
            "key_id"
        };
        return validation_failed(
            missing,
            "missing_field",
            &format!("\"{missing}\" wasn't supplied as a string."),
        );
    };
    if key_id != KEY_ID {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "Bad key_id");
    }
    let Ok(ciphertext) = BASE64.decode(encrypted) else {
        return validation_failed("encrypted_value", "invalid", "is not valid base64");
    };
    let Ok(plaintext) = state.secret_key.unseal(&ciphertext) else {
        return validation_failed(
            "encrypted_value",
            "invalid",
            "could not be decrypted with the repository's public key",
        );
    };
    if state.store(repo, name, ciphertext, plaintext) {
        json_response(StatusCode::CREATED, "{}".to_owned())
    } else {
        empty(StatusCode::NO_CONTENT)
    }
}

pub(super) fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err("Secret names can only contain alphanumeric characters ([A-Z], [0-9]) or underscores (_).");
    }
    if name.as_bytes()[0].is_ascii_digit() {
        return Err("Secret names must not start with a number.");
    }
    if name.to_ascii_uppercase().starts_with("GITHUB_") {
        return Err("Secret names must not start with the GITHUB_ prefix.");
    }
    Ok(())
}

pub(super) fn secret_json(name: &str, secret: &Secret) -> Value {
    json!({"name": name, "created_at": secret.created_at, "updated_at": secret.updated_at})
}

pub(super) fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
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

pub(super) fn github_error(status: StatusCode, message: &str) -> Response {
    json_value(
        status,
        &json!({"message": message, "documentation_url": DOCS_URL}),
    )
}

pub(super) fn not_found() -> Response {
    github_error(StatusCode::NOT_FOUND, "Not Found")
}

pub(super) fn validation_failed(field: &str, code: &str, message: &str) -> Response {
    json_value(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({
            "message": "Validation Failed",
            "errors": [{"resource": "Secret", "field": field, "code": code, "message": message}],
            "documentation_url": DOCS_URL,
        }),
    )
}

pub(super) fn injected(failure: &Injected) -> Response {
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
