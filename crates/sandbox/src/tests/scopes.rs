//! Every scope over real HTTP: repositories and ids, environments, environment, Dependabot and
//! organization secrets (visibility and selected repositories). Variables: `tests_variables`.

use super::{call, started, Reply, REPO};
use crate::*;

/// Fetches the public key at `{prefix}/public-key`, seals `plaintext` to it and PUTs the secret
/// (with `extra` fields merged into the body).
async fn put_sealed(
    sandbox: &Sandbox,
    prefix: &str,
    name: &str,
    plaintext: &[u8],
    extra: Value,
) -> Reply {
    let key = call(sandbox, "GET", &format!("{prefix}/public-key"), "").await;
    assert_eq!(key.status, 200, "{prefix}");
    let key = key.json();
    let bytes: [u8; 32] = BASE64
        .decode(key["key"].as_str().expect("key"))
        .expect("base64")
        .try_into()
        .expect("32 bytes");
    let sealed = PublicKey::from(bytes)
        .seal(&mut OsRng, plaintext)
        .expect("seal");
    let mut body = json!({"encrypted_value": BASE64.encode(sealed), "key_id": key["key_id"]});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let target = format!("{prefix}/{name}");
    call(sandbox, "PUT", &target, &body.to_string()).await
}

/// Create, update, get, list and delete through `prefix`, checked against `scope`.
async fn secret_lifecycle(sandbox: &Sandbox, prefix: &str, scope: &Scope, extra: Value) {
    let created = put_sealed(sandbox, prefix, "deploy_key", b"one", extra.clone()).await;
    assert_eq!(
        (created.status, created.body.as_str()),
        (201, "{}"),
        "{prefix}"
    );
    let updated = put_sealed(sandbox, prefix, "DEPLOY_KEY", b"two", extra).await;
    assert_eq!(updated.status, 204, "{prefix}");
    assert_eq!(sandbox.scope_names(scope), vec!["DEPLOY_KEY"]);
    assert_eq!(
        sandbox.scope_plaintext(scope, "deploy_key"),
        Some(b"two".to_vec())
    );
    let one = call(sandbox, "GET", &format!("{prefix}/deploy_key"), "").await;
    assert_eq!(
        (one.status, &one.json()["name"]),
        (200, &json!("DEPLOY_KEY"))
    );
    let list = call(sandbox, "GET", prefix, "").await;
    assert_eq!(list.json()["total_count"], 1, "{prefix}");
    assert_eq!(list.json()["secrets"][0]["name"], "DEPLOY_KEY");
    let deleted = call(sandbox, "DELETE", &format!("{prefix}/DEPLOY_KEY"), "").await;
    assert_eq!(deleted.status, 204);
    let again = call(sandbox, "DELETE", &format!("{prefix}/DEPLOY_KEY"), "").await;
    assert_eq!(again.status, 404);
    assert!(sandbox.scope_names(scope).is_empty());
}

pub(super) fn restricted(repos: &[&str]) -> SandboxConfig {
    SandboxConfig {
        repos: Some(repos.iter().map(|r| (*r).to_owned()).collect()),
        ..SandboxConfig::default()
    }
}

#[tokio::test]
async fn repositories_have_stable_ids_and_orgs_list_them_in_pages() {
    let sandbox = Sandbox::start(restricted(&["Acme/App", "acme/api"]))
        .await
        .expect("start");
    let app = sandbox.repo_id("acme/app").expect("configured");
    assert_eq!(sandbox.repo_id("ACME/APP"), Some(app));
    assert_eq!(sandbox.repo_id("acme/nope"), None);
    let reply = call(&sandbox, "GET", "/repos/acme/app", "").await;
    assert_eq!(
        reply.json(),
        json!({"id": app, "name": "App", "full_name": "Acme/App", "owner": {"login": "Acme"}, "private": true,
            "permissions": {"admin": true, "maintain": true, "push": true, "triage": true, "pull": true}})
    );
    sandbox.set_repo_admin("ACME/app", false);
    let reply = call(&sandbox, "GET", "/repos/acme/app", "").await;
    assert_eq!(reply.json()["permissions"]["admin"], json!(false));
    assert_eq!(reply.json()["permissions"]["push"], json!(true));
    assert_eq!(
        call(&sandbox, "GET", "/repos/acme/nope", "").await.status,
        404
    );
    assert_eq!(
        call(&sandbox, "GET", "/orgs/other/repos", "").await.status,
        404
    );
    sandbox.add_org("other");
    assert_eq!(
        call(&sandbox, "GET", "/orgs/other/repos", "").await.json(),
        json!([])
    );

    for i in 0..3 {
        sandbox.add_repo(&format!("acme/z{i}"));
    }
    let page = call(&sandbox, "GET", "/orgs/acme/repos?per_page=2&page=1", "").await;
    assert_eq!(page.json().as_array().map(Vec::len), Some(2));
    assert_eq!(page.json()[0]["name"], "api");
    assert_eq!(page.json()[1]["id"], app);
    let link = page.header("link").expect("link").to_owned();
    assert!(link.contains("page=2>; rel=\"next\"") && link.contains("page=3>; rel=\"last\""));
    let last = call(&sandbox, "GET", "/orgs/acme/repos?per_page=2&page=3", "").await;
    assert_eq!(last.json()[0]["full_name"], "acme/z2");

    // Without a repository list, every repository and organization exists; ids come on first use.
    let open = started().await;
    let id = open.add_repo("x/y");
    assert_eq!(open.add_repo("X/Y"), id);
    let other = open.repo_id("x/w").expect("every repo exists");
    assert_ne!(id, other);
    assert_eq!(
        call(&open, "GET", "/orgs/x/repos", "")
            .await
            .json()
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn environments_404_until_created_and_have_their_own_secrets_and_key() {
    let sandbox = started().await;
    let env_path = format!("/repos/{REPO}/environments/prod%2Feu");
    assert_eq!(call(&sandbox, "GET", &env_path, "").await.status, 404);
    let secrets = format!("{env_path}/secrets");
    assert_eq!(call(&sandbox, "GET", &secrets, "").await.status, 404);
    assert_eq!(
        call(&sandbox, "GET", &format!("{secrets}/public-key"), "")
            .await
            .status,
        404
    );

    let created = call(&sandbox, "PUT", &env_path, "").await;
    assert_eq!(created.status, 200);
    assert_eq!(created.json()["name"], "prod/eu");
    let id = created.json()["id"].clone();
    let again = call(&sandbox, "PUT", &env_path, r#"{"wait_timer":0}"#).await;
    assert_eq!((again.status, &again.json()["id"]), (200, &id));
    assert!(sandbox.has_environment(REPO, "Prod/EU"));
    assert_eq!(call(&sandbox, "GET", &env_path, "").await.json()["id"], id);

    let scope = Scope::Environment(REPO.to_owned(), "prod/eu".to_owned());
    let key = call(&sandbox, "GET", &format!("{secrets}/public-key"), "").await;
    assert_ne!(key.json()["key_id"], KEY_ID);
    assert_ne!(
        BASE64.decode(key.json()["key"].as_str().unwrap_or("")).ok(),
        Some(sandbox.public_key_bytes().to_vec())
    );
    assert_eq!(sandbox.scope_public_key(&scope).0, key.json()["key_id"]);
    secret_lifecycle(&sandbox, &secrets, &scope, json!({})).await;

    // A value sealed for the repository key does not open in the environment.
    sandbox.add_environment(REPO, "staging");
    let repo_sealed = PublicKey::from(sandbox.public_key_bytes())
        .seal(&mut OsRng, b"x")
        .expect("seal");
    let body = json!({"encrypted_value": BASE64.encode(repo_sealed), "key_id": KEY_ID});
    let target = format!("/repos/{REPO}/environments/staging/secrets/X");
    let reply = call(&sandbox, "PUT", &target, &body.to_string()).await;
    assert_eq!(
        (reply.status, &reply.json()["message"]),
        (422, &json!("Bad key_id"))
    );
}

#[tokio::test]
async fn dependabot_scopes_serve_secrets_with_their_own_keys() {
    let sandbox = started().await;
    let repo_scope = Scope::DependabotRepo(REPO.to_owned());
    let prefix = format!("/repos/{REPO}/dependabot/secrets");
    secret_lifecycle(&sandbox, &prefix, &repo_scope, json!({})).await;
    let org_scope = Scope::DependabotOrg("acme".to_owned());
    let org_prefix = "/orgs/acme/dependabot/secrets";
    secret_lifecycle(
        &sandbox,
        org_prefix,
        &org_scope,
        json!({"visibility": "private"}),
    )
    .await;

    let keys: BTreeSet<String> = [&Scope::Repo(REPO.to_owned()), &repo_scope, &org_scope]
        .into_iter()
        .map(|scope| sandbox.scope_public_key(scope).0)
        .collect();
    assert_eq!(keys.len(), 3, "each scope has its own key id");
    sandbox.scope_put_outside(&repo_scope, "npm", b"t");
    assert!(
        sandbox.names(REPO).is_empty(),
        "Actions and Dependabot are apart"
    );
    assert_eq!(
        sandbox.scope_plaintext(&repo_scope, "NPM"),
        Some(b"t".to_vec())
    );
    assert_eq!(
        call(
            &sandbox,
            "GET",
            &format!("/repos/{REPO}/dependabot/variables"),
            ""
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn org_secrets_follow_visibility_and_selected_repository_rules() {
    let sandbox = Sandbox::start(restricted(&["acme/app", "acme/api", "other/x"]))
        .await
        .expect("start");
    let (app, api) = (
        sandbox.repo_id("acme/app").expect("id"),
        sandbox.repo_id("acme/api").expect("id"),
    );
    let foreign = sandbox.repo_id("other/x").expect("id");
    let scope = Scope::Org("acme".to_owned());
    let prefix = "/orgs/acme/actions/secrets";
    assert_eq!(
        call(&sandbox, "GET", "/orgs/nobody/actions/secrets", "")
            .await
            .status,
        404
    );

    let no_visibility = put_sealed(&sandbox, prefix, "TOKEN", b"v", json!({})).await;
    assert_eq!(no_visibility.status, 422);
    let bad = put_sealed(
        &sandbox,
        prefix,
        "TOKEN",
        b"v",
        json!({"visibility": "public"}),
    )
    .await;
    assert_eq!(bad.status, 422);
    let ids_not_selected = json!({"visibility": "all", "selected_repository_ids": [app]});
    assert_eq!(
        put_sealed(&sandbox, prefix, "TOKEN", b"v", ids_not_selected)
            .await
            .status,
        422
    );
    let foreign_id = json!({"visibility": "selected", "selected_repository_ids": [foreign]});
    assert_eq!(
        put_sealed(&sandbox, prefix, "TOKEN", b"v", foreign_id)
            .await
            .status,
        422
    );
    let unknown_id = json!({"visibility": "selected", "selected_repository_ids": [999_999_999]});
    assert_eq!(
        put_sealed(&sandbox, prefix, "TOKEN", b"v", unknown_id)
            .await
            .status,
        422
    );
    let no_value = call(
        &sandbox,
        "PUT",
        &format!("{prefix}/TOKEN"),
        r#"{"visibility":"all"}"#,
    )
    .await;
    assert_eq!(no_value.status, 422, "creating needs a value");
    assert!(sandbox.scope_names(&scope).is_empty());

    let created = put_sealed(
        &sandbox,
        prefix,
        "TOKEN",
        b"v",
        json!({"visibility": "private"}),
    )
    .await;
    assert_eq!(created.status, 201);
    let selected_path = format!("{prefix}/TOKEN/repositories");
    let conflict = call(&sandbox, "GET", &selected_path, "").await;
    assert_eq!(conflict.status, 409);
    let conflict = call(&sandbox, "PUT", &format!("{selected_path}/{app}"), "").await;
    assert_eq!(conflict.status, 409);
    assert_eq!(
        call(&sandbox, "GET", &format!("{prefix}/NONE/repositories"), "")
            .await
            .status,
        404
    );

    // A visibility-only change keeps the value.
    let selected = json!({"visibility": "selected", "selected_repository_ids": [app]}).to_string();
    let changed = call(&sandbox, "PUT", &format!("{prefix}/token"), &selected).await;
    assert_eq!(changed.status, 204);
    assert_eq!(
        sandbox.scope_plaintext(&scope, "TOKEN"),
        Some(b"v".to_vec())
    );
    assert_eq!(
        sandbox.org_secret_access(&scope, "TOKEN"),
        Some(("selected".to_owned(), vec![app]))
    );
    let half = json!({"visibility": "all", "key_id": "x"}).to_string();
    assert_eq!(
        call(&sandbox, "PUT", &format!("{prefix}/TOKEN"), &half)
            .await
            .status,
        422
    );

    let list = call(&sandbox, "GET", prefix, "").await.json();
    assert_eq!(list["secrets"][0]["visibility"], "selected");
    assert_eq!(
        list["secrets"][0]["selected_repositories_url"],
        format!("{}{selected_path}", sandbox.api_url())
    );
    let repos = call(&sandbox, "GET", &selected_path, "").await.json();
    assert_eq!(repos["total_count"], 1);
    assert_eq!(repos["repositories"][0]["full_name"], "acme/app");

    assert_eq!(
        call(&sandbox, "PUT", &format!("{selected_path}/{api}"), "")
            .await
            .status,
        204
    );
    assert_eq!(
        call(&sandbox, "DELETE", &format!("{selected_path}/{app}"), "")
            .await
            .status,
        204
    );
    assert_eq!(
        call(&sandbox, "PUT", &format!("{selected_path}/{foreign}"), "")
            .await
            .status,
        422
    );
    assert_eq!(
        sandbox.org_secret_access(&scope, "TOKEN").map(|a| a.1),
        Some(vec![api])
    );
    let set = json!({"selected_repository_ids": [api, app]}).to_string();
    assert_eq!(
        call(&sandbox, "PUT", &selected_path, &set).await.status,
        204
    );
    let bad_set = json!({"selected_repository_ids": [foreign]}).to_string();
    assert_eq!(
        call(&sandbox, "PUT", &selected_path, &bad_set).await.status,
        422
    );
    let mut both = vec![app, api];
    both.sort_unstable();
    assert_eq!(
        sandbox.org_secret_access(&scope, "TOKEN").map(|a| a.1),
        Some(both)
    );

    let to_all = call(
        &sandbox,
        "PUT",
        &format!("{prefix}/TOKEN"),
        r#"{"visibility":"all"}"#,
    )
    .await;
    assert_eq!(to_all.status, 204);
    assert_eq!(
        sandbox.org_secret_access(&scope, "TOKEN"),
        Some(("all".to_owned(), vec![]))
    );
    let item = call(&sandbox, "GET", &format!("{prefix}/TOKEN"), "")
        .await
        .json();
    assert!(item.get("selected_repositories_url").is_none());

    sandbox.scope_put_outside(&Scope::Org("fresh".to_owned()), "made", b"m");
    assert_eq!(
        sandbox.org_secret_access(&Scope::Org("FRESH".to_owned()), "MADE"),
        Some(("all".to_owned(), vec![]))
    );
    assert_eq!(
        sandbox.org_secret_access(&Scope::Repo(REPO.to_owned()), "X"),
        None
    );
}

#[tokio::test]
async fn an_environments_listings_page_by_repository_id_as_githubs_do() {
    let sandbox = started().await;
    sandbox.add_environment(REPO, "prod/eu");
    let scope = Scope::Environment(REPO.to_owned(), "prod/eu".to_owned());
    for i in 0..3 {
        sandbox.scope_put_outside(&scope, &format!("S{i}"), b"v");
        sandbox.set_variable_outside(&scope, &format!("V{i}"), "v");
    }
    let id = sandbox.repo_id(REPO).expect("an id");
    for what in ["secrets", "variables"] {
        let first = format!("/repos/{REPO}/environments/prod%2Feu/{what}?per_page=2");
        let page = call(&sandbox, "GET", &first, "").await;
        let link = page.header("link").expect("a link").to_owned();
        let next = format!(
            "<{}/repositories/{id}/environments/prod%2Feu/{what}?per_page=2&page=2>; rel=\"next\"",
            sandbox.api_url()
        );
        assert!(link.starts_with(&next), "{link}");
        let second = format!("/repositories/{id}/environments/prod%2Feu/{what}?per_page=2&page=2");
        let rest = call(&sandbox, "GET", &second, "").await.json();
        assert_eq!(rest[what].as_array().map(Vec::len), Some(1), "{rest}");
    }
}
