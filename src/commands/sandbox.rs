//! `secretsync sandbox`: serve a GitHub-compatible API on loopback until Ctrl-C, for
//! rehearsing offline; `--fail` and `--repo` arrive parsed by `cli`.

use std::io::Write;
use std::net::SocketAddr;

use super::{Context, ExitStatus};
use crate::cli::{InjectedFailure, SandboxArgs};
use crate::error::{Error, LocalError, UsageError};
use secretsync_sandbox::{Sandbox, SandboxConfig};

pub fn run(args: SandboxArgs, cx: &mut Context) -> Result<ExitStatus, Error> {
    loopback_only(args.addr)?;
    let (config, token_hint) = settings(&args);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(config, &args.failures, &token_hint, cx.out))?;
    Ok(ExitStatus::Success)
}

/// The sandbox has a well-known token and takes any write: it must not be reachable from
/// another machine.
fn loopback_only(addr: SocketAddr) -> Result<(), UsageError> {
    match addr.ip().is_loopback() {
        true => Ok(()),
        false => Err(UsageError::SandboxNotLoopback { addr }),
    }
}

/// The sandbox's settings, and how the banner names the token: the default one by value, one
/// from `$SECRETSYNC_SANDBOX_TOKEN` only by where it is.
fn settings(args: &SandboxArgs) -> (SandboxConfig, String) {
    let env_token = std::env::var("SECRETSYNC_SANDBOX_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let defaults = SandboxConfig::default();
    let token_hint = match &env_token {
        Some(_) => "the token in $SECRETSYNC_SANDBOX_TOKEN".to_string(),
        None => format!("GH_TOKEN={}", defaults.token),
    };
    let repos: std::collections::BTreeSet<String> = args.repos.iter().cloned().collect();
    let config = SandboxConfig {
        addr: args.addr,
        latency: std::time::Duration::from_millis(args.latency_ms),
        token: env_token.unwrap_or(defaults.token),
        repos: (!repos.is_empty()).then_some(repos),
    };
    (config, token_hint)
}

async fn serve(
    config: SandboxConfig,
    failures: &[InjectedFailure],
    token_hint: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let addr: SocketAddr = config.addr;
    let sandbox = Sandbox::start(config)
        .await
        .map_err(|error| LocalError::CannotListen { addr, error })?;
    for failure in failures {
        sandbox.inject_write_failure("*", &failure.name, failure.status, "injected by --fail");
    }
    // Serving must not depend on whoever reads stdout: a closed pipe only loses the banner.
    let banner = format!(
        "api_url = \"{}\"\nSandbox ready: put that api_url under [github] and use \
         {token_hint}. Ctrl-C stops it.\n",
        sandbox.api_url()
    );
    let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    sandbox.run_until_ctrl_c().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_served() {
        assert!(loopback_only("127.0.0.1:0".parse().unwrap()).is_ok());
        assert!(loopback_only("[::1]:0".parse().unwrap()).is_ok());
        let wide: SocketAddr = "0.0.0.0:8088".parse().unwrap();
        assert!(matches!(
            loopback_only(wide),
            Err(UsageError::SandboxNotLoopback { addr }) if addr == wide
        ));
    }
}
