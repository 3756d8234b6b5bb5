//! Variables: real value comparison, paging at 30, and the POST→409→PATCH fallback.

use secretsync::config::ApiUrl;
use secretsync::github::{Client, Pacing, Written};
use secretsync::scope::{App, Repo, Scope};
use secretsync_sandbox::Scope as SandboxScope;

use crate::support::{Env, REPO, TOKEN};

#[test]
fn variables_are_compared_by_value() {
    let env = Env::new();
    let scope = SandboxScope::Repo(REPO.into());
    let body = |region: &str| {
        format!("[variables.REGION]\nvalue = \"{region}\"\n[[targets]]\nrepo = \"{REPO}\"\n")
    };
    env.config(&body("eu-west"));
    let out = env.cmd(&["apply", "--yes"]).run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("+ vars.REGION  created"),
        "{}",
        out.stdout
    );
    assert_eq!(
        env.sandbox.variable(&scope, "REGION").as_deref(),
        Some("eu-west")
    );

    let plan = env.cmd(&["plan"]).run();
    assert!(
        plan.stdout.contains("= vars.REGION") && plan.stdout.contains("same value on GitHub"),
        "{}",
        plan.stdout
    );

    // Someone edits it on GitHub: the plan sees the real values, old and new.
    env.sandbox
        .set_variable_outside(&scope, "REGION", "us-east");
    let plan = env.cmd(&["plan"]).run();
    assert!(
        plan.stdout.contains("~ vars.REGION") && plan.stdout.contains("\"us-east\" -> \"eu-west\""),
        "{}",
        plan.stdout
    );
    env.sandbox.clear_requests();
    env.cmd(&["apply", "--yes"]).run().assert_code(0);
    assert_eq!(
        env.sandbox.variable(&scope, "REGION").as_deref(),
        Some("eu-west")
    );
    let patches = env
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches, 1);
    assert_eq!(env.counts().1, 0, "variables need no public key");
}

#[test]
fn variables_page_at_thirty() {
    let env = Env::new();
    let scope = SandboxScope::Repo(REPO.into());
    for i in 0..45 {
        env.sandbox
            .set_variable_outside(&scope, &format!("V{i:02}"), "x");
    }
    env.config(&format!(
        "[variables.V00]\nvalue = \"x\"\n[[targets]]\nrepo = \"{REPO}\"\n"
    ));
    let out = env.cmd(&["plan"]).run();
    out.assert_code(0);
    assert_eq!(
        out.stdout.lines().filter(|l| l.contains(" extra ")).count(),
        44,
        "{}",
        out.stdout
    );
    let lists: Vec<_> = env
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/actions/variables"))
        .collect();
    assert_eq!(lists.len(), 2, "{lists:?}");
    assert!(lists[0].query.contains("per_page=30"));
}

#[test]
fn a_create_that_finds_the_variable_updates_it() {
    let env = Env::new();
    let sandbox_scope = SandboxScope::Repo(REPO.into());
    // As if an earlier POST had landed but its answer was lost.
    env.sandbox
        .set_variable_outside(&sandbox_scope, "REGION", "old");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let written = runtime.block_on(async {
        let api = ApiUrl::parse(&env.sandbox.api_url()).unwrap();
        let client = Client::new(&api, TOKEN.to_string().into(), Pacing::default()).unwrap();
        let scope = Scope::Repo {
            repo: Repo::parse(REPO).unwrap(),
            app: App::Actions,
        };
        client.create_variable(&scope, "REGION", "new", None).await
    });
    assert_eq!(written.unwrap().written, Written::Updated);
    assert_eq!(
        env.sandbox.variable(&sandbox_scope, "REGION").as_deref(),
        Some("new")
    );
    let methods: Vec<(String, u16)> = env
        .requests()
        .into_iter()
        .map(|r| (r.method, r.status))
        .collect();
    assert_eq!(
        methods,
        [("POST".to_string(), 409), ("PATCH".to_string(), 204)]
    );
    let count = env.sandbox.variable_names(&sandbox_scope).len();
    assert_eq!(count, 1, "never created twice");
}
