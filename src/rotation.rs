//! `secretsync rotate`: the one command after a password change. It takes the new value as
//! `set` does (`crate::new_value`), tries the registry checks that use it, stores it, and applies
//! just that secret everywhere it goes.

use std::io::Write;

use secrecy::SecretString;

use crate::checks;
use crate::config::{Config, Decl};
use crate::error::{Error, UsageError};
use crate::new_value;
use crate::source::{Source, SourceKind};
use crate::state::StateDir;
use crate::sync::{self, RotatedSecret, RunOptions, RunOutcome};

/// What `rotate` needs besides the config.
pub struct Rotation<'a> {
    pub name: &'a str,
    pub stdin: bool,
    pub skip_checks: bool,
    pub options: RunOptions,
    pub state: &'a StateDir,
}

/// `secretsync rotate NAME`.
pub fn rotate(
    config: &Config,
    rotation: Rotation<'_>,
    out: &mut dyn Write,
) -> Result<RunOutcome, Error> {
    let decl = new_value::declared(config, rotation.name)?;
    if !config
        .targets
        .iter()
        .any(|t| t.secrets.contains(&decl.name))
    {
        return Err(UsageError::NotCarried {
            name: decl.name.clone(),
        }
        .into());
    }
    let value = new_value::read(decl, rotation.stdin)?;
    // With --json, stdout carries only the apply's document; what is said on the way goes to
    // stderr.
    let mut stderr = std::io::stderr();
    let notes: &mut dyn Write = if rotation.options.json {
        &mut stderr
    } else {
        &mut *out
    };
    if !rotation.skip_checks {
        let known = [(decl.name.clone(), value.clone())].into();
        checks::gate(config, &known, Some(&decl.name), notes)?;
    }
    store_or_warn(decl, &value, notes)?;
    let only = RotatedSecret {
        name: decl.name.clone(),
        value,
        kind: match rotation.stdin {
            true => SourceKind::Stdin,
            false => SourceKind::Prompt,
        },
    };
    sync::run(
        config,
        rotation.state,
        sync::Command::Apply,
        &rotation.options,
        Some(only),
        out,
    )
}

/// Store the value in the secret's keyring entry; without one, warn that the next apply would
/// write the old value back unless its real source changes too.
fn store_or_warn(decl: &Decl, value: &SecretString, notes: &mut dyn Write) -> Result<(), Error> {
    if let Some(entry) = new_value::keyring_of(decl) {
        return new_value::store(decl, entry, value, notes);
    }
    let sources: Vec<String> = decl.chain.iter().map(describe).collect();
    writeln!(
        notes,
        "warning: `{}` comes from {}, which rotate cannot update; change it there too, or the next apply writes the old value back",
        decl.name,
        sources.join(", then ")
    )?;
    Ok(())
}

/// A source, named without its value.
fn describe(source: &Source) -> String {
    match source {
        Source::Env(var) => format!("env `{var}`"),
        Source::File(path) => format!("file `{}`", path.display()),
        Source::Command(command) => format!("command `{}`", command.program()),
        Source::Dotenv { path, key } => format!("dotenv `{}` key `{key}`", path.display()),
        other => other.kind().as_str().to_string(),
    }
}

#[cfg(test)]
mod tests {

    use crate::error::UsageError;
    use crate::github::Pacing;
    use crate::source::PromptMode;

    use super::*;

    #[test]
    fn a_secret_no_target_carries_is_refused_before_its_value_is_asked() {
        let text = r#"
[secrets.A]
value = "a"

[secrets.LONELY]
from = [{ keyring = { service = "secretsync", user = "lonely" } }]

[[targets]]
repo = "o/one"
secrets = ["A"]
"#;
        let config = crate::config::parsed(text);
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::locate(Some(dir.path()), None, None).unwrap();
        let rotation = Rotation {
            name: "lonely",
            stdin: false,
            skip_checks: false,
            options: RunOptions {
                prune: false,
                json: false,
                prompts: PromptMode::Ask,
                yes: true,
                style: Default::default(),
                pacing: Pacing::default(),
                progress: false,
                skip_checks: false,
                http_cache: false,
            },
            state: &state,
        };
        let mut out = Vec::new();
        let got = rotate(&config, rotation, &mut out);
        assert!(
            matches!(&got, Err(Error::Usage(UsageError::NotCarried { name })) if name == "LONELY"),
            "{:?}",
            got.err()
        );
        assert!(out.is_empty());
    }
}
