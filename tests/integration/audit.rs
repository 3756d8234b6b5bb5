//! `secretsync audit` over the fixture checkout in tests/fixtures/workflows: every finding kind,
//! the `--json` contract (mirrored with `deny_unknown_fields`, as docs/audit.md documents
//! it), the exit codes, `--offline`, and the missing-folder error.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::support::{Env, REPO};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    version: u32,
    offline: bool,
    used: Vec<Used>,
    findings: Findings,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Used {
    name: String,
    file: String,
    line: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Findings {
    missing: Vec<Missing>,
    declared_unused: Vec<DeclaredUnused>,
    present_unused: Vec<PresentUnused>,
    unresolved: Vec<Unresolved>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Missing {
    name: String,
    uses: Vec<Location>,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct Location {
    file: String,
    line: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclaredUnused {
    name: String,
    config_line: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresentUnused {
    name: String,
    targets: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Unresolved {
    file: String,
    line: usize,
    expression: String,
}

const BUILD: &str = ".github/workflows/build.yml";
const DEPLOY: &str = ".github/workflows/deploy.yaml";

fn fixture() -> String {
    format!("{}/tests/fixtures/workflows", env!("CARGO_MANIFEST_DIR"))
}

/// The four ALIYUN secrets and SCRIPT_TOKEN declared, plus OLD_TOKEN that no workflow uses;
/// SLACK_WEBHOOK (used) and LEGACY_KEY (unused) only on GitHub.
fn setup() -> Env {
    let env = Env::new();
    let secrets: String = [
        "ALIYUN_REGISTRY",
        "ALIYUN_NAMESPACE",
        "ALIYUN_USERNAME",
        "ALIYUN_PASSWORD",
        "SCRIPT_TOKEN",
        "OLD_TOKEN",
    ]
    .iter()
    .map(|name| format!("[secrets.{name}]\nvalue = \"x\"\n\n"))
    .collect();
    env.config_for_repo(&secrets);
    env.sandbox.put_outside(REPO, "SLACK_WEBHOOK", b"x");
    env.sandbox.put_outside(REPO, "LEGACY_KEY", b"x");
    env.sandbox.put_outside(REPO, "ALIYUN_PASSWORD", b"x");
    env
}

fn json(env: &Env, extra: &[&str]) -> Doc {
    let checkout = fixture();
    let mut args = vec!["audit", checkout.as_str(), "--json"];
    args.extend_from_slice(extra);
    let out = env.cmd(&args).run();
    out.assert_code(0);
    out.json()
}

fn at(file: &str, line: usize) -> Location {
    Location {
        file: file.to_string(),
        line,
    }
}

#[test]
fn text_report_groups_every_kind_of_finding() {
    let env = setup();
    let out = env.cmd(&["audit", &fixture()]).run();
    out.assert_code(0);
    let text = &out.stdout;
    let line_of = |needle: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(needle))
            .unwrap_or_else(|| panic!("no line for {needle}:\n{text}"))
            .to_string()
    };
    assert!(
        text.contains("the workflow will see an empty string"),
        "{text}"
    );
    assert!(line_of("FALLBACK_WEBHOOK").ends_with(&format!("{BUILD}:19")));
    assert!(line_of("DEPLOY_KEY").ends_with(&format!("{DEPLOY}:19")));
    assert!(line_of("OLD_TOKEN").contains("config line"));
    assert!(line_of("LEGACY_KEY").ends_with(REPO));
    assert!(line_of(&format!("{DEPLOY}:22")).ends_with("secrets: inherit"));
    assert!(line_of(&format!("{DEPLOY}:14")).ends_with("secrets[matrix.name]"));
    for hidden in ["IN_COMMENT", "IN_README", "IN_NOTES", "GITHUB_TOKEN"] {
        assert!(!text.contains(hidden), "{hidden} reported:\n{text}");
    }
    // Declared and present: not a finding of any kind.
    assert!(!text.contains("ALIYUN_"), "{text}");
    assert!(!text.contains("SLACK_WEBHOOK"), "{text}");
    assert!(!text.contains("Offline"), "{text}");
}

#[test]
fn json_document() {
    let env = setup();
    let doc = json(&env, &[]);
    assert_eq!(doc.version, 1);
    assert!(!doc.offline);
    let used: BTreeSet<&str> = doc.used.iter().map(|u| u.name.as_str()).collect();
    let expected: BTreeSet<&str> = [
        "ALIYUN_NAMESPACE",
        "ALIYUN_PASSWORD",
        "ALIYUN_REGISTRY",
        "ALIYUN_USERNAME",
        "DEPLOY_KEY",
        "FALLBACK_WEBHOOK",
        "GITHUB_TOKEN",
        "IN_QUOTED_NAME",
        "SCRIPT_TOKEN",
        "SLACK_WEBHOOK",
    ]
    .into();
    assert_eq!(used, expected);
    let order: Vec<(&str, usize, &str)> = doc
        .used
        .iter()
        .map(|u| (u.file.as_str(), u.line, u.name.as_str()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "sorted by file, line and name");
    // Lower case in the workflow, upper case in the report; each form at its own line.
    let lines = |name: &str| -> Vec<usize> {
        doc.used
            .iter()
            .filter(|u| u.name == name)
            .map(|u| u.line)
            .collect()
    };
    assert_eq!(lines("ALIYUN_USERNAME"), [13, 16]);
    assert_eq!(lines("ALIYUN_REGISTRY"), [6, 15]);
    assert_eq!(lines("ALIYUN_NAMESPACE"), [10, 21]);
    assert_eq!(lines("SCRIPT_TOKEN"), [27]);

    let f = &doc.findings;
    let missing: Vec<&str> = f.missing.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        missing,
        ["DEPLOY_KEY", "FALLBACK_WEBHOOK", "IN_QUOTED_NAME"]
    );
    assert_eq!(f.missing[0].uses, [at(DEPLOY, 19)]);
    assert_eq!(f.missing[1].uses, [at(BUILD, 19)]);
    assert_eq!(f.declared_unused.len(), 1);
    assert_eq!(f.declared_unused[0].name, "OLD_TOKEN");
    assert!(f.declared_unused[0].config_line > 1);
    assert_eq!(f.present_unused.len(), 1);
    assert_eq!(f.present_unused[0].name, "LEGACY_KEY");
    assert_eq!(f.present_unused[0].targets, [REPO]);
    let unresolved: Vec<(&str, usize, &str)> = f
        .unresolved
        .iter()
        .map(|u| (u.file.as_str(), u.line, u.expression.as_str()))
        .collect();
    assert_eq!(
        unresolved,
        [
            (DEPLOY, 14, "secrets[matrix.name]"),
            (DEPLOY, 15, "secrets[format('DEPLOY_{0}', env.STAGE)]"),
            (DEPLOY, 16, "toJSON(secrets)"),
            (DEPLOY, 17, "secrets[inputs.name]"),
            (DEPLOY, 22, "secrets: inherit"),
        ]
    );
    assert!(
        env.requests().iter().all(|r| r.method == "GET"),
        "audit only reads"
    );
}

#[test]
fn detailed_exitcode_is_two_only_with_findings() {
    let env = setup();
    env.cmd(&["audit", &fixture(), "--detailed-exitcode"])
        .run()
        .assert_code(2);
    env.cmd(&["audit", &fixture()]).run().assert_code(0);

    // A checkout whose workflow uses exactly what is declared and present: no findings.
    let clean = Env::new();
    clean.config_for_repo("[secrets.DEPLOY_KEY]\nvalue = \"x\"\n");
    clean.sandbox.put_outside(REPO, "DEPLOY_KEY", b"x");
    std::fs::create_dir_all(clean.path("repo/.github/workflows")).unwrap();
    clean.write(
        "repo/.github/workflows/ci.yml",
        "jobs:\n  a:\n    steps:\n      - run: echo ${{ secrets.deploy_key }} ${{ secrets.GITHUB_TOKEN }}\n",
    );
    let out = clean.cmd(&["audit", "repo", "--detailed-exitcode"]).run();
    out.assert_code(0);
    assert!(out.stdout.contains("No findings."), "{}", out.stdout);
}

#[test]
fn offline_asks_nothing_and_says_so() {
    let env = setup();
    // No token at all: offline needs none.
    let out = env
        .cmd(&["audit", &fixture(), "--offline"])
        .env_remove("GH_TOKEN")
        .run();
    out.assert_code(0);
    assert!(out.stdout.contains("Offline"), "{}", out.stdout);
    let doc = json(&env, &["--offline"]);
    assert!(doc.offline);
    assert!(env.requests().is_empty(), "{:?}", env.requests());
    // Without GitHub, a secret only GitHub holds counts as missing, and none as present.
    let missing: Vec<&str> = doc
        .findings
        .missing
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert!(missing.contains(&"SLACK_WEBHOOK"), "{missing:?}");
    assert!(doc.findings.present_unused.is_empty());
}

#[test]
fn missing_workflows_folder_is_a_one_line_error() {
    let env = setup();
    let out = env.cmd(&["audit"]).run();
    out.assert_code(1);
    let stderr = out.stderr.trim_end();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(".github/workflows") && stderr.contains("secretsync audit PATH"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert!(env.requests().is_empty(), "fails before any request");
}

#[test]
fn a_rejected_token_is_an_error() {
    let env = setup();
    let out = env
        .cmd(&["audit", &fixture()])
        .env("GH_TOKEN", "wrong")
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("401"), "{}", out.stderr);
}

#[test]
fn present_is_the_union_of_every_target_scope() {
    use secretsync_sandbox::Scope;
    let env = Env::new();
    env.config(&format!(
        "[secrets.DEPLOY_KEY]\nvalue = \"x\"\n\n[[targets]]\nrepo = \"{REPO}\"\n\n\
         [[targets]]\nrepo = \"{REPO}\"\nenvironment = \"prod\"\n"
    ));
    env.sandbox.add_environment(REPO, "prod");
    let prod = Scope::Environment(REPO.to_string(), "prod".to_string());
    env.sandbox.scope_put_outside(&prod, "SLACK_WEBHOOK", b"x");
    env.sandbox.scope_put_outside(&prod, "PROD_ONLY", b"x");
    env.sandbox.put_outside(REPO, "PROD_ONLY", b"x");
    let doc = json(&env, &[]);
    let missing: Vec<&str> = doc
        .findings
        .missing
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert!(!missing.contains(&"SLACK_WEBHOOK"), "{missing:?}");
    let present: Vec<(&str, &[String])> = doc
        .findings
        .present_unused
        .iter()
        .map(|p| (p.name.as_str(), p.targets.as_slice()))
        .collect();
    assert_eq!(
        present,
        [(
            "PROD_ONLY",
            &[REPO.to_string(), format!("{REPO} (environment prod)")][..]
        )]
    );
}

/// A FIFO or a link loop named like a workflow is skipped with one warning line each (reading a
/// FIFO would hang); an upper-case `.YML` is read like `.yml`.
#[test]
fn odd_workflow_entries_are_warned_and_upper_case_extensions_read() {
    let env = Env::new();
    env.config_for_repo("[secrets.DEPLOY_KEY]\nvalue = \"x\"\n");
    let folder = env.path("repo/.github/workflows");
    std::fs::create_dir_all(&folder).unwrap();
    env.write(
        "repo/.github/workflows/CI.YML",
        "jobs:\n  a:\n    steps:\n      - run: echo ${{ secrets.SHOUTED }}\n",
    );
    let fifo = env.command("mkfifo").arg(folder.join("pipe.yml")).run();
    fifo.assert_code(0);
    std::os::unix::fs::symlink("loop.yaml", folder.join("loop.yaml")).unwrap();
    let out = env
        .cmd(&["audit", "repo", "--offline", "--json"])
        .run_with_timeout(std::time::Duration::from_secs(60));
    out.assert_code(0);
    let warnings: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(warnings.len(), 2, "{}", out.stderr);
    assert!(
        warnings[0].starts_with("warning: skipped `") && warnings[0].contains("loop.yaml"),
        "{}",
        out.stderr
    );
    assert!(
        warnings[1].contains("pipe.yml") && warnings[1].contains("not a regular file"),
        "{}",
        out.stderr
    );
    let doc: Doc = out.json();
    let used: Vec<&str> = doc.used.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(used, ["SHOUTED"], "{}", out.stdout);
}
