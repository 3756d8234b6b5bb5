//! The plan: a pure function from (desired, remote, recorded) to one change per name.
//!
//! GitHub never returns secret values, so "did it change?" is answered from what secretsync
//! recorded at its last apply: a keyed fingerprint of the value and the `updated_at` GitHub then
//! listed. No I/O and no values here; only names, fingerprints and timestamps.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::source::SourceKind;

/// A keyed fingerprint of a value (see `state`); comparable, but useless for guessing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(pub String);

/// A declared secret, as far as the plan needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub name: String,
    /// `None` when the value is unknown until a prompt on `apply`.
    pub fingerprint: Option<Fingerprint>,
    pub source: Option<SourceKind>,
}

/// A secret as GitHub lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub name: String,
    pub updated_at: String,
}

/// What the last successful apply wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub fingerprint: Fingerprint,
    pub updated_at: String,
}

pub type Recorded = BTreeMap<String, Record>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Extra,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Extra => "extra",
            Action::Delete => "delete",
        }
    }

    /// Whether this action writes to GitHub.
    pub fn writes(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete)
    }

    /// Whether this action needs the value sealed.
    pub fn seals(self) -> bool {
        matches!(self, Action::Create | Action::Update)
    }
}

/// Why a change is what it is. `code()` is stable for scripts; `Display` is for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Absent,
    /// Absent on GitHub although we recorded writing it: someone deleted it.
    DeletedRemotely,
    ValueChanged,
    /// GitHub's `updated_at` moved after our last apply: someone else wrote it.
    Drift {
        remote: String,
        recorded: String,
    },
    /// Present on GitHub, but nothing recorded here: the value cannot be compared.
    Unrecorded,
    /// The value comes from a prompt that `plan` does not ask.
    UnknownUntilPrompt,
    Same,
    Undeclared,
    Prune,
}

impl Reason {
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Absent => "absent",
            Reason::DeletedRemotely => "deleted_remotely",
            Reason::ValueChanged => "value_changed",
            Reason::Drift { .. } => "drift",
            Reason::Unrecorded => "unrecorded",
            Reason::UnknownUntilPrompt => "unknown_until_prompt",
            Reason::Same => "same",
            Reason::Undeclared => "undeclared",
            Reason::Prune => "prune",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Absent => f.write_str("absent on GitHub"),
            Reason::DeletedRemotely => {
                f.write_str("absent on GitHub, though set by the last apply")
            }
            Reason::ValueChanged => f.write_str("value changed since the last apply"),
            Reason::Drift { remote, recorded } => write!(
                f,
                "changed on GitHub at {remote}, after the last apply at {recorded}"
            ),
            Reason::Unrecorded => {
                f.write_str("on GitHub but not set by secretsync here; value cannot be compared")
            }
            Reason::UnknownUntilPrompt => {
                f.write_str("value unknown until it is asked for on apply")
            }
            Reason::Same => f.write_str("same as the last apply"),
            Reason::Undeclared => f.write_str("on GitHub, not declared; kept"),
            Reason::Prune => f.write_str("on GitHub, not declared; --prune deletes it"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub name: String,
    pub action: Action,
    pub reason: Reason,
    pub source: Option<SourceKind>,
}

/// One change per name in `desired` ∪ `remote`, sorted by name.
pub fn plan(
    desired: &[Desired],
    remote: &[Remote],
    recorded: &Recorded,
    prune: bool,
) -> Vec<Change> {
    let remote: BTreeMap<&str, &Remote> = remote.iter().map(|r| (r.name.as_str(), r)).collect();
    let declared: BTreeSet<&str> = desired.iter().map(|d| d.name.as_str()).collect();
    let mut changes: Vec<Change> = desired
        .iter()
        .map(|d| {
            let (action, reason) = decide(
                d,
                remote.get(d.name.as_str()).copied(),
                recorded.get(&d.name),
            );
            Change {
                name: d.name.clone(),
                action,
                reason,
                source: d.source,
            }
        })
        .collect();
    changes.extend(
        remote
            .keys()
            .filter(|name| !declared.contains(*name))
            .map(|name| Change {
                name: (*name).to_string(),
                action: if prune { Action::Delete } else { Action::Extra },
                reason: if prune {
                    Reason::Prune
                } else {
                    Reason::Undeclared
                },
                source: None,
            }),
    );
    changes.sort_by(|a, b| a.name.cmp(&b.name));
    changes
}

fn decide(desired: &Desired, remote: Option<&Remote>, record: Option<&Record>) -> (Action, Reason) {
    let Some(remote) = remote else {
        let reason = match (record, &desired.fingerprint) {
            (_, None) => Reason::UnknownUntilPrompt,
            (Some(_), _) => Reason::DeletedRemotely,
            (None, _) => Reason::Absent,
        };
        return (Action::Create, reason);
    };
    let Some(record) = record else {
        return (Action::Update, Reason::Unrecorded);
    };
    if remote.updated_at != record.updated_at {
        return (
            Action::Update,
            Reason::Drift {
                remote: remote.updated_at.clone(),
                recorded: record.updated_at.clone(),
            },
        );
    }
    match &desired.fingerprint {
        None => (Action::Update, Reason::UnknownUntilPrompt),
        Some(fp) if *fp != record.fingerprint => (Action::Update, Reason::ValueChanged),
        Some(_) => (Action::Unchanged, Reason::Same),
    }
}

/// Counts per action, for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    pub extra: usize,
    pub delete: usize,
}

impl Summary {
    pub fn of<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Summary {
        let mut s = Summary::default();
        for c in changes {
            *match c.action {
                Action::Create => &mut s.create,
                Action::Update => &mut s.update,
                Action::Unchanged => &mut s.unchanged,
                Action::Extra => &mut s.extra,
                Action::Delete => &mut s.delete,
            } += 1;
        }
        s
    }

    pub fn add(&mut self, other: Summary) {
        self.create += other.create;
        self.update += other.update;
        self.unchanged += other.unchanged;
        self.extra += other.extra;
        self.delete += other.delete;
    }

    pub fn pending(&self) -> usize {
        self.create + self.update + self.delete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: &str = "2026-01-01T00:00:00Z";
    const T1: &str = "2026-01-02T00:00:00Z";

    fn fp(s: &str) -> Fingerprint {
        Fingerprint(s.into())
    }

    /// Every combination of: declared or not, value known/unknown and same/changed, present on
    /// GitHub or not, recorded or not, remote updated at/after the record; with and without prune.
    #[test]
    fn every_combination() {
        let mut seen = BTreeSet::new();
        for declared in [false, true] {
            for value in [None, Some("old"), Some("new")] {
                for present in [false, true] {
                    for recorded in [false, true] {
                        for drifted in [false, true] {
                            for prune in [false, true] {
                                let desired: Vec<Desired> = declared
                                    .then(|| Desired {
                                        name: "A".into(),
                                        fingerprint: value.map(fp),
                                        source: Some(SourceKind::Env),
                                    })
                                    .into_iter()
                                    .collect();
                                let remote: Vec<Remote> = present
                                    .then(|| Remote {
                                        name: "A".into(),
                                        updated_at: if drifted { T1 } else { T0 }.into(),
                                    })
                                    .into_iter()
                                    .collect();
                                let rec: Recorded = recorded
                                    .then(|| {
                                        (
                                            "A".to_string(),
                                            Record {
                                                fingerprint: fp("old"),
                                                updated_at: T0.into(),
                                            },
                                        )
                                    })
                                    .into_iter()
                                    .collect();
                                let changes = plan(&desired, &remote, &rec, prune);
                                let expected =
                                    expect(declared, value, present, recorded, drifted, prune);
                                let got = changes.first().map(|c| (c.action, c.reason.code()));
                                assert_eq!(
                                    got, expected,
                                    "declared={declared} value={value:?} present={present} \
                                     recorded={recorded} drifted={drifted} prune={prune}"
                                );
                                assert!(changes.len() <= 1);
                                if let Some(c) = changes.first() {
                                    seen.insert(c.reason.code());
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(seen.len(), 9, "every reason is reachable: {seen:?}");
    }

    /// The rules, written independently of `decide`'s structure.
    fn expect(
        declared: bool,
        value: Option<&str>,
        present: bool,
        recorded: bool,
        drifted: bool,
        prune: bool,
    ) -> Option<(Action, &'static str)> {
        if !declared {
            return present.then_some(if prune {
                (Action::Delete, "prune")
            } else {
                (Action::Extra, "undeclared")
            });
        }
        if !present {
            return Some((
                Action::Create,
                match (value, recorded) {
                    (None, _) => "unknown_until_prompt",
                    (_, true) => "deleted_remotely",
                    _ => "absent",
                },
            ));
        }
        if !recorded {
            return Some((Action::Update, "unrecorded"));
        }
        if drifted {
            return Some((Action::Update, "drift"));
        }
        Some(match value {
            None => (Action::Update, "unknown_until_prompt"),
            Some("old") => (Action::Unchanged, "same"),
            Some(_) => (Action::Update, "value_changed"),
        })
    }

    #[test]
    fn sorted_one_per_name_and_summarised() {
        let desired = vec![
            Desired {
                name: "B".into(),
                fingerprint: Some(fp("x")),
                source: None,
            },
            Desired {
                name: "A".into(),
                fingerprint: Some(fp("x")),
                source: None,
            },
        ];
        let remote = vec![
            Remote {
                name: "Z".into(),
                updated_at: T0.into(),
            },
            Remote {
                name: "B".into(),
                updated_at: T0.into(),
            },
        ];
        let changes = plan(&desired, &remote, &Recorded::new(), false);
        let names: Vec<&str> = changes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "Z"]);
        let s = Summary::of(&changes);
        assert_eq!((s.create, s.update, s.extra, s.pending()), (1, 1, 1, 2));
    }

    #[test]
    fn drift_reason_gives_times() {
        let r = Reason::Drift {
            remote: T1.into(),
            recorded: T0.into(),
        };
        assert_eq!(
            r.to_string(),
            format!("changed on GitHub at {T1}, after the last apply at {T0}")
        );
    }
}
