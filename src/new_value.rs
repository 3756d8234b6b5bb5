//! A declared secret's new value: find the secret (or suggest the nearest name), take the value
//! hidden and confirmed or from a pipe (never from argv), check its rules, and store it in the
//! secret's keyring source. `secretsync set` is exactly this; `secretsync rotate` builds on it.

use std::io::{Read, Write};

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::config::{self, Config, Decl, Store};
use crate::error::{Error, LocalError, UsageError, ValueError};
use crate::exit::ExitStatus;
use crate::shared_state;
use crate::source::{self, Source};

/// The declared secret, or a clear error with the nearest name.
pub fn declared<'a>(config: &'a Config, name: &str) -> Result<&'a Decl, Error> {
    let upper = name.to_ascii_uppercase();
    config.secrets.get(&upper).ok_or_else(|| {
        let nearest = config::nearest(&upper, config.secrets.keys().map(String::as_str));
        UsageError::NotDeclared {
            name: name.to_owned(),
            config: config.path.clone(),
            nearest: nearest.map(str::to_owned),
        }
        .into()
    })
}

/// The new value: from standard input (one trailing newline stripped), or asked twice, hidden;
/// checked against the secret's rules.
pub fn read(decl: &Decl, stdin: bool) -> Result<SecretString, Error> {
    let value = match stdin {
        true => from_stdin(decl)?,
        false => from_prompt(decl)?,
    };
    ValueError::unless_none(config::value_problems(decl, &value))?;
    Ok(value)
}

fn from_stdin(decl: &Decl) -> Result<SecretString, Error> {
    let mut bytes = Zeroizing::new(Vec::new());
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|error| LocalError::StdinUnreadable { error })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| ValueError::StdinNotUtf8 {
        name: decl.name.clone(),
    })?;
    Ok(SecretString::from(source::strip_newline(text)))
}

fn from_prompt(decl: &Decl) -> Result<SecretString, Error> {
    let question = format!("New value for {}", decl.name);
    source::from_prompt(&decl.name, &question, true).map_err(|e| match e {
        source::SourceError::NoTerminal { .. } => UsageError::NoTerminalFor {
            name: decl.name.clone(),
        }
        .into(),
        other => Error::from(other),
    })
}

/// The keyring entry a secret's chain reads, if any.
pub fn keyring_of(decl: &Decl) -> Option<(&str, &str)> {
    decl.chain.iter().find_map(|s| match s {
        Source::Keyring { service, user } => Some((service.as_str(), user.as_str())),
        _ => None,
    })
}

/// Warn when a source before the keyring has a value, so the keyring would not be read.
fn warn_if_shadowed(decl: &Decl, out: &mut dyn Write) -> Result<(), Error> {
    for source in &decl.chain {
        match source {
            Source::Keyring { .. } => return Ok(()),
            Source::Env(var) if std::env::var_os(var).is_some() => {
                writeln!(
                    out,
                    "warning: env `{var}` is set and comes before the keyring in `{}`'s chain; update it too, or the next apply sends its value",
                    decl.name
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Store the value in the keyring entry, say so, and warn if an earlier source shadows it.
pub fn store(
    decl: &Decl,
    (service, user): (&str, &str),
    value: &SecretString,
    out: &mut dyn Write,
) -> Result<(), Error> {
    source::store_in_keyring(&decl.name, service, user, value)?;
    writeln!(
        out,
        "stored `{}` in the keyring (service `{service}`, user `{user}`)",
        decl.name
    )?;
    warn_if_shadowed(decl, out)
}

/// The `[state] key` declaration, for `secretsync set --state-key`.
pub fn state_key(config: &Config) -> Result<&Decl, Error> {
    match &config.store {
        Store::Github { key } => Ok(key),
        Store::Local => Err(UsageError::NoStateKey {
            config: config.path.clone(),
        }
        .into()),
    }
}

/// `secretsync set NAME`: take the value and store it in the secret's keyring source.
pub fn set(decl: &Decl, stdin: bool, out: &mut dyn Write) -> Result<ExitStatus, Error> {
    set_checked(decl, stdin, out, |_| Ok(()))
}

/// `secretsync set --state-key`: the same for the team key, which must be long enough to be one.
pub fn set_state_key(
    config: &Config,
    stdin: bool,
    out: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let decl = state_key(config)?;
    set_checked(decl, stdin, out, |value| {
        shared_state::key_from(value)?;
        Ok(())
    })
}

/// Find the keyring source, take the value, `check` it, store it.
fn set_checked(
    decl: &Decl,
    stdin: bool,
    out: &mut dyn Write,
    check: impl FnOnce(&SecretString) -> Result<(), Error>,
) -> Result<ExitStatus, Error> {
    let Some((service, user)) = keyring_of(decl) else {
        return Err(UsageError::NoKeyringSource {
            name: decl.name.clone(),
        }
        .into());
    };
    let value = read(decl, stdin)?;
    check(&value)?;
    store(decl, (service, user), &value, out)?;
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const CONFIG: &str = r#"
[secrets.DB_PASSWORD]
from = [{ keyring = { service = "secretsync", user = "db" } }]

[secrets.API_TOKEN]
from = [{ env = "API_TOKEN" }]

[[targets]]
repo = "o/one"
secrets = ["DB_PASSWORD", "API_TOKEN"]
"#;

    fn config() -> Config {
        config::parsed(CONFIG)
    }

    #[test]
    fn declared_finds_any_case_and_suggests_the_nearest_name() {
        let config = config();
        assert_eq!(
            declared(&config, "db_password").unwrap().name,
            "DB_PASSWORD"
        );
        match declared(&config, "DB_PASWORD") {
            Err(Error::Usage(UsageError::NotDeclared {
                name,
                config,
                nearest,
            })) => {
                assert_eq!(name, "DB_PASWORD");
                assert_eq!(config, Path::new("t.toml"));
                assert_eq!(nearest.as_deref(), Some("DB_PASSWORD"));
            }
            other => panic!("expected NotDeclared, got {other:?}"),
        }
        assert!(matches!(
            declared(&config, "QQQQQQQQQQQQ"),
            Err(Error::Usage(UsageError::NotDeclared { nearest: None, .. }))
        ));
    }

    #[test]
    fn set_without_a_keyring_source_says_so_before_asking() {
        let mut out = Vec::new();
        let config = config();
        let got = set(declared(&config, "API_TOKEN").unwrap(), false, &mut out);
        assert!(
            matches!(&got, Err(Error::Usage(UsageError::NoKeyringSource { name })) if name == "API_TOKEN"),
            "{got:?}"
        );
        assert!(out.is_empty());
    }

    #[test]
    fn the_state_key_is_there_only_with_a_shared_store() {
        assert!(matches!(
            state_key(&config()),
            Err(Error::Usage(UsageError::NoStateKey { .. }))
        ));
        let shared = format!(
            "[state]\nstore = \"github\"\nkey = {{ keyring = {{ service = \"s\", user = \"team\" }} }}\n{CONFIG}"
        );
        let config = crate::config::parse(&shared, Path::new("c.toml"), Path::new(".")).unwrap();
        let decl = state_key(&config).unwrap();
        assert_eq!(keyring_of(decl), Some(("s", "team")));
    }
}
