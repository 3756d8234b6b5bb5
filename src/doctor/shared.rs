//! `[state] store = "github"`: the shared record's probes. Per scope that holds a record (the
//! Actions or environment scope each target's scopes keep theirs in), whether the token can
//! read its variables, whether the record there was written with the team key, and what GitHub
//! tells, without a write, about writing the variables there. The key is never shown: only
//! whether it came from its source.

use crate::config::{Config, Decl, Place, Target, STATE_VARIABLE};
use crate::scope::{Repo, Scope};
use crate::shared_state::{self, LoadError};
use crate::state::Fingerprinter;

use super::advice::{self, Items};
use super::probes::{answer, Context, Probes, Stop};
use super::{HomeReport, ProbeResult, SharedReport, TargetReport, TokenKind, WriteAccess};

/// The team key's line, and the key when it came from its source.
pub(super) type KeyProbe = (ProbeResult, Option<Fingerprinter>);

/// The team key from its source (asking on a terminal if that is where it comes from), as
/// `apply` takes it; its problem is the source's usual line.
pub(super) fn team_key(decl: &Decl) -> KeyProbe {
    let (ok, message, key) = match shared_state::team_key(decl) {
        Ok(key) => (
            true,
            "the team key (`[state] key`) comes from its source and is long enough".to_string(),
            Some(key),
        ),
        Err(e) => (false, e.to_string(), None),
    };
    let probe = ProbeResult {
        probe: "state_key",
        ok,
        message,
    };
    (probe, key)
}

pub(super) async fn record(
    cx: &Context<'_>,
    config: &Config,
    targets: &[TargetReport],
    key: KeyProbe,
) -> SharedReport {
    let (key_probe, key) = key;
    let homes = homes(config, targets);
    let scopes =
        futures::future::join_all(homes.iter().map(|h| home_probes(cx, h, key.as_ref()))).await;
    SharedReport {
        variable: STATE_VARIABLE,
        key: key_probe,
        scopes,
    }
}

/// The probes that say a target's scope cannot be reached at all.
const UNREACHED: [&str; 4] = ["scopes", "repository", "environment", "organization"];

/// Whether the target's scopes were reached. Those of a target that was not are left out: its
/// problem is already a line, and the shared record's checks would only fail again for the same
/// reason. A `repos` match's every problem is of that kind.
fn reached(target: &Target, report: &TargetReport) -> bool {
    let matching = matches!(target.place, Place::Match { .. });
    report
        .probes
        .iter()
        .all(|p| p.ok || !(matching || UNREACHED.contains(&p.probe)))
}

/// Where the reached targets' scopes keep their records, each once, in config order.
fn homes(config: &Config, targets: &[TargetReport]) -> Vec<Scope> {
    let mut homes: Vec<Scope> = Vec::new();
    for (target, report) in config.targets.iter().zip(targets) {
        if !reached(target, report) {
            continue;
        }
        for scope in &report.scopes {
            let home = shared_state::home(scope);
            if !homes.contains(&home) {
                homes.push(home);
            }
        }
    }
    homes
}

async fn home_probes(cx: &Context<'_>, home: &Scope, key: Option<&Fingerprinter>) -> HomeReport {
    let mut probes = Probes::default();
    let write = match readable(cx, home, &mut probes).await {
        Err(Stop) => WriteAccess::Unknown,
        Ok(exists) => {
            // Without the key (its own line says why) the record cannot be checked.
            if let (true, Some(key)) = (exists, key) {
                let _ = recorded(cx, home, key, &mut probes).await;
            }
            writable(cx, home, &mut probes).await
        }
    };
    HomeReport {
        scope: home.to_string(),
        write,
        checks: probes.0,
    }
}

/// The scope's variables can be listed (else an absent record could not be told from a hidden
/// one); `Ok(false)`: the environment does not exist yet, so neither does its record.
async fn readable(cx: &Context<'_>, home: &Scope, probes: &mut Probes) -> Result<bool, Stop> {
    let label = advice::label(home, Items::Variables);
    let doing = format!("listing the {label} of {}", advice::place(home));
    let Some(result) = cx.client.probe_variables(home).await else {
        // A home is never a Dependabot scope, which has no variables.
        return Ok(true);
    };
    let probe = answer(result, "state_read", &doing, probes)?;
    match probe.status {
        200 => {
            probes.pass(
                "state_read",
                format!("can read the {label}, where {STATE_VARIABLE} is kept"),
            );
            Ok(true)
        }
        404 if missing_environment(cx, home).await => {
            probes.pass(
                "state_read",
                format!(
                    "{} does not exist yet, so neither does its shared record; the first apply writes it",
                    advice::place(home)
                ),
            );
            Ok(false)
        }
        403 | 404 => Err(probes.fail(
            "state_read",
            format!(
                "{}; {STATE_VARIABLE} cannot be read there",
                advice::refused(cx.kind, home, Items::Variables, "read", &probe)
            ),
        )),
        _ => Err(probes.fail("state_read", advice::answered(&doing, &probe))),
    }
}

/// The home is an environment that GitHub says does not exist (a `match` target's, or one
/// `apply` will create).
async fn missing_environment(cx: &Context<'_>, home: &Scope) -> bool {
    let Scope::Environment { repo, environment } = home else {
        return false;
    };
    matches!(cx.client.environment(repo, environment).await, Ok(probe) if probe.status == 404)
}

/// The record, if there is one, was written with this key and can be read.
async fn recorded(
    cx: &Context<'_>,
    home: &Scope,
    key: &Fingerprinter,
    probes: &mut Probes,
) -> Result<(), Stop> {
    let loaded = match shared_state::load(cx.client, home, key).await {
        Ok(loaded) => loaded,
        Err(LoadError::Github(e)) => {
            let doing = format!(
                "reading variable {STATE_VARIABLE} of {}",
                advice::place(home)
            );
            return Err(probes.fail("state_record", advice::no_answer(&e, &doing)));
        }
        Err(LoadError::Shared(e)) => return Err(probes.fail("state_record", e.to_string())),
    };
    let message = match loaded.existed() {
        false => "no shared record yet; the first apply writes it".to_string(),
        true => format!("variable {STATE_VARIABLE} holds a shared record written with this key"),
    };
    probes.pass("state_record", message);
    Ok(())
}

/// What GitHub tells, without a write, about the token writing the scope's variables.
async fn writable(cx: &Context<'_>, home: &Scope, probes: &mut Probes) -> WriteAccess {
    // A classic token without the scope the home needs failed its target's `scopes` check, and
    // the home was left out.
    if cx.kind != Some(TokenKind::Classic) {
        probes.pass("state_write", advice::write_unknown(cx.kind, home));
        return WriteAccess::Unknown;
    }
    let repo = match home {
        Scope::Repo { repo, .. } | Scope::Environment { repo, .. } => repo,
        Scope::Org { .. } => {
            probes.pass(
                "state_write",
                format!(
                    "the token has the `admin:org` scope and can read the {}, so writing {STATE_VARIABLE} is likely allowed (GitHub lets organization owners write them)",
                    advice::label(home, Items::Variables)
                ),
            );
            return WriteAccess::Likely;
        }
    };
    admin_writes(cx, home, repo, probes).await
}

/// GitHub lets only a repository's admins write its variables; the repository's answer tells
/// whether the token's user is one.
async fn admin_writes(
    cx: &Context<'_>,
    home: &Scope,
    repo: &Repo,
    probes: &mut Probes,
) -> WriteAccess {
    let admin = match cx.client.repository(repo).await {
        Ok(probe) if probe.is_ok() => admin(&probe.body),
        _ => None,
    };
    match admin {
        Some(true) => {
            probes.pass(
                "state_write",
                format!("the token's user is an admin of `{repo}`, so the token may write {STATE_VARIABLE} there"),
            );
            WriteAccess::Allowed
        }
        Some(false) => {
            probes.fail(
                "state_write",
                format!(
                    "the token's user is not an admin of `{repo}`, and GitHub lets only admins write a repository's variables, where apply keeps {STATE_VARIABLE}; get admin access to `{repo}`, or use the token of a user who has it"
                ),
            );
            WriteAccess::Refused
        }
        None => {
            probes.pass(
                "state_write",
                format!(
                    "cannot tell whether the token may write {STATE_VARIABLE} in {}: GitHub did not say whether its user is an admin of `{repo}`",
                    advice::place(home)
                ),
            );
            WriteAccess::Unknown
        }
    }
}

/// `permissions.admin` of GitHub's repository answer: the token's user's role there.
fn admin(body: &serde_json::Value) -> Option<bool> {
    body.get("permissions")?.get("admin")?.as_bool()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_flag_is_read_only_when_github_gives_it() {
        let yes = serde_json::json!({"permissions": {"admin": true, "push": true}});
        let no = serde_json::json!({"permissions": {"admin": false, "push": true}});
        assert_eq!(admin(&yes), Some(true));
        assert_eq!(admin(&no), Some(false));
        for unknown in [
            serde_json::json!({"id": 1}),
            serde_json::json!({"permissions": {"admin": "yes"}}),
            serde_json::Value::Null,
        ] {
            assert_eq!(admin(&unknown), None, "{unknown}");
        }
    }
}
