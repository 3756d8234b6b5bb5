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
    /// Per endpoint: arrival and cost of each request counted within the window.
    spent: HashMap<String, VecDeque<(Instant, u32)>>,
    /// When the first secondary-limit answer was given.
    first_limited: Option<Instant>,
    /// When each request answered with a secondary limit arrived.
    limited_arrivals: Vec<Instant>,
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
            spent: HashMap::new(),
            first_limited: None,
            limited_arrivals: Vec::new(),
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
        self.spent.clear();
        self.first_limited = None;
        self.limited_arrivals.clear();
    }

    /// GitHub's secondary limits as a request arrives (counted in flight already): too many in
    /// flight, or past its endpoint's points, answers 403. Counts the points of one let in.
    pub(super) fn arrive(&mut self, method: &Method, path: &str, now: Instant) -> Option<Response> {
        let limit = self.secondary?;
        if limit.in_flight.is_some_and(|most| self.in_flight > most) {
            return Some(secondary_answer(StatusCode::FORBIDDEN, limit.retry_after));
        }
        let points = limit.points?;
        let cost = match *method {
            Method::GET | Method::HEAD | Method::OPTIONS => limit.read_points,
            _ => limit.write_points,
        };
        let spent = self.spent.entry(endpoint(method, path)).or_default();
        while spent
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) >= limit.window)
        {
            spent.pop_front();
        }
        let sum: u32 = spent.iter().map(|(_, cost)| cost).sum();
        if sum.saturating_add(cost) > points {
            return Some(secondary_answer(StatusCode::FORBIDDEN, limit.retry_after));
        }
        spent.push_back((now, cost));
        None
    }

    /// A secondary-limit answer is given now to a request that arrived at `arrived`.
    fn limited(&mut self, arrived: Instant, now: Instant) {
        self.first_limited.get_or_insert(now);
        self.limited_arrivals.push(arrived);
    }

    /// Each secondary-limit answer's request: how long after the first such answer it arrived
    /// (zero for those that arrived before).
    pub(super) fn limited_arrivals(&self) -> Vec<Duration> {
        let Some(first) = self.first_limited else {
            return Vec::new();
        };
        let since = |at: &Instant| at.saturating_duration_since(first);
        self.limited_arrivals.iter().map(since).collect()
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

    /// Faults first, then the primary budget (every request), then the secondary limits: what
    /// [`Limits::arrive`] found (`limited`), then the window of writes. A request that passes
    /// spends its primary unit once answered, unless the answer is a 304 (`spend_primary`); one
    /// refused by a secondary limit spends it here.
    pub(super) fn gate(
        &mut self,
        method: &Method,
        (arrived, limited): (Instant, Option<Response>),
        now: Instant,
    ) -> Gate {
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
        let limited = limited.or_else(|| is_write.then(|| self.spend_secondary(now)).flatten());
        match limited {
            Some(response) => {
                self.spend_primary(now);
                self.limited(arrived, now);
                Gate::Respond(response)
            }
            None => Gate::Pass,
        }
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
            return Some(secondary_answer(
                StatusCode::TOO_MANY_REQUESTS,
                limit.retry_after,
            ));
        }
        self.writes.push_back(now);
        None
    }

    /// The budget an answer reports: the limit, and what is used of it.
    fn budget(&self) -> (u32, u32) {
        let limit = self.primary.map_or(DEFAULT_LIMIT, |limit| limit.requests);
        (limit, self.used.min(limit))
    }

    /// What `x-ratelimit-used` reports.
    pub(super) fn reported_used(&self) -> u32 {
        self.budget().1
    }

    /// The `x-ratelimit-*` headers as of `now`.
    pub(super) fn headers(&self, now: Instant) -> [(&'static str, HeaderValue); 4] {
        let reset_at = match (self.primary, self.exhausted_at) {
            (None, _) => self.window_start + HOUR,
            (Some(limit), Some(hit)) => hit + limit.reset_after,
            (Some(limit), None) => now + limit.reset_after,
        };
        let (limit, used) = self.budget();
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

fn secondary_answer(status: StatusCode, retry_after: Option<u64>) -> Response {
    let body = json!({"message": SECONDARY_MESSAGE, "documentation_url": SECONDARY_DOCS});
    let mut response = json_value(status, &body);
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(seconds));
    }
    response
}

/// A request's endpoint as GitHub budgets it: the method and the path with every owner,
/// repository, organization, environment, name or id replaced by `{}`.
fn endpoint(method: &Method, path: &str) -> String {
    let mut template = method.to_string();
    let mut named = 0;
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        template.push('/');
        // `public-key` sits where a secret's name would; names cannot hold a `-`.
        if named > 0 && segment != "public-key" {
            template.push_str("{}");
            named -= 1;
            continue;
        }
        template.push_str(segment);
        named = match segment {
            "repos" => 2,
            "orgs" | "organizations" | "repositories" | "environments" | "secrets"
            | "variables" | "users" => 1,
            _ => 0,
        };
    }
    template
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
