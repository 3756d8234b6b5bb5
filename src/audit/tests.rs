use super::*;

fn config(text: &str) -> Config {
    crate::config::parse(text, Path::new("secretsync.toml"), Path::new(".")).expect("valid")
}

#[test]
fn declared_skips_dependabot_only_secrets() {
    let config = config(
        r#"
[secrets.DEPLOY]
value = "x"

[secrets.NPM_TOKEN]
value = "y"

[secrets.BOTH]
value = "z"

[[targets]]
repo = "o/r"
secrets = ["DEPLOY", "BOTH"]

[[targets]]
repo = "o/r"
app = "dependabot"
secrets = ["NPM_TOKEN", "BOTH"]
"#,
    );
    let names: Vec<String> = declared(&config).into_keys().collect();
    assert_eq!(names, ["BOTH", "DEPLOY"]);
}

#[test]
fn workflows_folder_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(WORKFLOWS);
    let err = workflow_files(&folder).unwrap_err();
    assert!(
        matches!(&err, Error::Usage(UsageError::NoWorkflowsFolder { folder: f }) if *f == folder),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(".github/workflows") && text.contains("secretsync audit PATH"));
    assert!(!text.contains('\n'));
}

#[test]
fn only_yaml_files_directly_in_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(WORKFLOWS);
    std::fs::create_dir_all(folder.join("sub")).unwrap();
    for name in [
        "b.yaml",
        "a.yml",
        "README.md",
        "sub/c.yml",
        "x.yml.bak",
        "C.YML",
        "d.Yaml",
    ] {
        std::fs::write(folder.join(name), "").unwrap();
    }
    let found = workflow_files(&folder).unwrap();
    let names: Vec<String> = found.files.into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["C.YML", "a.yml", "b.yaml", "d.Yaml"]);
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
}
