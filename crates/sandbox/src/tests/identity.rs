//! Token kinds: classic (scopes), fine-grained and GitHub App installation tokens, and the
//! identity endpoints.

use super::{call, call_as, started};
use crate::*;

#[tokio::test]
async fn the_default_token_is_classic_with_repo_and_admin_org() {
    let sandbox = started().await;
    assert_eq!(
        sandbox.token_kind("sandbox-token"),
        Some(TokenKind::Classic(vec!["repo".into(), "admin:org".into()]))
    );
    let user = call(&sandbox, "GET", "/user", "").await;
    assert_eq!(user.status, 200);
    assert_eq!(user.header("x-oauth-scopes"), Some("repo, admin:org"));
    assert_eq!(user.json()["login"], SANDBOX_LOGIN);
    assert_eq!(user.json()["type"], "User");
    let missing = call(&sandbox, "GET", "/repos/acme/app/environments/nope", "").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("x-oauth-scopes"), Some("repo, admin:org"));
    let bad = call_as(&sandbox, "nope", "GET", "/user", "").await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.header("x-oauth-scopes"), None);
    assert_eq!(sandbox.token_kind("nope"), None);
}

#[tokio::test]
async fn classic_without_repo_sees_no_private_repository_and_without_admin_org_no_org_secrets() {
    let sandbox = started().await;
    sandbox.add_repo("acme/app");
    sandbox.add_classic_token("public-only", &["read:org"]);
    for path in [
        "/repos/acme/app",
        "/repos/acme/app/actions/secrets",
        "/repos/acme/app/actions/secrets/public-key",
        "/repos/acme/app/dependabot/secrets",
        "/repos/acme/app/actions/variables",
    ] {
        let reply = call_as(&sandbox, "public-only", "GET", path, "").await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.header("x-oauth-scopes"), Some("read:org"));
    }
    let repos = call_as(&sandbox, "public-only", "GET", "/orgs/acme/repos", "").await;
    assert_eq!(repos.status, 200);
    assert_eq!(repos.json(), json!([]));
    let org = call_as(&sandbox, "public-only", "GET", "/orgs/acme", "").await;
    assert_eq!(org.status, 200);
    assert_eq!(org.json()["type"], "Organization");
    for path in [
        "/orgs/acme/actions/secrets",
        "/orgs/acme/dependabot/secrets/public-key",
        "/orgs/acme/actions/variables",
    ] {
        let reply = call_as(&sandbox, "public-only", "GET", path, "").await;
        assert_eq!(reply.status, 403, "{path}");
        assert_eq!(
            reply.json()["message"],
            "Must have admin rights to Repository."
        );
        assert_eq!(reply.header("x-accepted-oauth-scopes"), Some("admin:org"));
    }
    sandbox.add_classic_token("repo-only", &["repo"]);
    let listed = call_as(&sandbox, "repo-only", "GET", "/orgs/acme/repos", "").await;
    assert_eq!(listed.json().as_array().map(Vec::len), Some(1));
    let secrets = call_as(
        &sandbox,
        "repo-only",
        "GET",
        "/repos/acme/app/actions/secrets",
        "",
    )
    .await;
    assert_eq!(secrets.status, 200);
    let org_secrets = call_as(
        &sandbox,
        "repo-only",
        "GET",
        "/orgs/acme/actions/secrets",
        "",
    )
    .await;
    assert_eq!(org_secrets.status, 403);
}

#[tokio::test]
async fn fine_grained_tokens_carry_no_scopes_header() {
    let sandbox = started().await;
    sandbox.add_fine_grained_token("fine", TokenAccess::Full);
    sandbox.add_fine_grained_token("fine-no-secrets", TokenAccess::NoSecrets);
    let user = call_as(&sandbox, "fine", "GET", "/user", "").await;
    assert_eq!(user.status, 200);
    assert_eq!(user.header("x-oauth-scopes"), None);
    let listed = call_as(
        &sandbox,
        "fine",
        "GET",
        "/repos/acme/app/actions/secrets",
        "",
    )
    .await;
    assert_eq!(listed.status, 200);
    let refused = call_as(
        &sandbox,
        "fine-no-secrets",
        "GET",
        "/repos/acme/app/actions/secrets/public-key",
        "",
    )
    .await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.header("x-accepted-github-permissions"),
        Some("secrets=read")
    );
    let install = call_as(&sandbox, "fine", "GET", "/installation/repositories", "").await;
    assert_eq!(install.status, 403);
    // `add_token` with NoSecrets plays a fine-grained token, as it always did.
    sandbox.add_token("old-style", TokenAccess::NoSecrets);
    assert_eq!(
        sandbox.token_kind("old-style"),
        Some(TokenKind::FineGrained)
    );
}

#[tokio::test]
async fn app_tokens_are_no_user_but_list_their_installation() {
    let sandbox = started().await;
    sandbox.add_repo("acme/app");
    sandbox.add_repo("acme/web");
    sandbox.add_app_token("app");
    let user = call_as(&sandbox, "app", "GET", "/user", "").await;
    assert_eq!(user.status, 403);
    assert_eq!(
        user.json()["message"],
        "Resource not accessible by integration"
    );
    assert_eq!(user.header("x-oauth-scopes"), None);
    let install = call_as(
        &sandbox,
        "app",
        "GET",
        "/installation/repositories?per_page=1",
        "",
    )
    .await;
    assert_eq!(install.status, 200);
    assert_eq!(install.json()["total_count"], 2);
    assert_eq!(install.json()["repositories"][0]["full_name"], "acme/app");
    assert!(install
        .header("link")
        .is_some_and(|l| l.contains("rel=\"next\"")));
    let secrets = call_as(&sandbox, "app", "GET", "/orgs/acme/actions/secrets", "").await;
    assert_eq!(secrets.status, 200);
}

#[tokio::test]
async fn orgs_exist_as_their_repositories_say() {
    let config = SandboxConfig {
        repos: Some(["acme/app".to_owned()].into()),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.expect("start");
    let org = call(&sandbox, "GET", "/orgs/ACME", "").await;
    assert_eq!(org.status, 200);
    let again = call(&sandbox, "GET", "/orgs/acme", "").await;
    assert_eq!(org.json()["id"], again.json()["id"]);
    assert_eq!(call(&sandbox, "GET", "/orgs/nobody", "").await.status, 404);
    sandbox.add_org("nobody");
    assert_eq!(call(&sandbox, "GET", "/orgs/nobody", "").await.status, 200);
    assert_eq!(call(&sandbox, "POST", "/orgs/acme", "{}").await.status, 404);
}

#[tokio::test]
async fn a_token_without_variables_access_is_refused_variables_only() {
    let sandbox = started().await;
    sandbox.add_fine_grained_token("fine-no-vars", TokenAccess::NoVariables);
    sandbox.add_environment("acme/app", "prod");
    let secrets = call_as(
        &sandbox,
        "fine-no-vars",
        "GET",
        "/repos/acme/app/actions/secrets",
        "",
    )
    .await;
    assert_eq!(secrets.status, 200);
    for (path, needs) in [
        (
            "/repos/acme/app/actions/variables",
            "actions_variables=read",
        ),
        (
            "/repos/acme/app/environments/prod/variables",
            "environments=read",
        ),
    ] {
        let refused = call_as(&sandbox, "fine-no-vars", "GET", path, "").await;
        assert_eq!(refused.status, 403, "{path}");
        assert_eq!(refused.header("x-accepted-github-permissions"), Some(needs));
    }
    assert_eq!(
        sandbox.token_kind("fine-no-vars"),
        Some(TokenKind::FineGrained)
    );
}
