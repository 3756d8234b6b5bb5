//! `[[checks]]`: registry credentials to try before anything is written. Each field is literal
//! text or a reference to a declared secret (`secret:NAME`, optionally followed by more text, as
//! in `secret:ALIYUN_NAMESPACE/frontend`), so a check uses exactly what would be uploaded.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{nearest, Decl, Validator};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    registry: String,
    username: String,
    password: String,
    #[serde(default)]
    push: Vec<String>,
}

/// Text that may start with a declared secret's value. It is filled in only as a
/// `registry::Filled`, which keeps the value apart from the text that may be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The secret whose value comes first, if any.
    pub secret: Option<String>,
    /// Literal text after it (all of it, without a secret).
    pub rest: String,
}

impl Template {
    fn parse(text: &str) -> Template {
        match text.strip_prefix("secret:") {
            Some(reference) => {
                let end = reference
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(reference.len());
                Template {
                    secret: Some(reference[..end].to_ascii_uppercase()),
                    rest: reference[end..].to_string(),
                }
            }
            None => Template {
                secret: None,
                rest: text.to_string(),
            },
        }
    }
}

/// A validated `[[checks]]` entry. The password is always a declared secret.
#[derive(Debug, Clone)]
pub struct CheckDecl {
    pub registry: Template,
    pub username: Template,
    pub password: String,
    pub push: Vec<Template>,
    pub line: usize,
}

impl CheckDecl {
    /// Every secret this check reads.
    pub fn secrets(&self) -> impl Iterator<Item = &String> {
        [&self.registry, &self.username]
            .into_iter()
            .chain(self.push.iter())
            .filter_map(|t| t.secret.as_ref())
            .chain(std::iter::once(&self.password))
    }
}

impl Validator<'_> {
    pub(super) fn checks(
        &mut self,
        raw: Vec<Spanned<RawCheck>>,
        secrets: &BTreeMap<String, Decl>,
    ) -> Vec<CheckDecl> {
        let mut checks = Vec::new();
        for spanned in raw {
            let at = Some(spanned.span().start);
            let line = self.lines.line(spanned.span().start);
            let raw = spanned.into_inner();
            let password = Template::parse(&raw.password);
            let password = match (password.secret, password.rest.is_empty()) {
                (Some(name), true) => name,
                _ => {
                    self.problem(
                        at,
                        "a check's `password` must be `secret:NAME`, a declared secret; a password written into the config would be committed with it".into(),
                    );
                    continue;
                }
            };
            let check = CheckDecl {
                registry: Template::parse(&raw.registry),
                username: Template::parse(&raw.username),
                password,
                push: raw.push.iter().map(|p| Template::parse(p)).collect(),
                line,
            };
            let unknown: Vec<String> = check
                .secrets()
                .filter(|name| !secrets.contains_key(*name))
                .cloned()
                .collect();
            for name in unknown {
                let hint = match nearest(&name, secrets.keys().map(String::as_str)) {
                    Some(best) => format!("; did you mean `secret:{best}`?"),
                    None => "; declare it under `[secrets.*]`".into(),
                };
                self.problem(
                    at,
                    format!("check refers to `secret:{name}`, which is not declared{hint}"),
                );
            }
            checks.push(check);
        }
        checks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let t = Template::parse("secret:ALIYUN_NAMESPACE/frontend");
        assert_eq!(t.secret.as_deref(), Some("ALIYUN_NAMESPACE"));
        assert_eq!(t.rest, "/frontend");
        let literal = Template::parse("registry.example");
        assert_eq!(literal.rest, "registry.example");
        assert_eq!(literal.secret, None);
        assert_eq!(
            Template::parse("secret:lower").secret.as_deref(),
            Some("LOWER")
        );
    }
}
