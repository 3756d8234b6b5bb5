//! Sending one request to GitHub, politely: started when the pacer says GitHub's secondary
//! limits allow it, GitHub's rate limits waited out (and every other request paused meanwhile),
//! transient failures retried with jittered backoff a bounded number of times, and all waiting
//! bounded by `max_wait`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::header::HeaderMap;
use http::StatusCode;
use octocrab::Octocrab;
use rand_core::{OsRng, RngCore};

use super::error::{clean, GithubError, Op};
use super::pacer::{Pacer, Sent};
use crate::config::ApiUrl;
use crate::config::Budget;

/// How hard secretsync may push GitHub, and how long it may wait on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// A ceiling on requests in flight below the budget's (`--concurrency`).
    pub concurrency: Option<usize>,
    /// The server's secondary limits (`[github.limits]`).
    pub budget: Budget,
    /// The most time, in all, spent waiting for rate limits before giving up.
    pub max_wait: Duration,
    /// Retries of a request that failed with a 5xx or a broken connection.
    pub retries: u32,
    /// The first retry's delay; each later one doubles it, with ±50% jitter.
    pub backoff: Duration,
    /// How long to wait for an answer before counting the request as failed (and retrying).
    pub timeout: Duration,
}

impl Default for Pacing {
    fn default() -> Pacing {
        Pacing {
            concurrency: None,
            budget: Budget::default(),
            max_wait: Duration::from_secs(15 * 60),
            retries: 3,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(60),
        }
    }
}

pub(super) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

#[derive(Default)]
struct Pause {
    until: Option<Instant>,
    waited: Duration,
}

pub(super) struct Transport {
    octo: Octocrab,
    api: ApiUrl,
    pacer: Pacer,
    pacing: Pacing,
    pause: Mutex<Pause>,
    /// Set on Ctrl-C: writes not yet sent are refused; reads still go, so what was written can
    /// be listed and recorded.
    stopped: Arc<AtomicBool>,
    /// Set on a 401: the writes queued behind the bound are not sent with a rejected token.
    token_rejected: AtomicBool,
}

/// Whether a successful answer is the answer expected; `Err` says what is wrong with it. A
/// wrong answer is retried like a 5xx: a GET is safe to repeat, and so is a PUT of a sealed
/// value.
pub(super) type Check<'a> = &'a (dyn Fn(&Reply) -> Result<(), String> + Sync);

/// What a reply says about rate limits.
#[derive(Debug, PartialEq, Eq)]
enum Limit {
    /// The hourly budget is spent: wait until it resets.
    Primary(Duration),
    /// Too much too fast: wait `retry-after`, or at least a minute, growing each time.
    Secondary(Option<Duration>),
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn classify(reply: &Reply) -> Option<Limit> {
    let status = reply.status.as_u16();
    if status != 403 && status != 429 {
        return None;
    }
    if header_u64(&reply.headers, "x-ratelimit-remaining") == Some(0) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let reset = header_u64(&reply.headers, "x-ratelimit-reset").unwrap_or(now + 60);
        // One second more: GitHub's reset is a whole second that may not have ended yet.
        return Some(Limit::Primary(Duration::from_secs(
            reset.saturating_sub(now).saturating_add(1),
        )));
    }
    let retry_after = header_u64(&reply.headers, "retry-after").map(Duration::from_secs);
    if status == 429 || retry_after.is_some() || reply.body.contains("secondary rate limit") {
        return Some(Limit::Secondary(retry_after));
    }
    None
}

/// What one request's attempts have met so far: failures bound the retries, and each
/// secondary rate limit without `retry-after` waits longer than the one before.
#[derive(Default)]
struct Tries {
    failures: u32,
    secondary_hits: u32,
}

fn jitter(base: Duration, attempt: u32) -> Duration {
    let doubled = base.saturating_mul(1u32 << attempt.min(10));
    let factor = 0.5 + f64::from(OsRng.next_u32() % 1000) / 1000.0;
    doubled.mul_f64(factor)
}

impl Transport {
    pub(super) fn new(octo: Octocrab, api: ApiUrl, pacing: Pacing) -> Transport {
        Transport {
            octo,
            api,
            pacer: Pacer::new(pacing.budget, pacing.concurrency),
            pacing,
            pause: Mutex::new(Pause::default()),
            stopped: Arc::new(AtomicBool::new(false)),
            token_rejected: AtomicBool::new(false),
        }
    }

    pub(super) fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stopped)
    }

    pub(super) fn api(&self) -> &ApiUrl {
        &self.api
    }

    pub(super) async fn send(
        &self,
        method: http::Method,
        uri: &str,
        body: Option<&serde_json::Value>,
        target: &str,
        op: &Op,
        check: Check<'_>,
    ) -> Result<Reply, GithubError> {
        self.send_with(method, uri, body, None, target, op, check)
            .await
    }

    /// A GET with `If-None-Match: etag`: a 304 comes back as the answer, with no body.
    pub(super) async fn get_if_none_match(
        &self,
        uri: &str,
        etag: Option<&str>,
        target: &str,
        op: &Op,
        check: Check<'_>,
    ) -> Result<Reply, GithubError> {
        self.send_with(http::Method::GET, uri, None, etag, target, op, check)
            .await
    }

    // The request's parts, then whom it is for and how to judge its answer, as in `send`.
    #[allow(clippy::too_many_arguments)]
    async fn send_with(
        &self,
        method: http::Method,
        uri: &str,
        body: Option<&serde_json::Value>,
        if_none_match: Option<&str>,
        target: &str,
        op: &Op,
        check: Check<'_>,
    ) -> Result<Reply, GithubError> {
        let mut tries = Tries::default();
        loop {
            self.wait_out_pause().await;
            let attempt = self.attempt(&method, uri, body, if_none_match, target, op);
            let Some((result, sent)) = attempt.await? else {
                continue;
            };
            let done = match result {
                Ok(reply) => {
                    self.judge(reply, &sent, &mut tries, target, op, check)
                        .await?
                }
                // The same certificate would be refused again: no retry.
                Err(NoAnswer::Tls(reason)) => {
                    return Err(GithubError::Tls {
                        api: self.api.to_string(),
                        target: target.to_string(),
                        op: op.clone(),
                        reason,
                    })
                }
                Err(NoAnswer::Broken(reason)) => {
                    self.after_broken_connection(reason, &mut tries, target, op)
                        .await?;
                    None
                }
            };
            if let Some(reply) = done {
                return Ok(reply);
            }
        }
    }

    /// Sends once when the pacer admits it; `None` when a pause began while it waited.
    async fn attempt(
        &self,
        method: &http::Method,
        uri: &str,
        body: Option<&serde_json::Value>,
        if_none_match: Option<&str>,
        target: &str,
        op: &Op,
    ) -> Result<Option<(Result<Reply, NoAnswer>, Sent)>, GithubError> {
        let admitting = self.pacer.admit(method, uri);
        let mut admitted = match *method {
            http::Method::GET => admitting.await,
            // A write may wait up to a window for the budget: a stop must not wait with it.
            _ => tokio::select! {
                admitted = admitting => admitted,
                halt = self.halted(target, op) => return Err(halt),
            },
        };
        if self.paused() {
            return Ok(None);
        }
        if *method != http::Method::GET {
            self.refuse_write_if_halted(target, op)?;
        }
        let sent = admitted.start();
        let result = self.once(method, uri, body, if_none_match).await;
        self.pacer.answered(&sent);
        Ok(Some((result, sent)))
    }

    /// Resolves once writes may no longer be sent (Ctrl-C, or a rejected token), with why.
    async fn halted(&self, target: &str, op: &Op) -> GithubError {
        loop {
            if let Err(halt) = self.refuse_write_if_halted(target, op) {
                return halt;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn refuse_write_if_halted(&self, target: &str, op: &Op) -> Result<(), GithubError> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(GithubError::Interrupted {
                target: target.to_string(),
                op: op.clone(),
            });
        }
        if self.token_rejected.load(Ordering::SeqCst) {
            return Err(GithubError::BadToken {
                target: target.to_string(),
                op: op.clone(),
                message: "not sent: the token was rejected earlier in this run".into(),
            });
        }
        Ok(())
    }

    /// What an answer means: `Some` to hand it back, `None` to send again (after any wait).
    async fn judge(
        &self,
        reply: Reply,
        sent: &Sent,
        tries: &mut Tries,
        target: &str,
        op: &Op,
        check: Check<'_>,
    ) -> Result<Option<Reply>, GithubError> {
        match classify(&reply) {
            Some(Limit::Primary(wait)) => {
                self.pause_for(wait, "primary rate limit (the hourly budget)", target, op)?;
            }
            Some(Limit::Secondary(retry_after)) => {
                self.pacer.limited(sent);
                tries.secondary_hits += 1;
                let wait = retry_after.unwrap_or_else(|| {
                    Duration::from_secs(
                        60u64.saturating_mul(1 << (tries.secondary_hits - 1).min(6)),
                    )
                });
                self.pause_for(wait, "secondary rate limit", target, op)?;
            }
            None if reply.status.is_server_error() && tries.failures < self.pacing.retries => {
                let reason = format!("a server error ({})", reply.status);
                self.back_off(tries, &reason, target, op).await;
            }
            None if reply.status.is_success() => {
                return self.checked(reply, tries, target, op, check).await;
            }
            // Not modified: the caller kept the body. A final answer, never retried.
            None if reply.status == StatusCode::NOT_MODIFIED => return Ok(Some(reply)),
            None => {
                if reply.status == http::StatusCode::UNAUTHORIZED {
                    self.token_rejected.store(true, Ordering::SeqCst);
                }
                return Ok(Some(reply));
            }
        }
        Ok(None)
    }

    /// A success whose body is not the answer expected is retried, then refused as malformed.
    async fn checked(
        &self,
        reply: Reply,
        tries: &mut Tries,
        target: &str,
        op: &Op,
        check: Check<'_>,
    ) -> Result<Option<Reply>, GithubError> {
        match check(&reply) {
            Ok(()) => Ok(Some(reply)),
            Err(reason) if tries.failures < self.pacing.retries => {
                let reason = format!("an answer that makes no sense ({})", clean(&reason));
                self.back_off(tries, &reason, target, op).await;
                Ok(None)
            }
            Err(reason) => Err(GithubError::Malformed {
                target: target.to_string(),
                op: op.clone(),
                reason: clean(&reason),
            }),
        }
    }

    async fn after_broken_connection(
        &self,
        reason: String,
        tries: &mut Tries,
        target: &str,
        op: &Op,
    ) -> Result<(), GithubError> {
        if tries.failures >= self.pacing.retries {
            return Err(GithubError::Network {
                api: self.api.to_string(),
                target: target.to_string(),
                op: op.clone(),
                reason,
            });
        }
        let reason = format!("a connection failure ({reason})");
        self.back_off(tries, &reason, target, op).await;
        Ok(())
    }

    /// Counts one more failure and backs off before the next try; `reason` is for `-v` logs.
    async fn back_off(&self, tries: &mut Tries, reason: &str, target: &str, op: &Op) {
        tries.failures += 1;
        let delay = jitter(self.pacing.backoff, tries.failures - 1);
        tracing::info!(%target, %op, ?delay, "retrying after {reason}");
        tokio::time::sleep(delay).await;
    }

    async fn once(
        &self,
        method: &http::Method,
        uri: &str,
        body: Option<&serde_json::Value>,
        if_none_match: Option<&str>,
    ) -> Result<Reply, NoAnswer> {
        let started = Instant::now();
        let result = match *method {
            http::Method::GET => {
                self.octo
                    ._get_with_headers(uri, conditional(if_none_match))
                    .await
            }
            http::Method::PUT => self.octo._put(uri, body).await,
            http::Method::POST => self.octo._post(uri, body).await,
            http::Method::PATCH => self.octo._patch(uri, body).await,
            http::Method::DELETE => self.octo._delete(uri, body).await,
            _ => unreachable!("secretsync sends only GET, PUT, POST, PATCH and DELETE"),
        };
        let response = result.map_err(|e| no_answer(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_answer(response.into_body(), self.pacing.timeout)
            .await
            .map_err(NoAnswer::Broken)?;
        tracing::debug!(
            %method,
            path = uri.split('?').next().unwrap_or(uri),
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "github request"
        );
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// Pause every request until `wait` has passed, unless that would exceed `max_wait` in all.
    fn pause_for(
        &self,
        wait: Duration,
        why: &str,
        target: &str,
        op: &Op,
    ) -> Result<(), GithubError> {
        let now = Instant::now();
        let mut pause = self.pause.lock().expect("pause lock");
        let refused = |waited: Duration| GithubError::RateLimited {
            target: target.to_string(),
            op: op.clone(),
            waited_secs: waited.as_secs(),
        };
        // The wait is the server's number: one the clock cannot count is past any --max-wait.
        let Some(until) = now.checked_add(wait) else {
            return Err(refused(pause.waited));
        };
        let current = pause.until.filter(|u| *u > now).unwrap_or(now);
        // Requests already in flight when the limit hit come back limited too; within a pause
        // they change nothing worth a word.
        if until <= current + Duration::from_millis(500) && current > now {
            return Ok(());
        }
        let extra = until - current;
        if pause.waited + extra > self.pacing.max_wait {
            return Err(refused(pause.waited));
        }
        pause.waited += extra;
        pause.until = Some(until);
        let wall = chrono::Duration::from_std(wait)
            .ok()
            .and_then(|wait| chrono::Utc::now().checked_add_signed(wait))
            .map_or_else(
                || "far in the future".to_owned(),
                |wall| wall.format("%H:%M:%S UTC").to_string(),
            );
        let line = format!(
            "GitHub's {why} was hit while {op} on `{target}`: waiting until {wall} ({} s)",
            wait.as_secs_f64().ceil()
        );
        // Waiting is news for whoever runs this, not a diagnostic: a plain line at any
        // verbosity, and the event for `-v` logs.
        say(&line);
        tracing::info!(%target, %op, wait_secs = wait.as_secs(), "{why}: waiting");
        Ok(())
    }

    fn paused(&self) -> bool {
        let until = self.pause.lock().expect("pause lock").until;
        until.is_some_and(|u| u > Instant::now())
    }

    async fn wait_out_pause(&self) {
        loop {
            let until = self.pause.lock().expect("pause lock").until;
            match until {
                Some(until) if until > Instant::now() => {
                    tokio::time::sleep_until(until.into()).await
                }
                _ => return,
            }
        }
    }
}

/// The `If-None-Match` header of a conditional GET; `None` for a plain one. The ETag was checked
/// to be a header value when the cache read it.
fn conditional(etag: Option<&str>) -> Option<HeaderMap> {
    let value = http::HeaderValue::from_str(etag?).ok()?;
    let mut headers = HeaderMap::new();
    headers.insert(http::header::IF_NONE_MATCH, value);
    Some(headers)
}

/// A line on stderr, over any progress line being drawn there.
fn say(line: &str) {
    use std::io::{IsTerminal, Write};
    let mut err = std::io::stderr().lock();
    let clear = if err.is_terminal() { "\r\x1b[2K" } else { "" };
    let _ = writeln!(err, "{clear}{line}");
}

/// The most of one answer's body read: GitHub's largest pages (100 repositories) are well under
/// a megabyte, so anything this big is not GitHub.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// An answer's body as text, bounded in size and in time. The connector's read timeout only
/// bounds the gap between two reads, so a body trickled a byte at a time would otherwise never
/// end; an endless body would fill memory.
async fn read_answer<B>(body: B, timeout: Duration) -> Result<String, String>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use http_body_util::BodyExt as _;
    let limited = http_body_util::Limited::new(body, MAX_ANSWER_BYTES);
    let bytes = match tokio::time::timeout(timeout, limited.collect()).await {
        Err(_) => {
            return Err(format!(
                "the answer's body did not arrive in full within {} s",
                timeout.as_secs_f64()
            ))
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(format!(
                "the answer is larger than {} MiB, which no GitHub answer is",
                MAX_ANSWER_BYTES / (1024 * 1024)
            ))
        }
        Ok(Err(e)) => return Err(clean(&innermost(e.as_ref()))),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    String::from_utf8(bytes.to_vec()).map_err(|_| "the answer is not UTF-8 text".to_owned())
}

/// The innermost cause's text: the outer layers only say "error reading a body".
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    text
}

/// Why a request got no answer.
pub(super) enum NoAnswer {
    /// The connection failed or broke: worth another try.
    Broken(String),
    /// The TLS handshake was refused, in plain words: the same certificate would be again.
    Tls(String),
}

/// octocrab's errors nest their cause; the innermost says what went wrong, unless a TLS
/// handshake was refused, which rustls words best.
fn no_answer(error: &octocrab::Error) -> NoAnswer {
    match tls_error(error) {
        Some(tls) => NoAnswer::Tls(crate::registry::describe_tls(tls)),
        None => NoAnswer::Broken(clean(&innermost(error))),
    }
}

/// The rustls error in an error's causes. An `io::Error` hides the error it wraps from
/// `source()`, so each one is opened.
fn tls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let wrapped = error
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .and_then(|inner| tls_error(inner));
    wrapped.or_else(|| error.source().and_then(tls_error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, headers: &[(&'static str, &str)], body: &str) -> Reply {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, v.parse().unwrap());
        }
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            body: body.into(),
        }
    }

    #[test]
    fn a_refused_certificate_is_found_inside_nested_io_errors() {
        use std::io::{Error, ErrorKind};
        let refused = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let nested = Error::other(Error::new(ErrorKind::InvalidData, refused));
        assert!(matches!(
            tls_error(&nested),
            Some(rustls::Error::InvalidCertificate(_))
        ));
        let reset = Error::other(Error::from(ErrorKind::ConnectionReset));
        assert!(tls_error(&reset).is_none());
    }

    #[test]
    fn classifies_limits() {
        let far = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 10)
            .to_string();
        let primary = reply(
            403,
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", &far)],
            "",
        );
        match classify(&primary) {
            Some(Limit::Primary(d)) => assert!(
                d >= Duration::from_secs(10) && d <= Duration::from_secs(12),
                "{d:?}"
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            classify(&reply(429, &[("retry-after", "7")], "")),
            Some(Limit::Secondary(Some(Duration::from_secs(7))))
        );
        assert_eq!(
            classify(&reply(
                403,
                &[],
                r#"{"message":"You have exceeded a secondary rate limit"}"#
            )),
            Some(Limit::Secondary(None))
        );
        assert_eq!(
            classify(&reply(403, &[], r#"{"message":"Resource not accessible"}"#)),
            None
        );
        assert_eq!(classify(&reply(502, &[], "")), None);
    }

    #[test]
    fn backoff_doubles_with_jitter() {
        for attempt in 0..4 {
            let d = jitter(Duration::from_millis(100), attempt);
            let base = 100 * (1 << attempt);
            assert!(
                d >= Duration::from_millis(base / 2) && d <= Duration::from_millis(base * 3 / 2),
                "{d:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_answer_larger_than_any_of_githubs_is_refused() {
        let body =
            http_body_util::Full::new(axum::body::Bytes::from(vec![b' '; MAX_ANSWER_BYTES + 1]));
        let err = read_answer(body, Duration::from_secs(60))
            .await
            .unwrap_err();
        assert!(err.contains("larger than 16 MiB"), "{err}");
        let body = http_body_util::Full::new(axum::body::Bytes::from_static(b"{}"));
        assert_eq!(
            read_answer(body, Duration::from_secs(60)).await.unwrap(),
            "{}"
        );
    }

    #[tokio::test]
    async fn an_answer_that_never_ends_is_bounded_in_time() {
        // A body that never yields: only the bound on the whole answer can end the read.
        let never = http_body_util::StreamBody::new(futures::stream::pending::<
            Result<http_body::Frame<axum::body::Bytes>, std::convert::Infallible>,
        >());
        let err = read_answer(never, Duration::from_millis(50))
            .await
            .unwrap_err();
        assert!(
            err.contains("did not arrive in full within 0.05 s"),
            "{err}"
        );
    }
}
