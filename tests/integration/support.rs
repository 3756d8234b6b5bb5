//! A small test builder: a temp folder with a config, a sandbox playing GitHub, and a way to run
//! the binary with a clean environment (no real token, no terminal) and collect everything.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use secretsync::sandbox::{RequestRecord, Sandbox, SandboxConfig};

pub const REPO: &str = "acme/shop";
pub const OTHER: &str = "acme/web";
pub const TOKEN: &str = "test-token-0123456789";

pub struct Env {
    pub dir: tempfile::TempDir,
    pub sandbox: Sandbox,
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
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

impl Env {
    pub fn new() -> Env {
        Self::with_token(TOKEN)
    }

    pub fn with_token(token: &str) -> Env {
        let repos: BTreeSet<String> = [REPO, OTHER].iter().map(|s| s.to_string()).collect();
        let sandbox = Sandbox::spawn(SandboxConfig {
            token: token.to_string(),
            repos: Some(repos),
            ..SandboxConfig::default()
        })
        .expect("sandbox starts");
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

    /// The binary, in the temp folder, with only the environment a test gives it.
    pub fn cmd(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_secretsync"));
        cmd.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("GH_TOKEN", TOKEN)
            .arg("--config")
            .arg(self.path("secretsync.toml"))
            .arg("--state-dir")
            .arg(self.state_dir())
            .args(args)
            .stdin(Stdio::null());
        Run { cmd }
    }

    /// `apply --yes`, expected to succeed.
    pub fn apply(&self) -> Output {
        let out = self.cmd(&["apply", "--yes"]).run();
        out.assert_code(0);
        out
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

    /// Every file under the state folder, with its bytes.
    pub fn state_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        walk(&self.state_dir(), &mut files);
        files.sort();
        files
    }
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

pub struct Run {
    cmd: Command,
}

impl Run {
    pub fn env(mut self, key: &str, value: &str) -> Run {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Run {
        self.cmd.env_remove(key);
        self
    }

    /// The command, for a pseudo-terminal to run: its standard streams are left to the pty.
    pub fn into_pty_command(mut self) -> Command {
        self.cmd.stdin(Stdio::inherit());
        self.cmd
    }

    pub fn run(mut self) -> Output {
        let out = self.cmd.output().expect("the binary runs");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
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
