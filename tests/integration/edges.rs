//! The edges of GitHub that the sandbox's defaults once hid: paging links in GitHub's
//! `/repositories/{id}/...` form, `updated_at` at one-second granularity, and HTTPS under a
//! GitHub Enterprise `/api/v3` prefix.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::time::{SystemTime, UNIX_EPOCH};

use secretsync_sandbox::{Sandbox, SandboxConfig, Scope};

use crate::support::{Env, ALIYUN, REPO};

const SECRETS: usize = 130;
const VARIABLES: usize = 35;

/// More secrets than a page of 100 and more variables than a page of 30, all set outside.
fn crowded() -> Env {
    let env = Env::new();
    env.config_for_repo(
        "[secrets.DECLARED]\nvalue = \"d\"\n[variables.DECLARED_VAR]\nvalue = \"d\"\n",
    );
    let scope = Scope::Repo(REPO.into());
    for i in 0..SECRETS {
        env.sandbox.put_outside(REPO, &format!("S_{i:03}"), b"x");
    }
    for i in 0..VARIABLES {
        env.sandbox
            .set_variable_outside(&scope, &format!("V_{i:02}"), "v");
    }
    env
}

#[test]
fn listings_follow_githubs_repositories_id_links_whole() {
    let env = crowded();
    let out = env.cmd(&["plan", "--json"]).run();
    out.assert_code(0);
    let doc: serde_json::Value = out.json();
    let mut extras: Vec<String> = doc["targets"][0]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["action"] == "extra")
        .map(|c| {
            format!(
                "{}:{}",
                c["kind"].as_str().unwrap_or("?"),
                c["name"].as_str().unwrap_or("?")
            )
        })
        .collect();
    extras.sort();
    let mut expected: Vec<String> = (0..SECRETS)
        .map(|i| format!("secret:S_{i:03}"))
        .chain((0..VARIABLES).map(|i| format!("variable:V_{i:02}")))
        .collect();
    expected.sort();
    assert_eq!(
        extras, expected,
        "every item once, none missing, none made up"
    );

    // The second pages were fetched where GitHub's links point, not at the path first asked.
    let id = env.sandbox.repo_id(REPO).expect("the repository has an id");
    let mut by_id: Vec<String> = env
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/repositories/"))
        .map(|r| r.path)
        .collect();
    // Secrets and variables are listed at once, so in either order.
    by_id.sort();
    assert_eq!(
        by_id,
        [
            format!("/repositories/{id}/actions/secrets"),
            format!("/repositories/{id}/actions/variables"),
        ],
        "{:#?}",
        env.requests()
    );
}

#[test]
fn a_paging_link_to_another_host_is_not_followed() {
    let env = crowded();
    let elsewhere = TcpListener::bind("127.0.0.1:0").expect("a second listener");
    elsewhere.set_nonblocking(true).expect("nonblocking");
    let origin = format!("http://{}", elsewhere.local_addr().expect("its address"));
    env.sandbox.set_link_origin(Some(&origin));
    let out = env.cmd(&["plan"]).run();
    out.assert_code(1);
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("another host"))
        .collect();
    assert_eq!(errors.len(), 1, "one clear line: {}", out.stderr);
    assert!(errors[0].contains(REPO), "{}", errors[0]);
    // The binary has exited: a connection it opened would wait in the backlog.
    match elsewhere.accept() {
        Err(err) if err.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the token went to another host: {other:?}"),
    }
}

/// ALIYUN applied with our password, on a sandbox clock stopped at this second; then someone
/// sets the password in the web UI, `later` seconds on.
fn theirs_after_ours(later: i64) -> Env {
    let env = Env::new();
    env.config(ALIYUN);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    env.sandbox
        .pin_clock(i64::try_from(now).expect("seconds fit"));
    env.apply_with_password("ours").assert_code(0);
    env.sandbox.advance_clock(later);
    env.sandbox.put_outside(REPO, "ALIYUN_PASSWORD", b"theirs");
    env
}

/// What plan says of the password: (action, reason_code).
fn password_plan(env: &Env) -> (String, String) {
    let out = env
        .cmd(&["plan", "--json"])
        .env("ALIYUN_PASSWORD", "ours")
        .run();
    out.assert_code(0);
    let doc: serde_json::Value = out.json();
    let change = doc["targets"][0]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["name"] == "ALIYUN_PASSWORD")
        .cloned()
        .expect("the password is planned");
    let text = |key: &str| change[key].as_str().unwrap_or_default().to_owned();
    (text("action"), text("reason_code"))
}

/// The blind spot docs/state.md owns up to: GitHub lists both writes with the same whole second
/// and returns no value, so no client can tell someone else's write in our second from ours.
#[test]
fn someone_elses_write_in_the_same_second_as_ours_is_not_seen() {
    let env = theirs_after_ours(0);
    assert_eq!(
        env.plaintext("ALIYUN_PASSWORD").as_deref(),
        Some("theirs"),
        "GitHub holds their value"
    );
    assert_eq!(
        password_plan(&env),
        ("unchanged".into(), "same".into()),
        "a write in the same second reads as ours"
    );
}

#[test]
fn someone_elses_write_a_second_after_ours_is_drift() {
    let env = theirs_after_ours(1);
    assert_eq!(password_plan(&env), ("update".into(), "drift".into()));
}

/// The HTTPS sandbox with the four ALIYUN_* secrets declared.
fn enterprise() -> Env {
    let env = Env::https();
    env.config(ALIYUN);
    env
}

#[test]
fn https_under_api_v3_works_end_to_end_when_the_ca_is_trusted_through_ssl_cert_file() {
    let env = enterprise();
    let api = env.sandbox.api_url();
    assert!(
        api.starts_with("https://127.0.0.1:") && api.ends_with("/api/v3"),
        "{api}"
    );
    // More than a page, so a `Link` under the prefix is followed too.
    for i in 0..105 {
        env.sandbox
            .put_outside(REPO, &format!("EXTRA_{i:03}"), b"x");
    }
    let ca = env.path("ca.pem");
    let apply = env
        .cmd(&["apply", "--yes"])
        .env("ALIYUN_PASSWORD", "over-tls")
        .env("SSL_CERT_FILE", &ca)
        .run();
    apply.assert_code(0);
    assert_eq!(
        env.plaintext("ALIYUN_PASSWORD").as_deref(),
        Some("over-tls")
    );
    assert_eq!(env.counts().2, 4, "the four secrets were written");
    let plan = env
        .cmd(&["plan", "--json"])
        .env("ALIYUN_PASSWORD", "over-tls")
        .env("SSL_CERT_FILE", &ca)
        .run();
    plan.assert_code(0);
    let doc: serde_json::Value = plan.json();
    let summary = &doc["summary"];
    assert_eq!(
        (summary["unchanged"].as_u64(), summary["extra"].as_u64()),
        (Some(4), Some(105)),
        "{}",
        plan.stdout
    );
}

#[test]
fn an_untrusted_certificate_is_one_clear_line_and_nothing_is_sent() {
    let env = enterprise();
    // Trusting only another sandbox's CA, which has the same name as this one's but another key.
    let (_other, other_ca) =
        Sandbox::spawn_https(SandboxConfig::default()).expect("another HTTPS sandbox");
    env.write("other-ca.pem", other_ca.pem());
    let out = env
        .cmd(&["plan"])
        .env("ALIYUN_PASSWORD", "p")
        .env("SSL_CERT_FILE", env.path("other-ca.pem"))
        .run();
    out.assert_code(1);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("certificate"))
        .collect();
    assert_eq!(lines.len(), 1, "one line: {}", out.stderr);
    let line = lines[0];
    assert!(
        line.contains("not signed by a trusted CA") && line.contains("SSL_CERT_FILE"),
        "says what is wrong and how to fix it: {}",
        out.stderr
    );
    assert!(
        line.contains(&env.sandbox.api_url()),
        "names the server: {line}"
    );
    assert!(
        env.requests().is_empty(),
        "no request got past the handshake"
    );

    // doctor says the same, and not that GitHub answered.
    let doctor = env
        .cmd(&["doctor"])
        .env("SSL_CERT_FILE", env.path("other-ca.pem"))
        .run();
    assert_eq!(doctor.code, 1, "{}{}", doctor.stdout, doctor.stderr);
    assert!(
        !doctor.stdout.contains("GitHub answers"),
        "{}",
        doctor.stdout
    );
    let said: Vec<&str> = doctor
        .stdout
        .lines()
        .filter(|l| l.contains("not signed by a trusted CA"))
        .collect();
    assert_eq!(said.len(), 1, "{}", doctor.stdout);
}
