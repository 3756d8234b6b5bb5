//! GitHub's REST API for repository Actions secrets, through octocrab's raw requests: list every
//! page, fetch the public key, PUT a sealed value, DELETE. Every status is mapped here to an error
//! that says what it means for the user; nothing above this module sees HTTP.

use std::time::{Duration, Instant};

use http::header::{HeaderMap, HeaderName, ACCEPT, LINK};
use http::StatusCode;
use octocrab::service::middleware::retry::RetryConfig;
use octocrab::Octocrab;
use secrecy::SecretString;
use serde::Deserialize;

use crate::config::{ApiUrl, Repo};
use crate::plan::Remote;
use crate::seal::{KeyError, PublicKey, Sealed};

/// A hostile or broken server could page forever; no repository has this many pages of secrets.
const MAX_PAGES: usize = 100;
const MAX_MESSAGE: usize = 200;

pub struct Client {
    octo: Octocrab,
    api: ApiUrl,
}

/// What was being done when something failed, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    List,
    PublicKey,
    Put(String),
    Delete(String),
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::List => f.write_str("listing secrets"),
            Op::PublicKey => f.write_str("fetching the public key"),
            Op::Put(name) => write!(f, "writing `{name}`"),
            Op::Delete(name) => write!(f, "deleting `{name}`"),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum GithubError {
    #[error("GitHub rejected the token (401 {message}) while {op} on `{repo}`; check GH_TOKEN/GITHUB_TOKEN, or run `gh auth login`")]
    BadToken { repo: Repo, op: Op, message: String },
    #[error("repository `{repo}` was not found (404) while {op}: it does not exist, or the token cannot see it (GitHub hides private repositories); check the name and the token's repository access")]
    NotFound { repo: Repo, op: Op },
    #[error("GitHub refused {op} on `{repo}` (403 {message}); the token lacks the Secrets permission: give a fine-grained token \"Secrets: read and write\" on it, or a classic token the `repo` scope")]
    Forbidden { repo: Repo, op: Op, message: String },
    #[error("GitHub rejected {op} on `{repo}` (422 {message})")]
    Unprocessable { repo: Repo, op: Op, message: String },
    #[error("GitHub answered {status} {message} while {op} on `{repo}`; try again later")]
    Status {
        repo: Repo,
        op: Op,
        status: u16,
        message: String,
    },
    #[error("cannot reach GitHub at {api} while {op} on `{repo}`: {reason}; check the network and `[github] api_url`")]
    Network {
        api: String,
        repo: Repo,
        op: Op,
        reason: String,
    },
    #[error("GitHub's answer to {op} on `{repo}` makes no sense ({reason}); is `[github] api_url` a GitHub API?")]
    Malformed { repo: Repo, op: Op, reason: String },
    #[error("the public key GitHub gave for `{repo}` {error}; it cannot be used to seal values")]
    BadKey { repo: Repo, error: KeyError },
    #[error("cannot set up the GitHub client: {0}")]
    Setup(String),
}

impl GithubError {
    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            GithubError::BadToken { .. } => Some(401),
            GithubError::NotFound { .. } => Some(404),
            GithubError::Forbidden { .. } => Some(403),
            GithubError::Unprocessable { .. } => Some(422),
            GithubError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// GitHub's own message, or ours when GitHub gave none.
    pub fn message(&self) -> String {
        match self {
            GithubError::BadToken { message, .. }
            | GithubError::Forbidden { message, .. }
            | GithubError::Unprocessable { message, .. }
            | GithubError::Status { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// Whether continuing with other writes is pointless (the token is gone).
    pub fn is_fatal(&self) -> bool {
        matches!(self, GithubError::BadToken { .. })
    }
}

#[derive(Deserialize)]
struct ListPage {
    secrets: Vec<ListItem>,
}

#[derive(Deserialize)]
struct ListItem {
    name: String,
    updated_at: String,
}

#[derive(Deserialize)]
struct KeyBody {
    #[serde(default)]
    key_id: String,
    #[serde(default)]
    key: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
}

/// Whether a PUT made a new secret or replaced one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Client {
    /// Must be called inside a tokio runtime.
    pub fn new(api: &ApiUrl, token: SecretString) -> Result<Client, GithubError> {
        let octo = Octocrab::builder()
            .base_uri(api.as_str())
            .map_err(|e| GithubError::Setup(e.to_string()))?
            .personal_token(token)
            .add_header(ACCEPT, "application/vnd.github+json".to_string())
            .add_header(
                HeaderName::from_static("x-github-api-version"),
                "2022-11-28".to_string(),
            )
            // Retrying is decided by secretsync, not by a layer that cannot tell what is safe.
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(60)))
            .build()
            .map_err(|e| GithubError::Setup(e.to_string()))?;
        Ok(Client {
            octo,
            api: api.clone(),
        })
    }

    fn base(repo: &Repo) -> String {
        format!("/repos/{}/{}/actions/secrets", repo.owner, repo.name)
    }

    /// Every secret of `repo`, following `Link: rel="next"` across pages of 100.
    pub async fn list_secrets(&self, repo: &Repo) -> Result<Vec<Remote>, GithubError> {
        let mut next = Some(format!("{}?per_page=100", Self::base(repo)));
        let mut all = Vec::new();
        let mut pages = 0;
        while let Some(uri) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(self.malformed(repo, Op::List, "more than 100 pages of secrets"));
            }
            let reply = self
                .send(http::Method::GET, &uri, None, repo, &Op::List)
                .await?;
            if reply.status != StatusCode::OK {
                return Err(self.status_error(repo, Op::List, &reply));
            }
            let page: ListPage = serde_json::from_str(&reply.body)
                .map_err(|e| self.malformed(repo, Op::List, &e.to_string()))?;
            all.extend(page.secrets.into_iter().map(|s| Remote {
                name: s.name.to_ascii_uppercase(),
                updated_at: s.updated_at,
            }));
            next = next_link(&reply.headers)
                .map(|link| self.same_origin(&link, repo))
                .transpose()?;
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all.dedup_by(|a, b| a.name == b.name);
        Ok(all)
    }

    pub async fn public_key(&self, repo: &Repo) -> Result<PublicKey, GithubError> {
        let uri = format!("{}/public-key", Self::base(repo));
        let reply = self
            .send(http::Method::GET, &uri, None, repo, &Op::PublicKey)
            .await?;
        if reply.status != StatusCode::OK {
            return Err(self.status_error(repo, Op::PublicKey, &reply));
        }
        let body: KeyBody = serde_json::from_str(&reply.body)
            .map_err(|e| self.malformed(repo, Op::PublicKey, &e.to_string()))?;
        PublicKey::parse(&body.key_id, &body.key).map_err(|error| GithubError::BadKey {
            repo: repo.clone(),
            error,
        })
    }

    pub async fn put_secret(
        &self,
        repo: &Repo,
        name: &str,
        sealed: &Sealed,
    ) -> Result<Written, GithubError> {
        let op = Op::Put(name.to_string());
        let uri = format!("{}/{}", Self::base(repo), name);
        let body = serde_json::json!({
            "encrypted_value": sealed.encrypted_value,
            "key_id": sealed.key_id,
        });
        let reply = self
            .send(http::Method::PUT, &uri, Some(&body), repo, &op)
            .await?;
        match reply.status {
            StatusCode::CREATED => Ok(Written::Created),
            StatusCode::NO_CONTENT => Ok(Written::Updated),
            _ => Err(self.status_error(repo, op, &reply)),
        }
    }

    pub async fn delete_secret(&self, repo: &Repo, name: &str) -> Result<(), GithubError> {
        let op = Op::Delete(name.to_string());
        let uri = format!("{}/{}", Self::base(repo), name);
        let reply = self
            .send(http::Method::DELETE, &uri, None, repo, &op)
            .await?;
        match reply.status {
            StatusCode::NO_CONTENT | StatusCode::OK => Ok(()),
            _ => Err(self.status_error(repo, op, &reply)),
        }
    }

    async fn send(
        &self,
        method: http::Method,
        uri: &str,
        body: Option<&serde_json::Value>,
        repo: &Repo,
        op: &Op,
    ) -> Result<Reply, GithubError> {
        let started = Instant::now();
        let result = match method {
            http::Method::GET => self.octo._get(uri).await,
            http::Method::PUT => self.octo._put(uri, body).await,
            http::Method::DELETE => self.octo._delete(uri, body).await,
            _ => unreachable!("secretsync sends only GET, PUT and DELETE"),
        };
        let network = |reason: String| GithubError::Network {
            api: self.api.to_string(),
            repo: repo.clone(),
            op: op.clone(),
            reason,
        };
        let response = result.map_err(|e| network(describe(&e)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self
            .octo
            .body_to_string(response)
            .await
            .map_err(|e| network(describe(&e)))?;
        tracing::debug!(
            %method,
            path = uri.split('?').next().unwrap_or(uri),
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "github request"
        );
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    fn status_error(&self, repo: &Repo, op: Op, reply: &Reply) -> GithubError {
        let message = server_message(&reply.body);
        let repo = repo.clone();
        match reply.status.as_u16() {
            401 => GithubError::BadToken { repo, op, message },
            404 if matches!(op, Op::List | Op::PublicKey) => GithubError::NotFound { repo, op },
            403 => GithubError::Forbidden { repo, op, message },
            422 => GithubError::Unprocessable { repo, op, message },
            status => GithubError::Status {
                repo,
                op,
                status,
                message,
            },
        }
    }

    fn malformed(&self, repo: &Repo, op: Op, reason: &str) -> GithubError {
        GithubError::Malformed {
            repo: repo.clone(),
            op,
            reason: clean(reason),
        }
    }

    /// A `Link` must point back at the API we were given: following one elsewhere would send
    /// the token to another host.
    fn same_origin(&self, link: &str, repo: &Repo) -> Result<String, GithubError> {
        let prefix = format!("{}/", self.api.as_str());
        match link.strip_prefix(self.api.as_str()) {
            Some(rest) if link.starts_with(&prefix) => Ok(rest.to_string()),
            _ => Err(self.malformed(repo, Op::List, "a paging link points to another host")),
        }
    }
}

/// The `rel="next"` target of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
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

/// GitHub's `message`, or the start of the body; one line, printable, bounded.
fn server_message(body: &str) -> String {
    let message = serde_json::from_str::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.message)
        .unwrap_or_else(|| {
            if body.trim().is_empty() {
                "(no message)".into()
            } else {
                body.to_string()
            }
        });
    clean(&message)
}

/// Text from a server goes to a terminal: no control characters, one line, bounded.
fn clean(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.split_whitespace().collect::<Vec<_>>().join(" ");
    if trimmed.chars().count() > MAX_MESSAGE {
        let cut: String = trimmed.chars().take(MAX_MESSAGE).collect();
        format!("{cut}…")
    } else {
        trimmed
    }
}

/// octocrab's errors nest their cause; the innermost says what went wrong.
fn describe(error: &octocrab::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    clean(&text)
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
    fn server_messages_are_tamed() {
        assert_eq!(
            server_message(r#"{"message":"Bad credentials"}"#),
            "Bad credentials"
        );
        assert_eq!(
            server_message("<html>\n<b>oops</b>\n</html>"),
            "<html> <b>oops</b> </html>"
        );
        assert_eq!(server_message(""), "(no message)");
        assert!(server_message(&"x".repeat(1000)).chars().count() <= MAX_MESSAGE + 1);
        assert!(!server_message("a\u{1b}[31mred").contains('\u{1b}'));
    }
}
