//! `config::parse` on arbitrary UTF-8: never panics; on failure every problem has a non-empty
//! message and, when it has a line, one inside the text.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Err(problems) = secretsync::config::parse(text, Path::new("fuzz.toml"), Path::new("/"))
    else {
        return;
    };
    assert!(!problems.is_empty(), "Err with no problem for {text:?}");
    let last_line = text.lines().count() + 1;
    for problem in &problems {
        assert!(
            !problem.message.trim().is_empty(),
            "empty message {problem:?} for {text:?}"
        );
        if let Some(line) = problem.line {
            assert!(
                (1..=last_line).contains(&line),
                "line {line} outside 1..={last_line}: {problem:?} for {text:?}"
            );
        }
    }
});
