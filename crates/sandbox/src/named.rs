//! What secrets and variables share: a scope's collection of named items, its paged listing and
//! the DELETE of one item, each after the scripted failures for that place.

use super::*;

/// A scope's secrets or variables: normalized scope -> upper-cased name -> item.
pub(super) type Named<T> = HashMap<Scope, BTreeMap<String, T>>;

/// How one collection lists: its JSON key (`secrets`, `variables`) and GitHub's page sizes.
pub(super) struct Listing {
    pub(super) key: &'static str,
    pub(super) default_per_page: u64,
    pub(super) max_per_page: u64,
}

/// `GET` of the collection: every item as `item_json` makes it, paged.
pub(super) fn list<T>(
    state: &State,
    listing: Listing,
    items: &Named<T>,
    scope: &Scope,
    request: (&str, &str),
    item_json: impl Fn(&str, &T) -> Value,
) -> Response {
    if let Some(failure) = state.list_failure(&location(scope)) {
        return injected(failure);
    }
    let items = items
        .get(&normalize(scope))
        .into_iter()
        .flatten()
        .map(|(name, item)| item_json(name, item))
        .collect();
    let (query, base) = request;
    let paging = Paging::parse(query, listing.default_per_page, listing.max_per_page);
    paged_object(listing.key, items, paging, base)
}

/// `DELETE` of one item: 204 if it was there, 404 if not.
pub(super) fn delete<T>(
    state: &mut State,
    items: impl FnOnce(&mut State) -> &mut Named<T>,
    scope: &Scope,
    name: &str,
) -> Response {
    if let Some(failure) = state.write_failure(&location(scope), name) {
        return injected(failure);
    }
    let removed = items(state)
        .get_mut(&normalize(scope))
        .and_then(|items| items.remove(&name.to_uppercase()));
    match removed {
        Some(_) => empty(StatusCode::NO_CONTENT),
        None => not_found(),
    }
}
