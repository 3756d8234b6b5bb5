//! The `dotenv` source against its referee: Debian's `gh` sets a catalogue `.env` with `gh secret
//! set -f`, secretsync applies the same file, and every secret's plaintext must agree. And the
//! one rule where secretsync differs from gh on purpose: `$NAME` never reads the environment.

use secretsync_sandbox::ENTERPRISE_API_PREFIX;

use crate::support::{require_tools, Env, OTHER, REPO, TOKEN};

/// Every rule of the format, each on a key of its own (GitHub upper-cases names, so all are
/// upper case already). A catalogue gh accepts, quirks included.
const CATALOGUE: &str = "# a comment line\n\
    PLAIN=abc\n\
    SPACED = unquoted words with spaces   \n\
    TRAILING=kept # a comment after a space\n\
    HASH=a#b\n\
    SINGLE='a $HOME b \\n c'\n\
    DOUBLE=\"two words\"\n\
    ESCAPES=\"tab\\tquote\\\"back\\\\slash \\n newline\\rcr\"\n\
    export EXPORTED=yes\n\
    MULTI=\"-----BEGIN-----\nline two\n-----END-----\"\n\
    SINGLE_MULTI='one\ntwo'\n\
    CRLF=windows\r\n\
    YAML_STYLE: colon\n\
    EXPANDED=$PLAIN-${PLAIN}\n\
    QUOTED_EXPANDED=\"<$PLAIN>\"\n\
    ESCAPED_DOLLAR=\"\\$PLAIN costs \\$5\"\n\
    LOWER_NAME=a$lower\n\
    BARE=cost $\n\
    DUP=first\n\
    DUP=second\n\
    QUIRK=\"ends in \\\"\"\n\
    UNICODE=\"pässwörd ✓\"\n";

const KEYS: &[&str] = &[
    "PLAIN",
    "SPACED",
    "TRAILING",
    "HASH",
    "SINGLE",
    "DOUBLE",
    "ESCAPES",
    "EXPORTED",
    "MULTI",
    "SINGLE_MULTI",
    "CRLF",
    "YAML_STYLE",
    "EXPANDED",
    "QUOTED_EXPANDED",
    "ESCAPED_DOLLAR",
    "LOWER_NAME",
    "BARE",
    "DUP",
    "QUIRK",
    "UNICODE",
];

#[test]
fn every_value_is_what_gh_secret_set_f_uploads() {
    if !require_tools(
        "every_value_is_what_gh_secret_set_f_uploads",
        &[("gh", "gh")],
    ) {
        return;
    }
    let env = Env::https();
    env.write("catalogue.env", CATALOGUE);
    let api_url = env.sandbox.api_url();
    // gh talks to https://HOST/api/v3/ for any host but github.com.
    let host = api_url
        .trim_start_matches("https://")
        .trim_end_matches(ENTERPRISE_API_PREFIX);
    let gh = env
        .command("gh")
        .args(["secret", "set", "-f", "catalogue.env", "--repo", OTHER])
        .env("GH_HOST", host)
        .env("GH_ENTERPRISE_TOKEN", TOKEN)
        .env("GH_CONFIG_DIR", env.path("gh"))
        .env("GH_NO_UPDATE_NOTIFIER", "1")
        .env("GH_PROMPT_DISABLED", "1")
        .env("SSL_CERT_FILE", env.path("ca.pem"))
        .run();
    gh.assert_code(0);

    let declared: String = KEYS
        .iter()
        .map(|k| format!("[secrets.{k}]\ndotenv = {{ file = \"catalogue.env\" }}\n"))
        .collect();
    env.write(
        "secretsync.toml",
        &format!("[github]\napi_url = \"{api_url}\"\n{declared}[[targets]]\nrepo = \"{REPO}\"\n"),
    );
    env.cmd(&["apply", "--yes"])
        .env("SSL_CERT_FILE", env.path("ca.pem"))
        .run()
        .assert_code(0);

    let set_by_gh = env.sandbox.names(OTHER);
    assert_eq!(
        set_by_gh.len(),
        KEYS.len(),
        "gh read other keys: {set_by_gh:?}"
    );
    for key in KEYS {
        let gh_value = env.sandbox.plaintext(OTHER, key);
        assert!(gh_value.is_some(), "gh did not set {key}");
        assert_eq!(
            env.sandbox.plaintext(REPO, key),
            gh_value,
            "{key}: secretsync's value differs from gh's"
        );
    }
    // A few by hand, so the referee is seen to read what the rules say.
    let value = |k| String::from_utf8(env.sandbox.plaintext(REPO, k).unwrap_or_default());
    assert_eq!(value("SPACED").as_deref(), Ok("unquoted words with spaces"));
    assert_eq!(value("EXPANDED").as_deref(), Ok("abc-abc"));
    assert_eq!(value("DUP").as_deref(), Ok("second"));
    assert_eq!(
        value("MULTI").as_deref(),
        Ok("-----BEGIN-----\nline two\n-----END-----")
    );
}

#[test]
fn a_name_from_the_environment_is_refused_and_nothing_is_sent() {
    let env = Env::new();
    env.write(".env", "API_KEY=\"prefix-${GH_TOKEN}\"\n");
    env.config_for_repo("[secrets.API_KEY]\ndotenv = { file = \".env\" }\n");
    for verb in [&["plan"][..], &["apply", "--yes"]] {
        let out = env.cmd(verb).run();
        out.assert_code(1);
        assert!(
            out.stderr
                .contains(".env` line 1 (key `API_KEY`) for `API_KEY` uses `$`"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains(TOKEN) && !out.stdout.contains(TOKEN));
    }
    assert_eq!(env.plaintext("API_KEY"), None);
    assert_eq!(env.counts().2, 0, "no write");
}
