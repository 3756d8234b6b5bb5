//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1), parsed without trusting the server:
//! quoted strings with commas and escaped quotes, case-insensitive schemes and parameter names,
//! several challenges in one header, and `token68` credentials. A pure function of its input, so
//! it can be fuzzed; it never panics, whatever the bytes.

/// One challenge: its scheme (lower case) and parameters (names lower case, values as sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The auth scheme, lower case: `basic`, `bearer`, ...
    pub scheme: String,
    /// `name=value` pairs in the order sent, names lower case, quoted values unescaped. A name
    /// sent twice keeps its first value.
    pub params: Vec<(String, String)>,
    /// A `token68` credential (`Negotiate abc==`), when the challenge has one instead of params.
    pub token68: Option<String>,
}

impl Challenge {
    /// The value of parameter `name` (matched case-insensitively).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the scheme is `scheme` (case-insensitively).
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }
}

/// The first challenge in a `WWW-Authenticate` value, or `None` when the value is empty or
/// malformed.
pub fn parse_www_authenticate(header: &str) -> Option<Challenge> {
    parse_challenges(header).into_iter().next()
}

/// Every challenge in a `WWW-Authenticate` value, in order. A malformed value gives the
/// challenges before the fault, or none when the fault is inside the first.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut parser = Parser {
        s: header.as_bytes(),
        pos: 0,
    };
    let mut out = Vec::new();
    while let Some(challenge) = parser.challenge() {
        out.push(challenge);
    }
    out
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 `token68` characters, before its trailing `=`s.
fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_ws_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn text(&self, from: usize, to: usize) -> String {
        String::from_utf8_lossy(&self.s[from..to]).into_owned()
    }

    fn token(&mut self) -> Option<String> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        (self.pos > start).then(|| self.text(start, self.pos))
    }

    /// An unquoted value. RFC 9110 allows only a token; servers also send bare URLs
    /// (`realm=https://a/token`), so everything up to a comma, a space or a quote is taken.
    fn bare_value(&mut self) -> Option<String> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| !matches!(b, b',' | b' ' | b'\t' | b'"'))
        {
            self.pos += 1;
        }
        (self.pos > start).then(|| self.text(start, self.pos))
    }

    /// A quoted string starting at `"`, unescaped; `None` when it never ends.
    fn quoted(&mut self) -> Option<String> {
        debug_assert_eq!(self.peek(), Some(b'"'));
        self.pos += 1;
        let mut bytes = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(String::from_utf8_lossy(&bytes).into_owned());
                }
                b'\\' => {
                    self.pos += 1;
                    bytes.push(self.peek()?);
                    self.pos += 1;
                }
                b => {
                    bytes.push(b);
                    self.pos += 1;
                }
            }
        }
    }

    /// After `scheme 1*SP`: a token68 when what follows is one (trailing `=`s, then the end or a
    /// comma). Restores the position otherwise.
    fn token68(&mut self) -> Option<String> {
        let start = self.pos;
        while self.peek().is_some_and(is_token68_char) {
            self.pos += 1;
        }
        if self.pos == start {
            return None;
        }
        while self.peek() == Some(b'=') {
            self.pos += 1;
        }
        let end = self.pos;
        self.skip_ws();
        if matches!(self.peek(), None | Some(b',')) {
            return Some(self.text(start, end));
        }
        self.pos = start;
        None
    }

    /// One `name = value` parameter; restores the position and gives `None` when the next item
    /// is not one (it is then the next challenge's scheme, or garbage).
    fn param(&mut self) -> Option<(String, String)> {
        let start = self.pos;
        let Some(name) = self.token() else {
            self.pos = start;
            return None;
        };
        self.skip_ws();
        if self.peek() != Some(b'=') {
            self.pos = start;
            return None;
        }
        self.pos += 1;
        self.skip_ws();
        let value = match self.peek() {
            Some(b'"') => self.quoted(),
            _ => self.bare_value(),
        };
        match value {
            Some(value) => Some((name.to_ascii_lowercase(), value)),
            None => {
                self.pos = start;
                None
            }
        }
    }

    fn challenge(&mut self) -> Option<Challenge> {
        self.skip_ws_and_commas();
        let scheme = self.token()?.to_ascii_lowercase();
        let mut challenge = Challenge {
            scheme,
            params: Vec::new(),
            token68: None,
        };
        match self.peek() {
            None => return Some(challenge),
            Some(b' ' | b'\t') => {}
            Some(b',') => {
                self.pos += 1;
                return Some(challenge);
            }
            // `Basic"x"` or `Basic=`: not a challenge; stop here.
            Some(_) => return None,
        }
        self.skip_ws();
        if let Some(t68) = self.token68() {
            challenge.token68 = Some(t68);
            return Some(challenge);
        }
        loop {
            self.skip_ws_and_commas();
            if self.peek().is_none() {
                return Some(challenge);
            }
            let save = self.pos;
            if let Some((name, value)) = self.param() {
                if challenge.param(&name).is_none() {
                    challenge.params.push((name, value));
                }
                self.skip_ws();
                match self.peek() {
                    None => return Some(challenge),
                    Some(b',') => continue,
                    // Two parameters with no comma between them.
                    Some(_) => return self.fail(),
                }
            }
            // Not a parameter: the next challenge's scheme (a token followed by a space, a
            // comma or the end), or a fault (`realm=`, an unterminated quote, garbage).
            if self.token().is_some() && matches!(self.peek(), None | Some(b' ' | b'\t' | b',')) {
                self.pos = save;
                return Some(challenge);
            }
            return self.fail();
        }
    }

    /// A fault inside a challenge: drop it, and stop parsing.
    fn fail(&mut self) -> Option<Challenge> {
        self.pos = self.s.len();
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(h: &str) -> Challenge {
        parse_www_authenticate(h).unwrap_or_else(|| panic!("parses: {h}"))
    }

    #[test]
    fn basic() {
        let c = one(r#"Basic realm="Registry Realm""#);
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.param("realm"), Some("Registry Realm"));
        assert!(c.is("BASIC"));
    }

    #[test]
    fn bearer_with_scope_containing_commas() {
        let c = one(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:acme/app:pull,push",error="insufficient_scope""#,
        );
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://auth.example.com/token"));
        assert_eq!(c.param("service"), Some("registry.example.com"));
        assert_eq!(c.param("scope"), Some("repository:acme/app:pull,push"));
        assert_eq!(c.param("error"), Some("insufficient_scope"));
    }

    #[test]
    fn case_insensitive_scheme_and_keys() {
        let c = one(r#"bEaReR REALM="u", Service="s""#);
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("u"));
        assert_eq!(c.param("SERVICE"), Some("s"));
        assert_eq!(c.params[0].0, "realm");
    }

    #[test]
    fn escaped_quotes_and_backslashes() {
        let c = one(r#"Basic realm="say \"hi\", then \\ leave""#);
        assert_eq!(c.param("realm"), Some(r#"say "hi", then \ leave"#));
    }

    #[test]
    fn unquoted_values_and_whitespace_around_equals() {
        let c = one("Bearer realm = https://a/token , service=reg.io,\tscope=x");
        assert_eq!(c.param("realm"), Some("https://a/token"));
        assert_eq!(c.param("service"), Some("reg.io"));
        assert_eq!(c.param("scope"), Some("x"));
    }

    #[test]
    fn empty_quoted_value_and_duplicates_keep_first() {
        let c = one(r#"Basic realm="", realm="second""#);
        assert_eq!(c.param("realm"), Some(""));
        assert_eq!(c.params.len(), 1);
    }

    #[test]
    fn several_challenges() {
        let all = parse_challenges(
            r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
        );
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].scheme, "newauth");
        assert_eq!(all[0].param("title"), Some(r#"Login to "apps""#));
        assert_eq!(all[0].param("type"), Some("1"));
        assert_eq!(all[1].scheme, "basic");
        assert_eq!(all[1].param("realm"), Some("simple"));
    }

    #[test]
    fn bare_schemes_and_token68() {
        let all = parse_challenges("Negotiate, Basic realm=x, NTLM abc+/def==");
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].scheme, "negotiate");
        assert!(all[0].params.is_empty());
        assert_eq!(all[1].param("realm"), Some("x"));
        assert_eq!(all[2].token68.as_deref(), Some("abc+/def=="));
        assert_eq!(one("Bearer").scheme, "bearer");
    }

    #[test]
    fn malformed_is_none_or_partial() {
        for h in [
            "",
            "   ",
            ",,,",
            "=",
            r#""Basic""#,
            "Basic=",
            r#"Basic"x""#,
            r#"Basic realm="never ends"#,
            "Basic realm=a,=b",
            "Basic ===",
            "Basic @@@",
        ] {
            assert_eq!(parse_www_authenticate(h), None, "{h:?}");
        }
        // `realm=` alone is a token68 by the grammar.
        assert_eq!(one("Basic realm=").token68.as_deref(), Some("realm="));
        // A fault after a good challenge keeps the good one.
        let all = parse_challenges(r#"Basic realm="a", Bearer realm="b"#);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].param("realm"), Some("a"));
        // Missing comma between parameters: the challenge is malformed.
        assert_eq!(
            parse_www_authenticate(r#"Bearer realm="a" service="b""#),
            None
        );
        let all = parse_challenges(r#"Basic realm="a", Bearer realm="b" service="c""#);
        assert_eq!(all.len(), 1);
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        let samples = [
            "Basic realm=\"é\\",
            "Bearer realm=\"ü\\é\", service=\"\u{0}\"",
            "ß realm=x",
            "Basic realm=\"a\"\u{1F600}",
            "Basic \\",
            "Basic realm=\"\\\"",
            "\t,Bearer\t,\t",
        ];
        for s in samples {
            let _ = parse_challenges(s);
        }
        // Every prefix of a rich header, cut at any char boundary.
        let rich = r#"Bearer realm="https://a/t?x=1,2",service="s \"q\"",scope="repository:a/b:pull,push", Basic realm=é"#;
        for (i, _) in rich.char_indices() {
            let _ = parse_challenges(&rich[..i]);
        }
        assert_eq!(
            one("Basic realm=\"\u{e9}t\u{e9}\"").param("realm"),
            Some("\u{e9}t\u{e9}")
        );
    }
}
