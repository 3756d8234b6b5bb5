//! GitHub's "minimal repository", as its REST description requires it in listings of
//! repositories: every URL (templates included, in GitHub's forms), the owner, and the flags.

use super::*;

/// Each `*_url` of a repository, after `{api}/repos/{owner}/{repo}`.
const REPO_URLS: &[(&str, &str)] = &[
    ("archive_url", "/{archive_format}{/ref}"),
    ("assignees_url", "/assignees{/user}"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("branches_url", "/branches{/branch}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("comments_url", "/comments{/number}"),
    ("commits_url", "/commits{/sha}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("contents_url", "/contents/{+path}"),
    ("contributors_url", "/contributors"),
    ("deployments_url", "/deployments"),
    ("downloads_url", "/downloads"),
    ("events_url", "/events"),
    ("forks_url", "/forks"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("hooks_url", "/hooks"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("issue_events_url", "/issues/events{/number}"),
    ("issues_url", "/issues{/number}"),
    ("keys_url", "/keys{/key_id}"),
    ("labels_url", "/labels{/name}"),
    ("languages_url", "/languages"),
    ("merges_url", "/merges"),
    ("milestones_url", "/milestones{/number}"),
    (
        "notifications_url",
        "/notifications{?since,all,participating}",
    ),
    ("pulls_url", "/pulls{/number}"),
    ("releases_url", "/releases{/id}"),
    ("stargazers_url", "/stargazers"),
    ("statuses_url", "/statuses/{sha}"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("tags_url", "/tags"),
    ("teams_url", "/teams"),
    ("trees_url", "/git/trees{/sha}"),
    ("url", ""),
];

/// Each `*_url` of a user or organization, after `{api}/users/{login}`.
const OWNER_URLS: &[(&str, &str)] = &[
    ("events_url", "/events{/privacy}"),
    ("followers_url", "/followers"),
    ("following_url", "/following{/other_user}"),
    ("gists_url", "/gists{/gist_id}"),
    ("organizations_url", "/orgs"),
    ("received_events_url", "/received_events"),
    ("repos_url", "/repos"),
    ("starred_url", "/starred{/owner}{/repo}"),
    ("subscriptions_url", "/subscriptions"),
    ("url", ""),
];

impl State {
    /// A repository as GitHub lists it (`GET /orgs/{org}/repos`, an organization secret's
    /// selected repositories): every repository in the sandbox is private and no fork.
    pub(super) fn minimal_repo_json(&self, info: &RepoInfo) -> Value {
        let base = format!("{}/repos/{}", self.api_url, info.full_name);
        let mut repo = urls(&base, REPO_URLS);
        repo.extend([
            ("id".to_owned(), json!(info.id)),
            ("node_id".to_owned(), json!(format!("R_sandbox{}", info.id))),
            ("name".to_owned(), json!(info.name())),
            ("full_name".to_owned(), json!(info.full_name)),
            ("owner".to_owned(), self.owner_json(info.owner())),
            ("private".to_owned(), json!(true)),
            ("fork".to_owned(), json!(false)),
            ("description".to_owned(), Value::Null),
            (
                "html_url".to_owned(),
                json!(format!("https://github.com/{}", info.full_name)),
            ),
        ]);
        Value::Object(repo)
    }

    fn owner_json(&self, login: &str) -> Value {
        let org_id = self.org_ids.get(&login.to_lowercase()).copied();
        let mut owner = urls(&format!("{}/users/{login}", self.api_url), OWNER_URLS);
        owner.extend([
            ("login".to_owned(), json!(login)),
            // An organization the sandbox has met has its id; any other owner plays the user.
            ("id".to_owned(), json!(org_id.unwrap_or(1))),
            ("node_id".to_owned(), json!(format!("O_sandbox_{login}"))),
            (
                "type".to_owned(),
                json!(if org_id.is_some() {
                    "Organization"
                } else {
                    "User"
                }),
            ),
            ("site_admin".to_owned(), json!(false)),
            ("gravatar_id".to_owned(), json!("")),
            (
                "avatar_url".to_owned(),
                json!(format!("https://avatars.githubusercontent.com/{login}")),
            ),
            (
                "html_url".to_owned(),
                json!(format!("https://github.com/{login}")),
            ),
        ]);
        Value::Object(owner)
    }
}

fn urls(base: &str, urls: &[(&str, &str)]) -> Map<String, Value> {
    urls.iter()
        .map(|(key, suffix)| ((*key).to_owned(), json!(format!("{base}{suffix}"))))
        .collect()
}
