//! When a request to GitHub may start: GitHub's secondary limits, as a budget spent fast while it
//! lasts. At most `in_flight` requests at once, and per REST endpoint at most `points` within
//! any sliding `window` (a read costs `read_points`, a write `write_points`). A request that does
//! not fit waits until enough of the oldest spending leaves the window; one that fits goes at
//! once. A secondary-limit answer teaches the endpoint's real budget.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use http::Method;
use tokio::sync::{Notify, Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// GitHub's secondary limits, as a server states them (`[github.limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Requests in flight at once.
    pub in_flight: usize,
    /// Points one endpoint may spend within any `window`.
    pub points: u32,
    pub window: Duration,
    /// What a GET costs.
    pub read_points: u32,
    /// What a PUT, POST, PATCH or DELETE costs.
    pub write_points: u32,
}

impl Default for Budget {
    /// github.com's documented secondary limits.
    fn default() -> Budget {
        Budget {
            in_flight: 100,
            points: 900,
            window: Duration::from_secs(60),
            read_points: 1,
            write_points: 5,
        }
    }
}

/// A request's endpoint as GitHub budgets it: method and path with every owner, repository,
/// organization, environment, item name or id replaced by `{}`, so that every secret's PUT in
/// every repository is one endpoint. `uri` may be absolute (a `Link` to follow) and carry a query.
pub(super) fn endpoint(method: &Method, uri: &str) -> String {
    let path = match uri.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |at| &rest[at..]),
        None => uri,
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut template = format!("{method} ");
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

/// One request's points within its endpoint's window.
///
/// GitHub counts a request when it arrives, which is after we start it (a connection set-up, a
/// busy machine on either side) and before we have its answer. So its points leave our window a
/// window after the answer, not after the start: whatever the delay on the way in, the server's
/// count never sees the budget exceeded. The safety margin this leaves is one round trip.
struct Spend {
    id: u64,
    cost: u32,
    /// When the answer (or the failure) came; until then the points do not start to expire.
    answered: Option<Instant>,
}

/// One endpoint's spending.
struct Endpoint {
    /// What the server allows in a window: the configured budget, lowered by what a limit
    /// answer taught.
    budget: u32,
    /// Requests started within the window, oldest first.
    spends: VecDeque<Spend>,
    /// Points held by requests admitted but waiting for a slot in flight.
    reserved: u32,
}

impl Endpoint {
    fn spent(&self) -> u32 {
        self.spends.iter().map(|s| s.cost).sum()
    }

    fn expire(&mut self, now: Instant, window: Duration) {
        self.spends
            .retain(|s| s.answered.is_none_or(|at| at + window > now));
    }

    /// Reserves `cost` now, or says when enough will have expired for it (`None`: only an
    /// answer or a released reservation can free it, and those wake the waiters).
    fn reserve(
        &mut self,
        cost: u32,
        now: Instant,
        window: Duration,
    ) -> Result<(), Option<Instant>> {
        self.expire(now, window);
        let need = (self.spent() + self.reserved + cost).saturating_sub(self.budget);
        if need == 0 {
            self.reserved += cost;
            return Ok(());
        }
        let mut expiring: Vec<(Instant, u32)> = self
            .spends
            .iter()
            .filter_map(|s| s.answered.map(|at| (at + window, s.cost)))
            .collect();
        expiring.sort_unstable();
        let mut freed = 0;
        for (at, cost) in expiring {
            freed += cost;
            if freed >= need {
                return Err(Some(at));
            }
        }
        Err(None)
    }
}

#[derive(Default)]
struct Book {
    endpoints: HashMap<String, Endpoint>,
    next_id: u64,
}

pub(super) struct Pacer {
    slots: Semaphore,
    budget: Budget,
    book: Mutex<Book>,
    /// Woken when points come back at once: a refund, or an admission never sent.
    freed: Notify,
    /// Woken on every answer, for requests waiting on points still in flight. Those waiting on
    /// a time need not wake: an answer's points expire after every earlier answer's.
    answered: Notify,
}

/// A request admitted: its points reserved and a slot in flight held until dropped.
pub(super) struct Admitted<'a> {
    pacer: &'a Pacer,
    endpoint: String,
    cost: u32,
    started: bool,
    _slot: Option<SemaphorePermit<'a>>,
}

/// A request that went out: what it cost, and what its endpoint had spent in the window before.
#[derive(Debug)]
pub(super) struct Sent {
    endpoint: String,
    id: u64,
    cost: u32,
    spent_before: u32,
}

impl Pacer {
    /// `ceiling` (`--concurrency`) lowers the budget's `in_flight`, never raises it.
    pub(super) fn new(budget: Budget, ceiling: Option<usize>) -> Pacer {
        let in_flight = ceiling.map_or(budget.in_flight, |c| c.min(budget.in_flight));
        Pacer {
            slots: Semaphore::new(in_flight.max(1)),
            budget,
            book: Mutex::new(Book::default()),
            freed: Notify::new(),
            answered: Notify::new(),
        }
    }

    fn window(&self) -> Duration {
        self.budget.window
    }

    /// Never above the budget, which a request costing more could never fit.
    fn cost(&self, method: &Method) -> u32 {
        let cost = match *method {
            Method::GET | Method::HEAD | Method::OPTIONS => self.budget.read_points,
            _ => self.budget.write_points,
        };
        cost.min(self.budget.points)
    }

    /// Waits until the request's points fit its endpoint's window, then for a slot in flight.
    /// Points come first so that a request waiting on its endpoint holds no slot another
    /// endpoint's request could use.
    pub(super) async fn admit(&self, method: &Method, uri: &str) -> Admitted<'_> {
        let endpoint = endpoint(method, uri);
        let cost = self.cost(method);
        self.reserve(&endpoint, cost).await;
        // From here on a dropped future gives the points back.
        let mut admitted = Admitted {
            pacer: self,
            endpoint,
            cost,
            started: false,
            _slot: None,
        };
        let slot = self.slots.acquire().await;
        admitted._slot = Some(slot.expect("the semaphore is never closed"));
        admitted
    }

    async fn reserve(&self, endpoint: &str, cost: u32) {
        loop {
            let freed = self.freed.notified();
            let answered = self.answered.notified();
            tokio::pin!(freed, answered);
            freed.as_mut().enable();
            answered.as_mut().enable();
            let wait = {
                let mut book = self.book.lock().expect("pacer lock");
                let configured = self.budget.points;
                let spending = book
                    .endpoints
                    .entry(endpoint.to_owned())
                    .or_insert_with(|| Endpoint {
                        budget: configured,
                        spends: VecDeque::new(),
                        reserved: 0,
                    });
                match spending.reserve(cost, Instant::now(), self.window()) {
                    Ok(()) => return,
                    Err(wait) => wait,
                }
            };
            match wait {
                Some(until) => tokio::select! {
                    () = tokio::time::sleep_until(until) => {}
                    () = &mut freed => {}
                },
                None => tokio::select! {
                    () = &mut answered => {}
                    () = &mut freed => {}
                },
            }
        }
    }

    /// `sent` was answered (or failed): its points expire a window from now.
    pub(super) fn answered(&self, sent: &Sent) {
        let now = Instant::now();
        let mut book = self.book.lock().expect("pacer lock");
        if let Some(spending) = book.endpoints.get_mut(&sent.endpoint) {
            let spend = spending.spends.iter_mut().find(|s| s.id == sent.id);
            if let Some(spend) = spend {
                spend.answered = Some(now);
            }
        }
        drop(book);
        self.answered.notify_waiters();
    }

    /// What a secondary-limit answer to `sent` teaches: it was not counted, so its points come
    /// back, and its endpoint allows no more than was spent in the window before it.
    pub(super) fn limited(&self, sent: &Sent) {
        let mut book = self.book.lock().expect("pacer lock");
        if let Some(spending) = book.endpoints.get_mut(&sent.endpoint) {
            spending.spends.retain(|s| s.id != sent.id);
            let learned = sent.spent_before.max(sent.cost);
            if learned < spending.budget {
                spending.budget = learned;
                tracing::info!(
                    endpoint = %sent.endpoint,
                    points = learned,
                    "secondary rate limit: the endpoint's budget is lowered"
                );
            }
        }
        drop(book);
        self.freed.notify_waiters();
    }

    #[cfg(test)]
    fn budget_of(&self, endpoint: &str) -> Option<u32> {
        let book = self.book.lock().expect("pacer lock");
        book.endpoints.get(endpoint).map(|e| e.budget)
    }
}

impl Admitted<'_> {
    /// The request goes out now: its reserved points are spent, until a window after its answer.
    pub(super) fn start(&mut self) -> Sent {
        let pacer = self.pacer;
        let mut book = pacer.book.lock().expect("pacer lock");
        book.next_id += 1;
        let id = book.next_id;
        let now = Instant::now();
        let window = pacer.window();
        let spending = book
            .endpoints
            .get_mut(&self.endpoint)
            .expect("an admitted request's endpoint is booked");
        spending.expire(now, window);
        let spent_before = spending.spent();
        spending.reserved -= self.cost;
        spending.spends.push_back(Spend {
            id,
            cost: self.cost,
            answered: None,
        });
        self.started = true;
        drop(book);
        Sent {
            endpoint: self.endpoint.clone(),
            id,
            cost: self.cost,
            spent_before,
        }
    }
}

impl Drop for Admitted<'_> {
    /// Admitted but never sent (a pause began, or the write was refused): the points go back.
    fn drop(&mut self) {
        if self.started {
            return;
        }
        if let Ok(mut book) = self.pacer.book.lock() {
            if let Some(spending) = book.endpoints.get_mut(&self.endpoint) {
                spending.reserved = spending.reserved.saturating_sub(self.cost);
            }
        }
        self.pacer.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests;
