//! Unit tests of the value sources, with fake environments and the mock keyring.

use std::collections::HashMap;

use std::io;
use std::path::Path;

use secrecy::ExposeSecret as _;

use super::keyring::ensure_default_store;
use super::prompt::ask;
use super::token::resolve_token_with;
use super::*;

fn fake_env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let map: HashMap<String, OsString> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
    move |var| map.get(var).cloned()
}

fn no_gh() -> Option<Zeroizing<Vec<u8>>> {
    None
}

fn value_of(resolution: Resolution) -> (String, SourceKind) {
    match resolution {
        Resolution::Value { value, kind } => (value.expose_secret().to_owned(), kind),
        Resolution::Deferred => panic!("expected a value, got Deferred"),
    }
}

/// The error is one line and shows none of the canaries, in Display or Debug.
fn assert_clean(error: &SourceError, canaries: &[&str]) {
    let shown = error.to_string();
    let debug = format!("{error:?}");
    assert!(!shown.contains('\n'), "not one line: {shown}");
    for canary in canaries {
        assert!(
            !shown.contains(canary),
            "value leaked into Display: {shown}"
        );
        assert!(!debug.contains(canary), "value leaked into Debug: {debug}");
    }
}

fn lit(value: &str) -> Source {
    Source::Value(value.to_owned())
}

fn cmd(argv: &[&str]) -> Source {
    Source::Command(CommandSource::new(
        argv.iter().map(|arg| arg.to_string()).collect(),
    ))
}

fn keyring(service: &str, user: &str) -> Source {
    Source::Keyring {
        service: service.to_owned(),
        user: user.to_owned(),
    }
}

fn mock_cred(entry: &keyring_core::Entry) -> &keyring_core::mock::Cred {
    entry.as_any().downcast_ref().expect("a mock credential")
}

#[test]
fn env_set_wins_and_unset_falls_through() {
    let env = fake_env(&[("SRC_T1_SET", "from-env")]);
    let chain = [
        Source::Env("SRC_T1_UNSET".into()),
        Source::Env("SRC_T1_SET".into()),
    ];
    let got = resolve_with("S", &chain, PromptMode::Ask, &env).unwrap();
    assert_eq!(value_of(got), ("from-env".to_owned(), SourceKind::Env));
}

#[test]
fn env_set_to_empty_is_a_value() {
    let env = fake_env(&[("SRC_T2_EMPTY", "")]);
    let chain = [Source::Env("SRC_T2_EMPTY".into()), lit("later")];
    let got = resolve_with("S", &chain, PromptMode::Ask, &env).unwrap();
    assert_eq!(value_of(got), (String::new(), SourceKind::Env));
}

#[test]
fn env_from_the_process_environment() {
    std::env::set_var("SECRETSYNC_SOURCE_TEST_PROCESS_ENV", "process-value");
    let chain = [Source::Env("SECRETSYNC_SOURCE_TEST_PROCESS_ENV".into())];
    let got = resolve("S", &chain, PromptMode::Ask).unwrap();
    assert_eq!(value_of(got), ("process-value".to_owned(), SourceKind::Env));
}

#[test]
fn env_not_utf8_is_an_error() {
    use std::os::unix::ffi::OsStringExt as _;
    let env = |_: &str| Some(OsString::from_vec(b"\xffcanary-env".to_vec()));
    let chain = [Source::Env("SRC_T3".into())];
    let error = resolve_with("MY_SECRET", &chain, PromptMode::Ask, &env).unwrap_err();
    assert!(matches!(error, SourceError::EnvNotUtf8 { .. }));
    assert!(error.to_string().contains("`MY_SECRET`"));
    assert!(error.to_string().contains("`SRC_T3`"));
    assert_clean(&error, &["canary-env"]);
}

#[test]
fn keyring_entry_present() {
    use_mock_keyring();
    let entry = keyring_core::Entry::new("src-present", "me").unwrap();
    entry.set_password("kr-value").unwrap();
    let got = resolve("S", &[keyring("src-present", "me")], PromptMode::Ask).unwrap();
    assert_eq!(value_of(got), ("kr-value".to_owned(), SourceKind::Keyring));
}

#[test]
fn keyring_entry_absent_falls_through() {
    use_mock_keyring();
    let chain = [keyring("src-absent", "me"), lit("fallback")];
    let got = resolve("S", &chain, PromptMode::Ask).unwrap();
    assert_eq!(value_of(got), ("fallback".to_owned(), SourceKind::Value));
}

#[test]
fn keyring_bad_encoding_does_not_show_the_bytes() {
    use_mock_keyring();
    let entry = keyring_core::Entry::new("src-bad-encoding", "me").unwrap();
    entry.set_password("stored-canary").unwrap();
    mock_cred(&entry).set_error(keyring_core::Error::BadEncoding(
        b"\xffbytes-canary".to_vec(),
    ));
    let error = resolve(
        "MY_SECRET",
        &[keyring("src-bad-encoding", "me")],
        PromptMode::Ask,
    )
    .unwrap_err();
    assert!(matches!(error, SourceError::KeyringNotUtf8 { .. }));
    assert!(error.to_string().contains("`MY_SECRET`"));
    assert_clean(&error, &["bytes-canary", "stored-canary"]);
}

#[test]
fn keyring_bad_data_format_does_not_show_the_bytes() {
    use_mock_keyring();
    let entry = keyring_core::Entry::new("src-bad-format", "me").unwrap();
    mock_cred(&entry).set_error(keyring_core::Error::BadDataFormat(
        b"format-canary".to_vec(),
        Box::new(io::Error::other("decrypt failed")),
    ));
    let error = resolve(
        "MY_SECRET",
        &[keyring("src-bad-format", "me")],
        PromptMode::Ask,
    )
    .unwrap_err();
    assert!(matches!(error, SourceError::Keyring { .. }));
    assert_clean(&error, &["format-canary"]);
}

#[test]
fn keyring_locked_says_so() {
    use_mock_keyring();
    let entry = keyring_core::Entry::new("src-locked", "me").unwrap();
    entry.set_password("locked-canary").unwrap();
    mock_cred(&entry).set_error(keyring_core::Error::NoStorageAccess(Box::new(
        io::Error::other("prompt dismissed"),
    )));
    let error = resolve("MY_SECRET", &[keyring("src-locked", "me")], PromptMode::Ask).unwrap_err();
    let shown = error.to_string();
    assert!(
        shown.contains("keyring is locked or access was refused"),
        "{shown}"
    );
    assert!(
        shown.contains("prompt dismissed") && shown.contains("unlock"),
        "{shown}"
    );
    assert!(shown.contains("`MY_SECRET`"), "{shown}");
    assert_clean(&error, &["locked-canary"]);
}

#[test]
fn keyring_ambiguous_does_not_list_entries() {
    use_mock_keyring();
    let entry = keyring_core::Entry::new("src-ambiguous", "me").unwrap();
    entry.set_password("ambiguous-canary").unwrap();
    let other = keyring_core::Entry::new("src-ambiguous", "me").unwrap();
    mock_cred(&entry).set_error(keyring_core::Error::Ambiguous(vec![other]));
    let error = resolve(
        "MY_SECRET",
        &[keyring("src-ambiguous", "me")],
        PromptMode::Ask,
    )
    .unwrap_err();
    assert!(error.to_string().contains("1 keyring entries match"));
    assert_clean(&error, &["ambiguous-canary"]);
}

#[test]
fn lazy_store_setup_keeps_an_existing_store() {
    use_mock_keyring();
    ensure_default_store().unwrap();
    let store = keyring_core::get_default_store().unwrap();
    assert!(store.vendor().contains("Mock"), "{}", store.vendor());
}

#[test]
fn literal_value() {
    let got = resolve("S", &[lit("literal")], PromptMode::Defer).unwrap();
    assert_eq!(value_of(got), ("literal".to_owned(), SourceKind::Value));
}

#[test]
fn file_strips_exactly_one_newline() {
    let dir = tempfile::tempdir().unwrap();
    for (content, expected) in [
        ("abc\n", "abc"),
        ("abc", "abc"),
        ("abc\r\n", "abc"),
        ("abc\n\n", "abc\n"),
        ("", ""),
    ] {
        let path = dir.path().join("value");
        std::fs::write(&path, content).unwrap();
        let got = resolve("S", &[Source::File(path)], PromptMode::Ask).unwrap();
        assert_eq!(value_of(got), (expected.to_owned(), SourceKind::File));
    }
}

#[test]
fn missing_file_falls_through() {
    let dir = tempfile::tempdir().unwrap();
    let chain = [Source::File(dir.path().join("missing")), lit("fallback")];
    let got = resolve("S", &chain, PromptMode::Ask).unwrap();
    assert_eq!(value_of(got), ("fallback".to_owned(), SourceKind::Value));
}

#[test]
fn directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let error = resolve(
        "MY_SECRET",
        &[Source::File(dir.path().to_owned())],
        PromptMode::Ask,
    )
    .unwrap_err();
    assert!(matches!(error, SourceError::FileNotRegular { .. }));
    let shown = error.to_string();
    assert!(
        shown.contains("`MY_SECRET`") && shown.contains("a directory"),
        "{shown}"
    );
    assert!(shown.contains(&dir.path().display().to_string()), "{shown}");
    assert_clean(&error, &[]);
}

#[test]
fn file_not_utf8_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("binary");
    std::fs::write(&path, b"\xfffile-canary").unwrap();
    let error = resolve("MY_SECRET", &[Source::File(path)], PromptMode::Ask).unwrap_err();
    assert!(matches!(error, SourceError::FileNotUtf8 { .. }));
    assert_clean(&error, &["file-canary"]);
}

#[test]
fn command_output_loses_one_newline() {
    let got = resolve("S", &[cmd(&["printf", "abc\\n"])], PromptMode::Ask).unwrap();
    assert_eq!(value_of(got), ("abc".to_owned(), SourceKind::Command));
    let got = resolve("S", &[cmd(&["printf", "abc\\n\\n"])], PromptMode::Ask).unwrap();
    assert_eq!(value_of(got), ("abc\n".to_owned(), SourceKind::Command));
}

#[test]
fn failing_command_shows_status_and_stderr_but_not_stdout() {
    let chain = [cmd(&[
        "sh",
        "-c",
        "printf out-canary; echo oops >&2; exit 3",
    ])];
    let error = resolve("MY_SECRET", &chain, PromptMode::Ask).unwrap_err();
    let shown = error.to_string();
    assert!(shown.contains("oops") && shown.contains('3'), "{shown}");
    assert!(
        shown.contains("`MY_SECRET`") && shown.contains("`sh`"),
        "{shown}"
    );
    assert_clean(&error, &["out-canary"]);
}

#[test]
fn failing_command_keeps_the_last_stderr_lines() {
    let script = "for i in 1 2 3 4 5; do echo line$i >&2; done; exit 1";
    let error = resolve("S", &[cmd(&["sh", "-c", script])], PromptMode::Ask).unwrap_err();
    let shown = error.to_string();
    assert!(shown.contains("line3 / line4 / line5"), "{shown}");
    assert!(!shown.contains("line2"), "{shown}");
    assert_clean(&error, &[]);

    let long = "printf '%0400d' 0 >&2; exit 1";
    let error = resolve("S", &[cmd(&["sh", "-c", long])], PromptMode::Ask).unwrap_err();
    let SourceError::CommandFailed { stderr, .. } = &error else {
        panic!("unexpected {error}");
    };
    assert_eq!(stderr.chars().count(), STDERR_MAX_CHARS + 3);
}

#[test]
fn missing_program_is_an_error() {
    let chain = [cmd(&["secretsync-no-such-program"]), lit("fallback")];
    let error = resolve("MY_SECRET", &chain, PromptMode::Ask).unwrap_err();
    assert!(matches!(error, SourceError::CommandSpawn { .. }));
    let shown = error.to_string();
    assert!(shown.contains("`secretsync-no-such-program`") && shown.contains("`MY_SECRET`"));
    assert_clean(&error, &[]);
}

#[test]
fn command_not_utf8_and_empty_argv() {
    let error = resolve("S", &[cmd(&["printf", "\\377cmd-canary"])], PromptMode::Ask).unwrap_err();
    assert!(matches!(error, SourceError::CommandNotUtf8 { .. }));
    assert_clean(&error, &["cmd-canary"]);
    let error = resolve(
        "S",
        &[Source::Command(CommandSource::new(vec![]))],
        PromptMode::Ask,
    )
    .unwrap_err();
    assert!(matches!(error, SourceError::CommandEmpty { .. }));
}

#[test]
fn prompts_defer_and_stop_the_chain() {
    let prompt = Source::Prompt {
        label: "Password".into(),
        confirm: false,
        remember: false,
    };
    let env = fake_env(&[]);
    let chain = [
        Source::Env("SRC_T4_UNSET".into()),
        prompt.clone(),
        lit("after"),
    ];
    let got = resolve_with("S", &chain, PromptMode::Defer, &env).unwrap();
    assert!(matches!(got, Resolution::Deferred));
    let got = resolve("S", &[lit("before"), prompt], PromptMode::Defer).unwrap();
    assert_eq!(value_of(got), ("before".to_owned(), SourceKind::Value));
}

#[test]
fn no_value_lists_what_was_tried() {
    use_mock_keyring();
    let env = fake_env(&[]);
    let chain = [
        Source::Env("ALIYUN_PASSWORD".into()),
        keyring("acr-absent", "me"),
    ];
    let error = resolve_with("ACR_PASSWORD", &chain, PromptMode::Ask, &env).unwrap_err();
    let shown = error.to_string();
    assert!(shown.contains("`ACR_PASSWORD`"), "{shown}");
    assert!(
        shown.contains(
            "env `ALIYUN_PASSWORD` unset, no keyring entry for service `acr-absent`, user `me`"
        ),
        "{shown}"
    );
    assert!(shown.contains("prompt"), "{shown}");
    assert_clean(&error, &[]);
    let error = resolve("EMPTY", &[], PromptMode::Ask).unwrap_err();
    assert!(error.to_string().contains("empty"), "{error}");
}

fn scripted(answers: &[&str]) -> impl FnMut(&str) -> io::Result<Zeroizing<String>> {
    let mut answers: Vec<String> = answers.iter().rev().map(|s| s.to_string()).collect();
    move |_prompt| {
        answers
            .pop()
            .map(Zeroizing::new)
            .ok_or_else(|| io::Error::other("no more input"))
    }
}

#[test]
fn prompt_without_confirm_reads_once() {
    let mut prompts = Vec::new();
    let mut read = scripted(&["typed"]);
    let value = ask(
        "S",
        "Password",
        false,
        |prompt| {
            prompts.push(prompt.to_owned());
            read(prompt)
        },
        |_| panic!("nothing to say"),
    )
    .unwrap();
    assert_eq!(value.expose_secret(), "typed");
    assert_eq!(prompts, ["Password: "]);
}

#[test]
fn prompt_confirm_retries_after_a_mismatch() {
    let mut said = Vec::new();
    let value = ask(
        "S",
        "Password",
        true,
        scripted(&["one", "two", "same", "same"]),
        |message| said.push(message.to_owned()),
    )
    .unwrap();
    assert_eq!(value.expose_secret(), "same");
    assert_eq!(said, ["values did not match, try again"]);
}

#[test]
fn prompt_confirm_gives_up_after_three_mismatches() {
    let answers = ["c-one", "c-two", "c-three", "c-four", "c-five", "c-six"];
    let error = ask("MY_SECRET", "Password", true, scripted(&answers), |_| {}).unwrap_err();
    assert!(matches!(error, SourceError::ConfirmMismatch { .. }));
    assert!(error.to_string().contains("`MY_SECRET`"));
    assert_clean(&error, &answers);
}

#[test]
fn prompt_read_failure_is_an_error() {
    let error = ask("MY_SECRET", "Password", false, scripted(&[]), |_| {}).unwrap_err();
    assert!(matches!(error, SourceError::PromptFailed { .. }));
    assert!(error.to_string().contains("`MY_SECRET`"));
}

#[test]
fn no_terminal_message_is_one_line() {
    let error = SourceError::NoTerminal {
        secret: "MY_SECRET".into(),
    };
    assert_eq!(
        error.to_string(),
        "no terminal to prompt for `MY_SECRET`; provide it with `env = ...` or `keyring = ...` in its `from` chain"
    );
}

#[test]
fn token_from_the_configured_chain_wins() {
    let env = fake_env(&[("GH_TOKEN", "gh-env-token")]);
    let token = resolve_token_with(&[lit("cfg-token")], &env, &no_gh).unwrap();
    assert_eq!(token.value.expose_secret(), "cfg-token");
    assert_eq!(token.origin, "config value");
    assert!(!format!("{token:?}").contains("cfg-token"));

    let env = fake_env(&[("MY_TOKEN", "my-token\n"), ("GH_TOKEN", "gh-env-token")]);
    let token = resolve_token_with(&[Source::Env("MY_TOKEN".into())], &env, &no_gh).unwrap();
    assert_eq!(token.value.expose_secret(), "my-token");
    assert_eq!(token.origin, "config env `MY_TOKEN`");
}

#[test]
fn token_falls_through_to_gh_token_then_github_token_then_gh() {
    let prompt = Source::Prompt {
        label: "Token".into(),
        confirm: false,
        remember: false,
    };
    let configured = [Source::Env("MY_TOKEN".into()), prompt];
    let env = fake_env(&[("GH_TOKEN", "gh-token\n"), ("GITHUB_TOKEN", "github-token")]);
    let token = resolve_token_with(&configured, &env, &no_gh).unwrap();
    assert_eq!(
        (token.value.expose_secret(), token.origin.as_str()),
        ("gh-token", "GH_TOKEN")
    );

    let env = fake_env(&[("GH_TOKEN", ""), ("GITHUB_TOKEN", "github-token")]);
    let token = resolve_token_with(&configured, &env, &no_gh).unwrap();
    assert_eq!(
        (token.value.expose_secret(), token.origin.as_str()),
        ("github-token", "GITHUB_TOKEN")
    );

    let env = fake_env(&[("GH_TOKEN", ""), ("GITHUB_TOKEN", "")]);
    let gh = || Some(Zeroizing::new(b"gho_fromgh\n".to_vec()));
    let token = resolve_token_with(&configured, &env, &gh).unwrap();
    assert_eq!(
        (token.value.expose_secret(), token.origin.as_str()),
        ("gho_fromgh", "`gh auth token`")
    );
}

#[test]
fn no_token_says_how_to_provide_one() {
    let env = fake_env(&[]);
    let configured = [Source::Env("MY_TOKEN".into())];
    let error = resolve_token_with(&configured, &env, &no_gh).unwrap_err();
    assert!(matches!(error, SourceError::NoToken { .. }));
    let shown = error.to_string();
    for part in [
        "GH_TOKEN",
        "gh auth login",
        "token = { env = \"VAR\" }",
        "`MY_TOKEN`",
    ] {
        assert!(shown.contains(part), "{shown}");
    }
    assert_clean(&error, &[]);
}

#[test]
fn token_with_inner_whitespace_is_rejected() {
    for bad in [
        "tok en-canary",
        "tok\nen-canary",
        "tok\ten-canary",
        "tök-canary",
    ] {
        let env = fake_env(&[("GH_TOKEN", bad)]);
        let error = resolve_token_with(&[], &env, &no_gh).unwrap_err();
        assert!(matches!(error, SourceError::TokenInvalid { .. }), "{error}");
        assert!(error.to_string().contains("GH_TOKEN"));
        assert_clean(&error, &[bad, "en-canary", "canary"]);
    }
    let error = resolve_token_with(&[lit("\n")], &fake_env(&[]), &no_gh).unwrap_err();
    assert!(matches!(error, SourceError::TokenEmpty { .. }), "{error}");
}

#[test]
fn token_errors_in_the_configured_chain_are_not_skipped() {
    let env = fake_env(&[("GH_TOKEN", "gh-token")]);
    let configured = [cmd(&["sh", "-c", "exit 4"])];
    let error = resolve_token_with(&configured, &env, &no_gh).unwrap_err();
    assert!(
        matches!(error, SourceError::CommandFailed { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("`[github] token`"));
}

#[test]
fn fifo_and_devices_are_refused_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    for (path, what) in [
        (fifo.as_path(), "a named pipe (FIFO)"),
        (Path::new("/dev/zero"), "a character device"),
    ] {
        let error = resolve(
            "MY_SECRET",
            &[Source::File(path.to_owned())],
            PromptMode::Ask,
        )
        .unwrap_err();
        let shown = error.to_string();
        assert!(
            matches!(error, SourceError::FileNotRegular { .. }),
            "{shown}"
        );
        assert!(
            shown.contains(what) && shown.contains(&path.display().to_string()),
            "{shown}"
        );
        assert_clean(&error, &[]);
    }
}

#[test]
fn file_over_the_value_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big");
    let limit = crate::source::MAX_VALUE_BYTES;
    std::fs::write(&path, format!("{}\n", "a".repeat(limit))).unwrap();
    let got = resolve("S", &[Source::File(path.clone())], PromptMode::Ask).unwrap();
    assert_eq!(value_of(got).0.len(), limit);
    std::fs::write(&path, "big-canary".repeat(limit)).unwrap();
    let error = resolve("MY_SECRET", &[Source::File(path)], PromptMode::Ask).unwrap_err();
    assert!(matches!(error, SourceError::FileTooLarge { .. }), "{error}");
    assert_clean(&error, &["big-canary"]);
}

fn timed(argv: &[&str], timeout: std::time::Duration) -> Source {
    let mut command = CommandSource::new(argv.iter().map(|arg| arg.to_string()).collect());
    command.timeout = timeout;
    Source::Command(command)
}

fn process_exists(pid: &str) -> bool {
    Path::new("/proc").join(pid.trim()).exists()
}

#[test]
fn command_timeout_kills_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let script = format!(
        "sleep 1000 & echo $! > {0}; echo $$ >> {0}; printf timeout-canary; wait",
        pids.display()
    );
    let chain = [timed(
        &["sh", "-c", &script],
        std::time::Duration::from_millis(300),
    )];
    let error = resolve("MY_SECRET", &chain, PromptMode::Ask).unwrap_err();
    let shown = error.to_string();
    assert!(
        matches!(error, SourceError::CommandTimeout { .. }),
        "{shown}"
    );
    assert!(shown.contains("`sh`") && shown.contains("300ms"), "{shown}");
    assert_clean(&error, &["timeout-canary", "sleep 1000"]);
    // SIGKILL is delivered before resolve returns; only reaping by init may lag, so wait for that.
    for pid in std::fs::read_to_string(&pids).unwrap().lines() {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while process_exists(pid) && is_alive(pid) {
            assert!(
                std::time::Instant::now() < deadline,
                "process {pid} survived"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// A zombie waiting to be reaped is dead already.
fn is_alive(pid: &str) -> bool {
    let stat = std::fs::read_to_string(Path::new("/proc").join(pid.trim()).join("stat"));
    stat.map(|s| !s.contains(") Z ")).unwrap_or(false)
}

#[test]
fn command_output_over_the_value_limit_stops_it() {
    let chain = [cmd(&["sh", "-c", "while :; do printf huge-canary; done"])];
    let error = resolve("MY_SECRET", &chain, PromptMode::Ask).unwrap_err();
    assert!(
        matches!(error, SourceError::CommandTooLarge { .. }),
        "{error}"
    );
    assert_clean(&error, &["huge-canary"]);
}

#[test]
fn timeouts_parse_with_units() {
    use std::time::Duration;
    assert_eq!(parse_timeout("30s"), Ok(Duration::from_secs(30)));
    assert_eq!(parse_timeout("2m"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_timeout("1h"), Ok(Duration::from_secs(3600)));
    assert_eq!(parse_timeout("24h"), Ok(Duration::from_secs(24 * 3600)));
    for bad in [
        "",
        "30",
        "s",
        "0s",
        "1.5s",
        "-1s",
        "3 days",
        "25h",
        "18446744073709551615s",
    ] {
        assert!(parse_timeout(bad).is_err(), "{bad}");
    }
}
