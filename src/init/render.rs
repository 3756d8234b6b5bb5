//! A [`Draft`] as commented TOML. Every string is written by the TOML library and every name as
//! a key that is quoted when it must be, so any name, value or path reads back as itself; and no
//! comment holds a line break, so none can end early and start a line of TOML.

use std::fmt::Write as _;

use crate::scope::{App, Scope, Visibility};

use super::draft::{Draft, SecretDraft, TargetDraft};

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
            key(&variable.name),
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
    // Names read from GitHub may hold anything; a line break would end the comment.
    let text = text.replace(char::is_control, " ");
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
        key(&secret.name),
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
    // Dependabot's scopes have no variables.
    if target.scope.variables_path().is_some() {
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

/// `name` as a TOML key: bare when TOML allows, else quoted, so that no name (GitHub's are read
/// as they come) can end its table header and write a table of its own.
fn key(name: &str) -> String {
    let bare = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if !name.is_empty() && name.chars().all(bare) {
        return name.to_owned();
    }
    // One line: a key may not be the multi-line string `quote` gives text with a line break.
    let mut quoted = String::from("\"");
    for c in name.chars() {
        match c {
            '"' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04X}", u32::from(c));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// `text` as a TOML string, escaped as TOML needs.
pub fn quote(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::draft::VariableDraft;

    /// A name or note that would end its line and start TOML of its own if written as it is.
    #[test]
    fn no_name_or_note_can_write_toml_of_its_own() {
        let injected = "X]\ncommand = [\"sh\"]\n[secrets.Y";
        let draft = Draft {
            secrets: vec![SecretDraft {
                name: injected.to_owned(),
                on_github: true,
                dotenv_key: None,
                keyring_user: "x".to_owned(),
                at: vec!["acme/shop".to_owned()],
            }],
            variables: vec![VariableDraft {
                name: injected.replace("secrets", "variables"),
                value: "v".to_owned(),
                at: Vec::new(),
            }],
            targets: Vec::new(),
            notes: vec![format!("`{injected}`\n[secrets.EVIL]\nvalue = \"1\"")],
        };
        let origin = Origin {
            command: "test",
            api_url: None,
            dotenv_file: None,
        };
        let text = render(&draft, &origin);
        let doc: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let keys = |table: &str| -> Vec<String> {
            doc[table]
                .as_table()
                .expect(table)
                .keys()
                .cloned()
                .collect()
        };
        assert_eq!(keys("secrets"), [injected], "{text}");
        assert_eq!(
            keys("variables"),
            [draft.variables[0].name.clone()],
            "{text}"
        );
        assert!(doc["secrets"][injected].get("command").is_none(), "{text}");
    }
}
