//! Parsing GitHub's paths into what they address. Path segments are percent-decoded (environment
//! names arrive with `/` as `%2F`); anything not recognised is `None`, answered 404.

use super::*;

pub(super) enum SecretOp {
    PublicKey,
    List,
    Get(String),
    Put(String),
    Delete(String),
}

pub(super) enum VariableOp {
    List,
    Create,
    Get(String),
    Update(String),
    Delete(String),
}

/// The `/repositories` endpoints of an organization secret or variable.
pub(super) enum SelectedOp {
    List,
    Set,
    /// The raw `{repository_id}` segment.
    Add(String),
    Remove(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Collection {
    Secrets,
    Variables,
}

pub(super) enum Route {
    /// `GET /user`.
    User,
    /// `GET /installation/repositories`.
    InstallationRepos,
    /// `GET /orgs/{org}`.
    Org(String),
    /// `GET /repos/{o}/{r}`, with the decoded `owner/repo`.
    Repo(String),
    /// `GET /orgs/{org}/repos`.
    OrgRepos(String),
    /// `GET` (`put == false`) or `PUT` `/repos/{o}/{r}/environments/{env}`.
    Environment {
        repo: String,
        env: String,
        put: bool,
    },
    Secrets(Scope, SecretOp),
    Variables(Scope, VariableOp),
    Selected(Scope, Collection, String, SelectedOp),
}

impl Route {
    /// The scope whose existence the route needs, if any.
    pub(super) fn scope(&self) -> Option<&Scope> {
        match self {
            Route::Secrets(scope, _) | Route::Variables(scope, _) | Route::Selected(scope, ..) => {
                Some(scope)
            }
            _ => None,
        }
    }

    /// For a token without access to `withheld`: the permission this route needs, if it is a
    /// route of that collection (Dependabot has no variables, so none of its routes needs one).
    pub(super) fn permission(&self, method: &Method, withheld: Collection) -> Option<String> {
        let scope = match self {
            Route::Secrets(scope, _) if withheld == Collection::Secrets => scope,
            Route::Variables(scope, _) if withheld == Collection::Variables => scope,
            Route::Selected(scope, what, ..) if *what == withheld => scope,
            _ => return None,
        };
        let what = match (withheld, scope) {
            (Collection::Secrets, Scope::Repo(_) | Scope::Environment(..)) => "secrets",
            (Collection::Secrets, Scope::DependabotRepo(_)) => "dependabot_secrets",
            (Collection::Secrets, Scope::Org(_)) => "organization_secrets",
            (Collection::Secrets, Scope::DependabotOrg(_)) => "organization_dependabot_secrets",
            (Collection::Variables, Scope::Repo(_)) => "actions_variables",
            (Collection::Variables, Scope::Environment(..)) => "environments",
            (Collection::Variables, Scope::Org(_)) => "organization_actions_variables",
            (Collection::Variables, Scope::DependabotRepo(_) | Scope::DependabotOrg(_)) => {
                return None
            }
        };
        let level = if method == Method::GET {
            "read"
        } else {
            "write"
        };
        Some(format!("{what}={level}"))
    }
}

pub(super) fn route(method: &Method, path: &str) -> Option<Route> {
    let raw: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    // Empty owners, repositories, environments or names (`//`) are not paths GitHub serves.
    if raw.iter().any(|s| s.is_empty()) {
        return None;
    }
    let segments = raw
        .iter()
        .map(|s| percent_decode(s))
        .collect::<Option<Vec<String>>>()?;
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let get = method == Method::GET;
    Some(match segments.as_slice() {
        ["user"] if get => Route::User,
        ["installation", "repositories"] if get => Route::InstallationRepos,
        ["orgs", org] if get => Route::Org((*org).to_owned()),
        ["repos", o, r] if get => Route::Repo(format!("{o}/{r}")),
        ["orgs", org, "repos"] if get => Route::OrgRepos((*org).to_owned()),
        ["repos", o, r, "environments", env] => Route::Environment {
            repo: format!("{o}/{r}"),
            env: (*env).to_owned(),
            put: match *method {
                Method::GET => false,
                Method::PUT => true,
                _ => return None,
            },
        },
        ["repos", o, r, "actions", "secrets", rest @ ..] => {
            Route::Secrets(Scope::Repo(format!("{o}/{r}")), secret_op(method, rest)?)
        }
        ["repos", o, r, "dependabot", "secrets", rest @ ..] => Route::Secrets(
            Scope::DependabotRepo(format!("{o}/{r}")),
            secret_op(method, rest)?,
        ),
        ["repos", o, r, "environments", env, "secrets", rest @ ..] => Route::Secrets(
            Scope::Environment(format!("{o}/{r}"), (*env).to_owned()),
            secret_op(method, rest)?,
        ),
        ["repos", o, r, "actions", "variables", rest @ ..] => {
            Route::Variables(Scope::Repo(format!("{o}/{r}")), variable_op(method, rest)?)
        }
        ["repos", o, r, "environments", env, "variables", rest @ ..] => Route::Variables(
            Scope::Environment(format!("{o}/{r}"), (*env).to_owned()),
            variable_op(method, rest)?,
        ),
        ["orgs", org, "actions", "secrets", rest @ ..] => org_route(
            method,
            Scope::Org((*org).to_owned()),
            Collection::Secrets,
            rest,
        )?,
        ["orgs", org, "dependabot", "secrets", rest @ ..] => org_route(
            method,
            Scope::DependabotOrg((*org).to_owned()),
            Collection::Secrets,
            rest,
        )?,
        ["orgs", org, "actions", "variables", rest @ ..] => org_route(
            method,
            Scope::Org((*org).to_owned()),
            Collection::Variables,
            rest,
        )?,
        _ => return None,
    })
}

fn secret_op(method: &Method, rest: &[&str]) -> Option<SecretOp> {
    Some(match (method, rest) {
        (&Method::GET, []) => SecretOp::List,
        (&Method::GET, ["public-key"]) => SecretOp::PublicKey,
        (&Method::GET, [name]) => SecretOp::Get((*name).to_owned()),
        (&Method::PUT, [name]) => SecretOp::Put((*name).to_owned()),
        (&Method::DELETE, [name]) => SecretOp::Delete((*name).to_owned()),
        _ => return None,
    })
}

fn variable_op(method: &Method, rest: &[&str]) -> Option<VariableOp> {
    Some(match (method, rest) {
        (&Method::GET, []) => VariableOp::List,
        (&Method::POST, []) => VariableOp::Create,
        (&Method::GET, [name]) => VariableOp::Get((*name).to_owned()),
        (&Method::PATCH, [name]) => VariableOp::Update((*name).to_owned()),
        (&Method::DELETE, [name]) => VariableOp::Delete((*name).to_owned()),
        _ => return None,
    })
}

fn org_route(method: &Method, scope: Scope, what: Collection, rest: &[&str]) -> Option<Route> {
    let selected = match (method, rest) {
        (&Method::GET, [_, "repositories"]) => SelectedOp::List,
        (&Method::PUT, [_, "repositories"]) => SelectedOp::Set,
        (&Method::PUT, [_, "repositories", id]) => SelectedOp::Add((*id).to_owned()),
        (&Method::DELETE, [_, "repositories", id]) => SelectedOp::Remove((*id).to_owned()),
        _ => {
            return Some(match what {
                Collection::Secrets => Route::Secrets(scope, secret_op(method, rest)?),
                Collection::Variables => Route::Variables(scope, variable_op(method, rest)?),
            })
        }
    };
    Some(Route::Selected(scope, what, rest[0].to_owned(), selected))
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
