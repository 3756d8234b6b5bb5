//! Rate limits, transient faults and the in-flight count: what happens to a request before it is
//! routed, and the `x-ratelimit-*` headers on every answer.

use std::time::{SystemTime, UNIX_EPOCH};

use super::*;

/// GitHub's hourly budget for a user token, reported (not enforced) when no limit is set.
const DEFAULT_LIMIT: u32 = 5000;
const HOUR: Duration = Duration::from_secs(3600);
const PRIMARY_MESSAGE: &str = "API rate limit exceeded for user ID 1.";
const PRIMARY_DOCS: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";
const SECONDARY_MESSAGE: &str = "You have exceeded a secondary rate limit. Please wait a few \
     minutes before you try again. If you reach out to GitHub Support for help, please include \
     the request ID.";
const SECONDARY_DOCS: &str = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";

pub(super) struct Limits {
    primary: Option<PrimaryLimit>,
    /// Requests counted against the current budget.
    used: u32,
    /// Without a limit: when the current hourly window began.
    window_start: Instant,
    /// With a limit: when the budget ran out.
    exhausted_at: Option<Instant>,
    secondary: Option<SecondaryLimit>,
    /// Arrival of each write accepted within the secondary window.
    writes: VecDeque<Instant>,
    /// Pending faults, oldest first, with how many requests each still takes.
    transient: VecDeque<(Transient, u32)>,
    pub(super) in_flight: usize,
    pub(super) max_in_flight: usize,
}

/// What to do with a request before routing it.
pub(super) enum Gate {
    Pass,
    Respond(Response),
    Drop,
}

impl Limits {
    pub(super) fn new(now: Instant) -> Limits {
        Limits {
            primary: None,
            used: 0,
            window_start: now,
            exhausted_at: None,
            secondary: None,
            writes: VecDeque::new(),
            transient: VecDeque::new(),
            in_flight: 0,
            max_in_flight: 0,
        }
    }

    pub(super) fn set_primary(&mut self, limit: Option<PrimaryLimit>, now: Instant) {
        self.primary = limit;
        self.used = 0;
        self.window_start = now;
        self.exhausted_at = None;
    }

    pub(super) fn set_secondary(&mut self, limit: Option<SecondaryLimit>) {
        self.secondary = limit;
        self.writes.clear();
    }

    pub(super) fn inject(&mut self, count: u32, kind: Transient) {
        if count > 0 {
            self.transient.push_back((kind, count));
        }
    }

    fn next_transient(&mut self) -> Option<Transient> {
        let (kind, left) = self.transient.front_mut()?;
        let kind = *kind;
        *left -= 1;
        if *left == 0 {
            self.transient.pop_front();
        }
        Some(kind)
    }

    /// Faults first, then the primary budget (every request), then the secondary window (writes).
    /// A request that passes spends its primary unit once answered, unless the answer is a 304
    /// (`spend_primary`); one refused by the secondary limit spends it here.
    pub(super) fn gate(&mut self, method: &Method, now: Instant) -> Gate {
        match self.next_transient() {
            Some(Transient::Drop) => return Gate::Drop,
            Some(Transient::BadGateway) => {
                return Gate::Respond(github_error(StatusCode::BAD_GATEWAY, "Server Error"))
            }
            None => {}
        }
        if let Some(response) = self.primary_refusal(now) {
            return Gate::Respond(response);
        }
        let is_write = [Method::PUT, Method::POST, Method::PATCH, Method::DELETE].contains(method);
        if is_write {
            if let Some(response) = self.spend_secondary(now) {
                self.spend_primary(now);
                return Gate::Respond(response);
            }
        }
        Gate::Pass
    }

    /// The 403 of a spent primary budget, once any reset is due has been made.
    fn primary_refusal(&mut self, now: Instant) -> Option<Response> {
        let limit = match self.primary {
            None => {
                if now.duration_since(self.window_start) >= HOUR {
                    self.window_start = now;
                    self.used = 0;
                }
                return None;
            }
            Some(limit) => limit,
        };
        if let Some(hit) = self.exhausted_at {
            if now.duration_since(hit) >= limit.reset_after {
                self.exhausted_at = None;
                self.used = 0;
            }
        }
        if self.used >= limit.requests {
            self.exhausted_at.get_or_insert(now);
            let body = json!({"message": PRIMARY_MESSAGE, "documentation_url": PRIMARY_DOCS});
            return Some(json_value(StatusCode::FORBIDDEN, &body));
        }
        None
    }

    /// Counts one request against the primary budget (after `primary_refusal` let it through).
    pub(super) fn spend_primary(&mut self, now: Instant) {
        self.used = self.used.saturating_add(1);
        if let Some(limit) = self.primary {
            if self.used >= limit.requests {
                self.exhausted_at = Some(now);
            }
        }
    }

    /// Requests counted against the current primary budget.
    pub(super) fn used(&self) -> u32 {
        self.used
    }

    fn spend_secondary(&mut self, now: Instant) -> Option<Response> {
        let limit = self.secondary?;
        while self
            .writes
            .front()
            .is_some_and(|at| now.duration_since(*at) >= limit.window)
        {
            self.writes.pop_front();
        }
        if self.writes.len() >= limit.writes as usize {
            let body = json!({"message": SECONDARY_MESSAGE, "documentation_url": SECONDARY_DOCS});
            let mut response = json_value(StatusCode::TOO_MANY_REQUESTS, &body);
            if let Some(seconds) = limit.retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from(seconds));
            }
            return Some(response);
        }
        self.writes.push_back(now);
        None
    }

    /// The `x-ratelimit-*` headers as of `now`.
    pub(super) fn headers(&self, now: Instant) -> [(&'static str, HeaderValue); 4] {
        let (limit, reset_at) = match self.primary {
            None => (DEFAULT_LIMIT, self.window_start + HOUR),
            Some(limit) => {
                let reset_at = match self.exhausted_at {
                    Some(hit) => hit + limit.reset_after,
                    None => now + limit.reset_after,
                };
                (limit.requests, reset_at)
            }
        };
        let used = self.used.min(limit);
        [
            ("x-ratelimit-limit", HeaderValue::from(limit)),
            ("x-ratelimit-remaining", HeaderValue::from(limit - used)),
            ("x-ratelimit-used", HeaderValue::from(used)),
            (
                "x-ratelimit-reset",
                HeaderValue::from(epoch_secs_ceil(reset_at, now)),
            ),
        ]
    }
}

/// Unix seconds of `at`, rounded up so that waiting until then is never too early.
fn epoch_secs_ceil(at: Instant, now: Instant) -> u64 {
    let wall = SystemTime::now() + at.saturating_duration_since(now);
    let since_epoch = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
    since_epoch.as_secs() + u64::from(since_epoch.subsec_nanos() > 0)
}

/// Counts a request as in flight from creation until drop (answer or cancellation).
pub(super) struct InFlight(Shared);

impl InFlight {
    pub(super) fn enter(shared: &Shared) -> InFlight {
        let mut state = lock(shared);
        let limits = &mut state.limits;
        limits.in_flight += 1;
        limits.max_in_flight = limits.max_in_flight.max(limits.in_flight);
        InFlight(shared.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // Never panic in drop, even with a poisoned mutex.
        if let Ok(mut state) = self.0.lock() {
            state.limits.in_flight = state.limits.in_flight.saturating_sub(1);
        }
    }
}
