//! What can go wrong talking to GitHub, each case worded for the person who must fix it.

use crate::scope::Scope;

/// What was being done when something failed, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    List,
    PublicKey,
    Put(String),
    Delete(String),
    Access(String),
    ListVariables,
    ReadVariable(String),
    WriteVariable(String),
    DeleteVariable(String),
    Environment,
    RepoId(String),
    OrgRepos,
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::List => f.write_str("listing secrets"),
            Op::PublicKey => f.write_str("fetching the public key"),
            Op::Put(name) => write!(f, "writing `{name}`"),
            Op::Delete(name) => write!(f, "deleting `{name}`"),
            Op::Access(name) => write!(f, "setting who may use `{name}`"),
            Op::ListVariables => f.write_str("listing variables"),
            Op::ReadVariable(name) => write!(f, "reading variable `{name}`"),
            Op::WriteVariable(name) => write!(f, "writing variable `{name}`"),
            Op::DeleteVariable(name) => write!(f, "deleting variable `{name}`"),
            Op::Environment => f.write_str("looking up the environment"),
            Op::RepoId(name) => write!(f, "looking up repository `{name}`"),
            Op::OrgRepos => f.write_str("listing the organization's repositories"),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum GithubError {
    #[error("GitHub rejected the token (401 {message}) while {op} on `{target}`; check GH_TOKEN/GITHUB_TOKEN, or run `gh auth login`")]
    BadToken {
        target: String,
        op: Op,
        message: String,
    },
    #[error("`{target}` was not found (404) while {op}: it does not exist, or the token cannot see it (GitHub hides private repositories); check the name and the token's access")]
    NotFound { target: String, op: Op },
    #[error("environment `{environment}` of `{repo}` does not exist; create it on GitHub, or set `create_environment = true` on the target")]
    NoEnvironment { repo: String, environment: String },
    #[error("GitHub refused {op} on `{target}` (403 {message}); the token lacks the Secrets permission: give a fine-grained token \"Secrets: read and write\" (and \"Variables\", \"Environments\" as used), or a classic token the `repo` scope (`admin:org` for organizations)")]
    Forbidden {
        target: String,
        op: Op,
        message: String,
    },
    #[error("GitHub rejected {op} on `{target}` (422 {message})")]
    Unprocessable {
        target: String,
        op: Op,
        message: String,
    },
    #[error("GitHub answered {status} {message} while {op} on `{target}`; try again later")]
    Status {
        target: String,
        op: Op,
        status: u16,
        message: String,
    },
    #[error("cannot reach GitHub at {api} while {op} on `{target}`: {reason}; check the network and `[github] api_url`")]
    Network {
        api: String,
        target: String,
        op: Op,
        reason: String,
    },
    #[error("cannot talk to GitHub at {api} securely while {op} on `{target}`: {reason}; if it is a GitHub Enterprise server with a private CA, trust that CA (its PEM certificate in the file SSL_CERT_FILE names, or in the system's trust store)")]
    Tls {
        api: String,
        target: String,
        op: Op,
        reason: String,
    },
    #[error("GitHub's rate limit would need a wait past --max-wait ({waited_secs} s waited already) while {op} on `{target}`; run again later, or raise --max-wait")]
    RateLimited {
        target: String,
        op: Op,
        waited_secs: u64,
    },
    #[error("GitHub's answer to {op} on `{target}` makes no sense ({reason}); is `[github] api_url` a GitHub API?")]
    Malformed {
        target: String,
        op: Op,
        reason: String,
    },
    #[error("the public key GitHub gave for `{target}` {error}; it cannot be used to seal values")]
    BadKey {
        target: String,
        error: crate::seal::KeyError,
    },
    #[error("repository `{repo}` does not exist in organization `{org}`; fix `repositories` in the target")]
    UnknownRepository { org: String, repo: String },
    #[error("not sent: interrupted before {op} on `{target}`; run again to finish")]
    Interrupted { target: String, op: Op },
    #[error("cannot set up the GitHub client: {0}")]
    Setup(String),
    /// Not GitHub's failure but the state folder's, told in the target's report beside what
    /// was sent (`apply`).
    #[error("{0}")]
    State(String),
}

impl GithubError {
    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            GithubError::BadToken { .. } => Some(401),
            GithubError::NotFound { .. } | GithubError::NoEnvironment { .. } => Some(404),
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
}

/// How a scope is named in messages.
pub fn target_of(scope: &Scope) -> String {
    scope.to_string()
}

const MAX_MESSAGE: usize = 200;

/// Text from a server goes to a terminal: no control characters, one line, bounded.
pub fn clean(text: &str) -> String {
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

#[derive(serde::Deserialize)]
struct ErrorBody {
    message: Option<String>,
}

/// GitHub's `message`, or the start of the body; one line, printable, bounded.
pub fn server_message(body: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
