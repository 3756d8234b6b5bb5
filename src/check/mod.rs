//! Checks before anything is written: each value against its rules (not empty unless allowed,
//! within GitHub's size limit, and the secret's own rules), and `secretsync check`, which tries
//! the registry credentials in `[[checks]]` for real. Messages name the secret and the rule,
//! never the value.

mod filled;
pub mod registry;
mod registry_http;
pub mod wwwauth;

mod preflight;

pub use filled::Filled;
pub use preflight::gate;

use secrecy::{ExposeSecret, SecretString};

#[cfg(test)]
use crate::config::{Class, Rules};
use crate::config::{Config, Decl};

pub use crate::source::MAX_VALUE_BYTES;

/// Every problem with one value, as one-line messages.
pub fn value_problems(decl: &Decl, value: &SecretString) -> Vec<String> {
    let len = value.expose_secret().len();
    let mut problems = Vec::new();
    if len == 0 && !decl.allow_empty {
        problems.push(format!(
            "{} `{}` is empty; set a value at its source, or add `allow_empty = true` if empty is intended",
            decl.kind, decl.name
        ));
    }
    if len > MAX_VALUE_BYTES {
        problems.push(format!(
            "{} `{}` is {len} bytes, over GitHub's limit of {MAX_VALUE_BYTES}; store a smaller value (for large files, encrypt them in the repository and keep only the key as a secret)",
            decl.kind, decl.name
        ));
    }
    if len > 0 {
        problems.extend(rule_problems(decl, value.expose_secret()));
    }
    problems
}

/// The secret's own rules. Each message names the secret and the rule; none shows the value or
/// anything measured from it.
fn rule_problems(decl: &Decl, value: &str) -> Vec<String> {
    let rules = &decl.rules;
    let name = &decl.name;
    let kind = decl.kind;
    let mut problems = Vec::new();
    if rules.no_surrounding_whitespace && value.trim() != value {
        problems.push(format!(
            "{kind} `{name}` starts or ends with whitespace (a trailing newline or space is almost always a mistake); fix its source, or set `no_surrounding_whitespace = false`"
        ));
    }
    if let Some(min) = rules.min_length {
        if value.chars().count() < min {
            problems.push(format!(
                "{kind} `{name}` is shorter than its `min_length = {min}`; is it the right value?"
            ));
        }
    }
    if let Some(pattern) = &rules.pattern {
        if !pattern.is_match(value) {
            problems.push(format!(
                "{kind} `{name}` does not match its `pattern`; is it the right value?"
            ));
        }
    }
    for class in &rules.require {
        if !value.chars().any(|c| class.matches(c)) {
            problems.push(format!(
                "{kind} `{name}` lacks {} (rule `require = [\"{}\"]`); is it the right value?",
                class.missing(),
                class.as_str()
            ));
        }
    }
    problems
}

/// `secretsync check`: try every `[[checks]]` entry; exit 0 when all pass.
pub fn run(
    config: &Config,
    json: bool,
    out: &mut dyn std::io::Write,
) -> Result<crate::exit::ExitStatus, crate::error::Error> {
    if config.checks.is_empty() {
        return Err(crate::error::Error::Usage(format!(
            "`{}` has no [[checks]]; add one with registry, username, password and push (`secretsync init --preset aliyun-acr --config example.toml` writes an example)",
            config.path.display()
        )));
    }
    Ok(crate::exit::ExitStatus::from(preflight::report(
        config, json, out,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(allow_empty: bool) -> Decl {
        Decl {
            kind: "secret",
            name: "S".into(),
            chain: vec![],
            allow_empty,
            rules: Rules::default(),
            line: 1,
        }
    }

    fn with_rules(rules: Rules) -> Decl {
        Decl {
            rules,
            ..decl(false)
        }
    }

    fn problems(decl: &Decl, value: &str) -> Vec<String> {
        let p = value_problems(decl, &SecretString::from(value));
        for message in &p {
            assert!(
                !message.contains(value),
                "a message shows the value: {message}"
            );
        }
        p
    }

    #[test]
    fn registry_password_rules() {
        // The registry's fixed-password rule: at least 8, with upper, lower and a digit.
        let acr = with_rules(Rules {
            min_length: Some(8),
            require: vec![Class::Upper, Class::Lower, Class::Digit],
            ..Rules::default()
        });
        assert!(problems(&acr, "Fixed-Pass1").is_empty());
        let short = problems(&acr, "Ab1");
        assert_eq!(short.len(), 1);
        assert!(short[0].contains("min_length = 8"), "{short:?}");
        let console = problems(&acr, "consolepassword");
        assert_eq!(console.len(), 2, "{console:?}");
        assert!(console
            .iter()
            .any(|p| p.contains("lacks an upper-case letter")));
        assert!(console.iter().any(|p| p.contains("lacks a digit")));
    }

    #[test]
    fn whitespace_is_refused_unless_allowed() {
        let p = problems(&decl(false), "secret\n");
        assert!(p[0].contains("starts or ends with whitespace"), "{p:?}");
        assert_eq!(problems(&decl(false), " x").len(), 1);
        let relaxed = with_rules(Rules {
            no_surrounding_whitespace: false,
            ..Rules::default()
        });
        assert!(problems(&relaxed, "secret\n").is_empty());
    }

    #[test]
    fn pattern_rule() {
        let account = with_rules(Rules {
            pattern: Some(regex::Regex::new("^[a-z0-9-]+$").unwrap()),
            ..Rules::default()
        });
        assert!(problems(&account, "acme-account").is_empty());
        let p = problems(&account, "Acme Nickname");
        assert!(
            p.iter().any(|m| m.contains("does not match its `pattern`")),
            "{p:?}"
        );
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
