//! A small test builder: a temp folder with a config, a sandbox playing GitHub, and a way to run
//! the binary with a clean environment (no real token, no terminal) and collect everything; also
//! the check that the real components some tests drive are installed.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use secretsync_sandbox::{RequestRecord, Sandbox, SandboxConfig};

pub const REPO: &str = "acme/shop";
pub const OTHER: &str = "acme/web";
pub const TOKEN: &str = "test-token-0123456789";

pub struct Env {
    pub dir: tempfile::TempDir,
    pub sandbox: Sandbox,
}

/// A test fails naming each request its client sent, or answer the sandbox gave, that GitHub's
/// REST description does not allow (unless it failed already: a second panic would abort).
impl Drop for Env {
    fn drop(&mut self) {
        let violations = self.sandbox.contract_violations();
        if !violations.is_empty() && !std::thread::panicking() {
            panic!(
                "against GitHub's REST description (@octokit/openapi {}):\n{}",
                Sandbox::openapi_version(),
                violations.join("\n")
            );
        }
    }
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Output {
    /// The code is -1 when a signal ended the program.
    fn from(out: std::process::Output) -> Output {
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Waits for a child from [`Run::spawn`] to end; what it printed, and its code.
pub fn finish(child: Child) -> Output {
    child.wait_with_output().expect("wait").into()
}

/// Waits (polling) until `done`, while `child` runs; panics naming `what` if the child ends
/// first or 30 s pass, so a test fails instead of hanging.
#[track_caller]
pub fn wait_until(what: &str, child: &mut Child, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        if Instant::now() > deadline || child.try_wait().expect("wait").is_some() {
            let _ = child.kill();
            panic!("never happened: {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Output {
    /// stdout as one JSON document of the shape `T`; panics showing stdout if it is not.
    #[track_caller]
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document as expected ({e}):\n{}",
                self.stdout
            )
        })
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The sandbox of every Env: REPO and OTHER exist, and `token` has full access.
fn sandbox_config(token: &str) -> SandboxConfig {
    let repos: BTreeSet<String> = [REPO, OTHER].iter().map(|s| s.to_string()).collect();
    SandboxConfig {
        token: token.to_string(),
        repos: Some(repos),
        ..SandboxConfig::default()
    }
}

impl Env {
    pub fn new() -> Env {
        Self::with_token(TOKEN)
    }

    pub fn with_token(token: &str) -> Env {
        Env::around(Sandbox::spawn(sandbox_config(token)).expect("sandbox starts"))
    }

    /// An Env whose sandbox speaks HTTPS under `/api/v3`, as a GitHub Enterprise server does,
    /// with a certificate from a test CA that no system trusts; and that CA's PEM written to
    /// `ca.pem`.
    pub fn https() -> Env {
        let (sandbox, ca) =
            Sandbox::spawn_https(sandbox_config(TOKEN)).expect("an HTTPS sandbox starts");
        let env = Env::around(sandbox);
        env.write("ca.pem", ca.pem());
        env
    }

    fn around(sandbox: Sandbox) -> Env {
        // Every test is also a check of the client and the sandbox against GitHub's own REST
        // description: see `Drop`.
        sandbox.validate_against_openapi();
        Env {
            dir: tempfile::tempdir().expect("tempdir"),
            sandbox,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn state_dir(&self) -> PathBuf {
        self.path("state")
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write");
    }

    /// Write `secretsync.toml`: the sandbox's `[github]` table, then `body`.
    pub fn config(&self, body: &str) {
        let text = format!(
            "[github]\napi_url = \"{}\"\n\n{body}",
            self.sandbox.api_url()
        );
        self.write("secretsync.toml", &text);
    }

    /// Write `secretsync.toml` with `secrets` and one target, [`REPO`], taking them all.
    pub fn config_for_repo(&self, secrets: &str) {
        self.config(&format!("{secrets}\n[[targets]]\nrepo = \"{REPO}\"\n"));
    }

    /// `program`, in the temp folder, with nothing from the test's own environment but PATH:
    /// HOME is the temp folder and the only GitHub token is the sandbox's.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Run {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("GH_TOKEN", TOKEN)
            .stdin(Stdio::null());
        Run { cmd }
    }

    /// The binary, in the temp folder, with only the environment a test gives it. Right after
    /// the subcommand come this folder's `--config` and `--state-dir`, each where the subcommand
    /// takes it and the test does not pass its own.
    pub fn cmd(&self, args: &[&str]) -> Run {
        let config = self.path("secretsync.toml");
        let state = self.state_dir();
        let config_flag = [OsStr::new("--config"), config.as_os_str()];
        let state_flag = [OsStr::new("--state-dir"), state.as_os_str()];
        let mut ours: Vec<&[&OsStr]> = Vec::new();
        if !given(args, "--config") && !given(args, "-c") {
            ours.push(&config_flag);
        }
        if !given(args, "--state-dir") {
            ours.push(&state_flag);
        }
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        self.command(env!("CARGO_BIN_EXE_secretsync"))
            .args(with_flags(&args, &ours))
    }

    /// `apply --yes`, expected to succeed.
    pub fn apply(&self) -> Output {
        let out = self.cmd(&["apply", "--yes"]).run();
        out.assert_code(0);
        out
    }

    /// `apply --yes` with `$ALIYUN_PASSWORD` (which [`ALIYUN`] reads) set to `password`; the exit
    /// code is left to the caller.
    pub fn apply_with_password(&self, password: &str) -> Output {
        self.cmd(&["apply", "--yes"])
            .env("ALIYUN_PASSWORD", password)
            .run()
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.sandbox.requests()
    }

    /// (lists, key fetches, puts, deletes) seen since the last `clear_requests`.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let r = self.requests();
        let n = |m: &str, key: bool| {
            r.iter()
                .filter(|x| x.method == m && x.path.ends_with("/public-key") == key)
                .count()
        };
        (
            n("GET", false),
            n("GET", true),
            n("PUT", false),
            n("DELETE", false),
        )
    }

    pub fn plaintext(&self, name: &str) -> Option<String> {
        self.sandbox
            .plaintext(REPO, name)
            .map(|b| String::from_utf8(b).expect("utf-8"))
    }

    /// Every file under the state folder, with its bytes, but the conditional-GET cache's: that
    /// is a cache of GitHub's answers, which any run (`plan` too) may refresh, not state.
    pub fn state_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        walk(&self.state_dir(), &mut files);
        let cache = self.state_dir().join(secretsync::github::cache::FOLDER);
        files.retain(|(path, _)| !path.starts_with(&cache));
        files.sort();
        files
    }
}

fn given(args: &[&str], flag: &str) -> bool {
    args.iter()
        .any(|a| *a == flag || a.starts_with(&format!("{flag}=")))
}

/// `args` with each of `flags` (a flag, alone or with its value) that the subcommand in `args`
/// takes, put right after it: flags belong to subcommands, and one a subcommand does not take is
/// left out. With no subcommand in `args`, `args` as they are.
pub fn with_flags<'a, S>(args: &[&'a S], flags: &[&[&'a S]]) -> Vec<&'a S>
where
    S: AsRef<OsStr> + ?Sized,
{
    let command = secretsync::cli::command();
    let found = args.iter().enumerate().find_map(|(at, a)| {
        let name = a.as_ref().to_str()?;
        Some((at, command.find_subcommand(name)?))
    });
    let Some((at, subcommand)) = found else {
        return args.to_vec();
    };
    let takes = |flag: &S| {
        let text = flag.as_ref().to_str().unwrap_or_default();
        let long = text.strip_prefix("--").map(|f| f.split('=').next());
        subcommand
            .get_arguments()
            .any(|a| long.is_some_and(|long| a.get_long() == long))
    };
    let kept = flags
        .iter()
        .filter(|group| group.first().is_some_and(|flag| takes(flag)))
        .flat_map(|group| group.iter().copied());
    let mut all = args.to_vec();
    all.splice(at + 1..at + 1, kept);
    all
}

fn walk(dir: &Path, files: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else if let Ok(bytes) = std::fs::read(&path) {
            files.push((path, bytes));
        }
    }
}

/// A command to run: the binary from [`Env::cmd`], or another program from [`Env::command`].
pub struct Run {
    cmd: Command,
}

impl Run {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Run {
        self.cmd.arg(arg);
        self
    }

    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Run {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Run {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Run {
        self.cmd.env_remove(key);
        self
    }

    /// No D-Bus session (SSH, containers): no bus address, and `runtime` (made here, left empty)
    /// as the runtime folder, so no Secret Service is found there either.
    pub fn without_dbus(self, runtime: &Path) -> Run {
        std::fs::create_dir_all(runtime).expect("mkdir the empty runtime folder");
        self.env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("XDG_RUNTIME_DIR", runtime)
    }

    /// This command run by a launcher: `launcher[0] launcher[1..] PROGRAM ARGS`, with the same
    /// environment and folder, e.g. `&["setsid", "--wait"]`, or `&["sh", "-c", SCRIPT, "sh"]`
    /// for a script that ends in `exec "$@"`.
    pub fn wrap(self, launcher: &[&str]) -> Run {
        let (program, launcher_args) = launcher.split_first().expect("a launcher program");
        // Every `Run` starts from a cleared environment, so the variables set are all there is.
        let mut cmd = Command::new(program);
        cmd.env_clear();
        for (key, value) in self.cmd.get_envs() {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        if let Some(dir) = self.cmd.get_current_dir() {
            cmd.current_dir(dir);
        }
        cmd.args(launcher_args)
            .arg(self.cmd.get_program())
            .args(self.cmd.get_args())
            .stdin(Stdio::null());
        Run { cmd }
    }

    /// Feed `text` on standard input (a file, so the program can read it at its own pace).
    pub fn stdin_text(mut self, text: &str) -> Run {
        let mut file = tempfile::tempfile().expect("stdin file");
        file.write_all(text.as_bytes()).expect("write stdin");
        file.rewind().expect("rewind stdin");
        self.cmd.stdin(file);
        self
    }

    /// The command itself, to spawn by hand.
    pub fn into_command(self) -> Command {
        self.cmd
    }

    /// The command, for a pseudo-terminal to run: its standard streams are left to the pty.
    pub fn into_pty_command(mut self) -> Command {
        self.cmd.stdin(Stdio::inherit());
        self.cmd
    }

    pub fn run(mut self) -> Output {
        self.cmd.output().expect("the binary runs").into()
    }

    /// Started, not waited for, with stdout and stderr kept for [`finish`].
    pub fn spawn(mut self) -> Child {
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.cmd.spawn().expect("spawn")
    }

    /// Started, not waited for, with what it prints thrown away.
    pub fn spawn_quiet(mut self) -> Child {
        self.cmd.stdout(Stdio::null()).stderr(Stdio::null());
        self.cmd.spawn().expect("spawn")
    }

    /// Run with stdout and stderr in files (a daemon that keeps a pipe open cannot block us), in
    /// its own process group, killed whole if it is still running after `timeout`. The code is
    /// -1 when a signal ended it.
    pub fn run_with_timeout(mut self, timeout: Duration) -> Output {
        use std::os::unix::process::CommandExt as _;
        let mut out = tempfile::tempfile().expect("stdout file");
        let mut err = tempfile::tempfile().expect("stderr file");
        self.cmd
            .stdout(out.try_clone().expect("stdout file"))
            .stderr(err.try_clone().expect("stderr file"))
            .process_group(0);
        let program = self.cmd.get_program().to_string_lossy().into_owned();
        let mut child = self.cmd.spawn().expect("spawn");
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.wait();
                panic!(
                    "{program}: still running after {timeout:?}; stderr so far:\n{}",
                    read_all(&mut err)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Output {
            code: status.code().unwrap_or(-1),
            stdout: read_all(&mut out),
            stderr: read_all(&mut err),
        }
    }
}

fn read_all(file: &mut std::fs::File) -> String {
    let mut bytes = Vec::new();
    file.rewind().expect("rewind");
    file.read_to_end(&mut bytes).expect("read back");
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A file's text, or "" when it is not there.
pub fn read_text(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

/// Whether the real components `test` drives are here: each `(program, Debian package)` on PATH.
/// A missing one skips the test with a line on stderr, except under `CI`, where it fails.
/// `.ci/install-real-components` installs them all.
pub fn require_tools(test: &str, tools: &[(&str, &str)]) -> bool {
    let missing: Vec<String> = tools
        .iter()
        .filter(|(program, _)| !on_path(program))
        .map(|(program, package)| format!("{program} (Debian package {package})"))
        .collect();
    require(test, &missing)
}

/// Whether `python3` on PATH can import `module` (from the PyPI package `package`); otherwise
/// as [`require_tools`].
pub fn require_python_module(test: &str, module: &str, package: &str) -> bool {
    let found = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let missing = if found {
        vec![]
    } else {
        vec![format!(
            "python3 with {package} (`python3 -m pip install {package}`)"
        )]
    };
    require(test, &missing)
}

fn require(test: &str, missing: &[String]) -> bool {
    if missing.is_empty() {
        return true;
    }
    let what = missing.join(", ");
    if std::env::var_os("CI").is_some() {
        panic!("{test}: missing {what}; install with .ci/install-real-components");
    }
    // Straight to stderr, in one write: the test harness captures `eprintln!`, and a skip must
    // be seen.
    let line = format!("{test}: skipped: install {what} (see .ci/install-real-components)\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    false
}

/// Whether an executable `program` is on `PATH`.
pub fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            dir.join(program)
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// The founding story's four secrets, with the password from an env var.
pub const ALIYUN: &str = r#"
[secrets.ALIYUN_REGISTRY]
value = "crpi-x.cn-hangzhou.personal.cr.aliyuncs.com"

[secrets.ALIYUN_NAMESPACE]
value = "acme"

[secrets.ALIYUN_USERNAME]
value = "acme-account"

[secrets.ALIYUN_PASSWORD]
env = "ALIYUN_PASSWORD"

[[targets]]
repo = "acme/shop"
"#;
