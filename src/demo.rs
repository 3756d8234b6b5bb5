//! `secretsync demo`: the founding story, end to end and offline. An in-process sandbox plays
//! GitHub; a temporary folder holds the config, the values and the state. It prints what a user
//! would see at each step.

use std::io::Write;
use std::path::Path;

use crate::config;
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::render::Style;
use crate::state::StateDir;
use crate::sync::{self, Command, RunOptions};
use secretsync_sandbox::{Sandbox, SandboxConfig};

const REPO: &str = "acme/shop";

fn demo_config(api_url: &str) -> String {
    format!(
        r#"# The four secrets a workflow needs to push images to Aliyun Container Registry.
[github]
api_url = "{api_url}"
token = {{ file = "token" }}

# The record of what was applied lives in GitHub, so every machine of the team agrees on it.
[state]
store = "github"
key = {{ file = "team.key" }}

[secrets.ALIYUN_REGISTRY]
value = "crpi-demo.cn-hangzhou.personal.cr.aliyuncs.com"

[secrets.ALIYUN_NAMESPACE]
value = "acme"

[secrets.ALIYUN_USERNAME]
value = "acme-account"

[secrets.ALIYUN_PASSWORD]
file = "password.txt"

[[targets]]
repo = "{REPO}"
secrets = ["ALIYUN_*"]
"#
    )
}

/// Written 0600 like any file holding a token should be, so the demo shows no warning about it.
fn write(dir: &Path, name: &str, text: &str) -> Result<(), Error> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(dir.join(name))
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|e| Error::Internal(format!("demo cannot write {name}: {e}")))
}

/// One step of the story: the command as a user would type it, then what it prints.
struct Story<'a> {
    config: config::Config,
    options: RunOptions,
    out: &'a mut dyn Write,
}

impl Story<'_> {
    fn step(
        &mut self,
        n: u32,
        title: &str,
        state: &StateDir,
        command: Command,
    ) -> Result<(), Error> {
        let shown = match command {
            Command::Plan => "secretsync plan",
            Command::Apply => "secretsync apply --yes",
        };
        writeln!(self.out, "{n}. {title}\n$ {shown}")?;
        let outcome = sync::run(&self.config, state, command, &self.options, None, self.out)?;
        writeln!(self.out)?;
        match outcome.ok {
            true => Ok(()),
            false => Err(Error::Internal(format!("demo step {n} failed"))),
        }
    }

    fn aside(&mut self, text: &str) -> Result<(), Error> {
        writeln!(self.out, "({text})\n")?;
        Ok(())
    }
}

/// The folder's files: the config, the sandbox's token, the password and the team key.
fn set_up(dir: &Path, sandbox: &Sandbox, token: &str) -> Result<config::Config, Error> {
    write(dir, "secretsync.toml", &demo_config(&sandbox.api_url()))?;
    write(dir, "token", token)?;
    write(dir, "password.txt", "Fixed-Registry-Pass1\n")?;
    let key = crate::state::Fingerprinter::new_key_text();
    write(dir, "team.key", key.as_str())?;
    Ok(config::load(&dir.join("secretsync.toml"))?)
}

pub fn run(out: &mut dyn Write, style: Style) -> Result<ExitStatus, Error> {
    let dir = tempfile::tempdir()
        .map_err(|e| Error::Internal(format!("demo cannot make a temporary folder: {e}")))?;
    let sandbox_config = SandboxConfig::default();
    let token = sandbox_config.token.clone();
    let sandbox = Sandbox::spawn(sandbox_config)
        .map_err(|e| Error::Internal(format!("demo cannot start the sandbox: {e}")))?;
    let config = set_up(dir.path(), &sandbox, &token)?;
    let laptop = StateDir::new(dir.path().join("laptop-state"));
    let teammate = StateDir::new(dir.path().join("teammate-state"));
    let options = RunOptions::unattended(false, style);
    writeln!(
        out,
        "secretsync demo: four ALIYUN_* secrets for `{REPO}`, against a local sandbox at {}\n",
        sandbox.api_url()
    )?;
    let mut story = Story {
        config,
        options,
        out,
    };
    story.step(
        1,
        "What would change on a fresh repository",
        &laptop,
        Command::Plan,
    )?;
    story.step(2, "Make GitHub match", &laptop, Command::Apply)?;
    story.step(3, "Nothing left to do", &laptop, Command::Plan)?;
    write(dir.path(), "password.txt", "Rotated-Registry-Pass2\n")?;
    story.aside("the registry password was rotated: password.txt now holds a new value")?;
    story.step(4, "Exactly one update", &laptop, Command::Plan)?;
    story.step(5, "Send just that one", &laptop, Command::Apply)?;
    story.aside("a teammate's machine, with its own state folder and the same team key")?;
    story.step(
        6,
        "Already in sync there: no write",
        &teammate,
        Command::Apply,
    )?;
    let writes = sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    writeln!(
        story.out,
        "The sandbox received {writes} sealed writes in all and opened each with its private key; \
         no value was ever shown."
    )?;
    Ok(ExitStatus::Success)
}
