//! The first steps, before the network: resolve every value the targets use (or take `rotate`'s
//! one new value), and check the values against their rules and the `[[checks]]`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use secrecy::SecretString;

use crate::checks;
use crate::config::{Config, Decl};
use crate::error::{Error, ValueError};
use crate::source::{self, PromptMode, Resolution, SourceKind};

use super::Command;

/// `rotate`'s secret and its new value: given to `run` by value, so the value's only copy goes
/// where every other value goes, and is dropped with them before the writes.
#[derive(Debug)]
pub struct RotatedSecret {
    pub name: String,
    pub value: SecretString,
    /// Where the value came from: a prompt, or standard input.
    pub kind: SourceKind,
}

/// A resolved value, or the knowledge that a prompt will give it on `apply`.
pub(super) struct Value {
    pub secret: Option<SecretString>,
    pub kind: SourceKind,
}

/// Every value the run uses, resolved and checked.
pub(super) struct Values {
    pub secrets: BTreeMap<String, Value>,
    pub variables: BTreeMap<String, Value>,
}

/// The config the run carries out, and its values. For `rotate`, the config is narrowed to the
/// targets that carry the secret, carrying only it.
pub(super) fn resolve(
    config: &Config,
    command: Command,
    prompts: PromptMode,
    rotated: Option<RotatedSecret>,
) -> Result<(Cow<'_, Config>, Values), Error> {
    let prompts = match command {
        Command::Apply => PromptMode::Ask,
        Command::Plan => prompts,
    };
    Ok(match rotated {
        None => (Cow::Borrowed(config), resolve_values(config, prompts)?),
        Some(rotated) => {
            let config = narrowed(config, &rotated.name);
            let value = Value {
                secret: Some(rotated.value),
                kind: rotated.kind,
            };
            let values = Values {
                secrets: [(rotated.name, value)].into(),
                variables: BTreeMap::new(),
            };
            (Cow::Owned(config), values)
        }
    })
}

/// The config as `rotate` sees it: only the targets that carry the secret, carrying only it.
fn narrowed(config: &Config, name: &str) -> Config {
    let mut config = config.clone();
    config
        .targets
        .retain(|t| t.secrets.iter().any(|s| s == name));
    for target in &mut config.targets {
        target.secrets = vec![name.to_string()];
        target.variables.clear();
    }
    config
}

/// Run the `[[checks]]` on the known secret values. Their report goes where the plan goes; with
/// JSON, to stderr, so stdout stays one document.
pub(super) fn check_values(
    config: &Config,
    values: &Values,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let known: BTreeMap<String, SecretString> = values
        .secrets
        .iter()
        .filter_map(|(name, v)| v.secret.clone().map(|s| (name.clone(), s)))
        .collect();
    let mut stderr = std::io::stderr();
    let sink: &mut dyn Write = if json { &mut stderr } else { out };
    checks::gate(config, &known, None, sink)
}

/// Resolve every value a target uses, and check it. Reports every bad value, not just the first.
fn resolve_values(config: &Config, prompts: PromptMode) -> Result<Values, Error> {
    let mut problems = Vec::new();
    let secrets = config.targets.iter().flat_map(|t| t.secrets.iter());
    let variables = config.targets.iter().flat_map(|t| t.variables.iter());
    let secrets = resolve_used(&config.secrets, secrets.collect(), prompts, &mut problems)?;
    let variables = resolve_used(
        &config.variables,
        variables.collect(),
        prompts,
        &mut problems,
    )?;
    ValueError::unless_none(problems)?;
    Ok(Values { secrets, variables })
}

/// Resolve the declared names in `used` (secrets or variables alike), adding what is wrong with
/// each value to `problems`.
fn resolve_used(
    declared: &BTreeMap<String, Decl>,
    used: BTreeSet<&String>,
    prompts: PromptMode,
    problems: &mut Vec<String>,
) -> Result<BTreeMap<String, Value>, Error> {
    let mut values = BTreeMap::new();
    for name in used {
        let decl = &declared[name];
        let value = match source::resolve(&decl.name, &decl.chain, prompts)? {
            Resolution::Value { value, kind } => {
                problems.extend(crate::config::value_problems(decl, &value));
                Value {
                    secret: Some(value),
                    kind,
                }
            }
            Resolution::Deferred => Value {
                secret: None,
                kind: SourceKind::Prompt,
            },
        };
        values.insert(name.clone(), value);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {

    use super::*;

    const TWO_TARGETS: &str = r#"
[secrets.A]
value = "a"

[secrets.B]
value = "b"

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

    fn config() -> Config {
        crate::config::parsed(TWO_TARGETS)
    }

    fn rotated(name: &str) -> RotatedSecret {
        RotatedSecret {
            name: name.into(),
            value: SecretString::from("new"),
            kind: SourceKind::Stdin,
        }
    }

    #[test]
    fn rotate_carries_its_secret_alone_to_the_targets_that_have_it() {
        let declared = config();
        let (config, values) = resolve(
            &declared,
            Command::Apply,
            PromptMode::Defer,
            Some(rotated("A")),
        )
        .unwrap();
        assert_eq!(config.targets.len(), 1);
        assert_eq!(config.targets[0].secrets, ["A"]);
        assert!(config.targets[0].variables.is_empty());
        assert_eq!(values.secrets.keys().collect::<Vec<_>>(), ["A"]);
        assert!(values.variables.is_empty());
    }

    #[test]
    fn every_used_value_is_resolved_once() {
        let declared = config();
        let (config, values) = resolve(&declared, Command::Plan, PromptMode::Defer, None).unwrap();
        assert!(matches!(config, Cow::Borrowed(_)));
        assert_eq!(values.secrets.keys().collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(values.variables.keys().collect::<Vec<_>>(), ["V"]);
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let text = r#"
[secrets.A]
value = ""

[variables.V]
value = ""

[[targets]]
repo = "o/one"
secrets = ["A"]
variables = ["V"]
"#;
        let declared = crate::config::parsed(text);
        match resolve(&declared, Command::Plan, PromptMode::Defer, None) {
            Err(Error::Value(ValueError::BrokenRules { problems })) => {
                assert_eq!(problems.len(), 2, "{problems:?}");
                assert!(problems[0].contains("`A` is empty"), "{problems:?}");
                assert!(problems[1].contains("`V` is empty"), "{problems:?}");
            }
            Err(other) => panic!("expected BrokenRules, got {other:?}"),
            Ok(_) => panic!("expected BrokenRules, got values"),
        }
    }
}
