//! What `init --from-github`/`--from-dotenv` declare, decided from what was read: each name
//! once, each target listing the names it holds, and a note for everything that could not be
//! inferred. A plan on the result proposes nothing that GitHub does not already hold: where the
//! config cannot say what GitHub has (another access, another value), the name is left out of
//! that target, and a note says so.

use std::collections::BTreeMap;

use crate::config::check_name;
use crate::plan::OrgAccess;
use crate::scope::{Scope, Visibility};

use super::from_github::Listing;

/// Who may use an organization's items, as a target writes it: repositories by name alone.
pub type Access = (Visibility, Vec<String>);

#[derive(Debug, Default)]
pub struct Draft {
    pub secrets: Vec<SecretDraft>,
    pub variables: Vec<VariableDraft>,
    pub targets: Vec<TargetDraft>,
    /// What could not be inferred, one sentence each: written as comments and printed.
    pub notes: Vec<String>,
}

#[derive(Debug)]
pub struct SecretDraft {
    pub name: String,
    /// Found at GitHub: its value comes from env, the keyring, then a prompt.
    pub on_github: bool,
    /// The key of the `.env` file that holds it, when one does.
    pub dotenv_key: Option<String>,
    /// The keyring entry's user for its value (see [`keyring_user`]).
    pub keyring_user: String,
    /// The targets listing it, as labels.
    pub at: Vec<String>,
}

#[derive(Debug)]
pub struct VariableDraft {
    pub name: String,
    pub value: String,
    pub at: Vec<String>,
}

#[derive(Debug)]
pub struct TargetDraft {
    pub scope: Scope,
    pub access: Option<Access>,
    pub secrets: Vec<String>,
    pub variables: Vec<String>,
}

/// Plan the config from GitHub's `listings` and the `.env` keys (`dotenv`, valid or not).
pub fn draft(listings: &[Listing], dotenv: Option<&[String]>) -> Draft {
    let mut d = Draft::default();
    let valid = declarable_listings(listings, &mut d.notes);
    let listings = valid.as_slice();
    let mut targets: Vec<TargetDraft> = listings.iter().map(|l| target_of(l, &mut d)).collect();
    let chosen = choose_values(listings, &mut d.notes);
    for (target, listing) in targets.iter_mut().zip(listings) {
        target.variables = listing
            .variables
            .iter()
            .filter(|v| chosen.get(&v.name) == Some(&v.value))
            .filter(|v| same_access(&target.access, &v.access))
            .map(|v| v.name.clone())
            .collect();
    }
    let dotenv_keys = dotenv.map(|keys| declarable_keys(keys, &mut d.notes));
    d.secrets = secrets(&targets, dotenv_keys.as_ref(), &mut d.notes);
    d.variables = chosen
        .into_iter()
        .map(|(name, value)| VariableDraft {
            at: labels_of(&targets, |t| t.variables.contains(&name)),
            name,
            value,
        })
        .filter(|v| !v.at.is_empty())
        .collect();
    for target in targets {
        match target.secrets.is_empty() && target.variables.is_empty() {
            true => d.notes.push(format!(
                "`{}` holds no secrets or variables that can be declared, so no target is written for it",
                target.scope
            )),
            false => d.targets.push(target),
        }
    }
    shared_record_notes(listings, &mut d.notes);
    d
}

/// A target for one listing: for an organization, the access most of its items have, and the
/// secrets with that access (the rest are told in a note); elsewhere every secret.
fn target_of(listing: &Listing, d: &mut Draft) -> TargetDraft {
    let access = common_access(listing);
    let mut secrets = Vec::new();
    let mut other = Vec::new();
    for secret in &listing.secrets {
        match same_access(&access, &secret.access) {
            true => secrets.push(secret.name.clone()),
            false => other.push(describe(&secret.name, secret.access.as_ref())),
        }
    }
    for variable in &listing.variables {
        if !same_access(&access, &variable.access) {
            other.push(describe(&variable.name, variable.access.as_ref()));
        }
    }
    if let (Some(access), false) = (&access, other.is_empty()) {
        d.notes.push(format!(
            "`{}`: one target can give its items one access, so it has {} (as most of its items do); \
             left out of it, because GitHub gives them another access (listing them would make apply change it): {}",
            listing.scope,
            access_text(access),
            other.join(", ")
        ));
    }
    TargetDraft {
        scope: listing.scope.clone(),
        access,
        secrets,
        variables: Vec::new(),
    }
}

/// The access most of an organization's items have (the first seen, on a tie).
fn common_access(listing: &Listing) -> Option<Access> {
    let all = listing
        .secrets
        .iter()
        .map(|s| &s.access)
        .chain(listing.variables.iter().map(|v| &v.access));
    let mut counts: Vec<(Access, usize)> = Vec::new();
    for access in all.flatten().map(written) {
        match counts.iter_mut().find(|(a, _)| *a == access) {
            Some((_, n)) => *n += 1,
            None => counts.push((access, 1)),
        }
    }
    let most = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == most).map(|(a, _)| a)
}

/// An item's access as a target writes it: the selected repositories by name, sorted.
fn written(access: &OrgAccess) -> Access {
    let mut names: Vec<String> = access
        .names
        .values()
        .map(|full| full.rsplit('/').next().unwrap_or(full).to_owned())
        .collect();
    names.sort();
    (access.visibility, names)
}

fn same_access(target: &Option<Access>, item: &Option<OrgAccess>) -> bool {
    match (target, item) {
        (Some(target), Some(item)) => *target == written(item),
        (None, None) => true,
        _ => false,
    }
}

pub fn access_text((visibility, repositories): &Access) -> String {
    match visibility {
        Visibility::Selected => format!(
            "visibility \"selected\" ({})",
            match repositories.is_empty() {
                true => "no repository".to_owned(),
                false => repositories.join(", "),
            }
        ),
        other => format!("visibility \"{}\"", other.as_str()),
    }
}

fn describe(name: &str, access: Option<&OrgAccess>) -> String {
    match access {
        Some(access) => format!("`{name}` ({})", access_text(&written(access))),
        None => format!("`{name}`"),
    }
}

/// Each variable's declared value: the one most targets hold (the first seen, on a tie). A
/// note names the targets holding another value; they do not list the variable.
fn choose_values(listings: &[Listing], notes: &mut Vec<String>) -> BTreeMap<String, String> {
    let mut seen: BTreeMap<&str, Vec<(&str, String)>> = BTreeMap::new();
    for listing in listings {
        for variable in &listing.variables {
            seen.entry(&variable.name)
                .or_default()
                .push((&variable.value, listing.scope.to_string()));
        }
    }
    let mut chosen = BTreeMap::new();
    for (name, holders) in seen {
        let count = |value: &str| holders.iter().filter(|(v, _)| *v == value).count();
        let most = holders.iter().map(|(v, _)| count(v)).max().unwrap_or(0);
        let Some((value, _)) = holders.iter().find(|(v, _)| count(v) == most) else {
            continue;
        };
        let others: Vec<String> = holders
            .iter()
            .filter(|(v, _)| v != value)
            .map(|(v, at)| format!("`{at}` has {v:?}"))
            .collect();
        if !others.is_empty() {
            notes.push(format!(
                "variable `{name}` differs between targets: declared as {value:?}, as {most} of them hold it; \
                 not listed where it differs (listing it would make apply write {value:?} there): {}",
                others.join(", ")
            ));
        }
        chosen.insert(name.to_owned(), (*value).to_owned());
    }
    chosen
}

/// The listings less any name no config can declare (GitHub's answer is input like any other),
/// with a note for each, so one odd name leaves the rest of the config to be written.
fn declarable_listings(listings: &[Listing], notes: &mut Vec<String>) -> Vec<Listing> {
    let mut keep = |scope: &Scope, name: &str, kind: &str| match check_name(name, kind) {
        Ok(()) => true,
        Err(why) => {
            notes.push(format!(
                "`{scope}`: a {kind} GitHub listed is not declared: {why}"
            ));
            false
        }
    };
    listings
        .iter()
        .map(|listing| {
            let mut listing = listing.clone();
            let scope = listing.scope.clone();
            listing.secrets.retain(|s| keep(&scope, &s.name, "secret"));
            listing
                .variables
                .retain(|v| keep(&scope, &v.name, "variable"));
            listing
        })
        .collect()
}

/// The `.env` keys that can be secrets, upper-cased as GitHub stores names, each with the key
/// as written; a note for each that cannot.
fn declarable_keys(keys: &[String], notes: &mut Vec<String>) -> BTreeMap<String, String> {
    let mut declarable = BTreeMap::new();
    for key in keys {
        if let Err(why) = check_name(key, "secret") {
            notes.push(format!("`.env` key not declared: {why}"));
            continue;
        }
        let name = key.to_ascii_uppercase();
        if let Some(first) = declarable.get(&name) {
            notes.push(format!(
                "`.env` key `{key}` not declared: to GitHub it is the same name as `{first}` (names ignore case); rename one"
            ));
            continue;
        }
        declarable.insert(name, key.clone());
    }
    declarable
}

/// Every secret a target lists, then the `.env` keys no target lists (declared, carried by none).
fn secrets(
    targets: &[TargetDraft],
    dotenv: Option<&BTreeMap<String, String>>,
    notes: &mut Vec<String>,
) -> Vec<SecretDraft> {
    let mut names: Vec<String> = targets.iter().flat_map(|t| t.secrets.clone()).collect();
    names.sort();
    names.dedup();
    let mut all: Vec<SecretDraft> = names
        .into_iter()
        .map(|name| SecretDraft {
            at: labels_of(targets, |t| t.secrets.contains(&name)),
            dotenv_key: dotenv.and_then(|keys| keys.get(&name).cloned()),
            keyring_user: keyring_user(targets, &name),
            on_github: true,
            name,
        })
        .collect();
    let Some(dotenv) = dotenv else {
        return all;
    };
    let alone: Vec<SecretDraft> = dotenv
        .iter()
        .filter(|(name, _)| !all.iter().any(|s| s.name == **name))
        .map(|(name, key)| SecretDraft {
            name: name.clone(),
            on_github: false,
            dotenv_key: Some(key.clone()),
            keyring_user: keyring_user(&[], name),
            at: Vec::new(),
        })
        .collect();
    if !targets.is_empty() && !alone.is_empty() {
        let names: Vec<String> = alone.iter().map(|s| format!("`{}`", s.name)).collect();
        notes.push(format!(
            "in the `.env` file but on none of the targets read: {}; declared, carried by no target: \
             add them to a target's `secrets` to send them",
            names.join(", ")
        ));
    }
    all.extend(alone);
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

/// The keyring entry a secret's value is kept in: its name under the first repository or
/// organization that holds it, as `acme/shop/db_password`. A bare name would make two projects'
/// DB_PASSWORDs one entry, and `set` for one would change what the other sends.
fn keyring_user(targets: &[TargetDraft], name: &str) -> String {
    let name = name.to_ascii_lowercase();
    let place = targets
        .iter()
        .find(|t| t.secrets.iter().any(|s| s.eq_ignore_ascii_case(&name)));
    match place.map(|t| &t.scope) {
        Some(Scope::Repo { repo, .. } | Scope::Environment { repo, .. }) => {
            format!("{repo}/{name}")
        }
        Some(Scope::Org { org, .. }) => format!("{org}/{name}"),
        None => name,
    }
}

fn labels_of(targets: &[TargetDraft], has: impl Fn(&TargetDraft) -> bool) -> Vec<String> {
    targets
        .iter()
        .filter(|t| has(t))
        .map(|t| t.scope.to_string())
        .collect()
}

fn shared_record_notes(listings: &[Listing], notes: &mut Vec<String>) {
    let with: Vec<String> = listings
        .iter()
        .filter(|l| l.shared_record)
        .map(|l| format!("`{}`", l.scope))
        .collect();
    if !with.is_empty() {
        notes.push(format!(
            "{} hold secretsync's shared record (`{}`): the team applies with `[state] store = \"github\"` \
             and a team key; add that `[state]` table (docs/state.md) before applying from here",
            with.join(", "),
            crate::config::STATE_VARIABLE
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::RemoteVariable;
    use crate::scope::{App, Repo};

    fn repo_listing(name: &str, variables: &[(&str, &str)]) -> Listing {
        Listing {
            scope: Scope::Repo {
                repo: Repo::parse(name).unwrap(),
                app: App::Actions,
            },
            secrets: Vec::new(),
            variables: variables
                .iter()
                .map(|(n, v)| RemoteVariable {
                    name: (*n).into(),
                    value: (*v).into(),
                    access: None,
                })
                .collect(),
            shared_record: false,
        }
    }

    #[test]
    fn on_a_tie_the_first_target_read_decides_a_variable_and_the_other_is_named() {
        let listings = [
            repo_listing("o/b", &[("V", "from-b")]),
            repo_listing("o/a", &[("V", "from-a")]),
        ];
        let d = draft(&listings, None);
        assert_eq!(d.variables[0].value, "from-b");
        assert_eq!(d.variables[0].at, ["o/b"]);
        assert_eq!(d.targets.len(), 1, "o/a has nothing left to list");
        assert!(d.notes[0].contains("`o/a` has \"from-a\""), "{:?}", d.notes);
        assert!(
            d.notes[1].contains("`o/a` holds no secrets"),
            "{:?}",
            d.notes
        );
    }

    #[test]
    fn dotenv_keys_that_github_would_refuse_or_merge_are_not_declared() {
        let keys: Vec<String> = ["API_KEY", "Api_Key", "GITHUB_X", "ok"]
            .map(String::from)
            .to_vec();
        let d = draft(&[], Some(&keys));
        let names: Vec<(&str, Option<&str>)> = d
            .secrets
            .iter()
            .map(|s| (s.name.as_str(), s.dotenv_key.as_deref()))
            .collect();
        assert_eq!(names, [("API_KEY", Some("API_KEY")), ("OK", Some("ok"))]);
        assert_eq!(d.notes.len(), 2, "{:?}", d.notes);
        assert!(d
            .notes
            .iter()
            .any(|n| n.contains("`Api_Key`") && n.contains("ignore case")));
    }

    #[test]
    fn a_keyring_entry_is_named_for_the_first_place_that_holds_the_secret() {
        let with_secret = |mut listing: Listing, scope: Option<Scope>| {
            listing.secrets.push(crate::plan::Remote {
                name: "DB_PASSWORD".into(),
                updated_at: "2026-01-01T00:00:00Z".into(),
                access: None,
            });
            if let Some(scope) = scope {
                listing.scope = scope;
            }
            listing
        };
        let org = Scope::Org {
            org: "acme".into(),
            app: App::Actions,
        };
        let users = |listings: &[Listing]| draft(listings, None).secrets[0].keyring_user.clone();
        let shop = with_secret(repo_listing("acme/Shop", &[]), None);
        let web = with_secret(repo_listing("acme/web", &[]), None);
        assert_eq!(users(&[shop]), "acme/Shop/db_password");
        assert_eq!(users(&[web]), "acme/web/db_password");
        assert_eq!(
            users(&[with_secret(repo_listing("x/y", &[]), Some(org))]),
            "acme/db_password"
        );
        let keys = vec!["DB_PASSWORD".to_owned()];
        assert_eq!(
            draft(&[], Some(&keys)).secrets[0].keyring_user,
            "db_password"
        );
    }

    #[test]
    fn a_name_no_config_can_declare_is_left_out_with_a_note() {
        let mut listing = repo_listing("o/r", &[("BAD VAR", "v"), ("GOOD_VAR", "g")]);
        for name in ["OK", "BAD\n[x]"] {
            listing.secrets.push(crate::plan::Remote {
                name: name.into(),
                updated_at: "2026-01-01T00:00:00Z".into(),
                access: None,
            });
        }
        let d = draft(&[listing], None);
        let secrets: Vec<&str> = d.secrets.iter().map(|s| s.name.as_str()).collect();
        let variables: Vec<&str> = d.variables.iter().map(|v| v.name.as_str()).collect();
        assert_eq!((secrets, variables), (vec!["OK"], vec!["GOOD_VAR"]));
        assert_eq!(d.targets[0].secrets, ["OK"]);
        let notes = d.notes.join("\n");
        assert!(
            notes.contains("a secret GitHub listed is not declared"),
            "{notes}"
        );
        assert!(
            notes.contains("a variable GitHub listed is not declared"),
            "{notes}"
        );
    }
}
