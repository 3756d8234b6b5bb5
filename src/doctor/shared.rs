//! `[state] store = "github"`: the shared record's probes. Per scope that holds a record (the
//! Actions or environment scope each target's scopes keep theirs in), whether the token can
//! read its variables, whether the record there was written with the team key, and what GitHub
//! tells, without a write, about writing the variables there. The key is never shown: only
//! whether it came from its source.

use crate::config::{Config, Decl, STATE_VARIABLE};
use crate::github::Client;
use crate::scope::Scope;
use crate::shared_state::{self, Document};
use crate::state::Fingerprinter;

use super::advice::{self, Items};
use super::probes::{answer, Context, Probes, Stop};
use super::{HomeReport, ProbeResult, SharedReport, TokenKind, WriteAccess};

/// The team key's line, and the key when it came from its source.
pub(super) type KeyProbe = (ProbeResult, Option<Fingerprinter>);

/// The team key from its source (asking on a terminal if that is where it comes from), as
/// `apply` takes it; its problem is the source's usual line.
pub(super) fn team_key(decl: &Decl) -> KeyProbe {
    let (ok, message, key) = match crate::sync::resolve::team_key(decl) {
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

pub(super) async fn record(cx: &Context<'_>, config: &Config, key: KeyProbe) -> SharedReport {
    let (key_probe, key) = key;
    let homes = homes(cx.client, config).await;
    let scopes =
        futures::future::join_all(homes.iter().map(|h| home_probes(cx, h, key.as_ref()))).await;
    SharedReport {
        variable: STATE_VARIABLE,
        key: key_probe,
        scopes,
    }
}

/// Where the targets' scopes keep their records, each once, in config order. A target that
/// cannot be expanded (`repos = { org, match }` that cannot list) has its own line among the
/// targets, and no home here.
async fn homes(client: &Client, config: &Config) -> Vec<Scope> {
    let mut homes: Vec<Scope> = Vec::new();
    for target in &config.targets {
        let Ok(scopes) = client.scopes(&target.place).await else {
            continue;
        };
        for scope in scopes {
            let home = shared_state::home(&scope);
            if !homes.contains(&home) {
                homes.push(home);
            }
        }
    }
    homes
}

async fn home_probes(cx: &Context<'_>, home: &Scope, key: Option<&Fingerprinter>) -> HomeReport {
    let mut probes = Probes::default();
    let write = match scope(cx, home, &mut probes) {
        Err(Stop) => WriteAccess::Refused,
        Ok(()) => match readable(cx, home, &mut probes).await {
            Err(Stop) => WriteAccess::Unknown,
            Ok(()) => {
                // Without the key (its own line says why) the record cannot be checked.
                if let Some(key) = key {
                    let _ = recorded(cx, home, key, &mut probes).await;
                }
                writable(cx, home, &mut probes).await
            }
        },
    };
    HomeReport {
        scope: home.to_string(),
        write,
        checks: probes.0,
    }
}

/// The scope a classic token needs for the home's variables: without it GitHub hides a
/// repository (404) and refuses an organization's variables, and says why less plainly.
fn scope(cx: &Context<'_>, home: &Scope, probes: &mut Probes) -> Result<(), Stop> {
    let (Some(TokenKind::Classic), Some(scopes)) = (cx.kind, cx.scopes) else {
        return Ok(());
    };
    let need = match home {
        Scope::Org { .. } => "admin:org",
        _ => "repo",
    };
    match scopes.iter().any(|s| s == need) {
        true => Ok(()),
        false => Err(probes.fail(
            "state_read",
            format!(
                "{}; {STATE_VARIABLE} cannot be read or written in {} without it",
                advice::missing_scopes(&[need]),
                advice::place(home)
            ),
        )),
    }
}

/// The scope's variables can be listed: else an absent record cannot be told from a hidden one.
async fn readable(cx: &Context<'_>, home: &Scope, probes: &mut Probes) -> Result<(), Stop> {
    let label = advice::label(home, Items::Variables);
    let doing = format!("listing the {label} of {}", advice::place(home));
    let Some(result) = cx.client.probe_variables(home).await else {
        // A home is never a Dependabot scope, which has no variables.
        return Ok(());
    };
    let probe = answer(result, "state_read", &doing, probes)?;
    match probe.status {
        200 => {
            probes.pass(
                "state_read",
                format!("can read the {label}, where {STATE_VARIABLE} is kept"),
            );
            Ok(())
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

/// The record, if there is one, was written with this key and can be read.
async fn recorded(
    cx: &Context<'_>,
    home: &Scope,
    key: &Fingerprinter,
    probes: &mut Probes,
) -> Result<(), Stop> {
    let text = match cx.client.get_variable(home, STATE_VARIABLE).await {
        Ok(text) => text,
        Err(e) => {
            let doing = format!(
                "reading variable {STATE_VARIABLE} of {}",
                advice::place(home)
            );
            return Err(probes.fail("state_record", advice::no_answer(&e, &doing)));
        }
    };
    let Some(text) = text else {
        probes.pass(
            "state_record",
            "no shared record yet; the first apply writes it".to_string(),
        );
        return Ok(());
    };
    match Document::read(Some(&text), key, home) {
        Ok(_) => {
            probes.pass(
                "state_record",
                format!("variable {STATE_VARIABLE} holds a shared record written with this key"),
            );
            Ok(())
        }
        Err(e) => Err(probes.fail("state_record", e.to_string())),
    }
}

/// What GitHub tells, without a write, about the token writing the scope's variables.
async fn writable(cx: &Context<'_>, home: &Scope, probes: &mut Probes) -> WriteAccess {
    // The classic token's scope was checked first.
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
