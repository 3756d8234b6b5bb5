//! Rules a value must follow before it is sent: `min_length`, `pattern`, `require` and
//! `no_surrounding_whitespace`. Parsed here; `check` applies them to resolved values.

use super::Validator;

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
