//! The GitHub token: the config's `[github] token` source, then GH_TOKEN, GITHUB_TOKEN and
//! `gh auth token`.

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

use super::{
    process_env, resolve_one, strip_newline_bytes, EnvLookup, Outcome, PromptMode, Source,
    SourceError, TOKEN_NAME,
};

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

pub(super) fn resolve_token_with(
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
                let token = token_from(
                    value.expose_secret().as_bytes(),
                    strip,
                    config_origin(source),
                )?;
                if let Source::File(path) = source {
                    warn_if_others_can_read(path);
                }
                return Ok(token);
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
        Source::Command(command) => format!("config command `{}`", command.program()),
        Source::Dotenv { path, key } => format!("config dotenv `{}` key `{key}`", path.display()),
    }
}

/// How long `gh auth token` may take: it reads gh's config or the keyring, which is quick; a
/// gh that hangs (waiting on a locked keyring, say) must not hang secretsync.
const GH_TIMEOUT: Duration = Duration::from_secs(10);

/// `gh auth token`'s stdout, or None when gh is missing, fails or hangs. It runs as a source
/// command does: in its own process group, killed whole on its timeout or an interrupt.
fn gh_auth_token() -> Option<Zeroizing<Vec<u8>>> {
    let mut process = Command::new("gh");
    process
        .args(["auth", "token"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    match super::command::run("the GitHub token", "gh", process, GH_TIMEOUT) {
        Ok(finished) if finished.status.success() => Some(finished.stdout),
        Ok(finished) => {
            tracing::debug!("`gh auth token` failed ({})", finished.status);
            None
        }
        Err(error) => {
            tracing::debug!("no token from `gh auth token`: {error}");
            None
        }
    }
}

/// As ssh does for a private key: a token others can read is as good as theirs.
fn warn_if_others_can_read(path: &Path) {
    if let Some(mode) = crate::perms::open_to_others(path) {
        eprintln!(
            "warning: the token file `{}` can be read by other users (mode {mode:03o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
}
