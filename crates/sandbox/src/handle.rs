//! Handle methods for tests: repositories, organizations and environments; secrets and variables
//! in any scope; limits, faults and the concurrency gauge.

use super::*;

impl Sandbox {
    /// Makes `full_name` (`owner/repo`) exist, with its organization; returns its stable id.
    pub fn add_repo(&self, full_name: &str) -> u64 {
        lock(&self.state).ensure_repo(full_name)
    }

    /// The id of an existing repository (any case). When every repository exists (no
    /// `SandboxConfig::repos`), a repository not seen before gets its id now.
    pub fn repo_id(&self, full_name: &str) -> Option<u64> {
        let mut state = lock(&self.state);
        state
            .repo_exists(full_name)
            .then(|| state.ensure_repo(full_name))
    }

    /// Whether the tokens' user is an admin of `full_name`, as `permissions` in `GET
    /// /repos/{o}/{r}` tells (admin by default). Only that answer changes: writes are not refused.
    pub fn set_repo_admin(&self, full_name: &str, admin: bool) {
        let mut state = lock(&self.state);
        let key = full_name.to_lowercase();
        match admin {
            true => state.not_admin.remove(&key),
            false => state.not_admin.insert(key),
        };
    }

    /// Paging links point at `origin` (e.g. another host's `http://127.0.0.1:PORT`) instead of
    /// the sandbox, as a hostile or misconfigured server's would; `None` restores the sandbox.
    pub fn set_link_origin(&self, origin: Option<&str>) {
        lock(&self.state).link_origin = origin.map(str::to_owned);
    }

    /// Stops GitHub's clock at `unix_seconds` (it never goes back past a time already given):
    /// writes until [`Sandbox::advance_clock`] share one `updated_at`, and answers' `Date` too.
    pub fn pin_clock(&self, unix_seconds: i64) {
        lock(&self.state).clock_pinned = Some(unix_seconds);
    }

    /// Moves GitHub's clock `seconds` on, pinned or not: a write after this lands in a later
    /// second than every write before it, which is what a test of drift needs.
    pub fn advance_clock(&self, seconds: i64) {
        lock(&self.state).advance_clock(seconds);
    }

    /// Makes the organization exist even with no repository of it.
    pub fn add_org(&self, org: &str) {
        lock(&self.state).orgs.insert(org.to_lowercase());
    }

    /// Creates the environment, and the repository if needed.
    pub fn add_environment(&self, repo: &str, env: &str) {
        let mut state = lock(&self.state);
        state.ensure_repo(repo);
        state.ensure_environment(repo, env);
    }

    pub fn has_environment(&self, repo: &str, env: &str) -> bool {
        let scope = Scope::Environment(repo.to_owned(), env.to_owned());
        lock(&self.state).scope_exists(&scope)
    }

    /// Secret names of the scope, sorted and upper-case.
    pub fn scope_names(&self, scope: &Scope) -> Vec<String> {
        lock(&self.state)
            .secrets_of(scope)
            .map(|secrets| secrets.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn scope_plaintext(&self, scope: &Scope, name: &str) -> Option<Vec<u8>> {
        let state = lock(&self.state);
        state.secret(scope, name).map(|s| s.plaintext.clone())
    }

    /// The sealed bytes as received: equal bytes mean the value was not sent again.
    pub fn scope_ciphertext(&self, scope: &Scope, name: &str) -> Option<Vec<u8>> {
        let state = lock(&self.state);
        state.secret(scope, name).map(|s| s.ciphertext.clone())
    }

    pub fn scope_updated_at(&self, scope: &Scope, name: &str) -> Option<String> {
        let state = lock(&self.state);
        state.secret(scope, name).map(|s| s.updated_at.clone())
    }

    /// The scope's `key_id` and public key, as `GET .../public-key` serves them.
    pub fn scope_public_key(&self, scope: &Scope) -> (String, [u8; 32]) {
        let (key_id, key) = lock(&self.state).public_key_of(scope);
        (key_id, key.to_bytes())
    }

    /// As if someone set the secret in GitHub's web UI: seals it to the scope's key, stores it
    /// and bumps updated_at. Makes the scope (repository, environment, organization) exist. A
    /// new organization secret gets visibility `all`; an existing one keeps its access.
    pub fn scope_put_outside(&self, scope: &Scope, name: &str, plaintext: &[u8]) {
        let mut state = lock(&self.state);
        state.ensure_scope(scope);
        let (_, key) = state.public_key_of(scope);
        let ciphertext = key
            .seal(&mut OsRng, plaintext)
            .expect("sealing to a valid public key cannot fail");
        state.store_secret(scope, name, Some((ciphertext, plaintext.to_vec())), None);
    }

    /// Visibility (`all`, `private`, `selected`) and selected repository ids (sorted) of an
    /// organization secret; `None` if absent or not in an organization scope.
    pub fn org_secret_access(&self, scope: &Scope, name: &str) -> Option<(String, Vec<u64>)> {
        let state = lock(&self.state);
        let access = state.secret(scope, name)?.access.as_ref()?;
        Some(access_tuple(access))
    }

    /// Like [`Sandbox::org_secret_access`], for an organization variable.
    pub fn org_variable_access(&self, scope: &Scope, name: &str) -> Option<(String, Vec<u64>)> {
        let state = lock(&self.state);
        let access = state.variable(scope, name)?.access.as_ref()?;
        Some(access_tuple(access))
    }

    /// The value of a variable.
    pub fn variable(&self, scope: &Scope, name: &str) -> Option<String> {
        let state = lock(&self.state);
        state.variable(scope, name).map(|v| v.value.clone())
    }

    /// Variable names of the scope, sorted and upper-case.
    pub fn variable_names(&self, scope: &Scope) -> Vec<String> {
        lock(&self.state)
            .variables_of(scope)
            .map(|variables| variables.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// As if someone set the variable in GitHub's web UI (bumps updated_at). Makes the scope
    /// exist; a new organization variable gets visibility `all`.
    ///
    /// # Panics
    /// For Dependabot scopes, which have no variables.
    pub fn set_variable_outside(&self, scope: &Scope, name: &str, value: &str) {
        assert!(
            !matches!(scope, Scope::DependabotRepo(_) | Scope::DependabotOrg(_)),
            "Dependabot has no variables"
        );
        let mut state = lock(&self.state);
        state.ensure_scope(scope);
        state.store_variable(scope, name, Some(value.to_owned()), None);
    }

    /// After `requests` requests every request answers 403 (primary rate limit) until
    /// `reset_after` has passed since the budget ran out; `None` lifts it. Restarts the count.
    pub fn set_primary_limit(&self, limit: Option<PrimaryLimit>) {
        lock(&self.state).limits.set_primary(limit, Instant::now());
    }

    /// GitHub's secondary rate limits (see [`SecondaryLimit`]): more than `writes` writes within
    /// a sliding `window` answer 429; a request arriving while `in_flight` are, or past its
    /// endpoint's `points` in the window, answers 403. `None` lifts them. Rejected requests do
    /// not count against a window.
    pub fn set_secondary_limit(&self, limit: Option<SecondaryLimit>) {
        lock(&self.state).limits.set_secondary(limit);
    }

    /// For each secondary-limit answer since [`Sandbox::set_secondary_limit`], how long after
    /// the first such answer its request arrived (zero if before): a client that learns from the
    /// first answer and honours its `retry-after` draws none later than that.
    pub fn limited_arrivals(&self) -> Vec<Duration> {
        lock(&self.state).limits.limited_arrivals()
    }

    /// The next `count` requests fail with `kind` (after any faults already queued).
    pub fn inject_transient(&self, count: u32, kind: Transient) {
        lock(&self.state).limits.inject(count, kind);
    }

    /// The most requests handled at once since start or [`Sandbox::reset_max_in_flight`],
    /// counted from arrival to answer (latency included).
    pub fn max_in_flight(&self) -> usize {
        lock(&self.state).limits.max_in_flight
    }

    /// Requests counted against the primary budget (the hourly window, or the limit set with
    /// [`Sandbox::set_primary_limit`], which restarts it). A 304 is not counted, as on GitHub.
    pub fn primary_used(&self) -> u32 {
        lock(&self.state).limits.used()
    }

    pub fn reset_max_in_flight(&self) {
        let mut state = lock(&self.state);
        state.limits.max_in_flight = state.limits.in_flight;
    }

    /// The primary budget spent so far: `x-ratelimit-used` as the next answer would carry it.
    pub fn rate_limit_used(&self) -> u64 {
        u64::from(lock(&self.state).limits.reported_used())
    }
}

fn access_tuple(access: &Access) -> (String, Vec<u64>) {
    let ids = access.selected.iter().copied().collect();
    (access.visibility.as_str().to_owned(), ids)
}
