//! What people read: long names and values in the plan, why a declared name is pruned, which
//! repositories an access change adds and removes, a failed target said once, `rotate --stdin`
//! named as such, `check`'s success lines, and rate-limit waits as plain lines.

use crate::support::{Env, ALIYUN, REPO};

#[test]
fn long_names_and_values_are_cut_and_pad_nothing_else() {
    let env = Env::new();
    let scope = secretsync_sandbox::Scope::Repo(REPO.into());
    env.sandbox
        .set_variable_outside(&scope, "LONG", &"o".repeat(40_000));
    env.config(&format!(
        "[secrets.{}]\nvalue = \"x\"\n[secrets.SHORT]\nvalue = \"s\"\n\
         [variables.LONG]\nvalue = \"{}\"\n[variables.MID]\nvalue = \"{}\"\n\
         [[targets]]\nrepo = \"{REPO}\"\n",
        "A".repeat(65_536),
        "n".repeat(40_000),
        "m".repeat(3_000),
    ));
    let out = env.cmd(&["plan"]).run();
    out.assert_code(0);
    let line = |needle: &str| {
        out.stdout
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| {
                panic!(
                    "no line with {needle}:\n{}",
                    &out.stdout[..2000.min(out.stdout.len())]
                )
            })
    };
    assert!(line("AAAA").contains("… (65536 characters)"));
    let long = line("vars.LONG");
    assert!(
        long.contains("… (40000 characters) -> \"nnnn") && long.chars().count() < 200,
        "{long}"
    );
    for l in out.stdout.lines() {
        let head: String = l.chars().take(200).collect();
        assert!(l.chars().count() < 200, "a long line: {head}");
    }
    // One outlier widens no other line.
    let short = line("SHORT");
    assert!(
        short.chars().count() < 80,
        "padded: {} characters",
        short.len()
    );
}

#[test]
fn a_workflow_with_a_huge_secret_name_is_audited() {
    let env = Env::new();
    env.config(ALIYUN);
    std::fs::create_dir_all(env.path(".github/workflows")).expect("mkdir");
    let huge = "B".repeat(70_000);
    env.write(
        ".github/workflows/ci.yml",
        &format!("on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: echo ${{{{ secrets.{huge} }}}}\n"),
    );
    let out = env.cmd(&["audit", "--offline"]).run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("… (70000 characters)"),
        "{}",
        out.stderr
    );
}

#[test]
fn prune_says_why_a_declared_name_is_not_this_targets() {
    let env = Env::new();
    let scope = secretsync_sandbox::Scope::Repo(REPO.into());
    env.sandbox.put_outside(REPO, "OTHER_KEY", b"x");
    env.sandbox.put_outside(REPO, "STRAY", b"x");
    env.sandbox.set_variable_outside(&scope, "OTHER_VAR", "v");
    env.config(&format!(
        "[secrets.MAIN_KEY]\nvalue = \"m\"\n[secrets.OTHER_KEY]\nvalue = \"o\"\n\
         [variables.MAIN_VAR]\nvalue = \"m\"\n[variables.OTHER_VAR]\nvalue = \"o\"\n\
         [[targets]]\nrepo = \"{REPO}\"\nsecrets = [\"MAIN_*\"]\nvariables = [\"MAIN_*\"]\n"
    ));
    let kept = env.cmd(&["plan"]).run();
    kept.assert_code(0);
    let pruned = env.cmd(&["plan", "--prune"]).run();
    pruned.assert_code(0);
    let line = |out: &str, name: &str| {
        out.lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("no {name} in:\n{out}"))
            .to_string()
    };
    for (name, key) in [("OTHER_KEY", "secrets"), ("vars.OTHER_VAR", "variables")] {
        let why = format!(
            "declared, but not selected for this target by {key} = [\"MAIN_*\"] on line 12"
        );
        let k = line(&kept.stdout, name);
        assert!(k.contains(&why) && k.contains("kept"), "{k}");
        let p = line(&pruned.stdout, name);
        assert!(p.contains(&why) && p.contains("--prune deletes it"), "{p}");
    }
    // A name the config does not declare at all is still "not declared".
    assert!(line(&pruned.stdout, "STRAY").contains("not declared"));
    let json = env.cmd(&["plan", "--prune", "--json"]).run();
    let doc: serde_json::Value = json.json();
    let other = doc["targets"][0]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["name"] == "OTHER_KEY")
        .expect("OTHER_KEY")
        .clone();
    assert_eq!(other["reason_code"], "prune");
    assert!(other["reason"]
        .as_str()
        .unwrap_or("")
        .contains("not selected"));
}

#[test]
fn an_access_change_names_the_repositories_added_and_removed() {
    let env = Env::new();
    env.sandbox.add_repo(REPO);
    env.sandbox.add_repo("acme/web");
    env.sandbox.add_repo("acme/api");
    let config = |visibility: &str, repositories: &str| {
        env.config(&format!(
            "[secrets.NPM_TOKEN]\nvalue = \"npm-1\"\n[[targets]]\norg = \"acme\"\nvisibility = \"{visibility}\"\n{repositories}"
        ))
    };
    config("selected", "repositories = [\"shop\", \"web\"]\n");
    env.apply();
    config("selected", "repositories = [\"web\", \"api\"]\n");
    let plan = env.cmd(&["plan"]).run();
    assert!(
        plan.stdout
            .contains("access selected: +acme/api -acme/shop; value kept"),
        "{}",
        plan.stdout
    );
    let json = env.cmd(&["plan", "--json"]).run();
    let doc: serde_json::Value = json.json();
    assert_eq!(
        doc["targets"][0]["changes"][0]["reason"],
        "access selected: +acme/api -acme/shop; value kept"
    );
    config("all", "");
    let plan = env.cmd(&["plan"]).run();
    assert!(
        plan.stdout
            .contains("access selected (acme/shop, acme/web) -> all; value kept"),
        "{}",
        plan.stdout
    );
}

#[test]
fn a_failed_target_is_said_once_and_not_called_nothing_to_change() {
    let env = Env::new();
    env.config(&format!(
        "[secrets.A]\nvalue = \"x\"\n[[targets]]\nrepo = \"acme/nope\"\n[[targets]]\nrepo = \"{REPO}\"\n"
    ));
    env.cmd(&["apply", "--yes"]).run().assert_code(1);
    for args in [&["plan"][..], &["apply", "--yes"]] {
        let out = env.cmd(args).run();
        out.assert_code(1);
        let all = format!("{}{}", out.stdout, out.stderr);
        assert_eq!(
            all.matches("was not found (404)").count(),
            1,
            "{args:?}:\n{all}"
        );
        assert!(
            out.stderr.starts_with("error: `acme/nope` was not found"),
            "{}",
            out.stderr
        );
        assert!(
            out.stdout.contains(
                "1 target(s) could not be planned; the others are in sync: 1 unchanged, 0 extra."
            ) && !out.stdout.contains("Nothing to change"),
            "{args:?}:\n{}",
            out.stdout
        );
    }
}

#[test]
fn rotate_from_stdin_names_its_source_stdin() {
    let env = Env::new();
    env.config(ALIYUN);
    env.apply_with_password("Fixed-Pass1").assert_code(0);
    let out = env
        .cmd(&["rotate", "ALIYUN_PASSWORD", "--stdin", "--yes", "--json"])
        .stdin_text("Rotated-Pass2\n")
        .run();
    out.assert_code(0);
    let doc: serde_json::Value = out.json();
    assert_eq!(doc["targets"][0]["changes"][0]["source"], "stdin");
    let text = env
        .cmd(&["rotate", "ALIYUN_PASSWORD", "--stdin", "--yes"])
        .stdin_text("Rotated-Pass3\n")
        .run();
    text.assert_code(0);
    assert!(text.stdout.contains("[stdin]"), "{}", text.stdout);
}

/// An open registry on loopback: `/v2/` answers without a login, uploads start and cancel.
fn open_registry(runtime: &tokio::runtime::Runtime) -> String {
    use axum::http::{Method, StatusCode, Uri};
    use axum::response::IntoResponse;
    let app = axum::Router::new().fallback(|method: Method, uri: Uri| async move {
        match (method.as_str(), uri.path()) {
            ("GET", "/v2/") => StatusCode::OK.into_response(),
            ("POST", p) if p.ends_with("/blobs/uploads/") => {
                (StatusCode::ACCEPTED, [("location", format!("{p}upload-1"))]).into_response()
            }
            ("DELETE", _) => StatusCode::NO_CONTENT.into_response(),
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    });
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr.to_string()
}

#[test]
fn check_success_lines_read_cleanly() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let addr = open_registry(&runtime);
    let env = Env::new();
    env.config(&format!(
        "{ALIYUN}[secrets.REG_HOST]\nvalue = \"{addr}\"\n[[checks]]\nregistry = \"secret:REG_HOST\"\n\
         username = \"u\"\npassword = \"secret:ALIYUN_PASSWORD\"\npush = [\"acme/app\"]\n"
    ));
    let out = env
        .cmd(&["check"])
        .env("ALIYUN_PASSWORD", "Fixed-Pass1")
        .run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("  ok   logged in to secret:REG_HOST\n")
            && out.stdout.contains("  ok   may push to acme/app\n")
            && !out.stdout.contains(": ok"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_rejected_token_is_said_once_for_every_target() {
    let env = Env::new();
    env.config(&format!(
        "[secrets.A]\nvalue = \"x\"\n[[targets]]\nrepo = \"acme/web\"\n[[targets]]\nrepo = \"{REPO}\"\n"
    ));
    let out = env.cmd(&["plan"]).env("GH_TOKEN", "wrong-token").run();
    out.assert_code(1);
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert!(
        errors.len() == 1
            && errors[0].contains("rejected the token (401")
            && errors[0].ends_with("(and 1 more target(s) alike)"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout.matches("! failed").count(), 2, "{}", out.stdout);
}
