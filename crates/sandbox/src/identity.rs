//! Who a token is and what kind: classic tokens (scopes in `X-OAuth-Scopes`, enforced as GitHub
//! does), fine-grained tokens, and GitHub App installation tokens; `GET /user`,
//! `GET /installation/repositories` and `GET /orgs/{org}`.

use super::routes::Route;
use super::*;

/// The token of the request being answered, and what it may do.
pub(super) struct Caller {
    pub(super) access: TokenAccess,
    pub(super) kind: TokenKind,
}

impl Caller {
    /// The registered token's access and kind; `None` for an unknown token.
    pub(super) fn of(state: &State, token: &str) -> Option<Caller> {
        let access = *state.tokens.get(token)?;
        let kind = match state.token_kinds.get(token) {
            Some(kind) => kind.clone(),
            None => match access {
                TokenAccess::Full => {
                    TokenKind::Classic(DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect())
                }
                TokenAccess::NoSecrets | TokenAccess::NoVariables => TokenKind::FineGrained,
            },
        };
        Some(Caller { access, kind })
    }

    fn has_scope(&self, scope: &str) -> bool {
        match &self.kind {
            TokenKind::Classic(scopes) => scopes.iter().any(|s| s == scope),
            TokenKind::FineGrained | TokenKind::App => true,
        }
    }

    /// Whether private repositories (every sandbox repository) are visible to the token.
    pub(super) fn sees_private(&self) -> bool {
        self.has_scope("repo")
    }

    /// GitHub's 403 message for a resource the token may not use.
    pub(super) fn not_accessible(&self) -> &'static str {
        match self.kind {
            TokenKind::App => "Resource not accessible by integration",
            _ => "Resource not accessible by personal access token",
        }
    }

    /// A classic token's missing scope, answered as GitHub does: repositories are private, so
    /// without `repo` they are hidden (404); organization secrets and variables without
    /// `admin:org` answer 403.
    pub(super) fn refuses(&self, route: &Route) -> Option<Response> {
        let scope = match route {
            Route::Repo(_) | Route::Environment { .. } => return self.hidden(),
            Route::Secrets(scope, _) | Route::Variables(scope, _) | Route::Selected(scope, ..) => {
                scope
            }
            _ => return None,
        };
        if !is_org_scope(scope) {
            return self.hidden();
        }
        if self.has_scope("admin:org") {
            return None;
        }
        let mut response = github_error(
            StatusCode::FORBIDDEN,
            "Must have admin rights to Repository.",
        );
        response.headers_mut().insert(
            "x-accepted-oauth-scopes",
            HeaderValue::from_static("admin:org"),
        );
        Some(response)
    }

    fn hidden(&self) -> Option<Response> {
        (!self.sees_private()).then(not_found)
    }

    /// Classic tokens' answers name their scopes, as GitHub's do.
    pub(super) fn mark(&self, response: &mut Response) {
        if let TokenKind::Classic(scopes) = &self.kind {
            if let Ok(value) = HeaderValue::from_str(&scopes.join(", ")) {
                response.headers_mut().insert("x-oauth-scopes", value);
            }
        }
    }
}

/// `GET /user`: the token's user; an installation token is no user.
pub(super) fn user(caller: &Caller) -> Response {
    match caller.kind {
        TokenKind::App => github_error(StatusCode::FORBIDDEN, caller.not_accessible()),
        _ => json_value(
            StatusCode::OK,
            &json!({"login": SANDBOX_LOGIN, "id": 1, "type": "User"}),
        ),
    }
}

/// `GET /installation/repositories`: for installation tokens, every existing repository with an
/// id; other tokens are refused.
pub(super) fn installation_repositories(
    state: &State,
    caller: &Caller,
    query: &str,
    base: &str,
) -> Response {
    if caller.kind != TokenKind::App {
        return github_error(
            StatusCode::FORBIDDEN,
            "You must authenticate with an installation access token in order to list \
             repositories for an installation.",
        );
    }
    let mut repos: Vec<&RepoInfo> = state
        .repos
        .values()
        .filter(|info| state.repo_exists(&info.full_name))
        .collect();
    repos.sort_by_key(|info| info.full_name.to_lowercase());
    let items = repos
        .into_iter()
        .map(|info| state.minimal_repo_json(info))
        .collect();
    let paging = Paging::parse(query, DEFAULT_PER_PAGE, MAX_PER_PAGE);
    paged_object("repositories", items, paging, base)
}

/// `GET /orgs/{org}`: organizations are public, so any token sees one that exists.
pub(super) fn org(state: &mut State, org: &str) -> Response {
    if !state.org_exists(org) {
        return not_found();
    }
    let id = state.org_id(org);
    json_value(
        StatusCode::OK,
        &json!({"login": org, "id": id, "type": "Organization"}),
    )
}

impl Sandbox {
    /// Accepts `token` as a classic personal access token with `scopes` (e.g. `&["repo"]`).
    pub fn add_classic_token(&self, token: &str, scopes: &[&str]) {
        let scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self.add_kind(token, TokenAccess::Full, TokenKind::Classic(scopes));
    }

    /// Accepts `token` as a fine-grained personal access token; [`TokenAccess::NoSecrets`]
    /// leaves out the secrets permissions, [`TokenAccess::NoVariables`] the variables ones.
    pub fn add_fine_grained_token(&self, token: &str, access: TokenAccess) {
        self.add_kind(token, access, TokenKind::FineGrained);
    }

    /// Accepts `token` as a GitHub App installation token with the secrets permissions.
    pub fn add_app_token(&self, token: &str) {
        self.add_kind(token, TokenAccess::Full, TokenKind::App);
    }

    /// The kind a registered token plays; `None` if the sandbox does not accept it.
    pub fn token_kind(&self, token: &str) -> Option<TokenKind> {
        Caller::of(&lock(&self.state), token).map(|caller| caller.kind)
    }

    fn add_kind(&self, token: &str, access: TokenAccess, kind: TokenKind) {
        let mut state = lock(&self.state);
        state.tokens.insert(token.to_owned(), access);
        state.token_kinds.insert(token.to_owned(), kind);
    }
}
