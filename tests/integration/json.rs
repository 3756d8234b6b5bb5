//! The `--json` contract, mirrored here with `deny_unknown_fields`: a field added or renamed
//! without updating README.md's "JSON output" fails this test.

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

fn parse(stdout: &str) -> Doc {
    serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("not the documented JSON ({e}):\n{stdout}"))
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
    let doc = parse(&out.stdout);
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
    let doc = parse(&out.stdout);
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
    let doc = parse(&out.stdout);
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
