//! `registry::wwwauth` on arbitrary text: never panics; what it parses is well formed (schemes and
//! parameter names are non-empty lower-case tokens, names unique, a token68 only without
//! parameters); and parsing a header written from the parsed challenges gives them back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secretsync::registry::wwwauth::{parse_challenges, parse_www_authenticate, Challenge};

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar) && s.bytes().all(|b| !b.is_ascii_uppercase())
}

/// The challenges as a header value: quoted values with `"` and `\` escaped.
fn write(challenges: &[Challenge]) -> String {
    challenges
        .iter()
        .map(|c| {
            let mut out = c.scheme.clone();
            if let Some(t68) = &c.token68 {
                out.push(' ');
                out.push_str(t68);
            }
            let params: Vec<String> = c
                .params
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect();
            if !params.is_empty() {
                out.push(' ');
                out.push_str(&params.join(", "));
            }
            out
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let challenges = parse_challenges(&text);
    assert_eq!(
        parse_www_authenticate(&text).as_ref(),
        challenges.first(),
        "parse_www_authenticate is the first of parse_challenges"
    );
    for c in &challenges {
        assert!(is_token(&c.scheme), "scheme {:?} in {text:?}", c.scheme);
        assert!(c.token68.is_none() || c.params.is_empty(), "{c:?}");
        if let Some(t68) = &c.token68 {
            assert!(!t68.is_empty(), "{c:?}");
        }
        for (i, (name, _)) in c.params.iter().enumerate() {
            assert!(is_token(name), "parameter name {name:?} in {text:?}");
            assert!(
                !c.params[..i].iter().any(|(k, _)| k.eq_ignore_ascii_case(name)),
                "parameter {name:?} twice in {c:?}"
            );
        }
    }
    let written = write(&challenges);
    assert_eq!(
        parse_challenges(&written),
        challenges,
        "round trip through {written:?} (from {text:?})"
    );
});
