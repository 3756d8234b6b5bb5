//! The config file: which secrets must exist, where their values come from, and which repositories
//! carry them. Parsing and every rule that needs no network happen here, once; the rest of the
//! program sees only the validated [`Config`].

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::source::Source;

/// GitHub's documented limit of secrets in one repository.
pub const MAX_SECRETS_PER_REPO: usize = 100;
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
    pub secrets: BTreeMap<String, SecretDecl>,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone)]
pub struct SecretDecl {
    pub name: String,
    pub chain: Vec<Source>,
    pub allow_empty: bool,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub repo: Repo,
    /// The declared names this target carries, sorted.
    pub secrets: Vec<String>,
    pub line: usize,
}

/// `owner/name` of a repository.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Repo {
    pub owner: String,
    pub name: String,
}

impl fmt::Display for Repo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

impl Repo {
    pub fn parse(text: &str) -> Option<Repo> {
        let (owner, name) = text.split_once('/')?;
        let ok = |part: &str| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (ok(owner) && ok(name)).then(|| Repo {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
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
        if uri.query().is_some() {
            return Err(format!("`api_url` must not have a query; {fix}"));
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

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A config problem: the file, the line when known, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<usize>,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no config file at `{path}`; create one (see config.example.toml or `secretsync init`), or pass --config PATH")]
    Missing { path: PathBuf },
    #[error("cannot read config `{path}`: {reason}")]
    Unreadable { path: PathBuf, reason: String },
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
        .map(|p| match p.line {
            Some(line) => format!("{}:{}: {}", path.display(), line, p.message),
            None => format!("{}: {}", path.display(), p.message),
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
        _ => ConfigError::Unreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        },
    })?;
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, path, base).map_err(|problems| ConfigError::Invalid {
        path: path.to_path_buf(),
        problems,
    })
}

/// Parse and validate config text; `base` is the folder that relative `file` paths start from.
pub fn parse(text: &str, path: &Path, base: &Path) -> Result<Config, Vec<Problem>> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| vec![syntax_problem(text, &e)])?;
    Validator {
        text,
        base,
        problems: Vec::new(),
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
    targets: Vec<Spanned<RawTarget>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGithub {
    api_url: Option<Spanned<String>>,
    token: Option<Spanned<RawSource>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecret {
    env: Option<String>,
    keyring: Option<RawKeyring>,
    prompt: Option<String>,
    confirm: Option<bool>,
    value: Option<String>,
    file: Option<String>,
    command: Option<Vec<String>>,
    from: Option<Vec<Spanned<RawSource>>>,
    #[serde(default)]
    allow_empty: bool,
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
    value: Option<String>,
    file: Option<String>,
    command: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawKeyring {
    service: String,
    user: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    repo: String,
    secrets: Option<Vec<String>>,
}

const SOURCE_KEYS: &str = "`env`, `keyring`, `prompt`, `value`, `file` or `command`";

// ---- errors from toml/serde, made actionable ---------------------------------------------

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

fn syntax_problem(text: &str, err: &toml::de::Error) -> Problem {
    let line = err.span().map(|span| line_of(text, span.start));
    let message = err.message().trim().replace('\n', " ");
    Problem {
        line,
        message: improve_message(&message),
    }
}

/// serde says "unknown field `x`, expected one of `a`, `b`"; add the nearest valid key.
fn improve_message(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((key, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let valid: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty())
        .collect();
    let listing = valid
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match nearest(key, valid.iter().copied()) {
        Some(best) => {
            format!("unknown key `{key}`; did you mean `{best}`? (valid keys: {listing})")
        }
        None => format!("unknown key `{key}`; valid keys: {listing}"),
    }
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
    text: &'a str,
    base: &'a Path,
    problems: Vec<Problem>,
}

impl Validator<'_> {
    fn problem(&mut self, offset: Option<usize>, message: String) {
        let line = offset.map(|o| line_of(self.text, o));
        self.problems.push(Problem { line, message });
    }

    fn validate(mut self, raw: RawConfig, path: &Path) -> Result<Config, Vec<Problem>> {
        let (api_url, token) = self.github(raw.github);
        let secrets = self.secrets(raw.secrets);
        let targets = self.targets(raw.targets, &secrets);
        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        Ok(Config {
            path: path.to_path_buf(),
            api_url,
            token,
            secrets,
            targets,
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
                match self.source(spanned.into_inner(), at, "`[github] token`") {
                    Some(Source::Prompt { .. }) | Some(Source::Value(_)) => {
                        self.problem(
                            at,
                            "`[github] token` must come from `env`, `keyring`, `file` or \
                             `command`; a literal or prompt token is not supported"
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

    fn secrets(
        &mut self,
        raw: BTreeMap<Spanned<String>, Spanned<RawSecret>>,
    ) -> BTreeMap<String, SecretDecl> {
        let mut secrets: BTreeMap<String, SecretDecl> = BTreeMap::new();
        if raw.is_empty() {
            self.problem(
                None,
                "declares no secrets; add a `[secrets.NAME]` table for each".into(),
            );
        }
        for (name, secret) in raw {
            let at = Some(secret.span().start);
            let line = line_of(self.text, secret.span().start);
            let name = name.into_inner();
            if let Err(message) = check_name(&name) {
                self.problem(at, message);
                continue;
            }
            let upper = name.to_ascii_uppercase();
            if let Some(other) = secrets.get(&upper) {
                let message = format!(
                    "secret `{name}` is the same as `{}` on line {} (GitHub names ignore case); \
                     keep one",
                    other.name, other.line
                );
                self.problem(at, message);
                continue;
            }
            let secret = secret.into_inner();
            let shorthand = RawSource {
                env: secret.env,
                keyring: secret.keyring,
                prompt: secret.prompt,
                confirm: secret.confirm,
                value: secret.value,
                file: secret.file,
                command: secret.command,
            };
            let what = format!("secret `{name}`");
            let chain = match secret.from {
                Some(from) => {
                    if !shorthand.is_empty() {
                        self.problem(
                            at,
                            format!("{what} has both `from` and a single source; keep one"),
                        );
                    }
                    if from.is_empty() {
                        self.problem(at, format!("{what} has an empty `from`; list a source"));
                    }
                    from.into_iter()
                        .filter_map(|s| {
                            let at = Some(s.span().start);
                            self.source(s.into_inner(), at, &what)
                        })
                        .collect()
                }
                None if shorthand.is_empty() => {
                    self.problem(
                        at,
                        format!(
                            "{what} has no source; add one of {SOURCE_KEYS}, or `from = [...]`"
                        ),
                    );
                    Vec::new()
                }
                None => self.source(shorthand, at, &what).into_iter().collect(),
            };
            secrets.insert(
                upper.clone(),
                SecretDecl {
                    name: upper,
                    chain,
                    allow_empty: secret.allow_empty,
                    line,
                },
            );
        }
        secrets
    }

    fn source(&mut self, raw: RawSource, at: Option<usize>, what: &str) -> Option<Source> {
        if raw.confirm.is_some() && raw.prompt.is_none() {
            self.problem(at, format!("{what}: `confirm` goes only with `prompt`"));
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
            });
        }
        if let Some(value) = raw.value {
            found.push(Source::Value(value));
        }
        if let Some(file) = raw.file {
            found.push(Source::File(self.base.join(file)));
        }
        if let Some(argv) = raw.command {
            if argv.first().is_none_or(|p| p.is_empty()) {
                self.problem(
                    at,
                    format!("{what}: `command` needs a program, as in `command = [\"pass\", \"show\", \"x\"]`"),
                );
                return None;
            }
            found.push(Source::Command(argv));
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

    fn targets(
        &mut self,
        raw: Vec<Spanned<RawTarget>>,
        secrets: &BTreeMap<String, SecretDecl>,
    ) -> Vec<Target> {
        if raw.is_empty() {
            self.problem(
                None,
                "has no targets; add `[[targets]]` with `repo = \"owner/name\"`".into(),
            );
        }
        let mut targets: Vec<Target> = Vec::new();
        for spanned in raw {
            let at = Some(spanned.span().start);
            let line = line_of(self.text, spanned.span().start);
            let raw = spanned.into_inner();
            let Some(repo) = Repo::parse(&raw.repo) else {
                self.problem(
                    at,
                    format!("target repo `{}` is not of the form `owner/name`", raw.repo),
                );
                continue;
            };
            if let Some(other) = targets.iter().find(|t| {
                t.repo.owner.eq_ignore_ascii_case(&repo.owner)
                    && t.repo.name.eq_ignore_ascii_case(&repo.name)
            }) {
                let message = format!(
                    "target `{repo}` is listed again (first on line {}); merge the two into one \
                     `[[targets]]` entry",
                    other.line
                );
                self.problem(at, message);
                continue;
            }
            let selected = match raw.secrets {
                None => secrets.keys().cloned().collect(),
                Some(patterns) => self.select(&repo, &patterns, secrets, at),
            };
            if selected.is_empty() && !secrets.is_empty() {
                self.problem(
                    at,
                    format!("target `{repo}` selects no secret; fix its `secrets` patterns"),
                );
            }
            if selected.len() > MAX_SECRETS_PER_REPO {
                self.problem(
                    at,
                    format!(
                        "target `{repo}` would carry {} secrets, over GitHub's limit of \
                         {MAX_SECRETS_PER_REPO} per repository; split them across targets or use \
                         fewer",
                        selected.len()
                    ),
                );
            }
            targets.push(Target {
                repo,
                secrets: selected,
                line,
            });
        }
        targets
    }

    fn select(
        &mut self,
        repo: &Repo,
        patterns: &[String],
        secrets: &BTreeMap<String, SecretDecl>,
        at: Option<usize>,
    ) -> Vec<String> {
        let mut selected = std::collections::BTreeSet::new();
        for text in patterns {
            let pattern = match glob::Pattern::new(&text.to_ascii_uppercase()) {
                Ok(p) => p,
                Err(e) => {
                    self.problem(
                        at,
                        format!("target `{repo}`: pattern `{text}` is not a valid glob: {e}"),
                    );
                    continue;
                }
            };
            let before = selected.len();
            let mut matched = false;
            for name in secrets.keys().filter(|n| pattern.matches(n)) {
                matched = true;
                selected.insert(name.clone());
            }
            if !matched && before == selected.len() {
                let hint = match nearest(text, secrets.keys().map(String::as_str)) {
                    Some(best) => format!("; did you mean `{best}`?"),
                    None => "; check it against the declared `[secrets.*]`".into(),
                };
                self.problem(
                    at,
                    format!("target `{repo}`: pattern `{text}` matches no declared secret{hint}"),
                );
            }
        }
        selected.into_iter().collect()
    }
}

impl RawSource {
    fn is_empty(&self) -> bool {
        self.env.is_none()
            && self.keyring.is_none()
            && self.prompt.is_none()
            && self.confirm.is_none()
            && self.value.is_none()
            && self.file.is_none()
            && self.command.is_none()
    }
}

/// GitHub's naming rules for secrets.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a secret name is empty".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(format!(
            "secret name `{name}` has `{bad}`; names may use only letters, digits and `_`"
        ));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "secret name `{name}` starts with a digit, which GitHub refuses; rename it"
        ));
    }
    if name.to_ascii_uppercase().starts_with("GITHUB_") {
        return Err(format!(
            "secret name `{name}` starts with `GITHUB_`, which GitHub reserves; rename it"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Config {
        match parse(text, Path::new("t.toml"), Path::new("/base")) {
            Ok(c) => c,
            Err(p) => panic!("unexpected problems: {p:?}"),
        }
    }

    fn problems(text: &str) -> Vec<Problem> {
        match parse(text, Path::new("t.toml"), Path::new("/base")) {
            Ok(_) => panic!("expected problems"),
            Err(p) => p,
        }
    }

    const MINIMAL: &str = r#"
[secrets.ALIYUN_REGISTRY]
value = "registry.example"

[secrets.ALIYUN_PASSWORD]
from = [{ env = "ALIYUN_PASSWORD" }, { prompt = "Password", confirm = true }]

[[targets]]
repo = "o/r"
"#;

    #[test]
    fn parses_shorthand_and_chains() {
        let c = parse_ok(MINIMAL);
        assert_eq!(c.api_url.as_str(), "https://api.github.com");
        assert_eq!(c.secrets.len(), 2);
        let pw = &c.secrets["ALIYUN_PASSWORD"];
        assert_eq!(pw.chain.len(), 2);
        assert_eq!(pw.line, 5);
        assert_eq!(
            pw.chain[1],
            Source::Prompt {
                label: "Password".into(),
                confirm: true
            }
        );
        assert_eq!(c.targets[0].secrets, ["ALIYUN_PASSWORD", "ALIYUN_REGISTRY"]);
    }

    #[test]
    fn unknown_key_names_line_and_nearest() {
        let p =
            problems("[secrets.A]\nvalue = \"x\"\nallow_emtpy = true\n[[targets]]\nrepo=\"o/r\"\n");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].line, Some(3), "{p:?}");
        assert!(p[0].message.contains("unknown key `allow_emtpy`"), "{p:?}");
        assert!(p[0].message.contains("did you mean `allow_empty`"), "{p:?}");
    }

    #[test]
    fn syntax_error_has_line() {
        let p = problems("[secrets.A]\nvalue = \"x\n");
        assert_eq!(p[0].line, Some(2), "{p:?}");
    }

    #[test]
    fn names_are_checked() {
        for (name, needle) in [
            ("1ABC", "starts with a digit"),
            ("GITHUB_X", "reserves"),
            ("github_x", "reserves"),
            ("A-B", "has `-`"),
        ] {
            let text = format!("[secrets.\"{name}\"]\nvalue = \"x\"\n[[targets]]\nrepo=\"o/r\"\n");
            let p = problems(&text);
            assert!(p[0].message.contains(needle), "{name}: {p:?}");
            assert_eq!(p[0].line, Some(1));
        }
    }

    #[test]
    fn case_duplicates_are_refused() {
        let p = problems(
            "[secrets.abc]\nvalue=\"x\"\n[secrets.ABC]\nvalue=\"y\"\n[[targets]]\nrepo=\"o/r\"\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].message.contains("ignore case"), "{p:?}");
    }

    #[test]
    fn sources_must_be_single() {
        let p = problems("[secrets.A]\nenv=\"X\"\nvalue=\"y\"\n[[targets]]\nrepo=\"o/r\"\n");
        assert!(p[0].message.contains("several kinds"), "{p:?}");
        let p = problems("[secrets.A]\nallow_empty=true\n[[targets]]\nrepo=\"o/r\"\n");
        assert!(p[0].message.contains("has no source"), "{p:?}");
        let p = problems("[secrets.A]\nenv=\"X\"\nconfirm=true\n[[targets]]\nrepo=\"o/r\"\n");
        assert!(
            p[0].message.contains("`confirm` goes only with `prompt`"),
            "{p:?}"
        );
    }

    #[test]
    fn targets_select_by_glob() {
        let c = parse_ok(
            "[secrets.ALIYUN_A]\nvalue=\"1\"\n[secrets.OTHER]\nvalue=\"2\"\n[[targets]]\nrepo=\"o/r\"\nsecrets=[\"aliyun_*\"]\n",
        );
        assert_eq!(c.targets[0].secrets, ["ALIYUN_A"]);
        let p = problems("[secrets.A]\nvalue=\"1\"\n[[targets]]\nrepo=\"o/r\"\nsecrets=[\"B*\"]\n");
        assert!(
            p.iter()
                .any(|p| p.message.contains("matches no declared secret")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|p| p.message.contains("selects no secret")),
            "{p:?}"
        );
    }

    #[test]
    fn too_many_secrets_per_repo() {
        let mut text = String::new();
        for i in 0..101 {
            text.push_str(&format!("[secrets.S{i}]\nvalue=\"v\"\n"));
        }
        text.push_str("[[targets]]\nrepo=\"o/r\"\n");
        let p = problems(&text);
        assert!(p[0].message.contains("over GitHub's limit"), "{p:?}");
    }

    #[test]
    fn api_urls() {
        assert!(ApiUrl::parse("https://ghe.example/api/v3/").is_ok());
        assert_eq!(
            ApiUrl::parse("https://ghe.example/api/v3/")
                .unwrap()
                .as_str(),
            "https://ghe.example/api/v3"
        );
        assert!(ApiUrl::parse("http://127.0.0.1:8080").is_ok());
        assert!(ApiUrl::parse("http://[::1]:8080").is_ok());
        assert!(ApiUrl::parse("http://localhost:8080").is_ok());
        assert!(ApiUrl::parse("http://ghe.example")
            .unwrap_err()
            .contains("plain http"));
        assert!(ApiUrl::parse("http://10.0.0.1")
            .unwrap_err()
            .contains("plain http"));
        assert!(ApiUrl::parse("ftp://x").is_err());
        assert!(ApiUrl::parse("https://u:p@x")
            .unwrap_err()
            .contains("credentials"));
        let p = problems("[github]\napi_url=\"http://example.com\"\n[secrets.A]\nvalue=\"1\"\n[[targets]]\nrepo=\"o/r\"\n");
        assert_eq!(p[0].line, Some(2));
    }

    #[test]
    fn repo_forms() {
        assert!(Repo::parse("o/r").is_some());
        assert!(Repo::parse("o/r/x").is_none());
        assert!(Repo::parse("o/..").is_none());
        assert!(Repo::parse("/r").is_none());
        let p = problems(
            "[secrets.A]\nvalue=\"1\"\n[[targets]]\nrepo=\"o/r\"\n[[targets]]\nrepo=\"O/R\"\n",
        );
        assert!(p[0].message.contains("listed again"), "{p:?}");
    }

    #[test]
    fn file_paths_are_relative_to_the_config() {
        let c = parse_ok("[secrets.A]\nfile=\"pw.txt\"\n[[targets]]\nrepo=\"o/r\"\n");
        assert_eq!(
            c.secrets["A"].chain[0],
            Source::File(PathBuf::from("/base/pw.txt"))
        );
    }

    #[test]
    fn token_source() {
        let c = parse_ok(
            "[github]\ntoken={env=\"T\"}\n[secrets.A]\nvalue=\"1\"\n[[targets]]\nrepo=\"o/r\"\n",
        );
        assert_eq!(c.token, vec![Source::Env("T".into())]);
        let p = problems(
            "[github]\ntoken={value=\"T\"}\n[secrets.A]\nvalue=\"1\"\n[[targets]]\nrepo=\"o/r\"\n",
        );
        assert!(p[0].message.contains("literal or prompt"), "{p:?}");
    }

    #[test]
    fn the_example_config_is_valid() {
        let c = parse_ok(include_str!("../config.example.toml"));
        let names: Vec<&str> = c.secrets.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "ALIYUN_NAMESPACE",
                "ALIYUN_PASSWORD",
                "ALIYUN_REGISTRY",
                "ALIYUN_USERNAME"
            ]
        );
        assert_eq!(c.secrets["ALIYUN_PASSWORD"].chain.len(), 3);
        assert_eq!(c.targets[0].secrets.len(), 4);
    }

    #[test]
    fn locate_order() {
        assert_eq!(
            locate(Some(Path::new("a.toml")), Some("b".into())),
            PathBuf::from("a.toml")
        );
        assert_eq!(locate(None, Some("b.toml".into())), PathBuf::from("b.toml"));
        assert_eq!(locate(None, None), PathBuf::from(DEFAULT_FILE));
    }
}
