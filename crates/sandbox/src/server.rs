//! The sandbox's HTTP side: one fallback handler that routes GitHub's paths itself, so that every
//! answer, errors included, has GitHub's status codes and JSON shapes.

use super::faults::{self, After, Plan};
use super::identity::{self, Caller};
use super::limits::{Gate, InFlight};
use super::routes::{route, Collection, Route};
use super::traffic::{Answered, Arrival};
use super::*;
use http::request::Parts;

/// The router: every path to [`handle`], under `prefix` (empty, or e.g. `/api/v3` as GitHub
/// Enterprise Server serves its API); a path outside the prefix is not found.
pub(super) fn app(state: Shared, prefix: &'static str) -> Router {
    let router = Router::new();
    let router = match prefix {
        "" => router.fallback(handle),
        _ => router.fallback(
            move |shared: AxumState<Shared>, request: Request| async move {
                match strip_prefix(request, prefix) {
                    Some(request) => handle(shared, request).await,
                    None => not_found(),
                }
            },
        ),
    };
    router.with_state(state)
}

/// `request` with `prefix` taken off the front of its path, if it is there as whole segments.
fn strip_prefix(request: Request, prefix: &str) -> Option<Request> {
    let (mut parts, body) = request.into_parts();
    let path_and_query = parts.uri.path_and_query()?.as_str();
    let rest = path_and_query.strip_prefix(prefix)?;
    let rest = match rest.chars().next() {
        None => "/".to_owned(),
        Some('/') => rest.to_owned(),
        Some('?') => format!("/{rest}"),
        Some(_) => return None,
    };
    parts.uri = rest.parse().ok()?;
    Some(Request::from_parts(parts, body))
}

pub(super) async fn serve<L>(listener: L, app: Router, shutdown: oneshot::Receiver<()>)
where
    L: axum::serve::Listener,
    L::Addr: fmt::Debug,
{
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
    // Counted from arrival to answer, latency included.
    // Checked against the secondary limits before the body is awaited: the in-flight limit
    // counts the requests that came before this one, not those that came while it was read.
    let _in_flight = InFlight::enter(&shared);
    let arrived = Instant::now();
    let limited = lock(&shared)
        .limits
        .arrive(request.method(), request.uri().path(), arrived);
    let (parts, body) = request.into_parts();
    // Read before locking: the lock is never held across an await.
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.ok();
    let latency = {
        let mut state = lock(&shared);
        state.arrivals.push(Arrival::of(&parts, body.as_deref()));
        state.latency
    };
    if !latency.is_zero() {
        // The lock is not held here, so concurrent requests sleep concurrently.
        tokio::time::sleep(latency).await;
    }
    #[cfg(feature = "contract")]
    super::contract::arrived(&shared, &parts, body.as_deref());
    let path = parts.uri.path();

    let holds = lock(&shared).faults.arrive(&parts.method, path);
    for hold in holds {
        hold.wait().await;
    }
    // Scripted faults come first; those that replace the answer skip everything else.
    let plan = lock(&shared)
        .faults
        .plan(&parts.method, path, bearer_token(&parts.headers));
    let scripted = |status: u16| record(&mut lock(&shared), &parts, status, true, arrived);
    let after = match plan {
        Plan::Pass => None,
        Plan::After(after) => Some(after),
        Plan::Replace(response) => {
            scripted(response.status().as_u16());
            return checked(&shared, &parts, response, true).await;
        }
        Plan::Reset => {
            scripted(0);
            return dropped_connection();
        }
        Plan::Hang(wait) => {
            let response = faults::hung();
            scripted(response.status().as_u16());
            tokio::time::sleep(wait).await;
            return response;
        }
    };
    let Some(response) = respond(&shared, &parts, body, (arrived, limited)) else {
        return dropped_connection();
    };
    match after {
        None => checked(&shared, &parts, response, false).await,
        Some(After::Lose) => dropped_connection(),
        Some(After::Truncate) => faults::truncate(response).await,
    }
}

/// The answer, checked against GitHub's description when a test asked for it.
#[cfg(feature = "contract")]
async fn checked(shared: &Shared, parts: &Parts, response: Response, scripted: bool) -> Response {
    super::contract::answered(shared, parts, response, scripted).await
}

#[cfg(not(feature = "contract"))]
async fn checked(_: &Shared, _: &Parts, response: Response, _: bool) -> Response {
    response
}

/// Limits, then routing, under the lock; `None` drops the connection. A 304 spends none of the
/// primary budget, as on GitHub; every other answer that got past the limits spends one.
fn respond(
    shared: &Shared,
    parts: &Parts,
    body: Option<Bytes>,
    arrival: (Instant, Option<Response>),
) -> Option<Response> {
    let mut state = lock(shared);
    let now = Instant::now();
    let arrived = arrival.0;
    let response = match state.limits.gate(&parts.method, arrival, now) {
        Gate::Drop => None,
        Gate::Respond(response) => Some(exempt(response)),
        Gate::Pass => {
            let answer = answer(&mut state, parts, body);
            let response = conditional(&parts.method, &parts.headers, answer);
            if response.status() != StatusCode::NOT_MODIFIED {
                state.limits.spend_primary(now);
            }
            Some(response)
        }
    };
    let status = response.as_ref().map_or(0, |r| r.status().as_u16());
    record(&mut state, parts, status, false, arrived);
    let mut response = response?;
    for (name, value) in state.limits.headers(now) {
        response.headers_mut().insert(name, value);
    }
    response
        .headers_mut()
        .insert(http::header::DATE, state.date());
    Some(response)
}

/// Logs and keeps one answered request (status 0: no answer), by names and status only: a
/// request's body, where values travel, is never logged.
fn record(state: &mut State, parts: &Parts, status: u16, scripted: bool, arrived: Instant) {
    let (method, path) = (&parts.method, parts.uri.path());
    tracing::debug!(method = %method, path = %path, status, scripted, "sandbox request");
    let record = RequestRecord {
        method: method.to_string(),
        path: path.to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        status,
    };
    state.answered.push(Answered {
        record,
        arrived,
        answered: Instant::now(),
    });
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let known_scheme =
        scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    known_scheme.then(|| token.trim())
}

/// The checks, in the order GitHub's behaviour needs them, then the endpoint itself. Classic
/// tokens' answers all carry `X-OAuth-Scopes`.
fn answer(state: &mut State, parts: &Parts, body: Option<Bytes>) -> Response {
    let token = bearer_token(&parts.headers);
    let Some(caller) = token.and_then(|token| Caller::of(state, token)) else {
        return github_error(StatusCode::UNAUTHORIZED, "Bad credentials");
    };
    let mut response = answer_as(state, &caller, parts, body);
    caller.mark(&mut response);
    response
}

fn answer_as(state: &mut State, caller: &Caller, parts: &Parts, body: Option<Bytes>) -> Response {
    let method = &parts.method;
    let path = by_name(state, parts.uri.path());
    let query = parts.uri.query().unwrap_or("");
    let route = match admit(state, caller, method, &parts.headers, route(method, &path)) {
        Ok(route) => route,
        Err(refused) => return refused,
    };
    let base = link_base(state, &path);

    match route {
        Route::User => identity::user(caller),
        Route::InstallationRepos => {
            identity::installation_repositories(state, caller, query, &base)
        }
        Route::Org(org) => identity::org(state, &org),
        Route::Repo(repo) => repository(state, &repo),
        Route::OrgRepos(org) => org_repositories(state, caller, &org, query, &base),
        Route::Environment { repo, env, put } => {
            environment(state, (&repo, &env, &base), put, body)
        }
        Route::Secrets(scope, op) => secrets::answer(state, &scope, op, query, &base, body),
        Route::Variables(scope, op) => variables::answer(state, &scope, op, query, &base, body),
        Route::Selected(scope, what, name, op) => {
            access::answer(state, &scope, what, &name, op, query, &base, body)
        }
    }
}

/// The refusals GitHub gives before looking at a request's own content, in its order: a token
/// without the permission, no `User-Agent`, an unknown path or scope, a scope the token cannot see.
fn admit(
    state: &mut State,
    caller: &Caller,
    method: &Method,
    headers: &HeaderMap,
    route: Option<Route>,
) -> Result<Route, Response> {
    let needs = route.as_ref().and_then(|r| match caller.access {
        TokenAccess::Full => None,
        TokenAccess::NoSecrets => r.permission(method, Collection::Secrets),
        TokenAccess::NoVariables => r.permission(method, Collection::Variables),
    });
    if let Some(needs) = needs {
        let mut response = github_error(StatusCode::FORBIDDEN, caller.not_accessible());
        if let Ok(value) = HeaderValue::from_str(&needs) {
            response
                .headers_mut()
                .insert("x-accepted-github-permissions", value);
        }
        return Err(response);
    }
    if !headers.contains_key(USER_AGENT) {
        return Err(github_error(StatusCode::FORBIDDEN, NO_USER_AGENT_MESSAGE));
    }
    let Some(route) = route else {
        return Err(not_found());
    };
    if let Some(scope) = route.scope() {
        if !state.scope_exists(scope) {
            return Err(not_found());
        }
        touch(state, scope);
    }
    match caller.refuses(&route) {
        Some(refused) => Err(refused),
        None => Ok(route),
    }
}

fn repository(state: &mut State, repo: &str) -> Response {
    if !state.repo_exists(repo) {
        return not_found();
    }
    state.ensure_repo(repo);
    let admin = !state.not_admin.contains(&repo.to_lowercase());
    match state.repo(repo) {
        Some(info) => json_value(
            StatusCode::OK,
            &json!({
                "id": info.id,
                "name": info.name(),
                "full_name": info.full_name,
                "owner": {"login": info.owner()},
                "private": true,
                // The user's role, as GitHub gives it to tokens that act for a user.
                "permissions": {"admin": admin, "maintain": admin, "push": true, "triage": true, "pull": true},
            }),
        ),
        None => not_found(),
    }
}

fn org_repositories(
    state: &State,
    caller: &Caller,
    org: &str,
    query: &str,
    base: &str,
) -> Response {
    if !state.org_exists(org) {
        return not_found();
    }
    // Every sandbox repository is private: hidden from classic tokens without `repo`.
    let items = match caller.sees_private() {
        true => state
            .org_repos(org)
            .into_iter()
            .map(|info| state.minimal_repo_json(info))
            .collect(),
        false => Vec::new(),
    };
    let paging = Paging::parse(query, DEFAULT_PER_PAGE, MAX_PER_PAGE);
    paged_array(items, paging, base)
}

/// `GET` or `PUT` an environment; `url` is its own, as requested. Its answer has every property
/// GitHub's description requires of an environment (no protection rules: the sandbox has none).
fn environment(
    state: &mut State,
    (repo, env, url): (&str, &str, &str),
    put: bool,
    body: Option<Bytes>,
) -> Response {
    if !state.repo_exists(repo) {
        return not_found();
    }
    state.ensure_repo(repo);
    if put {
        // The body (protection rules and the like) is optional; if sent it must be JSON.
        if body.as_ref().is_some_and(|b| !b.is_empty()) {
            if let Err(response) = body_object(body) {
                return response;
            }
        }
        state.ensure_environment(repo, env);
    }
    match state.environment(repo, env) {
        Some(info) => {
            // The environment's name as sent, already percent-encoded.
            let encoded = url.rsplit('/').next().unwrap_or_default();
            json_value(
                StatusCode::OK,
                &json!({
                    "id": info.id,
                    "node_id": format!("EN_sandbox{}", info.id),
                    "name": info.name,
                    "url": url,
                    "html_url": format!("https://github.com/{repo}/deployments/activity_log?environments_filter={encoded}"),
                    "created_at": info.created_at,
                    "updated_at": info.created_at,
                }),
            )
        }
        None => not_found(),
    }
}

/// Gives a repository that a request reached an id, as GitHub has one for every repository.
fn touch(state: &mut State, scope: &Scope) {
    match scope {
        Scope::Repo(r) | Scope::DependabotRepo(r) | Scope::Environment(r, _) => {
            state.ensure_repo(r);
        }
        Scope::Org(_) | Scope::DependabotOrg(_) => {}
    }
}

/// `/repositories/{id}/...`, GitHub's alias of a repository's paths, as `/repos/{o}/{r}/...`;
/// every other path, and an id no repository has, as sent.
fn by_name(state: &State, path: &str) -> String {
    let id_and_rest = path
        .strip_prefix("/repositories/")
        .map(|p| p.split_once('/').unwrap_or((p, "")));
    let Some((id, rest)) = id_and_rest else {
        return path.to_owned();
    };
    match id.parse().ok().and_then(|id| state.repo_by_id(id)) {
        Some(info) if rest.is_empty() => format!("/repos/{}", info.full_name),
        Some(info) => format!("/repos/{}/{rest}", info.full_name),
        None => path.to_owned(),
    }
}

/// Where a listing's `Link`s point: GitHub answers a repository's listings with its
/// `/repositories/{id}/...` form, not the path as sent, so a client must follow either.
fn link_base(state: &State, path: &str) -> String {
    let under_repo = path.strip_prefix("/repos/").and_then(|p| {
        let mut parts = p.splitn(3, '/');
        let (owner, repo, rest) = (parts.next()?, parts.next()?, parts.next()?);
        let info = state.repo(&format!("{owner}/{repo}"))?;
        Some(format!("/repositories/{}/{rest}", info.id))
    });
    let origin = state.link_origin.as_deref().unwrap_or(&state.api_url);
    format!("{origin}{}", under_repo.as_deref().unwrap_or(path))
}
