//! Parse the command line, decide the terminal policy once, run one subcommand, print any
//! error, and return the exit code (`crate::exit` says which).

use std::ffi::OsString;
use std::io::Write;

use crate::cli::{Cli, Command, Ui};
use crate::commands::{self, Context};
use crate::error::Error;
use crate::exit::ExitStatus;

/// Run secretsync with these arguments (the first is the program name).
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let status = match parse(&args) {
        Ok(cli) => run_parsed(cli),
        Err(status) => status,
    };
    status.code()
}

/// The parsed command line; else clap's help, version or usage error is printed (with the
/// error document when `--json` was asked for) and this is how the run ends.
fn parse(args: &[OsString]) -> Result<Cli, ExitStatus> {
    let parsed = crate::cli::command()
        .try_get_matches_from(args)
        .and_then(|matches| <Cli as clap::FromArgMatches>::from_arg_matches(&matches))
        .map_err(|e| crate::cli::with_placement_tip(e, args));
    parsed.map_err(|e| {
        if e.use_stderr() && args.iter().any(|a| a == "--json") {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            let message = first.strip_prefix("error: ").unwrap_or(first);
            let _ = error_document(&mut std::io::stdout(), None, message);
        }
        let _ = e.print();
        ExitStatus::from(!e.use_stderr())
    })
}

fn run_parsed(cli: Cli) -> ExitStatus {
    let ui = Ui::detect(cli.verbose);
    init_tracing(ui);
    let json = json_command(&cli.command);
    let stdout = std::io::stdout();
    let mut out = Counted {
        inner: stdout.lock(),
        written: false,
    };
    dispatch(cli, ui, &mut out).unwrap_or_else(|e| {
        report(&e, json, &mut out);
        e.exit_status()
    })
}

fn dispatch(cli: Cli, ui: Ui, out: &mut dyn Write) -> Result<ExitStatus, Error> {
    let cx = &mut Context { ui, out };
    match cli.command {
        Command::Plan(args) => commands::plan::run(args, cx),
        Command::Apply(args) => commands::apply::run(args, cx),
        Command::Adopt(args) => commands::adopt::run(args, cx),
        Command::Check(args) => commands::check::run(args, cx),
        Command::Doctor(args) => commands::doctor::run(args, cx),
        Command::Audit(args) => commands::audit::run(args, cx),
        Command::Init(args) => commands::init::run(args, cx),
        Command::Set(args) => commands::set::run(args, cx),
        Command::Rotate(args) => commands::rotate::run(args, cx),
        Command::Completions(args) => commands::completions::run(args, cx),
        Command::Man(args) => commands::man::run(args, cx),
        Command::Sandbox(args) => commands::sandbox::run(args, cx),
        Command::Demo => commands::demo::run(cx),
        Command::State(args) => commands::state::run(args, cx),
    }
}

/// Say what failed on stderr, and for `--json` in an error document on stdout. A closed stdout
/// and failures the output already reports are not said again.
fn report<W: Write>(e: &Error, json: Option<&'static str>, out: &mut Counted<W>) {
    if e.is_broken_pipe() || matches!(e, Error::Reported(_)) {
        return;
    }
    // A document already written (a report, then an error such as Ctrl-C) stays the only one.
    if let (Some(command), false) = (json, out.written) {
        let text = e.to_string().replace("\nerror: ", "\n");
        let _ = error_document(out, Some(command), &text);
    }
    let _ = out.flush();
    eprintln!("error: {e}");
}

/// The command's name when it was asked for `--json`: then stdout carries one JSON document
/// whatever happens, an error document when the command could not write its own.
fn json_command(command: &Command) -> Option<&'static str> {
    match command {
        Command::Plan(a) if a.json => Some("plan"),
        Command::Apply(a) if a.json => Some("apply"),
        Command::Adopt(a) if a.json => Some("adopt"),
        Command::Check(a) if a.json => Some("check"),
        Command::Doctor(a) if a.json => Some("doctor"),
        Command::Audit(a) if a.json => Some("audit"),
        Command::Rotate(a) if a.json => Some("rotate"),
        _ => None,
    }
}

/// The document for a `--json` command that failed before it could write its own
/// (docs/json.md).
fn error_document(
    out: &mut dyn Write,
    command: Option<&str>,
    message: &str,
) -> std::io::Result<()> {
    let doc = serde_json::json!({
        "version": 1,
        "command": command,
        "ok": false,
        "error": { "message": message },
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    out.flush()
}

/// Stdout, remembering whether anything was written to it.
struct Counted<W: Write> {
    inner: W,
    written: bool,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.written |= !buf.is_empty();
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Diagnostics go to stderr, at the level and with the colour the UI policy says.
fn init_tracing(ui: Ui) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(ui.tracing_filter()))
        .with_ansi(ui.diagnostics_color())
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
