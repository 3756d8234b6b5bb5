//! The criterion figures of `benches/micro.rs`, read back from criterion's output folder.

use std::path::Path;

/// `(group, bench, what it measures)`: the names `benches/micro.rs` gives its benchmarks.
pub const BENCHES: [(&str, &str, &str); 5] = [
    (
        "seal",
        "32B",
        "seal one 32-byte value for a public key (sealed box + base64)",
    ),
    (
        "seal",
        "4KiB",
        "seal one 4 KiB value for a public key (sealed box + base64)",
    ),
    (
        "fingerprint",
        "32B",
        "keyed fingerprint (HMAC-SHA256) of one 32-byte value",
    ),
    (
        "fingerprint",
        "4KiB",
        "keyed fingerprint (HMAC-SHA256) of one 4 KiB value",
    ),
    (
        "plan",
        "1000_secrets",
        "plan 1,000 declared secrets against 1,000 listed and 940 recorded",
    ),
];

pub struct Figure {
    /// Median time per iteration, in nanoseconds, and its 95 % confidence interval.
    pub median_ns: f64,
    pub low_ns: f64,
    pub high_ns: f64,
    /// Samples taken and iterations run in them, all together.
    pub samples: usize,
    pub iterations: u64,
}

fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `dir/<group>/<bench>/new/{estimates,sample}.json`, as criterion 0.5 writes them.
pub fn read(dir: &Path, group: &str, bench: &str) -> Result<Figure, String> {
    let new = dir.join(group).join(bench).join("new");
    let estimates = read_json(&new.join("estimates.json"))?;
    let median = &estimates["median"];
    let number = |v: &serde_json::Value, what: &str| {
        v.as_f64()
            .ok_or_else(|| format!("{}: no {what}", new.join("estimates.json").display()))
    };
    let median_ns = number(&median["point_estimate"], "median")?;
    let low_ns = number(&median["confidence_interval"]["lower_bound"], "lower bound")?;
    let high_ns = number(&median["confidence_interval"]["upper_bound"], "upper bound")?;
    let sample = read_json(&new.join("sample.json"))?;
    let iters: Vec<f64> = sample["iters"]
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
        .unwrap_or_default();
    Ok(Figure {
        median_ns,
        low_ns,
        high_ns,
        samples: iters.len(),
        iterations: iters.iter().sum::<f64>() as u64,
    })
}

/// `1.234 µs`, `56.7 ns`, `2.345 ms`: three or four significant digits.
pub fn human_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}
