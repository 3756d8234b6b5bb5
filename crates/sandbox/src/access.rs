//! Which repositories see an organization secret or variable: the `visibility` and
//! `selected_repository_ids` fields of writes, and the `/repositories` endpoints.

use super::routes::{Collection, SelectedOp};
use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AccessRule {
    /// `visibility` must be sent (org secret PUT, org variable POST).
    Required,
    /// Both fields may be left out, keeping the current access (org variable PATCH).
    Optional,
}

/// Reads `visibility` and `selected_repository_ids` from a write to an organization scope.
/// `Ok(None)` means "unchanged", and is every other scope's answer: only organizations have
/// access. The ids must be repositories of the organization, and may only be sent with
/// `selected`; `selected` without ids keeps the current selection, if any.
pub(super) fn parse_access(
    state: &State,
    scope: &Scope,
    fields: &Map<String, Value>,
    current: Option<&Access>,
    rule: AccessRule,
    resource: &str,
) -> Result<Option<Access>, Response> {
    if !is_org_scope(scope) {
        return Ok(None);
    }
    let ids = fields
        .get("selected_repository_ids")
        .filter(|v| !v.is_null());
    let visibility = match fields.get("visibility").filter(|v| !v.is_null()) {
        Some(value) => {
            let parsed = value.as_str().and_then(Visibility::parse);
            let Some(visibility) = parsed else {
                return Err(validation_failed(
                    resource,
                    "visibility",
                    "invalid",
                    "visibility must be one of: all, private, selected",
                ));
            };
            visibility
        }
        None if rule == AccessRule::Required => {
            return Err(validation_failed(
                resource,
                "visibility",
                "missing_field",
                "\"visibility\" wasn't supplied.",
            ))
        }
        None if ids.is_none() => return Ok(None),
        None => current.map_or(Visibility::All, |a| a.visibility),
    };
    let selected = match ids {
        Some(_) if visibility != Visibility::Selected => {
            return Err(validation_failed(
                resource,
                "selected_repository_ids",
                "invalid",
                "selected_repository_ids can only be set when visibility is 'selected'",
            ))
        }
        Some(ids) => org_repo_ids(state, scope, ids, resource)?,
        None if visibility == Visibility::Selected => current
            .filter(|a| a.visibility == Visibility::Selected)
            .map(|a| a.selected.clone())
            .unwrap_or_default(),
        None => BTreeSet::new(),
    };
    Ok(Some(Access {
        visibility,
        selected,
    }))
}

/// The ids in `value`, each a repository of the scope's organization; else a 422.
fn org_repo_ids(
    state: &State,
    scope: &Scope,
    value: &Value,
    resource: &str,
) -> Result<BTreeSet<u64>, Response> {
    let invalid =
        |message: &str| validation_failed(resource, "selected_repository_ids", "invalid", message);
    let Some(items) = value.as_array() else {
        return Err(invalid(
            "selected_repository_ids must be an array of integers",
        ));
    };
    let mut ids = BTreeSet::new();
    for item in items {
        let Some(id) = item.as_u64() else {
            return Err(invalid(
                "selected_repository_ids must be an array of integers",
            ));
        };
        if !is_org_repo(state, scope, id) {
            return Err(invalid(&format!(
                "repository {id} is not a repository of this organization"
            )));
        }
        ids.insert(id);
    }
    Ok(ids)
}

fn is_org_repo(state: &State, scope: &Scope, id: u64) -> bool {
    let repos = state.org_repos(&location(scope));
    repos.iter().any(|info| info.id == id)
}

fn current_access(state: &State, scope: &Scope, what: Collection, name: &str) -> Option<Access> {
    match what {
        Collection::Secrets => state.secret(scope, name)?.access.clone(),
        Collection::Variables => state.variable(scope, name)?.access.clone(),
    }
}

fn set_selected(
    state: &mut State,
    scope: &Scope,
    what: Collection,
    name: &str,
    selected: BTreeSet<u64>,
) {
    let scope = normalize(scope);
    let name = name.to_uppercase();
    let access = match what {
        Collection::Secrets => state
            .secrets
            .get_mut(&scope)
            .and_then(|s| s.get_mut(&name))
            .and_then(|s| s.access.as_mut()),
        Collection::Variables => state
            .variables
            .get_mut(&scope)
            .and_then(|v| v.get_mut(&name))
            .and_then(|v| v.access.as_mut()),
    };
    if let Some(access) = access {
        access.selected = selected;
    }
}

/// `GET`/`PUT .../{name}/repositories` and `PUT`/`DELETE .../{name}/repositories/{id}`.
#[allow(clippy::too_many_arguments)]
pub(super) fn answer(
    state: &mut State,
    scope: &Scope,
    what: Collection,
    name: &str,
    op: SelectedOp,
    query: &str,
    base: &str,
    body: Option<Bytes>,
) -> Response {
    let resource = match what {
        Collection::Secrets => "Secret",
        Collection::Variables => "Variable",
    };
    let Some(access) = current_access(state, scope, what, name) else {
        return not_found();
    };
    if access.visibility != Visibility::Selected {
        return github_error(
            StatusCode::CONFLICT,
            &format!("{resource} visibility is not 'selected'"),
        );
    }
    let mut selected = access.selected;
    match op {
        SelectedOp::List => {
            let items = selected
                .iter()
                .filter_map(|id| state.repo_by_id(*id))
                .map(|info| state.minimal_repo_json(info))
                .collect();
            let paging = Paging::parse(query, DEFAULT_PER_PAGE, MAX_PER_PAGE);
            return paged_object("repositories", items, paging, base);
        }
        SelectedOp::Set => {
            let fields = match body_object(body) {
                Ok(fields) => fields,
                Err(response) => return response,
            };
            let Some(ids) = fields.get("selected_repository_ids") else {
                return validation_failed(
                    resource,
                    "selected_repository_ids",
                    "missing_field",
                    "\"selected_repository_ids\" wasn't supplied.",
                );
            };
            selected = match org_repo_ids(state, scope, ids, resource) {
                Ok(ids) => ids,
                Err(response) => return response,
            };
        }
        SelectedOp::Add(ref id) | SelectedOp::Remove(ref id) => {
            let Ok(id) = id.parse::<u64>() else {
                return not_found();
            };
            if !is_org_repo(state, scope, id) {
                return validation_failed(
                    resource,
                    "repository_id",
                    "invalid",
                    &format!("repository {id} is not a repository of this organization"),
                );
            }
            if matches!(op, SelectedOp::Add(_)) {
                selected.insert(id);
            } else {
                selected.remove(&id);
            }
        }
    }
    set_selected(state, scope, what, name, selected);
    empty(StatusCode::NO_CONTENT)
}
