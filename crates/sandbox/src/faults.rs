//! Scripted faults: chosen requests (by method and path) answered wrongly, for a fault matrix
//! of every stage of `apply`: a status, a dropped connection, a hang, a broken or foreign body,
//! an answer lost after the write landed, a rate limit, a revoked token.
//!
//! A listing is `GET .../actions/secrets` (the query is ignored), the key `GET .../public-key`,
//! a write `PUT .../actions/secrets/NAME`; `skip` lets the first matching requests through, so
//! `skip: 1` on the listing reaches apply's final listing.

use super::*;

/// One scripted fault: see [`Sandbox::inject_fault`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `GET`, `PUT`, ...; `None` matches every method.
    pub method: Option<&'static str>,
    /// The request's path (without the query) must end with this: `/actions/secrets` (a
    /// listing), `/public-key`, `/ALIYUN_PASSWORD` (one secret's writes); `""` matches every path.
    pub path_suffix: String,
    /// Let this many matching requests through first.
    pub skip: u32,
    /// Then fault this many matching requests ([`u32::MAX`]: forever).
    pub times: u32,
    pub kind: FaultKind,
}

impl Fault {
    /// A fault of `kind` on `method` requests whose path ends with `path_suffix`: every one
    /// ([`u32::MAX`] times), none skipped.
    pub fn new(method: &'static str, path_suffix: &str, kind: FaultKind) -> Fault {
        Fault {
            method: Some(method),
            path_suffix: path_suffix.to_owned(),
            skip: 0,
            times: u32::MAX,
            kind,
        }
    }

    /// Only the first `times` matching requests (after those skipped) are faulted.
    pub fn times(mut self, times: u32) -> Fault {
        self.times = times;
        self
    }

    /// The first `skip` matching requests pass untouched.
    pub fn skip(mut self, skip: u32) -> Fault {
        self.skip = skip;
        self
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        aimed_at(self.method, &self.path_suffix, method, path)
    }
}

/// Whether a request is one a fault, a hold or [`Sandbox::arrived`] aims at: its method
/// (`None`: any) and the end of its path.
pub(super) fn aimed_at(want: Option<&str>, path_suffix: &str, method: &Method, path: &str) -> bool {
    want.is_none_or(|m| m.eq_ignore_ascii_case(method.as_str())) && path.ends_with(path_suffix)
}

/// What a faulted request gets. Unless said otherwise the request is not carried out: nothing
/// is written, as when something in front of GitHub failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// This status with a GitHub-shaped JSON body carrying `message`.
    Status(u16, String),
    /// Close the connection without any answer.
    Reset,
    /// Answer only after this long (a 504, as GitHub's front end does): make it longer than the
    /// client's `--timeout` to play an answer that never comes.
    Hang(Duration),
    /// Carried out; the answer's JSON body is cut in half (a 204 becomes a 200 with half a
    /// JSON object), framed correctly.
    TruncatedJson,
    /// 200 with `text/html` and a page that is not JSON (a captive portal or a proxy's login).
    WrongContentType,
    /// This status (e.g. 502) with GitHub's HTML error page, `text/html`.
    HtmlErrorPage(u16),
    /// Carried out (the write lands), then the connection closes with no answer: the answer was
    /// lost on the way back.
    LostAnswer,
    /// GitHub's secondary rate limit: 429 with `retry-after` (seconds).
    RateLimit { retry_after: u64 },
    /// From this request on the caller's token answers 401, on every path, until
    /// [`Sandbox::clear_faults`].
    RevokeToken,
    /// 200 with a JSON body that never ends, one byte every 100 ms: each read gets data in
    /// time, so only a bound on the whole answer ends it. Not carried out.
    Trickle,
    /// 200 with a JSON body that never ends, as fast as the client reads it. Not carried out.
    EndlessBody,
}

struct Armed {
    fault: Fault,
    /// Matching requests let through so far (at most `skip`).
    passed: u32,
    /// Matching requests faulted so far.
    fired: u32,
}

#[derive(Default)]
pub(super) struct Faults {
    armed: Vec<Armed>,
    revoked: BTreeSet<String>,
    holds: Vec<Arc<Hold>>,
}

/// A barrier: matching requests wait until `count` of them have arrived (or `limit` has passed),
/// so a test can have a known number of requests in flight together before any is answered,
/// whatever the machine's load. See [`Sandbox::hold`].
pub(super) struct Hold {
    method: &'static str,
    path_suffix: String,
    count: usize,
    limit: Duration,
    /// Counted under the sandbox's lock; read by the waiters.
    arrived: std::sync::atomic::AtomicUsize,
    reached: tokio::sync::Notify,
}

impl Hold {
    fn matches(&self, method: &Method, path: &str) -> bool {
        aimed_at(Some(self.method), &self.path_suffix, method, path)
    }

    fn is_reached(&self) -> bool {
        self.arrived.load(std::sync::atomic::Ordering::SeqCst) >= self.count
    }

    /// Wait until the barrier is reached, or its limit has passed (the test then sees fewer
    /// requests than it expected and fails on its own assertion, instead of hanging).
    pub(super) async fn wait(&self) {
        let reached = async {
            loop {
                // Registered before the check, so a `notify_waiters` between the two is not lost.
                let notified = self.reached.notified();
                if self.is_reached() {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(self.limit, reached).await;
    }
}

/// What to do with one request.
pub(super) enum Plan {
    Pass,
    /// Answer this instead; the request is not carried out.
    Replace(Response),
    /// Close the connection, not carrying the request out.
    Reset,
    /// Wait, then answer 504; not carried out.
    Hang(Duration),
    /// Carry the request out, then change what goes back.
    After(After),
}

pub(super) enum After {
    Truncate,
    Lose,
}

const HTML_CONTENT_TYPE: &str = "text/html; charset=utf-8";
const PORTAL_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Sign in to the network</title>\
     </head><body><form action=\"/login\"><input name=\"user\"></form></body></html>\n";
const UNICORN_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Unicorn! &middot; GitHub\
     </title></head><body><p><strong>We had issues producing the response to your request.\
     </strong></p><p>Sorry about that. Please try refreshing and contact us if the problem \
     persists.</p></body></html>\n";
const TIMEOUT_MESSAGE: &str = "We couldn't respond to your request in time. Sorry about that. \
     Please try resubmitting your request and contact us if the problem persists.";
const SECONDARY_MESSAGE: &str = "You have exceeded a secondary rate limit. Please wait a few \
     minutes before you try again.";

impl Faults {
    pub(super) fn inject(&mut self, fault: Fault) {
        self.armed.push(Armed {
            fault,
            passed: 0,
            fired: 0,
        });
    }

    pub(super) fn clear(&mut self) {
        self.armed.clear();
        self.revoked.clear();
        self.holds.clear();
    }

    /// Counts the request at every barrier it matches, and returns those it must wait at.
    pub(super) fn arrive(&mut self, method: &Method, path: &str) -> Vec<Arc<Hold>> {
        let mut waits = Vec::new();
        for hold in &self.holds {
            if !hold.matches(method, path) || hold.is_reached() {
                continue;
            }
            hold.arrived
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if hold.is_reached() {
                hold.reached.notify_waiters();
            }
            waits.push(Arc::clone(hold));
        }
        waits
    }

    /// Decides the fate of a request. Every armed fault that matches counts it; the first one
    /// due to fire decides. A revoked token is refused before anything else.
    pub(super) fn plan(&mut self, method: &Method, path: &str, token: Option<&str>) -> Plan {
        let mut chosen = None;
        for armed in &mut self.armed {
            if !armed.fault.matches(method, path) {
                continue;
            }
            if armed.passed < armed.fault.skip {
                armed.passed += 1;
            } else if armed.fired < armed.fault.times && chosen.is_none() {
                armed.fired += 1;
                chosen = Some(armed.fault.kind.clone());
            }
        }
        if chosen == Some(FaultKind::RevokeToken) {
            if let Some(token) = token {
                self.revoked.insert(token.to_owned());
            }
        }
        if token.is_some_and(|t| self.revoked.contains(t)) {
            return Plan::Replace(github_error(StatusCode::UNAUTHORIZED, "Bad credentials"));
        }
        match chosen {
            None | Some(FaultKind::RevokeToken) => Plan::Pass,
            Some(FaultKind::Status(status, message)) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                Plan::Replace(github_error(status, &message))
            }
            Some(FaultKind::Reset) => Plan::Reset,
            Some(FaultKind::Hang(after)) => Plan::Hang(after),
            Some(FaultKind::TruncatedJson) => Plan::After(After::Truncate),
            Some(FaultKind::WrongContentType) => Plan::Replace(html(StatusCode::OK, PORTAL_PAGE)),
            Some(FaultKind::HtmlErrorPage(status)) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                Plan::Replace(html(status, UNICORN_PAGE))
            }
            Some(FaultKind::LostAnswer) => Plan::After(After::Lose),
            Some(FaultKind::Trickle) => Plan::Replace(endless(1, Duration::from_millis(100))),
            Some(FaultKind::EndlessBody) => Plan::Replace(endless(64 * 1024, Duration::ZERO)),
            Some(FaultKind::RateLimit { retry_after }) => {
                let body = json!({"message": SECONDARY_MESSAGE, "documentation_url": DOCS_URL});
                let mut response = json_value(StatusCode::TOO_MANY_REQUESTS, &body);
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from(retry_after));
                Plan::Replace(response)
            }
        }
    }
}

fn html(status: StatusCode, page: &'static str) -> Response {
    let mut response = Response::new(Body::from(page));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(HTML_CONTENT_TYPE));
    response
}

/// A 200 whose JSON body opens and never closes: `chunk` bytes of blanks every `every`.
/// The stream ends when the client hangs up.
fn endless(chunk: usize, every: Duration) -> Response {
    let blanks = Bytes::from(vec![b' '; chunk]);
    let body = futures::stream::unfold(true, move |first| {
        let blanks = blanks.clone();
        async move {
            if !every.is_zero() {
                tokio::time::sleep(every).await;
            }
            let next = match first {
                true => Bytes::from_static(b"{"),
                false => blanks,
            };
            Some((Ok::<Bytes, std::convert::Infallible>(next), false))
        }
    });
    let mut response = Response::new(Body::from_stream(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    response
}

/// What a hung request answers once its wait is over.
pub(super) fn hung() -> Response {
    github_error(StatusCode::GATEWAY_TIMEOUT, TIMEOUT_MESSAGE)
}

/// The answer, carried out, with its JSON body cut in half (status and headers kept; a 204
/// becomes a 200, which may carry a body).
pub(super) async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    let cut = match bytes.is_empty() {
        true => Bytes::from_static(b"{\"message\": \"Cre"),
        false => bytes.slice(..bytes.len() / 2),
    };
    if parts.status == StatusCode::NO_CONTENT {
        parts.status = StatusCode::OK;
    }
    parts.headers.remove(http::header::CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    Response::from_parts(parts, Body::from(cut))
}

impl Sandbox {
    /// Arms a scripted fault, after those already armed (the first due to fire decides).
    ///
    /// ```ignore
    /// // The final listing of an apply (the second listing) answers 503 forever:
    /// sandbox.inject_fault(Fault::new("GET", "/actions/secrets", FaultKind::Status(503, "Unavailable".into())).skip(1));
    /// ```
    pub fn inject_fault(&self, fault: Fault) {
        lock(&self.state).faults.inject(fault);
    }

    /// Holds the answers to the first `count` `method` requests whose path ends with
    /// `path_suffix` until all `count` have arrived, for at most `limit`: they are then in flight
    /// together, and scripted faults decide their answers in arrival order. Cleared by
    /// [`Sandbox::clear_faults`].
    pub fn hold(&self, method: &'static str, path_suffix: &str, count: usize, limit: Duration) {
        lock(&self.state).faults.holds.push(Arc::new(Hold {
            method,
            path_suffix: path_suffix.to_owned(),
            count,
            limit,
            arrived: std::sync::atomic::AtomicUsize::new(0),
            reached: tokio::sync::Notify::new(),
        }));
    }

    /// Disarms every scripted fault and restores every revoked token.
    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }
}
