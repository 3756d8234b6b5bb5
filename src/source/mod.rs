//! Where values come from: environment variables, the OS keyring, a hidden prompt, a literal, a
//! file, a key of a `.env` file or a command. This is the only module that reads secret values,
//! and it hands each one out wrapped in a `SecretString` at once.

mod command;
mod dotenv;
mod error;
mod file;
mod keyring;
mod prompt;
#[cfg(test)]
mod tests;
mod token;

use std::ffi::OsString;
use std::path::PathBuf;

use secrecy::SecretString;
use zeroize::Zeroizing;

pub use command::{leave_signals_to_caller, parse_timeout, CommandSource, DEFAULT_TIMEOUT};
pub use dotenv::keys as dotenv_keys;
pub use error::SourceError;
pub use keyring::store_in_keyring;
pub use prompt::from_prompt;
pub use token::{resolve_token, Token};

use command::from_command;
use dotenv::from_dotenv;
use file::from_file;
use keyring::{from_keyring, offer_to_remember};

/// One place a value may come from. A secret declares a chain of these; the first that has a
/// value wins.
#[derive(Clone, PartialEq, Eq)]
pub enum Source {
    /// `env = "VAR"`
    Env(String),
    /// `keyring = { service = "...", user = "..." }`
    Keyring { service: String, user: String },
    /// `prompt = "Label"`, optionally `confirm = true`, and `remember = true` to offer storing
    /// the typed value in the chain's keyring source.
    Prompt {
        label: String,
        confirm: bool,
        remember: bool,
    },
    /// `value = "literal"`: meant for non-sensitive values, but still never printed.
    Value(String),
    /// `file = "path"`, already made absolute against the config file's folder.
    File(PathBuf),
    /// `command = ["prog", "arg"]`, optionally `timeout = "30s"`
    Command(CommandSource),
    /// `dotenv = { file = ".env", key = "NAME" }`: the file made absolute like `file`'s, the key
    /// defaulted to the declaration's name.
    Dotenv { path: PathBuf, key: String },
}

/// The kind of a source, as shown in plans and JSON (`env`, `keyring`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    Env,
    Keyring,
    Prompt,
    Value,
    File,
    Command,
    Dotenv,
    /// Piped in: `rotate --stdin`, never a config source.
    Stdin,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Env => "env",
            SourceKind::Keyring => "keyring",
            SourceKind::Prompt => "prompt",
            SourceKind::Value => "value",
            SourceKind::File => "file",
            SourceKind::Command => "command",
            SourceKind::Dotenv => "dotenv",
            SourceKind::Stdin => "stdin",
        }
    }
}

impl Source {
    pub fn kind(&self) -> SourceKind {
        match self {
            Source::Env(_) => SourceKind::Env,
            Source::Keyring { .. } => SourceKind::Keyring,
            Source::Prompt { .. } => SourceKind::Prompt,
            Source::Value(_) => SourceKind::Value,
            Source::File(_) => SourceKind::File,
            Source::Command(_) => SourceKind::Command,
            Source::Dotenv { .. } => SourceKind::Dotenv,
        }
    }
}

// A literal may still be sensitive to someone, so Debug names the place, never the literal.
impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Env(var) => write!(f, "Env({var:?})"),
            Source::Keyring { service, user } => write!(f, "Keyring({service:?}, {user:?})"),
            Source::Prompt {
                label,
                confirm,
                remember,
            } => write!(
                f,
                "Prompt({label:?}, confirm={confirm}, remember={remember})"
            ),
            Source::Value(_) => write!(f, "Value([REDACTED])"),
            Source::File(path) => write!(f, "File({path:?})"),
            Source::Command(command) => write!(
                f,
                "Command({:?}, timeout={:?})",
                command.argv, command.timeout
            ),
            Source::Dotenv { path, key } => write!(f, "Dotenv({path:?}, {key:?})"),
        }
    }
}

/// Whether a `prompt` source may ask now (`apply`, `plan --interactive`) or must be deferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptMode {
    Ask,
    Defer,
}

/// What resolving a chain gave. `Debug` is safe: `SecretString` prints `[REDACTED]`.
#[derive(Debug)]
pub enum Resolution {
    Value {
        value: SecretString,
        kind: SourceKind,
    },
    /// The chain reached a prompt while prompts are deferred: the value is unknown until `apply`.
    Deferred,
}

/// GitHub's limit on a secret's plaintext: 48 KB. Sources stop reading a little past it, and the
/// value rules report a value over it.
pub const MAX_VALUE_BYTES: usize = 48 * 1024;

/// How the GitHub token is named in error messages.
const TOKEN_NAME: &str = "[github] token";
const CONFIRM_ATTEMPTS: usize = 3;
const STDERR_MAX_LINES: usize = 3;
const STDERR_MAX_CHARS: usize = 300;

/// Looks up an environment variable; tests pass a fake so they never depend on the real env.
type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

fn process_env(var: &str) -> Option<OsString> {
    std::env::var_os(var)
}

/// What one source gave.
enum Outcome {
    Value(SecretString),
    /// Nothing here; the text says what was tried, for the "no value" message.
    Nothing(String),
    Deferred,
}

/// Resolve one secret's chain. `secret` is the secret's name, used only in messages.
pub fn resolve(
    secret: &str,
    chain: &[Source],
    prompts: PromptMode,
) -> Result<Resolution, SourceError> {
    resolve_with(secret, chain, prompts, &process_env)
}

fn resolve_with(
    secret: &str,
    chain: &[Source],
    prompts: PromptMode,
    env: EnvLookup,
) -> Result<Resolution, SourceError> {
    let mut tried = Vec::new();
    for (index, source) in chain.iter().enumerate() {
        let outcome = match resolve_one(secret, source, prompts, env) {
            // Headless machines (SSH, containers) have no Secret Service; the rest of the chain
            // may still have the value. The keyring as the chain's last hope stays an error.
            Err(SourceError::KeyringUnavailable { detail, .. }) if index + 1 < chain.len() => {
                note_unreachable_keyring(secret, &detail);
                Outcome::Nothing("keyring not reachable over D-Bus".to_owned())
            }
            other => other?,
        };
        match outcome {
            Outcome::Value(value) => {
                let kind = source.kind();
                tracing::debug!(secret, source = kind.as_str(), "value found");
                if matches!(source, Source::Prompt { remember: true, .. }) {
                    offer_to_remember(secret, chain, &value)?;
                }
                return Ok(Resolution::Value { value, kind });
            }
            Outcome::Deferred => return Ok(Resolution::Deferred),
            Outcome::Nothing(why) => {
                tracing::debug!(secret, "{why}");
                tried.push(why);
            }
        }
    }
    Err(SourceError::NoValue {
        secret: secret.to_owned(),
        tried: tried.join(", "),
    })
}

/// Says once per run, on stderr, that chains skip the keyring.
fn note_unreachable_keyring(secret: &str, detail: &str) {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        eprintln!(
            "note: the keyring is not reachable ({detail}); `{secret}` and other secrets use the next source in their `from` chain"
        );
    });
}

fn resolve_one(
    secret: &str,
    source: &Source,
    prompts: PromptMode,
    env: EnvLookup,
) -> Result<Outcome, SourceError> {
    match source {
        Source::Env(var) => from_env(secret, var, env),
        Source::Keyring { service, user } => from_keyring(secret, service, user),
        Source::Prompt { label, confirm, .. } => match prompts {
            PromptMode::Defer => Ok(Outcome::Deferred),
            PromptMode::Ask => from_prompt(secret, label, *confirm).map(Outcome::Value),
        },
        Source::Value(literal) => Ok(Outcome::Value(SecretString::from(literal.as_str()))),
        Source::File(path) => from_file(secret, path),
        Source::Command(command) => from_command(secret, command),
        Source::Dotenv { path, key } => from_dotenv(secret, path, key),
    }
}

fn from_env(secret: &str, var: &str, env: EnvLookup) -> Result<Outcome, SourceError> {
    let Some(raw) = env(var) else {
        return Ok(Outcome::Nothing(format!("env `{var}` unset")));
    };
    let bytes = Zeroizing::new(raw.into_encoded_bytes());
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Outcome::Value(SecretString::from(text))),
        Err(_) => Err(SourceError::EnvNotUtf8 {
            secret: secret.to_owned(),
            var: var.to_owned(),
        }),
    }
}

fn one_line(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A value read whole (a file, a command's output, a pipe) without the one newline that ends it.
pub(crate) fn strip_newline(text: &str) -> &str {
    text.strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text)
}

fn strip_newline_bytes(bytes: &[u8]) -> &[u8] {
    bytes
        .strip_suffix(b"\r\n")
        .or_else(|| bytes.strip_suffix(b"\n"))
        .unwrap_or(bytes)
}

/// Makes the keyring mock the default store, once per test process. Tests that touch the keyring
/// must share this one store: replacing the default while another test runs wipes its entries.
#[cfg(test)]
pub(crate) fn use_mock_keyring() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let store = keyring_core::mock::Store::new().expect("mock store");
        keyring_core::set_default_store(store);
    });
}
