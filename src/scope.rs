//! Where secrets and variables live on GitHub: a repository, one of its environments, or an
//! organization, for Actions or for Dependabot. Each scope knows its API paths, its limits, and
//! where its state file goes.

use std::fmt;
use std::path::PathBuf;

/// `owner/name` of a repository.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Repo {
    pub owner: String,
    pub name: String,
}

impl fmt::Display for Repo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// GitHub's owner and repository names: letters, digits, `-`, `_`, `.`; not `.` or `..`.
pub fn valid_name_part(part: &str) -> bool {
    !part.is_empty()
        && part != "."
        && part != ".."
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl Repo {
    pub fn parse(text: &str) -> Option<Repo> {
        let (owner, name) = text.split_once('/')?;
        (valid_name_part(owner) && valid_name_part(name)).then(|| Repo {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
}

/// Which product's secrets: Actions (the default) or Dependabot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum App {
    #[default]
    Actions,
    Dependabot,
}

impl App {
    fn path(self) -> &'static str {
        match self {
            App::Actions => "actions",
            App::Dependabot => "dependabot",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Repo { repo: Repo, app: App },
    Environment { repo: Repo, environment: String },
    Org { org: String, app: App },
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Repo {
                repo,
                app: App::Actions,
            } => write!(f, "{repo}"),
            Scope::Repo {
                repo,
                app: App::Dependabot,
            } => write!(f, "{repo} (dependabot)"),
            Scope::Environment { repo, environment } => {
                write!(f, "{repo} (environment {environment})")
            }
            Scope::Org {
                org,
                app: App::Actions,
            } => write!(f, "org {org}"),
            Scope::Org {
                org,
                app: App::Dependabot,
            } => write!(f, "org {org} (dependabot)"),
        }
    }
}

/// Path segments are sent percent-encoded: environment names may hold `/`, spaces and more.
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What one kind of item may number in one scope, by GitHub's documented limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub secrets: usize,
    pub variables: usize,
}

impl Scope {
    fn base(&self) -> String {
        match self {
            Scope::Repo { repo, .. } | Scope::Environment { repo, .. } => {
                format!("/repos/{}/{}", repo.owner, repo.name)
            }
            Scope::Org { org, .. } => format!("/orgs/{org}"),
        }
    }

    /// e.g. `/repos/o/r/actions/secrets`, `/repos/o/r/environments/prod/secrets`.
    pub fn secrets_path(&self) -> String {
        match self {
            Scope::Repo { app, .. } | Scope::Org { app, .. } => {
                format!("{}/{}/secrets", self.base(), app.path())
            }
            Scope::Environment { environment, .. } => {
                format!(
                    "{}/environments/{}/secrets",
                    self.base(),
                    encode_segment(environment)
                )
            }
        }
    }

    /// Dependabot has no variables.
    pub fn variables_path(&self) -> Option<String> {
        match self {
            Scope::Repo {
                app: App::Dependabot,
                ..
            }
            | Scope::Org {
                app: App::Dependabot,
                ..
            } => None,
            Scope::Repo { .. } | Scope::Org { .. } => {
                Some(format!("{}/actions/variables", self.base()))
            }
            Scope::Environment { environment, .. } => Some(format!(
                "{}/environments/{}/variables",
                self.base(),
                encode_segment(environment)
            )),
        }
    }

    pub fn is_org(&self) -> bool {
        matches!(self, Scope::Org { .. })
    }

    pub fn repo(&self) -> Option<&Repo> {
        match self {
            Scope::Repo { repo, .. } | Scope::Environment { repo, .. } => Some(repo),
            Scope::Org { .. } => None,
        }
    }

    pub fn limits(&self) -> Limits {
        match self {
            Scope::Repo { .. } => Limits {
                secrets: 100,
                variables: 500,
            },
            Scope::Environment { .. } => Limits {
                secrets: 100,
                variables: 100,
            },
            Scope::Org { .. } => Limits {
                secrets: 1000,
                variables: 1000,
            },
        }
    }

    /// The state file, relative to the host's folder. GitHub owner names cannot start with `_`,
    /// so `_orgs` cannot collide with an owner's folder.
    pub fn state_file(&self) -> PathBuf {
        match self {
            Scope::Repo {
                repo,
                app: App::Actions,
            } => PathBuf::from(&repo.owner).join(format!("{}.json", repo.name)),
            Scope::Repo {
                repo,
                app: App::Dependabot,
            } => PathBuf::from(&repo.owner).join(format!("{}.dependabot.json", repo.name)),
            Scope::Environment { repo, environment } => PathBuf::from(&repo.owner).join(format!(
                "{}.env.{}.json",
                repo.name,
                encode_segment(environment)
            )),
            Scope::Org {
                org,
                app: App::Actions,
            } => PathBuf::from("_orgs").join(format!("{org}.json")),
            Scope::Org {
                org,
                app: App::Dependabot,
            } => PathBuf::from("_orgs").join(format!("{org}.dependabot.json")),
        }
    }
}

/// Which repositories of an organization may use an org secret or variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Visibility {
    All,
    Private,
    Selected,
}

impl Visibility {
    pub fn parse(text: &str) -> Option<Visibility> {
        match text {
            "all" => Some(Visibility::All),
            "private" => Some(Visibility::Private),
            "selected" => Some(Visibility::Selected),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::All => "all",
            Visibility::Private => "private",
            Visibility::Selected => "selected",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> Repo {
        Repo::parse("o/r").unwrap()
    }

    #[test]
    fn paths() {
        let env = Scope::Environment {
            repo: repo(),
            environment: "prod/eu 1".into(),
        };
        assert_eq!(
            env.secrets_path(),
            "/repos/o/r/environments/prod%2Feu%201/secrets"
        );
        assert_eq!(
            env.variables_path().unwrap(),
            "/repos/o/r/environments/prod%2Feu%201/variables"
        );
        let dep = Scope::Repo {
            repo: repo(),
            app: App::Dependabot,
        };
        assert_eq!(dep.secrets_path(), "/repos/o/r/dependabot/secrets");
        assert_eq!(dep.variables_path(), None);
        let org = Scope::Org {
            org: "o".into(),
            app: App::Actions,
        };
        assert_eq!(org.secrets_path(), "/orgs/o/actions/secrets");
        assert_eq!(org.variables_path().unwrap(), "/orgs/o/actions/variables");
        assert_eq!(
            Scope::Org {
                org: "o".into(),
                app: App::Dependabot
            }
            .secrets_path(),
            "/orgs/o/dependabot/secrets"
        );
    }

    #[test]
    fn state_files_are_distinct() {
        let scopes = [
            Scope::Repo {
                repo: repo(),
                app: App::Actions,
            },
            Scope::Repo {
                repo: repo(),
                app: App::Dependabot,
            },
            Scope::Environment {
                repo: repo(),
                environment: "prod".into(),
            },
            Scope::Environment {
                repo: repo(),
                environment: "prod/x".into(),
            },
            Scope::Org {
                org: "o".into(),
                app: App::Actions,
            },
            Scope::Org {
                org: "o".into(),
                app: App::Dependabot,
            },
        ];
        let files: std::collections::BTreeSet<PathBuf> =
            scopes.iter().map(Scope::state_file).collect();
        assert_eq!(files.len(), scopes.len());
        assert!(
            files.iter().all(|f| f.components().count() == 2),
            "{files:?}"
        );
    }
}
