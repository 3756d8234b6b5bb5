//! The command line, as clap sees it, and the terminal policy decided once per run. Nothing else
//! in the crate uses clap: each of `commands/` turns these structs into its module's options.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::render::Style;

#[derive(Debug, Parser)]
#[command(
    name = "secretsync",
    version,
    about = "Make GitHub Actions secrets match where their values really live",
    long_about = "Make GitHub Actions secrets match where their values really live.\n\n\
        Declare secrets and their sources in secretsync.toml; `plan` shows what would change, \
        `apply` makes GitHub match. The token comes from GH_TOKEN, GITHUB_TOKEN or `gh auth token`, \
        never from the command line."
)]
pub struct Cli {
    /// More diagnostics on stderr (-v: steps, -vv: every request); never values or tokens
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Every other flag belongs to the subcommands that use it, so help lists what a command
    /// takes, and a flag a command would ignore is refused.
    #[command(subcommand)]
    pub command: Command,
}

/// What the terminal allows, decided once per run from the environment and the streams.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    /// Stdout is a terminal that may show colour.
    color: bool,
    /// Stderr is a terminal, where progress can be drawn.
    progress: bool,
    /// Stderr is a terminal that may show colour.
    diagnostics_color: bool,
    verbose: u8,
}

impl Ui {
    /// Colour only on a terminal, never with `NO_COLOR` (no-color.org) or on a `TERM=dumb` one.
    pub fn detect(verbose: u8) -> Ui {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
            || std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        let stderr = std::io::stderr().is_terminal();
        Ui {
            color: !no_color && std::io::stdout().is_terminal(),
            progress: stderr,
            diagnostics_color: !no_color && stderr,
            verbose,
        }
    }

    /// Never colour for JSON.
    pub fn style(self, json: bool) -> Style {
        Style {
            color: !json && self.color,
        }
    }

    /// Never progress for JSON.
    pub fn progress(self, json: bool) -> bool {
        !json && self.progress
    }

    /// Only secretsync's own diagnostics: other crates' debug output could show request
    /// headers, and so the token.
    pub fn tracing_filter(self) -> &'static str {
        match self.verbose {
            0 => "warn",
            1 => "warn,secretsync=info",
            _ => "warn,secretsync=debug",
        }
    }

    pub fn diagnostics_color(self) -> bool {
        self.diagnostics_color
    }
}

/// The command line as parsed, shown in help and rendered as completions and man pages.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Clap's error, with a tip that says where a flag goes when it was given before the subcommand
/// (where scripts wrote them when they were global) or to one that does not take it; clap's own
/// tip there would be to pass it as a value.
pub fn with_placement_tip(mut error: clap::Error, args: &[OsString]) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::UnknownArgument {
        return error;
    }
    let Some(ContextValue::String(given)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    if let Some(tip) = placement_tip(given, args) {
        error.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![tip.into()]),
        );
    }
    error
}

/// "`--config` goes after the subcommand: `secretsync plan --config PATH`", naming the
/// subcommand given if it takes the flag; else the subcommands that do.
fn placement_tip(given: &str, args: &[OsString]) -> Option<String> {
    let command = command();
    let flag = given.split('=').next().unwrap_or(given);
    let taken = |sub: &clap::Command| {
        sub.get_arguments()
            .find(|a| {
                a.get_long().map(|l| format!("--{l}")).as_deref() == Some(flag)
                    || a.get_short().map(|s| format!("-{s}")).as_deref() == Some(flag)
            })
            .cloned()
    };
    let takers: Vec<(&clap::Command, clap::Arg)> = command
        .get_subcommands()
        .filter_map(|sub| Some((sub, taken(sub)?)))
        .collect();
    let given_sub = args
        .iter()
        .skip(1)
        .find_map(|a| command.find_subcommand(a.to_str()?));
    let (sub, arg) = takers
        .iter()
        .find(|(sub, _)| given_sub.is_some_and(|g| g.get_name() == sub.get_name()))
        .or(takers.first())?;
    let long = arg
        .get_long()
        .map_or(flag.to_string(), |l| format!("--{l}"));
    let value = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map_or(String::new(), |v| format!(" {v}"));
    let example = format!("`secretsync {} {long}{value}`", sub.get_name());
    match given_sub {
        Some(g) if g.get_name() != sub.get_name() => {
            let names: Vec<&str> = takers.iter().map(|(s, _)| s.get_name()).collect();
            Some(format!(
                "`{}` does not take `{long}`; {} do: {example}",
                g.get_name(),
                names.join(", ")
            ))
        }
        _ => Some(format!("`{long}` goes after the subcommand: {example}")),
    }
}

/// Where the config is read from (or, for `init`, written to).
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// Config file [default: $SECRETSYNC_CONFIG, else ./secretsync.toml]
    #[arg(short, long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// Where the fingerprints of what was applied are kept.
#[derive(Debug, Clone, Default, Args)]
pub struct StateArgs {
    /// Folder for state (fingerprints of what was applied) [default: $XDG_STATE_HOME/secretsync]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

/// How requests to GitHub are paced. No clap defaults: `commands` applies the transport's, which
/// each help line names (a test checks they agree).
#[derive(Debug, Clone, Default, Args)]
pub struct NetworkArgs {
    /// At most this many requests to GitHub in flight at once, below `[github.limits] in_flight`
    /// [default: 100]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: Option<u16>,

    /// The most seconds, in all, to wait out GitHub's rate limits before failing [default: 900]
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true, value_parser = seconds)]
    pub max_wait: Option<u64>,

    /// Seconds to wait for each whole answer from GitHub before retrying it [default: 60]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: Option<u64>,

    /// Retries of a request that failed with a 5xx answer or a broken connection [default: 3]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: Option<u32>,
}

/// A number of seconds, 0 or more. Negative numbers reach this parser (rather than being taken
/// for a flag), so `--max-wait -1` is told what to write instead of "unexpected argument".
fn seconds(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .map_err(|_| "not a whole number of seconds, 0 or more (e.g. 900)".to_string())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what apply would change; writes nothing to GitHub
    Plan(PlanArgs),
    /// Make GitHub match the config
    Apply(ApplyArgs),
    /// Trust secrets already on GitHub (set by hand) as holding their declared values; writes only state
    Adopt(AdoptArgs),
    /// Try the registry credentials in [[checks]]: log in, and prove push permission
    Check(CheckArgs),
    /// Check the token and each target's reachability; writes nothing
    Doctor(DoctorArgs),
    /// Compare the secrets that workflows use with those declared and present
    Audit(AuditArgs),
    /// Write a commented secretsync.toml to start from
    Init(InitArgs),
    /// Store a secret's value in its keyring source (prompted, or --stdin)
    Set(SetArgs),
    /// After a password change: store the new value and apply just that secret everywhere
    Rotate(RotateArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per subcommand with --dir
    Man(ManArgs),
    /// Serve a local GitHub-compatible API for rehearsing offline
    Sandbox(SandboxArgs),
    /// Run the founding story end to end against an in-process sandbox
    Demo,
    /// Manage the record of what was applied (`state new-key`: a team key for `[state]`)
    State(StateCommandArgs),
}

#[derive(Debug, Args)]
pub struct StateCommandArgs {
    #[command(subcommand)]
    pub action: StateAction,
}

#[derive(Debug, Subcommand)]
pub enum StateAction {
    /// Print a new random team key for `[state] store = "github"`, to keep in a secret store
    NewKey,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// One JSON document on stdout instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    /// One JSON document on stdout instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    /// The checkout whose .github/workflows to scan
    #[arg(default_value = ".")]
    pub checkout: PathBuf,
    /// One JSON document on stdout instead of text
    #[arg(long)]
    pub json: bool,
    /// Exit 2 when there are findings (0 none, 1 error)
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Do not ask GitHub which secrets are present
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("reading").args(["from_github", "from_dotenv"]).multiple(true)))]
pub struct InitArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// How `--from-github` paces its reads
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Start from a preset: `aliyun-acr` declares the four ALIYUN_* secrets with their rules
    #[arg(long, value_name = "NAME", conflicts_with_all = ["from_github", "from_dotenv"])]
    pub preset: Option<String>,
    /// The repository to target
    #[arg(long, value_name = "OWNER/NAME", conflicts_with = "from_github")]
    pub repo: Option<String>,
    /// Declare what GitHub holds at these repositories: secret names (never values), variables
    /// with their values
    #[arg(long, value_name = "OWNER/NAME", num_args = 0..)]
    pub from_github: Option<Vec<String>>,
    /// With --from-github: also read environment NAME of every given repository (repeatable)
    #[arg(long, value_name = "NAME", requires = "from_github")]
    pub environment: Vec<String>,
    /// With --from-github: also read this organization's secrets and variables (repeatable)
    #[arg(long, value_name = "ORG", requires = "from_github")]
    pub org: Vec<String>,
    /// With --from-github: also read the Dependabot secrets of every given repository and
    /// organization
    #[arg(long, requires = "from_github")]
    pub dependabot: bool,
    /// Declare every key of this .env file as a secret read from it (values are never written)
    #[arg(long, value_name = "FILE")]
    pub from_dotenv: Option<PathBuf>,
    /// The GitHub API to list from and to write into `[github] api_url` [default:
    /// https://api.github.com]
    #[arg(long, value_name = "URL", requires = "reading")]
    pub api_url: Option<String>,
    /// Overwrite an existing file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The declared secret whose keyring entry to set
    #[arg(required_unless_present = "state_key")]
    pub name: Option<String>,
    /// Set the team's `[state] key` (for `store = "github"`) instead of a secret
    #[arg(long, conflicts_with = "name")]
    pub state_key: bool,
    /// Read the value from standard input instead of prompting
    #[arg(long)]
    pub stdin: bool,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    /// The declared secret whose value changed
    pub name: String,
    /// Read the new value from standard input instead of prompting
    #[arg(long)]
    pub stdin: bool,
    /// Do not ask for confirmation before writing to GitHub
    #[arg(short, long)]
    pub yes: bool,
    /// Write even when a registry check fails
    #[arg(long)]
    pub skip_checks: bool,
    /// One JSON document on stdout instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write secretsync.1 and a page per subcommand (secretsync-plan.1, ...) into this folder,
    /// instead of printing one page that covers every subcommand
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    /// One JSON document on stdout instead of text
    #[arg(long)]
    pub json: bool,
    /// Plan to delete secrets on GitHub that the config does not declare
    #[arg(long)]
    pub prune: bool,
    /// Ask for values that come only from a prompt, so they can be compared
    #[arg(long)]
    pub interactive: bool,
    /// Exit 2 when changes are pending (0 in sync, 1 on error)
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    /// One JSON document on stdout instead of text
    #[arg(long)]
    pub json: bool,
    /// Delete secrets on GitHub that the config does not declare
    #[arg(long)]
    pub prune: bool,
    /// Do not ask for confirmation (needed when there is no terminal)
    #[arg(short, long)]
    pub yes: bool,
    /// Write even when a registry check in [[checks]] fails
    #[arg(long)]
    pub skip_checks: bool,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Only these declared secrets [default: every declared secret]
    #[arg(value_name = "NAMES")]
    pub names: Vec<String>,
    /// Do not ask for confirmation (needed when there is no terminal)
    #[arg(short, long)]
    pub yes: bool,
    /// One JSON document on stdout instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on (loopback only)
    #[arg(long, default_value = "127.0.0.1:8088")]
    pub addr: SocketAddr,
    /// Delay every answer by this many milliseconds
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub latency_ms: u64,
    /// Only these repositories exist (repeatable); by default every repository exists
    #[arg(long = "repo", value_name = "OWNER/NAME", value_parser = repo)]
    pub repos: Vec<String>,
    /// Answer writes of NAME with STATUS, e.g. `--fail ALIYUN_PASSWORD=500` (repeatable)
    #[arg(long = "fail", value_name = "NAME=STATUS", value_parser = injected_failure)]
    pub failures: Vec<InjectedFailure>,
}

/// A `sandbox --fail`: writes of this secret are answered with this status.
#[derive(Debug, Clone)]
pub struct InjectedFailure {
    pub name: String,
    pub status: u16,
}

/// Clap prints the errors of these parsers after the flag and its value, with the `--help` hint.
fn injected_failure(text: &str) -> Result<InjectedFailure, String> {
    text.split_once('=')
        .and_then(|(name, status)| {
            Some(InjectedFailure {
                name: name.to_string(),
                status: status.parse::<u16>().ok()?,
            })
        })
        .filter(|f| (400..600).contains(&f.status))
        .ok_or_else(|| {
            "not NAME=STATUS with a status from 400 to 599, e.g. `ALIYUN_PASSWORD=500`".to_string()
        })
}

fn repo(text: &str) -> Result<String, String> {
    match crate::config::Repo::parse(text) {
        Some(_) => Ok(text.to_string()),
        None => Err("not of the form owner/name, e.g. `acme/shop`".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults that help names are the ones `run` applies (the transport's).
    #[test]
    fn help_names_the_transports_defaults() {
        let default = crate::github::Pacing::default();
        let plan = command().find_subcommand("plan").cloned().expect("plan");
        let named = |id: &str| {
            let arg = plan.get_arguments().find(|a| a.get_id() == id).expect(id);
            arg.get_help().expect("help").to_string()
        };
        let expected = [
            ("concurrency", default.budget.in_flight.to_string()),
            ("max_wait", default.max_wait.as_secs().to_string()),
            ("timeout", default.timeout.as_secs().to_string()),
            ("retries", default.retries.to_string()),
        ];
        for (id, value) in expected {
            let help = named(id);
            assert!(
                help.ends_with(&format!("[default: {value}]")),
                "{id}: {help}"
            );
        }
    }
}
