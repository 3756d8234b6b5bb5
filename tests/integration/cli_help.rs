//! The command line as a user reads it: each subcommand's help shows the flags it uses and no
//! others, `completions` names every shell it accepts, the man page refers only to pages that
//! exist, and no message sends the user to a file the binary does not come with.

use clap::ValueEnum as _;

use crate::support::{Env, Output, ALIYUN};

const CONFIG: &str = "--config";
const STATE: &str = "--state-dir";
const NETWORK: [&str; 4] = ["--concurrency", "--max-wait", "--timeout", "--retries"];

/// `secretsync SUBCOMMAND --help` (or `secretsync --help`), from an empty folder.
fn help(env: &Env, subcommand: &str) -> String {
    let args = match subcommand {
        "--help" => vec!["--help"],
        _ => vec![subcommand, "--help"],
    };
    let out = env
        .command(env!("CARGO_BIN_EXE_secretsync"))
        .args(args)
        .run();
    out.assert_code(0);
    out.stdout
}

fn shows(help: &str, flag: &str) -> bool {
    help.lines()
        .any(|l| l.trim_start().split([' ', ',']).any(|word| word == flag))
}

#[test]
fn each_subcommand_shows_only_the_flags_it_uses() {
    let env = Env::new();
    // (subcommand, reads or writes a config, uses the state folder, talks to GitHub)
    let table = [
        ("plan", true, true, true),
        ("apply", true, true, true),
        ("rotate", true, true, true),
        ("adopt", true, true, true),
        ("doctor", true, false, true),
        ("audit", true, false, true),
        ("check", true, false, false),
        ("init", true, false, true),
        ("set", true, false, false),
        ("completions", false, false, false),
        ("man", false, false, false),
        ("sandbox", false, false, false),
        ("demo", false, false, false),
    ];
    let top = help(&env, "--help");
    for (subcommand, config, state, network) in table {
        let text = help(&env, subcommand);
        let mut expected = vec![(CONFIG, config), (STATE, state)];
        expected.extend(NETWORK.iter().map(|flag| (*flag, network)));
        for (flag, wanted) in expected {
            assert_eq!(
                shows(&text, flag),
                wanted,
                "`{subcommand} --help` and {flag}:\n{text}"
            );
            assert!(!shows(&top, flag), "top-level help shows {flag}:\n{top}");
        }
    }
}

/// The subcommands, from clap's own model, as the binary parses them.
fn subcommands() -> Vec<String> {
    secretsync::cli::command()
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .filter(|name| name != "help")
        .collect()
}

/// The long flags a help text shows, each with whether it takes a value (`--config <PATH>`).
fn shown_flags(help: &str) -> Vec<(String, bool)> {
    let mut flags = Vec::new();
    for line in help
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
    {
        let mut words = line.split([' ', ',']).filter(|w| !w.is_empty());
        while let Some(word) = words.next() {
            if let Some(long) = word.strip_prefix("--") {
                let takes_value = words.next().is_some_and(|next| next.starts_with('<'));
                flags.push((format!("--{}", long.trim_end_matches('.')), takes_value));
                break;
            }
        }
    }
    flags
}

/// `secretsync SUBCOMMAND FLAG [1] --help`: help when the flag is accepted, so nothing runs
/// either way; else clap's error (a value of `1` may be refused, which is not the question).
fn try_flag(env: &Env, subcommand: &str, flag: &str, takes_value: bool) -> Output {
    let mut args = vec![subcommand, flag];
    if takes_value {
        args.push("1");
    }
    args.push("--help");
    env.command(env!("CARGO_BIN_EXE_secretsync"))
        .args(args)
        .run()
}

/// What help says a subcommand takes is what it takes, and none of the flags that were once
/// global reaches a subcommand whose help does not show it.
#[test]
fn each_subcommand_takes_exactly_the_flags_its_help_shows() {
    let env = Env::new();
    let subcommands = subcommands();
    assert!(subcommands.len() >= 12, "{subcommands:?}");
    for subcommand in &subcommands {
        let text = help(&env, subcommand);
        let shown = shown_flags(&text);
        assert!(shown.iter().any(|(flag, _)| flag == "--verbose"), "{text}");
        for (flag, takes_value) in shown.iter().filter(|(flag, _)| flag != "--help") {
            let out = try_flag(&env, subcommand, flag, *takes_value);
            assert!(
                out.code == 0 || !out.stderr.contains("unexpected argument"),
                "`{subcommand}` shows {flag} but refuses it:\n{}",
                out.stderr
            );
        }
        for flag in [CONFIG, STATE].iter().chain(&NETWORK) {
            if shown.iter().any(|(f, _)| f == flag) {
                continue;
            }
            let out = try_flag(&env, subcommand, flag, true);
            out.assert_code(1);
            assert!(
                out.stderr
                    .contains(&format!("unexpected argument '{flag}' found")),
                "`{subcommand} {flag}`:\n{}",
                out.stderr
            );
        }
    }
}

/// A flag before the subcommand, where scripts put them when they were global, is a usage error
/// that says where it goes; as one that its subcommand does not take, it is never ignored.
#[test]
fn flags_before_the_subcommand_are_refused_with_where_they_go() {
    let env = Env::new();
    env.config(ALIYUN);
    for flag in [CONFIG, STATE].iter().chain(&NETWORK) {
        for args in [vec![*flag, "1", "plan"], vec![&format!("{flag}=1"), "plan"]] {
            let out = env
                .command(env!("CARGO_BIN_EXE_secretsync"))
                .args(&args)
                .run();
            out.assert_code(1);
            assert!(
                out.stderr
                    .contains(&format!("unexpected argument '{flag}' found"))
                    && out.stderr.contains(&format!(
                        "`{flag}` goes after the subcommand: `secretsync plan {flag} "
                    )),
                "{args:?}:\n{}",
                out.stderr
            );
        }
    }
    let short = env
        .command(env!("CARGO_BIN_EXE_secretsync"))
        .args(["-c", "secretsync.toml", "plan"])
        .run();
    short.assert_code(1);
    assert!(
        short
            .stderr
            .contains("`--config` goes after the subcommand"),
        "{}",
        short.stderr
    );
    // `-v` applies to every subcommand, so it stays accepted anywhere.
    env.cmd(&["-v", "plan"])
        .env("ALIYUN_PASSWORD", "Pass-word1")
        .run()
        .assert_code(0);
}

/// A network flag given to a subcommand that does not talk to GitHub says which ones do, and
/// `--json` still gets its error document.
#[test]
fn a_flag_the_subcommand_does_not_take_names_those_that_do() {
    let env = Env::new();
    let out = env.cmd(&["completions", "bash", "--timeout", "5"]).run();
    out.assert_code(1);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("`completions` does not take `--timeout`;")
            && out.stderr.contains("`secretsync plan --timeout SECONDS`"),
        "{}",
        out.stderr
    );
    let json = env
        .command(env!("CARGO_BIN_EXE_secretsync"))
        .args(["--config", "secretsync.toml", "plan", "--json"])
        .run();
    json.assert_code(1);
    let doc: serde_json::Value = json.json();
    assert_eq!(doc["ok"], false, "{doc}");
    assert_eq!(
        doc["error"]["message"], "unexpected argument '--config' found",
        "{doc}"
    );
}

#[test]
fn completions_help_names_every_shell_it_accepts() {
    let env = Env::new();
    let text = help(&env, "completions");
    for shell in clap_complete::Shell::value_variants() {
        let name = shell
            .to_possible_value()
            .expect("a shell has a name")
            .get_name()
            .to_string();
        // Once: one list, from clap's own, and no second list in prose that could disagree.
        assert_eq!(
            text.matches(name.as_str()).count(),
            1,
            "`{name}` in:\n{text}"
        );
        let script = env.cmd(&["completions", &name]).run();
        script.assert_code(0);
        assert!(!script.stdout.is_empty(), "no script for {name}");
    }
    assert!(text.contains("elvish"), "{text}");
}

/// Every `NAME(1)` a page names, as roff writes it (`secretsync\-plan(1)`).
fn references(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in page.match_indices("(1)") {
        let name: String = page[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '\\' | '_'))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        found.push(name.replace("\\-", "-"));
    }
    found
}

#[test]
fn the_printed_man_page_covers_every_subcommand_and_names_no_other_page() {
    let env = Env::new();
    let out = env.cmd(&["man"]).run();
    out.assert_code(0);
    assert!(out.stdout.starts_with(".ie") || out.stdout.contains(".TH secretsync 1"));
    assert_eq!(references(&out.stdout), Vec::<String>::new());
    for subcommand in ["plan", "apply", "doctor", "audit", "completions"] {
        assert!(
            out.stdout
                .contains(&format!(".SS \"secretsync {subcommand}\"")),
            "no section for {subcommand}"
        );
    }
}

#[test]
fn man_dir_writes_every_page_the_pages_refer_to() {
    let env = Env::new();
    let dir = env.path("man/man1");
    let out = env.cmd(&["man", "--dir"]).arg(&dir).run();
    out.assert_code(0);
    let main = std::fs::read_to_string(dir.join("secretsync.1")).expect("secretsync.1");
    let refs = references(&main);
    assert!(refs.contains(&"secretsync-plan".to_string()), "{refs:?}");
    let mut pages = 0;
    for entry in std::fs::read_dir(&dir).expect("the folder") {
        let page = std::fs::read_to_string(entry.expect("entry").path()).expect("a page");
        pages += 1;
        for name in references(&page) {
            assert!(
                dir.join(format!("{name}.1")).is_file(),
                "`{name}(1)` is referred to but not written"
            );
        }
    }
    assert_eq!(pages, out.stdout.lines().count(), "{}", out.stdout);
    assert!(!dir.join("secretsync-help.1").exists());
}

/// A user with only the binary has no README.md or config.example.toml to look at.
#[test]
fn messages_point_to_what_the_binary_provides() {
    let env = Env::new();
    let missing = env.cmd(&["plan"]).run();
    missing.assert_code(1);
    assert!(
        missing.stderr.contains("`secretsync init`"),
        "{}",
        missing.stderr
    );
    env.config(ALIYUN);
    let no_checks = env.cmd(&["check"]).run();
    no_checks.assert_code(1);
    assert!(
        no_checks
            .stderr
            .contains("secretsync init --preset aliyun-acr"),
        "{}",
        no_checks.stderr
    );
    for text in [&missing.stderr, &no_checks.stderr] {
        assert!(
            !text.contains("README") && !text.contains("config.example.toml"),
            "{text}"
        );
    }
}
