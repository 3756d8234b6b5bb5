//! Free no-ops: every listing is sent with the `ETag` of its last full answer, so a run that
//! changes nothing is answered 304 throughout and spends none of the primary rate limit; a
//! change on GitHub still comes back in full (and is caught as drift); a damaged or unwritable
//! cache only costs a plain GET.

use std::path::PathBuf;

use secretsync::github::HttpCache;
use secretsync_sandbox::{RequestRecord, Scope};

use crate::support::{Env, Output, REPO};

const ORG: &str = "cond";
const REPOS: usize = 20;

fn org_env() -> Env {
    let env = Env::new();
    env.sandbox.add_org(ORG);
    for i in 0..REPOS {
        env.sandbox.add_repo(&format!("{ORG}/svc-{i:02}"));
    }
    env.sandbox.add_repo(&format!("{ORG}/website"));
    env.config(&format!(
        "[secrets.A_ONE]\nvalue = \"one\"\n[secrets.A_TWO]\nvalue = \"two\"\n\
         [variables.REGION]\nvalue = \"eu-west-1\"\n\n\
         [[targets]]\nrepos = {{ org = \"{ORG}\", match = \"svc-*\" }}\n"
    ));
    env
}

fn repo_env() -> Env {
    let env = Env::new();
    env.config_for_repo("[secrets.A]\nvalue = \"declared\"\n[variables.V]\nvalue = \"x\"\n");
    env
}

/// The conditional-GET cache file of the listing at `path_and_query`.
fn cache_file(env: &Env, path_and_query: &str) -> PathBuf {
    let cache = HttpCache::in_state_folder(&env.state_dir());
    cache.file(&format!("{}{path_and_query}", env.sandbox.api_url()))
}

fn listings(requests: &[RequestRecord], suffix: &str) -> Vec<u16> {
    requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(suffix))
        .map(|r| r.status)
        .collect()
}

/// One run, with what it asked of the sandbox and the primary budget it spent.
fn run(env: &Env, args: &[&str]) -> (Output, Vec<RequestRecord>, u32) {
    env.sandbox.clear_requests();
    let before = env.sandbox.primary_used();
    let out = env.cmd(args).run();
    (out, env.requests(), env.sandbox.primary_used() - before)
}

#[test]
fn a_no_op_over_an_organization_spends_no_primary_budget() {
    let env = org_env();
    env.apply();
    env.apply();
    let (out, requests, spent) = run(&env, &["apply", "--yes"]);
    out.assert_code(0);
    assert!(out.stdout.contains("In sync:"), "{}", out.stdout);
    let statuses: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {} {}", r.status, r.method, r.path))
        .collect();
    assert!(
        requests
            .iter()
            .all(|r| r.method == "GET" && r.status == 304),
        "every request a listing answered 304:\n{}",
        statuses.join("\n")
    );
    assert_eq!(spent, 0, "no primary budget:\n{}", statuses.join("\n"));
    assert_eq!(listings(&requests, "/actions/secrets"), [304; REPOS]);
    assert_eq!(listings(&requests, "/actions/variables"), [304; REPOS]);
    assert_eq!(listings(&requests, &format!("/orgs/{ORG}/repos")), [304]);
    // `plan` asks the same way.
    let (out, requests, spent) = run(&env, &["plan"]);
    out.assert_code(0);
    assert!(out.stdout.contains("In sync:"), "{}", out.stdout);
    assert!(requests.iter().all(|r| r.status == 304) && spent == 0);
}

#[test]
fn a_change_on_github_behind_our_back_is_still_caught() {
    let env = repo_env();
    env.apply();
    env.apply();
    let (_, requests, _) = run(&env, &["plan"]);
    assert_eq!(
        listings(&requests, "/actions/secrets"),
        [304],
        "the cache is warm"
    );

    env.sandbox.advance_clock(1);
    env.sandbox.put_outside(REPO, "A", b"set in the web UI");
    let scope = Scope::Repo(REPO.into());
    env.sandbox.set_variable_outside(&scope, "V", "edited");
    let (out, requests, spent) = run(&env, &["plan", "--detailed-exitcode"]);
    out.assert_code(2);
    assert_eq!(listings(&requests, "/actions/secrets"), [200]);
    assert_eq!(listings(&requests, "/actions/variables"), [200]);
    assert_eq!(spent, 2);
    assert!(
        out.stdout.contains("\"edited\" -> \"x\""),
        "the new listing is used:\n{}",
        out.stdout
    );
    env.apply();
    assert_eq!(env.plaintext("A").as_deref(), Some("declared"));
    assert_eq!(env.sandbox.variable(&scope, "V").as_deref(), Some("x"));
}

#[test]
fn a_damaged_cache_file_costs_a_plain_get() {
    let env = repo_env();
    env.apply();
    env.apply();
    let secrets = cache_file(&env, &format!("/repos/{REPO}/actions/secrets?per_page=100"));
    let variables = cache_file(
        &env,
        &format!("/repos/{REPO}/actions/variables?per_page=30"),
    );
    let whole = std::fs::read(&secrets).expect("the secrets listing is cached");
    let foreign = std::fs::read(&variables).expect("the variables listing is cached");
    let damage: [(&str, &[u8]); 4] = [
        ("garbage", b"\x00\xff not json"),
        ("truncated", &whole[..whole.len() / 2]),
        ("empty", b""),
        ("another URL's", &foreign),
    ];
    for (what, bytes) in damage {
        std::fs::write(&secrets, bytes).expect("damage");
        let (out, requests, _) = run(&env, &["apply", "--yes"]);
        out.assert_code(0);
        assert!(out.stdout.contains("In sync:"), "{what}: {}", out.stdout);
        assert_eq!(listings(&requests, "/actions/secrets"), [200], "{what}");
        assert_eq!(listings(&requests, "/actions/variables"), [304], "{what}");
        assert_eq!(
            std::fs::read(&secrets).expect("kept again"),
            whole,
            "{what}: the full answer is kept again"
        );
    }
}

#[test]
fn a_cache_that_cannot_be_written_is_only_logged() {
    let env = repo_env();
    std::fs::create_dir_all(env.state_dir()).expect("mkdir");
    // A file where the cache folder would be.
    std::fs::write(env.state_dir().join(secretsync::github::cache::FOLDER), b"").expect("file");
    let out = env.cmd(&["-v", "apply", "--yes"]).run();
    out.assert_code(0);
    assert!(
        out.stderr.contains("could not keep a listing in the cache"),
        "{}",
        out.stderr
    );
    let (out, requests, _) = run(&env, &["plan"]);
    out.assert_code(0);
    assert!(out.stdout.contains("In sync:"), "{}", out.stdout);
    assert_eq!(listings(&requests, "/actions/secrets"), [200]);
}

#[test]
fn a_repository_added_behind_a_full_last_page_is_found() {
    // Exactly one full page of 100: a repository named after them all makes a second page and
    // leaves the first as it was, so a 304 for the first would hide it.
    let env = Env::new();
    env.sandbox.add_org("full");
    for i in 0..100 {
        env.sandbox.add_repo(&format!("full/svc-{i:03}"));
    }
    env.config(
        "[secrets.A]\nvalue = \"a\"\n\n[[targets]]\nrepos = { org = \"full\", match = \"svc-*\" }\n",
    );
    env.apply();
    let (out, requests, _) = run(&env, &["apply", "--yes"]);
    out.assert_code(0);
    assert_eq!(
        listings(&requests, "/orgs/full/repos"),
        [200],
        "a full last page is not kept"
    );

    env.sandbox.add_repo("full/svc-zzz");
    let (out, requests, _) = run(&env, &["plan", "--detailed-exitcode"]);
    out.assert_code(2);
    assert!(out.stdout.contains("full/svc-zzz"), "{}", out.stdout);
    assert_eq!(listings(&requests, "/orgs/full/repos"), [200, 200]);
}
