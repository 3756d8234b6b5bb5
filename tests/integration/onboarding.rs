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
    let out = env
        .cmd(&["apply", "--yes"])
        .env("ALIYUN_PASSWORD", "Fixed-Pass1")
        .run();
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
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
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
    env.cmd(&["apply", "--yes"])
        .env("ALIYUN_PASSWORD", "Old-Pass1")
        .run()
        .assert_code(0);
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
    assert_eq!(env.counts(), (2, 1, 1, 0), "list, key, one write, list");
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
