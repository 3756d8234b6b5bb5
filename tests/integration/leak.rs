//! The leak canary: a distinctive token and values go through every command, with the flags that
//! matter, at every verbosity, on success and on every failure path. No byte of them may appear
//! in stdout, stderr, the JSON, any file in the state folder, or any file secretsync made in the
//! temp folder (nor their base64 or hex forms, nor a long slice of their middle); nor in a
//! request's path, query, headers or body, but the two places a secret is meant to go: the token
//! in GitHub's `Authorization` header and a sealed `encrypted_value`. The registry check's
//! requests are searched the same way (only `Authorization` may carry the password).
//!
//! The values come from each kind of source: env, file, command, literal, dotenv, a `from` chain, and
//! `--stdin` for `set` and `rotate`; a registry password reaches a `[[checks]]` entry that points
//! at an unreachable registry (127.0.0.1:9). The registry check's other values (a host that does
//! not resolve, a loopback address, a username, a namespace) go through `check`, `apply` and
//! `rotate` against a registry that echoes them back, a DNS failure and a TLS failure. Every run has `RUST_BACKTRACE=1`, so a panic would
//! print its backtrace into what is searched; one panic can be provoked (completions into a
//! closed pipe), and it is searched too.

use std::ffi::OsStr;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::registry_support::EchoRegistry;
use crate::support::{on_path, with_flags, Env, Output, Run, REPO};

const CANARY_TOKEN: &str = "CANARYTOKEN-ghp-7d1e5a0c9b";
const CANARY_ENV: &str = "CANARY-env-value-4f8e2b91";
const CANARY_FILE: &str = "CANARY-file-value-93ac51d0";
const CANARY_CMD: &str = "CANARY-cmd-value-2b6f0e77";
const CANARY_LITERAL: &str = "CANARY-literal-value-c0ffee11";
const CANARY_CHAIN: &str = "CANARY-chain-value-5e7a9d03";
const CANARY_PROMPT_ENV: &str = "CANARY-prompt-env-value-8b2c4f16";
const CANARY_STDIN: &str = "CANARY-stdin-Value-1d9e3b72";
/// The stdin canary with spaces around it, which the whitespace rule refuses.
const CANARY_STDIN_PADDED: &str = " CANARY-stdin-Value-1d9e3b72 ";
const CANARY_REGISTRY: &str = "CANARY-registry-Password-6c0f2a84";
const CANARY_DOTENV: &str = "CANARY-dotenv-value-a7e3c5f2";

const CANARIES: &[&str] = &[
    CANARY_TOKEN,
    CANARY_ENV,
    CANARY_FILE,
    CANARY_CMD,
    CANARY_LITERAL,
    CANARY_CHAIN,
    CANARY_PROMPT_ENV,
    CANARY_STDIN,
    CANARY_REGISTRY,
    CANARY_DOTENV,
];

/// The registry check's other values: a host that never resolves, a loopback address the
/// echo registry listens on, a username and a namespace.
const CANARY_REG_GONE: &str = "canary-host-5d8c1e7a.invalid";
const CANARY_REG_IP: &str = "127.213.177.149";
const CANARY_REG_USER: &str = "canary-reg-user-9a4e72";
const CANARY_REG_NS: &str = "canary-ns-3f61b8";
const REGISTRY_CANARIES: &[&str] = &[
    CANARY_REG_GONE,
    CANARY_REG_IP,
    CANARY_REG_USER,
    CANARY_REG_NS,
];

/// Files the test writes itself, as sources: the only places a canary may be.
const SOURCES: &[&str] = &[
    "secretsync.toml",
    "value.txt",
    "rules.toml",
    "big.txt",
    "bounded-timeout.toml",
    "bounded-output.toml",
    "bounded-file.toml",
    "huge.txt",
    "shared.toml",
    "shared-other.toml",
    ".env",
    "broken.env",
    "dotenv-broken.toml",
    "dotenv-no-key.toml",
];

/// Every form of a canary that would betray it: itself, its base64 (standard and URL-safe, as
/// they would appear in JSON or a Basic auth header), its hex, and a long slice of its middle.
fn forms(canary: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(canary);
    let b64_url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(canary);
    let hex: String = canary.bytes().map(|b| format!("{b:02x}")).collect();
    let hex_upper = hex.to_uppercase();
    let middle = canary[4..canary.len() - 4].to_string();
    // A base64 of `user:password` (Basic auth) holds the password's base64 only when aligned,
    // so look for a middle slice of the base64 too.
    let b64_middle = b64[4..b64.len() - 4].to_string();
    let url_encoded: String = canary
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    vec![
        canary.to_string(),
        url_encoded,
        b64,
        b64_url,
        hex,
        hex_upper,
        middle,
        b64_middle,
    ]
}

/// Every file under `dir`, skipping the test's own sources at the top.
fn created_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, top: &Path, files: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let relative = path.strip_prefix(top).unwrap_or(&path);
            if SOURCES.iter().any(|s| relative == Path::new(s))
                || relative.starts_with("checkout/.github")
            {
                continue;
            }
            if path.is_dir() {
                walk(&path, top, files);
            } else if let Ok(bytes) = std::fs::read(&path) {
                files.push((path, bytes));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files
}

/// No form of any canary in the run's output, the files secretsync made, or the requests.
#[track_caller]
fn assert_clean(what: &str, out: &Output, env: &Env) {
    let mut places: Vec<(String, Vec<u8>)> = vec![
        (format!("{what}: stdout"), out.stdout.clone().into_bytes()),
        (format!("{what}: stderr"), out.stderr.clone().into_bytes()),
    ];
    for (path, bytes) in created_files(env.dir.path()) {
        places.push((format!("{what}: {}", path.display()), bytes));
    }
    let requests: String = env
        .requests()
        .iter()
        .map(|r| format!("{} {}?{}\n", r.method, r.path, r.query))
        .collect();
    places.push((format!("{what}: requests"), requests.into_bytes()));
    // Headers and bodies, but the token's header and the sealed values, where secrets belong.
    for (at, carried) in env.sandbox.take_traffic().into_iter().enumerate() {
        places.push((format!("{what}: request {at}'s headers and body"), carried));
    }
    let canaries: Vec<&str> = CANARIES.iter().chain(REGISTRY_CANARIES).copied().collect();
    assert_absent(&canaries, &places);
    assert!(
        !out.stderr.contains("panicked"),
        "{what}: panicked:\n{}",
        out.stderr
    );
}

/// No form of any of `canaries` in any of `places` (named, with their bytes).
#[track_caller]
fn assert_absent(canaries: &[&str], places: &[(String, Vec<u8>)]) {
    for canary in canaries {
        for form in forms(canary) {
            for (place, bytes) in places {
                let found = bytes.windows(form.len()).any(|w| w == form.as_bytes());
                assert!(
                    !found,
                    "`{form}` (from {canary}) leaked into {place}:\n{}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }
}

fn config(env: &Env, api_url: &str) {
    env.write("value.txt", &format!("{CANARY_FILE}\n"));
    env.write(
        ".env",
        &format!("# values\nexport FROM_DOTENV=\"{CANARY_DOTENV}\"\n"),
    );
    env.write(
        "secretsync.toml",
        &format!(
            "[github]\napi_url = \"{api_url}\"\n\n\
             [secrets.FROM_ENV]\nenv = \"CANARY_VAR\"\n\n\
             [secrets.FROM_FILE]\nfile = \"value.txt\"\n\n\
             [secrets.FROM_CMD]\ncommand = [\"printf\", \"%s\", \"{CANARY_CMD}\"]\n\n\
             [secrets.FROM_LITERAL]\nvalue = \"{CANARY_LITERAL}\"\n\n\
             [secrets.FROM_CHAIN]\nfrom = [\n  {{ env = \"CANARY_CHAIN_VAR\" }},\n  \
               {{ keyring = {{ service = \"secretsync-leak\", user = \"chain\" }} }},\n  \
               {{ prompt = \"Chain value\", confirm = true, remember = true }},\n]\n\
             min_length = 8\n\n\
             [secrets.FROM_PROMPT]\nfrom = [{{ env = \"CANARY_PROMPT_VAR\" }}, {{ prompt = \"Prompt value\" }}]\n\n\
             [secrets.REG_PASSWORD]\nenv = \"CANARY_REG_VAR\"\n\n\
             [secrets.FROM_DOTENV]\ndotenv = {{ file = \".env\" }}\n\n\
             [variables.REGION]\nvalue = \"eu-west-1\"\n\n\
             [[targets]]\nrepo = \"{REPO}\"\n\n\
             [[checks]]\nregistry = \"127.0.0.1:9\"\nusername = \"leak-user\"\n\
             password = \"secret:REG_PASSWORD\"\npush = [\"leak/app\"]\n"
        ),
    );
}

/// A checkout whose workflow uses some of the secrets, for `audit`.
fn checkout(env: &Env) {
    let workflows = env.path("checkout/.github/workflows");
    std::fs::create_dir_all(&workflows).expect("mkdir");
    std::fs::write(
        workflows.join("build.yml"),
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      \
         - run: echo ${{ secrets.FROM_ENV }} ${{ secrets['FROM_FILE'] }}\n      \
         - run: echo ${{ secrets.NOT_DECLARED }}\n        if: secrets.FROM_CMD != ''\n",
    )
    .expect("write");
}

/// One step of the tour: a command line, and how its environment differs from the usual.
struct Step {
    what: &'static str,
    args: &'static [&'static str],
    /// Variables to leave out of the usual canary environment.
    unset: &'static [&'static str],
    stdin: Option<&'static str>,
    /// Another config than `secretsync.toml`.
    config: Option<&'static str>,
    /// The exit code it must end with, so each failure path is really taken.
    code: i32,
    /// Run without a controlling terminal (`setsid`), for the prompt paths.
    no_tty: bool,
    setup: fn(&Env),
}

fn none(_: &Env) {}

const fn step(what: &'static str, args: &'static [&'static str]) -> Step {
    Step {
        what,
        args,
        unset: &[],
        stdin: None,
        config: None,
        no_tty: false,
        code: 0,
        setup: none,
    }
}

/// The canary environment: the token and every value a source reads; and no D-Bus session (the
/// runtime folder is empty), so every keyring source fails the same way everywhere.
fn canary_env(run: Run) -> Run {
    let runtime = std::env::temp_dir().join("secretsync-leak-no-runtime");
    run.without_dbus(&runtime)
        .env("GH_TOKEN", CANARY_TOKEN)
        .env("CANARY_VAR", CANARY_ENV)
        .env("CANARY_CHAIN_VAR", CANARY_CHAIN)
        .env("CANARY_PROMPT_VAR", CANARY_PROMPT_ENV)
        .env("CANARY_REG_VAR", CANARY_REGISTRY)
        .env("RUST_BACKTRACE", "1")
}

fn run_step(env: &Env, step: &Step, verbosity: &[&str]) -> Output {
    let config = env.path(step.config.unwrap_or("secretsync.toml"));
    let state = env.state_dir();
    let args: Vec<&OsStr> = verbosity.iter().chain(step.args).map(OsStr::new).collect();
    let flags: [&[&OsStr]; 3] = [
        &[OsStr::new("--config"), config.as_os_str()],
        &[OsStr::new("--state-dir"), state.as_os_str()],
        &[OsStr::new("--retries=0")],
    ];
    let mut run =
        canary_env(env.command(env!("CARGO_BIN_EXE_secretsync"))).args(with_flags(&args, &flags));
    for var in step.unset {
        run = run.env_remove(var);
    }
    if let Some(text) = step.stdin {
        run = run.stdin_text(text);
    }
    if step.no_tty && on_path("setsid") {
        run = run.wrap(&["setsid", "--wait"]);
    }
    run.run_with_timeout(Duration::from_secs(60))
}

const VERBOSITIES: [&[&str]; 3] = [&[], &["-v"], &["-vv"]];

/// The tour against one sandbox: success, then each failure path, in an order where each step's
/// setup leaves what the next expects.
fn steps() -> Vec<Step> {
    vec![
        // ---- success --------------------------------------------------------------------------
        step("first plan", &["plan"]),
        Step {
            code: 2,
            ..step("plan json", &["plan", "--json", "--detailed-exitcode"])
        },
        step("plan prune", &["plan", "--prune"]),
        step(
            "plan interactive, nothing to ask",
            &["plan", "--interactive"],
        ),
        step("first apply", &["apply", "--yes", "--skip-checks"]),
        step(
            "no-op apply json",
            &["apply", "--yes", "--json", "--skip-checks"],
        ),
        Step {
            setup: |e| {
                // In a later second than our last write, so it is drift.
                e.sandbox.advance_clock(1);
                e.sandbox.put_outside(REPO, "FROM_ENV", b"x");
                e.sandbox.put_outside(REPO, "UNDECLARED", b"y");
            },
            ..step(
                "drift and prune",
                &["apply", "--yes", "--prune", "--skip-checks"],
            )
        },
        step("doctor", &["doctor"]),
        step("doctor json", &["doctor", "--json"]),
        step("audit", &["audit", "checkout"]),
        step("audit offline", &["audit", "checkout", "--offline"]),
        Step {
            code: 2,
            ..step(
                "audit json detailed",
                &["audit", "checkout", "--json", "--detailed-exitcode"],
            )
        },
        Step {
            stdin: Some(CANARY_STDIN),
            ..step(
                "rotate from stdin",
                &["rotate", "FROM_ENV", "--stdin", "--yes", "--skip-checks"],
            )
        },
        Step {
            stdin: Some(CANARY_STDIN),
            ..step(
                "rotate from stdin json",
                &[
                    "rotate",
                    "FROM_ENV",
                    "--stdin",
                    "--yes",
                    "--skip-checks",
                    "--json",
                ],
            )
        },
        step("apply after rotate", &["apply", "--yes", "--skip-checks"]),
        step("completions bash", &["completions", "bash"]),
        step("completions zsh", &["completions", "zsh"]),
        step("completions fish", &["completions", "fish"]),
        step("completions powershell", &["completions", "powershell"]),
        step("man", &["man"]),
        step("demo", &["demo"]),
        // ---- failures ---------------------------------------------------------------------------
        Step {
            code: 1,
            setup: |e| {
                // In a later second than our last write, so it is drift.
                e.sandbox.advance_clock(1);
                e.sandbox.put_outside(REPO, "FROM_FILE", b"x");
                e.sandbox
                    .inject_write_failure(REPO, "FROM_FILE", 500, "boom");
            },
            ..step("write failure", &["apply", "--yes", "--skip-checks"])
        },
        Step {
            code: 1,
            setup: |e| {
                // In a later second than our last write, so it is drift.
                e.sandbox.advance_clock(1);
                e.sandbox.put_outside(REPO, "FROM_CMD", b"x");
                e.sandbox
                    .inject_write_failure(REPO, "FROM_CMD", 422, "nope");
            },
            ..step(
                "write failure json",
                &["apply", "--yes", "--json", "--skip-checks"],
            )
        },
        Step {
            code: 1,
            setup: |e| {
                e.sandbox.clear_failures();
                // In a later second than our last write, so it is drift.
                e.sandbox.advance_clock(1);
                e.sandbox.put_outside(REPO, "FROM_LITERAL", b"x");
                e.sandbox
                    .override_public_key(Some(r#"{"key_id":"k","key":"!!"}"#.into()));
            },
            ..step("bad key", &["apply", "--yes", "--skip-checks"])
        },
        Step {
            code: 1,
            ..step(
                "bad key json",
                &["apply", "--yes", "--skip-checks", "--json"],
            )
        },
        Step {
            code: 1,
            setup: |e| e.sandbox.override_public_key(None),
            ..step("unreachable registry check, apply", &["apply", "--yes"])
        },
        Step {
            code: 1,
            ..step(
                "unreachable registry check, apply json",
                &["apply", "--yes", "--json"],
            )
        },
        Step {
            code: 1,
            ..step("unreachable registry check", &["check"])
        },
        Step {
            code: 1,
            ..step("unreachable registry check json", &["check", "--json"])
        },
        Step {
            code: 1,
            stdin: Some(CANARY_STDIN),
            ..step(
                "unreachable registry check, rotate",
                &["rotate", "REG_PASSWORD", "--stdin", "--yes"],
            )
        },
        Step {
            code: 1,
            no_tty: true,
            ..step("no terminal to confirm", &["apply"])
        },
        Step {
            code: 1,
            unset: &["CANARY_PROMPT_VAR"],
            no_tty: true,
            ..step(
                "no terminal to prompt",
                &["apply", "--yes", "--skip-checks"],
            )
        },
        Step {
            code: 1,
            unset: &["CANARY_PROMPT_VAR"],
            no_tty: true,
            ..step(
                "interactive plan without a terminal",
                &["plan", "--interactive"],
            )
        },
        Step {
            code: 1,
            no_tty: true,
            ..step("set without a terminal", &["set", "FROM_CHAIN"])
        },
        Step {
            code: 1,
            unset: &["CANARY_CHAIN_VAR"],
            // The unreachable keyring falls through to the prompt, which has no terminal.
            no_tty: true,
            ..step("keyring unavailable", &["apply", "--yes", "--skip-checks"])
        },
        Step {
            code: 1,
            stdin: Some(CANARY_STDIN),
            ..step(
                "set with keyring unavailable",
                &["set", "FROM_CHAIN", "--stdin"],
            )
        },
        Step {
            code: 1,
            stdin: Some(CANARY_STDIN),
            ..step(
                "rotate with keyring unavailable",
                &["rotate", "FROM_CHAIN", "--stdin", "--yes", "--skip-checks"],
            )
        },
        Step {
            code: 1,
            stdin: Some(CANARY_STDIN_PADDED),
            ..step("set with a rule failure", &["set", "FROM_CHAIN", "--stdin"])
        },
        Step {
            code: 1,
            stdin: Some(CANARY_STDIN_PADDED),
            ..step(
                "rotate with a rule failure",
                &["rotate", "FROM_CHAIN", "--stdin", "--yes"],
            )
        },
        Step {
            code: 1,
            setup: |e| e.write("big.txt", &"z".repeat(50_000)),
            config: Some("rules.toml"),
            ..step("rule failure", &["plan"])
        },
        Step {
            code: 1,
            config: Some("rules.toml"),
            ..step("rule failure apply", &["apply", "--yes"])
        },
        Step {
            code: 1,
            config: Some("rules.toml"),
            ..step("rule failure json", &["plan", "--json"])
        },
        Step {
            code: 1,
            setup: bounded_configs,
            config: Some("bounded-timeout.toml"),
            ..step("command timeout", &["plan"])
        },
        Step {
            code: 1,
            config: Some("bounded-output.toml"),
            ..step("command output over the limit", &["apply", "--yes"])
        },
        Step {
            code: 1,
            config: Some("bounded-file.toml"),
            ..step("file over the limit", &["plan", "--json"])
        },
        Step {
            setup: shared_configs,
            config: Some("shared.toml"),
            ..step("shared record apply", &["apply", "--yes", "--skip-checks"])
        },
        Step {
            config: Some("shared.toml"),
            ..step("doctor with the shared record", &["doctor"])
        },
        Step {
            code: 1,
            config: Some("shared-other.toml"),
            ..step("doctor with another team key", &["doctor", "--json"])
        },
        Step {
            code: 1,
            setup: dotenv_configs,
            config: Some("dotenv-broken.toml"),
            ..step("dotenv syntax error", &["apply", "--yes"])
        },
        Step {
            code: 1,
            config: Some("dotenv-no-key.toml"),
            ..step("dotenv key absent", &["plan", "--json"])
        },
        Step {
            code: 1,
            config: Some("init-url.toml"),
            ..step(
                "init refusing a token in --api-url",
                &[
                    "init",
                    "--from-github",
                    REPO,
                    "--api-url",
                    // CANARY_TOKEN, where a token never belongs.
                    "https://x-access-token:CANARYTOKEN-ghp-7d1e5a0c9b@api.github.com/api/v3",
                ],
            )
        },
    ]
}

/// A `.env` whose unclosed quote holds the canary, and a key that the canary's file lacks (whose
/// message lists the file's keys, never its values).
fn dotenv_configs(env: &Env) {
    env.write(
        "broken.env",
        &format!("OK=1\nFROM_DOTENV=\"{CANARY_DOTENV}\nstill open\n"),
    );
    let api_url = env.sandbox.api_url();
    for (name, source) in [
        ("dotenv-broken.toml", "{ file = \"broken.env\" }"),
        (
            "dotenv-no-key.toml",
            "{ file = \".env\", key = \"ABSENT\" }",
        ),
    ] {
        env.write(
            name,
            &format!(
                "[github]\napi_url = \"{api_url}\"\n[secrets.FROM_DOTENV]\ndotenv = {source}\n\
                 [[targets]]\nrepo = \"{REPO}\"\n"
            ),
        );
    }
}

/// `[state] store = "github"` with team keys made of canaries: the right one, and another.
fn shared_configs(env: &Env) {
    for (name, key) in [
        ("shared.toml", format!("{CANARY_LITERAL}-{CANARY_LITERAL}")),
        ("shared-other.toml", format!("{CANARY_CMD}-{CANARY_CMD}")),
    ] {
        env.write(
            name,
            &format!(
                "[github]\napi_url = \"{}\"\n[state]\nstore = \"github\"\nkey = {{ value = \"{key}\" }}\n\
                 [secrets.FROM_LITERAL]\nvalue = \"{CANARY_LITERAL}\"\n[[targets]]\nrepo = \"{REPO}\"\n",
                env.sandbox.api_url()
            ),
        );
    }
}

/// Sources that print or hold a canary, then break a bound: a command that hangs after printing
/// it, one that prints it without end, and a file of it far over 48 KB.
fn bounded_configs(env: &Env) {
    env.write("huge.txt", &CANARY_FILE.repeat(5_000));
    let api_url = env.sandbox.api_url();
    for (name, source) in [
        (
            "bounded-timeout.toml",
            format!("command = [\"sh\", \"-c\", \"printf %s {CANARY_CMD}; sleep 1000\"]\ntimeout = \"1s\""),
        ),
        (
            "bounded-output.toml",
            format!("command = [\"sh\", \"-c\", \"while :; do printf %s {CANARY_CMD}; done\"]"),
        ),
        ("bounded-file.toml", "file = \"huge.txt\"".to_owned()),
    ] {
        env.write(
            name,
            &format!(
                "[github]\napi_url = \"{api_url}\"\n[secrets.BOUNDED]\n{source}\n\
                 [[targets]]\nrepo = \"{REPO}\"\n"
            ),
        );
    }
}

/// `rules.toml`: the canary values under rules they break (too short for `min_length`, not
/// matching `pattern`, without a digit, too large).
fn rules_config(env: &Env) {
    env.write(
        "rules.toml",
        &format!(
            "[github]\napi_url = \"{}\"\n\
             [secrets.FROM_ENV]\nenv = \"CANARY_VAR\"\nmin_length = 100\n\
             [secrets.FROM_CMD]\ncommand = [\"printf\", \"%s\", \"{CANARY_CMD}\"]\npattern = '^x+$'\n\
             [secrets.FROM_LITERAL]\nvalue = \"{CANARY_LITERAL}\"\nmin_length = 64\n\
             [secrets.BIG]\nfile = \"big.txt\"\n\
             [secrets.PADDED]\nvalue = \" {CANARY_LITERAL} \"\n\
             [[targets]]\nrepo = \"{REPO}\"\n",
            env.sandbox.api_url()
        ),
    );
}

#[test]
fn no_canary_anywhere() {
    let env = Env::with_token(CANARY_TOKEN);
    config(&env, &env.sandbox.api_url());
    rules_config(&env);
    checkout(&env);
    let mut runs = 0;
    for step in steps() {
        for verbosity in VERBOSITIES {
            (step.setup)(&env);
            let out = run_step(&env, &step, verbosity);
            let what = format!("{} {verbosity:?}", step.what);
            assert_clean(&what, &out, &env);
            assert_eq!(
                out.code, step.code,
                "{what}: exit code\n{}\n{}",
                out.stdout, out.stderr
            );
            runs += 1;
        }
    }
    // `init` writes a new config: nothing of the environment may end up in it.
    for verbosity in VERBOSITIES {
        let mut args: Vec<&str> = verbosity.to_vec();
        args.extend_from_slice(&[
            "init",
            "--config",
            "init.toml",
            "--preset",
            "aliyun-acr",
            "--repo",
            REPO,
            "--force",
        ]);
        let out = canary_env(env.command(env!("CARGO_BIN_EXE_secretsync")).args(&args)).run();
        out.assert_code(0);
        assert_clean(&format!("init {verbosity:?}"), &out, &env);
        runs += 1;
    }
    // `init --from-github` (with the canary token) and `--from-dotenv` (the canary `.env`): the
    // config it writes names the file and its keys, never a value, nor the token.
    let api_url = env.sandbox.api_url();
    for verbosity in VERBOSITIES {
        let mut args: Vec<&str> = verbosity.to_vec();
        args.extend_from_slice(&[
            "init",
            "--config",
            "init-from.toml",
            "--from-github",
            REPO,
            "--from-dotenv",
            ".env",
            "--api-url",
            &api_url,
            "--force",
        ]);
        let out = canary_env(env.command(env!("CARGO_BIN_EXE_secretsync")).args(&args)).run();
        out.assert_code(0);
        assert_clean(&format!("init --from-github {verbosity:?}"), &out, &env);
        runs += 1;
    }
    assert!(runs >= 120, "{runs} runs");
    // The canaries did travel through secretsync: a last good apply, and the sandbox opened them.
    env.sandbox.clear_failures();
    let out = run_step(
        &env,
        &step("last apply", &["apply", "--yes", "--skip-checks"]),
        &[],
    );
    assert_clean("last apply", &out, &env);
    out.assert_code(0);
    for (name, value) in [
        ("FROM_ENV", CANARY_ENV),
        ("FROM_FILE", CANARY_FILE),
        ("FROM_CMD", CANARY_CMD),
        ("FROM_LITERAL", CANARY_LITERAL),
        ("FROM_CHAIN", CANARY_CHAIN),
        ("FROM_PROMPT", CANARY_PROMPT_ENV),
        ("REG_PASSWORD", CANARY_REGISTRY),
        ("FROM_DOTENV", CANARY_DOTENV),
    ] {
        assert_eq!(env.plaintext(name).as_deref(), Some(value), "{name}");
    }
    // The listings' conditional-GET cache was among the files searched.
    let cache = env.state_dir().join(secretsync::github::cache::FOLDER);
    let kept = std::fs::read_dir(&cache).map_or(0, |entries| entries.count());
    assert!(kept > 0, "no cache files in {}", cache.display());
}

#[test]
fn no_canary_when_the_token_is_rejected_or_github_is_unreachable() {
    // A token GitHub rejects: the sandbox only knows another one.
    let other = Env::with_token("some-other-token");
    config(&other, &other.sandbox.api_url());
    checkout(&other);
    // Nothing listening at all.
    let gone = Env::new();
    config(&gone, "http://127.0.0.1:9");
    checkout(&gone);
    let commands: [&[&str]; 7] = [
        &["plan"],
        &["plan", "--json"],
        &["apply", "--yes", "--skip-checks"],
        &["apply", "--yes", "--json", "--skip-checks"],
        &["doctor"],
        &["doctor", "--json"],
        &["audit", "checkout"],
    ];
    for (what, env) in [("rejected token", &other), ("unreachable API", &gone)] {
        for command in commands {
            for verbosity in VERBOSITIES {
                let mut args: Vec<&str> = verbosity.to_vec();
                args.extend_from_slice(command);
                let args = with_flags(&args, &[&["--retries=0"]]);
                let out = canary_env(env.cmd(&args)).run_with_timeout(Duration::from_secs(60));
                out.assert_code(1);
                assert_clean(&format!("{what} {args:?}"), &out, env);
            }
        }
        let stdin = canary_env(env.cmd(&[
            "-vv",
            "rotate",
            "FROM_ENV",
            "--stdin",
            "--yes",
            "--skip-checks",
        ]))
        .stdin_text(CANARY_STDIN)
        .run();
        stdin.assert_code(1);
        assert_clean(&format!("{what} rotate"), &stdin, env);
    }
    let out = canary_env(gone.cmd(&["plan"])).run();
    assert!(out.stderr.contains("cannot reach GitHub"), "{}", out.stderr);
}

/// `secretsync sandbox`, briefly: its banner names where the token comes from, never the token.
#[test]
fn no_canary_from_the_sandbox_command() {
    let env = Env::new();
    let mut command = canary_env(env.cmd(&["-vv", "sandbox", "--addr", "127.0.0.1:0"]))
        .env("SECRETSYNC_SANDBOX_TOKEN", CANARY_TOKEN)
        .into_command();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the sandbox");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut banner = Vec::new();
    let mut buf = [0u8; 256];
    let deadline = Instant::now() + Duration::from_secs(20);
    while !String::from_utf8_lossy(&banner).contains("Ctrl-C") && Instant::now() < deadline {
        match stdout.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => banner.extend_from_slice(&buf[..n]),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = Vec::new();
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_end(&mut stderr);
    let out = Output {
        code: 0,
        stdout: String::from_utf8_lossy(&banner).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    assert!(
        out.stdout.contains("api_url = \"http://127.0.0.1:"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("SECRETSYNC_SANDBOX_TOKEN"),
        "{}",
        out.stdout
    );
    assert_clean("sandbox", &out, &env);
}

/// Run with stdout closed before the program writes (the reader went away, as in `| head -0`),
/// under `RUST_BACKTRACE=1`.
fn closed_stdout(env: &Env, args: &[&str]) -> Output {
    let mut child = canary_env(env.cmd(args)).spawn();
    drop(child.stdout.take());
    let mut stderr = Vec::new();
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_end(&mut stderr);
    let status = child.wait().expect("wait");
    Output {
        code: status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// The large outputs into a closed pipe, with backtraces on: nothing leaks even if it panics.
/// (The one panic found, `completions` into a closed pipe, has its own test below.)
#[test]
fn no_canary_in_a_panic_or_a_broken_pipe() {
    let env = Env::with_token(CANARY_TOKEN);
    config(&env, &env.sandbox.api_url());
    checkout(&env);
    // Enough secrets that the JSON is larger than a pipe's buffer.
    env.sandbox.put_outside(REPO, "FROM_ENV", b"x");
    for i in 0..150 {
        env.sandbox.put_outside(REPO, &format!("EXTRA_{i}"), b"x");
    }
    let runs: [&[&str]; 7] = [
        &["-vv", "plan", "--json", "--prune"],
        &["-vv", "plan", "--prune"],
        &["-vv", "apply", "--yes", "--json", "--skip-checks"],
        &["-vv", "doctor", "--json"],
        &["-vv", "audit", "checkout", "--json"],
        &["-vv", "completions", "bash"],
        &["-vv", "man"],
    ];
    for args in runs {
        let out = closed_stdout(&env, args);
        assert_clean(
            &format!("closed stdout {args:?}"),
            &out_without_panic_check(out),
            &env,
        );
    }
}

/// The panic's text, with the word `panicked` masked so `assert_clean` checks only for leaks.
fn out_without_panic_check(out: Output) -> Output {
    Output {
        stderr: out.stderr.replace("panicked", "p-anicked"),
        ..out
    }
}

/// Writing into a closed pipe is how a pager or `head` ends a read; secretsync treats a broken
/// pipe as success, completions included.
#[test]
fn completions_into_a_closed_pipe_do_not_panic() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = closed_stdout(&env, &["completions", shell]);
        assert!(!out.stderr.contains("panicked"), "{shell}: {}", out.stderr);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
    }
}

// ---- the registry check: every value it reads, however it is combined ------------------------

/// An env with the echo registry on [`CANARY_REG_IP`] and a config whose `[[checks]]` read the
/// registry, username, namespace and password from secrets; `checks` are the `[[checks]]`
/// entries, written with `secret:` references only.
fn registry_env(checks: &str) -> (Env, EchoRegistry) {
    let registry = EchoRegistry::start(CANARY_REG_IP, CANARY_REG_USER, CANARY_REGISTRY);
    let env = Env::with_token(CANARY_TOKEN);
    env.write(
        "secretsync.toml",
        &format!(
            "[github]\napi_url = \"{}\"\n\n\
             [secrets.REG_HOST]\nenv = \"REG_HOST_VAR\"\n\n\
             [secrets.REG_TLS]\nenv = \"REG_TLS_VAR\"\n\n\
             [secrets.REG_GONE]\nenv = \"REG_GONE_VAR\"\n\n\
             [secrets.REG_USER]\nenv = \"REG_USER_VAR\"\n\n\
             [secrets.REG_NS]\nenv = \"REG_NS_VAR\"\n\n\
             [secrets.REG_PASSWORD]\nenv = \"CANARY_REG_VAR\"\n\n\
             [[targets]]\nrepo = \"{REPO}\"\n\n{checks}",
            env.sandbox.api_url()
        ),
    );
    (env, registry)
}

/// Each command that runs the checks, text and JSON, at every verbosity; each must end with
/// `code`. Returns the output of `check --json` (without -v).
fn registry_tour(env: &Env, registry: &EchoRegistry, code: i32) -> Output {
    let commands: [(&[&str], Option<&str>); 6] = [
        (&["check"], None),
        (&["check", "--json"], None),
        (&["apply", "--yes"], None),
        (&["apply", "--yes", "--json"], None),
        (
            &["rotate", "REG_PASSWORD", "--stdin", "--yes"],
            Some(CANARY_REGISTRY),
        ),
        (
            &["rotate", "REG_PASSWORD", "--stdin", "--yes", "--json"],
            Some(CANARY_REGISTRY),
        ),
    ];
    let mut json = None;
    for (args, stdin) in commands {
        for verbosity in VERBOSITIES {
            let mut all: Vec<&str> = verbosity.to_vec();
            all.extend_from_slice(args);
            let all = with_flags(&all, &[&["--retries=0"]]);
            let mut run = canary_env(env.cmd(&all))
                .env("REG_HOST_VAR", format!("{CANARY_REG_IP}:{}", registry.port))
                .env(
                    "REG_TLS_VAR",
                    format!("https://{CANARY_REG_IP}:{}", registry.port),
                )
                .env("REG_GONE_VAR", CANARY_REG_GONE)
                .env("REG_USER_VAR", CANARY_REG_USER)
                .env("REG_NS_VAR", CANARY_REG_NS);
            if let Some(text) = stdin {
                run = run.stdin_text(text);
            }
            let out = run.run_with_timeout(Duration::from_secs(60));
            let what = format!("{args:?} {verbosity:?}");
            assert_clean(&what, &out, env);
            assert_registry_clean(&what, registry);
            assert_eq!(out.code, code, "{what}\n{}\n{}", out.stdout, out.stderr);
            if verbosity == ["-vv"] {
                assert!(
                    out.stderr.contains("registry GET secret:REG_"),
                    "{what}: the registry requests are logged\n{}",
                    out.stderr
                );
            }
            if args == ["check", "--json"] && verbosity.is_empty() {
                json = Some(out);
            }
        }
    }
    json.expect("check --json ran")
}

/// The registry got the password in `Authorization` only, and nothing of GitHub's: no other
/// canary in a query, another header or a body it was sent. (Its own host, user and namespace
/// belong in its paths and headers.)
#[track_caller]
fn assert_registry_clean(what: &str, registry: &EchoRegistry) {
    let places: Vec<(String, Vec<u8>)> = registry
        .traffic()
        .into_iter()
        .enumerate()
        .map(|(at, carried)| (format!("{what}: registry request {at}"), carried))
        .collect();
    assert_absent(CANARIES, &places);
}

/// Denied, NAME_UNKNOWN, an unexpected answer and a failing token service, each echoing the
/// host, the repository and the user: the messages name `secret:REG_NS`, never its value.
#[test]
fn no_registry_value_when_push_is_denied_or_the_repository_is_missing() {
    let (env, registry) = registry_env(
        "[[checks]]\nregistry = \"secret:REG_HOST\"\nusername = \"secret:REG_USER\"\n\
         password = \"secret:REG_PASSWORD\"\n\
         push = [\"secret:REG_NS/denied\", \"secret:REG_NS/missing\", \"secret:REG_NS/odd\", \
         \"secret:REG_NS/realm\"]\n",
    );
    let out = registry_tour(&env, &registry, 1);
    for code in ["push_denied", "name_unknown", "unexpected"] {
        assert!(out.stdout.contains(code), "{code}:\n{}", out.stdout);
    }
    assert!(
        out.stdout.contains(
            "push to `secret:REG_NS/denied` is denied: check that the namespace `secret:REG_NS`"
        ),
        "{}",
        out.stdout
    );
    // The registry's echo of the URL and the user, scrubbed rather than dropped.
    assert!(
        out.stdout.contains(
            "cannot handle POST http://secret:REG_HOST/v2/secret:REG_NS/odd/blobs/uploads/? for secret:REG_USER"
        ),
        "{}",
        out.stdout
    );
}

/// A host that does not resolve and a registry that does not speak TLS: the reasons name
/// `secret:REG_GONE` and `secret:REG_TLS`, never the host.
#[test]
fn no_registry_value_when_the_registry_is_unreachable_or_tls_fails() {
    let (env, registry) = registry_env(
        "[[checks]]\nregistry = \"secret:REG_GONE\"\nusername = \"secret:REG_USER\"\n\
         password = \"secret:REG_PASSWORD\"\npush = [\"secret:REG_NS/app\"]\n\n\
         [[checks]]\nregistry = \"secret:REG_TLS\"\nusername = \"secret:REG_USER\"\n\
         password = \"secret:REG_PASSWORD\"\npush = [\"secret:REG_NS/app\"]\n",
    );
    let out = registry_tour(&env, &registry, 1);
    for code in ["\"unreachable\"", "\"tls\""] {
        assert!(out.stdout.contains(code), "{code}:\n{}", out.stdout);
    }
    assert!(
        out.stdout.contains("secret:REG_GONE is unreachable"),
        "{}",
        out.stdout
    );
}

/// Every check passes, so only the logs could show a value: at -vv each registry request is
/// logged by the config's words (`secret:REG_HOST/v2/secret:REG_NS/app/...`).
#[test]
fn no_registry_value_in_the_logs() {
    let (env, registry) = registry_env(
        "[[checks]]\nregistry = \"secret:REG_HOST\"\nusername = \"secret:REG_USER\"\n\
         password = \"secret:REG_PASSWORD\"\npush = [\"secret:REG_NS/app\"]\n",
    );
    let out = registry_tour(&env, &registry, 0);
    assert!(out.stdout.contains("\"ok\": true"), "{}", out.stdout);
    // The registry's traffic that was searched held the login and the uploads.
    let traffic = registry.traffic();
    assert!(traffic.len() >= 3, "{} registry requests", traffic.len());
}

const CANARY_TEAM_KEY: &str = "CANARY-team-key-0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const CANARY_WRONG_KEY: &str = "CANARY-wrong-key-f9e8d7c6b5a4039281706f5e4d3c2b1a";

/// The shared store: the team key and every value stay out of the output, the state folder, the
/// requests and the `SECRETSYNC_STATE` record itself, at every verbosity, also when the key is
/// wrong.
#[test]
fn no_canary_through_the_shared_store() {
    let env = Env::with_token(CANARY_TOKEN);
    config(&env, &env.sandbox.api_url());
    let text = std::fs::read_to_string(env.path("secretsync.toml")).expect("config");
    let shared =
        format!("[state]\nstore = \"github\"\nkey = {{ env = \"CANARY_TEAM_KEY\" }}\n\n{text}");
    env.write("secretsync.toml", &shared);
    let run = |args: &[&str], key: &str, verbosity: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&["--config", "secretsync.toml", "--state-dir", "state"]);
        canary_env(env.command(env!("CARGO_BIN_EXE_secretsync")))
            .args(verbosity)
            .args(all)
            .env("CANARY_TEAM_KEY", key)
            .run_with_timeout(Duration::from_secs(60))
    };
    for verbosity in VERBOSITIES {
        for (args, key, code) in [
            (&["plan"][..], CANARY_TEAM_KEY, 0),
            (&["apply", "--yes", "--skip-checks"][..], CANARY_TEAM_KEY, 0),
            (
                &["apply", "--yes", "--skip-checks", "--json"][..],
                CANARY_TEAM_KEY,
                0,
            ),
            (&["plan", "--json"][..], CANARY_WRONG_KEY, 1),
            (
                &["apply", "--yes", "--skip-checks"][..],
                CANARY_WRONG_KEY,
                1,
            ),
        ] {
            let out = run(args, key, verbosity);
            let what = format!("{args:?} {verbosity:?}");
            assert_clean(&what, &out, &env);
            for canary in [CANARY_TEAM_KEY, CANARY_WRONG_KEY] {
                for form in forms(canary) {
                    let places = [&out.stdout, &out.stderr];
                    assert!(places.iter().all(|p| !p.contains(&form)), "{what}: {form}");
                }
            }
            assert_eq!(out.code, code, "{what}\n{}\n{}", out.stdout, out.stderr);
        }
    }
    let record = env
        .sandbox
        .variable(
            &secretsync_sandbox::Scope::Repo(REPO.into()),
            "SECRETSYNC_STATE",
        )
        .expect("the shared record was written");
    let values = [
        CANARY_ENV,
        CANARY_FILE,
        CANARY_CMD,
        CANARY_LITERAL,
        CANARY_TOKEN,
    ];
    for canary in values.iter().chain([&CANARY_TEAM_KEY]) {
        for form in forms(canary) {
            assert!(!record.contains(&form), "{form} in the record: {record}");
        }
    }
    for (path, bytes) in created_files(env.dir.path()) {
        let text = String::from_utf8_lossy(&bytes);
        for form in forms(CANARY_TEAM_KEY) {
            assert!(!text.contains(&form), "{form} in {}", path.display());
        }
    }
}

/// `adopt` of secrets set by hand with the canaries as their values: nothing of them in the
/// output, the state folder, the requests, or the shared record, at every verbosity.
#[test]
fn no_canary_when_adopting() {
    let env = Env::with_token(CANARY_TOKEN);
    config(&env, &env.sandbox.api_url());
    for (name, value) in [
        ("FROM_ENV", CANARY_ENV),
        ("FROM_FILE", CANARY_FILE),
        ("FROM_CMD", CANARY_CMD),
        ("FROM_LITERAL", CANARY_LITERAL),
        ("FROM_CHAIN", CANARY_CHAIN),
        ("FROM_PROMPT", CANARY_PROMPT_ENV),
        ("REG_PASSWORD", CANARY_REGISTRY),
    ] {
        env.sandbox.put_outside(REPO, name, value.as_bytes());
    }
    let text = std::fs::read_to_string(env.path("secretsync.toml")).expect("config");
    let shared = format!(
        "[state]\nstore = \"github\"\nkey = {{ value = \"{CANARY_LITERAL}-team\" }}\n\n{text}"
    );
    env.write("shared.toml", &shared);
    let mut adopted = 0;
    for config in [None, Some("shared.toml")] {
        for verbosity in VERBOSITIES {
            for args in [&["adopt", "--yes"][..], &["adopt", "--yes", "--json"][..]] {
                let step = Step {
                    config,
                    ..step("adopt", args)
                };
                let out = run_step(&env, &step, verbosity);
                let what = format!("{args:?} {config:?} {verbosity:?}");
                assert_clean(&what, &out, &env);
                out.assert_code(0);
                adopted += out.stdout.matches("  trust  ").count();
            }
        }
    }
    assert_eq!(adopted, 14, "each store adopted the seven secrets once");
    let record = env
        .sandbox
        .variable(
            &secretsync_sandbox::Scope::Repo(REPO.into()),
            "SECRETSYNC_STATE",
        )
        .expect("the shared record was written");
    for canary in CANARIES {
        for form in forms(canary) {
            assert!(!record.contains(&form), "{form} in the record: {record}");
        }
    }
}
