//! The `--json` contract, mirrored here with `deny_unknown_fields`: a field added or renamed
//! without updating docs/json.md fails this test.

use serde::Deserialize;

use crate::support::{Env, ALIYUN, REPO};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    version: u32,
    command: String,
    ok: bool,
    targets: Vec<Target>,
    warnings: Vec<String>,
    summary: Summary,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Target {
    target: String,
    error: Option<ErrorBody>,
    changes: Vec<Change>,
    missing: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorBody {
    status: Option<u16>,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    kind: String,
    name: String,
    action: String,
    reason: String,
    reason_code: String,
    source: Option<String>,
    result: Option<WriteResult>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WriteResult {
    ok: bool,
    status: Option<u16>,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Summary {
    create: usize,
    update: usize,
    unchanged: usize,
    extra: usize,
    delete: usize,
    pending: usize,
    failed: usize,
    missing: usize,
    target_errors: usize,
}

#[test]
fn plan_and_apply_json() {
    let env = Env::new();
    env.config(ALIYUN);
    env.sandbox.put_outside(REPO, "EXTRA_ONE", b"x");
    let out = env
        .cmd(&["plan", "--json"])
        .env("ALIYUN_PASSWORD", "p")
        .run();
    out.assert_code(0);
    let doc: Doc = out.json();
    assert_eq!(
        (doc.version, doc.command.as_str(), doc.ok),
        (1, "plan", true)
    );
    assert_eq!(doc.targets.len(), 1);
    let t = &doc.targets[0];
    assert_eq!(t.target, REPO);
    assert!(doc.warnings.is_empty());
    assert!(t.error.is_none());
    assert_eq!(t.missing.len(), 4);
    let pw = t
        .changes
        .iter()
        .find(|c| c.name == "ALIYUN_PASSWORD")
        .unwrap();
    assert_eq!(
        (pw.action.as_str(), pw.reason_code.as_str()),
        ("create", "absent")
    );
    assert_eq!(pw.source.as_deref(), Some("env"));
    assert_eq!(pw.reason, "absent on GitHub");
    assert_eq!(pw.kind, "secret");
    assert!(pw.result.is_none());
    let extra = t.changes.iter().find(|c| c.name == "EXTRA_ONE").unwrap();
    assert_eq!(
        (extra.action.as_str(), extra.source.as_deref()),
        ("extra", None)
    );
    let s = &doc.summary;
    assert_eq!(
        (
            s.create,
            s.update,
            s.unchanged,
            s.extra,
            s.delete,
            s.pending
        ),
        (4, 0, 0, 1, 0, 4)
    );
    assert_eq!((s.failed, s.missing, s.target_errors), (0, 0, 0));

    env.sandbox
        .inject_write_failure(REPO, "ALIYUN_USERNAME", 422, "Bad thing");
    let out = env
        .cmd(&["apply", "--yes", "--json"])
        .env("ALIYUN_PASSWORD", "p")
        .run();
    out.assert_code(1);
    let doc: Doc = out.json();
    assert_eq!((doc.command.as_str(), doc.ok), ("apply", false));
    let t = &doc.targets[0];
    let pw = t
        .changes
        .iter()
        .find(|c| c.name == "ALIYUN_PASSWORD")
        .unwrap();
    let r = pw.result.as_ref().unwrap();
    assert_eq!(
        (r.ok, r.status, r.message.as_deref()),
        (true, Some(201), None)
    );
    let user = t
        .changes
        .iter()
        .find(|c| c.name == "ALIYUN_USERNAME")
        .unwrap();
    let r = user.result.as_ref().unwrap();
    assert_eq!(
        (r.ok, r.status, r.message.as_deref()),
        (false, Some(422), Some("Bad thing"))
    );
    assert_eq!(t.missing, ["ALIYUN_USERNAME"]);
    assert_eq!(
        (doc.summary.failed, doc.summary.missing, doc.summary.pending),
        (1, 1, 0)
    );
    // stdout holds only the JSON document; stderr one line saying what failed.
    assert!(
        out.stderr.lines().count() == 1 && out.stderr.starts_with("error: "),
        "one error line on stderr: {}",
        out.stderr
    );
}

#[test]
fn target_error_in_json() {
    let env = Env::new();
    env.config("[secrets.A]\nvalue = \"x\"\n[[targets]]\nrepo = \"acme/nope\"\n[[targets]]\nrepo = \"acme/shop\"\n");
    let out = env.cmd(&["plan", "--json"]).run();
    out.assert_code(1);
    let doc: Doc = out.json();
    assert!(!doc.ok);
    let nope = &doc.targets[0];
    assert_eq!(nope.target, "acme/nope");
    let e = nope.error.as_ref().unwrap();
    assert_eq!(e.status, Some(404));
    assert!(e.message.contains("not found"));
    assert_eq!(
        doc.targets[1].changes.len(),
        1,
        "the other target is still planned"
    );
    assert_eq!(doc.summary.target_errors, 1);
}

// ---- every `--json` command, on every early failure path -------------------------------------

/// stdout as exactly one JSON value and nothing else but whitespace.
fn one_document(stdout: &str) -> Result<serde_json::Value, String> {
    let mut values = serde_json::Deserializer::from_str(stdout).into_iter::<serde_json::Value>();
    let first = match values.next() {
        Some(Ok(value)) => value,
        Some(Err(e)) => return Err(format!("not JSON ({e})")),
        None => return Err("no document".into()),
    };
    match values.next() {
        None => Ok(first),
        Some(_) => Err("more than one document".into()),
    }
}

/// A check that fails at once: nothing listens on port 9 of loopback.
const FAILING_CHECK: &str = "[[checks]]\nregistry = \"127.0.0.1:9\"\nusername = \"u\"\npassword = \"secret:ALIYUN_PASSWORD\"\npush = [\"acme/app\"]\n";

const RULED: &str = "[secrets.ALIYUN_PASSWORD]\nenv = \"ALIYUN_PASSWORD\"\nmin_length = 8\n[[targets]]\nrepo = \"acme/shop\"\n";

/// One run of a `--json` command: how to set it up, and what its one document must say.
struct JsonCase {
    name: &'static str,
    args: &'static [&'static str],
    /// The config's body; `None`: no config file at all.
    body: Option<String>,
    password: &'static str,
    no_token: bool,
    code: i32,
    /// Text the document must hold (the error, or what failed).
    says: &'static str,
}

fn json_cases() -> Vec<JsonCase> {
    let with_check = format!("{ALIYUN}{FAILING_CHECK}");
    let case = |name, args, body: Option<&str>, code, says| JsonCase {
        name,
        args,
        body: body.map(String::from),
        password: "Fixed-Pass1",
        no_token: false,
        code,
        says,
    };
    let plan: &[&str] = &["plan", "--json"];
    let apply: &[&str] = &["apply", "--yes", "--json"];
    let rotate: &[&str] = &["rotate", "ALIYUN_PASSWORD", "--stdin", "--yes", "--json"];
    let check: &[&str] = &["check", "--json"];
    let doctor: &[&str] = &["doctor", "--json"];
    let audit: &[&str] = &["audit", "--json"];
    let every = [plan, apply, rotate, check, doctor, audit];
    let mut cases = Vec::new();
    for args in every {
        cases.push(case("no config file", args, None, 1, "no config file"));
        cases.push(case(
            "an invalid config",
            args,
            Some("[secrets.1A]\nvalue = \"x\"\n"),
            1,
            "secretsync.toml",
        ));
    }
    for args in [plan, apply, rotate] {
        cases.push(JsonCase {
            password: "short",
            ..case("a value rule", args, Some(RULED), 1, "min_length = 8")
        });
    }
    for args in [apply, rotate, check] {
        cases.push(case(
            "a failed check",
            args,
            Some(&with_check),
            1,
            "unreachable",
        ));
    }
    for args in [plan, apply, rotate, doctor, audit] {
        cases.push(JsonCase {
            no_token: true,
            ..case("no token", args, Some(ALIYUN), 1, "no GitHub token")
        });
    }
    let unconfirmed: [&[&str]; 3] = [
        &["apply", "--json"],
        &["rotate", "ALIYUN_PASSWORD", "--stdin", "--json"],
        &["adopt", "--json"],
    ];
    for args in unconfirmed {
        cases.push(case(
            "no terminal to confirm",
            args,
            Some(ALIYUN),
            1,
            "--yes",
        ));
    }
    cases.push(case("no [[checks]]", check, Some(ALIYUN), 1, "[[checks]]"));
    cases.push(case(
        "a usage error",
        &["plan", "--json", "--bogus"],
        Some(ALIYUN),
        1,
        "--bogus",
    ));
    // Successes: one document too, even when rotate warns about a shadowing env var.
    for args in [plan, apply, doctor, audit] {
        cases.push(case("success", args, Some(ALIYUN), 0, "\"version\": 1"));
    }
    let adopt: &[&str] = &["adopt", "--yes", "--json"];
    cases.push(JsonCase {
        no_token: true,
        ..case("no token", adopt, Some(ALIYUN), 1, "no GitHub token")
    });
    cases.push(case(
        "success",
        adopt,
        Some(ALIYUN),
        0,
        "\"command\": \"adopt\"",
    ));
    cases.push(case(
        "success with a warning",
        &[
            "rotate",
            "ALIYUN_PASSWORD",
            "--stdin",
            "--yes",
            "--skip-checks",
            "--json",
        ],
        Some(ALIYUN),
        0,
        "\"ok\": true",
    ));
    cases
}

#[test]
fn every_json_command_prints_one_document_on_every_path() {
    let env = Env::new();
    std::fs::create_dir_all(env.path(".github/workflows")).expect("mkdir");
    env.write(
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: echo ${{ secrets.ALIYUN_PASSWORD }}\n",
    );
    let mut failures = Vec::new();
    for case in json_cases() {
        match &case.body {
            Some(body) => env.config(body),
            None => {
                let _ = std::fs::remove_file(env.path("secretsync.toml"));
            }
        }
        let mut run = env
            .cmd(case.args)
            .env("ALIYUN_PASSWORD", case.password)
            .stdin_text(&format!("{}\n", case.password));
        if case.no_token {
            run = run.env_remove("GH_TOKEN").env("PATH", "/nonexistent");
        }
        let out = run.run();
        let what = format!("{} {:?}", case.name, case.args);
        let problem = match one_document(&out.stdout) {
            Err(e) => Some(e),
            Ok(_) if out.code != case.code => Some(format!("exit {}", out.code)),
            Ok(doc) => document_problem(&doc, &case),
        };
        if let Some(problem) = problem {
            failures.push(format!(
                "{what}: {problem}\n--- stdout\n{}\n--- stderr\n{}",
                out.stdout, out.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// What is wrong with a case's document, if anything: a failure's document says `ok: false`
/// and the error; an error document has the documented shape.
fn document_problem(doc: &serde_json::Value, case: &JsonCase) -> Option<String> {
    let text = serde_json::to_string_pretty(doc).expect("re-encode");
    if !text.contains(case.says) {
        return Some(format!("the document does not say `{}`", case.says));
    }
    if case.code == 0 {
        return None;
    }
    if doc["ok"] != serde_json::Value::Bool(false) {
        return Some("a failure's document without `ok: false`".into());
    }
    let Some(error) = doc.get("error") else {
        // `check` reports a failed check in its own document.
        return (case.args[0] != "check").then(|| "no `error` in the document".into());
    };
    let keys: Vec<&str> = doc.as_object()?.keys().map(String::as_str).collect();
    let shaped = keys == ["command", "error", "ok", "version"]
        && doc["version"] == 1
        && error.as_object().is_some_and(|e| e.len() == 1)
        && error["message"].as_str().is_some_and(|m| !m.is_empty());
    (!shaped).then(|| format!("not the documented error document: {keys:?}"))
}
