//! Value sources through the binary: command sources are bounded in time and size, killed whole
//! (with their grandchildren) on a timeout or an interrupt, and never see the GitHub token; file
//! sources refuse what is not a regular file; an unreachable keyring lets a chain go on; a token
//! file others can read is warned about.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{finish, wait_until, Env, REPO, TOKEN};

/// Whether a process is still alive (a zombie waiting to be reaped is not).
fn alive(pid: &str) -> bool {
    let stat = std::fs::read_to_string(Path::new("/proc").join(pid.trim()).join("stat"));
    stat.is_ok_and(|s| !s.contains(") Z "))
}

/// The processes were sent SIGKILL before secretsync exited; only their reaping may still be
/// under way, so wait (bounded) for them to be gone.
fn assert_gone(pids: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    for pid in pids {
        while alive(pid) {
            assert!(
                Instant::now() < deadline,
                "process {pid} outlived secretsync"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A command that records its own pid and its background `sleep`'s, then waits forever.
fn hanging_script(env: &Env) -> String {
    let pids = env.path("pids");
    format!(
        "sleep 1000 & echo $! > {0}.tmp; echo $$ >> {0}.tmp; mv {0}.tmp {0}; wait",
        pids.display()
    )
}

fn recorded_pids(env: &Env) -> Vec<String> {
    std::fs::read_to_string(env.path("pids"))
        .expect("the command recorded its pids")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_hanging_command_times_out_and_its_group_is_killed() {
    let env = Env::new();
    let script = hanging_script(&env);
    env.config_for_repo(&format!(
        "[secrets.A]\ncommand = [\"sh\", \"-c\", {script:?}]\ntimeout = \"1s\"\n"
    ));
    let out = env.cmd(&["plan"]).run_with_timeout(Duration::from_secs(30));
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("command `sh` for `A` did not finish within 1s and was stopped"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    assert_gone(&recorded_pids(&env));
}

fn interrupt_while_a_command_runs(signal: &str) {
    let env = Env::new();
    let script = hanging_script(&env);
    env.config_for_repo(&format!(
        "[secrets.A]\ncommand = [\"sh\", \"-c\", {script:?}]\n"
    ));
    let mut child = env.cmd(&["plan"]).spawn();
    wait_until("the command's start", &mut child, || {
        env.path("pids").exists()
    });
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let out = finish(child);
    let stderr = &out.stderr;
    assert_ne!(out.code, 0, "{signal}: {stderr}");
    assert!(
        stderr.contains("interrupted: stopped command `sh` for `A`"),
        "{signal}: {stderr}"
    );
    assert_gone(&recorded_pids(&env));
}

#[test]
fn sigint_kills_the_running_command_and_its_children() {
    interrupt_while_a_command_runs("-INT");
}

#[test]
fn sigterm_kills_the_running_command_and_its_children() {
    interrupt_while_a_command_runs("-TERM");
}

#[test]
fn endless_output_and_special_files_are_refused() {
    let env = Env::new();
    env.config_for_repo("[secrets.A]\ncommand = [\"yes\"]\n");
    let out = env.cmd(&["plan"]).run_with_timeout(Duration::from_secs(30));
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("output of `yes` for `A` is larger than 49152 bytes"),
        "{}",
        out.stderr
    );

    nix::unistd::mkfifo(&env.path("fifo"), nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    for (file, what) in [
        ("fifo", "is a named pipe (FIFO), not a regular file"),
        ("/dev/zero", "is a character device, not a regular file"),
    ] {
        env.config_for_repo(&format!("[secrets.A]\nfile = \"{file}\"\n"));
        let out = env.cmd(&["plan"]).run_with_timeout(Duration::from_secs(30));
        out.assert_code(1);
        assert!(out.stderr.contains(what), "{}", out.stderr);
        assert!(out.stderr.contains("for `A`"), "{}", out.stderr);
    }
}

/// `plan` runs on pull requests, so a source command must not see the token in any variable.
#[test]
fn source_commands_never_see_the_github_token() {
    let env = Env::new();
    let probe = "printf '[%s]' \"$GH_TOKEN$GITHUB_TOKEN$GH_ENTERPRISE_TOKEN$GITHUB_ENTERPRISE_TOKEN$MY_TOKEN\"";
    env.config(&format!(
        "token = {{ env = \"MY_TOKEN\" }}\n\n[secrets.A]\ncommand = [\"sh\", \"-c\", {probe:?}]\n\n[[targets]]\nrepo = \"{REPO}\"\n"
    ));
    let with_tokens = |args: &[&str]| {
        env.cmd(args)
            .env("MY_TOKEN", TOKEN)
            .env("GITHUB_TOKEN", TOKEN)
            .env("GH_ENTERPRISE_TOKEN", TOKEN)
            .env("GITHUB_ENTERPRISE_TOKEN", TOKEN)
            .run()
    };
    with_tokens(&["plan"]).assert_code(0);
    with_tokens(&["apply", "--yes"]).assert_code(0);
    assert_eq!(env.plaintext("A").as_deref(), Some("[]"));
}

/// No Secret Service (SSH, containers): no address, and a runtime folder with no bus.
fn no_dbus(env: &Env, args: &[&str]) -> crate::support::Run {
    env.cmd(args).without_dbus(&env.path("runtime"))
}

#[test]
fn an_unreachable_keyring_falls_through_to_the_next_source() {
    let env = Env::new();
    env.config_for_repo(
        "[secrets.A]\nfrom = [{ keyring = { service = \"secretsync\", user = \"a\" } }, { env = \"A_VALUE\" }]\n\n\
         [secrets.B]\nfrom = [{ keyring = { service = \"secretsync\", user = \"b\" } }, { value = \"b-literal\" }]\n",
    );
    let out = no_dbus(&env, &["apply", "--yes"])
        .env("A_VALUE", "a-env")
        .run();
    out.assert_code(0);
    assert_eq!(env.plaintext("A").as_deref(), Some("a-env"));
    assert_eq!(env.plaintext("B").as_deref(), Some("b-literal"));
    let notes: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("keyring"))
        .collect();
    assert_eq!(notes.len(), 1, "{}", out.stderr);
    assert!(
        notes[0].starts_with("note: the keyring is not reachable")
            && notes[0].contains("next source"),
        "{}",
        out.stderr
    );

    // Nothing after the keyring has a value: the error names both, on one line.
    let out = no_dbus(&env, &["plan"]).run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("no value for `A`")
            && out.stderr.contains("keyring not reachable")
            && out.stderr.contains("env `A_VALUE` unset"),
        "{}",
        out.stderr
    );

    // The keyring as the last source stays the clear D-Bus error.
    env.config_for_repo("[secrets.A]\nkeyring = { service = \"secretsync\", user = \"a\" }\n");
    let out = no_dbus(&env, &["plan"]).run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("cannot read `A` from the keyring")
            && out.stderr.contains("D-Bus is not reachable"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
}

#[test]
fn a_token_file_others_can_read_is_warned_about() {
    let env = Env::new();
    env.write("token.txt", &format!("{TOKEN}\n"));
    env.config_for_repo("[secrets.A]\nvalue = \"a\"\n");
    let text = std::fs::read_to_string(env.path("secretsync.toml")).expect("config");
    env.write(
        "secretsync.toml",
        &text.replacen("\n\n", "\ntoken = { file = \"token.txt\" }\n\n", 1),
    );
    let token = env.path("token.txt");
    let warning = format!(
        "warning: the token file `{}` can be read by other users (mode 644); run `chmod 600 {}`",
        token.display(),
        token.display()
    );
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = env.cmd(&["plan"]).env_remove("GH_TOKEN").run();
    out.assert_code(0);
    assert!(out.stderr.contains(&warning), "{}", out.stderr);
    assert!(!out.stderr.contains(TOKEN), "{}", out.stderr);

    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let out = env.cmd(&["plan"]).env_remove("GH_TOKEN").run();
    out.assert_code(0);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

/// Once commands have given their values, Ctrl-C during the writes is apply's again: the writes
/// in flight finish and are recorded, as without a command source.
/// `gh auth token` is the last place a token comes from; a gh that hangs is stopped, with what
/// it started, and the run ends with the usual no-token error.
#[test]
fn a_hanging_gh_is_stopped_and_its_children_with_it() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("bin")).expect("bin");
    let gh = env.path("bin/gh");
    std::fs::write(
        &gh,
        format!(
            "#!/bin/sh
{}
",
            hanging_script(&env)
        ),
    )
    .expect("gh");
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    env.config_for_repo("[secrets.A]\nvalue = \"a\"\n");
    let path = format!(
        "{}:{}",
        env.path("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = env
        .cmd(&["plan"])
        .env_remove("GH_TOKEN")
        .env("PATH", path)
        .run_with_timeout(Duration::from_secs(60));
    out.assert_code(1);
    assert!(
        out.stderr.contains("no GitHub token") && out.stderr.contains("`gh auth token`"),
        "{}",
        out.stderr
    );
    assert_gone(&recorded_pids(&env));
}

/// The `.env` catalogue through plan and apply: `export`, both quotes, a multi-line value, CRLF
/// line ends, a comment, a key written twice (the last wins, as in `gh secret set -f`), a key
/// named apart from the secret, a variable, and a chain that falls past a missing file.
#[test]
fn dotenv_values_reach_github_as_gh_would_read_them() {
    let env = Env::new();
    env.write(
        ".env",
        "# deploy keys\r\n\
         export DB_PASSWORD='p@ss $word'\r\n\
         API_KEY=\"first\"\r\n\
         API_KEY=\"second # not a comment\"\r\n\
         CERT=\"-----BEGIN-----\nline two\n-----END-----\"\n\
         region=eu-west-1 # a comment\n",
    );
    env.config_for_repo(
        "[secrets.DB_PASSWORD]\ndotenv = { file = \".env\" }\n\
         [secrets.API_KEY]\nfrom = [{ dotenv = { file = \"absent.env\" } }, { dotenv = { file = \".env\" } }]\n\
         [secrets.TLS_CERT]\ndotenv = { file = \".env\", key = \"CERT\" }\n\
         [variables.REGION]\ndotenv = { file = \".env\", key = \"region\" }\n",
    );
    let plan = env.cmd(&["plan", "--detailed-exitcode"]).run();
    plan.assert_code(2);
    env.cmd(&["apply", "--yes"]).run().assert_code(0);
    assert_eq!(env.plaintext("DB_PASSWORD").as_deref(), Some("p@ss $word"));
    assert_eq!(
        env.plaintext("API_KEY").as_deref(),
        Some("second # not a comment")
    );
    assert_eq!(
        env.plaintext("TLS_CERT").as_deref(),
        Some("-----BEGIN-----\nline two\n-----END-----")
    );
    let scope = secretsync_sandbox::Scope::Repo(REPO.into());
    assert_eq!(
        env.sandbox.variable(&scope, "REGION").as_deref(),
        Some("eu-west-1")
    );
    let again = env.cmd(&["plan", "--detailed-exitcode"]).run();
    again.assert_code(0);
}
