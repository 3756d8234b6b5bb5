//! Finding `secrets.NAME` in a workflow's text, line by line, without a YAML parser.
//!
//! Each line loses its YAML comment (a `#` after whitespace, outside a quoted scalar), except
//! inside block scalars (`run: |`), where `#` is content. Expressions are the `${{ ... }}`
//! templates, plus the whole value of an `if:` written without braces. Inside an expression,
//! `secrets.NAME`, `secrets['NAME']` and `secrets["NAME"]` are uses (upper-cased: GitHub ignores
//! case); any other mention of the `secrets` context (`secrets[matrix.name]`, `toJSON(secrets)`)
//! makes the expression unresolved, as does `secrets: inherit`.

use std::path::Path;

/// One use of a secret by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Use {
    pub file: String,
    pub line: usize,
    /// Upper case, as GitHub lists names.
    pub name: String,
}

/// An expression whose secret names only the run knows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unresolved {
    pub file: String,
    pub line: usize,
    pub expression: String,
}

/// What one workflow file uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    pub uses: Vec<Use>,
    pub unresolved: Vec<Unresolved>,
}

/// An open block scalar: lines indented deeper than `indent` (or blank) belong to it.
struct Block {
    indent: usize,
    /// The block is an `if:` value: its text is an expression even without `${{ }}`.
    condition: bool,
}

/// Every use of a secret in one workflow's text; `file` is how locations name it.
pub fn scan_text(file: &Path, text: &str) -> Scan {
    let mut out = Collector {
        file: file.to_string_lossy().replace('\\', "/"),
        scan: Scan::default(),
    };
    let mut block: Option<Block> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        if let Some(open) = &block {
            if raw.trim().is_empty() || indent > open.indent {
                let templated = out.templates(raw, line);
                if open.condition && !templated && !raw.trim().is_empty() {
                    out.expression(raw.trim(), line);
                }
                continue;
            }
            block = None;
        }
        let code = strip_comment(raw);
        let (key, value) = key_value(code);
        // A block under a key holds the lines indented deeper than the key itself.
        let column = match key {
            Some(_) => code.len() - code.trim_start_matches([' ', '-', '\t']).len(),
            None => indent,
        };
        let value = value.trim();
        if key == Some("secrets") && value == "inherit" {
            out.unresolved("secrets: inherit", line);
        }
        if is_block_indicator(value) {
            block = Some(Block {
                indent: column,
                condition: key == Some("if"),
            });
        }
        let templated = out.templates(code, line);
        if key == Some("if") && !templated && !value.is_empty() && !is_block_indicator(value) {
            out.expression(&unquote(value), line);
        }
    }
    out.scan.uses.sort();
    out.scan.uses.dedup();
    out.scan.unresolved.sort();
    out.scan.unresolved.dedup();
    out.scan
}

struct Collector {
    file: String,
    scan: Scan,
}

impl Collector {
    fn unresolved(&mut self, expression: &str, line: usize) {
        self.scan.unresolved.push(Unresolved {
            file: self.file.clone(),
            line,
            expression: expression.to_string(),
        });
    }

    /// Scan each `${{ ... }}` of `code`; whether there was any.
    fn templates(&mut self, code: &str, line: usize) -> bool {
        let mut rest = code;
        let mut found = false;
        while let Some(start) = rest.find("${{") {
            found = true;
            let inner = &rest[start + 3..];
            let end = template_end(inner);
            self.expression(inner[..end].trim(), line);
            rest = inner.get(end + 2..).unwrap_or("");
        }
        found
    }

    /// Record the secrets one expression names, or the expression as unresolved.
    fn expression(&mut self, expr: &str, line: usize) {
        let b = expr.as_bytes();
        let mut dynamic = false;
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'\'' || c == b'"' {
                i = skip_string(b, i);
                continue;
            }
            if !(c.is_ascii_alphabetic() || c == b'_') {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            // `github.event.secrets` is a property, not the context.
            if !expr[start..i].eq_ignore_ascii_case("secrets")
                || before_non_space(b, start) == Some(b'.')
            {
                continue;
            }
            match reference(expr, i) {
                Some((name, end)) => {
                    self.scan.uses.push(Use {
                        file: self.file.clone(),
                        line,
                        name: name.to_ascii_uppercase(),
                    });
                    i = end;
                }
                None => dynamic = true,
            }
        }
        if dynamic {
            self.unresolved(expr, line);
        }
    }
}

/// After the word `secrets` ending at `at`: the literal name and where the reference ends, for
/// `.NAME`, `['NAME']` and `["NAME"]`; `None` for anything computed.
fn reference(expr: &str, at: usize) -> Option<(&str, usize)> {
    let b = expr.as_bytes();
    let mut i = skip_spaces(b, at);
    match b.get(i)? {
        b'.' => {
            i += 1;
            let start = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            (i > start).then(|| (&expr[start..i], i))
        }
        b'[' => {
            i = skip_spaces(b, i + 1);
            let quote = *b.get(i)?;
            if quote != b'\'' && quote != b'"' {
                return None;
            }
            let end = skip_string(b, i);
            let name = expr.get(i + 1..end.checked_sub(1)?)?;
            let close = skip_spaces(b, end);
            let valid =
                !name.is_empty() && name.bytes().all(is_ident) && b.get(close) == Some(&b']');
            valid.then_some((name, close + 1))
        }
        _ => None,
    }
}

/// Letters, digits, `_` and `-`: the characters of a property name in GitHub expressions.
fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn before_non_space(b: &[u8], at: usize) -> Option<u8> {
    b[..at]
        .iter()
        .rev()
        .copied()
        .find(|c| !c.is_ascii_whitespace())
}

/// The index after the string literal opening at `start` (`''` escapes a single quote); the end
/// of the text when it does not close.
fn skip_string(b: &[u8], start: usize) -> usize {
    let quote = b[start];
    let mut i = start + 1;
    while i < b.len() {
        if b[i] == b'\\' && quote == b'"' {
            i += 2;
            continue;
        }
        if b[i] == quote {
            if quote == b'\'' && b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// Where the `}}` closing a template starts in `inner` (outside string literals); its length
/// when it does not close on this line.
fn template_end(inner: &str) -> usize {
    let b = inner.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => i = skip_string(b, i),
            b'}' if b.get(i + 1) == Some(&b'}') => return i,
            _ => i += 1,
        }
    }
    b.len()
}

/// The line without its YAML comment: `#` at the start or after whitespace, outside a quoted
/// scalar. Quotes count only where a scalar starts (`it's` in a plain scalar is no quote).
fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    let mut scalar_start = true;
    let mut after_space = true;
    let mut flow = 0usize;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next_blank = b.get(i + 1).is_none_or(|n| *n == b' ' || *n == b'\t');
        match c {
            b' ' | b'\t' => {
                after_space = true;
                i += 1;
                continue;
            }
            b'#' if after_space => return &line[..i],
            b'\'' | b'"' if scalar_start => {
                i = skip_string(b, i);
                scalar_start = false;
                after_space = false;
                continue;
            }
            b'-' if scalar_start && next_blank => {}
            b'[' | b'{' if scalar_start || flow > 0 => {
                flow += 1;
                scalar_start = true;
            }
            b']' | b'}' if flow > 0 => {
                flow -= 1;
                scalar_start = false;
            }
            b',' if flow > 0 => scalar_start = true,
            b':' if next_blank || flow > 0 => scalar_start = true,
            _ => scalar_start = false,
        }
        after_space = false;
        i += 1;
    }
    line
}

/// The mapping key of a line (after any `- ` entries) and its value; no key: the whole rest.
fn key_value(code: &str) -> (Option<&str>, &str) {
    let mut rest = code.trim_start();
    while let Some(after) = rest.strip_prefix('-') {
        if after.is_empty() || after.starts_with([' ', '\t']) {
            rest = after.trim_start();
        } else {
            break;
        }
    }
    if rest.starts_with(['{', '[', '$', '\'', '"']) {
        return (None, rest);
    }
    let colon = rest
        .char_indices()
        .find(|&(i, c)| c == ':' && rest[i + 1..].chars().next().is_none_or(char::is_whitespace));
    match colon {
        Some((i, _)) => (Some(rest[..i].trim_end()), &rest[i + 1..]),
        None => (None, rest),
    }
}

/// `|`, `>`, with optional chomping and indentation indicators (`|-`, `>+`, `|2`).
fn is_block_indicator(value: &str) -> bool {
    let mut chars = value.chars();
    matches!(chars.next(), Some('|' | '>'))
        && value.len() <= 3
        && chars.all(|c| matches!(c, '-' | '+' | '1'..='9'))
}

/// A quoted YAML scalar's content; a plain one as it is.
fn unquote(value: &str) -> String {
    let quoted = |q: char| value.len() >= 2 && value.starts_with(q) && value.ends_with(q);
    if quoted('\'') {
        value[1..value.len() - 1].replace("''", "'")
    } else if quoted('"') {
        value[1..value.len() - 1].replace("\\\"", "\"")
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Scan {
        scan_text(Path::new("w.yml"), text)
    }

    fn names(text: &str) -> Vec<(usize, String)> {
        scan(text)
            .uses
            .into_iter()
            .map(|u| (u.line, u.name))
            .collect()
    }

    fn unresolved(text: &str) -> Vec<(usize, String)> {
        scan(text)
            .unresolved
            .into_iter()
            .map(|u| (u.line, u.expression))
            .collect()
    }

    fn n(line: usize, name: &str) -> (usize, String) {
        (line, name.to_string())
    }

    #[test]
    fn every_literal_form() {
        let text = "\
env:
  A: ${{ secrets.A }}
  B: ${{ secrets['B'] }}
  C: ${{ secrets[\"C\"] }}
  D: ${{ secrets.d_lower }}
  E: ${{ Secrets.E }}
  F: ${{ secrets[ 'F' ] }}
";
        assert_eq!(
            names(text),
            vec![
                n(2, "A"),
                n(3, "B"),
                n(4, "C"),
                n(5, "D_LOWER"),
                n(6, "E"),
                n(7, "F")
            ]
        );
        assert!(unresolved(text).is_empty());
    }

    #[test]
    fn inside_expressions_and_several_on_a_line() {
        let text = "\
run: echo ${{ secrets.A || secrets.B }} ${{ format('{0}-{1}', secrets.C, 'secrets.NOT') }}
if: ${{ secrets.D != '' }}
if: secrets.E && github.event.secrets.F
if: \"secrets.G == 'x'\"
- if: 'secrets[''H''] != '''''
password: ${{ toJSON(github.secrets) }}
";
        assert_eq!(
            names(text),
            vec![
                n(1, "A"),
                n(1, "B"),
                n(1, "C"),
                n(2, "D"),
                n(3, "E"),
                n(4, "G"),
                n(5, "H")
            ]
        );
        assert!(unresolved(text).is_empty(), "{:?}", unresolved(text));
    }

    #[test]
    fn secrets_outside_an_expression_is_text() {
        let text = "run: echo secrets.A\nname: secrets.B\n";
        assert!(names(text).is_empty());
    }

    #[test]
    fn comments_are_ignored() {
        let text = "\
# ${{ secrets.A }}
    # token: ${{ secrets.B }}
run: echo hi # ${{ secrets.C }}
run: echo don't # ${{ secrets.D }}
name: \"# ${{ secrets.E }}\" # ${{ secrets.F }}
name: 'it''s # ${{ secrets.G }}'
url: http://x#${{ secrets.H }}
";
        assert_eq!(names(text), vec![n(5, "E"), n(6, "G"), n(7, "H")]);
    }

    #[test]
    fn block_scalars_keep_hash_as_content() {
        let text = "\
steps:
  - run: |
      echo x # ${{ secrets.A }}
      # ${{ secrets.B }}

      echo ${{ secrets.C }}
  # ${{ secrets.D }}
  - if: >-
      secrets.E != ''
    run: echo ${{ secrets.F }}
";
        assert_eq!(
            names(text),
            vec![n(3, "A"), n(4, "B"), n(6, "C"), n(9, "E"), n(10, "F")]
        );
    }

    #[test]
    fn dynamic_references_are_unresolved() {
        let text = "\
A: ${{ secrets[matrix.name] }}
B: ${{ secrets[format('X_{0}', env.Y)] }}
C: ${{ toJSON(secrets) }}
D: ${{ secrets[inputs.name] || secrets.KNOWN }}
E: ${{ secrets.* }}
";
        assert_eq!(
            unresolved(text),
            vec![
                n(1, "secrets[matrix.name]"),
                n(2, "secrets[format('X_{0}', env.Y)]"),
                n(3, "toJSON(secrets)"),
                n(4, "secrets[inputs.name] || secrets.KNOWN"),
                n(5, "secrets.*"),
            ]
        );
        assert_eq!(names(text), vec![n(4, "KNOWN")]);
    }

    #[test]
    fn inherit_is_unresolved() {
        let text = "\
jobs:
  call:
    uses: ./.github/workflows/reusable.yml
    secrets: inherit
  other:
    secrets: inherit # all of them
  third:
    secrets:
      TOKEN: ${{ secrets.DEPLOY }}
";
        assert_eq!(
            unresolved(text),
            vec![n(4, "secrets: inherit"), n(6, "secrets: inherit")]
        );
        assert_eq!(names(text), vec![n(9, "DEPLOY")]);
    }

    #[test]
    fn duplicates_on_a_line_count_once_and_locations_name_the_file() {
        let scan = scan_text(
            Path::new(".github/workflows/ci.yml"),
            "x: ${{ secrets.A || secrets.a }}",
        );
        assert_eq!(
            scan.uses,
            vec![Use {
                file: ".github/workflows/ci.yml".into(),
                line: 1,
                name: "A".into()
            }]
        );
    }

    #[test]
    fn unclosed_template_runs_to_the_end_of_the_line() {
        assert_eq!(names("x: ${{ secrets.A"), vec![n(1, "A")]);
    }

    #[test]
    fn comment_stripping() {
        assert_eq!(strip_comment("a: b # c"), "a: b ");
        assert_eq!(strip_comment("a: b#c"), "a: b#c");
        assert_eq!(strip_comment("a: 'b # c' # d"), "a: 'b # c' ");
        assert_eq!(strip_comment("a: [\"x # y\", z] # d"), "a: [\"x # y\", z] ");
        assert_eq!(strip_comment("- \"x # y\""), "- \"x # y\"");
        assert_eq!(strip_comment("# all"), "");
    }

    #[test]
    fn keys_and_blocks() {
        assert_eq!(key_value("  - if: x"), (Some("if"), " x"));
        assert_eq!(
            key_value("- - secrets: inherit"),
            (Some("secrets"), " inherit")
        );
        assert_eq!(key_value("run: a:b"), (Some("run"), " a:b"));
        assert_eq!(key_value("http://x"), (None, "http://x"));
        assert!(is_block_indicator("|"));
        assert!(is_block_indicator(">-"));
        assert!(is_block_indicator("|2+"));
        assert!(!is_block_indicator("|| x"));
    }
}
