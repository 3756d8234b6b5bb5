//! `SourceError`: why a value could not be had, with what the message needs and never a value.

use std::path::PathBuf;

use super::CONFIRM_ATTEMPTS;

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
    #[error("file `{}` for `{secret}` is {what}, not a regular file; set `file` to a regular file that holds the value", .path.display())]
    FileNotRegular {
        secret: String,
        path: PathBuf,
        /// "a directory", "a named pipe (FIFO)", ...
        what: &'static str,
    },
    #[error("file `{}` for `{secret}` is larger than {limit} bytes, GitHub's limit for a value; set `file` to a file that holds only the value", .path.display())]
    FileTooLarge {
        secret: String,
        path: PathBuf,
        limit: usize,
    },
    #[error("file `{}` for `{secret}` is not UTF-8; store the value as text", .path.display())]
    FileNotUtf8 { secret: String, path: PathBuf },
    #[error("`{}` line {line}{key} for `{secret}` {problem}", .path.display())]
    DotenvSyntax {
        secret: String,
        path: PathBuf,
        line: usize,
        problem: crate::dotenv::Problem,
        /// " (key `NAME`)" when the line has a plausible name, else empty.
        key: String,
    },
    #[error("dotenv file `{}` for `{secret}` is larger than {limit} bytes; is this the right file?", .path.display())]
    DotenvTooLarge {
        secret: String,
        path: PathBuf,
        limit: usize,
    },
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
    #[error("command `{program}` for `{secret}` did not finish within {timeout} and was stopped; check that it does not wait for input, or give the source a longer `timeout` (such as `timeout = \"2m\"`)")]
    CommandTimeout {
        secret: String,
        program: String,
        timeout: String,
    },
    #[error("command `{program}` for `{secret}` stopped to ask on the terminal, which a command source cannot use, and was ended (what was typed for it is discarded); sign in or unlock it first (such as `op signin`, `bw unlock`, or a gpg-agent that holds the passphrase), or give the secret another source")]
    CommandWantsTerminal { secret: String, program: String },
    #[error("output of `{program}` for `{secret}` is larger than {limit} bytes, GitHub's limit for a value, and was cut off; make it print only the value")]
    CommandTooLarge {
        secret: String,
        program: String,
        limit: usize,
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
