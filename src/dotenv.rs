//! The `.env` format as `gh secret set -f` reads it. gh parses with godotenv 1.5, and this module
//! follows that parser rule for rule, regular expressions included, so a file gives secretsync the
//! values gh would upload (`tests/integration/dotenv.rs` runs gh itself as the referee).
//!
//! One rule differs on purpose. godotenv fills `$NAME` from the process environment first and
//! the keys above second; the environment holds the GitHub token, so `A=$GH_TOKEN` would upload
//! it. Here `$NAME` takes only keys above it in the file, and any other name is an error.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

/// Each key with its value. A key written twice keeps its last value, as in gh and a shell. The
/// values are `SecretString`s, so no `Debug` of a parsed file can show one.
pub type Entries = BTreeMap<String, SecretString>;

/// Where a text is not `.env`: the 1-based line of the statement, its key when one was read,
/// and what is wrong. Never a value, nor a name after `$` (which may be part of a password).
#[derive(Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub key: Option<String>,
    pub problem: Problem,
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Problem {
    /// No `=` on the line, or a character a name may not hold.
    NotKeyValue,
    /// A quote that opens a value and never closes.
    Unterminated,
    /// `$NAME` or `${NAME}` where no key above defines NAME.
    UnknownName,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::NotKeyValue => {
                "is not `KEY=value` (a key holds letters, digits, `_` and `.`); quote a value that spans lines"
            }
            Problem::Unterminated => {
                "opens a quote that never closes; close it, or write a quote inside a value as `\\\"`"
            }
            Problem::UnknownName => {
                "uses `$` before a name no line above defines (secretsync never fills it from the environment); write the value there, or single-quote it or write `\\$` to keep a literal `$`"
            }
        })
    }
}

// godotenv's own expressions. Go's RE2 and Rust's regex agree on them: leftmost-first, `.` stops
// at a line break, and `[^$]` takes one.
static ESCAPE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\\.").expect("a fixed pattern"));
static UNESCAPE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\\([^$])").expect("a fixed pattern"));
static EXPAND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?").expect("a fixed pattern"));

/// Every key and value of a `.env` text.
pub fn parse(text: &str) -> Result<Entries, SyntaxError> {
    let text = Zeroizing::new(text.replace("\r\n", "\n"));
    let mut entries = Entries::new();
    let mut rest: &str = &text;
    // Line breaks are counted from the last statement on, not from the top each time, which
    // made a file of many short lines take quadratic time (seconds for 20 000 lines).
    let (mut line, mut counted) = (1, 0);
    while let Some(statement) = statement_start(rest) {
        let start = text.len() - statement.len();
        line += text[counted..start].matches('\n').count();
        counted = start;
        let fail = |key: Option<&str>, problem| SyntaxError {
            line,
            key: key.map(str::to_owned),
            problem,
        };
        let (key, after_key) =
            key_name(statement).ok_or_else(|| fail(None, Problem::NotKeyValue))?;
        let (value, after) = value(after_key, &entries).map_err(|p| fail(Some(key), p))?;
        entries.insert(key.to_owned(), SecretString::from(value.as_str()));
        rest = after;
    }
    Ok(entries)
}

/// Spaces as godotenv's `isSpace` has them: a line break is not one.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

/// The text from the next statement on, past blank lines and `#` comment lines; None at the end.
fn statement_start(mut src: &str) -> Option<&str> {
    loop {
        let trimmed = src.trim_start_matches(char::is_whitespace);
        if trimmed.is_empty() {
            return None;
        }
        if !trimmed.starts_with('#') {
            return Some(trimmed);
        }
        src = &trimmed[trimmed.find('\n')?..];
    }
}

/// The key and the text after its `=` (or `:`, which godotenv also takes), past spaces. A
/// statement with no `=` at all is refused, where godotenv would store it under an empty key.
fn key_name(src: &str) -> Option<(&str, &str)> {
    let mut src = src.trim_start_matches(is_space);
    if let Some(after) = src.strip_prefix("export") {
        if after.starts_with(is_space) {
            src = after.trim_start_matches(is_space);
        }
    }
    for (i, c) in src.char_indices() {
        match c {
            '=' | ':' => {
                let key = src[..i].trim_end_matches(char::is_whitespace);
                return Some((key, src[i + 1..].trim_start_matches(is_space)));
            }
            c if is_space(c) || c == '_' || c == '.' || c.is_alphanumeric() => {}
            _ => return None,
        }
    }
    None
}

/// A value and the text after it.
fn value<'a>(src: &'a str, above: &Entries) -> Result<(Zeroizing<String>, &'a str), Problem> {
    match src.chars().next() {
        Some(quote @ ('"' | '\'')) => quoted(src, quote, above),
        _ => unquoted(src, above),
    }
}

/// An unquoted value: to the end of the line, less a ` # comment`, trimmed, then expanded.
fn unquoted<'a>(src: &'a str, above: &Entries) -> Result<(Zeroizing<String>, &'a str), Problem> {
    let end = src.find(['\n', '\r']).unwrap_or(src.len());
    let line = &src[..end];
    let comment = line
        .char_indices()
        .rev()
        .find(|&(i, c)| c == '#' && line[..i].chars().next_back().is_some_and(is_space));
    let kept = &line[..comment.map_or(line.len(), |(i, _)| i)];
    Ok((expand(kept.trim_matches(is_space), above)?, &src[end..]))
}

/// A quoted value, which may span lines, up to the first closing quote not after a `\`.
/// Double quotes take escapes and `$NAME`; single quotes keep the text as written.
fn quoted<'a>(
    src: &'a str,
    quote: char,
    above: &Entries,
) -> Result<(Zeroizing<String>, &'a str), Problem> {
    let bytes = src.as_bytes();
    let close = (1..bytes.len())
        .find(|&i| bytes[i] == quote as u8 && bytes[i - 1] != b'\\')
        .ok_or(Problem::Unterminated)?;
    // godotenv trims every quote at either end, so `"a\""` is `a\`, as gh uploads it.
    let inner = src[..close]
        .trim_end_matches(quote)
        .trim_start_matches(quote);
    let value = if quote == '"' {
        expand(&unescape(inner), above)?
    } else {
        Zeroizing::new(inner.to_owned())
    };
    Ok((value, &src[close + 1..]))
}

/// godotenv's `expandEscapes`: `\n` and `\r` become line breaks, then `\X` becomes X for any X
/// but `$`, which `expand` reads.
fn unescape(text: &str) -> Zeroizing<String> {
    let breaks = Zeroizing::new(
        ESCAPE
            .replace_all(text, |c: &regex::Captures<'_>| match &c[0] {
                "\\n" => "\n".to_owned(),
                "\\r" => "\r".to_owned(),
                other => other.to_owned(),
            })
            .into_owned(),
    );
    Zeroizing::new(UNESCAPE.replace_all(&breaks, "$1").into_owned())
}

/// godotenv's `expandVariables`, with names taken from the keys above only: `\$X` is `$X`,
/// `$NAME` and `${NAME}` are that key's value, and a `$` before no name stays.
fn expand(text: &str, above: &Entries) -> Result<Zeroizing<String>, Problem> {
    let mut out = Zeroizing::new(String::with_capacity(text.len()));
    let mut last = 0;
    for found in EXPAND.captures_iter(text) {
        let whole = found.get(0).expect("group 0 is the match");
        out.push_str(&text[last..whole.start()]);
        last = whole.end();
        match (found.get(1), found.get(4)) {
            (Some(_), _) => out.push_str(&whole.as_str()[1..]),
            (None, Some(name)) => {
                let value = above.get(name.as_str()).ok_or(Problem::UnknownName)?;
                out.push_str(value.expose_secret());
            }
            (None, None) => out.push_str(whole.as_str()),
        }
    }
    out.push_str(&text[last..]);
    Ok(out)
}

#[cfg(test)]
mod tests;
