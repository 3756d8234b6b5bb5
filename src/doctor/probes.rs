//! Doctor's probes: first who the token is (which also says whether GitHub answers), then each
//! target's chain of read-only probes. A chain stops at its first problem, whose line names the
//! cause: the probes after it would only fail for the same reason.

use crate::config::{Config, Place, Target};
use crate::github::identity::Probe;
use crate::github::{Client, GithubError};
use crate::scope::{Repo, Scope, Visibility};
use crate::seal::PublicKey;

use super::advice::{self, Items};
use super::{ProbeResult, TargetReport, TokenKind, TokenReport};

/// What `GET /user` (and, for apps, `GET /installation/repositories`) told.
pub(super) struct Identity {
    pub(super) reachable: bool,
    pub(super) token: TokenReport,
    /// Whether probing the targets can tell anything more.
    pub(super) proceed: bool,
}

/// Read-only things every target's probes need.
pub(super) struct Context<'a> {
    pub(super) client: &'a Client,
    pub(super) kind: Option<TokenKind>,
    pub(super) scopes: Option<&'a [String]>,
}

fn token(ok: bool, kind: Option<TokenKind>, message: String) -> TokenReport {
    TokenReport {
        ok,
        login: None,
        kind,
        scopes: None,
        message,
    }
}

fn identity(reachable: bool, proceed: bool, token: TokenReport) -> Identity {
    Identity {
        reachable,
        token,
        proceed,
    }
}

pub(super) async fn identify(client: &Client, config: &Config, origin: &str) -> Identity {
    let api = config.api_url.as_str();
    let probe = match client.whoami().await {
        Ok(probe) => probe,
        Err(GithubError::Network { reason, .. }) => {
            let message = format!(
                "cannot reach GitHub at {api}: {reason}; check the network (and any proxy), and `[github] api_url` in {}",
                config.path.display()
            );
            return identity(false, false, token(false, None, message));
        }
        // A refused certificate: nothing was asked, so nothing answered.
        Err(e @ GithubError::Tls { .. }) => {
            return identity(false, false, token(false, None, e.to_string()));
        }
        Err(e) => {
            let message = advice::no_answer(&e, "checking the token");
            return identity(true, false, token(false, None, message));
        }
    };
    match probe.status {
        200 => user(&probe, api, origin),
        401 => {
            let message = format!(
                "GitHub rejected the token from {origin} (401 {}): it is mistyped, expired or revoked; replace it with a new one (https://github.com/settings/tokens), or run `gh auth login`",
                probe.message
            );
            identity(true, false, token(false, None, message))
        }
        403 if probe.message.contains("accessible by integration") => {
            identity(true, true, installation(client, origin).await)
        }
        403 => {
            let message = format!(
                "GitHub refused GET /user for the token from {origin} (403 {}); authorize the token for your organization's SSO, or check its restrictions (IP allow list)",
                probe.message
            );
            identity(true, true, token(false, None, message))
        }
        404 => {
            let message = format!(
                "GitHub answered 404 to GET /user: `[github] api_url` ({api}) is not the root of GitHub's REST API; use https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server"
            );
            identity(true, false, token(false, None, message))
        }
        _ => identity(
            true,
            false,
            token(false, None, advice::answered("GET /user", &probe)),
        ),
    }
}

/// `GET /user` answered: a user's token, classic (with its scopes) or fine-grained.
fn user(probe: &Probe, api: &str, origin: &str) -> Identity {
    let Some(login) = probe.field("login") else {
        let message = format!(
            "GitHub's answer to GET /user has no `login`: is `[github] api_url` ({api}) GitHub's REST API? (GitHub Enterprise Server: https://HOST/api/v3)"
        );
        return identity(true, false, token(false, None, message));
    };
    let (kind, what) = match &probe.oauth_scopes {
        Some(scopes) if scopes.is_empty() => (
            TokenKind::Classic,
            "a classic token with no scopes".to_string(),
        ),
        Some(scopes) => (
            TokenKind::Classic,
            format!("a classic token with scopes {}", scopes.join(", ")),
        ),
        None => (
            TokenKind::FineGrained,
            "a fine-grained token (its permissions are checked per target)".to_string(),
        ),
    };
    let message = format!("the token from {origin} works: `{login}`, {what}");
    let report = TokenReport {
        ok: true,
        login: Some(login),
        kind: Some(kind),
        scopes: probe.oauth_scopes.clone(),
        message,
    };
    identity(true, true, report)
}

/// A GitHub App installation token: its installation's repositories must be listable.
async fn installation(client: &Client, origin: &str) -> TokenReport {
    let kind = Some(TokenKind::App);
    match client.installation_repositories().await {
        Ok(probe) if probe.is_ok() => {
            let count = probe
                .total_count()
                .map_or("some".to_string(), |n| n.to_string());
            token(
                true,
                kind,
                format!(
                    "the token from {origin} works: a GitHub App installation token that reaches {count} repositories"
                ),
            )
        }
        Ok(probe) => token(
            false,
            kind,
            format!(
                "the token from {origin} is a GitHub App installation token, but GitHub answered {} {} to GET /installation/repositories; check that the app is still installed, and make a new installation token",
                probe.status, probe.message
            ),
        ),
        Err(e) => token(
            false,
            kind,
            advice::no_answer(&e, "listing the installation's repositories"),
        ),
    }
}

/// A problem was reported; the rest of the chain is skipped.
pub(super) struct Stop;

pub(super) type Step = Result<(), Stop>;

#[derive(Default)]
pub(super) struct Probes(pub(super) Vec<ProbeResult>);

impl Probes {
    pub(super) fn pass(&mut self, probe: &'static str, message: String) {
        self.0.push(ProbeResult {
            probe,
            ok: true,
            message,
        });
    }

    pub(super) fn fail(&mut self, probe: &'static str, message: String) -> Stop {
        self.0.push(ProbeResult {
            probe,
            ok: false,
            message,
        });
        Stop
    }
}

pub(super) async fn target(cx: &Context<'_>, target: &Target) -> TargetReport {
    let mut probes = Probes::default();
    let scopes = match &target.place {
        Place::Scope(scope) => {
            let _ = scope_chain(cx, target, scope, &mut probes).await;
            vec![scope.clone()]
        }
        Place::Match { org, pattern, .. } => {
            match_chain(cx, &target.place, (org, pattern), &mut probes)
                .await
                .unwrap_or_default()
        }
    };
    TargetReport {
        target: target.place.to_string(),
        probes: probes.0,
        scopes,
    }
}

/// The scopes a classic token needs for the target.
fn needs(target: &Target) -> Vec<&'static str> {
    match &target.place {
        Place::Scope(Scope::Org { .. }) => {
            let selected = target.access.as_ref().is_some_and(|a| {
                a.visibility == Visibility::Selected && !a.repositories.is_empty()
            });
            // The selected repositories are looked up by name, and may be private.
            match selected {
                true => vec!["admin:org", "repo"],
                false => vec!["admin:org"],
            }
        }
        _ => vec!["repo"],
    }
}

fn scopes_probe(cx: &Context<'_>, needed: &[&'static str], probes: &mut Probes) -> Step {
    let (Some(TokenKind::Classic), Some(scopes)) = (cx.kind, cx.scopes) else {
        return Ok(());
    };
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|need| !scopes.iter().any(|s| s == need))
        .collect();
    if !missing.is_empty() {
        return Err(probes.fail("scopes", advice::missing_scopes(&missing)));
    }
    let list = needed
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(" and ");
    let plural = if needed.len() == 1 { "" } else { "s" };
    probes.pass("scopes", format!("the token has the {list} scope{plural}"));
    Ok(())
}

async fn scope_chain(
    cx: &Context<'_>,
    target: &Target,
    scope: &Scope,
    probes: &mut Probes,
) -> Step {
    scopes_probe(cx, &needs(target), probes)?;
    match scope {
        Scope::Repo { repo, .. } => repository(cx, repo, probes).await?,
        Scope::Environment { repo, environment } => {
            repository(cx, repo, probes).await?;
            let exists =
                environment_probe(cx, repo, environment, target.create_environment, probes).await?;
            if !exists {
                return Ok(());
            }
        }
        Scope::Org { org, .. } => {
            organization(cx, org, probes).await?;
            if let Some(access) = &target.access {
                if access.visibility == Visibility::Selected && !access.repositories.is_empty() {
                    selected(cx, org, &access.repositories, probes).await?;
                }
            }
        }
    }
    if !target.secrets.is_empty() {
        public_key(cx, scope, probes).await?;
        list(cx, scope, Items::Secrets, probes).await?;
    }
    if !target.variables.is_empty() {
        list(cx, scope, Items::Variables, probes).await?;
    }
    Ok(())
}

/// The probe's answer, or the line for having none.
pub(super) fn answer(
    result: Result<Probe, GithubError>,
    name: &'static str,
    doing: &str,
    probes: &mut Probes,
) -> Result<Probe, Stop> {
    result.map_err(|e| probes.fail(name, advice::no_answer(&e, doing)))
}

async fn repository(cx: &Context<'_>, repo: &Repo, probes: &mut Probes) -> Step {
    let doing = format!("looking up repository `{repo}`");
    let probe = answer(
        cx.client.repository(repo).await,
        "repository",
        &doing,
        probes,
    )?;
    match probe.status {
        200 => {
            probes.pass("repository", format!("repository `{repo}` exists"));
            Ok(())
        }
        404 => Err(probes.fail(
            "repository",
            format!(
                "repository `{repo}` does not exist, or the token cannot see it (GitHub answers 404 for private repositories a token may not read); check the name, and {}",
                advice::see_repository(cx.kind, false)
            ),
        )),
        _ => Err(probes.fail(
            "repository",
            advice::answered(&format!("GET /repos/{repo}"), &probe),
        )),
    }
}

/// Whether the environment exists (`Ok(false)`: not yet, and `apply` will create it).
async fn environment_probe(
    cx: &Context<'_>,
    repo: &Repo,
    environment: &str,
    create: bool,
    probes: &mut Probes,
) -> Result<bool, Stop> {
    let doing = format!("looking up environment `{environment}` of `{repo}`");
    let probe = answer(
        cx.client.environment(repo, environment).await,
        "environment",
        &doing,
        probes,
    )?;
    match probe.status {
        200 => {
            probes.pass(
                "environment",
                format!("environment `{environment}` of `{repo}` exists"),
            );
            Ok(true)
        }
        404 if create => {
            probes.pass(
                "environment",
                format!(
                    "environment `{environment}` of `{repo}` does not exist yet; `apply` will create it (`create_environment = true`; that needs admin rights on the repository)"
                ),
            );
            Ok(false)
        }
        404 => Err(probes.fail(
            "environment",
            format!(
                "environment `{environment}` of `{repo}` does not exist; create it on GitHub (the repository's Settings, Environments), or set `create_environment = true` on the target"
            ),
        )),
        _ => Err(probes.fail(
            "environment",
            advice::answered(
                &format!("GET /repos/{repo}/environments/{environment}"),
                &probe,
            ),
        )),
    }
}

async fn organization(cx: &Context<'_>, org: &str, probes: &mut Probes) -> Step {
    let doing = format!("looking up organization `{org}`");
    let probe = answer(
        cx.client.organization(org).await,
        "organization",
        &doing,
        probes,
    )?;
    match probe.status {
        200 => {
            probes.pass("organization", format!("organization `{org}` exists"));
            Ok(())
        }
        404 => Err(probes.fail(
            "organization",
            format!(
                "organization `{org}` does not exist (a personal account has no organization secrets: use `repo` targets); check `org` in the target"
            ),
        )),
        _ => Err(probes.fail(
            "organization",
            advice::answered(&format!("GET /orgs/{org}"), &probe),
        )),
    }
}

/// The repositories named for `visibility = "selected"`: each must be found. A chain step like
/// the others, as docs/doctor.md promises: `apply` resolves these names before any write, so a missing
/// one stops it before the key or the listing would matter.
async fn selected(cx: &Context<'_>, org: &str, names: &[String], probes: &mut Probes) -> Step {
    let mut unseen = Vec::new();
    for name in names {
        let repo = Repo {
            owner: org.to_string(),
            name: name.clone(),
        };
        let doing = format!("looking up repository `{repo}`");
        let probe = answer(
            cx.client.repository(&repo).await,
            "repositories",
            &doing,
            probes,
        )?;
        match probe.status {
            200 => {}
            404 => unseen.push(format!("`{name}`")),
            _ => {
                return Err(probes.fail(
                    "repositories",
                    advice::answered(&format!("GET /repos/{repo}"), &probe),
                ));
            }
        }
    }
    if unseen.is_empty() {
        probes.pass(
            "repositories",
            format!("the {} selected repositories of `{org}` exist", names.len()),
        );
        Ok(())
    } else {
        Err(probes.fail(
            "repositories",
            match unseen.as_slice() {
                [one] => format!(
                    "selected repository {one} of `{org}` does not exist, or the token cannot see it; fix `repositories` in the target, or {}",
                    advice::see_repository(cx.kind, false)
                ),
                _ => format!(
                    "selected repositories {} of `{org}` do not exist, or the token cannot see them; fix `repositories` in the target, or {}",
                    unseen.join(", "),
                    advice::see_repository(cx.kind, true)
                ),
            },
        ))
    }
}

async fn public_key(cx: &Context<'_>, scope: &Scope, probes: &mut Probes) -> Step {
    let doing = format!("fetching the public key of {}", advice::place(scope));
    let probe = answer(
        cx.client.probe_public_key(scope).await,
        "public_key",
        &doing,
        probes,
    )?;
    let label = advice::label(scope, Items::Secrets);
    match probe.status {
        200 => {
            let key_id = probe.field("key_id").unwrap_or_default();
            let key = probe.field("key").unwrap_or_default();
            match PublicKey::parse(&key_id, &key) {
                Ok(_) => {
                    probes.pass(
                        "public_key",
                        format!("can read the {label} public key"),
                    );
                    Ok(())
                }
                Err(e) => Err(probes.fail(
                    "public_key",
                    format!(
                        "the public key GitHub gave for `{scope}` {e}; values cannot be sealed for it: is `[github] api_url` GitHub's API?"
                    ),
                )),
            }
        }
        401 | 403 | 404 => Err(probes.fail(
            "public_key",
            advice::refused(
                cx.kind,
                scope,
                Items::Secrets,
                "read the public key of",
                &probe,
            ),
        )),
        _ => Err(probes.fail("public_key", advice::answered(&doing, &probe))),
    }
}

async fn list(cx: &Context<'_>, scope: &Scope, items: Items, probes: &mut Probes) -> Step {
    let name = match items {
        Items::Secrets => "list_secrets",
        Items::Variables => "list_variables",
    };
    let label = advice::label(scope, items);
    let doing = format!("listing the {label} of {}", advice::place(scope));
    let result = match items {
        Items::Secrets => cx.client.probe_secrets(scope).await,
        Items::Variables => match cx.client.probe_variables(scope).await {
            Some(result) => result,
            // Dependabot has no variables.
            None => return Ok(()),
        },
    };
    let probe = answer(result, name, &doing, probes)?;
    match probe.status {
        200 => {
            let count = probe
                .total_count()
                .map_or(String::new(), |n| format!(" ({n} present)"));
            let likely = match items {
                Items::Secrets => ", so writing them is likely allowed",
                Items::Variables => "",
            };
            probes.pass(name, format!("can list the {label}{count}{likely}"));
            Ok(())
        }
        401 => Err(probes.fail(name, advice::answered(&doing, &probe))),
        403 | 404 => Err(probes.fail(name, advice::refused(cx.kind, scope, items, "list", &probe))),
        _ => Err(probes.fail(name, advice::answered(&doing, &probe))),
    }
}

/// `repos = { org, match }`: the organization's repository list must be readable, and something
/// in it must match. The scopes matched, when it does.
async fn match_chain(
    cx: &Context<'_>,
    place: &Place,
    (org, pattern): (&str, &str),
    probes: &mut Probes,
) -> Result<Vec<Scope>, Stop> {
    scopes_probe(cx, &["repo"], probes)?;
    let names = match cx.client.org_repositories(org).await {
        Ok(names) => names,
        Err(GithubError::Status { status: 404, .. }) => {
            return Err(probes.fail(
                "repositories",
                format!(
                    "organization `{org}` does not exist, or the token cannot see it; check `org` in the target, and the token's access to the organization"
                ),
            ))
        }
        Err(GithubError::Forbidden { message, .. }) => {
            return Err(probes.fail(
                "repositories",
                format!(
                    "GitHub refused listing the repositories of `{org}` (403 {message}); give the token read access to the organization's repositories (fine-grained: \"Metadata: read\" on them)"
                ),
            ))
        }
        Err(e) => {
            let doing = format!("listing the repositories of `{org}`");
            return Err(probes.fail("repositories", advice::no_answer(&e, &doing)));
        }
    };
    let count = names.len();
    let scopes = place.scopes_among(names);
    let matching = scopes.len();
    if matching == 0 {
        return Err(probes.fail(
            "repositories",
            format!(
                "none of the {count} repositories of `{org}` that the token can see matches `{pattern}`; check the pattern, and {}",
                advice::see_repository(cx.kind, true)
            ),
        ));
    }
    probes.pass(
        "repositories",
        format!("can list the repositories of `{org}`: {matching} of {count} match `{pattern}`"),
    );
    Ok(scopes)
}
