//! Read-only questions for `secretsync doctor`: who the token is and what kind, and what GitHub
//! answers for a scope's paths, whatever the status. Every request here is a GET.

use http::header::HeaderMap;
use http::Method;
use serde_json::Value;

use super::error::{clean, server_message, target_of};
use super::{Client, GithubError, Op};
use crate::scope::{encode_segment, Repo, Scope};

/// GitHub's answer to one GET, whatever its status. Header values and messages are cleaned for
/// a terminal (one line, printable, bounded).
#[derive(Debug, Clone)]
pub struct Probe {
    pub status: u16,
    /// GitHub's `message`, or the start of the body; meaningful for error statuses.
    pub message: String,
    /// `X-OAuth-Scopes`, split on commas: GitHub sends it (empty when there are none) only to
    /// classic tokens and OAuth tokens.
    pub oauth_scopes: Option<Vec<String>>,
    /// `X-Accepted-GitHub-Permissions`: what a fine-grained token or an app needs for the call.
    pub accepted_permissions: Option<String>,
    /// `X-Accepted-OAuth-Scopes`: the scopes a classic token needs for the call.
    pub accepted_scopes: Option<String>,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
}

impl Probe {
    pub fn is_ok(&self) -> bool {
        self.status == 200
    }

    /// A string field of the body, cleaned.
    pub fn field(&self, name: &str) -> Option<String> {
        self.body.get(name)?.as_str().map(clean)
    }

    /// `total_count` of a listing.
    pub fn total_count(&self) -> Option<u64> {
        self.body.get("total_count")?.as_u64()
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    Some(clean(value))
}

impl Client {
    /// GET `uri` through the usual transport (concurrency bound, rate limits, retries of 5xx and
    /// broken connections) and return what GitHub answered. `Err` only when there was no answer
    /// to read: the network, a rate limit past `--max-wait`.
    pub async fn probe(&self, uri: &str, target: &str, op: &Op) -> Result<Probe, GithubError> {
        let reply = self.send(Method::GET, uri, None, target, op).await?;
        let oauth_scopes = header(&reply.headers, "x-oauth-scopes").map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        });
        Ok(Probe {
            status: reply.status.as_u16(),
            message: server_message(&reply.body),
            oauth_scopes,
            accepted_permissions: header(&reply.headers, "x-accepted-github-permissions"),
            accepted_scopes: header(&reply.headers, "x-accepted-oauth-scopes"),
            body: serde_json::from_str(&reply.body).unwrap_or(Value::Null),
        })
    }

    /// `GET /user`: the token's user. An installation token answers 403 "Resource not
    /// accessible by integration".
    pub async fn whoami(&self) -> Result<Probe, GithubError> {
        self.probe("/user", "the token", &Op::List).await
    }

    /// `GET /installation/repositories` (one item; `total_count` counts them all): works only
    /// for a GitHub App installation token.
    pub async fn installation_repositories(&self) -> Result<Probe, GithubError> {
        self.probe(
            "/installation/repositories?per_page=1",
            "the token",
            &Op::OrgRepos,
        )
        .await
    }

    /// `GET /repos/{owner}/{name}`.
    pub async fn repository(&self, repo: &Repo) -> Result<Probe, GithubError> {
        let uri = format!("/repos/{}/{}", repo.owner, repo.name);
        self.probe(&uri, &repo.to_string(), &Op::RepoId(repo.name.clone()))
            .await
    }

    /// `GET /orgs/{org}`.
    pub async fn organization(&self, org: &str) -> Result<Probe, GithubError> {
        self.probe(
            &format!("/orgs/{org}"),
            &format!("org {org}"),
            &Op::OrgRepos,
        )
        .await
    }

    /// `GET /repos/{owner}/{name}/environments/{environment}`: never creates it.
    pub async fn environment(&self, repo: &Repo, environment: &str) -> Result<Probe, GithubError> {
        let uri = format!(
            "/repos/{}/{}/environments/{}",
            repo.owner,
            repo.name,
            encode_segment(environment)
        );
        self.probe(&uri, &repo.to_string(), &Op::Environment).await
    }

    /// The scope's public key, uncached and unparsed.
    pub async fn probe_public_key(&self, scope: &Scope) -> Result<Probe, GithubError> {
        let uri = format!("{}/public-key", scope.secrets_path());
        self.probe(&uri, &target_of(scope), &Op::PublicKey).await
    }

    /// The first secret of the scope; `total_count` counts them all.
    pub async fn probe_secrets(&self, scope: &Scope) -> Result<Probe, GithubError> {
        let uri = format!("{}?per_page=1", scope.secrets_path());
        self.probe(&uri, &target_of(scope), &Op::List).await
    }

    /// The first variable of the scope; `None` for Dependabot, which has no variables.
    pub async fn probe_variables(&self, scope: &Scope) -> Option<Result<Probe, GithubError>> {
        let uri = format!("{}?per_page=1", scope.variables_path()?);
        Some(
            self.probe(&uri, &target_of(scope), &Op::ListVariables)
                .await,
        )
    }
}
