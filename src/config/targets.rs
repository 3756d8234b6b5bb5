//! `[[targets]]`: where declared secrets and variables go. A target is a repository, one of its
//! environments, an organization, or many repositories at once (a list, or an organization's
//! repositories matching a glob, which only GitHub can expand).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use toml::Spanned;

use super::{nearest, Decl, Validator};
use crate::scope::{valid_name_part, App, Repo, Scope, Visibility};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    repo: Option<String>,
    repos: Option<RawRepos>,
    org: Option<String>,
    environment: Option<String>,
    create_environment: Option<bool>,
    app: Option<String>,
    visibility: Option<String>,
    repositories: Option<Vec<String>>,
    secrets: Option<Vec<String>>,
    variables: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRepos {
    List(Vec<String>),
    Match(RawMatch),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    org: String,
    #[serde(rename = "match")]
    pattern: String,
}

/// A validated target.
#[derive(Debug, Clone)]
pub struct Target {
    pub place: Place,
    /// Declared secret names it carries, sorted.
    pub secrets: Vec<String>,
    /// Declared variable names it carries, sorted.
    pub variables: Vec<String>,
    /// The `secrets` and `variables` globs as written (`None`: every declared name), to say
    /// why a declared name is left out.
    pub secret_globs: Option<Vec<String>>,
    pub variable_globs: Option<Vec<String>>,
    /// Who may use an organization's secrets and variables; `None` for other scopes.
    pub access: Option<Access>,
    /// Create a missing environment instead of failing.
    pub create_environment: bool,
    pub line: usize,
}

/// Where a target writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Scope(Scope),
    /// Every repository of `org` whose name matches `pattern`, found when the run starts.
    Match {
        org: String,
        pattern: String,
        app: App,
        environment: Option<String>,
    },
}

impl Place {
    /// Whose secrets the place holds: Actions' or Dependabot's (an environment's are Actions').
    pub fn app(&self) -> App {
        match self {
            Place::Scope(Scope::Repo { app, .. } | Scope::Org { app, .. })
            | Place::Match { app, .. } => *app,
            Place::Scope(Scope::Environment { .. }) => App::Actions,
        }
    }
}

impl Place {
    /// The scopes this place is, among an organization's repositories `names` (a `Match`'s
    /// pattern picks them; a `Scope` is itself whatever the names).
    pub fn scopes_among(&self, names: Vec<String>) -> Vec<Scope> {
        let (org, pattern, app, environment) = match self {
            Place::Scope(scope) => return vec![scope.clone()],
            Place::Match {
                org,
                pattern,
                app,
                environment,
            } => (org, pattern, *app, environment),
        };
        // The pattern was validated when the config was read.
        let glob = glob::Pattern::new(pattern).unwrap_or_default();
        names
            .into_iter()
            .filter(|name| glob.matches(name))
            .map(|name| {
                let repo = Repo {
                    owner: org.clone(),
                    name,
                };
                match environment {
                    Some(environment) => Scope::Environment {
                        repo,
                        environment: environment.clone(),
                    },
                    None => Scope::Repo { repo, app },
                }
            })
            .collect()
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Scope(scope) => write!(f, "{scope}"),
            Place::Match { org, pattern, .. } => write!(f, "{org}/{pattern}"),
        }
    }
}

/// Visibility of an organization's secrets, with the selected repositories by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub visibility: Visibility,
    pub repositories: Vec<String>,
}

/// The parts of a raw target that do not depend on which place form it used.
struct Shape {
    app: App,
    environment: Option<String>,
}

impl Validator<'_> {
    pub(super) fn targets(
        &mut self,
        raw: Vec<Spanned<RawTarget>>,
        secrets: &BTreeMap<String, Decl>,
        variables: &BTreeMap<String, Decl>,
    ) -> Vec<Target> {
        if raw.is_empty() {
            self.problem(
                None,
                "has no targets; add `[[targets]]` with `repo = \"owner/name\"`".into(),
            );
        }
        let mut targets: Vec<Target> = Vec::new();
        for spanned in raw {
            let at = Some(spanned.span().start);
            let line = self.lines.line(spanned.span().start);
            let raw = spanned.into_inner();
            let Some(shape) = self.shape(&raw, at) else {
                continue;
            };
            let access = self.access(&raw, at);
            for place in self.places(&raw, &shape, at) {
                if self.listed_again(&place, &targets, at) {
                    continue;
                }
                let (chosen_secrets, chosen_variables) =
                    self.selection(&place, &raw, shape.app, (secrets, variables), at);
                targets.push(Target {
                    place,
                    secrets: chosen_secrets,
                    variables: chosen_variables,
                    secret_globs: raw.secrets.clone(),
                    variable_globs: raw.variables.clone(),
                    access: access.clone(),
                    create_environment: raw.create_environment.unwrap_or(false),
                    line,
                });
            }
        }
        targets
    }

    fn listed_again(&mut self, place: &Place, targets: &[Target], at: Option<usize>) -> bool {
        // GitHub's owner and repository names ignore case.
        let key = place.to_string().to_lowercase();
        let Some(other) = targets
            .iter()
            .find(|t| t.place.to_string().to_lowercase() == key)
        else {
            return false;
        };
        let message = format!(
            "target `{place}` is listed again (first on line {}); merge the two into one \
             `[[targets]]` entry",
            other.line
        );
        self.problem(at, message);
        true
    }

    /// The declared secrets and variables one place carries, checked against its limits.
    fn selection(
        &mut self,
        place: &Place,
        raw: &RawTarget,
        app: App,
        (secrets, variables): (&BTreeMap<String, Decl>, &BTreeMap<String, Decl>),
        at: Option<usize>,
    ) -> (Vec<String>, Vec<String>) {
        let label = place.to_string();
        let chosen_secrets = self.select(&label, raw.secrets.as_deref(), secrets, "secret", at);
        let chosen_variables = if app == App::Dependabot {
            // An empty list asks for nothing Dependabot lacks: harmless, so accepted.
            if raw.variables.as_ref().is_some_and(|v| !v.is_empty()) {
                self.problem(
                    at,
                    format!("target `{label}`: Dependabot has no variables; remove `variables`"),
                );
            }
            Vec::new()
        } else {
            self.select(&label, raw.variables.as_deref(), variables, "variable", at)
        };
        // When a declaration was refused, the target's emptiness is only its echo.
        if chosen_secrets.is_empty() && chosen_variables.is_empty() && !self.declarations_failed {
            self.problem(
                at,
                format!("target `{label}` selects nothing; fix its `secrets`/`variables` patterns"),
            );
        }
        if let Place::Scope(scope) = place {
            self.limits(scope, chosen_secrets.len(), chosen_variables.len(), at);
        }
        (chosen_secrets, chosen_variables)
    }

    fn shape(&mut self, raw: &RawTarget, at: Option<usize>) -> Option<Shape> {
        let forms = [raw.repo.is_some(), raw.repos.is_some(), raw.org.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if forms != 1 {
            self.problem(
                at,
                "a target needs exactly one of `repo = \"owner/name\"`, `repos = [...]` or `org = \"name\"`"
                    .into(),
            );
            return None;
        }
        let app = match raw.app.as_deref() {
            None | Some("actions") => App::Actions,
            Some("dependabot") => App::Dependabot,
            Some(other) => {
                self.problem(
                    at,
                    format!("unknown `app = \"{other}\"`; use \"actions\" (the default) or \"dependabot\""),
                );
                return None;
            }
        };
        if raw.environment.is_some() && raw.org.is_some() {
            self.problem(
                at,
                "`environment` belongs to a repository target, not to `org`".into(),
            );
            return None;
        }
        if raw.environment.is_some() && app == App::Dependabot {
            self.problem(
                at,
                "Dependabot secrets have no environments; remove `environment` or `app`".into(),
            );
            return None;
        }
        if raw.create_environment.is_some() && raw.environment.is_none() {
            self.problem(
                at,
                "`create_environment` goes only with `environment`".into(),
            );
        }
        if let Some(env) = &raw.environment {
            if env.trim().is_empty() || env.len() > 255 {
                self.problem(
                    at,
                    format!("environment name `{env}` must be 1 to 255 characters"),
                );
                return None;
            }
        }
        Some(Shape {
            app,
            environment: raw.environment.clone(),
        })
    }

    fn access(&mut self, raw: &RawTarget, at: Option<usize>) -> Option<Access> {
        if raw.org.is_none() {
            if raw.visibility.is_some() || raw.repositories.is_some() {
                self.problem(
                    at,
                    "`visibility` and `repositories` belong to an `org` target".into(),
                );
            }
            return None;
        }
        let visibility = match raw.visibility.as_deref().map(Visibility::parse) {
            Some(Some(v)) => v,
            _ => {
                self.problem(
                    at,
                    "an `org` target needs `visibility = \"all\"`, `\"private\"` or `\"selected\"`"
                        .into(),
                );
                return None;
            }
        };
        let repositories = raw.repositories.clone().unwrap_or_default();
        if visibility != Visibility::Selected && !repositories.is_empty() {
            self.problem(
                at,
                "`repositories` goes only with `visibility = \"selected\"`".into(),
            );
        }
        for name in &repositories {
            if !valid_name_part(name) {
                self.problem(
                    at,
                    format!(
                        "`repositories` entry `{name}` is not a repository name; write the name alone, without the owner, e.g. `{}`",
                        name.rsplit('/').next().unwrap_or(name)
                    ),
                );
            }
        }
        let mut repositories = repositories;
        repositories.sort();
        repositories.dedup();
        Some(Access {
            visibility,
            repositories,
        })
    }

    fn places(&mut self, raw: &RawTarget, shape: &Shape, at: Option<usize>) -> Vec<Place> {
        let scope_of = |repo: Repo| match &shape.environment {
            Some(environment) => Scope::Environment {
                repo,
                environment: environment.clone(),
            },
            None => Scope::Repo {
                repo,
                app: shape.app,
            },
        };
        if let Some(org) = &raw.org {
            return self.org_place(org, shape.app, at);
        }
        let texts: Vec<&String> = match (&raw.repo, &raw.repos) {
            (Some(repo), _) => vec![repo],
            (None, Some(RawRepos::List(list))) => {
                if list.is_empty() {
                    self.problem(
                        at,
                        "`repos = []` lists no repository; add repositories, as in `repos = [\"owner/a\"]`, or remove the target".into(),
                    );
                }
                list.iter().collect()
            }
            (None, Some(RawRepos::Match(m))) => return self.match_place(m, shape, at),
            (None, None) => Vec::new(),
        };
        let mut places = Vec::new();
        for text in texts {
            match Repo::parse(text) {
                Some(repo) => places.push(Place::Scope(scope_of(repo))),
                None => self.problem(
                    at,
                    format!("target repo `{text}` is not of the form `owner/name`"),
                ),
            }
        }
        places
    }

    fn org_place(&mut self, org: &str, app: App, at: Option<usize>) -> Vec<Place> {
        if !valid_name_part(org) {
            self.problem(
                at,
                format!(
                    "`org = \"{org}\"` is not an organization name; write the organization alone, e.g. `{}`",
                    org.split('/').next().unwrap_or(org)
                ),
            );
            return Vec::new();
        }
        vec![Place::Scope(Scope::Org {
            org: org.to_string(),
            app,
        })]
    }

    fn match_place(&mut self, m: &RawMatch, shape: &Shape, at: Option<usize>) -> Vec<Place> {
        if !valid_name_part(&m.org) || glob::Pattern::new(&m.pattern).is_err() {
            self.problem(
                at,
                format!("`repos = {{ org = \"{}\", match = \"{}\" }}` needs an organization name and a valid glob", m.org, m.pattern),
            );
            return Vec::new();
        }
        vec![Place::Match {
            org: m.org.clone(),
            pattern: m.pattern.clone(),
            app: shape.app,
            environment: shape.environment.clone(),
        }]
    }

    fn limits(&mut self, scope: &Scope, secrets: usize, variables: usize, at: Option<usize>) {
        let limits = scope.limits();
        for (count, limit, kind) in [
            (secrets, limits.secrets, "secrets"),
            (variables, limits.variables, "variables"),
        ] {
            if count > limit {
                self.problem(
                    at,
                    format!(
                        "target `{scope}` would carry {count} {kind}, over GitHub's limit of {limit} \
                         there; split them across targets or use fewer"
                    ),
                );
            }
        }
    }

    /// The declared names that `patterns` select (all of them when `None`). A pattern that
    /// selects nothing is a mistake worth stopping for: it is usually a typo.
    fn select(
        &mut self,
        label: &str,
        patterns: Option<&[String]>,
        declared: &BTreeMap<String, Decl>,
        kind: &str,
        at: Option<usize>,
    ) -> Vec<String> {
        let Some(patterns) = patterns else {
            return declared.keys().cloned().collect();
        };
        let mut selected = BTreeSet::new();
        for text in patterns {
            let pattern = match glob::Pattern::new(&text.to_ascii_uppercase()) {
                Ok(p) => p,
                Err(e) => {
                    self.problem(
                        at,
                        format!("target `{label}`: pattern `{text}` is not a valid glob ({e}); fix it: `*` is any text, `?` one character, `[...]` one of a set"),
                    );
                    continue;
                }
            };
            let matched: Vec<&String> = declared.keys().filter(|n| pattern.matches(n)).collect();
            if matched.is_empty() {
                let hint = match nearest(text, declared.keys().map(String::as_str)) {
                    Some(best) => format!("; did you mean `{best}`?"),
                    None => format!("; check it against the declared `[{kind}s.*]`"),
                };
                self.problem(
                    at,
                    format!("target `{label}`: pattern `{text}` matches no declared {kind}{hint}"),
                );
            }
            selected.extend(matched.into_iter().cloned());
        }
        selected.into_iter().collect()
    }
}
