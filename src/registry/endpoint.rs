//! The registry's address as `[[checks]]` gives it (`host[:port]`, optionally with a scheme), and
//! the repository names push is proven on. The address may be a secret's value, so only its
//! shown form is ever formatted.

use super::transport::Target;
use super::{Filled, StepOutcome};
use crate::config::is_loopback;

/// The registry's address, parsed.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Endpoint {
    pub(super) https: bool,
    /// `host[:port]` as given (IPv6 in brackets); may be a secret's value, so never shown.
    pub(super) authority: String,
    /// The registry as the config wrote it.
    pub(super) shown: String,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("https", &self.https)
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// The URL of `path` (as sent, and as shown: `shown_path` names repositories by their shown
    /// form).
    pub(super) fn url(&self, path: &str, shown_path: &str) -> Result<Target, StepOutcome> {
        let scheme = if self.https { "https" } else { "http" };
        let shown = format!("{}{shown_path}", self.shown);
        let uri = format!("{scheme}://{}{path}", self.authority)
            .parse()
            .map_err(|_| StepOutcome::Unexpected {
                status: 0,
                message: format!("cannot make a URL of `{shown}`"),
            })?;
        Ok(Target { uri, shown })
    }
}

/// `host[:port]` with an optional `http://`/`https://`; a bare loopback host means http.
pub(super) fn endpoint(registry: &Filled) -> Result<Endpoint, String> {
    let trimmed = registry.expose().trim();
    let lower = trimmed.to_ascii_lowercase();
    let (explicit, rest) = if lower.starts_with("https://") {
        (Some(true), &trimmed[8..])
    } else if lower.starts_with("http://") {
        (Some(false), &trimmed[7..])
    } else if lower.contains("://") {
        return Err(format!(
            "registry `{registry}` has a scheme other than http:// or https://"
        ));
    } else {
        (None, trimmed)
    };
    let rest = rest.trim_end_matches('/');
    let bad = || {
        format!(
            "registry `{registry}` is not host[:port] (e.g. registry.cn-hangzhou.aliyuncs.com); \
             put the namespace in the repository, not in the registry address"
        )
    };
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ', '\\']) {
        return Err(bad());
    }
    let authority: http::uri::Authority = rest.parse().map_err(|_| bad())?;
    let port_ok = authority.as_str().len() == authority.host().len()
        || authority.port_u16().is_some_and(|p| p != 0);
    if authority.host().is_empty() || !port_ok {
        return Err(bad());
    }
    let https = explicit.unwrap_or_else(|| !is_loopback(authority.host()));
    Ok(Endpoint {
        https,
        authority: authority.as_str().to_string(),
        shown: registry.to_string(),
    })
}

/// Distribution's repository name grammar: lower-case path components of alphanumerics joined
/// by `.`, `_`, `__` or runs of `-`, separated by `/`; at most 255 characters.
pub(super) fn valid_repository(name: &str) -> bool {
    fn component(c: &str) -> bool {
        let b = c.as_bytes();
        let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
        if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
            return false;
        }
        let mut i = 0;
        while i < b.len() {
            if alnum(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && !alnum(b[i]) {
                i += 1;
            }
            let sep = &c[start..i];
            let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
            if !ok {
                return false;
            }
        }
        true
    }
    !name.is_empty() && name.len() <= 255 && name.split('/').all(component)
}
