//! `registry::wwwauth` on arbitrary text: never panics; what it parses is well formed (schemes and
//! parameter names are non-empty lower-case tokens, names unique, a token68 only without
//! parameters); and parsing a header written from the parsed challenges gives them back, as it
//! does each challenge written alone, with its scheme and names in upper case, or with a
//! parameter sent twice (the first value counts).
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

/// `c` with its scheme and parameter names in upper case (they are case-insensitive), and its
/// first parameter sent again with another value (the first one sent counts).
fn shouted(c: &Challenge) -> Challenge {
    let mut loud = Challenge {
        scheme: c.scheme.to_ascii_uppercase(),
        params: c
            .params
            .iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v.clone()))
            .collect(),
        token68: c.token68.clone(),
    };
    if let Some((name, value)) = c.params.first() {
        loud.params.push((name.clone(), format!("{value}-again")));
    }
    loud
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let challenges = parse_challenges(&text);
    for c in &challenges {
        assert!(is_token(&c.scheme), "scheme {:?} in {text:?}", c.scheme);
        assert!(c.token68.is_none() || c.params.is_empty(), "{c:?}");
        if let Some(t68) = &c.token68 {
            assert!(!t68.is_empty(), "{c:?}");
        }
        for (i, (name, _)) in c.params.iter().enumerate() {
            assert!(is_token(name), "parameter name {name:?} in {text:?}");
            assert!(
                !c.params[..i]
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case(name)),
                "parameter {name:?} twice in {c:?}"
            );
        }
        let alone = write(std::slice::from_ref(c));
        assert_eq!(
            parse_www_authenticate(&alone).as_ref(),
            Some(c),
            "alone as {alone:?}"
        );
        let loud = write(&[shouted(c)]);
        assert_eq!(
            parse_challenges(&loud),
            vec![c.clone()],
            "shouted as {loud:?}"
        );
    }
    let written = write(&challenges);
    assert_eq!(
        parse_challenges(&written),
        challenges,
        "round trip through {written:?} (from {text:?})"
    );
});
