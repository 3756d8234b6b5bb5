//! `secretsync init`: write a commented config to start from, where `--config` would read it:
//! a template or preset, or what GitHub and a `.env` file hold.

use super::{Context, ExitStatus};
use crate::cli::InitArgs;
use crate::error::Error;
use crate::init::{Reading, Wanted};

pub fn run(args: InitArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    let path = cx.config_path(args.config);
    if args.from_github.is_none() && args.from_dotenv.is_none() {
        return crate::init::run(
            &path,
            args.preset.as_deref(),
            args.repo.as_deref(),
            args.force,
            cx.out,
        );
    }
    let reading = Reading {
        github: args.from_github.map(|repos| Wanted {
            repos,
            environments: args.environment,
            orgs: args.org,
            dependabot: args.dependabot,
        }),
        dotenv: args.from_dotenv,
        repo: args.repo,
        api_url: args.api_url,
        force: args.force,
    };
    let pacing = cx.pacing(args.network);
    crate::init::run_from(&path, reading, pacing, cx.out)
}
