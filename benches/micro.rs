//! `cargo bench --bench micro`: criterion timings of the CPU-bound steps of an apply.
//!
//! - `seal/32B`, `seal/4KiB`: sealing one value (libsodium sealed box + base64) for a public key.
//! - `fingerprint/32B`, `fingerprint/4KiB`: the keyed HMAC-SHA256 fingerprint of one value.
//! - `plan/1000_secrets`: the pure plan of 1,000 declared secrets against 1,000 listed and
//!   1,000 recorded, in a realistic mix (see `plan_inputs`).
//!
//! Criterion writes each median to `target/criterion/<group>/<bench>/new/estimates.json`;
//! `benches/sync.rs` reads them from there into BENCHMARKS.md. The group and bench names are
//! that contract: change them in both places.

use std::hint::black_box;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion};
use secrecy::SecretString;

use secretsync::plan::{Desired, Fingerprint, Record, Recorded, Remote};
use secretsync::scope::{App, Repo, Scope};
use secretsync::seal::{seal, PublicKey};
use secretsync::source::SourceKind;
use secretsync::state::{Fingerprinter, StateDir};

/// The value sizes measured: a typical token, and a large value (a certificate or a key file).
const SIZES: [(&str, usize); 2] = [("32B", 32), ("4KiB", 4096)];

/// How many secrets the plan benchmark declares.
const PLAN_SECRETS: usize = 1000;

fn value(len: usize) -> SecretString {
    // Printable, as real secrets are; the content does not change the cost.
    let text: String = (0..len)
        .map(|i| char::from(b'a' + u8::try_from(i % 26).expect("< 26")))
        .collect();
    SecretString::from(text)
}

fn scope() -> Scope {
    Scope::Repo {
        repo: Repo::parse("bench/app").expect("a valid repository"),
        app: App::Actions,
    }
}

fn fingerprinter() -> (tempfile::TempDir, Fingerprinter) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let key = StateDir::new(dir.path().join("state"))
        .key()
        .expect("a fingerprint key");
    (dir, key)
}

fn bench_seal(c: &mut Criterion) {
    // Any 32 bytes are a valid X25519 public key to seal to; a fixed one keeps runs comparable.
    let key_bytes: [u8; 32] = std::array::from_fn(|i| u8::try_from(i * 7 + 1).expect("< 256"));
    let key = PublicKey::parse("568250167242549743", &STANDARD.encode(key_bytes))
        .expect("a valid public key");
    let mut group = c.benchmark_group("seal");
    for (label, len) in SIZES {
        let value = value(len);
        group.bench_function(label, |b| {
            b.iter(|| seal(black_box(&key), black_box(&value)));
        });
    }
    group.finish();
}

fn bench_fingerprint(c: &mut Criterion) {
    let (_dir, fingerprinter) = fingerprinter();
    let scope = scope();
    let mut group = c.benchmark_group("fingerprint");
    for (label, len) in SIZES {
        let value = value(len);
        group.bench_function(label, |b| {
            b.iter(|| {
                fingerprinter.fingerprint(
                    black_box("api.github.com"),
                    black_box(&scope),
                    black_box("BENCH_SECRET"),
                    black_box(&value),
                )
            });
        });
    }
    group.finish();
}

/// 1,000 declared secrets, what GitHub lists and what the last apply recorded, in the mix a
/// long-lived repository set shows on a routine apply:
///
/// | share | situation | plan |
/// |---|---|---|
/// | 85 % | listed, recorded, same value, not touched since | unchanged |
/// | 5 % | listed, recorded, value changed here | update (value changed) |
/// | 2 % | listed, recorded, `updated_at` moved on GitHub | update (drift) |
/// | 3 % | listed, nothing recorded | update (unrecorded) |
/// | 3 % | not listed, never written | create (absent) |
/// | 2 % | not listed, recorded | create (deleted remotely) |
///
/// plus 50 listed names that are not declared (extra; `prune` off), so GitHub lists 1,000 in all
/// and 940 are recorded. Fingerprints are real ones (HMAC-SHA256, as `state` makes them).
fn plan_inputs() -> (Vec<Desired>, Vec<Remote>, Recorded) {
    let (_dir, fingerprinter) = fingerprinter();
    let scope = scope();
    let fp = |name: &str, generation: u32| -> Fingerprint {
        let value = SecretString::from(format!("{name}-value-{generation:08}-0123456789"));
        fingerprinter.fingerprint("api.github.com", &scope, name, &value)
    };
    let recorded_at = "2026-01-02T03:04:05Z";
    let mut desired = Vec::with_capacity(PLAN_SECRETS);
    let mut remote = Vec::with_capacity(PLAN_SECRETS);
    let mut recorded = Recorded::new();
    for i in 0..PLAN_SECRETS {
        let name = format!("SECRET_{i:04}");
        let bucket = i % 100;
        let (listed, record, generation_now, updated_at) = match bucket {
            0..=84 => (true, true, 1, recorded_at),
            85..=89 => (true, true, 2, recorded_at),
            90..=91 => (true, true, 1, "2026-02-03T04:05:06Z"),
            92..=94 => (true, false, 1, recorded_at),
            95..=97 => (false, false, 1, recorded_at),
            _ => (false, true, 1, recorded_at),
        };
        desired.push(Desired {
            name: name.clone(),
            fingerprint: Some(fp(&name, generation_now)),
            source: Some(SourceKind::Env),
            access: None,
        });
        if listed {
            remote.push(Remote {
                name: name.clone(),
                updated_at: updated_at.to_owned(),
                access: None,
            });
        }
        if record {
            recorded.insert(
                name.clone(),
                Record {
                    fingerprint: fp(&name, 1),
                    updated_at: Some(recorded_at.to_owned()),
                },
            );
        }
    }
    for i in 0..(PLAN_SECRETS - remote.len()) {
        remote.push(Remote {
            name: format!("UNDECLARED_{i:04}"),
            updated_at: recorded_at.to_owned(),
            access: None,
        });
    }
    // GitHub lists names sorted; the config declares them in file order (here also sorted).
    remote.sort_by(|a, b| a.name.cmp(&b.name));
    (desired, remote, recorded)
}

fn bench_plan(c: &mut Criterion) {
    let (desired, remote, recorded) = plan_inputs();
    assert_eq!(desired.len(), PLAN_SECRETS);
    assert_eq!(remote.len(), PLAN_SECRETS);
    let changes = secretsync::plan::plan(&desired, &remote, &recorded, false);
    assert_eq!(changes.len(), PLAN_SECRETS + 50, "one change per name");
    let mut group = c.benchmark_group("plan");
    group.bench_function("1000_secrets", |b| {
        b.iter(|| {
            secretsync::plan::plan(
                black_box(&desired),
                black_box(&remote),
                black_box(&recorded),
                false,
            )
        });
    });
    group.finish();
}

criterion_group!(benches, bench_seal, bench_fingerprint, bench_plan);
criterion_main!(benches);
