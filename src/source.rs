//! Where values come from: environment variables, the OS keyring, a hidden prompt, a literal, a
//! file or a command. This is the only module that reads secret values, and it hands each one out
//! wrapped in a `SecretString` at once.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};

use secrecy::{ExposeSecret as _, SecretString};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

/// One place a value may come from. A secret declares a chain of these; the first that has a
/// value wins.
#[derive(Clone, PartialEq, Eq)]
pub enum Source {
    /// `env = "VAR"`
    Env(String),
    /// `keyring = { service = "...", user = "..." }`
    Keyring { service: String, user: String },
    /// `prompt = "Label"`, optionally `confirm = true`
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
    /// `command = ["prog", "arg"]`
    Command(Vec<String>),
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
            Source::Command(argv) => write!(f, "Command({argv:?})"),
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

/// How the GitHub token is named in error messages.
const TOKEN_NAME: &str = "[github] token";
const CONFIRM_ATTEMPTS: usize = 3;
const STDERR_MAX_LINES: usize = 3;
const STDERR_MAX_CHARS: usize = 300;

/// Why a value could not be had. No variant holds a value, so Display and Debug are safe to show.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("no value for `{secret}` ({}); provide one of these or add a `prompt` to its `from` chain", or_nothing(.tried))]
    NoValue { secret: String, tried: String },
    #[error("no GitHub token ({tried}); set GH_TOKEN, run `gh auth login`, or set `[github] token = {{ env = \"VAR\" }}` in the config")]
    NoToken { tried: String },
    #[error("the GitHub token from {origin} contains spaces, line breaks or non-ASCII characters; set it to the token alone")]
    TokenInvalid { origin: String },
    #[error("the GitHub token from {origin} is empty; set it to a token, or remove it so GH_TOKEN or `gh auth token` is used")]
    TokenEmpty { origin: String },
    #[error("env `{var}` for `{secret}` is not valid UTF-8; set it to text")]
    EnvNotUtf8 { secret: String, var: String },
    #[error("cannot read `{secret}` from the keyring: the Secret Service over D-Bus is not reachable ({detail}); start a keyring (a desktop session, or gnome-keyring-daemon), or put a source that has the value, such as `env = ...`, before the keyring in its `from` chain")]
    KeyringUnavailable { secret: String, detail: String },
    #[error("cannot store `{secret}` in the keyring: the Secret Service over D-Bus is not reachable ({detail}); start a keyring (a desktop session, or gnome-keyring-daemon) and run it again")]
    KeyringStoreUnavailable { secret: String, detail: String },
    #[error("keyring is locked or access was refused for `{secret}` (service `{service}`, user `{user}`): {detail}; unlock the keyring and retry")]
    KeyringLocked {
        secret: String,
        service: String,
        user: String,
        detail: String,
    },
    #[error("keyring entry for `{secret}` (service `{service}`, user `{user}`) is not UTF-8; store it again as text")]
    KeyringNotUtf8 {
        secret: String,
        service: String,
        user: String,
    },
    #[error("keyring error for `{secret}` (service `{service}`, user `{user}`): {detail}; check the keyring, or provide it with `env = ...`")]
    Keyring {
        secret: String,
        service: String,
        user: String,
        detail: String,
    },
    #[error("no terminal to prompt for `{secret}`; provide it with `env = ...` or `keyring = ...` in its `from` chain")]
    NoTerminal { secret: String },
    #[error(
        "cannot read `{secret}` from the terminal: {detail}; retry, or provide it with `env = ...`"
    )]
    PromptFailed { secret: String, detail: String },
    #[error("values for `{secret}` did not match {CONFIRM_ATTEMPTS} times; run again and type the same value twice")]
    ConfirmMismatch { secret: String },
    #[error("cannot read file `{}` for `{secret}`: {detail}; check the path and its permissions", .path.display())]
    FileRead {
        secret: String,
        path: PathBuf,
        detail: String,
    },
    #[error("file `{}` for `{secret}` is not UTF-8; store the value as text", .path.display())]
    FileNotUtf8 { secret: String, path: PathBuf },
    #[error("`{secret}` has an empty `command`; give the program and its arguments")]
    CommandEmpty { secret: String },
    #[error(
        "cannot run `{program}` for `{secret}`: {detail}; check that it is installed and on PATH"
    )]
    CommandSpawn {
        secret: String,
        program: String,
        detail: String,
    },
    #[error("command `{program}` for `{secret}` failed ({status}){}; run it yourself to see why", colon_prefixed(.stderr))]
    CommandFailed {
        secret: String,
        program: String,
        status: String,
        /// The tail of the command's stderr, on one line.
        stderr: String,
    },
    #[error("output of `{program}` for `{secret}` is not UTF-8; make it print the value as text")]
    CommandNotUtf8 { secret: String, program: String },
}

fn or_nothing(tried: &str) -> &str {
    if tried.is_empty() {
        "its `from` chain is empty"
    } else {
        tried
    }
}

fn colon_prefixed(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

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
    for source in chain {
        match resolve_one(secret, source, prompts, env)? {
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
        Source::Command(argv) => from_command(secret, argv),
    }
}

/// After a prompt with `remember = true`: offer to store the typed value in the chain's keyring
/// source, so the next run finds it there.
fn offer_to_remember(
    secret: &str,
    chain: &[Source],
    value: &SecretString,
) -> Result<(), SourceError> {
    let Some(Source::Keyring { service, user }) =
        chain.iter().find(|s| matches!(s, Source::Keyring { .. }))
    else {
        return Ok(());
    };
    let question =
        format!("Store `{secret}` in the keyring (service `{service}`, user `{user}`)? [y/N] ");
    let Ok(answer) = ask_tty(&question) else {
        return Ok(());
    };
    if matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
        store_in_keyring(secret, service, user, value)?;
    }
    Ok(())
}

/// Ask a visible question on the terminal and read one line.
fn ask_tty(question: &str) -> io::Result<String> {
    let mut tty = OpenOptions::new().read(true).write(true).open("/dev/tty")?;
    write!(tty, "{question}")?;
    tty.flush()?;
    let mut answer = String::new();
    io::BufRead::read_line(&mut io::BufReader::new(tty), &mut answer)?;
    Ok(answer)
}

/// Store a value in the OS keyring, as `secretsync set` and a remembered prompt do.
pub fn store_in_keyring(
    secret: &str,
    service: &str,
    user: &str,
    value: &SecretString,
) -> Result<(), SourceError> {
    ensure_default_store().map_err(|detail| SourceError::KeyringStoreUnavailable {
        secret: secret.to_owned(),
        detail,
    })?;
    let stored = keyring_core::Entry::new(service, user)
        .and_then(|entry| entry.set_password(value.expose_secret()));
    match stored {
        Ok(()) => {
            tracing::info!(secret, service, user, "stored in the keyring");
            Ok(())
        }
        Err(keyring_core::Error::NoStorageAccess(platform)) => Err(SourceError::KeyringLocked {
            secret: secret.to_owned(),
            service: service.to_owned(),
            user: user.to_owned(),
            detail: one_line(&platform.to_string()),
        }),
        Err(other) => Err(SourceError::Keyring {
            secret: secret.to_owned(),
            service: service.to_owned(),
            user: user.to_owned(),
            detail: describe_keyring_error(other),
        }),
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

fn from_keyring(secret: &str, service: &str, user: &str) -> Result<Outcome, SourceError> {
    ensure_default_store().map_err(|detail| SourceError::KeyringUnavailable {
        secret: secret.to_owned(),
        detail,
    })?;
    let found = keyring_core::Entry::new(service, user).and_then(|entry| entry.get_password());
    let error = match found {
        Ok(password) => {
            let password = Zeroizing::new(password);
            return Ok(Outcome::Value(SecretString::from(password.as_str())));
        }
        Err(keyring_core::Error::NoEntry) => {
            return Ok(Outcome::Nothing(format!(
                "no keyring entry for service `{service}`, user `{user}`"
            )));
        }
        Err(error) => error,
    };
    let (secret, service, user) = (secret.to_owned(), service.to_owned(), user.to_owned());
    Err(match error {
        keyring_core::Error::NoStorageAccess(platform) => SourceError::KeyringLocked {
            secret,
            service,
            user,
            detail: one_line(&platform.to_string()),
        },
        keyring_core::Error::BadEncoding(bytes) => {
            drop(Zeroizing::new(bytes));
            SourceError::KeyringNotUtf8 {
                secret,
                service,
                user,
            }
        }
        other => SourceError::Keyring {
            secret,
            service,
            user,
            detail: describe_keyring_error(other),
        },
    })
}

/// A message for a keyring error that never includes the bytes some variants carry: their
/// `Debug`, and `Display` of `Ambiguous`, can show stored secrets.
fn describe_keyring_error(error: keyring_core::Error) -> String {
    use keyring_core::Error as E;
    match error {
        E::PlatformFailure(platform) => one_line(&platform.to_string()),
        E::NoStorageAccess(platform) => {
            format!(
                "locked or access refused: {}",
                one_line(&platform.to_string())
            )
        }
        E::NoEntry => "no entry".to_owned(),
        E::BadEncoding(bytes) => {
            drop(Zeroizing::new(bytes));
            "the stored value is not UTF-8".to_owned()
        }
        E::BadDataFormat(bytes, _) => {
            drop(Zeroizing::new(bytes));
            "the stored data is malformed".to_owned()
        }
        E::BadStoreFormat(_) => "the keyring's own data is malformed".to_owned(),
        E::TooLong(attribute, limit) => {
            format!("`{attribute}` is longer than the keyring's limit of {limit}")
        }
        E::Invalid(attribute, reason) => one_line(&format!("`{attribute}` is invalid: {reason}")),
        E::Ambiguous(entries) => format!("{} keyring entries match", entries.len()),
        E::NoDefaultStore => "no keyring store is set up".to_owned(),
        E::NotSupportedByStore(what) => one_line(&format!("not supported: {what}")),
        _ => "unexpected keyring error".to_owned(),
    }
}

/// Sets the Secret Service store as the default on first use. Leaves an existing default (a test's
/// mock) alone, and remembers a failure so later secrets do not retry D-Bus.
fn ensure_default_store() -> Result<(), String> {
    static FAILURE: Mutex<Option<String>> = Mutex::new(None);
    let mut failure = FAILURE.lock().unwrap_or_else(PoisonError::into_inner);
    if keyring_core::get_default_store().is_some() {
        return Ok(());
    }
    if let Some(message) = failure.as_ref() {
        return Err(message.clone());
    }
    match zbus_secret_service_keyring_store::Store::new() {
        Ok(store) => {
            keyring_core::set_default_store(store);
            Ok(())
        }
        Err(error) => {
            let message = describe_keyring_error(error);
            *failure = Some(message.clone());
            Err(message)
        }
    }
}

/// Ask for a value on the terminal, hidden (and twice with `confirm`).
pub fn from_prompt(secret: &str, label: &str, confirm: bool) -> Result<SecretString, SourceError> {
    let mut tty = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| SourceError::NoTerminal {
            secret: secret.to_owned(),
        })?;
    ask(
        secret,
        label,
        confirm,
        |prompt| rpassword::prompt_password(prompt).map(Zeroizing::new),
        |message| {
            // A failed write to the terminal only loses the hint; the retry still happens.
            let _ = writeln!(tty, "{message}");
        },
    )
}

/// The prompt dialogue, apart from the terminal so tests can drive it.
fn ask(
    secret: &str,
    label: &str,
    confirm: bool,
    mut read: impl FnMut(&str) -> io::Result<Zeroizing<String>>,
    mut say: impl FnMut(&str),
) -> Result<SecretString, SourceError> {
    let failed = |error: io::Error| SourceError::PromptFailed {
        secret: secret.to_owned(),
        detail: one_line(&error.to_string()),
    };
    for attempt in 1..=CONFIRM_ATTEMPTS {
        let first = read(&format!("{label}: ")).map_err(failed)?;
        if !confirm {
            return Ok(SecretString::from(first.as_str()));
        }
        let second = read(&format!("Confirm {label}: ")).map_err(failed)?;
        if bool::from(first.as_bytes().ct_eq(second.as_bytes())) {
            return Ok(SecretString::from(first.as_str()));
        }
        if attempt < CONFIRM_ATTEMPTS {
            say("values did not match, try again");
        }
    }
    Err(SourceError::ConfirmMismatch {
        secret: secret.to_owned(),
    })
}

fn from_file(secret: &str, path: &Path) -> Result<Outcome, SourceError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Ok(Outcome::Nothing(format!("no file `{}`", path.display())));
        }
        Err(error) => {
            return Err(SourceError::FileRead {
                secret: secret.to_owned(),
                path: path.to_owned(),
                detail: one_line(&error.to_string()),
            });
        }
    };
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Outcome::Value(SecretString::from(strip_newline(text)))),
        Err(_) => Err(SourceError::FileNotUtf8 {
            secret: secret.to_owned(),
            path: path.to_owned(),
        }),
    }
}

fn from_command(secret: &str, argv: &[String]) -> Result<Outcome, SourceError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(SourceError::CommandEmpty {
            secret: secret.to_owned(),
        });
    };
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| SourceError::CommandSpawn {
            secret: secret.to_owned(),
            program: program.clone(),
            detail: one_line(&error.to_string()),
        })?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        return Err(SourceError::CommandFailed {
            secret: secret.to_owned(),
            program: program.clone(),
            status: output.status.to_string(),
            stderr: stderr_tail(&output.stderr),
        });
    }
    match std::str::from_utf8(&stdout) {
        Ok(text) => Ok(Outcome::Value(SecretString::from(strip_newline(text)))),
        Err(_) => Err(SourceError::CommandNotUtf8 {
            secret: secret.to_owned(),
            program: program.clone(),
        }),
    }
}

/// The last few lines of a command's stderr, on one line and short enough for a message.
fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(STDERR_MAX_LINES)..].join(" / ");
    let tail = one_line(&tail);
    let count = tail.chars().count();
    if count <= STDERR_MAX_CHARS {
        tail
    } else {
        let kept: String = tail.chars().skip(count - STDERR_MAX_CHARS).collect();
        format!("...{kept}")
    }
}

fn one_line(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn strip_newline(text: &str) -> &str {
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

/// The GitHub token and where it came from.
#[derive(Debug)]
pub struct Token {
    pub value: SecretString,
    /// For -v logs (never the token itself), e.g. "GH_TOKEN", "`gh auth token`", "config env `MY_TOKEN`".
    pub origin: String,
}

/// The GitHub token: first the configured chain (a source with nothing falls through; prompts are
/// skipped), then GH_TOKEN, GITHUB_TOKEN (empty counts as unset), then `gh auth token`.
pub fn resolve_token(configured: &[Source]) -> Result<Token, SourceError> {
    let token = resolve_token_with(configured, &process_env, &gh_auth_token)?;
    tracing::info!(origin = %token.origin, "using a GitHub token");
    Ok(token)
}

fn resolve_token_with(
    configured: &[Source],
    env: EnvLookup,
    gh: &dyn Fn() -> Option<Zeroizing<Vec<u8>>>,
) -> Result<Token, SourceError> {
    let mut tried = Vec::new();
    for source in configured {
        match resolve_one(TOKEN_NAME, source, PromptMode::Defer, env)? {
            Outcome::Value(value) => {
                // File and command sources have already had their newline stripped.
                let strip = matches!(
                    source,
                    Source::Env(_) | Source::Keyring { .. } | Source::Value(_)
                );
                return token_from(
                    value.expose_secret().as_bytes(),
                    strip,
                    config_origin(source),
                );
            }
            Outcome::Nothing(why) => tried.push(format!("config {why}")),
            Outcome::Deferred => tried.push("config prompt skipped".to_owned()),
        }
    }
    for var in ["GH_TOKEN", "GITHUB_TOKEN"] {
        match env(var) {
            Some(raw) if !raw.is_empty() => {
                let bytes = Zeroizing::new(raw.into_encoded_bytes());
                return token_from(&bytes, true, var.to_owned());
            }
            _ => tried.push(format!("{var} unset")),
        }
    }
    match gh() {
        Some(output) if !strip_newline_bytes(&output).is_empty() => {
            token_from(&output, true, "`gh auth token`".to_owned())
        }
        _ => {
            tried.push("no token from `gh auth token`".to_owned());
            Err(SourceError::NoToken {
                tried: tried.join(", "),
            })
        }
    }
}

fn token_from(bytes: &[u8], strip: bool, origin: String) -> Result<Token, SourceError> {
    let token = if strip {
        strip_newline_bytes(bytes)
    } else {
        bytes
    };
    if token.is_empty() {
        return Err(SourceError::TokenEmpty { origin });
    }
    // Anything else could not go into an HTTP header (and octocrab panics on it).
    if !token.iter().all(|byte| (0x21..=0x7e).contains(byte)) {
        return Err(SourceError::TokenInvalid { origin });
    }
    match std::str::from_utf8(token) {
        Ok(text) => Ok(Token {
            value: SecretString::from(text),
            origin,
        }),
        Err(_) => Err(SourceError::TokenInvalid { origin }),
    }
}

fn config_origin(source: &Source) -> String {
    match source {
        Source::Env(var) => format!("config env `{var}`"),
        Source::Keyring { service, user } => {
            format!("config keyring service `{service}`, user `{user}`")
        }
        Source::Prompt { .. } => "config prompt".to_owned(),
        Source::Value(_) => "config value".to_owned(),
        Source::File(path) => format!("config file `{}`", path.display()),
        Source::Command(argv) => match argv.first() {
            Some(program) => format!("config command `{program}`"),
            None => "config command".to_owned(),
        },
    }
}

/// `gh auth token`'s stdout, or None when gh is missing or fails.
fn gh_auth_token() -> Option<Zeroizing<Vec<u8>>> {
    let output = Command::new("gh")
        .args(["auth", "token"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    match output {
        Ok(output) => {
            let stdout = Zeroizing::new(output.stdout);
            if output.status.success() {
                Some(stdout)
            } else {
                tracing::debug!("`gh auth token` failed ({})", output.status);
                None
            }
        }
        Err(error) => {
            tracing::debug!("cannot run `gh`: {error}");
            None
        }
    }
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn fake_env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |var| map.get(var).cloned()
    }

    fn no_gh() -> Option<Zeroizing<Vec<u8>>> {
        None
    }

    fn value_of(resolution: Resolution) -> (String, SourceKind) {
        match resolution {
            Resolution::Value { value, kind } => (value.expose_secret().to_owned(), kind),
            Resolution::Deferred => panic!("expected a value, got Deferred"),
        }
    }

    /// The error is one line and shows none of the canaries, in Display or Debug.
    fn assert_clean(error: &SourceError, canaries: &[&str]) {
        let shown = error.to_string();
        let debug = format!("{error:?}");
        assert!(!shown.contains('\n'), "not one line: {shown}");
        for canary in canaries {
            assert!(
                !shown.contains(canary),
                "value leaked into Display: {shown}"
            );
            assert!(!debug.contains(canary), "value leaked into Debug: {debug}");
        }
    }

    fn lit(value: &str) -> Source {
        Source::Value(value.to_owned())
    }

    fn cmd(argv: &[&str]) -> Source {
        Source::Command(argv.iter().map(|arg| arg.to_string()).collect())
    }

    fn keyring(service: &str, user: &str) -> Source {
        Source::Keyring {
            service: service.to_owned(),
            user: user.to_owned(),
        }
    }

    fn mock_cred(entry: &keyring_core::Entry) -> &keyring_core::mock::Cred {
        entry.as_any().downcast_ref().expect("a mock credential")
    }

    #[test]
    fn env_set_wins_and_unset_falls_through() {
        let env = fake_env(&[("SRC_T1_SET", "from-env")]);
        let chain = [
            Source::Env("SRC_T1_UNSET".into()),
            Source::Env("SRC_T1_SET".into()),
        ];
        let got = resolve_with("S", &chain, PromptMode::Ask, &env).unwrap();
        assert_eq!(value_of(got), ("from-env".to_owned(), SourceKind::Env));
    }

    #[test]
    fn env_set_to_empty_is_a_value() {
        let env = fake_env(&[("SRC_T2_EMPTY", "")]);
        let chain = [Source::Env("SRC_T2_EMPTY".into()), lit("later")];
        let got = resolve_with("S", &chain, PromptMode::Ask, &env).unwrap();
        assert_eq!(value_of(got), (String::new(), SourceKind::Env));
    }

    #[test]
    fn env_from_the_process_environment() {
        std::env::set_var("SECRETSYNC_SOURCE_TEST_PROCESS_ENV", "process-value");
        let chain = [Source::Env("SECRETSYNC_SOURCE_TEST_PROCESS_ENV".into())];
        let got = resolve("S", &chain, PromptMode::Ask).unwrap();
        assert_eq!(value_of(got), ("process-value".to_owned(), SourceKind::Env));
    }

    #[test]
    fn env_not_utf8_is_an_error() {
        use std::os::unix::ffi::OsStringExt as _;
        let env = |_: &str| Some(OsString::from_vec(b"\xffcanary-env".to_vec()));
        let chain = [Source::Env("SRC_T3".into())];
        let error = resolve_with("MY_SECRET", &chain, PromptMode::Ask, &env).unwrap_err();
        assert!(matches!(error, SourceError::EnvNotUtf8 { .. }));
        assert!(error.to_string().contains("`MY_SECRET`"));
        assert!(error.to_string().contains("`SRC_T3`"));
        assert_clean(&error, &["canary-env"]);
    }

    #[test]
    fn keyring_entry_present() {
        use_mock_keyring();
        let entry = keyring_core::Entry::new("src-present", "me").unwrap();
        entry.set_password("kr-value").unwrap();
        let got = resolve("S", &[keyring("src-present", "me")], PromptMode::Ask).unwrap();
        assert_eq!(value_of(got), ("kr-value".to_owned(), SourceKind::Keyring));
    }

    #[test]
    fn keyring_entry_absent_falls_through() {
        use_mock_keyring();
        let chain = [keyring("src-absent", "me"), lit("fallback")];
        let got = resolve("S", &chain, PromptMode::Ask).unwrap();
        assert_eq!(value_of(got), ("fallback".to_owned(), SourceKind::Value));
    }

    #[test]
    fn keyring_bad_encoding_does_not_show_the_bytes() {
        use_mock_keyring();
        let entry = keyring_core::Entry::new("src-bad-encoding", "me").unwrap();
        entry.set_password("stored-canary").unwrap();
        mock_cred(&entry).set_error(keyring_core::Error::BadEncoding(
            b"\xffbytes-canary".to_vec(),
        ));
        let error = resolve(
            "MY_SECRET",
            &[keyring("src-bad-encoding", "me")],
            PromptMode::Ask,
        )
        .unwrap_err();
        assert!(matches!(error, SourceError::KeyringNotUtf8 { .. }));
        assert!(error.to_string().contains("`MY_SECRET`"));
        assert_clean(&error, &["bytes-canary", "stored-canary"]);
    }

    #[test]
    fn keyring_bad_data_format_does_not_show_the_bytes() {
        use_mock_keyring();
        let entry = keyring_core::Entry::new("src-bad-format", "me").unwrap();
        mock_cred(&entry).set_error(keyring_core::Error::BadDataFormat(
            b"format-canary".to_vec(),
            Box::new(io::Error::other("decrypt failed")),
        ));
        let error = resolve(
            "MY_SECRET",
            &[keyring("src-bad-format", "me")],
            PromptMode::Ask,
        )
        .unwrap_err();
        assert!(matches!(error, SourceError::Keyring { .. }));
        assert_clean(&error, &["format-canary"]);
    }

    #[test]
    fn keyring_locked_says_so() {
        use_mock_keyring();
        let entry = keyring_core::Entry::new("src-locked", "me").unwrap();
        entry.set_password("locked-canary").unwrap();
        mock_cred(&entry).set_error(keyring_core::Error::NoStorageAccess(Box::new(
            io::Error::other("prompt dismissed"),
        )));
        let error =
            resolve("MY_SECRET", &[keyring("src-locked", "me")], PromptMode::Ask).unwrap_err();
        let shown = error.to_string();
        assert!(
            shown.contains("keyring is locked or access was refused"),
            "{shown}"
        );
        assert!(
            shown.contains("prompt dismissed") && shown.contains("unlock"),
            "{shown}"
        );
        assert!(shown.contains("`MY_SECRET`"), "{shown}");
        assert_clean(&error, &["locked-canary"]);
    }

    #[test]
    fn keyring_ambiguous_does_not_list_entries() {
        use_mock_keyring();
        let entry = keyring_core::Entry::new("src-ambiguous", "me").unwrap();
        entry.set_password("ambiguous-canary").unwrap();
        let other = keyring_core::Entry::new("src-ambiguous", "me").unwrap();
        mock_cred(&entry).set_error(keyring_core::Error::Ambiguous(vec![other]));
        let error = resolve(
            "MY_SECRET",
            &[keyring("src-ambiguous", "me")],
            PromptMode::Ask,
        )
        .unwrap_err();
        assert!(error.to_string().contains("1 keyring entries match"));
        assert_clean(&error, &["ambiguous-canary"]);
    }

    #[test]
    fn lazy_store_setup_keeps_an_existing_store() {
        use_mock_keyring();
        ensure_default_store().unwrap();
        let store = keyring_core::get_default_store().unwrap();
        assert!(store.vendor().contains("Mock"), "{}", store.vendor());
    }

    #[test]
    fn literal_value() {
        let got = resolve("S", &[lit("literal")], PromptMode::Defer).unwrap();
        assert_eq!(value_of(got), ("literal".to_owned(), SourceKind::Value));
    }

    #[test]
    fn file_strips_exactly_one_newline() {
        let dir = tempfile::tempdir().unwrap();
        for (content, expected) in [
            ("abc\n", "abc"),
            ("abc", "abc"),
            ("abc\r\n", "abc"),
            ("abc\n\n", "abc\n"),
            ("", ""),
        ] {
            let path = dir.path().join("value");
            std::fs::write(&path, content).unwrap();
            let got = resolve("S", &[Source::File(path)], PromptMode::Ask).unwrap();
            assert_eq!(value_of(got), (expected.to_owned(), SourceKind::File));
        }
    }

    #[test]
    fn missing_file_falls_through() {
        let dir = tempfile::tempdir().unwrap();
        let chain = [Source::File(dir.path().join("missing")), lit("fallback")];
        let got = resolve("S", &chain, PromptMode::Ask).unwrap();
        assert_eq!(value_of(got), ("fallback".to_owned(), SourceKind::Value));
    }

    #[test]
    fn directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = resolve(
            "MY_SECRET",
            &[Source::File(dir.path().to_owned())],
            PromptMode::Ask,
        )
        .unwrap_err();
        assert!(matches!(error, SourceError::FileRead { .. }));
        let shown = error.to_string();
        assert!(shown.contains("`MY_SECRET`"), "{shown}");
        assert!(shown.contains(&dir.path().display().to_string()), "{shown}");
        assert_clean(&error, &[]);
    }

    #[test]
    fn file_not_utf8_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("binary");
        std::fs::write(&path, b"\xfffile-canary").unwrap();
        let error = resolve("MY_SECRET", &[Source::File(path)], PromptMode::Ask).unwrap_err();
        assert!(matches!(error, SourceError::FileNotUtf8 { .. }));
        assert_clean(&error, &["file-canary"]);
    }

    #[test]
    fn command_output_loses_one_newline() {
        let got = resolve("S", &[cmd(&["printf", "abc\\n"])], PromptMode::Ask).unwrap();
        assert_eq!(value_of(got), ("abc".to_owned(), SourceKind::Command));
        let got = resolve("S", &[cmd(&["printf", "abc\\n\\n"])], PromptMode::Ask).unwrap();
        assert_eq!(value_of(got), ("abc\n".to_owned(), SourceKind::Command));
    }

    #[test]
    fn failing_command_shows_status_and_stderr_but_not_stdout() {
        let chain = [cmd(&[
            "sh",
            "-c",
            "printf out-canary; echo oops >&2; exit 3",
        ])];
        let error = resolve("MY_SECRET", &chain, PromptMode::Ask).unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains("oops") && shown.contains('3'), "{shown}");
        assert!(
            shown.contains("`MY_SECRET`") && shown.contains("`sh`"),
            "{shown}"
        );
        assert_clean(&error, &["out-canary"]);
    }

    #[test]
    fn failing_command_keeps_the_last_stderr_lines() {
        let script = "for i in 1 2 3 4 5; do echo line$i >&2; done; exit 1";
        let error = resolve("S", &[cmd(&["sh", "-c", script])], PromptMode::Ask).unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains("line3 / line4 / line5"), "{shown}");
        assert!(!shown.contains("line2"), "{shown}");
        assert_clean(&error, &[]);

        let long = "printf '%0400d' 0 >&2; exit 1";
        let error = resolve("S", &[cmd(&["sh", "-c", long])], PromptMode::Ask).unwrap_err();
        let SourceError::CommandFailed { stderr, .. } = &error else {
            panic!("unexpected {error}");
        };
        assert_eq!(stderr.chars().count(), STDERR_MAX_CHARS + 3);
    }

    #[test]
    fn missing_program_is_an_error() {
        let chain = [cmd(&["secretsync-no-such-program"]), lit("fallback")];
        let error = resolve("MY_SECRET", &chain, PromptMode::Ask).unwrap_err();
        assert!(matches!(error, SourceError::CommandSpawn { .. }));
        let shown = error.to_string();
        assert!(shown.contains("`secretsync-no-such-program`") && shown.contains("`MY_SECRET`"));
        assert_clean(&error, &[]);
    }

    #[test]
    fn command_not_utf8_and_empty_argv() {
        let error =
            resolve("S", &[cmd(&["printf", "\\377cmd-canary"])], PromptMode::Ask).unwrap_err();
        assert!(matches!(error, SourceError::CommandNotUtf8 { .. }));
        assert_clean(&error, &["cmd-canary"]);
        let error = resolve("S", &[Source::Command(vec![])], PromptMode::Ask).unwrap_err();
        assert!(matches!(error, SourceError::CommandEmpty { .. }));
    }

    #[test]
    fn prompts_defer_and_stop_the_chain() {
        let prompt = Source::Prompt {
            label: "Password".into(),
            confirm: false,
            remember: false,
        };
        let env = fake_env(&[]);
        let chain = [
            Source::Env("SRC_T4_UNSET".into()),
            prompt.clone(),
            lit("after"),
        ];
        let got = resolve_with("S", &chain, PromptMode::Defer, &env).unwrap();
        assert!(matches!(got, Resolution::Deferred));
        let got = resolve("S", &[lit("before"), prompt], PromptMode::Defer).unwrap();
        assert_eq!(value_of(got), ("before".to_owned(), SourceKind::Value));
    }

    #[test]
    fn no_value_lists_what_was_tried() {
        use_mock_keyring();
        let env = fake_env(&[]);
        let chain = [
            Source::Env("ALIYUN_PASSWORD".into()),
            keyring("acr-absent", "me"),
        ];
        let error = resolve_with("ACR_PASSWORD", &chain, PromptMode::Ask, &env).unwrap_err();
        let shown = error.to_string();
        assert!(shown.contains("`ACR_PASSWORD`"), "{shown}");
        assert!(
            shown.contains(
                "env `ALIYUN_PASSWORD` unset, no keyring entry for service `acr-absent`, user `me`"
            ),
            "{shown}"
        );
        assert!(shown.contains("prompt"), "{shown}");
        assert_clean(&error, &[]);
        let error = resolve("EMPTY", &[], PromptMode::Ask).unwrap_err();
        assert!(error.to_string().contains("empty"), "{error}");
    }

    fn scripted(answers: &[&str]) -> impl FnMut(&str) -> io::Result<Zeroizing<String>> {
        let mut answers: Vec<String> = answers.iter().rev().map(|s| s.to_string()).collect();
        move |_prompt| {
            answers
                .pop()
                .map(Zeroizing::new)
                .ok_or_else(|| io::Error::other("no more input"))
        }
    }

    #[test]
    fn prompt_without_confirm_reads_once() {
        let mut prompts = Vec::new();
        let mut read = scripted(&["typed"]);
        let value = ask(
            "S",
            "Password",
            false,
            |prompt| {
                prompts.push(prompt.to_owned());
                read(prompt)
            },
            |_| panic!("nothing to say"),
        )
        .unwrap();
        assert_eq!(value.expose_secret(), "typed");
        assert_eq!(prompts, ["Password: "]);
    }

    #[test]
    fn prompt_confirm_retries_after_a_mismatch() {
        let mut said = Vec::new();
        let value = ask(
            "S",
            "Password",
            true,
            scripted(&["one", "two", "same", "same"]),
            |message| said.push(message.to_owned()),
        )
        .unwrap();
        assert_eq!(value.expose_secret(), "same");
        assert_eq!(said, ["values did not match, try again"]);
    }

    #[test]
    fn prompt_confirm_gives_up_after_three_mismatches() {
        let answers = ["c-one", "c-two", "c-three", "c-four", "c-five", "c-six"];
        let error = ask("MY_SECRET", "Password", true, scripted(&answers), |_| {}).unwrap_err();
        assert!(matches!(error, SourceError::ConfirmMismatch { .. }));
        assert!(error.to_string().contains("`MY_SECRET`"));
        assert_clean(&error, &answers);
    }

    #[test]
    fn prompt_read_failure_is_an_error() {
        let error = ask("MY_SECRET", "Password", false, scripted(&[]), |_| {}).unwrap_err();
        assert!(matches!(error, SourceError::PromptFailed { .. }));
        assert!(error.to_string().contains("`MY_SECRET`"));
    }

    #[test]
    fn no_terminal_message_is_one_line() {
        let error = SourceError::NoTerminal {
            secret: "MY_SECRET".into(),
        };
        assert_eq!(
            error.to_string(),
            "no terminal to prompt for `MY_SECRET`; provide it with `env = ...` or `keyring = ...` in its `from` chain"
        );
    }

    #[test]
    fn token_from_the_configured_chain_wins() {
        let env = fake_env(&[("GH_TOKEN", "gh-env-token")]);
        let token = resolve_token_with(&[lit("cfg-token")], &env, &no_gh).unwrap();
        assert_eq!(token.value.expose_secret(), "cfg-token");
        assert_eq!(token.origin, "config value");
        assert!(!format!("{token:?}").contains("cfg-token"));

        let env = fake_env(&[("MY_TOKEN", "my-token\n"), ("GH_TOKEN", "gh-env-token")]);
        let token = resolve_token_with(&[Source::Env("MY_TOKEN".into())], &env, &no_gh).unwrap();
        assert_eq!(token.value.expose_secret(), "my-token");
        assert_eq!(token.origin, "config env `MY_TOKEN`");
    }

    #[test]
    fn token_falls_through_to_gh_token_then_github_token_then_gh() {
        let prompt = Source::Prompt {
            label: "Token".into(),
            confirm: false,
            remember: false,
        };
        let configured = [Source::Env("MY_TOKEN".into()), prompt];
        let env = fake_env(&[("GH_TOKEN", "gh-token\n"), ("GITHUB_TOKEN", "github-token")]);
        let token = resolve_token_with(&configured, &env, &no_gh).unwrap();
        assert_eq!(
            (token.value.expose_secret(), token.origin.as_str()),
            ("gh-token", "GH_TOKEN")
        );

        let env = fake_env(&[("GH_TOKEN", ""), ("GITHUB_TOKEN", "github-token")]);
        let token = resolve_token_with(&configured, &env, &no_gh).unwrap();
        assert_eq!(
            (token.value.expose_secret(), token.origin.as_str()),
            ("github-token", "GITHUB_TOKEN")
        );

        let env = fake_env(&[("GH_TOKEN", ""), ("GITHUB_TOKEN", "")]);
        let gh = || Some(Zeroizing::new(b"gho_fromgh\n".to_vec()));
        let token = resolve_token_with(&configured, &env, &gh).unwrap();
        assert_eq!(
            (token.value.expose_secret(), token.origin.as_str()),
            ("gho_fromgh", "`gh auth token`")
        );
    }

    #[test]
    fn no_token_says_how_to_provide_one() {
        let env = fake_env(&[]);
        let configured = [Source::Env("MY_TOKEN".into())];
        let error = resolve_token_with(&configured, &env, &no_gh).unwrap_err();
        assert!(matches!(error, SourceError::NoToken { .. }));
        let shown = error.to_string();
        for part in [
            "GH_TOKEN",
            "gh auth login",
            "token = { env = \"VAR\" }",
            "`MY_TOKEN`",
        ] {
            assert!(shown.contains(part), "{shown}");
        }
        assert_clean(&error, &[]);
    }

    #[test]
    fn token_with_inner_whitespace_is_rejected() {
        for bad in [
            "tok en-canary",
            "tok\nen-canary",
            "tok\ten-canary",
            "tök-canary",
        ] {
            let env = fake_env(&[("GH_TOKEN", bad)]);
            let error = resolve_token_with(&[], &env, &no_gh).unwrap_err();
            assert!(matches!(error, SourceError::TokenInvalid { .. }), "{error}");
            assert!(error.to_string().contains("GH_TOKEN"));
            assert_clean(&error, &[bad, "en-canary", "canary"]);
        }
        let error = resolve_token_with(&[lit("\n")], &fake_env(&[]), &no_gh).unwrap_err();
        assert!(matches!(error, SourceError::TokenEmpty { .. }), "{error}");
    }

    #[test]
    fn token_errors_in_the_configured_chain_are_not_skipped() {
        let env = fake_env(&[("GH_TOKEN", "gh-token")]);
        let configured = [cmd(&["sh", "-c", "exit 4"])];
        let error = resolve_token_with(&configured, &env, &no_gh).unwrap_err();
        assert!(
            matches!(error, SourceError::CommandFailed { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("`[github] token`"));
    }
}
