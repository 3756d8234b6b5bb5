//! A [`Draft`] as commented TOML. Every string is written by the TOML library, so any name,
//! value or path reads back as itself.

use std::fmt::Write as _;

use crate::scope::{App, Scope, Visibility};

use super::draft::{is_dependabot, Draft, SecretDraft, TargetDraft};

/// Where the text came from, for its first lines.
pub struct Origin<'a> {
    /// e.g. "`secretsync init --from-github`".
    pub command: &'a str,
    /// The `api_url` to write; `None` leaves the default, commented.
    pub api_url: Option<&'a str>,
    /// The `.env` file as the config names it (relative to the config's folder).
    pub dotenv_file: Option<&'a str>,
}

pub fn render(draft: &Draft, origin: &Origin) -> String {
    let mut text = String::new();
    header(&mut text, draft, origin);
    for secret in &draft.secrets {
        secret_table(&mut text, secret, origin.dotenv_file);
    }
    for variable in &draft.variables {
        let _ = write!(
            text,
            "\n[variables.{}]\n{}value = {}\n",
            variable.name,
            at_comment(&variable.at),
            quote(&variable.value)
        );
    }
    for target in &draft.targets {
        target_table(&mut text, target);
    }
    text
}

fn header(text: &mut String, draft: &Draft, origin: &Origin) {
    let _ = write!(
        text,
        "# secretsync.toml, written by {}: which GitHub Actions secrets and\n\
         # variables must exist, and where their values come from. Every key is described in\n\
         # docs/config.md of secretsync's repository. Then: `secretsync plan`, `secretsync apply`.\n",
        origin.command
    );
    if !draft.notes.is_empty() {
        text.push_str("#\n# What could not be inferred:\n");
        for note in &draft.notes {
            comment(text, &format!("- {note}"), "  ");
        }
    }
    text.push_str("\n[github]\n");
    match origin.api_url {
        Some(url) => {
            let _ = writeln!(text, "api_url = {}", quote(url));
        }
        None => text.push_str(
            "# api_url = \"https://api.github.com\"     # GitHub Enterprise: \"https://HOST/api/v3\"\n",
        ),
    }
}

/// `text` as `#` lines of at most about 98 columns; `indent` starts each continued line.
fn comment(out: &mut String, text: &str, indent: &str) {
    let mut line = String::from("#");
    for word in text.split(' ') {
        if line.len() > 2 && line.len() + 1 + word.len() > 98 {
            out.push_str(&line);
            out.push('\n');
            line = format!("# {indent}");
        } else {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

fn at_comment(at: &[String]) -> String {
    match at.is_empty() {
        true => "# on no target\n".to_owned(),
        false => {
            let mut out = String::new();
            comment(&mut out, &format!("at {}", at.join(", ")), "");
            out
        }
    }
}

fn secret_table(text: &mut String, secret: &SecretDraft, dotenv_file: Option<&str>) {
    let _ = write!(
        text,
        "\n[secrets.{}]\n{}",
        secret.name,
        at_comment(&secret.at)
    );
    let dotenv = match (&secret.dotenv_key, dotenv_file) {
        (Some(key), Some(file)) => Some(dotenv_source(&secret.name, key, file)),
        _ => None,
    };
    if !secret.on_github {
        if let Some(dotenv) = dotenv {
            let _ = writeln!(text, "dotenv = {dotenv}");
        }
        return;
    }
    text.push_str("from = [\n");
    if let Some(dotenv) = dotenv {
        let _ = writeln!(text, "  {{ dotenv = {dotenv} }},");
    }
    let name = &secret.name;
    let _ = write!(
        text,
        "  {{ env = {} }},\n  {{ keyring = {{ service = \"secretsync\", user = {} }} }},\n  \
         {{ prompt = {}, confirm = true, remember = true }},\n]\n",
        quote(name),
        quote(&secret.keyring_user),
        quote(name)
    );
}

/// `{ file = "...", key = "..." }`, the key left out when it is the secret's name (its default).
fn dotenv_source(name: &str, key: &str, file: &str) -> String {
    match key == name {
        true => format!("{{ file = {} }}", quote(file)),
        false => format!("{{ file = {}, key = {} }}", quote(file), quote(key)),
    }
}

fn target_table(text: &mut String, target: &TargetDraft) {
    text.push_str("\n[[targets]]\n");
    match &target.scope {
        Scope::Repo { repo, app } => {
            let _ = writeln!(text, "repo = {}", quote(&repo.to_string()));
            app_line(text, *app);
        }
        Scope::Environment { repo, environment } => {
            let _ = writeln!(
                text,
                "repo = {}\nenvironment = {}",
                quote(&repo.to_string()),
                quote(environment)
            );
        }
        Scope::Org { org, app } => {
            let _ = writeln!(text, "org = {}", quote(org));
            app_line(text, *app);
        }
    }
    if let Some((visibility, repositories)) = &target.access {
        let _ = writeln!(text, "visibility = {}", quote(visibility.as_str()));
        if *visibility == Visibility::Selected {
            let _ = writeln!(text, "repositories = {}", list(repositories));
        }
    }
    let _ = writeln!(text, "secrets = {}", list(&target.secrets));
    if !is_dependabot(&target.scope) {
        let _ = writeln!(text, "variables = {}", list(&target.variables));
    }
}

fn app_line(text: &mut String, app: App) {
    if app == App::Dependabot {
        text.push_str("app = \"dependabot\"\n");
    }
}

/// A TOML array of strings, one line.
fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| quote(i)).collect();
    format!("[{}]", quoted.join(", "))
}

/// `text` as a TOML string, escaped as TOML needs.
pub fn quote(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}
