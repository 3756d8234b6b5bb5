//! The audit as text (grouped, one line per finding) or as one JSON document (docs/audit.md).

use std::io::{self, Write};

use serde::Serialize;

use super::compare::Findings;
use super::scan::Use;

/// What the report shows besides the findings.
pub struct Summary<'a> {
    /// The scanned folder, as given.
    pub folder: &'a str,
    pub files: usize,
    pub uses: &'a [Use],
    pub offline: bool,
}

pub fn text(out: &mut dyn Write, summary: &Summary<'_>, findings: &Findings) -> io::Result<()> {
    let names: std::collections::BTreeSet<&str> =
        summary.uses.iter().map(|u| u.name.as_str()).collect();
    writeln!(
        out,
        "Scanned {} workflow file(s) in {}: {} secret(s) used in {} place(s).",
        summary.files,
        summary.folder,
        names.len(),
        summary.uses.len()
    )?;
    let heading = match summary.offline {
        false => "Missing: used, but neither declared nor on GitHub; the workflow will see an empty string",
        true => "Missing: used, but not declared (GitHub not asked); the workflow may see an empty string",
    };
    let missing = findings.missing.iter().map(|m| {
        let places: Vec<String> = m
            .uses
            .iter()
            .map(|u| format!("{}:{}", u.file, u.line))
            .collect();
        (m.name.as_str(), places.join(", "))
    });
    table(out, heading, missing.collect())?;
    let declared = findings
        .declared_unused
        .iter()
        .map(|d| (d.name.as_str(), format!("config line {}", d.config_line)));
    table(
        out,
        "Declared in the config, never used by a workflow",
        declared.collect(),
    )?;
    let present = findings
        .present_unused
        .iter()
        .map(|p| (p.name.as_str(), p.targets.join(", ")));
    table(
        out,
        "On GitHub, never used by a workflow",
        present.collect(),
    )?;
    if !findings.unresolved.is_empty() {
        writeln!(
            out,
            "Unresolved: which secrets these use is known only when the workflow runs"
        )?;
        for u in &findings.unresolved {
            writeln!(out, "  {}:{}  {}", u.file, u.line, u.expression)?;
        }
    }
    if summary.offline {
        writeln!(
            out,
            "Offline: GitHub was not asked which secrets are present."
        )?;
    }
    match findings.count() {
        0 => writeln!(out, "No findings."),
        n => {
            let mut line = format!("{n} finding(s).");
            let unused = findings.declared_unused.len() + findings.present_unused.len();
            if unused > 0 && !findings.unresolved.is_empty() {
                line.push_str(
                    " An \"unused\" secret may still be used by an unresolved expression.",
                );
            }
            writeln!(out, "{line}")
        }
    }
}

/// A heading, then a row per name: the name in a column as wide as the longest, then its detail.
/// Nothing at all without rows.
fn table(out: &mut dyn Write, heading: &str, rows: Vec<(&str, String)>) -> io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(out, "{heading}")?;
    let w = width(rows.iter().map(|(name, _)| *name));
    for (name, detail) in &rows {
        writeln!(out, "  {:<w$}  {detail}", cell(name))?;
    }
    Ok(())
}

/// A workflow may name a secret of any length: long names are cut, and do not widen the column.
fn width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    crate::render::column_width(
        names.map(|n| cell(n).chars().count()),
        crate::render::COLUMN_CAP,
    )
}

fn cell(name: &str) -> std::borrow::Cow<'_, str> {
    crate::render::fit(name, crate::render::NAME_SHOWN)
}

#[derive(Serialize)]
struct JsonDoc<'a> {
    version: u32,
    offline: bool,
    used: &'a [JsonUse<'a>],
    findings: JsonFindings<'a>,
}

#[derive(Serialize)]
struct JsonUse<'a> {
    name: &'a str,
    file: &'a str,
    line: usize,
}

#[derive(Serialize)]
struct JsonFindings<'a> {
    missing: Vec<JsonMissing<'a>>,
    declared_unused: Vec<JsonDeclared<'a>>,
    present_unused: Vec<JsonPresent<'a>>,
    unresolved: Vec<JsonUnresolved<'a>>,
}

#[derive(Serialize)]
struct JsonMissing<'a> {
    name: &'a str,
    uses: Vec<JsonLocation<'a>>,
}

#[derive(Serialize)]
struct JsonLocation<'a> {
    file: &'a str,
    line: usize,
}

#[derive(Serialize)]
struct JsonDeclared<'a> {
    name: &'a str,
    config_line: usize,
}

#[derive(Serialize)]
struct JsonPresent<'a> {
    name: &'a str,
    targets: &'a [String],
}

#[derive(Serialize)]
struct JsonUnresolved<'a> {
    file: &'a str,
    line: usize,
    expression: &'a str,
}

pub fn json(out: &mut dyn Write, summary: &Summary<'_>, findings: &Findings) -> io::Result<()> {
    let used: Vec<JsonUse<'_>> = summary
        .uses
        .iter()
        .map(|u| JsonUse {
            name: &u.name,
            file: &u.file,
            line: u.line,
        })
        .collect();
    let doc = JsonDoc {
        version: 1,
        offline: summary.offline,
        used: &used,
        findings: JsonFindings {
            missing: findings
                .missing
                .iter()
                .map(|m| JsonMissing {
                    name: &m.name,
                    uses: m
                        .uses
                        .iter()
                        .map(|u| JsonLocation {
                            file: &u.file,
                            line: u.line,
                        })
                        .collect(),
                })
                .collect(),
            declared_unused: findings
                .declared_unused
                .iter()
                .map(|d| JsonDeclared {
                    name: &d.name,
                    config_line: d.config_line,
                })
                .collect(),
            present_unused: findings
                .present_unused
                .iter()
                .map(|p| JsonPresent {
                    name: &p.name,
                    targets: &p.targets,
                })
                .collect(),
            unresolved: findings
                .unresolved
                .iter()
                .map(|u| JsonUnresolved {
                    file: &u.file,
                    line: u.line,
                    expression: &u.expression,
                })
                .collect(),
        },
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
