//! `adopt`'s decisions, free of I/O: which names a run narrows to, and which of a scope's
//! planned secrets may be trusted as already holding the declared value. Only a secret the plan
//! "cannot compare" (on GitHub, nothing recorded) is trusted; everything else keeps what the plan
//! says about it, so drift stays visible and nothing missing is taken for present.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, UsageError};
use crate::new_value;
use crate::plan::{Action, Change, ItemKind, Reason};

/// A declared secret of one scope that is not trusted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub name: String,
    /// Stable, for scripts: `absent`, `in_sync`, `drift`, `recorded`, `unknown_until_prompt`.
    pub reason_code: &'static str,
    /// For people: the plan's reason, and what to do.
    pub reason: String,
}

/// One scope's names: those to trust, and the declared ones left as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Picked {
    pub trusted: Vec<String>,
    pub skipped: Vec<Skipped>,
}

/// Sort the scope's planned secret changes into those to trust and those to leave alone.
/// `known` tells whether the declared value of a name was resolved (its fingerprint is known).
/// Undeclared names (extras) are not this command's business and are left out.
pub fn pick(changes: &[Change], known: impl Fn(&str) -> bool) -> Picked {
    let mut picked = Picked::default();
    let declared = changes.iter().filter(|c| {
        c.kind == ItemKind::Secret && !matches!(c.action, Action::Extra | Action::Delete)
    });
    for change in declared {
        let why = |code, text: String| Skipped {
            name: change.name.clone(),
            reason_code: code,
            reason: text,
        };
        let skipped = match &change.reason {
            Reason::Unrecorded | Reason::UnrecordedShared if known(&change.name) => {
                picked.trusted.push(change.name.clone());
                continue;
            }
            Reason::Unrecorded | Reason::UnrecordedShared | Reason::UnknownUntilPrompt
                if change.action != Action::Create =>
            {
                why(
                    "unknown_until_prompt",
                    "its value comes from a prompt; run adopt on a terminal to type it".into(),
                )
            }
            _ if change.action == Action::Create => {
                why("absent", format!("{}; apply creates it", change.reason))
            }
            Reason::Same => why("in_sync", "already recorded, in sync".into()),
            Reason::Drift { .. } => why(
                "drift",
                format!(
                    "{}; not trusted: review it, then apply sends the declared value",
                    change.reason
                ),
            ),
            other => why(
                "recorded",
                format!("already recorded: {other}; apply handles it"),
            ),
        };
        picked.skipped.push(skipped);
    }
    picked
}

/// The config as `adopt` sees it: only secrets, and only `names` if any are given (each must be
/// a declared secret that a target carries). Variables need no adoption: their values are read.
pub fn narrowed(config: &Config, names: &[String]) -> Result<Config, Error> {
    let wanted: BTreeSet<String> = names.iter().map(|n| n.to_uppercase()).collect();
    for name in &wanted {
        new_value::declared(config, name).map_err(|e| {
            match config.variables.contains_key(name) {
                true => UsageError::AdoptVariable { name: name.clone() }.into(),
                false => e,
            }
        })?;
        if !config.targets.iter().any(|t| t.secrets.contains(name)) {
            return Err(UsageError::NotCarried { name: name.clone() }.into());
        }
    }
    let mut config = config.clone();
    for target in &mut config.targets {
        target.variables.clear();
        if !wanted.is_empty() {
            target.secrets.retain(|s| wanted.contains(s));
        }
    }
    Ok(without(config, &BTreeSet::new()))
}

/// `config` with the secrets in `left_out` carried by no target, and targets left with nothing
/// dropped (they would cost requests for nothing).
pub fn without(mut config: Config, left_out: &BTreeSet<&str>) -> Config {
    for target in &mut config.targets {
        target.secrets.retain(|s| !left_out.contains(s.as_str()));
    }
    config.targets.retain(|t| !t.secrets.is_empty());
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str, action: Action, reason: Reason) -> Change {
        Change {
            kind: ItemKind::Secret,
            name: name.into(),
            action,
            reason,
            source: None,
        }
    }

    fn codes(picked: &Picked) -> Vec<(&str, &str)> {
        picked
            .skipped
            .iter()
            .map(|s| (s.name.as_str(), s.reason_code))
            .collect()
    }

    #[test]
    fn only_what_cannot_be_compared_is_trusted() {
        let drift = Reason::Drift {
            remote: "2026-01-02T00:00:00Z".into(),
            recorded: "2026-01-01T00:00:00Z".into(),
        };
        let changes = [
            change("ABSENT", Action::Create, Reason::Absent),
            change("DELETED", Action::Create, Reason::DeletedRemotely),
            change("DRIFTED", Action::Update, drift),
            change("EXTRA", Action::Extra, Reason::Undeclared),
            change("NEWER", Action::Update, Reason::ValueChanged),
            change("PROMPTED", Action::Update, Reason::Unrecorded),
            change("SAME", Action::Unchanged, Reason::Same),
            change("SHARED", Action::Update, Reason::UnrecordedShared),
            change("UNRECORDED", Action::Update, Reason::Unrecorded),
            Change {
                kind: ItemKind::Variable,
                ..change("VAR", Action::Update, Reason::Unrecorded)
            },
        ];
        let picked = pick(&changes, |name| name != "PROMPTED");
        assert_eq!(picked.trusted, ["SHARED", "UNRECORDED"]);
        assert_eq!(
            codes(&picked),
            [
                ("ABSENT", "absent"),
                ("DELETED", "absent"),
                ("DRIFTED", "drift"),
                ("NEWER", "recorded"),
                ("PROMPTED", "unknown_until_prompt"),
                ("SAME", "in_sync"),
            ]
        );
        let drifted = &picked.skipped[2];
        assert!(
            drifted.reason.contains("changed on GitHub at 2026-01-02"),
            "{drifted:?}"
        );
    }

    const TWO_TARGETS: &str = r#"
[secrets.A]
value = "a"

[secrets.B]
value = "b"

[secrets.LONELY]
value = "l"

[variables.V]
value = "v"

[[targets]]
repo = "o/one"
secrets = ["A", "B"]
variables = ["V"]

[[targets]]
repo = "o/two"
secrets = ["B"]
"#;

    #[test]
    fn names_narrow_the_targets_and_variables_are_left_out() {
        let declared = crate::config::parsed(TWO_TARGETS);
        let all = narrowed(&declared, &[]).unwrap();
        assert_eq!(all.targets.len(), 2);
        assert!(all.targets.iter().all(|t| t.variables.is_empty()));
        let only_a = narrowed(&declared, &["a".into()]).unwrap();
        assert_eq!(only_a.targets.len(), 1);
        assert_eq!(only_a.targets[0].secrets, ["A"]);
        let left = without(all, &["B"].into());
        assert_eq!(left.targets.len(), 1);
        assert_eq!(left.targets[0].secrets, ["A"]);
    }

    #[test]
    fn an_unknown_name_is_a_clear_error() {
        let declared = crate::config::parsed(TWO_TARGETS);
        let err = narrowed(&declared, &["AA".into()]).unwrap_err();
        assert!(
            matches!(err, Error::Usage(UsageError::NotDeclared { .. })),
            "{err:?}"
        );
        let err = narrowed(&declared, &["V".into()]).unwrap_err();
        assert!(
            err.to_string().contains("variables need no adoption"),
            "{err}"
        );
        let err = narrowed(&declared, &["LONELY".into()]).unwrap_err();
        assert!(
            matches!(err, Error::Usage(UsageError::NotCarried { .. })),
            "{err:?}"
        );
    }
}
