//! A `[[checks]]` field with its secret filled in: the text sent to the registry, and the text
//! shown for it, the field as the config wrote it (`secret:NAME/frontend`). Only the shown text
//! can be formatted (`Display` and `Debug` both give it), so a message, JSON field or log line
//! built from a [`Filled`] cannot carry the value; the sent text is read with
//! [`Filled::expose`], at the places a request is made, so a grep finds every one.

use std::fmt;

use secrecy::{ExposeSecret as _, SecretString};

use crate::config::Template;

/// The field as the config wrote it: `secret:NAME` in place of the value.
pub fn shown(template: &Template) -> String {
    match &template.secret {
        Some(name) => format!("secret:{name}{}", template.rest),
        None => template.rest.clone(),
    }
}

/// Text for a registry request, and the redacted form that stands for it everywhere else.
#[derive(Clone)]
pub struct Filled {
    sent: SecretString,
    shown: String,
    /// The secret's own value and `secret:NAME`, to scrub it from what a server echoes.
    secret: Option<(SecretString, String)>,
}

impl Filled {
    /// Literal text from the config: sent and shown alike.
    pub fn literal(text: &str) -> Filled {
        Filled {
            sent: SecretString::from(text),
            shown: text.to_string(),
            secret: None,
        }
    }

    /// `template` with `value`, the value of the secret it names (empty when it names none).
    pub fn new(template: &Template, value: Option<&SecretString>) -> Filled {
        let Some(name) = &template.secret else {
            return Filled::literal(&template.rest);
        };
        let value = value.map_or("", |v| v.expose_secret());
        Filled {
            sent: SecretString::from(format!("{value}{}", template.rest)),
            shown: shown(template),
            secret: Some((SecretString::from(value), format!("secret:{name}"))),
        }
    }

    /// The text to send. Never format it: show the `Filled` itself.
    pub fn expose(&self) -> &str {
        self.sent.expose_secret()
    }

    /// Whether the text holds a secret's value.
    pub fn is_secret(&self) -> bool {
        self.secret.is_some()
    }

    /// The secret's value and its `secret:NAME`, if the text holds one.
    pub(crate) fn secret(&self) -> Option<(&str, &str)> {
        self.secret
            .as_ref()
            .map(|(value, name)| (value.expose_secret(), name.as_str()))
    }
}

impl fmt::Display for Filled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for Filled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.shown, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(secret: Option<&str>, rest: &str) -> Template {
        Template {
            secret: secret.map(str::to_string),
            rest: rest.to_string(),
        }
    }

    #[test]
    fn only_the_shown_form_can_be_formatted() {
        let value = SecretString::from("acme-canary-ns");
        let filled = Filled::new(&template(Some("NS"), "/frontend"), Some(&value));
        assert_eq!(filled.expose(), "acme-canary-ns/frontend");
        assert_eq!(filled.to_string(), "secret:NS/frontend");
        assert_eq!(format!("{filled:?}"), "\"secret:NS/frontend\"");
        assert_eq!(filled.secret(), Some(("acme-canary-ns", "secret:NS")));
        let literal = Filled::new(&template(None, "reg.example"), Some(&value));
        assert_eq!(literal.expose(), "reg.example");
        assert_eq!(literal.to_string(), "reg.example");
        assert!(!literal.is_secret());
        let missing = Filled::new(&template(Some("NS"), "/x"), None);
        assert_eq!(
            (missing.expose(), missing.to_string()),
            ("/x", "secret:NS/x".into())
        );
    }
}
