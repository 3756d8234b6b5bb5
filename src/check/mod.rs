//! Checks before anything is written: each value against its rules (not empty unless allowed,
//! within GitHub's size limit, and the secret's own rules), and `secretsync check`, which tries
//! the registry credentials in `[[checks]]` for real. Messages name the secret and the rule,
//! never the value.

use secrecy::{ExposeSecret, SecretString};

use crate::config::{Config, Decl};

/// GitHub's limit on a secret's plaintext: 48 KB.
pub const MAX_VALUE_BYTES: usize = 48 * 1024;

/// Every problem with one value, as one-line messages.
pub fn value_problems(decl: &Decl, value: &SecretString) -> Vec<String> {
    let len = value.expose_secret().len();
    let mut problems = Vec::new();
    if len == 0 && !decl.allow_empty {
        problems.push(format!(
            "secret `{}` is empty; set a value at its source, or add `allow_empty = true` if empty is intended",
            decl.name
        ));
    }
    if len > MAX_VALUE_BYTES {
        problems.push(format!(
            "secret `{}` is {len} bytes, over GitHub's limit of {MAX_VALUE_BYTES}; store a smaller value (for large files, encrypt them in the repository and keep only the key as a secret)",
            decl.name
        ));
    }
    problems
}

/// `secretsync check`: try every `[[checks]]` entry.
pub fn run(
    config: &Config,
    json: bool,
    out: &mut dyn std::io::Write,
) -> Result<i32, crate::error::Error> {
    let _ = (config, json, out);
    Err(crate::error::Error::Usage("check is not built yet".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(allow_empty: bool) -> Decl {
        Decl {
            name: "S".into(),
            chain: vec![],
            allow_empty,
            line: 1,
        }
    }

    #[test]
    fn empty_and_size() {
        assert_eq!(
            value_problems(&decl(false), &SecretString::from("x")).len(),
            0
        );
        assert!(value_problems(&decl(false), &SecretString::from(""))[0].contains("is empty"));
        assert!(value_problems(&decl(true), &SecretString::from("")).is_empty());
        let exact = "v".repeat(MAX_VALUE_BYTES);
        assert!(value_problems(&decl(false), &SecretString::from(exact)).is_empty());
        let over = "v".repeat(MAX_VALUE_BYTES + 1);
        let p = value_problems(&decl(false), &SecretString::from(over));
        assert!(p[0].contains("over GitHub's limit") && !p[0].contains("vvvv"));
    }
}
