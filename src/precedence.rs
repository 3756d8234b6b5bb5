//! Which level a workflow sees when one name is set at several: an environment's value beats
//! the repository's, which beats the organization's. Pure: from the run's scopes to warnings.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::ItemKind;
use crate::scope::{App, Scope, Visibility};

/// One scope's share of a run, as far as precedence cares.
pub struct ScopeNames<'a> {
    pub scope: &'a Scope,
    pub secrets: &'a [String],
    pub variables: &'a [String],
    /// For organization scopes: which repositories may use its items (`None`: all of them).
    pub reach: Option<(Visibility, &'a [String])>,
}

/// One name in one repository, for one product and kind.
type NameInRepo<'a> = (App, ItemKind, &'a str, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Organization,
    Repository,
    Environment,
}

/// One line per (name, repository) that more than one level sets, saying which value wins.
pub fn warnings(placed: &[ScopeNames<'_>]) -> Vec<String> {
    // The repositories this run touches, per owner: an `all`/`private` org item reaches them.
    let mut repos_of: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for p in placed {
        if let Some(repo) = p.scope.repo() {
            repos_of
                .entry(repo.owner.as_str())
                .or_default()
                .insert(repo.name.clone());
        }
    }
    let mut seen: BTreeMap<NameInRepo<'_>, BTreeSet<(Level, String)>> = BTreeMap::new();
    for p in placed {
        let (app, level, label, repos) = reached(p, &repos_of);
        for (kind, names) in [
            (ItemKind::Secret, p.secrets),
            (ItemKind::Variable, p.variables),
        ] {
            for name in names {
                for repo in &repos {
                    seen.entry((app, kind, name.as_str(), repo.clone()))
                        .or_default()
                        .insert((level, label.clone()));
                }
            }
        }
    }
    seen.into_iter()
        .filter(|(_, levels)| levels.iter().map(|(l, _)| l).collect::<BTreeSet<_>>().len() > 1)
        .map(|((_, kind, name, repo), levels)| {
            let winner = levels.iter().next_back().map(|(_, label)| label.clone()).unwrap_or_default();
            let all: Vec<String> = levels.into_iter().map(|(_, label)| label).collect();
            let what = match kind {
                ItemKind::Secret => "secret",
                ItemKind::Variable => "variable",
            };
            format!(
                "{what} `{name}` is set at several levels for {repo} ({}); its workflows see the {winner} value",
                all.join(", ")
            )
        })
        .collect()
}

/// Where one scope's items take effect: its product, its level, how it is named, and the
/// repositories (`owner/name`) whose workflows see them. `repos_of` holds the repositories the
/// run touches, per owner, which an `all`/`private` organization item reaches.
fn reached(
    p: &ScopeNames<'_>,
    repos_of: &BTreeMap<&str, BTreeSet<String>>,
) -> (App, Level, String, Vec<String>) {
    match p.scope {
        Scope::Repo { repo, app } => (
            *app,
            Level::Repository,
            format!("repository {repo}"),
            vec![repo.to_string()],
        ),
        Scope::Environment { repo, environment } => (
            App::Actions,
            Level::Environment,
            format!("environment {environment}"),
            vec![repo.to_string()],
        ),
        Scope::Org { org, app } => {
            let names: Vec<String> = match p.reach {
                Some((Visibility::Selected, listed)) => listed.to_vec(),
                _ => repos_of
                    .get(org.as_str())
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default(),
            };
            let repos = names.into_iter().map(|n| format!("{org}/{n}")).collect();
            (
                *app,
                Level::Organization,
                format!("organization {org}"),
                repos,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::Repo;

    #[test]
    fn environment_beats_repository_beats_organization() {
        let repo = Repo::parse("o/r").unwrap();
        let org = Scope::Org {
            org: "o".into(),
            app: App::Actions,
        };
        let rep = Scope::Repo {
            repo: repo.clone(),
            app: App::Actions,
        };
        let env = Scope::Environment {
            repo,
            environment: "prod".into(),
        };
        let names = ["TOKEN".to_string()];
        let other = ["OTHER".to_string()];
        let w = warnings(&[
            ScopeNames {
                scope: &org,
                secrets: &names,
                variables: &[],
                reach: Some((Visibility::All, &[])),
            },
            ScopeNames {
                scope: &rep,
                secrets: &names,
                variables: &other,
                reach: None,
            },
            ScopeNames {
                scope: &env,
                secrets: &names,
                variables: &[],
                reach: None,
            },
        ]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("`TOKEN`") && w[0].ends_with("see the environment prod value"),
            "{w:?}"
        );
        assert!(
            w[0].contains("organization o, repository o/r, environment prod"),
            "{w:?}"
        );
    }

    #[test]
    fn selected_org_items_reach_only_their_repositories() {
        let org = Scope::Org {
            org: "o".into(),
            app: App::Actions,
        };
        let a = Scope::Repo {
            repo: Repo::parse("o/a").unwrap(),
            app: App::Actions,
        };
        let b = Scope::Repo {
            repo: Repo::parse("o/b").unwrap(),
            app: App::Actions,
        };
        let names = ["X".to_string()];
        let selected = ["a".to_string()];
        let w = warnings(&[
            ScopeNames {
                scope: &org,
                secrets: &names,
                variables: &[],
                reach: Some((Visibility::Selected, &selected)),
            },
            ScopeNames {
                scope: &a,
                secrets: &names,
                variables: &[],
                reach: None,
            },
            ScopeNames {
                scope: &b,
                secrets: &names,
                variables: &[],
                reach: None,
            },
        ]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("for o/a") && w[0].contains("repository o/a value"),
            "{w:?}"
        );
        // Dependabot and Actions are separate worlds.
        let dep = Scope::Repo {
            repo: Repo::parse("o/a").unwrap(),
            app: App::Dependabot,
        };
        let w = warnings(&[
            ScopeNames {
                scope: &dep,
                secrets: &names,
                variables: &[],
                reach: None,
            },
            ScopeNames {
                scope: &a,
                secrets: &names,
                variables: &[],
                reach: None,
            },
        ]);
        assert!(w.is_empty(), "{w:?}");
    }
}
