//! The OS keyring (Secret Service on Linux): reading a value, storing one, and setting up the
//! store on first use.

use std::sync::{Mutex, PoisonError};

use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

use super::prompt::ask_tty;
use super::{one_line, Outcome, Source, SourceError};

/// After a prompt with `remember = true`: offer to store the typed value in the chain's keyring
/// source, so the next run finds it there.
pub(super) fn offer_to_remember(
    secret: &str,
    chain: &[Source],
    value: &SecretString,
) -> Result<(), SourceError> {
    let Some(Source::Keyring { service, user }) =
        chain.iter().find(|s| matches!(s, Source::Keyring { .. }))
    else {
        return Ok(());
    };
    if ensure_default_store().is_err() {
        // The chain already said the keyring is not reachable; there is nowhere to store.
        return Ok(());
    }
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
    keyring_core::Entry::new(service, user)
        .and_then(|entry| entry.set_password(value.expose_secret()))
        .map_err(|error| failure(error, secret, service, user))?;
    tracing::info!(secret, service, user, "stored in the keyring");
    Ok(())
}

pub(super) fn from_keyring(
    secret: &str,
    service: &str,
    user: &str,
) -> Result<Outcome, SourceError> {
    ensure_default_store().map_err(|detail| SourceError::KeyringUnavailable {
        secret: secret.to_owned(),
        detail,
    })?;
    let found = keyring_core::Entry::new(service, user).and_then(|entry| entry.get_password());
    match found {
        Ok(password) => {
            let password = Zeroizing::new(password);
            Ok(Outcome::Value(SecretString::from(password.as_str())))
        }
        Err(keyring_core::Error::NoEntry) => Ok(Outcome::Nothing(format!(
            "no keyring entry for service `{service}`, user `{user}`"
        ))),
        Err(error) => Err(failure(error, secret, service, user)),
    }
}

/// A keyring error on reading or storing `secret`'s entry, as the error to show.
fn failure(error: keyring_core::Error, secret: &str, service: &str, user: &str) -> SourceError {
    let (secret, service, user) = (secret.to_owned(), service.to_owned(), user.to_owned());
    match error {
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
    }
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
pub(super) fn ensure_default_store() -> Result<(), String> {
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
