//! Rules a value must follow before it is sent: not empty unless allowed, within GitHub's size
//! limit, and the secret's own `min_length`, `pattern`, `require` and
//! `no_surrounding_whitespace`. Parsed from the config and applied to resolved values, both here.
//! Messages name the secret and the rule, never the value.

use secrecy::{ExposeSecret, SecretString};

use super::{Decl, Validator};
use crate::source::MAX_VALUE_BYTES;

/// A character class a value must contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Upper,
    Lower,
    Digit,
    Symbol,
}

impl Class {
    fn parse(text: &str) -> Option<Class> {
        match text {
            "upper" => Some(Class::Upper),
            "lower" => Some(Class::Lower),
            "digit" => Some(Class::Digit),
            "symbol" => Some(Class::Symbol),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Upper => "upper",
            Class::Lower => "lower",
            Class::Digit => "digit",
            Class::Symbol => "symbol",
        }
    }

    /// What a value lacking this class lacks, for messages.
    pub fn missing(self) -> &'static str {
        match self {
            Class::Upper => "an upper-case letter",
            Class::Lower => "a lower-case letter",
            Class::Digit => "a digit",
            Class::Symbol => "a symbol",
        }
    }

    pub fn matches(self, c: char) -> bool {
        match self {
            Class::Upper => c.is_uppercase(),
            Class::Lower => c.is_lowercase(),
            Class::Digit => c.is_ascii_digit(),
            Class::Symbol => !c.is_alphanumeric() && !c.is_whitespace(),
        }
    }
}

/// A declared value's rules. The defaults check only surrounding whitespace.
#[derive(Debug, Clone)]
pub struct Rules {
    pub min_length: Option<usize>,
    pub pattern: Option<regex::Regex>,
    pub require: Vec<Class>,
    /// On unless turned off: a trailing newline or space in a password is almost always a mistake.
    pub no_surrounding_whitespace: bool,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            min_length: None,
            pattern: None,
            require: Vec::new(),
            no_surrounding_whitespace: true,
        }
    }
}

/// The rule keys as written in a `[secrets.*]` table.
pub(super) struct RawRules {
    pub min_length: Option<usize>,
    pub pattern: Option<String>,
    pub require: Option<Vec<String>>,
    pub no_surrounding_whitespace: Option<bool>,
}

impl Validator<'_> {
    pub(super) fn rules(&mut self, raw: RawRules, what: &str, at: Option<usize>) -> Rules {
        let pattern = raw.pattern.and_then(|text| match regex::Regex::new(&text) {
            Ok(re) => Some(re),
            Err(e) => {
                let reason = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("invalid")
                    .trim()
                    .trim_start_matches("error:")
                    .trim()
                    .to_string();
                self.problem(
                    at,
                    format!("{what}: `pattern` is not a valid regular expression ({reason}); fix the pattern (Rust regex syntax)"),
                );
                None
            }
        });
        let mut require = Vec::new();
        for text in raw.require.unwrap_or_default() {
            match Class::parse(&text) {
                Some(class) if !require.contains(&class) => require.push(class),
                Some(_) => {}
                None => self.problem(
                    at,
                    format!("{what}: unknown `require` class `{text}`; use \"upper\", \"lower\", \"digit\" or \"symbol\""),
                ),
            }
        }
        if raw.min_length == Some(0) {
            self.problem(
                at,
                format!("{what}: `min_length = 0` checks nothing; remove it or give a length"),
            );
        }
        Rules {
            min_length: raw.min_length,
            pattern,
            require,
            no_surrounding_whitespace: raw.no_surrounding_whitespace.unwrap_or(true),
        }
    }
}

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
