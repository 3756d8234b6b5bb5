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
    percent_encode(segment, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
    })
}

/// Every byte of `text` that `keep` refuses, as `%XX`.
fn percent_encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if keep(b) {
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

    /// The state file, relative to the host's folder: a folder per repository
    /// (`owner/repo/actions.json`, `owner/repo/dependabot.json`,
    /// `owner/repo/environments/<encoded>.json`) and per organization (`@orgs/org/...`). Owner
    /// names cannot hold `@`, environment names are percent-encoded (`%` included), and each
    /// kind has its own fixed file name, so no two scopes share a file.
    pub fn state_file(&self) -> PathBuf {
        match self {
            Scope::Repo { repo, app } => repo_folder(repo).join(app_file(*app)),
            Scope::Environment { repo, environment } => repo_folder(repo)
                .join("environments")
                .join(format!("{}.json", encode_segment(environment))),
            Scope::Org { org, app } => PathBuf::from("@orgs").join(org).join(app_file(*app)),
        }
    }

    /// Where releases before the per-repository folders kept this scope's file. Two scopes
    /// could share one (`o/r.env.prod` and environment `prod` of `o/r`), so its recorded scope
    /// must be checked before it is trusted.
    pub fn legacy_state_file(&self) -> PathBuf {
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

fn repo_folder(repo: &Repo) -> PathBuf {
    PathBuf::from(&repo.owner).join(&repo.name)
}

fn app_file(app: App) -> &'static str {
    match app {
        App::Actions => "actions.json",
        App::Dependabot => "dependabot.json",
    }
}

/// The folder named for an API host (`host[:port]`). Names, IPv4 addresses and ports keep their
/// spelling (`api.github.com`, `127.0.0.1:8080`); an IPv6 literal loses its brackets and its
/// port follows a `_` (`[::1]:8080` is `::1_8080`). An IPv6 address always holds two `:` or
/// more and the other forms at most one, and any other character is percent-encoded, so the
/// mapping stays one-to-one.
pub fn host_folder(host: &str) -> String {
    if let Some((address, port)) = host.strip_prefix('[').and_then(|rest| rest.split_once(']')) {
        let port = match port {
            "" => Some(None),
            port => port.strip_prefix(':').map(Some),
        };
        if let (true, Some(port)) = (address.matches(':').count() >= 2, port) {
            let address = encode_host(address, true);
            return match port {
                None => address,
                Some(port) => format!("{address}_{}", encode_host(port, false)),
            };
        }
    }
    match encode_host(host, host.matches(':').count() <= 1) {
        // `.`, `..` and `` would name the state folder itself or its parent; a lone `%` or
        // `%2E` cannot come from any other host, since `%` itself is always encoded.
        empty if empty.is_empty() => "%".into(),
        dots if dots.bytes().all(|b| b == b'.') => dots.replace('.', "%2E"),
        folder => folder,
    }
}

fn encode_host(text: &str, keep_colons: bool) -> String {
    percent_encode(text, |b| {
        b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || (b == b':' && keep_colons)
    })
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

    fn tricky_scopes() -> Vec<Scope> {
        let parts = [
            "x",
            "x.env.prod",
            "x.dependabot",
            "x.json",
            "actions.json",
            "dependabot.json",
            "environments",
            "_orgs",
            "-",
            "..x",
        ];
        let environments = [
            "prod",
            "prod/x",
            "prod%2Fx",
            ".",
            "..",
            "a.json",
            "",
            " ",
            "%",
            "ü",
            "x.env.prod",
        ];
        let mut scopes = Vec::new();
        for owner in parts {
            for name in parts {
                let repo = Repo::parse(&format!("{owner}/{name}")).expect("valid name");
                for app in [App::Actions, App::Dependabot] {
                    scopes.push(Scope::Repo {
                        repo: repo.clone(),
                        app,
                    });
                }
                for environment in environments {
                    scopes.push(Scope::Environment {
                        repo: repo.clone(),
                        environment: environment.into(),
                    });
                }
            }
            for app in [App::Actions, App::Dependabot] {
                scopes.push(Scope::Org {
                    org: owner.into(),
                    app,
                });
            }
        }
        scopes
    }

    /// No two scopes share a file, and no scope's file is a folder on another scope's path.
    #[test]
    fn state_files_are_injective_over_tricky_names() {
        let scopes = tricky_scopes();
        let files: std::collections::BTreeSet<PathBuf> =
            scopes.iter().map(Scope::state_file).collect();
        assert_eq!(files.len(), scopes.len());
        for file in &files {
            assert!(
                file.components()
                    .all(|c| matches!(c, std::path::Component::Normal(_))),
                "{file:?}"
            );
            for other in &files {
                assert!(
                    other == file || !other.starts_with(file),
                    "{file:?} is a folder of {other:?}"
                );
            }
        }
        let shop = Repo::parse("acme/shop").unwrap();
        let env = Scope::Environment {
            repo: shop,
            environment: "prod".into(),
        };
        let repo = Scope::Repo {
            repo: Repo::parse("acme/shop.env.prod").unwrap(),
            app: App::Actions,
        };
        assert_eq!(env.legacy_state_file(), repo.legacy_state_file());
        assert_ne!(env.state_file(), repo.state_file());
    }

    #[test]
    fn host_folders_are_clean_and_injective() {
        let cases = [
            ("api.github.com", "api.github.com"),
            ("127.0.0.1:8080", "127.0.0.1:8080"),
            ("[::1]:8080", "::1_8080"),
            ("[::1]", "::1"),
            ("[::1:8080]", "::1:8080"),
            ("[2001:db8::1]:443", "2001:db8::1_443"),
            ("ghe.example.com:8443", "ghe.example.com:8443"),
            ("a_b", "a%5Fb"),
            ("a/b", "a%2Fb"),
            (".", "%2E"),
            ("..", "%2E%2E"),
            ("", "%"),
        ];
        for (host, folder) in cases {
            assert_eq!(host_folder(host), folder, "{host}");
        }
        let hosts = [
            "api.github.com",
            "127.0.0.1:8080",
            "[::1]:8080",
            "[::1]",
            "[::1:8080]",
            "::1:8080",
            "::1_8080",
            "[::1]_8080",
            "[::1]x",
            "[1:2]",
            "1:2",
            "a_b",
            "a%5Fb",
            "a/b",
            "a:b:c",
            ".",
            "..",
            "%2E",
            "",
            "%",
            "[]",
            "[::1]:",
        ];
        let folders: std::collections::BTreeSet<String> =
            hosts.iter().map(|h| host_folder(h)).collect();
        assert_eq!(folders.len(), hosts.len(), "{folders:?}");
        assert!(folders
            .iter()
            .all(|f| !f.contains('/') && f != "." && f != ".."));
    }
}
