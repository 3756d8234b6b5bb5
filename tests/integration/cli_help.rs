//! The command line as a user reads it: each subcommand's help shows the flags it uses and no
//! others, `completions` names every shell it accepts, the man page refers only to pages that
//! exist, and no message sends the user to a file the binary does not come with.

use clap::ValueEnum as _;

use crate::support::{Env, ALIYUN};

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
        ("doctor", true, false, true),
        ("audit", true, false, true),
        ("check", true, false, false),
        ("init", true, false, false),
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

/// Scripts that put these flags before the subcommand, as when they were global, still work.
#[test]
fn flags_before_the_subcommand_are_still_accepted() {
    let env = Env::new();
    env.config(ALIYUN);
    let config = env.path("secretsync.toml");
    let out = env
        .command(env!("CARGO_BIN_EXE_secretsync"))
        .arg("--config")
        .arg(&config)
        .args(["--retries", "0", "plan", "--concurrency", "1"])
        .env("ALIYUN_PASSWORD", "Pass-word1")
        .run();
    out.assert_code(0);
    assert!(out.stdout.contains("ALIYUN_PASSWORD"), "{}", out.stdout);
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
