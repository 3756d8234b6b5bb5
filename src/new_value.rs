//! A declared secret's new value: find the secret (or suggest the nearest name), take the value
//! hidden and confirmed or from a pipe (never from argv), check its rules, and store it in the
//! secret's keyring source. `secretsync set` is exactly this; `crate::rotation` builds on it.

use std::io::{Read, Write};

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::config::{self, Config, Decl};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::source::{self, Source};

/// The declared secret, or a clear error with the nearest name.
pub fn declared<'a>(config: &'a Config, name: &str) -> Result<&'a Decl, Error> {
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
pub fn read(decl: &Decl, stdin: bool) -> Result<SecretString, Error> {
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
    let value = read(decl, stdin)?;
    store(decl, (service, user), &value, out)?;
    Ok(ExitStatus::Success)
}
