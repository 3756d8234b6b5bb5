//! Secrets endpoints, the same in every scope: public key, paged list, get, PUT (201/204) and
//! DELETE. Organization scopes add visibility and selected repositories.

use super::access::{parse_access, AccessRule};
use super::named::{self, Listing};
use super::routes::SecretOp;
use super::*;

pub(super) fn answer(
    state: &mut State,
    scope: &Scope,
    op: SecretOp,
    query: &str,
    base: &str,
    body: Option<Bytes>,
) -> Response {
    match op {
        SecretOp::PublicKey => match &state.public_key_override {
            Some(raw) => exempt(json_response(StatusCode::OK, raw.clone())),
            None => {
                let (key_id, key) = state.public_key_of(scope);
                json_value(
                    StatusCode::OK,
                    &json!({"key_id": key_id, "key": BASE64.encode(key.as_bytes())}),
                )
            }
        },
        SecretOp::List => {
            let listing = Listing {
                key: "secrets",
                default_per_page: DEFAULT_PER_PAGE,
                max_per_page: MAX_PER_PAGE,
            };
            let api_url = &state.api_url;
            named::list(
                state,
                listing,
                &state.secrets,
                scope,
                (query, base),
                |name, secret| secret_json(api_url, scope, name, secret),
            )
        }
        SecretOp::Get(name) => match state.secret(scope, &name) {
            Some(secret) => json_value(
                StatusCode::OK,
                &secret_json(&state.api_url, scope, &name.to_uppercase(), secret),
            ),
            None => not_found(),
        },
        SecretOp::Put(name) => {
            if let Some(failure) = state.write_failure(&location(scope), &name) {
                return injected(failure);
            }
            put(state, scope, &name.to_uppercase(), body)
        }
        SecretOp::Delete(name) => named::delete(state, |s| &mut s.secrets, scope, &name),
    }
}

/// `{name, created_at, updated_at}`, plus `visibility` (and `selected_repositories_url` when
/// selected) in organization scopes.
pub(super) fn secret_json(api_url: &str, scope: &Scope, name: &str, secret: &Secret) -> Value {
    let mut item =
        json!({"name": name, "created_at": secret.created_at, "updated_at": secret.updated_at});
    add_access(
        &mut item,
        api_url,
        scope,
        "secrets",
        name,
        secret.access.as_ref(),
    );
    item
}

/// Adds the organization-only fields to a list item.
pub(super) fn add_access(
    item: &mut Value,
    api_url: &str,
    scope: &Scope,
    collection: &str,
    name: &str,
    access: Option<&Access>,
) {
    let (Some(access), Some(fields)) = (access, item.as_object_mut()) else {
        return;
    };
    fields.insert("visibility".to_owned(), json!(access.visibility.as_str()));
    if access.visibility == Visibility::Selected {
        let prefix = match scope {
            Scope::DependabotOrg(org) => format!("orgs/{org}/dependabot"),
            Scope::Org(org) => format!("orgs/{org}/actions"),
            _ => return,
        };
        let url = format!("{api_url}/{prefix}/{collection}/{name}/repositories");
        fields.insert("selected_repositories_url".to_owned(), json!(url));
    }
}

fn put(state: &mut State, scope: &Scope, name: &str, body: Option<Bytes>) -> Response {
    if let Err(reason) = check_name("Secret", name) {
        return validation_failed("Secret", "name", "invalid", &reason);
    }
    let fields = match body_object(body) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let existing = state.secret(scope, name);
    let value_required = !is_org_scope(scope) || existing.is_none();
    let current = existing.and_then(|s| s.access.clone());
    let value = match sealed_fields(&fields, value_required) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let rule = AccessRule::Required;
    let access = match parse_access(state, scope, &fields, current.as_ref(), rule, "Secret") {
        Ok(access) => access,
        Err(response) => return response,
    };
    let value = match value.map(|(encrypted, key_id)| open(state, scope, encrypted, key_id)) {
        Some(Ok(opened)) => Some(opened),
        Some(Err(response)) => return response,
        None => None,
    };
    if state.store_secret(scope, name, value, access) {
        created()
    } else {
        empty(StatusCode::NO_CONTENT)
    }
}

/// `encrypted_value` and `key_id`, both or neither; `Ok(None)` when neither is sent and no value
/// is `required`. Outside organizations a value is always required; in them, only to create.
fn sealed_fields(
    fields: &Map<String, Value>,
    required: bool,
) -> Result<Option<(&str, &str)>, Response> {
    let encrypted = fields.get("encrypted_value");
    let key_id = fields.get("key_id");
    let required = required || encrypted.is_some() || key_id.is_some();
    match (
        encrypted.and_then(Value::as_str),
        key_id.and_then(Value::as_str),
    ) {
        (Some(encrypted), Some(key_id)) => Ok(Some((encrypted, key_id))),
        (encrypted, _) if required => {
            let missing = if encrypted.is_none() {
                "encrypted_value"
            } else {
                "key_id"
            };
            Err(validation_failed(
                "Secret",
                missing,
                "missing_field",
                &format!("\"{missing}\" wasn't supplied as a string."),
            ))
        }
        _ => Ok(None),
    }
}

/// Decodes and unseals a sent value with the scope's key: the ciphertext and the plaintext.
fn open(
    state: &mut State,
    scope: &Scope,
    encrypted: &str,
    key_id: &str,
) -> Result<(Vec<u8>, Vec<u8>), Response> {
    // A wrong key id is reported first, as GitHub does.
    if state.public_key_of(scope).0 != key_id {
        return Err(github_error(StatusCode::UNPROCESSABLE_ENTITY, "Bad key_id"));
    }
    let Ok(ciphertext) = BASE64.decode(encrypted) else {
        return Err(validation_failed(
            "Secret",
            "encrypted_value",
            "invalid",
            "is not valid base64",
        ));
    };
    match state.unseal(scope, &ciphertext) {
        Some(plaintext) => Ok((ciphertext, plaintext)),
        None => Err(validation_failed(
            "Secret",
            "encrypted_value",
            "invalid",
            "could not be decrypted with the scope's public key",
        )),
    }
}

/// GitHub's naming rules for secrets and variables (`kind` is "Secret" or "Variable").
pub(super) fn check_name(kind: &str, name: &str) -> Result<(), String> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!(
            "{kind} names can only contain alphanumeric characters ([A-Z], [0-9]) or underscores (_)."
        ));
    }
    if name.as_bytes()[0].is_ascii_digit() {
        return Err(format!("{kind} names must not start with a number."));
    }
    if name.to_ascii_uppercase().starts_with("GITHUB_") {
        return Err(format!(
            "{kind} names must not start with the GITHUB_ prefix."
        ));
    }
    Ok(())
}
