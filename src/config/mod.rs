//! The config file: which secrets must exist, where their values come from, and which repositories
//! carry them. Parsing and every rule that needs no network happen here, once; the rest of the
//! program sees only the validated [`Config`].

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::source::{parse_timeout, CommandSource, Source};

pub use crate::scope::{App, Repo, Scope, Visibility};

mod checks;
mod limits;
pub use limits::Budget;
mod rules;
mod store;
mod targets;
pub use checks::{CheckDecl, Template};
pub use rules::{value_problems, Class, Rules};
pub use store::{Store, STATE_VARIABLE};
pub use targets::{Access, Place, Target};

/// A config larger than this is refused before parsing: no sane config is that big.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
pub const DEFAULT_API_URL: &str = "https://api.github.com";
pub const DEFAULT_FILE: &str = "secretsync.toml";

/// A validated config.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub api_url: ApiUrl,
    /// Where the token comes from, before the usual `GH_TOKEN`/`GITHUB_TOKEN`/`gh` fallbacks.
    pub token: Vec<Source>,
    /// Keyed by the name as GitHub stores it: upper case.
    pub secrets: BTreeMap<String, Decl>,
    pub variables: BTreeMap<String, Decl>,
    pub targets: Vec<Target>,
    /// Registry credentials to try before writing (`[[checks]]`).
    pub checks: Vec<CheckDecl>,
    /// Where the record of applied values is kept (`[state]`).
    pub store: Store,
    /// The server's secondary limits (`[github.limits]`).
    pub limits: Budget,
}

/// A declared secret or variable: its name and where its value comes from.
#[derive(Debug, Clone)]
pub struct Decl {
    /// "secret" or "variable", for messages.
    pub kind: &'static str,
    pub name: String,
    pub chain: Vec<Source>,
    pub allow_empty: bool,
    pub rules: Rules,
    pub line: usize,
}

/// The API base URL, without a trailing slash. Only `https`, or `http` on a loopback address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUrl {
    url: String,
    host: String,
}

impl ApiUrl {
    pub fn parse(text: &str) -> Result<ApiUrl, String> {
        let fix = "use `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise";
        let uri: http::Uri = text
            .parse()
            .map_err(|_| format!("`api_url` is not a valid URL; {fix}"))?;
        let authority = uri
            .authority()
            .ok_or_else(|| format!("`api_url` has no host; {fix}"))?;
        if authority.as_str().contains('@') {
            return Err(format!(
                "`api_url` must not carry credentials; put the token in GH_TOKEN instead ({fix})"
            ));
        }
        if uri.query().is_some() || text.contains('#') {
            return Err(format!(
                "`api_url` must not have a query or a `#` fragment; {fix}"
            ));
        }
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if is_loopback(authority.host()) => {}
            Some("http") => {
                return Err(format!(
                    "`api_url` uses plain http on a non-loopback host, which would send the token \
                     unencrypted; {fix}"
                ))
            }
            _ => return Err(format!("`api_url` must start with https://; {fix}")),
        }
        let url = text.trim_end_matches('/').to_string();
        Ok(ApiUrl {
            url,
            host: authority.as_str().to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// `host[:port]`, which names the state file's folder.
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl fmt::Display for ApiUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// `localhost`, 127.0.0.0/8 or `::1` (with or without brackets): hosts where plain http is
/// allowed, for `api_url` here and for a registry in `[[checks]]`.
pub(crate) fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A config problem: the file, the line when known, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<usize>,
    /// The column, where the TOML reader knows it.
    pub column: Option<usize>,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no config file at `{path}`; create one with `secretsync init`, or pass --config PATH"
    )]
    Missing { path: PathBuf },
    #[error("cannot read config `{path}`: {reason}; {hint}")]
    Unreadable {
        path: PathBuf,
        reason: String,
        hint: &'static str,
    },
    #[error("config `{path}` is {size} bytes, over the {MAX_CONFIG_BYTES}-byte limit; is this the right file?")]
    TooLarge { path: PathBuf, size: u64 },
    #[error("{}", render_problems(.path, .problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

fn render_problems(path: &Path, problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| match (p.line, p.column) {
            (Some(line), Some(column)) => {
                format!("{}:{line}:{column}: {}", path.display(), p.message)
            }
            (Some(line), None) => format!("{}:{line}: {}", path.display(), p.message),
            _ => format!("{}: {}", path.display(), p.message),
        })
        .collect::<Vec<_>>()
        .join("\nerror: ")
}

/// Where the config is: `--config`, else `$SECRETSYNC_CONFIG`, else `./secretsync.toml`.
pub fn locate(flag: Option<&Path>, env: Option<std::ffi::OsString>) -> PathBuf {
    match (flag, env) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some(var)) if !var.is_empty() => PathBuf::from(var),
        _ => PathBuf::from(DEFAULT_FILE),
    }
}

pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ConfigError::Missing {
            path: path.to_path_buf(),
        },
        _ => unreadable(path, &e),
    })?;
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(path, &e))?;
    // `file` sources are relative to the real config's folder, not to a link's: a config linked
    // from elsewhere (a dotfiles checkout) keeps its value files beside it.
    let real = std::fs::canonicalize(path).map_err(|e| unreadable(path, &e))?;
    let base = real.parent().unwrap_or(Path::new("."));
    parse(&text, path, base).map_err(|problems| ConfigError::Invalid {
        path: path.to_path_buf(),
        problems,
    })
}

/// The fix depends on the cause: the path was given, so naming --config again would not help.
fn unreadable(path: &Path, e: &std::io::Error) -> ConfigError {
    use std::io::ErrorKind;
    let hint = match e.kind() {
        ErrorKind::PermissionDenied => "check its permissions: you must be able to read it",
        ErrorKind::IsADirectory => {
            "that is a folder; pass the config file in it, e.g. --config FOLDER/secretsync.toml"
        }
        ErrorKind::NotADirectory => "a part of that path is a file, not a folder; check the path",
        ErrorKind::InvalidData => "check that it is the config: it must be UTF-8 text",
        _ => "check the path and its permissions",
    };
    ConfigError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
        hint,
    }
}

/// Parse and validate config text; `base` is the folder that relative `file` paths start from.
pub fn parse(text: &str, path: &Path, base: &Path) -> Result<Config, Vec<Problem>> {
    let raw: RawConfig =
        toml::from_str(text).map_err(|e| vec![syntax_problem(text, &Lines::new(text), &e)])?;
    Validator {
        lines: Lines::new(text),
        declarations_failed: false,
        base,
        problems: Vec::new(),
        token_vars: Vec::new(),
    }
    .validate(raw, path)
}

// ---- raw file shape -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    github: Option<RawGithub>,
    #[serde(default)]
    secrets: BTreeMap<Spanned<String>, Spanned<RawSecret>>,
    #[serde(default)]
    variables: BTreeMap<Spanned<String>, Spanned<RawSecret>>,
    #[serde(default)]
    targets: Vec<Spanned<targets::RawTarget>>,
    #[serde(default)]
    checks: Vec<Spanned<checks::RawCheck>>,
    state: Option<Spanned<store::RawState>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGithub {
    api_url: Option<Spanned<String>>,
    token: Option<Spanned<RawSource>>,
    limits: Option<limits::RawLimits>,
}

// The source keys repeat `RawSource` because serde cannot combine `flatten` with
// `deny_unknown_fields`, and unknown keys must stay errors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecret {
    env: Option<String>,
    keyring: Option<RawKeyring>,
    prompt: Option<String>,
    confirm: Option<bool>,
    remember: Option<bool>,
    value: Option<String>,
    file: Option<String>,
    command: Option<Vec<String>>,
    timeout: Option<String>,
    dotenv: Option<RawDotenv>,
    from: Option<Vec<Spanned<RawSource>>>,
    #[serde(default)]
    allow_empty: bool,
    min_length: Option<usize>,
    pattern: Option<String>,
    require: Option<Vec<String>>,
    no_surrounding_whitespace: Option<bool>,
    #[allow(dead_code)]
    description: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSource {
    env: Option<String>,
    keyring: Option<RawKeyring>,
    prompt: Option<String>,
    confirm: Option<bool>,
    remember: Option<bool>,
    value: Option<String>,
    file: Option<String>,
    command: Option<Vec<String>>,
    timeout: Option<String>,
    dotenv: Option<RawDotenv>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDotenv {
    file: String,
    key: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawKeyring {
    service: String,
    user: String,
}

const SOURCE_KEYS: &str = "`env`, `keyring`, `prompt`, `value`, `file`, `dotenv` or `command`";

// ---- errors from toml/serde, made actionable ---------------------------------------------

/// Where each line starts, so that an offset's line is a binary search, not a count from the
/// start (which made validating a large config quadratic).
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { starts }
    }

    /// The 1-based line and column of a byte offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        let index = self.starts.partition_point(|start| *start <= offset).max(1) - 1;
        (index + 1, offset - self.starts[index] + 1)
    }

    fn line(&self, offset: usize) -> usize {
        self.position(offset).0
    }
}

fn syntax_problem(text: &str, lines: &Lines, err: &toml::de::Error) -> Problem {
    let position = err.span().map(|span| lines.position(span.start));
    let message = err.message().trim().replace('\n', " ");
    // The key on the line in question, which TOML's own messages often leave out.
    let key = err.span().and_then(|span| key_at(text, span.start));
    Problem {
        line: position.map(|p| p.0),
        column: position.map(|p| p.1),
        message: improve_message(&message, key.as_deref()),
    }
}

/// The key of a `key = value` line, or the name of a `[table]` header, around `offset`.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let end = text
        .get(offset..)?
        .find('\n')
        .map_or(text.len(), |i| offset + i);
    let line = text.get(start..end)?.trim();
    if let Some(header) = line.strip_prefix('[') {
        return Some(
            header
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string(),
        );
    }
    let (key, _) = line.split_once('=')?;
    Some(key.trim().to_string())
}

/// TOML's and serde's messages, in the config's own words and with a fix. serde says "unknown
/// field `x`, expected one of `a`, `b`": that gets the nearest valid key.
fn improve_message(message: &str, key: Option<&str>) -> String {
    let named = key.map(|k| format!("`{k}` ")).unwrap_or_default();
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return plain_message(message, &named, key);
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let mut valid: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty())
        .collect();
    // A single source's keys (a `from` chain has `from` itself). On the token's line, only the
    // kinds a token may come from are worth offering: the others are refused next.
    let single_source = valid.contains(&"remember") && !valid.contains(&"from");
    if single_source && key == Some("token") {
        valid.retain(|k| TOKEN_KEYS.contains(k));
    }
    if single_source && unknown == "from" {
        return "unknown key `from`: a `from` chain goes directly in a `[secrets.NAME]` or \
                `[variables.NAME]` table; `[github] token` takes one source: use `env`, \
                `keyring`, `file` or `command`"
            .into();
    }
    let key = unknown;
    let listing = listing(&valid);
    match nearest(key, valid.iter().copied()) {
        Some(best) => {
            format!("unknown key `{key}`; did you mean `{best}`? (valid keys: {listing})")
        }
        None => format!("unknown key `{key}`; valid keys: {listing}"),
    }
}

/// The sources a token may come from: a literal would sit in the file, and a prompt would stop
/// every run.
const TOKEN_KEYS: [&str; 4] = ["env", "keyring", "file", "command"];

fn listing(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

const TOKEN_NOT_A_TABLE: &str = "`token` must be a table naming where the token comes from, e.g. `token = { env = \"MY_TOKEN\" }` (or `keyring`, `file`, `command`)";

fn plain_message(message: &str, named: &str, key: Option<&str>) -> String {
    if message.contains("untagged enum RawRepos") {
        return "`repos` must be a list such as `[\"owner/a\", \"owner/b\"]`, or `{ org = \"o\", match = \"glob\" }` (check the key names: `org`, `match`)".into();
    }
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        return format!("missing key `{field}`; add `{field} = ...` to this table");
    }
    if message.starts_with("duplicate key") {
        return match key {
            Some(k) => format!("duplicate key `{k}`; keep one, or merge the two"),
            None => "duplicate key; keep one, or merge the two".into(),
        };
    }
    if message.contains("expected a sequence") && key.is_some_and(|k| k.contains("targets")) {
        return "`[targets]` must be written `[[targets]]` (two brackets): targets are a list of tables".into();
    }
    if message.contains("expected struct RawSource") && key == Some("token") {
        return TOKEN_NOT_A_TABLE.into();
    }
    let wanted = [
        (
            "expected struct RawSource",
            "must be a table naming one source, e.g. `{ env = \"VAR\" }`",
        ),
        (
            "expected struct RawKeyring",
            "must be a table, e.g. `{ service = \"secretsync\", user = \"name\" }`",
        ),
        (
            "expected struct Raw",
            "must be a table, e.g. `[secrets.NAME]` with `env = \"VAR\"`",
        ),
        (
            "expected a map",
            "must be a table; use `[section.NAME]` tables",
        ),
        (
            "expected a sequence",
            "must be a list, as in `[\"a\", \"b\"]`",
        ),
        (
            "expected a string",
            "must be a string: quote it, as in `\"text\"`",
        ),
        ("expected a boolean", "must be `true` or `false`"),
        ("expected usize", "must be a whole number, 0 or more"),
        ("expected u32", "must be a whole number, 0 or more"),
        ("expected u64", "must be a whole number, 0 or more"),
        ("expected i64", "must be a whole number, e.g. `100`"),
    ];
    if let Some((_, fix)) = wanted.iter().find(|(needle, _)| message.contains(needle)) {
        return format!("{named}{fix}");
    }
    if message.contains("string") || message.contains("\"") {
        return format!("{message}; close the string with a matching quote");
    }
    if message.contains("array") || message.contains(']') {
        return format!("{message}; close the list with `]`");
    }
    format!("{message}; check the TOML syntax here")
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| {
            (
                strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

// ---- validation -------------------------------------------------------------------------

struct Validator<'a> {
    lines: Lines,
    /// Some `[secrets.*]` or `[variables.*]` table was refused.
    declarations_failed: bool,
    base: &'a Path,
    problems: Vec<Problem>,
    /// Variables the config's token comes from, kept from `command` sources as GH_TOKEN is.
    token_vars: Vec<String>,
}

impl Validator<'_> {
    fn problem(&mut self, offset: Option<usize>, message: String) {
        let line = offset.map(|o| self.lines.line(o));
        self.problems.push(Problem {
            line,
            column: None,
            message,
        });
    }

    fn validate(mut self, mut raw: RawConfig, path: &Path) -> Result<Config, Vec<Problem>> {
        let limits = self.github_limits(raw.github.as_mut().and_then(|g| g.limits.take()));
        let (api_url, token) = self.github(raw.github);
        self.token_vars = token
            .iter()
            .filter_map(|source| match source {
                Source::Env(var) => Some(var.clone()),
                _ => None,
            })
            .collect();
        let secrets = self.declarations(raw.secrets, "secret");
        let variables = self.declarations(raw.variables, "variable");
        self.declarations_failed = !self.problems.is_empty();
        if secrets.is_empty() && variables.is_empty() && self.problems.is_empty() {
            self.problem(
                None,
                "declares nothing; add a `[secrets.NAME]` or `[variables.NAME]` table for each"
                    .into(),
            );
        }
        let targets = self.targets(raw.targets, &secrets, &variables);
        let checks = self.checks(raw.checks, &secrets);
        let store = self.store(raw.state);
        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        Ok(Config {
            path: path.to_path_buf(),
            api_url,
            token,
            secrets,
            variables,
            targets,
            checks,
            store,
            limits,
        })
    }

    fn github(&mut self, raw: Option<RawGithub>) -> (ApiUrl, Vec<Source>) {
        let default = || ApiUrl::parse(DEFAULT_API_URL).expect("the default API URL is valid");
        let Some(raw) = raw else {
            return (default(), Vec::new());
        };
        let api_url = match raw.api_url {
            None => default(),
            Some(spanned) => match ApiUrl::parse(spanned.get_ref()) {
                Ok(url) => url,
                Err(message) => {
                    self.problem(Some(spanned.span().start), message);
                    default()
                }
            },
        };
        let token = match raw.token {
            None => Vec::new(),
            Some(spanned) => {
                let at = Some(spanned.span().start);
                // "token" is only a placeholder key: a dotenv token is refused just below.
                match self.source(spanned.into_inner(), at, ("`[github] token`", "token")) {
                    Some(Source::Prompt { .. } | Source::Value(_) | Source::Dotenv { .. }) => {
                        self.problem(
                            at,
                            "`[github] token` must come from `env`, `keyring`, `file` or \
                             `command`; a literal or prompt token, or one from a `.env` file, is not supported"
                                .into(),
                        );
                        Vec::new()
                    }
                    Some(source) => vec![source],
                    None => Vec::new(),
                }
            }
        };
        (api_url, token)
    }

    /// `[secrets.*]` or `[variables.*]` (`kind` says which, for messages).
    fn declarations(
        &mut self,
        raw: BTreeMap<Spanned<String>, Spanned<RawSecret>>,
        kind: &'static str,
    ) -> BTreeMap<String, Decl> {
        let mut secrets: BTreeMap<String, Decl> = BTreeMap::new();
        for (name, secret) in raw {
            let at = Some(secret.span().start);
            let line = self.lines.line(secret.span().start);
            let name = name.into_inner();
            if let Err(message) = check_name(&name, kind) {
                self.problem(at, message);
                continue;
            }
            let upper = name.to_ascii_uppercase();
            if kind == "variable" && upper == STATE_VARIABLE {
                let message = format!(
                    "variable `{name}` is the name secretsync keeps its shared record under \
                     (`[state] store = \"github\"`); pick another name"
                );
                self.problem(at, message);
                continue;
            }
            if let Some(other) = secrets.get(&upper) {
                let message = format!(
                    "{kind} `{name}` is the same as `{}` on line {} (GitHub names ignore case); \
                     keep one",
                    other.name, other.line
                );
                self.problem(at, message);
                continue;
            }
            let decl =
                self.declaration(kind, (&name, upper.clone()), secret.into_inner(), at, line);
            secrets.insert(upper, decl);
        }
        secrets
    }

    /// One declaration's sources and rules; `names` are as written (for messages) and as kept.
    fn declaration(
        &mut self,
        kind: &'static str,
        (written, name): (&str, String),
        secret: RawSecret,
        at: Option<usize>,
        line: usize,
    ) -> Decl {
        let shorthand = RawSource {
            env: secret.env,
            keyring: secret.keyring,
            prompt: secret.prompt,
            confirm: secret.confirm,
            remember: secret.remember,
            value: secret.value,
            file: secret.file,
            command: secret.command,
            timeout: secret.timeout,
            dotenv: secret.dotenv,
        };
        let what = format!("{kind} `{written}`");
        let raw_rules = rules::RawRules {
            min_length: secret.min_length,
            pattern: secret.pattern,
            require: secret.require,
            no_surrounding_whitespace: secret.no_surrounding_whitespace,
        };
        let rules = self.rules(raw_rules, &what, at);
        let chain = self.chain(secret.from, shorthand, (&what, written), at);
        let remembers = chain
            .iter()
            .any(|s| matches!(s, Source::Prompt { remember: true, .. }));
        if remembers && !chain.iter().any(|s| matches!(s, Source::Keyring { .. })) {
            self.problem(
                at,
                format!("{what}: `remember = true` needs a `keyring` source in the same `from` chain to store the typed value in"),
            );
        }
        Decl {
            kind,
            name,
            chain,
            allow_empty: secret.allow_empty,
            rules,
            line,
        }
    }

    /// The `from` chain, or the single source written in the declaration itself; `named` is the
    /// declaration for messages and its name as written, the key a `dotenv` source defaults to.
    fn chain(
        &mut self,
        from: Option<Vec<Spanned<RawSource>>>,
        shorthand: RawSource,
        named: (&str, &str),
        at: Option<usize>,
    ) -> Vec<Source> {
        let what = named.0;
        let Some(from) = from else {
            if shorthand.is_empty() {
                self.problem(
                    at,
                    format!("{what} has no source; add one of {SOURCE_KEYS}, or `from = [...]`"),
                );
                return Vec::new();
            }
            return self.source(shorthand, at, named).into_iter().collect();
        };
        if !shorthand.is_empty() {
            self.problem(
                at,
                format!("{what} has both `from` and a single source; keep one"),
            );
        }
        if from.is_empty() {
            self.problem(at, format!("{what} has an empty `from`; list a source"));
        }
        let mut chain: Vec<Source> = Vec::new();
        for raw in from {
            let at = Some(raw.span().start);
            if let Some(last) = chain.last().filter(|last| ends_a_chain(last)) {
                let kind = last.kind().as_str();
                self.problem(
                    at,
                    format!("{what}: this source is never reached, since the `{kind}` before it always gives a value or fails; put it before the `{kind}`, or remove it"),
                );
            }
            chain.extend(self.source(raw.into_inner(), at, named));
        }
        chain
    }

    fn source(
        &mut self,
        raw: RawSource,
        at: Option<usize>,
        (what, name): (&str, &str),
    ) -> Option<Source> {
        if raw.confirm.is_some() && raw.prompt.is_none() {
            self.problem(at, format!("{what}: `confirm` goes only with `prompt`"));
        }
        if raw.remember.is_some() && raw.prompt.is_none() {
            self.problem(at, format!("{what}: `remember` goes only with `prompt`"));
        }
        if raw.timeout.is_some() && raw.command.is_none() {
            self.problem(at, format!("{what}: `timeout` goes only with `command`"));
        }
        let mut found = Vec::new();
        if let Some(var) = raw.env {
            found.push(Source::Env(var));
        }
        if let Some(k) = raw.keyring {
            found.push(Source::Keyring {
                service: k.service,
                user: k.user,
            });
        }
        if let Some(label) = raw.prompt {
            found.push(Source::Prompt {
                label,
                confirm: raw.confirm.unwrap_or(false),
                remember: raw.remember.unwrap_or(false),
            });
        }
        if let Some(value) = raw.value {
            found.push(Source::Value(value));
        }
        if let Some(file) = raw.file {
            found.push(Source::File(self.base.join(file)));
        }
        if let Some(dotenv) = raw.dotenv {
            found.push(self.dotenv(dotenv, at, (what, name))?);
        }
        if let Some(argv) = raw.command {
            found.push(Source::Command(self.command(
                argv,
                raw.timeout,
                at,
                what,
            )?));
        }
        match found.len() {
            1 => found.pop(),
            0 => {
                self.problem(at, format!("{what}: a source needs one of {SOURCE_KEYS}"));
                None
            }
            _ => {
                let kinds: Vec<&str> = found.iter().map(|s| s.kind().as_str()).collect();
                self.problem(
                    at,
                    format!(
                        "{what}: one source has several kinds ({}); to fall back from one to \
                         another, use `from = [{{ ... }}, {{ ... }}]`",
                        kinds.join(", ")
                    ),
                );
                None
            }
        }
    }

    /// `dotenv = { file, key }`: an empty key or file would only ever say "not found".
    fn dotenv(
        &mut self,
        raw: RawDotenv,
        at: Option<usize>,
        (what, name): (&str, &str),
    ) -> Option<Source> {
        let key = raw.key.unwrap_or_else(|| name.to_owned());
        if raw.file.is_empty() || key.is_empty() {
            self.problem(
                at,
                format!("{what}: `dotenv` needs a `file` and a `key`, as in `dotenv = {{ file = \".env\", key = \"NAME\" }}`"),
            );
            return None;
        }
        Some(Source::Dotenv {
            path: self.base.join(raw.file),
            key,
        })
    }

    /// `command = [...]`, with its `timeout`, kept from the variables the token comes from.
    fn command(
        &mut self,
        argv: Vec<String>,
        timeout: Option<String>,
        at: Option<usize>,
        what: &str,
    ) -> Option<CommandSource> {
        if argv.first().is_none_or(|p| p.is_empty()) {
            self.problem(
                at,
                format!("{what}: `command` needs a program, as in `command = [\"pass\", \"show\", \"x\"]`"),
            );
            return None;
        }
        let mut command = CommandSource::new(argv);
        if let Some(text) = timeout {
            match parse_timeout(&text) {
                Ok(timeout) => command.timeout = timeout,
                Err(message) => self.problem(at, format!("{what}: {message}")),
            }
        }
        command.hidden_env = self.token_vars.clone();
        Some(command)
    }
}

impl RawSource {
    fn is_empty(&self) -> bool {
        self.env.is_none()
            && self.keyring.is_none()
            && self.prompt.is_none()
            && self.confirm.is_none()
            && self.remember.is_none()
            && self.value.is_none()
            && self.file.is_none()
            && self.command.is_none()
            && self.timeout.is_none()
            && self.dotenv.is_none()
    }
}

/// GitHub's naming rules for secrets and variables; `kind` names which, for messages.
pub fn check_name(name: &str, kind: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!(
            "a {kind} name is empty; give it a name of letters, digits and `_`"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(format!(
            "{kind} name `{name}` has `{bad}`; names may use only letters, digits and `_`"
        ));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "{kind} name `{name}` starts with a digit, which GitHub refuses; rename it"
        ));
    }
    if name.to_ascii_uppercase().starts_with("GITHUB_") {
        return Err(format!(
            "{kind} name `{name}` starts with `GITHUB_`, which GitHub reserves; rename it"
        ));
    }
    Ok(())
}

/// A literal always gives its value, and a command gives one or fails the run (a failing
/// password manager must not fall through to an old value), so nothing after either is read.
fn ends_a_chain(source: &Source) -> bool {
    matches!(source, Source::Value(_) | Source::Command(_))
}

#[cfg(test)]
mod tests;

/// The config `text` as read from `t.toml` in `/base`, for tests; any problem panics, listed.
#[cfg(test)]
pub(crate) fn parsed(text: &str) -> Config {
    parse(text, Path::new("t.toml"), Path::new("/base"))
        .unwrap_or_else(|problems| panic!("unexpected problems: {problems:?}"))
}
