//! `secretsync set` and `secretsync rotate`: take a new value (hidden and confirmed, or from a
//! pipe; never from argv), check its rules, and store it in the secret's keyring source; `rotate`
//! then tries the registry checks that use it and applies just that secret everywhere it goes.

use std::io::{Read, Write};

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::checks;
use crate::config::{self, Config, Decl};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::source::{self, Source, SourceKind};

/// The declared secret, or a clear error with the nearest name.
fn declared<'a>(config: &'a Config, name: &str) -> Result<&'a Decl, Error> {
    let upper = name.to_ascii_uppercase();
    config.secrets.get(&upper).ok_or_else(|| {
        let hint = match config::nearest(&upper, config.secrets.keys().map(String::as_str)) {
            Some(best) => format!("did you mean `{best}`?"),
            None => "declare it under `[secrets.*]` first".into(),
        };
        Error::Usage(format!(
            "`{name}` is not a declared secret in `{}`; {hint}",
            config.path.display()
        ))
    })
}

/// The new value: from standard input (one trailing newline stripped), or asked twice, hidden.
fn new_value(decl: &Decl, stdin: bool) -> Result<SecretString, Error> {
    let value = if stdin {
        let mut bytes = Zeroizing::new(Vec::new());
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Usage(format!("cannot read the value from standard input: {e}")))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            Error::Value(format!(
                "the value for `{}` on standard input is not UTF-8; pass the value as UTF-8 text",
                decl.name
            ))
        })?;
        let text = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(text);
        SecretString::from(text)
    } else {
        source::from_prompt(&decl.name, &format!("New value for {}", decl.name), true).map_err(
            |e| match e {
                source::SourceError::NoTerminal { .. } => Error::Usage(format!(
                    "no terminal to ask for `{}`; pass the value on standard input with --stdin",
                    decl.name
                )),
                other => other.into(),
            },
        )?
    };
    let problems = config::value_problems(decl, &value);
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(Error::Value(problems.join("\nerror: ")))
    }
}

/// The keyring entry a secret's chain reads, if any.
fn keyring_of(decl: &Decl) -> Option<(&str, &str)> {
    decl.chain.iter().find_map(|s| match s {
        Source::Keyring { service, user } => Some((service.as_str(), user.as_str())),
        _ => None,
    })
}

/// A source, named without its value.
fn describe(source: &Source) -> String {
    match source {
        Source::Env(var) => format!("env `{var}`"),
        Source::File(path) => format!("file `{}`", path.display()),
        Source::Command(command) => format!("command `{}`", command.program()),
        other => other.kind().as_str().to_string(),
    }
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
fn store(
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

/// `secretsync set NAME`.
pub fn set(
    config: &Config,
    name: &str,
    stdin: bool,
    out: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let decl = declared(config, name)?;
    let Some((service, user)) = keyring_of(decl) else {
        return Err(Error::Usage(format!(
            "`{}` has no keyring source to store into; add `{{ keyring = {{ service = \"secretsync\", user = \"...\" }} }}` to its `from` chain",
            decl.name
        )));
    };
    let value = new_value(decl, stdin)?;
    store(decl, (service, user), &value, out)?;
    Ok(ExitStatus::Success)
}

/// What `rotate` needs besides the config.
pub struct Rotation<'a> {
    pub name: &'a str,
    pub stdin: bool,
    pub skip_checks: bool,
    pub options: crate::sync::RunOptions,
    pub state: &'a crate::state::StateDir,
}

/// `secretsync rotate NAME`: the one command after a password change.
pub fn rotate(
    config: &Config,
    rotation: Rotation<'_>,
    out: &mut dyn Write,
) -> Result<crate::sync::RunOutcome, Error> {
    let decl = declared(config, rotation.name)?;
    if !config
        .targets
        .iter()
        .any(|t| t.secrets.contains(&decl.name))
    {
        return Err(Error::Usage(format!(
            "no target carries `{}`; add it to a target's `secrets`",
            decl.name
        )));
    }
    let value = new_value(decl, rotation.stdin)?;
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
    match keyring_of(decl) {
        Some(entry) => store(decl, entry, &value, notes)?,
        None => {
            let sources: Vec<String> = decl.chain.iter().map(describe).collect();
            writeln!(
                notes,
                "warning: `{}` comes from {}, which rotate cannot update; change it there too, or the next apply writes the old value back",
                decl.name,
                sources.join(", then ")
            )?;
        }
    }
    let only = crate::sync::RotatedSecret {
        name: decl.name.clone(),
        value,
        kind: match rotation.stdin {
            true => SourceKind::Stdin,
            false => SourceKind::Prompt,
        },
    };
    crate::sync::run(
        config,
        rotation.state,
        crate::sync::Command::Apply,
        &rotation.options,
        Some(only),
        out,
    )
}
