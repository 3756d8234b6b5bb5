use super::*;

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
    let c = parsed(MINIMAL);
    assert_eq!(c.api_url.as_str(), "https://api.github.com");
    assert_eq!(c.secrets.len(), 2);
    let pw = &c.secrets["ALIYUN_PASSWORD"];
    assert_eq!(pw.chain.len(), 2);
    assert_eq!(pw.line, 5);
    assert_eq!(
        pw.chain[1],
        Source::Prompt {
            label: "Password".into(),
            confirm: true,
            remember: false,
        }
    );
    assert_eq!(c.targets[0].secrets, ["ALIYUN_PASSWORD", "ALIYUN_REGISTRY"]);
}

#[test]
fn unknown_key_names_line_and_nearest() {
    let p = problems("[secrets.A]\nvalue = \"x\"\nallow_emtpy = true\n[[targets]]\nrepo=\"o/r\"\n");
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
    let c = parsed(
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
        p.iter().any(|p| p.message.contains("selects nothing")),
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
    assert!(ApiUrl::parse("https://ghe.example/api/v3#x")
        .unwrap_err()
        .contains("fragment"));
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
    let c = parsed("[secrets.A]\nfile=\"pw.txt\"\n[[targets]]\nrepo=\"o/r\"\n");
    assert_eq!(
        c.secrets["A"].chain[0],
        Source::File(PathBuf::from("/base/pw.txt"))
    );
}

#[test]
fn dotenv_sources_default_their_key_to_the_name_as_written() {
    let c = parsed(
        "[secrets.Api_Key]\ndotenv={file=\".env\"}\n\
         [secrets.B]\nfrom=[{env=\"B\"},{dotenv={file=\"../x.env\",key=\"OTHER\"}}]\n\
         [variables.V]\ndotenv={file=\".env\"}\n[[targets]]\nrepo=\"o/r\"\n",
    );
    let dotenv = |path: &str, key: &str| Source::Dotenv {
        path: PathBuf::from(path),
        key: key.into(),
    };
    assert_eq!(
        c.secrets["API_KEY"].chain,
        vec![dotenv("/base/.env", "Api_Key")]
    );
    assert_eq!(c.secrets["B"].chain[1], dotenv("/base/../x.env", "OTHER"));
    assert_eq!(c.variables["V"].chain, vec![dotenv("/base/.env", "V")]);
    let p = problems("[secrets.A]\ndotenv={file=\".env\",kee=\"K\"}\n[[targets]]\nrepo=\"o/r\"\n");
    assert!(p[0].message.contains("did you mean `key`"), "{p:?}");
    let p = problems(
        "[github]\ntoken={dotenv={file=\".env\"}}\n[secrets.A]\nvalue=\"1\"\n[[targets]]\nrepo=\"o/r\"\n",
    );
    assert!(p[0].message.contains("from a `.env` file"), "{p:?}");
    let p = problems("[secrets.A]\ndotenv={file=\"\"}\n[[targets]]\nrepo=\"o/r\"\n");
    assert!(
        p[0].message.contains("`dotenv` needs a `file` and a `key`"),
        "{p:?}"
    );
    let p = problems("[secrets.A]\ndotenv={file=\".env\",key=\"\"}\n[[targets]]\nrepo=\"o/r\"\n");
    assert!(
        p[0].message.contains("`dotenv` needs a `file` and a `key`"),
        "{p:?}"
    );
}

#[test]
fn token_source() {
    let c = parsed(
        "[github]\ntoken={env=\"T\"}\n[secrets.A]\nvalue=\"1\"\n[[targets]]\nrepo=\"o/r\"\n",
    );
    assert_eq!(c.token, vec![Source::Env("T".into())]);
    let p = problems(
        "[github]\ntoken={value=\"T\"}\n[secrets.A]\nvalue=\"1\"\n[[targets]]\nrepo=\"o/r\"\n",
    );
    assert!(p[0].message.contains("literal or prompt"), "{p:?}");
}

#[test]
fn command_timeouts_and_the_token_variable() {
    use std::time::Duration;
    let c = parsed(
        "[github]\ntoken={env=\"MY_TOKEN\"}\n\
         [secrets.A]\ncommand=[\"pass\",\"a\"]\n\
         [secrets.B]\nfrom=[{command=[\"pass\",\"b\"], timeout=\"2m\"}]\n\
         [[targets]]\nrepo=\"o/r\"\n",
    );
    let command = |name: &str| match &c.secrets[name].chain[0] {
        Source::Command(command) => command.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(command("A").timeout, crate::source::DEFAULT_TIMEOUT);
    assert_eq!(command("B").timeout, Duration::from_secs(120));
    assert_eq!(command("A").hidden_env, ["MY_TOKEN"]);
    let p = problems("[secrets.A]\ncommand=[\"a\"]\ntimeout=\"0s\"\n[[targets]]\nrepo=\"o/r\"\n");
    assert!(p[0].message.contains("is zero"), "{p:?}");
    let p = problems("[secrets.A]\nenv=\"A\"\ntimeout=\"5s\"\n[[targets]]\nrepo=\"o/r\"\n");
    assert!(p[0].message.contains("goes only with `command`"), "{p:?}");
}

#[test]
fn the_example_config_is_valid() {
    let c = parsed(include_str!("../../config.example.toml"));
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

fn places(c: &Config) -> Vec<String> {
    c.targets.iter().map(|t| t.place.to_string()).collect()
}

#[test]
fn every_target_form() {
    let c = parsed(
        r#"
[secrets.TOKEN]
value = "t"
[variables.REGION]
value = "eu"

[[targets]]
repo = "o/r"
environment = "production"
create_environment = true

[[targets]]
org = "o"
visibility = "selected"
repositories = ["b", "a", "a"]

[[targets]]
repo = "o/r"
app = "dependabot"
variables = []

[[targets]]
repos = ["o/x", "o/y"]
variables = ["REG*"]
secrets = []

[[targets]]
repos = { org = "o", match = "service-*" }
"#,
    );
    assert_eq!(
        places(&c),
        [
            "o/r (environment production)",
            "org o",
            "o/r (dependabot)",
            "o/x",
            "o/y",
            "o/service-*"
        ]
    );
    assert!(c.targets[0].create_environment);
    let access = c.targets[1].access.as_ref().unwrap();
    assert_eq!(
        (access.visibility, access.repositories.clone()),
        (Visibility::Selected, vec!["a".to_string(), "b".to_string()])
    );
    assert_eq!(
        c.targets[2].variables,
        Vec::<String>::new(),
        "Dependabot carries no variables; an empty `variables` list is accepted"
    );
    assert_eq!(
        (c.targets[3].secrets.len(), c.targets[3].variables.clone()),
        (0, vec!["REGION".to_string()])
    );
    assert_eq!(c.targets[0].variables, ["REGION"]);
}

#[test]
fn target_form_mistakes() {
    let base = "[secrets.A]\nvalue=\"1\"\n[variables.V]\nvalue=\"2\"\n[[targets]]\n";
    for (target, needle) in [
        ("repo=\"o/r\"\norg=\"o\"", "exactly one of"),
        ("org=\"o\"", "needs `visibility"),
        (
            "org=\"o\"\nvisibility=\"all\"\nrepositories=[\"a\"]",
            "only with `visibility = \"selected\"`",
        ),
        (
            "repo=\"o/r\"\nvisibility=\"all\"",
            "belong to an `org` target",
        ),
        (
            "org=\"o\"\nvisibility=\"all\"\nenvironment=\"e\"",
            "belongs to a repository target",
        ),
        (
            "repo=\"o/r\"\napp=\"dependabot\"\nenvironment=\"e\"",
            "no environments",
        ),
        (
            "repo=\"o/r\"\napp=\"dependabot\"\nvariables=[\"V\"]",
            "Dependabot has no variables",
        ),
        ("repo=\"o/r\"\napp=\"codespaces\"", "unknown `app"),
        (
            "repo=\"o/r\"\ncreate_environment=true",
            "goes only with `environment`",
        ),
        (
            "org=\"o\"\nvisibility=\"selected\"\nrepositories=[\"o/a\"]",
            "not a repository name",
        ),
        ("repos=[\"o/a\", \"o/a\"]", "listed again"),
        ("repos=[]", "lists no repository"),
    ] {
        let p = problems(&format!("{base}{target}\n"));
        assert!(
            p.iter().any(|p| p.message.contains(needle)),
            "{target}: {p:?}"
        );
        assert!(
            p.iter().all(|p| p.line == Some(5)),
            "{target}: the target's line: {p:?}"
        );
    }
}

#[test]
fn limits_per_scope() {
    let mut text = String::new();
    for i in 0..101 {
        text.push_str(&format!("[variables.V{i}]\nvalue=\"v\"\n"));
    }
    let env = format!("{text}[[targets]]\nrepo=\"o/r\"\nenvironment=\"e\"\n");
    let p = problems(&env);
    assert!(
        p[0].message
            .contains("101 variables, over GitHub's limit of 100"),
        "{p:?}"
    );
    // A repository takes 500 variables.
    parsed(&format!("{text}[[targets]]\nrepo=\"o/r\"\n"));
}

#[test]
fn variables_follow_the_same_name_rules() {
    let p = problems("[variables.GITHUB_X]\nvalue=\"1\"\n[[targets]]\nrepo=\"o/r\"\n");
    assert!(p[0].message.contains("variable name `GITHUB_X`"), "{p:?}");
}

#[test]
fn rules_and_checks() {
    let c = parsed(
        r#"
[secrets.ALIYUN_REGISTRY]
value = "r.example"
[secrets.ALIYUN_USERNAME]
value = "acme"
[secrets.ALIYUN_PASSWORD]
from = [{ env = "PW" }, { keyring = { service = "s", user = "u" } }, { prompt = "Pw", remember = true }]
min_length = 8
require = ["upper", "lower", "digit"]
pattern = "^\\S+$"
[[targets]]
repo = "o/r"
[[checks]]
registry = "secret:ALIYUN_REGISTRY"
username = "secret:ALIYUN_USERNAME"
password = "secret:ALIYUN_PASSWORD"
push = ["secret:ALIYUN_USERNAME/app"]
"#,
    );
    let rules = &c.secrets["ALIYUN_PASSWORD"].rules;
    assert_eq!(
        (
            rules.min_length,
            rules.require.len(),
            rules.no_surrounding_whitespace
        ),
        (Some(8), 3, true)
    );
    assert!(rules.pattern.is_some());
    assert_eq!(c.checks.len(), 1);
    assert_eq!(c.checks[0].password, "ALIYUN_PASSWORD");
    let push = &c.checks[0].push[0];
    assert_eq!(
        (push.secret.as_deref(), push.rest.as_str()),
        (Some("ALIYUN_USERNAME"), "/app")
    );
}

#[test]
fn rule_and_check_mistakes() {
    let base = "[secrets.PW]\nvalue=\"x\"\n";
    let target = "[[targets]]\nrepo=\"o/r\"\n";
    for (extra, needle) in [
        (
            "require=[\"capital\"]\n",
            "unknown `require` class `capital`",
        ),
        ("pattern=\"(\"\n", "not a valid regular expression"),
        ("min_length=0\n", "checks nothing"),
    ] {
        let p = problems(&format!("{base}{extra}{target}"));
        assert!(
            p.iter().any(|p| p.message.contains(needle)),
            "{extra}: {p:?}"
        );
    }
    let p = problems(&format!(
        "[secrets.PW]\nprompt=\"x\"\nremember=true\n{target}"
    ));
    assert!(p[0].message.contains("needs a `keyring` source"), "{p:?}");
    let check = |body: &str| problems(&format!("{base}{target}[[checks]]\n{body}"));
    let p = check("registry=\"r\"\nusername=\"u\"\npassword=\"hunter2\"\n");
    assert!(p[0].message.contains("must be `secret:NAME`"), "{p:?}");
    assert!(!p[0].message.contains("hunter2"));
    let p = check("registry=\"secret:PWD\"\nusername=\"u\"\npassword=\"secret:PW\"\n");
    assert!(
        p[0].message
            .contains("`secret:PWD`, which is not declared; did you mean `secret:PW`?"),
        "{p:?}"
    );
}

/// The hint for a config that cannot be read follows the cause; none says to pass --config,
/// which the user may just have done.
#[test]
fn unreadable_hints_follow_the_cause() {
    use std::io::{Error, ErrorKind};
    let path = Path::new("conf.toml");
    for (kind, hint) in [
        (ErrorKind::PermissionDenied, "check its permissions"),
        (ErrorKind::IsADirectory, "that is a folder"),
        (ErrorKind::NotADirectory, "is a file, not a folder"),
        (ErrorKind::InvalidData, "UTF-8"),
    ] {
        let text = unreadable(path, &Error::from(kind)).to_string();
        assert!(text.contains(hint), "{kind:?}: {text}");
        assert!(!text.contains("pass the config file's path"), "{text}");
    }
}

#[test]
fn loopback_hosts() {
    for yes in [
        "localhost",
        "127.0.0.1",
        "127.255.0.9",
        "::1",
        "[::1]",
        "LocalHost",
    ] {
        assert!(is_loopback(yes), "{yes}");
    }
    for no in [
        "10.0.0.1",
        "128.0.0.1",
        "localhost.example.com",
        "::2",
        "example.com",
        "",
    ] {
        assert!(!is_loopback(no), "{no}");
    }
}

#[test]
fn github_limits_default_to_githubs_and_can_be_set() {
    assert_eq!(parsed(MINIMAL).limits, crate::config::Budget::default());
    let text = format!(
        "[github.limits]\nin_flight = 20\npoints = 200\nwindow_secs = 1\nread_points = 2\nwrite_points = 10\n{MINIMAL}"
    );
    let limits = parsed(&text).limits;
    assert_eq!(
        limits,
        crate::config::Budget {
            in_flight: 20,
            points: 200,
            window: std::time::Duration::from_secs(1),
            read_points: 2,
            write_points: 10,
        }
    );
    // Keys left out keep github.com's values.
    let text = format!("[github.limits]\nin_flight = 20\n{MINIMAL}");
    assert_eq!(parsed(&text).limits.points, 900);
}

#[test]
fn github_limits_out_of_range_name_their_line() {
    for (body, line, needle) in [
        (
            "in_flight = 0",
            2,
            "`[github.limits] in_flight = 0` must be from 1 to 10000",
        ),
        (
            "points = -5",
            2,
            "`[github.limits] points = -5` must be from 1 to",
        ),
        ("window_secs = 0", 2, "github.com's is 60"),
        ("window_secs = 99999999999", 2, "must be from 1 to 86400"),
        ("read_points = 0", 2, "must be from 1 to `points` (900)"),
        (
            "points = 10\nwrite_points = 11",
            3,
            "`[github.limits] write_points = 11` must be from 1 to `points` (10)",
        ),
    ] {
        let p = problems(&format!("[github.limits]\n{body}\n{MINIMAL}"));
        assert_eq!(p.len(), 1, "{body}: {p:?}");
        assert_eq!(p[0].line, Some(line), "{body}: {p:?}");
        assert!(p[0].message.contains(needle), "{body}: {p:?}");
    }
    // The default write cost (5) is above 3 points: no write could ever go.
    let p = problems(&format!("[github.limits]\npoints = 3\n{MINIMAL}"));
    assert_eq!(p[0].line, Some(2), "{p:?}");
    assert!(
        p[0].message
            .contains("`[github.limits] points = 3` is below what one request costs"),
        "{p:?}"
    );
    let p = problems(&format!("[github.limits]\nin_flights = 20\n{MINIMAL}"));
    assert!(p[0].message.contains("did you mean `in_flight`"), "{p:?}");
    assert_eq!(p[0].line, Some(2), "{p:?}");
}
