//! The words of doctor's lines: what each scope's secrets are called, which permission or scope
//! each kind of token needs for them, and what to do when GitHub says no. Each problem is one
//! line that ends with its fix.

use crate::github::identity::Probe;
use crate::github::GithubError;
use crate::scope::{App, Scope};

use super::TokenKind;

const CLASSIC_SETTINGS: &str = "https://github.com/settings/tokens";
const FINE_GRAINED_SETTINGS: &str = "https://github.com/settings/personal-access-tokens";

/// Secrets or variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Items {
    Secrets,
    Variables,
}

/// e.g. "Actions secrets", "environment variables", "organization Dependabot secrets".
pub(super) fn label(scope: &Scope, items: Items) -> String {
    let what = match items {
        Items::Secrets => "secrets",
        Items::Variables => "variables",
    };
    let place = match scope {
        Scope::Repo {
            app: App::Actions, ..
        } => "Actions",
        Scope::Repo {
            app: App::Dependabot,
            ..
        } => "Dependabot",
        Scope::Environment { .. } => "environment",
        Scope::Org {
            app: App::Actions, ..
        } => "organization",
        Scope::Org {
            app: App::Dependabot,
            ..
        } => "organization Dependabot",
    };
    format!("{place} {what}")
}

/// The fine-grained (and GitHub App) permission GitHub documents for reading and writing them.
pub(super) fn permission(scope: &Scope, items: Items) -> &'static str {
    match (scope, items) {
        (Scope::Environment { .. }, _) => "repository \"Environments\"",
        (
            Scope::Repo {
                app: App::Dependabot,
                ..
            },
            _,
        ) => "repository \"Dependabot secrets\"",
        (
            Scope::Org {
                app: App::Dependabot,
                ..
            },
            _,
        ) => "organization \"Dependabot secrets\"",
        (Scope::Repo { .. }, Items::Secrets) => "repository \"Secrets\"",
        (Scope::Repo { .. }, Items::Variables) => "repository \"Variables\"",
        (Scope::Org { .. }, Items::Secrets) => "organization \"Secrets\"",
        (Scope::Org { .. }, Items::Variables) => "organization \"Variables\"",
    }
}

/// Why a classic token needs `scope`.
fn scope_reason(scope: &str) -> &'static str {
    match scope {
        "repo" => "repository secrets and private repositories need",
        "admin:org" => "organization secrets and variables need",
        _ => "the targets need",
    }
}

/// A classic token lacks scopes: the one line, with its fix.
pub(super) fn missing_scopes(missing: &[&str]) -> String {
    let list = missing
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(" and ");
    let reasons = missing
        .iter()
        .map(|s| scope_reason(s))
        .collect::<Vec<_>>()
        .join(", and ");
    let plural = if missing.len() == 1 { "" } else { "s" };
    format!(
        "the classic token lacks the {list} scope{plural} that {reasons}; add {list} to the token at {CLASSIC_SETTINGS}, or run `gh auth refresh -s {}` if it comes from gh",
        missing.join(",")
    )
}

/// How a token of `kind` gets to see repositories that answered 404; `them` for several.
pub(super) fn see_repository(kind: Option<TokenKind>, them: bool) -> String {
    let it = if them { "them" } else { "it" };
    match kind {
        Some(TokenKind::Classic) => format!("make sure the token's user has access to {it}"),
        Some(TokenKind::FineGrained) => format!(
            "add {it} to the fine-grained token's repository access at {FINE_GRAINED_SETTINGS}"
        ),
        Some(TokenKind::App) => format!("install the GitHub App on {it}"),
        None => format!("check the token's access to {it}"),
    }
}

/// Where a scope's items live, for problem lines: "`o/r`", "environment `e` of `o/r`",
/// "organization `o`".
pub(super) fn place(scope: &Scope) -> String {
    match scope {
        Scope::Repo { repo, .. } => format!("`{repo}`"),
        Scope::Environment { repo, environment } => {
            format!("environment `{environment}` of `{repo}`")
        }
        Scope::Org { org, .. } => format!("organization `{org}`"),
    }
}

/// The token cannot do `doing` (e.g. "read the public key of") on the scope's items: the line.
pub(super) fn refused(
    kind: Option<TokenKind>,
    scope: &Scope,
    items: Items,
    doing: &str,
    probe: &Probe,
) -> String {
    let label = label(scope, items);
    let asks = match (&probe.accepted_permissions, &probe.accepted_scopes) {
        (Some(p), _) if !p.is_empty() => format!("; GitHub asks for `{p}`"),
        (_, Some(s)) if !s.is_empty() => format!("; GitHub asks for the `{s}` scope"),
        _ => String::new(),
    };
    let permission = permission(scope, items);
    let fix = match kind {
        Some(TokenKind::FineGrained) => format!(
            "give the fine-grained token the {permission} permission (read and write) at {FINE_GRAINED_SETTINGS}"
        ),
        Some(TokenKind::App) => format!(
            "grant the GitHub App the {permission} permission (read and write), then approve the new permission on its installation"
        ),
        Some(TokenKind::Classic) => match scope {
            Scope::Org { org, .. } => format!(
                "the token's user must be an owner of organization `{org}` (the `admin:org` scope alone is not enough)"
            ),
            _ => "the token's user needs admin access to the repository (collaborators without it cannot use its secrets)".to_string(),
        },
        None => format!(
            "give the token the {permission} permission (fine-grained), or the `repo` scope (classic; `admin:org` for organizations)"
        ),
    };
    format!(
        "the token cannot {doing} the {label} of {} ({} {}{asks}); {fix}",
        place(scope),
        probe.status,
        probe.message
    )
}

/// A fine-grained or app token (or one of unknown kind) may or may not write the scope's
/// variables: GitHub does not say without a write. The line says so, and what it needs.
pub(super) fn write_unknown(kind: Option<TokenKind>, scope: &Scope) -> String {
    let permission = permission(scope, Items::Variables);
    let who = match kind {
        Some(TokenKind::App) => "the GitHub App has",
        Some(TokenKind::FineGrained) => "the fine-grained token has",
        _ => "the token has",
    };
    format!(
        "cannot tell whether the token may write {} in {}: GitHub does not say without a write; make sure {who} the {permission} permission (read and write)",
        crate::config::STATE_VARIABLE,
        place(scope)
    )
}

/// Any other answer to `what` (e.g. "GET /repos/acme/shop"): the line.
pub(super) fn answered(what: &str, probe: &Probe) -> String {
    match probe.status {
        401 => format!(
            "GitHub rejected the token (401 {}) on {what}; it may have just expired or been revoked: make a new one, or run `gh auth login`",
            probe.message
        ),
        403 => format!(
            "GitHub refused {what} (403 {}); check the token's permissions and restrictions (SSO authorization, IP allow list)",
            probe.message
        ),
        status if status >= 500 => format!(
            "GitHub answered {status} {} to {what}; try again later (https://www.githubstatus.com)",
            probe.message
        ),
        status => format!(
            "GitHub answered {status} {} to {what}; is `[github] api_url` GitHub's API?",
            probe.message
        ),
    }
}

/// No answer to read while `doing`: the line.
pub(super) fn no_answer(error: &GithubError, doing: &str) -> String {
    match error {
        GithubError::Network { api, reason, .. } => format!(
            "cannot reach GitHub at {api} while {doing}: {reason}; check the network and `[github] api_url`"
        ),
        GithubError::RateLimited { waited_secs, .. } => format!(
            "GitHub's rate limit would need a wait past --max-wait ({waited_secs} s waited already) while {doing}; run again later, or raise --max-wait"
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::Repo;

    #[test]
    fn missing_scopes_name_each_scope_and_the_fix() {
        let one = missing_scopes(&["repo"]);
        assert!(one.contains("lacks the `repo` scope that") && one.contains("-s repo"));
        let two = missing_scopes(&["admin:org", "repo"]);
        assert!(two.contains("`admin:org` and `repo` scopes"), "{two}");
        assert!(two.contains("gh auth refresh -s admin:org,repo"), "{two}");
    }

    #[test]
    fn labels_and_places() {
        let repo = Repo::parse("o/r").unwrap();
        let env = Scope::Environment {
            repo: repo.clone(),
            environment: "prod".into(),
        };
        assert_eq!(label(&env, Items::Variables), "environment variables");
        assert_eq!(place(&env), "environment `prod` of `o/r`");
        let dependabot = Scope::Org {
            org: "o".into(),
            app: App::Dependabot,
        };
        assert_eq!(
            label(&dependabot, Items::Secrets),
            "organization Dependabot secrets"
        );
        assert_eq!(place(&dependabot), "organization `o`");
        assert_eq!(
            permission(
                &Scope::Repo {
                    repo,
                    app: App::Actions
                },
                Items::Secrets
            ),
            "repository \"Secrets\""
        );
    }
}
