//! Variables over real HTTP: repository, environment and organization scopes, 201/409/204/404,
//! paging at 30, and organization visibility with selected repositories.

use super::scopes::restricted;
use super::{call, started, REPO};
use crate::*;

#[tokio::test]
async fn variables_create_conflict_update_delete_and_page_at_thirty() {
    let sandbox = started().await;
    let scopes = [
        (
            format!("/repos/{REPO}/actions/variables"),
            Scope::Repo(REPO.to_owned()),
        ),
        (
            format!("/repos/{REPO}/environments/prod/variables"),
            Scope::Environment(REPO.to_owned(), "prod".to_owned()),
        ),
        (
            "/orgs/acme/actions/variables".to_owned(),
            Scope::Org("acme".to_owned()),
        ),
    ];
    sandbox.add_environment(REPO, "prod");
    for (prefix, scope) in &scopes {
        let org = matches!(scope, Scope::Org(_));
        let mut body = json!({"name": "region", "value": "eu-west-1"});
        if org {
            assert_eq!(
                call(&sandbox, "POST", prefix, &body.to_string())
                    .await
                    .status,
                422
            );
            body["visibility"] = json!("private");
        }
        let created = call(&sandbox, "POST", prefix, &body.to_string()).await;
        assert_eq!(created.status, 201, "{prefix}");
        let conflict = call(&sandbox, "POST", prefix, &body.to_string()).await;
        assert_eq!(conflict.status, 409);
        assert_eq!(
            conflict.json()["message"],
            "Already exists - Variable already exists"
        );
        let patch = call(
            &sandbox,
            "PATCH",
            &format!("{prefix}/Region"),
            r#"{"value":"us-east-1"}"#,
        )
        .await;
        assert_eq!(patch.status, 204);
        assert_eq!(
            sandbox.variable(scope, "REGION").as_deref(),
            Some("us-east-1")
        );
        let one = call(&sandbox, "GET", &format!("{prefix}/region"), "")
            .await
            .json();
        assert_eq!(
            (&one["name"], &one["value"]),
            (&json!("REGION"), &json!("us-east-1"))
        );
        assert_eq!(one.get("visibility").is_some(), org, "{prefix}");
        let absent = call(
            &sandbox,
            "PATCH",
            &format!("{prefix}/NOPE"),
            r#"{"value":"x"}"#,
        )
        .await;
        assert_eq!(absent.status, 404);
        assert_eq!(
            call(&sandbox, "DELETE", &format!("{prefix}/REGION"), "")
                .await
                .status,
            204
        );
        assert_eq!(
            call(&sandbox, "DELETE", &format!("{prefix}/REGION"), "")
                .await
                .status,
            404
        );
        assert_eq!(
            call(&sandbox, "GET", &format!("{prefix}/REGION"), "")
                .await
                .status,
            404
        );
        let bad = json!({"name": "GITHUB_X", "value": "v", "visibility": "all"});
        assert_eq!(
            call(&sandbox, "POST", prefix, &bad.to_string())
                .await
                .status,
            422
        );
    }
    assert_eq!(
        call(
            &sandbox,
            "GET",
            &format!("/repos/{REPO}/environments/nope/variables"),
            ""
        )
        .await
        .status,
        404
    );

    let repo = Scope::Repo(REPO.to_owned());
    for i in 0..35 {
        sandbox.set_variable_outside(&repo, &format!("var_{i:02}"), &i.to_string());
    }
    let prefix = &scopes[0].0;
    let default_page = call(&sandbox, "GET", prefix, "").await;
    assert_eq!(
        default_page.json()["variables"].as_array().map(Vec::len),
        Some(10)
    );
    let page = call(&sandbox, "GET", &format!("{prefix}?per_page=100"), "").await;
    let body = page.json();
    assert_eq!(
        (
            body["total_count"].as_u64(),
            body["variables"].as_array().map(Vec::len)
        ),
        (Some(35), Some(30))
    );
    assert_eq!(body["variables"][0]["value"], "0");
    let link = page.header("link").expect("link");
    assert!(link.contains("per_page=30&page=2>; rel=\"next\""), "{link}");
    let second = call(&sandbox, "GET", &format!("{prefix}?per_page=30&page=2"), "")
        .await
        .json();
    assert_eq!(second["variables"].as_array().map(Vec::len), Some(5));
    assert_eq!(second["variables"][4]["name"], "VAR_34");
}

#[tokio::test]
async fn org_variables_have_selected_repositories_too() {
    let sandbox = Sandbox::start(restricted(&["acme/app"]))
        .await
        .expect("start");
    let app = sandbox.repo_id("acme/app").expect("id");
    let scope = Scope::Org("acme".to_owned());
    let prefix = "/orgs/acme/actions/variables";
    let body = json!({"name": "HOST", "value": "h", "visibility": "selected", "selected_repository_ids": [app]});
    assert_eq!(
        call(&sandbox, "POST", prefix, &body.to_string())
            .await
            .status,
        201
    );
    assert_eq!(
        sandbox.org_variable_access(&scope, "HOST"),
        Some(("selected".to_owned(), vec![app]))
    );
    let repos = call(&sandbox, "GET", &format!("{prefix}/HOST/repositories"), "")
        .await
        .json();
    assert_eq!(repos["repositories"][0]["id"], app);
    let to_private = call(
        &sandbox,
        "PATCH",
        &format!("{prefix}/HOST"),
        r#"{"visibility":"private"}"#,
    )
    .await;
    assert_eq!(to_private.status, 204);
    assert_eq!(sandbox.variable(&scope, "HOST").as_deref(), Some("h"));
    assert_eq!(
        call(
            &sandbox,
            "DELETE",
            &format!("{prefix}/HOST/repositories/{app}"),
            ""
        )
        .await
        .status,
        409
    );
}
