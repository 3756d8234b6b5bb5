//! The plan: a pure function from (desired, remote, recorded) to one change per name.
//!
//! GitHub never returns secret values, so "did it change?" is answered from what secretsync
//! recorded at its last apply: a keyed fingerprint of the value and the `updated_at` GitHub then
//! listed. Variables are readable, so their plan compares the values themselves. Organization
//! items also compare who may use them. No I/O and no secret values here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::scope::Visibility;
use crate::source::SourceKind;

/// Who may use an organization secret or variable: the visibility and, for `selected`, the
/// repository ids (sorted).
#[derive(Debug, Clone)]
pub struct OrgAccess {
    pub visibility: Visibility,
    pub repositories: Vec<u64>,
    /// `owner/name` by id, to name repositories to people; ids alone decide equality.
    pub names: BTreeMap<u64, String>,
}

impl PartialEq for OrgAccess {
    fn eq(&self, other: &Self) -> bool {
        self.visibility == other.visibility && self.repositories == other.repositories
    }
}

impl Eq for OrgAccess {}

/// Repositories listed in a reason, at most; a selection of hundreds would drown the plan.
const LISTED_REPOSITORIES: usize = 10;

impl OrgAccess {
    fn name(&self, id: u64) -> String {
        self.names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("repository id {id}"))
    }
}

/// `items` joined by `sep`, the first [`LISTED_REPOSITORIES`] of them and a count of the rest.
fn listed(items: Vec<String>, sep: &str) -> String {
    let rest = items.len().saturating_sub(LISTED_REPOSITORIES);
    let mut text = items
        .into_iter()
        .take(LISTED_REPOSITORIES)
        .collect::<Vec<_>>()
        .join(sep);
    if rest > 0 {
        text.push_str(&format!("{sep}and {rest} more"));
    }
    text
}

impl fmt::Display for OrgAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.visibility {
            Visibility::Selected if self.repositories.is_empty() => {
                f.write_str("selected (no repositories)")
            }
            Visibility::Selected => {
                let names = self.repositories.iter().map(|id| self.name(*id)).collect();
                write!(f, "selected ({})", listed(names, ", "))
            }
            other => f.write_str(other.as_str()),
        }
    }
}

/// What changes in who may use an item: the repositories added and removed when only the
/// selection changes, else the old and the new access.
fn access_difference(have: &OrgAccess, want: &OrgAccess) -> String {
    if have.visibility != want.visibility {
        return format!("{have} -> {want}");
    }
    let added = want
        .repositories
        .iter()
        .filter(|id| !have.repositories.contains(id))
        .map(|id| format!("+{}", want.name(*id)));
    let removed = have
        .repositories
        .iter()
        .filter(|id| !want.repositories.contains(id))
        .map(|id| format!("-{}", have.name(*id)));
    format!(
        "{}: {}",
        want.visibility.as_str(),
        listed(added.chain(removed).collect(), " ")
    )
}

/// Whether a change concerns a secret or a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Secret,
    Variable,
}

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
    /// Organization scopes only.
    pub access: Option<OrgAccess>,
}

/// A secret as GitHub lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub name: String,
    pub updated_at: String,
    /// Organization scopes only.
    pub access: Option<OrgAccess>,
}

/// A declared variable: its value is not secret, so the plan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredVariable {
    pub name: String,
    /// `None` when the value is unknown until a prompt on `apply`.
    pub value: Option<String>,
    pub source: Option<SourceKind>,
    pub access: Option<OrgAccess>,
}

/// A variable as GitHub lists it, value included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteVariable {
    pub name: String,
    pub value: String,
    pub access: Option<OrgAccess>,
}

/// What the last successful apply wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub fingerprint: Fingerprint,
    /// GitHub's `updated_at` for the write, or the `Date` of its answer, which is at or after it
    /// (see `later`). `None` when neither could be read (a listing after the writes failed):
    /// the fingerprint is trusted, and the next apply fills the time in from its listing.
    #[serde(default)]
    pub updated_at: Option<String>,
}

pub type Recorded = BTreeMap<String, Record>;

/// A write an apply was about to send, recorded before it was sent: what it sent, when (UTC,
/// RFC 3339, whole seconds), and GitHub's `updated_at` for it when the apply planned (`None`:
/// absent). An apply that records the write's outcome removes it; one that is cut off (killed,
/// or unable to record) leaves it behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    pub fingerprint: Fingerprint,
    pub since: String,
    #[serde(default)]
    pub base: Option<String>,
}

pub type Intents = BTreeMap<String, Intent>;

/// How far GitHub's clock may lag ours and a write still count as sent after its intent.
const CLOCK_TOLERANCE_SECS: i64 = 120;

/// The records as they stand once left-over intents are weighed against GitHub's listing. A
/// secret whose `updated_at` moved since the apply planned (or that appeared), to a time at or
/// after the intent, was written by the apply that was cut off (only a write by someone else
/// between that apply's listing and its own write would look the same): it becomes a record of
/// the intent's fingerprint with the time left open, the form a write whose listing failed
/// already takes, so it is trusted, never shown as drift, and the next apply fills the time
/// in. An intent GitHub shows no trace of (absent, or not touched since) is ignored.
pub fn settle(recorded: &Recorded, intents: &Intents, remote: &[Remote]) -> Recorded {
    let mut settled = recorded.clone();
    for (name, intent) in intents {
        let Some(listed) = remote.iter().find(|r| r.name == *name) else {
            continue;
        };
        let moved = intent.base.as_ref() != Some(&listed.updated_at);
        if moved && at_or_after(&listed.updated_at, &intent.since) {
            settled.insert(
                name.clone(),
                Record {
                    fingerprint: intent.fingerprint.clone(),
                    updated_at: None,
                },
            );
        }
    }
    settled
}

/// The team's shared record as the plan should see it on this machine. A left-over intent of
/// this machine's that GitHub shows landed (as [`settle`] judges) never reached the shared
/// record, which still holds the value before it: the name is left out, so the plan sends it
/// once more and records it ("not in the shared record") instead of calling our own write drift.
pub fn settle_shared(shared: &Recorded, intents: &Intents, remote: &[Remote]) -> Recorded {
    let mut settled = settle(shared, intents, remote);
    settled.retain(|name, record| shared.get(name) == Some(record));
    settled
}

/// Records with no time (written when the listing after the writes failed, or settled from an
/// intent) take GitHub's `updated_at` from `remote`, so drift is watched again from now on.
/// Returns the names filled in.
pub fn fill_times(records: &mut Recorded, remote: &[Remote]) -> Vec<String> {
    let mut filled = Vec::new();
    for (name, record) in records.iter_mut().filter(|(_, r)| r.updated_at.is_none()) {
        if let Some(listed) = remote.iter().find(|r| r.name == *name) {
            record.updated_at = Some(listed.updated_at.clone());
            filled.push(name.clone());
        }
    }
    filled
}

/// How GitHub writes a time (`updated_at`), and how records and intents keep one: RFC 3339,
/// UTC, whole seconds.
pub const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// A time as GitHub or a record writes it; `None` for anything else.
fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(text).ok()
}

/// Whether GitHub's `updated_at` is after the recorded time: someone wrote after us. The record
/// holds our write's `updated_at`, or the `Date` of its answer, which is at or after it; either
/// way a later write by anyone else is later, unless it fell within the same second (GitHub's
/// times have whole seconds), which no client can tell apart. Times that do not parse are
/// compared as text: any difference is drift.
fn later(remote: &str, recorded: &str) -> bool {
    match (parse_time(remote), parse_time(recorded)) {
        (Some(remote), Some(recorded)) => remote > recorded,
        _ => remote != recorded,
    }
}

fn at_or_after(time: &str, since: &str) -> bool {
    match (parse_time(time), parse_time(since)) {
        (Some(time), Some(since)) => {
            time >= since - chrono::Duration::seconds(CLOCK_TOLERANCE_SECS)
        }
        _ => false,
    }
}

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
    /// Present on GitHub, but absent from the team's shared record: the value cannot be
    /// compared, and is sent once to record it.
    UnrecordedShared,
    /// The shared record holds another value than this machine's, which is unchanged here since
    /// this machine's own last apply: another machine applied a newer value.
    AppliedElsewhere,
    /// The value comes from a prompt that `plan` does not ask.
    UnknownUntilPrompt,
    Same,
    Undeclared,
    Prune,
    /// Only who may use it changed: written without sending the value again.
    AccessChanged {
        change: String,
    },
    /// On GitHub and declared in the config, but this target's `secrets`/`variables` globs
    /// (`selection`, as written) leave it out: kept, or deleted with `prune`.
    NotSelected {
        selection: String,
        prune: bool,
    },
    /// A variable's value on GitHub differs from the declared one (variables are not secret).
    VariableChanged {
        old: String,
        new: String,
    },
    /// A variable's value on GitHub is the declared one.
    Equal,
}

impl Reason {
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Absent => "absent",
            Reason::DeletedRemotely => "deleted_remotely",
            Reason::ValueChanged => "value_changed",
            Reason::Drift { .. } => "drift",
            Reason::Unrecorded | Reason::UnrecordedShared => "unrecorded",
            Reason::AppliedElsewhere => "applied_elsewhere",
            Reason::UnknownUntilPrompt => "unknown_until_prompt",
            Reason::Same => "same",
            Reason::Undeclared => "undeclared",
            Reason::Prune => "prune",
            Reason::AccessChanged { .. } => "access_changed",
            // The same codes as for undeclared names: scripts keying on them stay right.
            Reason::NotSelected { prune: false, .. } => "undeclared",
            Reason::NotSelected { prune: true, .. } => "prune",
            Reason::VariableChanged { .. } => "value_differs",
            Reason::Equal => "equal",
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
                f.write_str("on GitHub but not set by secretsync here; value cannot be compared (`secretsync adopt` trusts it)")
            }
            Reason::UnrecordedShared => f.write_str(
                "on GitHub but not in the shared record; value cannot be compared, so it is sent once to record it (or `secretsync adopt` trusts it)",
            ),
            Reason::AppliedElsewhere => f.write_str(
                "another machine applied a different value after this one's last apply; apply sends this machine's value back",
            ),
            Reason::UnknownUntilPrompt => {
                f.write_str("value unknown until it is asked for on apply")
            }
            Reason::Same => f.write_str("same as the last apply"),
            Reason::Undeclared => f.write_str("on GitHub, not declared; kept"),
            Reason::Prune => f.write_str("on GitHub, not declared; --prune deletes it"),
            Reason::AccessChanged { change } => write!(f, "access {change}; value kept"),
            Reason::NotSelected { selection, prune } => write!(
                f,
                "on GitHub, declared, but not selected for this target by {selection}; {}",
                if *prune { "--prune deletes it" } else { "kept" }
            ),
            Reason::VariableChanged { old, new } => write!(f, "{old:?} -> {new:?}"),
            Reason::Equal => f.write_str("same value on GitHub"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ItemKind,
    pub name: String,
    pub action: Action,
    pub reason: Reason,
    pub source: Option<SourceKind>,
}

/// Reasons worded for a record the team shares. A secret missing from it is sent once to record
/// it. A value that differs from it while this machine's own last record (`local`) still matches
/// this machine's value was applied from another machine: applying would send the older one back.
pub fn against_shared_record(changes: &mut [Change], desired: &[Desired], local: &Recorded) {
    for change in changes.iter_mut().filter(|c| c.kind == ItemKind::Secret) {
        let unchanged_here = || {
            let ours = desired.iter().find(|d| d.name == change.name);
            let fingerprint = ours.and_then(|d| d.fingerprint.as_ref());
            fingerprint.is_some() && local.get(&change.name).map(|r| &r.fingerprint) == fingerprint
        };
        change.reason = match change.reason {
            Reason::ValueChanged if unchanged_here() => Reason::AppliedElsewhere,
            Reason::Unrecorded => Reason::UnrecordedShared,
            _ => continue,
        };
    }
}

/// One change per secret name in `desired` ∪ `remote`, sorted by name.
pub fn plan(
    desired: &[Desired],
    remote: &[Remote],
    recorded: &Recorded,
    prune: bool,
) -> Vec<Change> {
    changes(ItemKind::Secret, desired, remote, prune, |d, r| {
        decide(d, r, recorded.get(&d.name))
    })
}

/// One change per variable name in `desired` ∪ `remote`, sorted by name.
pub fn plan_variables(
    desired: &[DesiredVariable],
    remote: &[RemoteVariable],
    prune: bool,
) -> Vec<Change> {
    changes(ItemKind::Variable, desired, remote, prune, decide_variable)
}

/// What the shared skeleton of a plan needs from a declared entry; how one is compared with
/// GitHub's differs by kind and stays in `decide`/`decide_variable`.
trait Declared {
    fn name(&self) -> &str;
    fn source(&self) -> Option<SourceKind>;
}

/// An entry as GitHub lists it, found by name.
trait Listed {
    fn name(&self) -> &str;
}

impl Declared for Desired {
    fn name(&self) -> &str {
        &self.name
    }
    fn source(&self) -> Option<SourceKind> {
        self.source
    }
}

impl Declared for DesiredVariable {
    fn name(&self) -> &str {
        &self.name
    }
    fn source(&self) -> Option<SourceKind> {
        self.source
    }
}

impl Listed for Remote {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Listed for RemoteVariable {
    fn name(&self) -> &str {
        &self.name
    }
}

/// Each declared name decided against GitHub's entry of that name, then GitHub's undeclared
/// names, sorted by name.
fn changes<D: Declared, R: Listed>(
    kind: ItemKind,
    desired: &[D],
    remote: &[R],
    prune: bool,
    decide: impl Fn(&D, Option<&R>) -> (Action, Reason),
) -> Vec<Change> {
    let remote: BTreeMap<&str, &R> = remote.iter().map(|r| (r.name(), r)).collect();
    let mut changes: Vec<Change> = desired
        .iter()
        .map(|d| {
            let (action, reason) = decide(d, remote.get(d.name()).copied());
            Change {
                kind,
                name: d.name().to_string(),
                action,
                reason,
                source: d.source(),
            }
        })
        .collect();
    let declared: BTreeSet<&str> = desired.iter().map(Declared::name).collect();
    changes.extend(extras(kind, remote.keys().copied(), &declared, prune));
    changes.sort_by(|a, b| a.name.cmp(&b.name));
    changes
}

fn extras<'a>(
    kind: ItemKind,
    remote: impl Iterator<Item = &'a str>,
    declared: &BTreeSet<&str>,
    prune: bool,
) -> Vec<Change> {
    remote
        .filter(|name| !declared.contains(name))
        .map(|name| Change {
            kind,
            name: name.to_string(),
            action: if prune { Action::Delete } else { Action::Extra },
            reason: if prune {
                Reason::Prune
            } else {
                Reason::Undeclared
            },
            source: None,
        })
        .collect()
}

/// Names of `kind` on GitHub that the config declares (`declared`) but the target's globs leave
/// out: not "undeclared", but not selected by `selection` (the globs as written).
pub fn explain_unselected(
    changes: &mut [Change],
    kind: ItemKind,
    declared: &dyn Fn(&str) -> bool,
    selection: &str,
) {
    for change in changes.iter_mut().filter(|c| c.kind == kind) {
        let prune = match change.reason {
            Reason::Undeclared => false,
            Reason::Prune => true,
            _ => continue,
        };
        if declared(&change.name) {
            change.reason = Reason::NotSelected {
                selection: selection.to_string(),
                prune,
            };
        }
    }
}

fn decide(desired: &Desired, remote: Option<&Remote>, record: Option<&Record>) -> (Action, Reason) {
    let (action, reason) = decide_value(desired, remote, record);
    match (action, remote) {
        (Action::Unchanged, Some(remote)) => {
            access_change(&desired.access, &remote.access).unwrap_or((action, reason))
        }
        _ => (action, reason),
    }
}

/// An update of who may use it, when that is all that differs.
fn access_change(
    desired: &Option<OrgAccess>,
    remote: &Option<OrgAccess>,
) -> Option<(Action, Reason)> {
    match (desired, remote) {
        (Some(want), Some(have)) if want != have => Some((
            Action::Update,
            Reason::AccessChanged {
                change: access_difference(have, want),
            },
        )),
        _ => None,
    }
}

fn decide_value(
    desired: &Desired,
    remote: Option<&Remote>,
    record: Option<&Record>,
) -> (Action, Reason) {
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
    if let Some(recorded) = &record.updated_at {
        if later(&remote.updated_at, recorded) {
            return (
                Action::Update,
                Reason::Drift {
                    remote: remote.updated_at.clone(),
                    recorded: recorded.clone(),
                },
            );
        }
    }
    match &desired.fingerprint {
        None => (Action::Update, Reason::UnknownUntilPrompt),
        Some(fp) if *fp != record.fingerprint => (Action::Update, Reason::ValueChanged),
        Some(_) => (Action::Unchanged, Reason::Same),
    }
}

fn decide_variable(desired: &DesiredVariable, remote: Option<&RemoteVariable>) -> (Action, Reason) {
    let Some(remote) = remote else {
        return match desired.value {
            None => (Action::Create, Reason::UnknownUntilPrompt),
            Some(_) => (Action::Create, Reason::Absent),
        };
    };
    match &desired.value {
        None => (Action::Update, Reason::UnknownUntilPrompt),
        Some(value) if *value != remote.value => (
            Action::Update,
            Reason::VariableChanged {
                old: remote.value.clone(),
                new: value.clone(),
            },
        ),
        Some(_) => access_change(&desired.access, &remote.access)
            .unwrap_or((Action::Unchanged, Reason::Equal)),
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

    /// Against a shared record, every combination of: this machine's value (unknown, the one it
    /// last applied, a new one), what the shared record holds (nothing, this machine's last
    /// value, another), and this machine's own record (none, its value, another).
    #[test]
    fn shared_record_reasons_tell_a_value_applied_elsewhere_from_a_change_here() {
        let remote = [Remote {
            name: "A".into(),
            updated_at: T0.into(),
            access: None,
        }];
        let record = |f: &str| -> Recorded {
            [(
                "A".to_string(),
                Record {
                    fingerprint: fp(f),
                    updated_at: Some(T0.into()),
                },
            )]
            .into()
        };
        for mine in [None, Some("mine"), Some("new")] {
            for shared in [None, Some("mine"), Some("theirs")] {
                for local in [None, Some("mine"), Some("old")] {
                    let desired = [Desired {
                        name: "A".into(),
                        fingerprint: mine.map(fp),
                        source: Some(SourceKind::Env),
                        access: None,
                    }];
                    let shared_rec = shared.map(record).unwrap_or_default();
                    let local_rec = local.map(record).unwrap_or_default();
                    let mut changes = plan(&desired, &remote, &shared_rec, false);
                    let before = changes[0].reason.clone();
                    against_shared_record(&mut changes, &desired, &local_rec);
                    let expected = match (&before, mine, shared, local) {
                        (Reason::Unrecorded, ..) => Reason::UnrecordedShared,
                        (Reason::ValueChanged, Some(m), Some(_), Some(l)) if m == l => {
                            Reason::AppliedElsewhere
                        }
                        _ => before.clone(),
                    };
                    assert_eq!(changes[0].reason, expected, "{mine:?} {shared:?} {local:?}");
                    // Only the wording changes: what is written stays the plan's.
                    assert_eq!(changes.len(), 1);
                }
            }
        }
    }

    /// Every combination of: declared or not, value known/unknown and same/changed, present on
    /// GitHub or not, recorded or not, remote updated at/after the record; with and without prune.
    #[test]
    fn a_time_at_or_before_the_recorded_bound_is_ours_and_a_later_one_is_drift() {
        let desired = [Desired {
            name: "A".into(),
            fingerprint: Some(fp("a")),
            source: None,
            access: None,
        }];
        // Recorded: the `Date` of our write's answer, a bound on its `updated_at`.
        let recorded = Recorded::from([(
            "A".to_string(),
            Record {
                fingerprint: fp("a"),
                updated_at: Some("2026-01-01T00:00:05Z".into()),
            },
        )]);
        let reason = |updated_at: &str| {
            let remote = [Remote {
                name: "A".into(),
                updated_at: updated_at.into(),
                access: None,
            }];
            plan(&desired, &remote, &recorded, false)[0].reason.code()
        };
        assert_eq!(reason("2026-01-01T00:00:04Z"), "same");
        assert_eq!(reason("2026-01-01T00:00:05Z"), "same");
        assert_eq!(reason("2026-01-01T00:00:06Z"), "drift");
        // Not a time GitHub writes: any difference is drift.
        assert_eq!(reason("garbage"), "drift");
    }

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
                                        access: None,
                                    })
                                    .into_iter()
                                    .collect();
                                let remote: Vec<Remote> = present
                                    .then(|| Remote {
                                        name: "A".into(),
                                        updated_at: if drifted { T1 } else { T0 }.into(),
                                        access: None,
                                    })
                                    .into_iter()
                                    .collect();
                                let rec: Recorded = recorded
                                    .then(|| {
                                        (
                                            "A".to_string(),
                                            Record {
                                                fingerprint: fp("old"),
                                                updated_at: Some(T0.into()),
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
                access: None,
            },
            Desired {
                name: "A".into(),
                fingerprint: Some(fp("x")),
                source: None,
                access: None,
            },
        ];
        let remote = vec![
            Remote {
                name: "Z".into(),
                updated_at: T0.into(),
                access: None,
            },
            Remote {
                name: "B".into(),
                updated_at: T0.into(),
                access: None,
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

    fn org(visibility: Visibility, repositories: &[u64]) -> Option<OrgAccess> {
        Some(OrgAccess {
            visibility,
            repositories: repositories.to_vec(),
            names: repositories
                .iter()
                .map(|id| (*id, format!("acme/r{id}")))
                .collect(),
        })
    }

    #[test]
    fn access_only_changes_are_updates_that_keep_the_value() {
        let rec: Recorded = [(
            "A".to_string(),
            Record {
                fingerprint: fp("v"),
                updated_at: Some(T0.into()),
            },
        )]
        .into();
        let remote = |access| {
            vec![Remote {
                name: "A".into(),
                updated_at: T0.into(),
                access,
            }]
        };
        let desired = |access| {
            vec![Desired {
                name: "A".into(),
                fingerprint: Some(fp("v")),
                source: None,
                access,
            }]
        };
        let cases = [
            (
                org(Visibility::All, &[]),
                org(Visibility::All, &[]),
                Action::Unchanged,
                "same",
            ),
            (
                org(Visibility::Selected, &[1, 2]),
                org(Visibility::Selected, &[1, 2]),
                Action::Unchanged,
                "same",
            ),
            (
                org(Visibility::Selected, &[1, 2]),
                org(Visibility::Selected, &[1]),
                Action::Update,
                "access_changed",
            ),
            (
                org(Visibility::Private, &[]),
                org(Visibility::All, &[]),
                Action::Update,
                "access_changed",
            ),
        ];
        for (want, have, action, code) in cases {
            let c = &plan(&desired(want.clone()), &remote(have.clone()), &rec, false)[0];
            assert_eq!(
                (c.action, c.reason.code()),
                (action, code),
                "{want:?} vs {have:?}"
            );
        }
        // A changed value wins: the write sends value and access together.
        let c = &plan(
            &[Desired {
                name: "A".into(),
                fingerprint: Some(fp("new")),
                source: None,
                access: org(Visibility::All, &[]),
            }],
            &remote(org(Visibility::Private, &[])),
            &rec,
            false,
        )[0];
        assert_eq!(c.reason.code(), "value_changed");
        let c = &plan(
            &desired(org(Visibility::Selected, &[3])),
            &remote(org(Visibility::Selected, &[1])),
            &rec,
            false,
        )[0];
        assert_eq!(
            c.reason.to_string(),
            "access selected: +acme/r3 -acme/r1; value kept"
        );
        let c = &plan(
            &desired(org(Visibility::Selected, &[1, 2])),
            &remote(org(Visibility::All, &[])),
            &rec,
            false,
        )[0];
        assert_eq!(
            c.reason.to_string(),
            "access all -> selected (acme/r1, acme/r2); value kept"
        );
    }

    #[test]
    fn a_long_selection_change_lists_ten_and_counts_the_rest() {
        let have = org(Visibility::Selected, &[]).expect("access");
        let want = org(Visibility::Selected, &(1..=12).collect::<Vec<_>>()).expect("access");
        let text = access_difference(&have, &want);
        assert!(text.starts_with("selected: +acme/r1 +acme/r2 "), "{text}");
        assert!(text.ends_with("+acme/r10 and 2 more"), "{text}");
    }

    #[test]
    fn variables_compare_values() {
        let dv = |value: Option<&str>| {
            vec![DesiredVariable {
                name: "V".into(),
                value: value.map(String::from),
                source: None,
                access: None,
            }]
        };
        let rv = |value: &str| {
            vec![RemoteVariable {
                name: "V".into(),
                value: value.into(),
                access: None,
            }]
        };
        let code = |c: &[Change]| (c[0].kind, c[0].action, c[0].reason.code());
        assert_eq!(
            code(&plan_variables(&dv(Some("a")), &[], false)),
            (ItemKind::Variable, Action::Create, "absent")
        );
        assert_eq!(
            code(&plan_variables(&dv(None), &[], false)),
            (ItemKind::Variable, Action::Create, "unknown_until_prompt")
        );
        assert_eq!(
            code(&plan_variables(&dv(Some("a")), &rv("a"), false)),
            (ItemKind::Variable, Action::Unchanged, "equal")
        );
        assert_eq!(
            code(&plan_variables(&dv(None), &rv("a"), false)),
            (ItemKind::Variable, Action::Update, "unknown_until_prompt")
        );
        let changed = plan_variables(&dv(Some("b")), &rv("a"), false);
        assert_eq!(
            code(&changed),
            (ItemKind::Variable, Action::Update, "value_differs")
        );
        assert_eq!(changed[0].reason.to_string(), "\"a\" -> \"b\"");
        assert_eq!(
            code(&plan_variables(&[], &rv("a"), false)),
            (ItemKind::Variable, Action::Extra, "undeclared")
        );
        assert_eq!(
            code(&plan_variables(&[], &rv("a"), true)),
            (ItemKind::Variable, Action::Delete, "prune")
        );
        let with_access = vec![DesiredVariable {
            name: "V".into(),
            value: Some("a".into()),
            source: None,
            access: org(Visibility::All, &[]),
        }];
        let remote = vec![RemoteVariable {
            name: "V".into(),
            value: "a".into(),
            access: org(Visibility::Private, &[]),
        }];
        assert_eq!(
            code(&plan_variables(&with_access, &remote, false)),
            (ItemKind::Variable, Action::Update, "access_changed")
        );
    }

    #[test]
    fn an_unconfirmed_record_trusts_its_fingerprint() {
        let rec: Recorded = [(
            "A".to_string(),
            Record {
                fingerprint: fp("v"),
                updated_at: None,
            },
        )]
        .into();
        let remote = vec![Remote {
            name: "A".into(),
            updated_at: T1.into(),
            access: None,
        }];
        let desired = |value: &str| {
            vec![Desired {
                name: "A".into(),
                fingerprint: Some(fp(value)),
                source: None,
                access: None,
            }]
        };
        let same = &plan(&desired("v"), &remote, &rec, false)[0];
        assert_eq!(
            (same.action, same.reason.code()),
            (Action::Unchanged, "same")
        );
        let changed = &plan(&desired("w"), &remote, &rec, false)[0];
        assert_eq!(changed.reason.code(), "value_changed");
    }

    fn intent(value: &str, since: &str, base: Option<&str>) -> Intents {
        [(
            "A".to_string(),
            Intent {
                fingerprint: fp(value),
                since: since.into(),
                base: base.map(str::to_string),
            },
        )]
        .into()
    }

    #[test]
    fn only_records_without_a_time_take_the_listings() {
        let mut records: Recorded = [
            (
                "OPEN".to_string(),
                Record {
                    fingerprint: fp("a"),
                    updated_at: None,
                },
            ),
            (
                "GONE".to_string(),
                Record {
                    fingerprint: fp("b"),
                    updated_at: None,
                },
            ),
            (
                "KEPT".to_string(),
                Record {
                    fingerprint: fp("c"),
                    updated_at: Some(T0.into()),
                },
            ),
        ]
        .into();
        let remote: Vec<Remote> = ["OPEN", "KEPT"]
            .map(|name| Remote {
                name: name.into(),
                updated_at: T1.into(),
                access: None,
            })
            .into();
        assert_eq!(fill_times(&mut records, &remote), ["OPEN"]);
        assert_eq!(records["OPEN"].updated_at.as_deref(), Some(T1));
        assert_eq!(records["GONE"].updated_at, None);
        assert_eq!(records["KEPT"].updated_at.as_deref(), Some(T0));
    }

    /// Against a shared record, a left-over intent of this machine's that landed is sent once
    /// more (its write never reached the shared record); one that never landed changes nothing.
    #[test]
    fn a_landed_intent_is_resent_against_a_shared_record_never_drift() {
        const EARLY: &str = "2026-01-01T00:00:00Z";
        const SINCE: &str = "2026-01-02T00:00:00Z";
        const AFTER: &str = "2026-01-02T00:00:01Z";
        let shared: Recorded = [(
            "A".to_string(),
            Record {
                fingerprint: fp("old"),
                updated_at: Some(EARLY.into()),
            },
        )]
        .into();
        for listed in [EARLY, SINCE, AFTER] {
            let remote = [Remote {
                name: "A".into(),
                updated_at: listed.into(),
                access: None,
            }];
            let settled = settle_shared(&shared, &intent("new", SINCE, Some(EARLY)), &remote);
            let desired = [Desired {
                name: "A".into(),
                fingerprint: Some(fp("new")),
                source: None,
                access: None,
            }];
            let change = &plan(&desired, &remote, &settled, false)[0];
            let expected = match listed {
                EARLY => "value_changed",
                _ => "unrecorded",
            };
            assert_eq!(change.action, Action::Update, "{listed}");
            assert_eq!(change.reason.code(), expected, "{listed}");
        }
        // Without intents the shared record is taken as it is.
        assert_eq!(settle_shared(&shared, &Intents::new(), &[]), shared);
    }

    /// A left-over intent, against: recorded before or not, GitHub absent, untouched since the
    /// record, or moved to a time long before the intent, or at or after it; and the declared
    /// value the intent's or another.
    #[test]
    fn left_over_intents_are_ours_when_github_moved_after_them() {
        const EARLY: &str = "2026-01-01T00:00:00Z";
        const SINCE: &str = "2026-01-02T00:00:00Z";
        const AFTER: &str = "2026-01-02T00:00:01Z";
        for recorded in [false, true] {
            for listed in [None, Some(EARLY), Some(SINCE), Some(AFTER)] {
                for value in ["new", "other"] {
                    let rec: Recorded = recorded
                        .then(|| {
                            (
                                "A".to_string(),
                                Record {
                                    fingerprint: fp("old"),
                                    updated_at: Some(EARLY.into()),
                                },
                            )
                        })
                        .into_iter()
                        .collect();
                    let remote: Vec<Remote> = listed
                        .map(|t| Remote {
                            name: "A".into(),
                            updated_at: t.into(),
                            access: None,
                        })
                        .into_iter()
                        .collect();
                    let base = recorded.then_some(EARLY);
                    let settled = settle(&rec, &intent("new", SINCE, base), &remote);
                    let desired = [Desired {
                        name: "A".into(),
                        fingerprint: Some(fp(value)),
                        source: None,
                        access: None,
                    }];
                    let change = &plan(&desired, &remote, &settled, false)[0];
                    let got = (change.action, change.reason.code());
                    let ours = matches!(listed, Some(SINCE | AFTER));
                    let expected = match (listed, recorded, ours, value) {
                        (None, false, _, _) => (Action::Create, "absent"),
                        (None, true, _, _) => (Action::Create, "deleted_remotely"),
                        (_, _, true, "new") => (Action::Unchanged, "same"),
                        (_, _, true, _) => (Action::Update, "value_changed"),
                        // Not touched since the record: the intent's write never landed.
                        (_, true, false, _) => (Action::Update, "value_changed"),
                        // Created before the intent by someone else.
                        (_, false, false, _) => (Action::Update, "unrecorded"),
                    };
                    assert_eq!(
                        got, expected,
                        "recorded {recorded}, listed {listed:?}, value {value}"
                    );
                    assert_ne!(change.reason.code(), "drift");
                }
            }
        }
    }

    #[test]
    fn an_intent_allows_for_a_lagging_clock_but_not_an_old_write() {
        let remote = |t: &str| {
            vec![Remote {
                name: "A".into(),
                updated_at: t.into(),
                access: None,
            }]
        };
        let since = "2026-01-02T00:02:00Z";
        let lagging = settle(
            &Recorded::new(),
            &intent("v", since, None),
            &remote("2026-01-02T00:00:30Z"),
        );
        assert_eq!(lagging["A"].updated_at, None);
        let old = settle(
            &Recorded::new(),
            &intent("v", since, None),
            &remote("2026-01-01T00:00:00Z"),
        );
        assert!(old.is_empty());
        // Set by someone else just before the apply planned, and so listed then: not ours,
        // however close in time.
        let foreign = "2026-01-02T00:02:00Z";
        let seen = settle(
            &Recorded::new(),
            &intent("v", since, Some(foreign)),
            &remote(foreign),
        );
        assert!(seen.is_empty());
    }
}
