//! Onboarding and rotation without a keyring: `init`, value rules in plan/apply, checks gating
//! apply, `rotate --stdin`, and the generated completions and man page.

use crate::support::{Env, ALIYUN, REPO};

#[test]
fn init_writes_a_valid_config_and_never_overwrites_by_accident() {
    let env = Env::new();
    let out = env
        .cmd(&["init", "--preset", "aliyun-acr", "--repo", REPO])
        .run();
    out.assert_code(0);
    let text = std::fs::read_to_string(env.path("secretsync.toml")).expect("written");
    assert!(
        text.contains("[[checks]]") && text.contains("min_length = 8"),
        "{text}"
    );
    assert!(text.contains("remember = true") && text.contains(&format!("repo = \"{REPO}\"")));
    let config = secretsync::config::load(&env.path("secretsync.toml")).expect("a valid config");
    assert_eq!(config.secrets.len(), 4);

    std::fs::write(env.path("secretsync.toml"), "# mine\n").unwrap();
    let again = env.cmd(&["init"]).run();
    again.assert_code(1);
    assert!(
        again.stderr.contains("exists already") && again.stderr.contains("--force"),
        "{}",
        again.stderr
    );
    assert_eq!(
        std::fs::read_to_string(env.path("secretsync.toml")).unwrap(),
        "# mine\n"
    );
    env.cmd(&["init", "--force"]).run().assert_code(0);
    assert!(secretsync::config::load(&env.path("secretsync.toml")).is_ok());

    let unknown = env.cmd(&["init", "--force", "--preset", "nope"]).run();
    unknown.assert_code(1);
    assert!(unknown.stderr.contains("aliyun-acr"), "{}", unknown.stderr);
}

const RULED: &str = r#"
[secrets.ALIYUN_USERNAME]
env = "ALIYUN_USERNAME"
pattern = '^\S+$'

[secrets.ALIYUN_PASSWORD]
env = "ALIYUN_PASSWORD"
min_length = 8
require = ["upper", "lower", "digit"]

[[targets]]
repo = "acme/shop"
"#;

#[test]
fn rules_stop_plan_and_apply_before_any_request() {
    let env = Env::new();
    env.config(RULED);
    for command in [&["plan"][..], &["apply", "--yes"][..]] {
        let out = env
            .cmd(command)
            .env("ALIYUN_USERNAME", "Acme Nickname")
            .env("ALIYUN_PASSWORD", "consolepw")
            .run();
        out.assert_code(1);
        assert!(
            out.stderr
                .contains("`ALIYUN_USERNAME` does not match its `pattern`"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("`ALIYUN_PASSWORD` lacks an upper-case letter"),
            "{}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("consolepw") && !out.stderr.contains("Nickname"),
            "{}",
            out.stderr
        );
    }
    assert!(
        env.requests().is_empty(),
        "rules are checked before anything else"
    );
    let ok = env
        .cmd(&["apply", "--yes"])
        .env("ALIYUN_USERNAME", "acme-account")
        .env("ALIYUN_PASSWORD", "Fixed-Pass1")
        .run();
    ok.assert_code(0);
}

#[test]
fn a_failing_check_stops_apply_unless_skipped() {
    let env = Env::new();
    // Port 9 on loopback: nothing listens, so the registry is unreachable.
    env.config(&format!(
        "{ALIYUN}\n[[checks]]\nregistry = \"127.0.0.1:9\"\nusername = \"secret:ALIYUN_USERNAME\"\npassword = \"secret:ALIYUN_PASSWORD\"\npush = [\"secret:ALIYUN_NAMESPACE/app\"]\n"
    ));
    let out = env.apply_with_password("Fixed-Pass1");
    out.assert_code(1);
    assert!(out.stdout.contains("check on line"), "{}", out.stdout);
    assert!(out.stderr.contains("--skip-checks"), "{}", out.stderr);
    assert!(env.requests().is_empty(), "nothing reached GitHub");
    for shown in [&out.stdout, &out.stderr] {
        assert!(
            !shown.contains("acme-account") && !shown.contains("Fixed-Pass1"),
            "{shown}"
        );
    }
    let check = env
        .cmd(&["check"])
        .env("ALIYUN_PASSWORD", "Fixed-Pass1")
        .run();
    check.assert_code(1);
    let json = env
        .cmd(&["check", "--json"])
        .env("ALIYUN_PASSWORD", "Fixed-Pass1")
        .run();
    let doc: serde_json::Value = json.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["checks"][0]["login"]["code"], "unreachable");
    let skipped = env
        .cmd(&["apply", "--yes", "--skip-checks"])
        .env("ALIYUN_PASSWORD", "Fixed-Pass1")
        .run();
    skipped.assert_code(0);
    assert_eq!(env.sandbox.names(REPO).len(), 4);
}

#[test]
fn rotate_from_stdin_writes_only_that_secret() {
    let env = Env::new();
    env.config(ALIYUN);
    env.apply_with_password("Old-Pass1").assert_code(0);
    env.sandbox.clear_requests();
    let out = env
        .cmd(&["rotate", "ALIYUN_PASSWORD", "--stdin", "--yes"])
        .stdin_text("New-Pass2\n")
        .env("ALIYUN_PASSWORD", "Old-Pass1")
        .run();
    out.assert_code(0);
    assert_eq!(
        env.plaintext("ALIYUN_PASSWORD").as_deref(),
        Some("New-Pass2")
    );
    assert_eq!(env.counts(), (1, 1, 1, 0), "list and key, one write");
    assert!(
        !out.stdout.contains("ALIYUN_USERNAME"),
        "only the rotated secret is shown: {}",
        out.stdout
    );
    // Its source is env, which still holds the old value: rotate says so.
    assert!(
        out.stdout.contains("warning: `ALIYUN_PASSWORD` comes from env `ALIYUN_PASSWORD`, which rotate cannot update"),
        "{}",
        out.stdout
    );

    let bad = env
        .cmd(&["rotate", "ALIYUN_PASWORD", "--stdin", "--yes"])
        .stdin_text("x\n")
        .run();
    bad.assert_code(1);
    assert!(
        bad.stderr.contains("did you mean `ALIYUN_PASSWORD`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn completions_and_man_page_generate() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = env.cmd(&["completions", shell]).run();
        out.assert_code(0);
        assert!(
            out.stdout.contains("secretsync") && out.stdout.contains("rotate"),
            "{shell}"
        );
    }
    let man = env.cmd(&["man"]).run();
    man.assert_code(0);
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    assert!(man.stdout.contains("secretsync"));
}

/// `init --force` over a link replaces the link with a file; the file it pointed to, which may
/// be anywhere (a dotfiles checkout, /etc), is left as it was.
#[test]
fn init_force_replaces_a_link_and_never_writes_through_it() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("elsewhere")).unwrap();
    env.write("elsewhere/theirs.toml", "# not yours to overwrite\n");
    std::os::unix::fs::symlink(
        env.path("elsewhere/theirs.toml"),
        env.path("secretsync.toml"),
    )
    .unwrap();
    let out = env.cmd(&["init", "--force", "--repo", REPO]).run();
    out.assert_code(0);
    assert_eq!(
        std::fs::read_to_string(env.path("elsewhere/theirs.toml")).unwrap(),
        "# not yours to overwrite\n",
        "init wrote through the link"
    );
    let meta = std::fs::symlink_metadata(env.path("secretsync.toml")).unwrap();
    assert!(meta.file_type().is_file(), "still a link: {meta:?}");
    assert!(secretsync::config::load(&env.path("secretsync.toml")).is_ok());
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".secretsync-init")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A config reached through a link reads its `file` sources beside the real config, where
/// they were written with it, not beside the link.
#[test]
fn file_sources_of_a_linked_config_are_read_beside_the_real_config() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("real")).unwrap();
    std::fs::create_dir_all(env.path("linked")).unwrap();
    env.write(
        "real/secretsync.toml",
        &format!(
            "[github]\napi_url = \"{}\"\n\n[secrets.DEPLOY_KEY]\nfile = \"deploy.txt\"\n\n[[targets]]\nrepo = \"{REPO}\"\n",
            env.sandbox.api_url()
        ),
    );
    env.write("real/deploy.txt", "from-the-real-folder\n");
    env.write("linked/deploy.txt", "decoy-beside-the-link\n");
    std::os::unix::fs::symlink(
        env.path("real/secretsync.toml"),
        env.path("linked/secretsync.toml"),
    )
    .unwrap();
    env.command(env!("CARGO_BIN_EXE_secretsync"))
        .args([
            "apply",
            "--yes",
            "--config",
            "linked/secretsync.toml",
            "--state-dir",
            "state",
        ])
        .run()
        .assert_code(0);
    assert_eq!(
        env.plaintext("DEPLOY_KEY").as_deref(),
        Some("from-the-real-folder")
    );
}

/// Kills the sandbox process when the test ends, pass or fail.
struct Sandbox(std::process::Child);

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The shell lines of README's rehearsal block, comments and all.
fn readme_rehearsal() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let after = readme
        .split_once("To rehearse offline")
        .expect("README has a rehearsal")
        .1;
    let block = after
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a sh block")
        .0;
    block.lines().map(str::to_owned).collect()
}

/// `A=1 B=2 rest`: the leading assignments, and the rest.
fn assignments(line: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut vars = Vec::new();
    let mut words = line.split_whitespace().peekable();
    while let Some((key, value)) = words.peek().and_then(|w| w.split_once('=')) {
        if !key.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            break;
        }
        vars.push((key.to_owned(), value.to_owned()));
        words.next();
    }
    (vars, words.map(str::to_owned).collect())
}

/// README's rehearsal, run line by line as README.md has it today, right after
/// `init --preset aliyun-acr` (only the sandbox's port differs: 0, so tests never collide).
#[test]
fn the_readme_rehearsal_works_right_after_the_preset() {
    use std::io::BufRead as _;
    let env = Env::new();
    env.cmd(&["init", "--preset", "aliyun-acr", "--repo", REPO])
        .run()
        .assert_code(0);
    let mut sandbox = None;
    let mut api_url_line = String::new();
    let mut exported: Vec<(String, String)> = Vec::new();
    let mut applied = false;
    for line in readme_rehearsal() {
        let command = line.split("  #").next().unwrap_or("").trim();
        if let Some(edit) = line.strip_prefix("# in secretsync.toml: [github] ") {
            assert!(edit.starts_with("api_url = "), "{line}");
            let config = std::fs::read_to_string(env.path("secretsync.toml")).expect("config");
            let placeholder = "[github]\n# api_url = \"https://api.github.com\"\n";
            assert!(config.contains(placeholder), "{config}");
            let edited = format!("[github]\n{api_url_line}\n");
            env.write("secretsync.toml", &config.replace(placeholder, &edited));
        } else if let Some(args) = command.strip_prefix("secretsync sandbox ") {
            assert!(args.starts_with("--addr 127.0.0.1:"), "{line}");
            let mut child = Sandbox(
                env.command(env!("CARGO_BIN_EXE_secretsync"))
                    .args(["sandbox", "--addr", "127.0.0.1:0"])
                    .into_command()
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .expect("the sandbox starts"),
            );
            let mut first = String::new();
            std::io::BufReader::new(child.0.stdout.take().expect("stdout"))
                .read_line(&mut first)
                .expect("a first line");
            api_url_line = first.trim().to_owned();
            assert!(api_url_line.starts_with("api_url = \"http://"), "{first}");
            sandbox = Some(child);
        } else if let Some(rest) = command.strip_prefix("export ") {
            exported.extend(assignments(rest).0);
        } else if !command.is_empty() {
            let (vars, words) = assignments(command);
            assert_eq!(
                words.first().map(String::as_str),
                Some("secretsync"),
                "{line}"
            );
            let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
            let mut run = env.cmd(&args);
            for (key, value) in exported.iter().chain(&vars) {
                run = run.env(key, value);
            }
            let out = run.run();
            out.assert_code(0);
            assert!(out.stdout.contains("ALIYUN_PASSWORD"), "{}", out.stdout);
            applied = true;
        }
    }
    assert!(
        sandbox.is_some() && applied,
        "the rehearsal starts a sandbox and applies"
    );
    let values = [
        "ALIYUN_REGISTRY",
        "ALIYUN_NAMESPACE",
        "ALIYUN_USERNAME",
        "ALIYUN_PASSWORD",
    ];
    let mut plan = env
        .cmd(&["plan", "--detailed-exitcode"])
        .env("GH_TOKEN", "sandbox-token");
    for (key, value) in &exported {
        plan = plan.env(key, value);
    }
    let out = plan.run();
    out.assert_code(0);
    for name in values {
        assert!(out.stdout.contains(name), "{}", out.stdout);
    }
}
