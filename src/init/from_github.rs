//! `init --from-github`: what GitHub holds at the given places, read with the client every other
//! command uses (its pacing and retries). Secrets come back as names only: GitHub never returns a
//! value. Variables come back with their values, which are not secret.

use crate::config::{ApiUrl, STATE_VARIABLE};
use crate::error::{Error, UsageError};
use crate::github::{self, Client, GithubError, Pacing};
use crate::plan::{Remote, RemoteVariable};
use crate::scope::{valid_name_part, App, Repo, Scope};
use crate::source::SourceError;

/// What to read, as the flags gave it.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub repos: Vec<String>,
    pub environments: Vec<String>,
    pub orgs: Vec<String>,
    pub dependabot: bool,
}

/// One place and what it holds.
#[derive(Debug, Clone)]
pub struct Listing {
    pub scope: Scope,
    pub secrets: Vec<Remote>,
    pub variables: Vec<RemoteVariable>,
    /// The scope holds secretsync's shared record (`SECRETSYNC_STATE`), left out of `variables`.
    pub shared_record: bool,
}

impl Wanted {
    /// The scopes to read, in the order targets are written: each repository, its environments
    /// and its Dependabot secrets; then each organization and its Dependabot secrets. A place
    /// named twice is read once.
    pub fn scopes(&self) -> Result<Vec<Scope>, Error> {
        if let (Some(environment), true) = (self.environments.first(), self.repos.is_empty()) {
            return Err(UsageError::InitEnvironmentWithoutRepo {
                environment: environment.clone(),
            }
            .into());
        }
        let mut scopes: Vec<Scope> = Vec::new();
        for text in &self.repos {
            let repo = Repo::parse(text).ok_or_else(|| UsageError::InitRepoName {
                target: text.clone(),
            })?;
            self.push_repo(&mut scopes, repo);
        }
        for org in &self.orgs {
            if !valid_name_part(org) {
                return Err(UsageError::InitOrgName {
                    target: org.clone(),
                }
                .into());
            }
            self.push_org(&mut scopes, org);
        }
        Ok(scopes)
    }

    /// A repository's Actions scope, its environments, and its Dependabot scope if wanted.
    fn push_repo(&self, scopes: &mut Vec<Scope>, repo: Repo) {
        let actions = Scope::Repo {
            repo: repo.clone(),
            app: App::Actions,
        };
        push_new(scopes, actions);
        for environment in &self.environments {
            let scope = Scope::Environment {
                repo: repo.clone(),
                environment: environment.clone(),
            };
            push_new(scopes, scope);
        }
        if self.dependabot {
            let app = App::Dependabot;
            push_new(scopes, Scope::Repo { repo, app });
        }
    }

    /// An organization's Actions scope, and its Dependabot scope if wanted.
    fn push_org(&self, scopes: &mut Vec<Scope>, org: &str) {
        let apps: &[App] = match self.dependabot {
            true => &[App::Actions, App::Dependabot],
            false => &[App::Actions],
        };
        for app in apps {
            let org = org.to_owned();
            push_new(scopes, Scope::Org { org, app: *app });
        }
    }
}

/// GitHub's names ignore case: `acme/Shop` and `acme/shop` are one place.
fn push_new(scopes: &mut Vec<Scope>, scope: Scope) {
    let key = scope.to_string().to_lowercase();
    if !scopes.iter().any(|s| s.to_string().to_lowercase() == key) {
        scopes.push(scope);
    }
}

/// The token as every command finds it when no config names one: GH_TOKEN, GITHUB_TOKEN, then
/// `gh auth token` (there is no config yet whose `[github] token` could be read).
fn token() -> Result<crate::source::Token, Error> {
    crate::source::resolve_token(&[]).map_err(|error| match error {
        SourceError::NoToken { tried } => UsageError::InitNoToken { tried }.into(),
        other => other.into(),
    })
}

/// Everything `scopes` hold, all read at once: one round of requests (plus, for organization
/// items visible to selected repositories, the round that names those repositories).
pub fn list(api: &ApiUrl, scopes: &[Scope], pacing: Pacing) -> Result<Vec<Listing>, Error> {
    let token = token()?;
    let (runtime, client) = github::connect_to(api, token.value, pacing)?;
    let listings = runtime.block_on(async {
        let reads = scopes.iter().map(|scope| list_one(&client, scope));
        futures::future::join_all(reads).await
    });
    let mut all = Vec::with_capacity(listings.len());
    for listing in listings {
        all.push(listing?);
    }
    Ok(all)
}

async fn list_one(client: &Client, scope: &Scope) -> Result<Listing, GithubError> {
    let (secrets, variables) =
        tokio::join!(client.list_secrets(scope), client.list_variables(scope));
    let mut variables = variables?;
    // secretsync's own shared record is not the team's variable; the notes tell it apart.
    let shared_record = variables.iter().any(|v| v.name == STATE_VARIABLE);
    variables.retain(|v| v.name != STATE_VARIABLE);
    Ok(Listing {
        scope: scope.clone(),
        secrets: secrets?,
        variables,
        shared_record,
    })
}
