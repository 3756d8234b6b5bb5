//! Parse the command line, run one subcommand, print any error, and return the exit code:
//! 0 success and in sync, 1 any error (usage included), 2 `plan --detailed-exitcode` with changes.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};

use crate::cli::{Cli, Command, ConfigArgs, NetworkArgs, SandboxArgs, StateArgs};
use crate::config;
use crate::error::Error;
use crate::github::Pacing;
use crate::render::Style;
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::source::PromptMode;
use crate::state::StateDir;
use crate::sync::{self, Options};

pub const EXIT_OK: i32 = 0;
pub const EXIT_ERROR: i32 = 1;
pub const EXIT_CHANGES: i32 = 2;

/// Run secretsync with these arguments (the first is the program name).
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let parsed = crate::cli::command()
        .try_get_matches_from(&args)
        .and_then(|matches| <Cli as clap::FromArgMatches>::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            if e.use_stderr() && args.iter().any(|a| a == "--json") {
                let text = e.to_string();
                let first = text.lines().next().unwrap_or_default();
                let message = first.strip_prefix("error: ").unwrap_or(first);
                let _ = error_document(&mut std::io::stdout(), None, message);
            }
            let _ = e.print();
            return code;
        }
    };
    init_tracing(cli.verbose);
    let json = json_command(&cli.command);
    let stdout = std::io::stdout();
    let mut out = Counted {
        inner: stdout.lock(),
        written: false,
    };
    match dispatch(cli, &mut out) {
        Ok(code) => code,
        Err(Error::Output(e)) if e.contains("Broken pipe") => EXIT_OK,
        Err(Error::Reported(_)) => EXIT_ERROR,
        Err(e) => {
            // A document already written (a report, then an error such as Ctrl-C) stays the
            // only one.
            if let (Some(command), false) = (json, out.written) {
                let text = e.to_string().replace("\nerror: ", "\n");
                let _ = error_document(&mut out, Some(command), &text);
            }
            let _ = out.flush();
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// The command's name when it was asked for `--json`: then stdout carries one JSON document
/// whatever happens, an error document when the command could not write its own.
fn json_command(command: &Command) -> Option<&'static str> {
    match command {
        Command::Plan(a) if a.json => Some("plan"),
        Command::Apply(a) if a.json => Some("apply"),
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

fn dispatch(cli: Cli, out: &mut dyn Write) -> Result<i32, Error> {
    let early = (cli.early_config, cli.early_state, cli.early_network);
    match cli.command {
        Command::Plan(args) => {
            let options = Options {
                prune: args.prune,
                prompts: if args.interactive {
                    PromptMode::Ask
                } else {
                    PromptMode::Defer
                },
                ..options(args.json, pacing(args.network.or(early.2)))
            };
            let outcome = sync_command(
                args.config.or(early.0),
                args.state.or(early.1),
                sync::Command::Plan,
                &options,
                out,
            )?;
            Ok(match outcome {
                o if !o.ok => failed(&o),
                o if o.pending > 0 && args.detailed_exitcode => EXIT_CHANGES,
                _ => EXIT_OK,
            })
        }
        Command::Apply(args) => {
            let options = Options {
                prune: args.prune,
                prompts: PromptMode::Ask,
                yes: args.yes,
                skip_checks: args.skip_checks,
                ..options(args.json, pacing(args.network.or(early.2)))
            };
            let outcome = sync_command(
                args.config.or(early.0),
                args.state.or(early.1),
                sync::Command::Apply,
                &options,
                out,
            )?;
            Ok(if outcome.ok {
                EXIT_OK
            } else {
                failed(&outcome)
            })
        }
        Command::Check(args) => {
            let config = load_config(args.config.or(early.0))?;
            crate::check::run(&config, args.json, out)
        }
        Command::Doctor(args) => {
            let config = load_config(args.config.or(early.0))?;
            crate::doctor::run(&config, args.json, pacing(args.network.or(early.2)), out)
        }
        Command::Audit(args) => {
            let config = load_config(args.config.or(early.0))?;
            let options = crate::audit::Options {
                checkout: args.checkout,
                json: args.json,
                detailed_exitcode: args.detailed_exitcode,
                offline: args.offline,
            };
            crate::audit::run(&config, &options, pacing(args.network.or(early.2)), out)
        }
        Command::Init(args) => {
            let path = config_path(args.config.or(early.0));
            crate::init::run(
                &path,
                args.preset.as_deref(),
                args.repo.as_deref(),
                args.force,
                out,
            )
        }
        Command::Set(args) => {
            let config = load_config(args.config.or(early.0))?;
            crate::rotate::set(&config, &args.name, args.stdin, out)
        }
        Command::Rotate(args) => {
            let config = load_config(args.config.or(early.0))?;
            let state = locate_state(args.state.or(early.1))?;
            let rotation = crate::rotate::Rotation {
                name: &args.name,
                stdin: args.stdin,
                skip_checks: args.skip_checks,
                options: Options {
                    prompts: PromptMode::Ask,
                    yes: args.yes,
                    ..options(args.json, pacing(args.network.or(early.2)))
                },
                state: &state,
            };
            let outcome = crate::rotate::rotate(&config, rotation, out)?;
            Ok(if outcome.ok {
                EXIT_OK
            } else {
                failed(&outcome)
            })
        }
        Command::Completions(args) => {
            let mut command = crate::cli::command();
            // clap_complete panics on a write error; generating into memory first turns a
            // closed pipe into the usual quiet exit.
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut command, "secretsync", &mut script);
            out.write_all(&script)?;
            Ok(EXIT_OK)
        }
        Command::Man(args) => crate::man::run(args.dir.as_deref(), out).map(|()| EXIT_OK),
        Command::Sandbox(args) => sandbox(args, out),
        Command::Demo => crate::demo::run(out, style(false)),
    }
}

/// The pacing the flags ask for; the defaults, which their help names, are the transport's.
fn pacing(flags: NetworkArgs) -> Pacing {
    let default = Pacing::default();
    let secs = std::time::Duration::from_secs;
    Pacing {
        concurrency: flags.concurrency.map_or(default.concurrency, usize::from),
        max_wait: flags.max_wait.map_or(default.max_wait, secs),
        retries: flags.retries.unwrap_or(default.retries),
        timeout: flags.timeout.map_or(default.timeout, secs),
        ..default
    }
}

/// A run whose report holds failures: say so on stderr too, and exit 1.
fn failed(outcome: &sync::Outcome) -> i32 {
    if let Some(line) = &outcome.failure {
        eprintln!("error: {line}");
    }
    EXIT_ERROR
}

fn config_path(flag: ConfigArgs) -> std::path::PathBuf {
    config::locate(
        flag.config.as_deref(),
        std::env::var_os("SECRETSYNC_CONFIG"),
    )
}

fn load_config(flag: ConfigArgs) -> Result<config::Config, Error> {
    Ok(config::load(&config_path(flag))?)
}

fn locate_state(flag: StateArgs) -> Result<StateDir, Error> {
    Ok(StateDir::locate(
        flag.state_dir.as_deref(),
        std::env::var_os("XDG_STATE_HOME"),
        std::env::var_os("HOME"),
    )?)
}

fn sync_command(
    config_flag: ConfigArgs,
    state_flag: StateArgs,
    command: sync::Command,
    options: &Options,
    out: &mut dyn Write,
) -> Result<sync::Outcome, Error> {
    let config = load_config(config_flag)?;
    let state = locate_state(state_flag)?;
    sync::run(&config, &state, command, options, None, out)
}

/// A plan's options; apply and rotate change what they need.
fn options(json: bool, pacing: Pacing) -> Options {
    Options {
        prune: false,
        json,
        prompts: PromptMode::Defer,
        yes: false,
        style: style(json),
        pacing,
        progress: progress(json),
        skip_checks: true,
    }
}

/// Colour only on a terminal, never with `NO_COLOR`, on a `TERM=dumb` terminal or for JSON.
fn style(json: bool) -> Style {
    Style {
        color: !json && !no_color() && std::io::stdout().is_terminal(),
    }
}

/// Progress only on a terminal, never for JSON.
fn progress(json: bool) -> bool {
    !json && std::io::stderr().is_terminal()
}

/// `NO_COLOR` (no-color.org), or a terminal that says it cannot show colour.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
        || std::env::var_os("TERM").is_some_and(|t| t == "dumb")
}

/// Diagnostics go to stderr, and only secretsync's own: other crates' debug output could show
/// request headers, and so the token.
fn init_tracing(verbose: u8) {
    let filter = match verbose {
        0 => "warn",
        1 => "warn,secretsync=info",
        _ => "warn,secretsync=debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(std::io::stderr().is_terminal() && !no_color())
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn sandbox(args: SandboxArgs, out: &mut dyn Write) -> Result<i32, Error> {
    if !args.addr.ip().is_loopback() {
        return Err(Error::Usage(format!(
            "the sandbox listens on loopback only, not `{}`; use e.g. --addr 127.0.0.1:8088",
            args.addr
        )));
    }
    let mut failures = Vec::new();
    for spec in &args.failures {
        let parsed = spec
            .split_once('=')
            .and_then(|(name, status)| Some((name.to_string(), status.parse::<u16>().ok()?)))
            .filter(|(_, status)| (400..600).contains(status));
        match parsed {
            Some(f) => failures.push(f),
            None => {
                return Err(Error::Usage(format!(
                    "`--fail {spec}` is not NAME=STATUS with a status from 400 to 599, e.g. `--fail ALIYUN_PASSWORD=500`"
                )))
            }
        }
    }
    let mut repos = std::collections::BTreeSet::new();
    for repo in &args.repos {
        if config::Repo::parse(repo).is_none() {
            return Err(Error::Usage(format!(
                "`--repo {repo}` is not of the form owner/name"
            )));
        }
        repos.insert(repo.clone());
    }
    let env_token = std::env::var("SECRETSYNC_SANDBOX_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let defaults = SandboxConfig::default();
    let token_hint = match &env_token {
        Some(_) => "the token in $SECRETSYNC_SANDBOX_TOKEN".to_string(),
        None => format!("GH_TOKEN={}", defaults.token),
    };
    let config = SandboxConfig {
        addr: args.addr,
        latency: std::time::Duration::from_millis(args.latency_ms),
        token: env_token.unwrap_or(defaults.token),
        repos: (!repos.is_empty()).then_some(repos),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let sandbox = Sandbox::start(config).await.map_err(|e| {
            Error::Usage(format!(
                "cannot listen on {}: {e}; pick another --addr",
                args.addr
            ))
        })?;
        for (name, status) in &failures {
            sandbox.inject_write_failure("*", name, *status, "injected by --fail");
        }
        // Serving must not depend on whoever reads stdout: a closed pipe only loses the banner.
        let banner = format!(
            "api_url = \"{}\"\nSandbox ready: put that api_url under [github] and use \
             {token_hint}. Ctrl-C stops it.\n",
            sandbox.api_url()
        );
        let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
        sandbox.run_until_ctrl_c().await;
        Ok(EXIT_OK)
    })
}
