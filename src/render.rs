//! Showing plans and results: an aligned text listing with `+ ~ = - ?` marks, or one JSON
//! document (documented in docs/json.md). Writes to any writer; knows no terminal.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use crate::apply::ScopeReport;
use crate::github::{GithubError, Written};
use crate::plan::{Action, Change, ItemKind, Reason, Summary};

/// A column of names is as wide as its longest entry up to this many characters; longer entries
/// are not padded, so one outlier cannot widen every other line.
pub const COLUMN_CAP: usize = 40;
/// The same for reasons, most of which are sentences of 20 to 90 characters.
const REASON_COLUMN_CAP: usize = 100;
/// Names longer than this are cut, with their length said.
pub const NAME_SHOWN: usize = 64;
/// A variable's value in a reason is cut to this many characters.
const VALUE_SHOWN: usize = 40;
/// Any reason is cut to this many characters (a server's text can be of any length).
const REASON_SHOWN: usize = 240;

/// Colour or not; decided once by the caller (terminal and `NO_COLOR`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plan,
    Apply,
}

fn mark(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("+", "32"),
        Action::Update => ("~", "33"),
        Action::Unchanged => ("=", "2"),
        Action::Delete => ("-", "31"),
        Action::Extra => ("?", "36"),
    }
}

/// The whole report: text or JSON. `ok` is the run's verdict (the exit code's), which the JSON
/// document states.
pub fn report(
    out: &mut dyn Write,
    reports: &[ScopeReport],
    warnings: &[String],
    mode: Mode,
    ok: bool,
    json: bool,
    style: Style,
) -> io::Result<()> {
    let refs: Vec<&ScopeReport> = reports.iter().collect();
    match (json, mode) {
        (true, _) => write_json(out, &refs, warnings, mode, ok),
        (false, Mode::Plan) => plan_preview(out, &refs, warnings, style),
        (false, Mode::Apply) if refs.iter().all(|r| r.results.is_empty()) => {
            plan_preview(out, &refs, warnings, style)
        }
        (false, Mode::Apply) => results_text(out, &refs, warnings, style),
    }
}

/// How a change is named: secrets bare, variables as workflows spell them (`vars.NAME`).
fn shown_name(change: &Change) -> String {
    match change.kind {
        ItemKind::Secret => change.name.clone(),
        ItemKind::Variable => format!("vars.{}", change.name),
    }
}

fn write_warnings(out: &mut dyn Write, warnings: &[String], style: Style) -> io::Result<()> {
    for w in warnings {
        writeln!(out, "{} {w}", style.paint("33", "warning:"))?;
    }
    Ok(())
}

/// `text`, or its first `max` characters and its length when it is longer.
pub fn fit(text: &str, max: usize) -> Cow<'_, str> {
    match cut(text, max) {
        None => Cow::Borrowed(text),
        Some((head, length)) => Cow::Owned(format!("{head}… ({length} characters)")),
    }
}

/// The first `max` characters of `text` and its length in characters; `None` when it fits.
fn cut(text: &str, max: usize) -> Option<(&str, usize)> {
    let (at, _) = text.char_indices().nth(max)?;
    Some((&text[..at], text.chars().count()))
}

/// The width of a column holding entries of these lengths, ignoring those over `cap`.
pub fn column_width(lengths: impl Iterator<Item = usize>, cap: usize) -> usize {
    lengths.filter(|l| *l <= cap).max().unwrap_or(0)
}

/// A change's name as shown in a text column.
fn name_cell(change: &Change) -> String {
    fit(&shown_name(change), NAME_SHOWN).into_owned()
}

fn width(reports: &[&ScopeReport]) -> usize {
    column_width(
        reports
            .iter()
            .flat_map(|r| r.changes.iter().map(|c| name_cell(c).chars().count())),
        COLUMN_CAP,
    )
}

/// A variable's value in a text reason: quoted, and cut when long.
fn shown_value(value: &str) -> String {
    match cut(value, VALUE_SHOWN) {
        None => format!("{value:?}"),
        Some((head, length)) => format!("{head:?}… ({length} characters)"),
    }
}

/// A reason in the text listing: as in JSON, but with long values cut.
fn reason_cell(reason: &Reason) -> String {
    let text = match reason {
        Reason::VariableChanged { old, new } => {
            format!("{} -> {}", shown_value(old), shown_value(new))
        }
        other => other.to_string(),
    };
    fit(&text, REASON_SHOWN).into_owned()
}

/// A failed target is marked here; its error is said once, on stderr, after the report (where
/// scripts reading only stderr find it too).
fn target_error(out: &mut dyn Write, report: &ScopeReport, style: Style) -> io::Result<()> {
    if report.error.is_some() {
        let line = "failed; its error is shown after the report";
        writeln!(
            out,
            "  {} {}",
            style.paint("31", "!"),
            style.paint("31", line)
        )?;
    }
    Ok(())
}

/// The plan as text: one aligned line per change and a summary.
pub fn plan_preview(
    out: &mut dyn Write,
    reports: &[&ScopeReport],
    warnings: &[String],
    style: Style,
) -> io::Result<()> {
    let w = width(reports);
    let rw = column_width(
        reports.iter().flat_map(|r| {
            r.changes
                .iter()
                .map(|c| reason_cell(&c.reason).chars().count())
        }),
        REASON_COLUMN_CAP,
    );
    let mut summary = Summary::default();
    for report in reports {
        writeln!(out, "{}", style.paint("1", &report.target))?;
        for c in &report.changes {
            let (m, color) = mark(c.action);
            let source = c
                .source
                .map(|k| format!("  [{}]", k.as_str()))
                .unwrap_or_default();
            let line = format!(
                "  {} {:<w$}  {:<9}  {:<rw$}{}",
                style.paint(color, m),
                name_cell(c),
                c.action.as_str(),
                reason_cell(&c.reason),
                style.paint("2", &source),
            );
            writeln!(out, "{}", line.trim_end())?;
        }
        target_error(out, report, style)?;
        summary.add(Summary::of(&report.changes));
    }
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    write_warnings(out, warnings, style)?;
    writeln!(out, "{}", plan_summary(&summary, failed))
}

fn plan_summary(s: &Summary, failed_targets: usize) -> String {
    let counts = format!("{} unchanged, {} extra", s.unchanged, s.extra);
    let changes = format!(
        "{} to create, {} to update, {} to delete",
        s.create, s.update, s.delete
    );
    match (failed_targets, s.pending()) {
        (0, 0) => format!("In sync: {counts}."),
        (0, _) => format!("Plan: {changes}; {counts}."),
        (failed, _) if s == &Summary::default() => {
            format!("{failed} target(s) could not be planned, and nothing else was.")
        }
        (failed, 0) => {
            format!("{failed} target(s) could not be planned; the others are in sync: {counts}.")
        }
        (failed, _) => {
            format!("{failed} target(s) could not be planned. The others: {changes}; {counts}.")
        }
    }
}

/// What `apply` did, per change, and a summary.
fn results_text(
    out: &mut dyn Write,
    reports: &[&ScopeReport],
    warnings: &[String],
    style: Style,
) -> io::Result<()> {
    let w = width(reports);
    let mut totals = ApplyTotals::default();
    for report in reports {
        writeln!(out, "{}", style.paint("1", &report.target))?;
        for c in &report.changes {
            let (m, color) = mark(c.action);
            let text = match report.result(c) {
                Some(Ok(_)) if c.action == Action::Delete => "deleted".to_string(),
                Some(Ok(Written::Created)) => "created".to_string(),
                Some(Ok(Written::Updated)) => "updated".to_string(),
                Some(Err(e)) => style.paint("31", &format!("failed: {}", failure(e))),
                None if c.action.writes() => style.paint("31", "not written"),
                None => c.action.as_str().to_string(),
            };
            writeln!(
                out,
                "  {} {:<w$}  {}",
                style.paint(color, m),
                name_cell(c),
                text
            )?;
        }
        target_error(out, report, style)?;
        if !report.missing.is_empty() {
            let line = format!(
                "missing on GitHub after apply: {}",
                report.missing.join(", ")
            );
            writeln!(out, "  {} {}", style.paint("31", "!"), line)?;
        }
        totals.add(report);
    }
    write_warnings(out, warnings, style)?;
    writeln!(out, "{}", totals.line())
}

fn failure(e: &crate::github::GithubError) -> String {
    match e.status() {
        Some(status) => format!("{status} {}", e.message()),
        None => e.to_string(),
    }
}

#[derive(Default)]
struct ApplyTotals {
    created: usize,
    updated: usize,
    deleted: usize,
    failed: usize,
    unchanged: usize,
    extra: usize,
    missing: usize,
    target_errors: usize,
}

impl ApplyTotals {
    fn add(&mut self, report: &ScopeReport) {
        for c in &report.changes {
            match (c.action, report.result(c)) {
                (Action::Unchanged, _) => self.unchanged += 1,
                (Action::Extra, _) => self.extra += 1,
                (Action::Delete, Some(Ok(_))) => self.deleted += 1,
                (_, Some(Ok(Written::Created))) => self.created += 1,
                (_, Some(Ok(Written::Updated))) => self.updated += 1,
                _ => self.failed += 1,
            }
        }
        self.missing += report.missing.len();
        self.target_errors += usize::from(report.error.is_some());
    }

    fn line(&self) -> String {
        let mut line = format!(
            "Applied: {} created, {} updated, {} deleted, {} failed; {} unchanged, {} extra.",
            self.created, self.updated, self.deleted, self.failed, self.unchanged, self.extra
        );
        if self.missing > 0 {
            line.push_str(&format!(" {} declared secret(s) missing.", self.missing));
        }
        if self.target_errors > 0 {
            line.push_str(&format!(" {} target(s) failed.", self.target_errors));
        }
        line
    }
}

// ---- JSON ------------------------------------------------------------------------------

#[derive(Serialize)]
struct JsonDoc<'a> {
    version: u32,
    command: &'static str,
    ok: bool,
    targets: Vec<JsonTarget<'a>>,
    warnings: &'a [String],
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonTarget<'a> {
    target: &'a str,
    error: Option<JsonError>,
    changes: Vec<JsonChange<'a>>,
    missing: &'a [String],
}

#[derive(Serialize)]
struct JsonChange<'a> {
    kind: ItemKind,
    name: &'a str,
    action: Action,
    reason: String,
    reason_code: &'static str,
    source: Option<&'static str>,
    result: Option<JsonResult>,
}

#[derive(Serialize)]
struct JsonResult {
    ok: bool,
    status: Option<u16>,
    message: Option<String>,
}

#[derive(Serialize)]
struct JsonError {
    status: Option<u16>,
    message: String,
}

#[derive(Serialize)]
struct JsonSummary {
    #[serde(flatten)]
    actions: Summary,
    pending: usize,
    failed: usize,
    missing: usize,
    target_errors: usize,
}

fn write_json(
    out: &mut dyn Write,
    reports: &[&ScopeReport],
    warnings: &[String],
    mode: Mode,
    ok: bool,
) -> io::Result<()> {
    let summary = json_summary(reports, mode);
    let doc = JsonDoc {
        version: 1,
        command: match mode {
            Mode::Plan => "plan",
            Mode::Apply => "apply",
        },
        ok,
        targets: reports.iter().map(|r| json_target(r)).collect(),
        warnings,
        summary,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn json_summary(reports: &[&ScopeReport], mode: Mode) -> JsonSummary {
    let mut actions = Summary::default();
    let mut failed = 0;
    let mut missing = 0;
    let mut target_errors = 0;
    for r in reports {
        actions.add(Summary::of(&r.changes));
        failed += r.failed();
        target_errors += usize::from(r.error.is_some());
        if mode == Mode::Apply {
            missing += r.missing.len();
        }
    }
    let pending = if mode == Mode::Plan {
        actions.pending()
    } else {
        0
    };
    JsonSummary {
        actions,
        pending,
        failed,
        missing,
        target_errors,
    }
}

fn json_target<'a>(r: &'a ScopeReport) -> JsonTarget<'a> {
    JsonTarget {
        target: &r.target,
        error: r.error.as_ref().map(|e| JsonError {
            status: e.status(),
            message: e.to_string(),
        }),
        changes: r
            .changes
            .iter()
            .map(|c| JsonChange {
                kind: c.kind,
                name: &c.name,
                action: c.action,
                reason: c.reason.to_string(),
                reason_code: c.reason.code(),
                source: c.source.map(|k| k.as_str()),
                result: r.result(c).map(json_result),
            })
            .collect(),
        missing: &r.missing,
    }
}

fn json_result(result: &Result<Written, GithubError>) -> JsonResult {
    match result {
        Ok(Written::Created) => JsonResult {
            ok: true,
            status: Some(201),
            message: None,
        },
        Ok(Written::Updated) => JsonResult {
            ok: true,
            status: Some(204),
            message: None,
        },
        Err(e) => JsonResult {
            ok: false,
            status: e.status(),
            message: Some(e.message()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_on_characters_and_says_the_length() {
        assert_eq!(fit("short", 5), "short");
        assert_eq!(fit("ééééé", 2), "éé… (5 characters)");
        assert_eq!(shown_value("abc"), "\"abc\"");
        assert!(shown_value(&"x".repeat(41)).ends_with("\"… (41 characters)"));
    }

    #[test]
    fn an_outlier_does_not_widen_a_column() {
        assert_eq!(column_width([3, 7, 65_536].into_iter(), COLUMN_CAP), 7);
        assert_eq!(column_width(std::iter::empty(), COLUMN_CAP), 0);
    }
}
