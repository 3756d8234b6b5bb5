//! `UsageError`: what was asked cannot be done as asked (an undeclared name, a file in the way,
//! no terminal to ask on). Each situation is one variant; its wording, with how to fix it, is
//! here and nowhere else.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("`{name}` is not a declared secret in `{config}`; {}", declare_hint(.nearest.as_deref()))]
    NotDeclared {
        name: String,
        config: PathBuf,
        /// The declared name closest to `name`, if one is close enough to suggest.
        nearest: Option<String>,
    },
    #[error("no terminal to ask for `{name}`; pass the value on standard input with --stdin")]
    NoTerminalFor { name: String },
    #[error("`{name}` has no keyring source to store into; add `{{ keyring = {{ service = \"secretsync\", user = \"...\" }} }}` to its `from` chain")]
    NoKeyringSource { name: String },
    #[error("`{config}` keeps no shared record, so it has no `[state] key` to set; add `[state]` with `store = \"github\"` and a `key` source first")]
    NoStateKey { config: std::path::PathBuf },
    #[error("no target carries `{name}`; add it to a target's `secrets`")]
    NotCarried { name: String },
    #[error("unknown preset `{preset}`; use --preset {}, or leave --preset out", .known.join(" or --preset "))]
    UnknownPreset {
        preset: String,
        known: &'static [&'static str],
    },
    #[error("`--repo {repo}` is not of the form owner/name")]
    RepoNotOwnerName { repo: String },
    #[error("`{path}` exists already; keep it, or pass --force to overwrite it")]
    InitExists { path: PathBuf },
    #[error("`init --from-github` needs a GitHub token to list what GitHub holds ({tried}); set GH_TOKEN or GITHUB_TOKEN, or run `gh auth login`")]
    InitNoToken { tried: String },
    #[error("`--api-url {url}`: {reason}")]
    InitApiUrl { url: String, reason: String },
    #[error(
        "`{target}` is not an organization name; pass the organization alone, e.g. `--org acme`"
    )]
    InitOrgName { target: String },
    #[error("found no secrets or variables at {targets}, so there is nothing to declare; nothing written (`secretsync init` writes a template to start from)")]
    InitNothingFound { targets: String },
    #[error("`init` needs something to read: a repository (`--from-github OWNER/NAME`), `--org ORG`, or `--from-dotenv FILE`")]
    InitNothingToRead,
    #[error("no file `{}` to read keys from; pass the path of the .env file to --from-dotenv", .path.display())]
    InitNoDotenv { path: PathBuf },
    #[error(
        "`{target}` is not a repository; write it as owner/name, e.g. `--from-github acme/shop`"
    )]
    InitRepoName { target: String },
    #[error("`--environment {environment}` names an environment of each repository given to --from-github, and none is given; pass the repository too: `--from-github OWNER/NAME --environment {environment}`")]
    InitEnvironmentWithoutRepo { environment: String },
    #[error("no workflows folder at `{folder}`; run `secretsync audit` in a repository checkout, or pass the checkout's path: `secretsync audit PATH`")]
    NoWorkflowsFolder { folder: PathBuf },
    #[error("`{config}` has no [[checks]]; add one with registry, username, password and push (`secretsync init --preset aliyun-acr --config example.toml` writes an example)")]
    NoChecks { config: PathBuf },
    #[error("the sandbox listens on loopback only, not `{addr}`; use e.g. --addr 127.0.0.1:8088")]
    SandboxNotLoopback { addr: SocketAddr },
    #[error("`{scope}` is reached by the targets on lines {first} and {second} of `{config}`; a scope may appear in one target only: narrow a `match`, or remove one of them")]
    ScopeInTwoTargets {
        scope: String,
        first: usize,
        second: usize,
        config: PathBuf,
    },
    #[error("apply needs confirmation, and there is no terminal to ask on; review with `secretsync plan`, then run `secretsync apply --yes`")]
    NoTerminalToConfirm,
    #[error("nothing was written: not confirmed")]
    NotConfirmed,
    #[error("adopt needs confirmation, and there is no terminal to ask on; review with `secretsync plan`, then rerun with `secretsync adopt --yes`")]
    NoTerminalToConfirmAdopt,
    #[error("`{name}` is a variable; variables need no adoption (plan compares their values); name only secrets")]
    AdoptVariable { name: String },
}

/// The way out of an undeclared name: the nearest declared one, else declaring it.
fn declare_hint(nearest: Option<&str>) -> String {
    match nearest {
        Some(best) => format!("did you mean `{best}`?"),
        None => "declare it under `[secrets.*]` first".into(),
    }
}
