use std::io::ErrorKind;
use std::path::PathBuf;

use super::*;

fn io(kind: ErrorKind) -> std::io::Error {
    std::io::Error::new(kind, "denied")
}

/// Each variant's line, as the user has always seen it: the wording moved here from the sites
/// that built it, and must not have changed on the way.
#[test]
fn every_command_error_keeps_its_wording() {
    let config = || PathBuf::from("cfg/secretsync.toml");
    let cases: Vec<(Error, &str)> = vec![
        (
            UsageError::NotDeclared { name: "db_pasword".into(), config: config(), nearest: Some("DB_PASSWORD".into()) }.into(),
            "`db_pasword` is not a declared secret in `cfg/secretsync.toml`; did you mean `DB_PASSWORD`?",
        ),
        (
            UsageError::NotDeclared { name: "ZZZ".into(), config: config(), nearest: None }.into(),
            "`ZZZ` is not a declared secret in `cfg/secretsync.toml`; declare it under `[secrets.*]` first",
        ),
        (
            UsageError::NoTerminalFor { name: "TOKEN".into() }.into(),
            "no terminal to ask for `TOKEN`; pass the value on standard input with --stdin",
        ),
        (
            UsageError::NoKeyringSource { name: "TOKEN".into() }.into(),
            "`TOKEN` has no keyring source to store into; add `{ keyring = { service = \"secretsync\", user = \"...\" } }` to its `from` chain",
        ),
        (
            UsageError::NotCarried { name: "TOKEN".into() }.into(),
            "no target carries `TOKEN`; add it to a target's `secrets`",
        ),
        (
            UsageError::UnknownPreset { preset: "gcr".into(), known: &["aliyun-acr", "ecr"] }.into(),
            "unknown preset `gcr`; use --preset aliyun-acr or --preset ecr, or leave --preset out",
        ),
        (
            UsageError::RepoNotOwnerName { repo: "shop".into() }.into(),
            "`--repo shop` is not of the form owner/name",
        ),
        (
            UsageError::InitExists { path: config() }.into(),
            "`cfg/secretsync.toml` exists already; keep it, or pass --force to overwrite it",
        ),
        (
            UsageError::NoWorkflowsFolder { folder: ".github/workflows".into() }.into(),
            "no workflows folder at `.github/workflows`; run `secretsync audit` in a repository checkout, or pass the checkout's path: `secretsync audit PATH`",
        ),
        (
            UsageError::NoChecks { config: config() }.into(),
            "`cfg/secretsync.toml` has no [[checks]]; add one with registry, username, password and push (`secretsync init --preset aliyun-acr --config example.toml` writes an example)",
        ),
        (
            UsageError::SandboxNotLoopback { addr: "10.0.0.1:80".parse().unwrap() }.into(),
            "the sandbox listens on loopback only, not `10.0.0.1:80`; use e.g. --addr 127.0.0.1:8088",
        ),
        (
            UsageError::ScopeInTwoTargets { scope: "acme/shop".into(), first: 3, second: 9, config: config() }.into(),
            "`acme/shop` is reached by the targets on lines 3 and 9 of `cfg/secretsync.toml`; a scope may appear in one target only: narrow a `match`, or remove one of them",
        ),
        (
            UsageError::NoTerminalToConfirm.into(),
            "apply needs confirmation, and there is no terminal to ask on; review with `secretsync plan`, then run `secretsync apply --yes`",
        ),
        (UsageError::NotConfirmed.into(), "nothing was written: not confirmed"),
        (
            LocalError::StdinUnreadable { error: io(ErrorKind::Other) }.into(),
            "cannot read the value from standard input: denied",
        ),
        (
            LocalError::ConfigUnwritable { path: config(), error: io(ErrorKind::PermissionDenied) }.into(),
            "cannot write `cfg/secretsync.toml`: denied; check the folder's permissions",
        ),
        (
            LocalError::ManPagesUnwritable { dir: "man".into(), error: io(ErrorKind::PermissionDenied) }.into(),
            "cannot write man pages into `man`: denied; pass a folder you can write to --dir",
        ),
        (
            LocalError::WorkflowUnreadable { path: "ci.yml".into(), error: io(ErrorKind::PermissionDenied) }.into(),
            "cannot read workflow `ci.yml`: denied; check its permissions",
        ),
        (
            LocalError::FolderUnlistable { folder: "wf".into(), error: io(ErrorKind::PermissionDenied) }.into(),
            "cannot list `wf`: denied; check its permissions",
        ),
        (
            LocalError::CannotListen { addr: "127.0.0.1:80".parse().unwrap(), error: io(ErrorKind::AddrInUse) }.into(),
            "cannot listen on 127.0.0.1:80: denied; pick another --addr",
        ),
        (
            ValueError::StdinNotUtf8 { name: "TOKEN".into() }.into(),
            "the value for `TOKEN` on standard input is not UTF-8; pass the value as UTF-8 text",
        ),
        (
            ValueError::BrokenRules { problems: vec!["one".into(), "two".into()] }.into(),
            "one\nerror: two",
        ),
        (
            ChecksFailed { failures: vec!["login".into(), "push".into()] }.into(),
            "login\nerror: push; nothing was written (fix it, or pass --skip-checks to write anyway)",
        ),
        (
            Interruption::WaitingForLock.into(),
            "interrupted while waiting for another run's lock; nothing was written",
        ),
        (
            Interruption::DuringApply.into(),
            "interrupted: what was written is recorded; run `secretsync apply` again to finish",
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(error.to_string(), expected, "{error:?}");
        assert_eq!(error.exit_status(), ExitStatus::Failure, "{error:?}");
    }
}

#[test]
fn no_rule_broken_is_no_error() {
    assert!(ValueError::unless_none(Vec::new()).is_ok());
    let broken = ValueError::unless_none(vec!["`A` is empty".into()]);
    assert!(matches!(broken, Err(ValueError::BrokenRules { problems }) if problems.len() == 1));
}
