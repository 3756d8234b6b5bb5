//! `[github.limits]`: the server's secondary limits, which the pacer spends. github.com's are the
//! defaults; a GitHub Enterprise admin sets their own.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::Validator;

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    in_flight: Option<Spanned<i64>>,
    points: Option<Spanned<i64>>,
    window_secs: Option<Spanned<i64>>,
    read_points: Option<Spanned<i64>>,
    write_points: Option<Spanned<i64>>,
}

/// The largest values taken: far above any server's, and small enough that no sum of points
/// nor any instant a window ends overflows.
const MAX_IN_FLIGHT: i64 = 10_000;
const MAX_POINTS: i64 = 1_000_000;
const MAX_WINDOW_SECS: i64 = 86_400;

impl Validator<'_> {
    pub(super) fn github_limits(&mut self, raw: Option<RawLimits>) -> Budget {
        let default = Budget::default();
        let Some(raw) = raw else {
            return default;
        };
        let points_at = raw.points.as_ref().map(|p| p.span().start);
        let points = self.limit_value(raw.points, "points", MAX_POINTS, default.points.into());
        let cost = |v: &mut Self, value, key, default: u32| {
            v.limit_value(value, key, points, default.into())
        };
        let read_points = cost(self, raw.read_points, "read_points", default.read_points);
        let write_points = cost(self, raw.write_points, "write_points", default.write_points);
        // A cost left at its default can still be above a small `points`: no such request
        // could ever be sent.
        let dearest = read_points.max(write_points);
        if dearest > points {
            let message = format!(
                "`[github.limits] points = {points}` is below what one request costs \
                 (`write_points` is {write_points}, `read_points` {read_points}); raise `points`, \
                 or set the costs too"
            );
            self.problem(points_at, message);
        }
        let in_flight = self.limit_value(
            raw.in_flight,
            "in_flight",
            MAX_IN_FLIGHT,
            default.in_flight as i64,
        );
        let window_secs = self.limit_value(
            raw.window_secs,
            "window_secs",
            MAX_WINDOW_SECS,
            default.window.as_secs() as i64,
        );
        // Every value is within 1..=MAX_POINTS here, so the conversions cannot fail.
        let narrow = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        Budget {
            in_flight: usize::try_from(in_flight).unwrap_or(default.in_flight),
            points: narrow(points),
            window: Duration::from_secs(window_secs.unsigned_abs()),
            read_points: narrow(read_points),
            write_points: narrow(write_points),
        }
    }

    /// One key's whole number in `1..=max`, else a problem on its line and `default` (github.com's
    /// value).
    fn limit_value(
        &mut self,
        value: Option<Spanned<i64>>,
        key: &str,
        max: i64,
        default: i64,
    ) -> i64 {
        let Some(value) = value else {
            return default;
        };
        let n = *value.get_ref();
        if (1..=max).contains(&n) {
            return n;
        }
        let message = match key {
            "read_points" | "write_points" => format!(
                "`[github.limits] {key} = {n}` must be from 1 to `points` ({max}): a request costs \
                 at least a point and no more than the window holds"
            ),
            _ => format!(
                "`[github.limits] {key} = {n}` must be from 1 to {max}; github.com's is {default}"
            ),
        };
        self.problem(Some(value.span().start), message);
        default
    }
}
