//! The edges of GitHub that the sandbox's defaults once hid: paging links in GitHub's
//! `/repositories/{id}/...` form, and `updated_at` at one-second granularity.

use std::io::ErrorKind;
use std::net::TcpListener;

use secretsync_sandbox::Scope;

use crate::support::{Env, REPO};

const SECRETS: usize = 130;
const VARIABLES: usize = 35;

/// More secrets than a page of 100 and more variables than a page of 30, all set outside.
fn crowded() -> Env {
    let env = Env::new();
    env.config_for_repo(
        "[secrets.DECLARED]\nvalue = \"d\"\n[variables.DECLARED_VAR]\nvalue = \"d\"\n",
    );
    let scope = Scope::Repo(REPO.into());
    for i in 0..SECRETS {
        env.sandbox.put_outside(REPO, &format!("S_{i:03}"), b"x");
    }
    for i in 0..VARIABLES {
        env.sandbox
            .set_variable_outside(&scope, &format!("V_{i:02}"), "v");
    }
    env
}

#[test]
fn listings_follow_githubs_repositories_id_links_whole() {
    let env = crowded();
    let out = env.cmd(&["plan", "--json"]).run();
    out.assert_code(0);
    let doc: serde_json::Value = out.json();
    let mut extras: Vec<String> = doc["targets"][0]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["action"] == "extra")
        .map(|c| {
            format!(
                "{}:{}",
                c["kind"].as_str().unwrap_or("?"),
                c["name"].as_str().unwrap_or("?")
            )
        })
        .collect();
    extras.sort();
    let mut expected: Vec<String> = (0..SECRETS)
        .map(|i| format!("secret:S_{i:03}"))
        .chain((0..VARIABLES).map(|i| format!("variable:V_{i:02}")))
        .collect();
    expected.sort();
    assert_eq!(
        extras, expected,
        "every item once, none missing, none made up"
    );

    // The second pages were fetched where GitHub's links point, not at the path first asked.
    let id = env.sandbox.repo_id(REPO).expect("the repository has an id");
    let mut by_id: Vec<String> = env
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/repositories/"))
        .map(|r| r.path)
        .collect();
    // Secrets and variables are listed at once, so in either order.
    by_id.sort();
    assert_eq!(
        by_id,
        [
            format!("/repositories/{id}/actions/secrets"),
            format!("/repositories/{id}/actions/variables"),
        ],
        "{:#?}",
        env.requests()
    );
}

#[test]
fn a_paging_link_to_another_host_is_not_followed() {
    let env = crowded();
    let elsewhere = TcpListener::bind("127.0.0.1:0").expect("a second listener");
    elsewhere.set_nonblocking(true).expect("nonblocking");
    let origin = format!("http://{}", elsewhere.local_addr().expect("its address"));
    env.sandbox.set_link_origin(Some(&origin));
    let out = env.cmd(&["plan"]).run();
    out.assert_code(1);
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("another host"))
        .collect();
    assert_eq!(errors.len(), 1, "one clear line: {}", out.stderr);
    assert!(errors[0].contains(REPO), "{}", errors[0]);
    // The binary has exited: a connection it opened would wait in the backlog.
    match elsewhere.accept() {
        Err(err) if err.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the token went to another host: {other:?}"),
    }
}
