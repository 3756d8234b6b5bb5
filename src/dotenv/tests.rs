use super::*;

fn value(text: &str, key: &str) -> String {
    let entries = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
    entries
        .get(key)
        .unwrap_or_else(|| panic!("{key} in {text:?}"))
        .expose_secret()
        .to_owned()
}

fn problem(text: &str) -> (usize, Option<String>, Problem) {
    let e = parse(text).expect_err(text);
    (e.line, e.key, e.problem)
}

#[test]
fn catalogue_of_the_format_gh_reads() {
    let text = "# a comment\n\
                PLAIN=abc\n\
                SINGLE='a $HOME b'\n\
                DOUBLE=\"two words\"\n\
                export EXPORTED=yes\n\
                TRAILING=kept # a comment after a space\n\
                HASH=a#b\n\
                MULTI=\"line one\nline two\"\n\
                CRLF=windows\r\n\
                SPACED = unquoted words \n\
                YAML: style\n\
                DOT.TED=1\n\
                EMPTY=\n\
                AFTER=last\r\n";
    assert_eq!(value(text, "PLAIN"), "abc");
    assert_eq!(value(text, "SINGLE"), "a $HOME b");
    assert_eq!(value(text, "DOUBLE"), "two words");
    assert_eq!(value(text, "EXPORTED"), "yes");
    assert_eq!(value(text, "TRAILING"), "kept");
    assert_eq!(value(text, "HASH"), "a#b");
    assert_eq!(value(text, "MULTI"), "line one\nline two");
    assert_eq!(value(text, "CRLF"), "windows");
    assert_eq!(value(text, "SPACED"), "unquoted words");
    assert_eq!(value(text, "YAML"), "style");
    assert_eq!(value(text, "DOT.TED"), "1");
    assert_eq!(value(text, "EMPTY"), "");
    assert_eq!(value(text, "AFTER"), "last");
    assert_eq!(parse(text).expect("parses").len(), 13);
}

#[test]
fn escapes_in_double_quotes_only() {
    assert_eq!(value(r#"K="a\nb""#, "K"), "a\nb");
    assert_eq!(value(r#"K="a\rb""#, "K"), "a\rb");
    assert_eq!(value(r#"K="say \"hi\" now""#, "K"), "say \"hi\" now");
    assert_eq!(value(r#"K="back\\slash""#, "K"), "back\\slash");
    assert_eq!(value(r#"K="a\\nb""#, "K"), "a\\nb");
    assert_eq!(value(r#"K='a\nb'"#, "K"), "a\\nb");
    assert_eq!(value(r#"K=a\nb"#, "K"), "a\\nb");
    assert_eq!(value(r#"K="it's""#, "K"), "it's");
    assert_eq!(value(r#"K='say "hi"'"#, "K"), "say \"hi\"");
    // godotenv trims every quote at the ends: gh uploads `a\` for this.
    assert_eq!(value(r#"K="a\"""#, "K"), "a\\");
    assert_eq!(value("K=\"\"", "K"), "");
    assert_eq!(value("K=\"a\" # after\nL=2", "L"), "2");
}

#[test]
fn dollar_names_come_from_keys_above_only() {
    let text = "A=1\n\
                B=$A\n\
                C=\"${A}x\"\n\
                D='$A'\n\
                E=\"\\$A\"\n\
                F=\\$A\n\
                G=cost $\n\
                H=a$home\n\
                I=$A}\n";
    assert_eq!(value(text, "B"), "1");
    assert_eq!(value(text, "C"), "1x");
    assert_eq!(value(text, "D"), "$A");
    assert_eq!(value(text, "E"), "$A");
    assert_eq!(value(text, "F"), "$A");
    assert_eq!(value(text, "G"), "cost $");
    // Only upper-case names are names to godotenv.
    assert_eq!(value(text, "H"), "a$home");
    assert_eq!(value(text, "I"), "1");
}

#[test]
fn the_environment_never_fills_a_name() {
    // PATH is set in every test process; godotenv would put it here.
    assert!(std::env::var_os("PATH").is_some());
    for text in [
        "K=$PATH",
        "K=\"${PATH}\"",
        "A=1\nK=$A$PATH",
        "K=$LATER\nLATER=1",
    ] {
        let (line, key, what) = problem(text);
        assert_eq!(
            (key.as_deref(), what),
            (Some("K"), Problem::UnknownName),
            "{text}"
        );
        assert_eq!(
            line,
            text.lines().position(|l| l.starts_with("K=")).unwrap() + 1
        );
    }
}

#[test]
fn a_key_written_twice_keeps_its_last_value() {
    assert_eq!(value("K=first\nK=second\n", "K"), "second");
    assert_eq!(value("K=first\nK=$K-and-more\n", "K"), "first-and-more");
}

#[test]
fn errors_name_the_line_and_key_never_the_value() {
    let text = "A=1\nB=\"ok\"\nBROKEN=\"canary-value\nnever closed\n";
    assert_eq!(
        problem(text),
        (3, Some("BROKEN".into()), Problem::Unterminated)
    );
    assert_eq!(
        problem("A=1\r\nthis is not dotenv\r\n"),
        (2, None, Problem::NotKeyValue)
    );
    assert_eq!(problem("A=1\n\n  LAST"), (3, None, Problem::NotKeyValue));
    assert_eq!(problem("BAD-NAME=1"), (1, None, Problem::NotKeyValue));
    assert_eq!(
        problem("# c\nK='open"),
        (2, Some("K".into()), Problem::Unterminated)
    );
    for p in [
        Problem::NotKeyValue,
        Problem::Unterminated,
        Problem::UnknownName,
    ] {
        assert!(!p.to_string().contains('\n'));
    }
}

#[test]
fn blank_and_comment_only_texts_have_no_keys() {
    for text in ["", "\n\n", "# only\n# comments", "   \r\n\t"] {
        assert!(parse(text).expect(text).is_empty(), "{text:?}");
    }
}

#[test]
fn a_line_after_multi_line_values_is_numbered_as_the_file_has_it() {
    let text = "M='a\nb'\n# c\nN=\"c\nd\ne\"\nX=1\n\n  BAD\n";
    assert_eq!(problem(text), (9, None, Problem::NotKeyValue));
}

#[test]
fn a_parsed_file_debug_prints_no_value() {
    let entries = parse("K=canary-value\nL=\"$K and more\"\n").expect("parses");
    let shown = format!("{entries:?}");
    assert!(
        shown.contains("\"K\"") && !shown.contains("canary"),
        "{shown}"
    );
}
