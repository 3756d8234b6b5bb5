//! The used names against the declared, the present and the built-in ones: a pure function.

use std::collections::{BTreeMap, BTreeSet};

use super::scan::{Scan, Unresolved, Use};

/// Always there for a workflow; never a finding.
pub const BUILT_IN: &[&str] = &["GITHUB_TOKEN"];

/// Read by the runner itself (debug logging), so never "unused" when declared or present.
pub const RUNNER_READ: &[&str] = &["ACTIONS_STEP_DEBUG", "ACTIONS_RUNNER_DEBUG"];

/// What the config declares and GitHub holds, by upper-case name.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Declared secrets with the config line that declares each.
    pub declared: BTreeMap<String, usize>,
    /// Present secrets with the scopes that hold each; `None` when GitHub was not asked.
    pub present: Option<BTreeMap<String, Vec<String>>>,
}

/// Where a secret is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

/// Used, but neither declared nor present nor built in: the workflow sees an empty string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub name: String,
    pub uses: Vec<Location>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredUnused {
    pub name: String,
    pub config_line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentUnused {
    pub name: String,
    pub targets: Vec<String>,
}

/// Everything worth a look, each list sorted by name (unresolved: by file and line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub missing: Vec<Missing>,
    pub declared_unused: Vec<DeclaredUnused>,
    pub present_unused: Vec<PresentUnused>,
    pub unresolved: Vec<Unresolved>,
}

impl Findings {
    pub fn count(&self) -> usize {
        self.missing.len()
            + self.declared_unused.len()
            + self.present_unused.len()
            + self.unresolved.len()
    }
}

/// Every use of every scan, sorted by file, line and name.
pub fn all_uses(scans: &[Scan]) -> Vec<Use> {
    let mut uses: Vec<Use> = scans.iter().flat_map(|s| s.uses.iter().cloned()).collect();
    uses.sort();
    uses.dedup();
    uses
}

pub fn compare(scans: &[Scan], inventory: &Inventory) -> Findings {
    let mut used: BTreeMap<String, Vec<Location>> = BTreeMap::new();
    for u in all_uses(scans) {
        used.entry(u.name.to_ascii_uppercase())
            .or_default()
            .push(Location {
                file: u.file,
                line: u.line,
            });
    }
    let present = inventory.present.as_ref();
    let missing = used
        .iter()
        .filter(|(name, _)| {
            !BUILT_IN.contains(&name.as_str())
                && !inventory.declared.contains_key(*name)
                && !present.is_some_and(|p| p.contains_key(*name))
        })
        .map(|(name, uses)| Missing {
            name: name.clone(),
            uses: uses.clone(),
        })
        .collect();
    let unused = |name: &String| !used.contains_key(name) && !RUNNER_READ.contains(&name.as_str());
    let declared_unused = inventory
        .declared
        .iter()
        .filter(|(name, _)| unused(name))
        .map(|(name, line)| DeclaredUnused {
            name: name.clone(),
            config_line: *line,
        })
        .collect();
    let present_unused = present
        .into_iter()
        .flatten()
        .filter(|(name, _)| unused(name))
        .map(|(name, targets)| PresentUnused {
            name: name.clone(),
            targets: targets
                .iter()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
        })
        .collect();
    let mut unresolved: Vec<Unresolved> = scans
        .iter()
        .flat_map(|s| s.unresolved.iter().cloned())
        .collect();
    unresolved.sort();
    unresolved.dedup();
    Findings {
        missing,
        declared_unused,
        present_unused,
        unresolved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn use_(name: &str, file: &str, line: usize) -> Use {
        Use {
            file: file.into(),
            line,
            name: name.into(),
        }
    }

    fn scans() -> Vec<Scan> {
        vec![
            Scan {
                uses: vec![
                    use_("DECLARED", "a.yml", 1),
                    use_("PRESENT", "a.yml", 2),
                    use_("NOWHERE", "a.yml", 3),
                    use_("GITHUB_TOKEN", "a.yml", 4),
                ],
                unresolved: vec![Unresolved {
                    file: "a.yml".into(),
                    line: 5,
                    expression: "toJSON(secrets)".into(),
                }],
            },
            Scan {
                uses: vec![use_("NOWHERE", "b.yml", 7)],
                unresolved: vec![],
            },
        ]
    }

    fn inventory(present: bool) -> Inventory {
        Inventory {
            declared: [("DECLARED", 3), ("OLD", 9), ("ACTIONS_STEP_DEBUG", 12)]
                .into_iter()
                .map(|(n, l)| (n.to_string(), l))
                .collect(),
            present: present.then(|| {
                [("PRESENT", "o/r"), ("DECLARED", "o/r"), ("STALE", "org o")]
                    .into_iter()
                    .map(|(n, t)| (n.to_string(), vec![t.to_string(), t.to_string()]))
                    .collect()
            }),
        }
    }

    #[test]
    fn every_kind_of_finding() {
        let findings = compare(&scans(), &inventory(true));
        assert_eq!(
            findings.missing,
            vec![Missing {
                name: "NOWHERE".into(),
                uses: vec![
                    Location {
                        file: "a.yml".into(),
                        line: 3
                    },
                    Location {
                        file: "b.yml".into(),
                        line: 7
                    }
                ]
            }]
        );
        assert_eq!(
            findings.declared_unused,
            vec![DeclaredUnused {
                name: "OLD".into(),
                config_line: 9
            }]
        );
        assert_eq!(
            findings.present_unused,
            vec![PresentUnused {
                name: "STALE".into(),
                targets: vec!["org o".into()]
            }]
        );
        assert_eq!(findings.unresolved.len(), 1);
        assert_eq!(findings.count(), 4);
    }

    #[test]
    fn offline_knows_only_the_config() {
        let findings = compare(&scans(), &inventory(false));
        let missing: Vec<&str> = findings.missing.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(missing, ["NOWHERE", "PRESENT"]);
        assert!(findings.present_unused.is_empty());
    }

    #[test]
    fn nothing_used_nothing_known_is_clean() {
        let findings = compare(&[], &Inventory::default());
        assert_eq!(findings, Findings::default());
        assert_eq!(findings.count(), 0);
    }

    #[test]
    fn the_built_in_token_is_never_a_finding() {
        let scans = vec![Scan {
            uses: vec![use_("GITHUB_TOKEN", "a.yml", 1)],
            unresolved: vec![],
        }];
        assert_eq!(compare(&scans, &Inventory::default()).count(), 0);
    }
}
