//! Scrubbing what a registry or token service answers: their errors and URLs may echo the
//! registry, username, repositories or password, so each is replaced by what stands for it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

use super::{encode, endpoint, Filled, Probe, ProbeReport};

/// Values a server may echo, each with what stands for it, longest first (a host with its port
/// before the bare host).
pub(super) struct Scrubber(Vec<(SecretString, String)>);

/// Shorter values are not searched for: they would match inside ordinary words and garble every
/// message a server sends.
pub(super) const SCRUB_MIN: usize = 3;

impl Scrubber {
    pub(super) fn for_probe(probe: &Probe) -> Scrubber {
        // Each value is a secret's (or the password's) copy: it is kept only as a SecretString,
        // and the texts made on the way are zeroised.
        let mut pairs: Vec<(SecretString, String)> = Vec::new();
        let mut add = |value: &str, name: String| {
            if value.len() >= SCRUB_MIN {
                pairs.push((SecretString::from(value), name));
            }
        };
        let fields = [&probe.registry, &probe.username]
            .into_iter()
            .chain(probe.push.iter());
        for (value, name) in fields.filter_map(Filled::secret) {
            add(value, name.to_string());
            add(&Zeroizing::new(encode(value)), name.to_string());
        }
        if probe.registry.is_secret() {
            if let Ok(e) = endpoint(&probe.registry) {
                let host = e
                    .authority
                    .parse::<http::uri::Authority>()
                    .map(|a| Zeroizing::new(a.host().to_string()))
                    .unwrap_or_default();
                add(&Zeroizing::new(e.authority), probe.registry.to_string());
                add(&host, probe.registry.to_string());
            }
        }
        let password = probe.password.expose_secret();
        let raw = Zeroizing::new(format!("{}:{password}", probe.username.expose()));
        add(
            &Zeroizing::new(STANDARD.encode(raw.as_bytes())),
            "[REDACTED]".into(),
        );
        add(password, "[REDACTED]".into());
        pairs.sort_by_key(|(value, _)| std::cmp::Reverse(value.expose_secret().len()));
        Scrubber(pairs)
    }

    /// `text` with every value replaced, ignoring ASCII case (host names, percent-encoding).
    pub(super) fn text(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (value, name) in &self.0 {
            let needle = value.expose_secret().to_ascii_lowercase();
            let lower = text.to_ascii_lowercase();
            if !lower.contains(&needle) {
                continue;
            }
            let mut out = String::with_capacity(text.len());
            let mut last = 0;
            // ASCII lower-casing keeps every byte offset, so the matches index `text` too.
            for (at, _) in lower.match_indices(&needle) {
                out.push_str(&text[last..at]);
                out.push_str(name);
                last = at + needle.len();
            }
            out.push_str(&text[last..]);
            text = out;
        }
        text
    }

    pub(super) fn report(&self, report: &mut ProbeReport) {
        let outcomes = std::iter::once(&mut report.login)
            .chain(report.repositories.iter_mut().map(|(_, o)| o));
        for outcome in outcomes {
            if let Some(text) = outcome.texts_mut() {
                *text = self.text(text);
            }
        }
    }
}
