//! Variables endpoints (repository, environment, organization): values are plain text and
//! readable. POST creates (409 if the name exists), PATCH updates (404 if absent), DELETE removes.

use super::access::{parse_access, AccessRule};
use super::named::{self, Listing};
use super::routes::VariableOp;
use super::secrets::{add_access, check_name};
use super::*;

const ALREADY_EXISTS: &str = "Already exists - Variable already exists";

pub(super) fn answer(
    state: &mut State,
    scope: &Scope,
    op: VariableOp,
    query: &str,
    base: &str,
    body: Option<Bytes>,
) -> Response {
    match op {
        VariableOp::List => {
            let listing = Listing {
                key: "variables",
                default_per_page: VARIABLES_DEFAULT_PER_PAGE,
                max_per_page: VARIABLES_MAX_PER_PAGE,
            };
            let api_url = &state.api_url;
            let items = &state.variables;
            named::list(
                state,
                listing,
                items,
                scope,
                (query, base),
                |name, variable| variable_json(api_url, scope, name, variable),
            )
        }
        VariableOp::Get(name) => match state.variable(scope, &name) {
            Some(variable) => json_value(
                StatusCode::OK,
                &variable_json(&state.api_url, scope, &name.to_uppercase(), variable),
            ),
            None => not_found(),
        },
        VariableOp::Create => create(state, scope, body),
        VariableOp::Update(name) => {
            if let Some(failure) = state.write_failure(&location(scope), &name) {
                return injected(failure);
            }
            update(state, scope, &name.to_uppercase(), body)
        }
        VariableOp::Delete(name) => named::delete(state, |s| &mut s.variables, scope, &name),
    }
}

/// `{name, value, created_at, updated_at}`, plus `visibility` (and `selected_repositories_url`
/// when selected) in organization scopes.
fn variable_json(api_url: &str, scope: &Scope, name: &str, variable: &Variable) -> Value {
    let mut item = json!({
        "name": name,
        "value": variable.value,
        "created_at": variable.created_at,
        "updated_at": variable.updated_at,
    });
    let access = variable.access.as_ref();
    add_access(&mut item, api_url, scope, "variables", name, access);
    item
}

/// A string field: `Ok(None)` if absent, a 422 if present but not a string.
fn string_field<'a>(
    fields: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, Response> {
    match fields.get(field) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(validation_failed(
            "Variable",
            field,
            "invalid",
            &format!("\"{field}\" must be a string."),
        )),
    }
}

fn missing(field: &str) -> Response {
    validation_failed(
        "Variable",
        field,
        "missing_field",
        &format!("\"{field}\" wasn't supplied."),
    )
}

fn check_value(value: &str) -> Result<(), Response> {
    if value.len() > MAX_VARIABLE_BYTES {
        return Err(validation_failed(
            "Variable",
            "value",
            "invalid",
            "Variable value is too large: the maximum is 48 KB.",
        ));
    }
    Ok(())
}

fn check_variable_name(name: &str) -> Result<(), Response> {
    check_name("Variable", name)
        .map_err(|reason| validation_failed("Variable", "name", "invalid", &reason))
}

fn create(state: &mut State, scope: &Scope, body: Option<Bytes>) -> Response {
    let fields = match body_object(body) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let (name, value) = match (
        string_field(&fields, "name"),
        string_field(&fields, "value"),
    ) {
        (Err(response), _) | (_, Err(response)) => return response,
        (Ok(None), _) => return missing("name"),
        (_, Ok(None)) => return missing("value"),
        (Ok(Some(name)), Ok(Some(value))) => (name.to_uppercase(), value.to_owned()),
    };
    if let Err(response) = check_variable_name(&name).and_then(|()| check_value(&value)) {
        return response;
    }
    if let Some(failure) = state.write_failure(&location(scope), &name) {
        return injected(failure);
    }
    if state.variable(scope, &name).is_some() {
        return github_error(StatusCode::CONFLICT, ALREADY_EXISTS);
    }
    let access = match parse_access(
        state,
        scope,
        &fields,
        None,
        AccessRule::Required,
        "Variable",
    ) {
        Ok(access) => access,
        Err(response) => return response,
    };
    state.store_variable(scope, &name, Some(value), access);
    created()
}

fn update(state: &mut State, scope: &Scope, name: &str, body: Option<Bytes>) -> Response {
    let Some(current) = state.variable(scope, name) else {
        return not_found();
    };
    let current_access = current.access.clone();
    let fields = match body_object(body) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let (new_name, value) = match (
        string_field(&fields, "name"),
        string_field(&fields, "value"),
    ) {
        (Err(response), _) | (_, Err(response)) => return response,
        (Ok(new_name), Ok(value)) => (
            new_name.map_or_else(|| name.to_owned(), str::to_uppercase),
            value.map(str::to_owned),
        ),
    };
    if let Err(response) = check_variable_name(&new_name) {
        return response;
    }
    if let Some(Err(response)) = value.as_deref().map(check_value) {
        return response;
    }
    let current = current_access.as_ref();
    let rule = AccessRule::Optional;
    let access = match parse_access(state, scope, &fields, current, rule, "Variable") {
        Ok(access) => access,
        Err(response) => return response,
    };
    if new_name != name {
        if state.variable(scope, &new_name).is_some() {
            return github_error(StatusCode::CONFLICT, ALREADY_EXISTS);
        }
        let variables = state.variables.entry(normalize(scope)).or_default();
        if let Some(variable) = variables.remove(name) {
            variables.insert(new_name.clone(), variable);
        }
    }
    state.store_variable(scope, &new_name, value, access);
    empty(StatusCode::NO_CONTENT)
}
