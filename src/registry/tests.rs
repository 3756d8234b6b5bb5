//! Unit tests of the registry client's pure parts; `tests/integration/registry.rs` drives the
//! whole flow against a real `docker-registry`.

use super::*;

fn b64url(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

fn jwt(claims: &str) -> String {
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64url(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64url(claims)
    )
}

fn endpoint(registry: &str) -> Result<Endpoint, String> {
    super::endpoint(&Filled::literal(registry))
}

#[test]
fn endpoint_scheme_rules() {
    let e = |s: &str| endpoint(s).unwrap_or_else(|m| panic!("{s}: {m}"));
    let aliyun = e("crpi-x.cn-hangzhou.personal.cr.aliyuncs.com");
    assert!(aliyun.https);
    assert_eq!(
        aliyun.authority,
        "crpi-x.cn-hangzhou.personal.cr.aliyuncs.com"
    );
    assert!(e("registry.example.com:5000").https);
    assert!(!e("localhost:5000").https);
    assert!(!e("LOCALHOST").https);
    assert!(!e("127.0.0.1:5000").https);
    assert!(!e("127.45.6.7").https);
    assert!(!e("[::1]:5000").https);
    assert!(e("128.0.0.1").https);
    assert!(e("https://localhost:5000").https);
    assert!(e("HTTPS://Registry.example.com/").https);
    assert!(!e("http://registry.example.com").https);
    assert_eq!(e("  https://reg.io:443/  ").authority, "reg.io:443");
    for bad in [
        "",
        "https://",
        "ftp://reg.io",
        "reg.io/acme",
        "reg.io/acme/app",
        "user@reg.io",
        "reg.io?x=1",
        "reg io",
        "reg.io:",
        "reg.io:99999",
        "reg.io:0",
    ] {
        assert!(endpoint(bad).is_err(), "{bad:?} should be refused");
    }
    assert!(endpoint("reg.io/acme").unwrap_err().contains("namespace"));
}

#[test]
fn repository_names() {
    for ok in [
        "acme/frontend",
        "app",
        "a/b/c",
        "acme-1/front_end",
        "acme/front__end",
        "acme/front---end",
        "acme/front.end",
        "0/9",
    ] {
        assert!(valid_repository(ok), "{ok}");
    }
    for bad in [
        "",
        "Acme/frontend",
        "acme/",
        "/acme",
        "acme//x",
        "acme/-x",
        "acme/x-",
        "acme/x___y",
        "acme/x..y",
        "acme/x._y",
        "../etc",
        "acme/x?y",
        "acme/x y",
        "acme/%2e",
        "ácme/x",
    ] {
        assert!(!valid_repository(bad), "{bad:?}");
    }
    assert!(!valid_repository(&"a".repeat(256)));
    assert!(valid_repository(&"a".repeat(255)));
}

#[test]
fn realm_policy() {
    assert!(realm_url("https://auth.example.com/token", true).is_ok());
    assert!(realm_url("https://auth.example.com/token?x=1", false).is_ok());
    assert!(realm_url("http://127.0.0.1:8080/token", true).is_ok());
    assert!(realm_url("http://localhost/token", true).is_ok());
    assert!(realm_url("http://auth.example.com/token", false).is_ok());
    match realm_url("http://auth.example.com/token", true) {
        Err(StepOutcome::Unexpected { status: 0, message }) => {
            assert!(message.contains("plain http"), "{message}");
            assert!(message.contains("password was not sent"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    for bad in [
        "ftp://auth.example.com/token",
        "file:///etc/passwd",
        "/token",
        "auth.example.com/token",
        "",
        "not a url",
        "https:///token",
    ] {
        assert!(
            matches!(
                realm_url(bad, false),
                Err(StepOutcome::Unexpected { status: 0, .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn jwt_access_claim() {
    let repo = "acme/frontend";
    let grant = |actions: &str| {
        jwt(&format!(
            r#"{{"sub":"u","access":[{{"type":"repository","name":"acme/frontend","actions":{actions}}}]}}"#
        ))
    };
    assert_eq!(
        jwt_grants_push(&grant(r#"["pull","push"]"#), repo),
        Some(true)
    );
    assert_eq!(
        jwt_grants_push(&grant(r#"["push","pull"]"#), repo),
        Some(true)
    );
    assert_eq!(jwt_grants_push(&grant(r#"["*"]"#), repo), Some(true));
    assert_eq!(jwt_grants_push(&grant(r#"["pull"]"#), repo), Some(false));
    assert_eq!(jwt_grants_push(&grant(r#"[]"#), repo), Some(false));
    assert_eq!(jwt_grants_push(&grant("null"), repo), Some(false));
    assert_eq!(
        jwt_grants_push(&grant(r#"["pull","push"]"#), "acme/backend"),
        Some(false)
    );
    assert_eq!(jwt_grants_push(&jwt(r#"{"access":[]}"#), repo), Some(false));
    let registry_scope = jwt(
        r#"{"access":[{"type":"registry","name":"acme/frontend","actions":["push"]},{"type":"repository","name":"acme/frontend","actions":["push"]}]}"#,
    );
    assert_eq!(jwt_grants_push(&registry_scope, repo), Some(true));
    // Padded base64url is read too.
    let padded = format!(
        "h.{}.s",
        base64::engine::general_purpose::URL_SAFE.encode(
            r#"{"access":[{"type":"repository","name":"acme/frontend","actions":["push"]}]}x"#
                .trim_end_matches('x')
        )
    );
    assert_eq!(jwt_grants_push(&padded, repo), Some(true));
    // Not readable: fall back to the upload probe.
    for unreadable in [
        "opaque-token".to_string(),
        "a.b".to_string(),
        "a.b.c.d".to_string(),
        format!("h.{}.s", b64url("not json")),
        format!("h.{}.s", b64url(r#"{"sub":"u"}"#)),
        format!("h.{}.s", b64url(r#"{"access":"all"}"#)),
        format!("h.{}.s", b64url("[1,2]")),
        "h.!!!.s".to_string(),
    ] {
        assert_eq!(jwt_grants_push(&unreadable, repo), None, "{unreadable}");
    }
}

#[test]
fn codes_and_explanations() {
    let repo = || "acme/frontend".to_string();
    let all = [
        (StepOutcome::Ok, "ok"),
        (StepOutcome::BadCredentials, "bad_credentials"),
        (
            StepOutcome::PushDenied { repository: repo() },
            "push_denied",
        ),
        (
            StepOutcome::NameUnknown { repository: repo() },
            "name_unknown",
        ),
        (
            StepOutcome::Unreachable {
                reason: "connection refused".into(),
            },
            "unreachable",
        ),
        (
            StepOutcome::Tls {
                reason: "invalid peer certificate: UnknownIssuer".into(),
            },
            "tls",
        ),
        (
            StepOutcome::Unexpected {
                status: 500,
                message: "boom".into(),
            },
            "unexpected",
        ),
    ];
    for (outcome, code) in &all {
        assert_eq!(outcome.code(), *code);
        assert_eq!(outcome.is_ok(), *code == "ok");
        let line = outcome.explain("reg.example.com");
        assert!(line.contains("reg.example.com"), "{line}");
        assert!(!line.contains('\n'), "{line}");
    }
    let bad = StepOutcome::BadCredentials.explain("r");
    assert!(bad.contains(
        "is the username the account name, not the nickname? is the password the registry's \
         fixed password, not the console password?"
    ));
    assert!(all[2].0.explain("r").contains("namespace `acme`"));
    assert!(all[3].0.explain("r").contains("NAME_UNKNOWN"));
    assert!(all[6].0.explain("r").contains("HTTP 500"));
    let no_status = StepOutcome::Unexpected {
        status: 0,
        message: "m".into(),
    };
    assert_eq!(no_status.explain("r"), "r: m");
}

#[test]
fn report_ok_and_problems() {
    let mut report = ProbeReport {
        registry: "r".into(),
        login: StepOutcome::Ok,
        repositories: vec![("a/b".into(), StepOutcome::Ok)],
    };
    assert!(report.is_ok());
    assert!(report.problems().is_empty());
    report.repositories.push((
        "a/c".into(),
        StepOutcome::PushDenied {
            repository: "a/c".into(),
        },
    ));
    assert!(!report.is_ok());
    assert_eq!(report.problems().len(), 1);
    let failed = ProbeReport {
        registry: "r".into(),
        login: StepOutcome::BadCredentials,
        repositories: vec![],
    };
    assert!(!failed.is_ok());
}

fn probe(registry: &str, username: &str, password: &str, push: &[&str]) -> Probe {
    Probe {
        registry: Filled::literal(registry),
        username: Filled::literal(username),
        password: SecretString::from(password.to_string()),
        push: push.iter().map(|p| Filled::literal(p)).collect(),
    }
}

#[test]
fn scrub_removes_an_echoed_password() {
    let mut report = ProbeReport {
        registry: "r".into(),
        login: StepOutcome::Unexpected {
            status: 400,
            message: "bad password hunter2-secret given as dTpodW50ZXIyLXNlY3JldA==".into(),
        },
        repositories: vec![(
            "a/b".into(),
            StepOutcome::Unreachable {
                reason: "hunter2-secret".into(),
            },
        )],
    };
    Scrubber::for_probe(&probe("r", "u", "hunter2-secret", &[])).report(&mut report);
    let all = format!("{report:?}");
    assert!(!all.contains("hunter2-secret"), "{all}");
    assert!(!all.contains("dTpodW50ZXIyLXNlY3JldA"), "{all}");
    assert!(all.contains("[REDACTED]"));
}

#[test]
fn probe_debug_hides_the_password() {
    let probe = probe("r", "u", "pw-canary-77", &[]);
    assert!(!format!("{probe:?}").contains("pw-canary-77"));
    let c = Credential::basic("u", &probe.password);
    // The header value is marked sensitive, so it prints redacted too.
    let (_, value) = c.header().map_err(|_| ()).expect("a header");
    assert!(value.is_sensitive());
    assert!(!format!("{value:?}").contains("cHctY2FuYXJ5"));
    let bad = Credential::bearer(&SecretString::from("a\nb".to_string()));
    assert!(bad.header().is_err());
}

#[test]
fn registry_error_bodies() {
    let r = |body: &str| Response {
        status: 500,
        headers: http::HeaderMap::new(),
        body: body.as_bytes().to_vec(),
    };
    assert_eq!(
        detail(&r(
            r#"{"errors":[{"code":"DENIED","message":"no"},{"code":"X"}]}"#
        )),
        "; the registry said: DENIED: no; X"
    );
    assert_eq!(detail(&r("")), "");
    assert_eq!(detail(&r("line\none\r\n")), "; the registry said: line one");
    assert!(detail(&r(&"x".repeat(1000))).ends_with("..."));
    assert!(error_codes(b"{\"errors\":7}").is_empty());
    assert!(error_codes(b"\xff\xfe").is_empty());
    assert_eq!(
        error_codes(br#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#),
        vec![("NAME_UNKNOWN".to_string(), String::new())]
    );
}

#[test]
fn query_encoding() {
    assert_eq!(
        encode("repository:acme/app:push,pull"),
        "repository%3Aacme%2Fapp%3Apush%2Cpull"
    );
    assert_eq!(encode("a b&c=d é"), "a%20b%26c%3Dd%20%C3%A9");
    assert_eq!(encode("Registry.io-1_~"), "Registry.io-1_~");
}

#[tokio::test]
async fn malformed_inputs_need_no_network() {
    let report = check(&probe("reg.io/acme", "u", "p", &["acme/app"])).await;
    assert!(matches!(
        report.login,
        StepOutcome::Unexpected { status: 0, .. }
    ));
    assert!(report.repositories.is_empty());
}

/// A field filled with `value` from the secret `name`, as `[[checks]]` fills it.
fn secret(name: &str, value: &str, rest: &str) -> Filled {
    let template = crate::config::Template {
        secret: Some(name.into()),
        rest: rest.into(),
    };
    Filled::new(&template, Some(&SecretString::from(value)))
}

#[tokio::test]
async fn a_malformed_secret_registry_is_named_not_shown() {
    let probe = Probe {
        registry: secret("REG", "canary-reg.example/acme", ""),
        ..probe("r", "u", "p", &[])
    };
    let report = check(&probe).await;
    let text = format!("{report:?} {:?}", report.problems());
    assert!(!text.contains("canary-reg"), "{text}");
    assert!(
        text.contains("registry `secret:REG` is not host[:port]"),
        "{text}"
    );
}

#[test]
fn server_echoes_are_scrubbed_of_every_value() {
    let probe = Probe {
        registry: secret("REG", "Canary-Host.example:5000", ""),
        username: secret("USER", "canary-user", ""),
        push: vec![secret("NS", "canary ns", "/app")],
        ..probe("r", "u", "pw-canary-77", &[])
    };
    let scrubber = Scrubber::for_probe(&probe);
    let echoed = "realm https://canary-host.example/token for CANARY-HOST.EXAMPLE:5000, \
                  account=canary-user scope=repository%3Acanary%20ns%2Fapp, canary ns/app, pw-canary-77";
    assert_eq!(
        scrubber.text(echoed),
        "realm https://secret:REG/token for secret:REG, account=secret:USER \
         scope=repository%3Asecret:NS%2Fapp, secret:NS/app, [REDACTED]"
    );
}

#[test]
fn tls_errors_never_name_the_host() {
    let name = rustls::pki_types::ServerName::try_from("canary-tls-host.example").expect("name");
    let error =
        rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForNameContext {
            expected: name,
            presented: vec!["canary-tls-host.example.evil".into()],
        });
    let words = super::transport::describe_tls(&error);
    assert!(!words.contains("canary-tls-host"), "{words}");
    assert!(words.contains("not valid for this host name"), "{words}");
}

#[test]
fn invalid_names_are_answered_without_asking_a_resolver() {
    for host in ["canary.invalid", "A.B.INVALID.", "invalid"] {
        assert!(super::transport::is_reserved_invalid(host), "{host}");
    }
    for host in [
        "invalid.example",
        "example.invalidx",
        "localhost",
        "127.0.0.1",
    ] {
        assert!(!super::transport::is_reserved_invalid(host), "{host}");
    }
}
