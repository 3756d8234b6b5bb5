//! `plan::plan` and `plan::plan_variables` on inputs built from the fuzz bytes. Names, values,
//! fingerprints and times come from small alphabets so that collisions (the interesting cases)
//! happen all the time. Inputs have the shape the callers give: names unique within `desired`
//! and within `remote`, and `access` set on every item of an organization scope and on none
//! elsewhere.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use secretsync::plan::{
    plan, plan_variables, Action, Change, Desired, DesiredVariable, Fingerprint, ItemKind,
    OrgAccess, Record, Recorded, Remote, RemoteVariable,
};
use secretsync::scope::Visibility;
use secretsync::source::SourceKind;

const NAMES: &[&str] = &["A", "B", "C", "AB", "a", "A_1", "Z"];
const FINGERPRINTS: &[&str] = &["f1", "f2", "f3"];
const TIMES: &[&str] = &[
    "2024-01-01T00:00:00Z",
    "2024-01-02T00:00:00Z",
    "2024-01-03T00:00:00Z",
];
const VALUES: &[&str] = &["", "v", "w", " v"];
const SOURCES: &[SourceKind] = &[
    SourceKind::Env,
    SourceKind::Keyring,
    SourceKind::Prompt,
    SourceKind::Value,
    SourceKind::File,
    SourceKind::Command,
];

fn pick<'a, T>(u: &mut Unstructured, items: &'a [T]) -> Result<&'a T> {
    u.choose(items)
}

/// A subset of `NAMES`, in an arbitrary order.
fn names(u: &mut Unstructured) -> Result<Vec<&'static str>> {
    let mut out = Vec::new();
    for name in NAMES {
        if u.arbitrary::<bool>()? {
            out.push(*name);
        }
    }
    for i in (1..out.len()).rev() {
        let j = u.int_in_range(0..=i)?;
        out.swap(i, j);
    }
    Ok(out)
}

fn access(u: &mut Unstructured, org: bool) -> Result<Option<OrgAccess>> {
    if !org {
        return Ok(None);
    }
    let visibility = *pick(
        u,
        &[Visibility::All, Visibility::Private, Visibility::Selected],
    )?;
    let mut repositories = Vec::new();
    if visibility == Visibility::Selected {
        for id in 1..=3u64 {
            if u.arbitrary::<bool>()? {
                repositories.push(id);
            }
        }
    }
    Ok(Some(OrgAccess {
        visibility,
        repositories,
        names: Default::default(),
    }))
}

fn source(u: &mut Unstructured) -> Result<Option<SourceKind>> {
    Ok(if u.arbitrary::<bool>()? {
        Some(*pick(u, SOURCES)?)
    } else {
        None
    })
}

fn fingerprint(u: &mut Unstructured) -> Result<Fingerprint> {
    Ok(Fingerprint(pick(u, FINGERPRINTS)?.to_string()))
}

/// Every change is one of the union's names, once each, sorted, of `kind`; every declared name
/// is a create, update or unchanged (create exactly when GitHub lacks it) with its source; every
/// name only on GitHub is extra, or delete with prune.
fn check_shape(
    changes: &[Change],
    kind: ItemKind,
    declared: &BTreeMap<&str, Option<SourceKind>>,
    remote: &BTreeSet<&str>,
    prune: bool,
) {
    let union: BTreeSet<&str> = declared
        .keys()
        .copied()
        .chain(remote.iter().copied())
        .collect();
    let got: Vec<&str> = changes.iter().map(|c| c.name.as_str()).collect();
    let want: Vec<&str> = union.iter().copied().collect();
    assert_eq!(got, want, "one change per name, sorted: {changes:#?}");
    for c in changes {
        assert_eq!(c.kind, kind, "{c:?}");
        match declared.get(c.name.as_str()) {
            Some(source) => {
                assert!(
                    matches!(
                        c.action,
                        Action::Create | Action::Update | Action::Unchanged
                    ),
                    "declared name with {:?}: {c:?}",
                    c.action
                );
                assert_eq!(
                    c.action == Action::Create,
                    !remote.contains(c.name.as_str()),
                    "create exactly when absent on GitHub: {c:?}"
                );
                assert_eq!(c.source, *source, "{c:?}");
            }
            None => {
                let want = if prune { Action::Delete } else { Action::Extra };
                assert_eq!(c.action, want, "name only on GitHub: {c:?}");
                assert_eq!(c.source, None, "{c:?}");
            }
        }
    }
}

fn secrets(u: &mut Unstructured) -> Result<()> {
    let org = u.arbitrary::<bool>()?;
    let prune = u.arbitrary::<bool>()?;
    let mut desired = Vec::new();
    for name in names(u)? {
        desired.push(Desired {
            name: name.to_string(),
            fingerprint: if u.ratio(1, 5)? {
                None
            } else {
                Some(fingerprint(u)?)
            },
            source: source(u)?,
            access: access(u, org)?,
        });
    }
    let mut remote = Vec::new();
    for name in names(u)? {
        remote.push(Remote {
            name: name.to_string(),
            updated_at: pick(u, TIMES)?.to_string(),
            access: access(u, org)?,
        });
    }
    let mut recorded = Recorded::new();
    for name in names(u)? {
        recorded.insert(
            name.to_string(),
            Record {
                fingerprint: fingerprint(u)?,
                // Now and then a record whose time is not known yet (written while a listing
                // failed): only its fingerprint counts.
                updated_at: match u.ratio(1, 5)? {
                    true => None,
                    false => Some(pick(u, TIMES)?.to_string()),
                },
            },
        );
    }

    let changes = plan(&desired, &remote, &recorded, prune);

    let declared = desired
        .iter()
        .map(|d| (d.name.as_str(), d.source))
        .collect();
    let on_github = remote.iter().map(|r| r.name.as_str()).collect();
    check_shape(&changes, ItemKind::Secret, &declared, &on_github, prune);
    for d in &desired {
        let c = changes.iter().find(|c| c.name == d.name).unwrap();
        let r = remote.iter().find(|r| r.name == d.name);
        let same = match (r, recorded.get(&d.name), &d.fingerprint) {
            (Some(r), Some(rec), Some(fp)) => {
                rec.fingerprint == *fp
                    // The record is our write's time or a bound after it: GitHub's time at or
                    // before it is ours (TIMES share one format, so text order is time order).
                    && rec.updated_at.as_ref().is_none_or(|t| r.updated_at <= *t)
                    && r.access == d.access
            }
            _ => false,
        };
        assert_eq!(
            c.action == Action::Unchanged,
            same,
            "unchanged exactly when the recorded fingerprint and access match and updated_at is not \
             after the record (when known): \
             {c:?}\ndesired {d:?}\nremote {r:?}\nrecord {:?}",
            recorded.get(&d.name)
        );
    }
    Ok(())
}

fn variables(u: &mut Unstructured) -> Result<()> {
    let org = u.arbitrary::<bool>()?;
    let prune = u.arbitrary::<bool>()?;
    let mut desired = Vec::new();
    for name in names(u)? {
        desired.push(DesiredVariable {
            name: name.to_string(),
            value: if u.ratio(1, 5)? {
                None
            } else {
                Some(pick(u, VALUES)?.to_string())
            },
            source: source(u)?,
            access: access(u, org)?,
        });
    }
    let mut remote = Vec::new();
    for name in names(u)? {
        remote.push(RemoteVariable {
            name: name.to_string(),
            value: pick(u, VALUES)?.to_string(),
            access: access(u, org)?,
        });
    }

    let changes = plan_variables(&desired, &remote, prune);

    let declared = desired
        .iter()
        .map(|d| (d.name.as_str(), d.source))
        .collect();
    let on_github = remote.iter().map(|r| r.name.as_str()).collect();
    check_shape(&changes, ItemKind::Variable, &declared, &on_github, prune);
    for d in &desired {
        let c = changes.iter().find(|c| c.name == d.name).unwrap();
        let r = remote.iter().find(|r| r.name == d.name);
        let same = r.is_some_and(|r| d.value.as_deref() == Some(&r.value) && r.access == d.access);
        assert_eq!(
            c.action == Action::Unchanged,
            same,
            "unchanged exactly when the value and access match: {c:?}\ndesired {d:?}\nremote {r:?}"
        );
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = match u.arbitrary::<bool>() {
        Ok(true) => variables(&mut u),
        Ok(false) => secrets(&mut u),
        Err(_) => return,
    };
});
