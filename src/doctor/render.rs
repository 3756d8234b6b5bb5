//! Doctor's report as text, grouped per target (one short line per probe, one line per problem
//! with its fix), or as one JSON document.

use std::io::Write;

use super::{DoctorReport, SharedReport};
use crate::error::Error;

const OK: &str = "ok";
const FAIL: &str = "FAIL";

fn line(out: &mut dyn Write, ok: bool, message: &str) -> std::io::Result<()> {
    writeln!(out, "  {:<4}  {message}", if ok { OK } else { FAIL })
}

pub(super) fn text(out: &mut dyn Write, report: &DoctorReport) -> Result<(), Error> {
    writeln!(out, "GitHub API at {}", report.api_url)?;
    if report.reachable {
        line(out, true, "GitHub answers")?;
    }
    // Unreachable: the token line says so, and is the only line.
    line(out, report.token.ok, &report.token.message)?;
    for target in &report.targets {
        writeln!(out, "{}", target.target)?;
        for probe in &target.probes {
            line(out, probe.ok, &probe.message)?;
        }
    }
    if let Some(shared) = &report.shared_state {
        shared_text(out, shared)?;
    }
    let shared = report.shared_state.iter().flat_map(SharedReport::checks);
    let problems = usize::from(!report.token.ok)
        + report
            .targets
            .iter()
            .flat_map(|t| &t.probes)
            .chain(shared)
            .filter(|p| !p.ok)
            .count();
    match problems {
        0 => writeln!(out, "Everything passed.")?,
        1 => writeln!(out, "1 problem.")?,
        n => writeln!(out, "{n} problems.")?,
    }
    out.flush()?;
    Ok(())
}

/// The key's line, then each scope that holds a record under its own heading.
fn shared_text(out: &mut dyn Write, shared: &SharedReport) -> std::io::Result<()> {
    writeln!(
        out,
        "shared record (`[state] store = \"github\"`, variable {})",
        shared.variable
    )?;
    line(out, shared.key.ok, &shared.key.message)?;
    for home in &shared.scopes {
        writeln!(out, "shared record of {}", home.scope)?;
        for probe in &home.checks {
            line(out, probe.ok, &probe.message)?;
        }
    }
    Ok(())
}

pub(super) fn json(out: &mut dyn Write, report: &DoctorReport) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(report)
        .map_err(|e| Error::Internal(format!("cannot encode the report: {e}")))?;
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}
