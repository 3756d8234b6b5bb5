//! Asking before writing: `apply` shows the plan and waits for a yes on the terminal, unless
//! `--yes` was given.

use std::io::{BufRead, IsTerminal, Write};

use crate::apply::ScopeReport;
use crate::error::{Error, UsageError};
use crate::render::{self, Style};

use super::gather::PlannedJob;
use super::{Command, RunOptions};

/// Fail before anything else when `apply` would have to ask and cannot.
pub(super) fn require_terminal(command: Command, options: &RunOptions) -> Result<(), Error> {
    if command == Command::Apply && !options.yes && !std::io::stdin().is_terminal() {
        return Err(UsageError::NoTerminalToConfirm.into());
    }
    Ok(())
}

/// Show what will be written (targets that failed first), then ask unless `--yes`.
pub(super) fn preview_and_ask(
    out: &mut dyn Write,
    failed: &[ScopeReport],
    planned: &[PlannedJob],
    warnings: &[String],
    options: &RunOptions,
    pending: usize,
) -> Result<(), Error> {
    let preview: Vec<&ScopeReport> = failed
        .iter()
        .chain(planned.iter().map(|p| &p.report))
        .collect();
    if !options.json {
        render::plan_preview(out, &preview, warnings, options.style)?;
    } else if !options.yes {
        // stdout carries only the JSON document; the person confirming still sees the plan.
        render::plan_preview(&mut std::io::stderr(), &preview, warnings, Style::default())?;
    }
    if !options.yes && !ask(&format!("Write {pending} change(s) to GitHub?"))? {
        return Err(UsageError::NotConfirmed.into());
    }
    Ok(())
}

/// Ask `question` on the terminal; anything but yes is no.
pub(super) fn ask(question: &str) -> Result<bool, Error> {
    let mut stderr = std::io::stderr();
    write!(stderr, "{question} [y/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}
