//! Shared by the forge tests: the npm packages scripts/test installs (GitHub's OpenAPI
//! description, Prism, webhook examples), documented response examples, a test remote.

use crate::common::repo_root;
use mlgate::ci::Secret;
use mlgate::forge::retry::Backoff;
use mlgate::forge::Remote;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The commit the test remote's runs are for.
pub const SHA: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";

/// A token that must never show up in any output.
pub const TOKEN: &str = "ghp_TESTSECRET0123456789abcdefSECRET";

/// `.cache/npm/node_modules/<rel>`, failing loudly when scripts/test has not installed it.
pub fn npm(rel: &str) -> PathBuf {
    let path = repo_root().join(".cache/npm/node_modules").join(rel);
    assert!(
        path.exists(),
        "{} is missing: run scripts/test, which installs the npm packages the forge tests need",
        path.display()
    );
    path
}

pub fn spec_path() -> PathBuf {
    npm("@octokit/openapi/generated/api.github.com.json")
}

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(spec_path()).unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

/// A response example from GitHub's OpenAPI description (`components.examples`).
pub fn example(name: &str) -> Value {
    spec()
        .pointer(&format!("/components/examples/{name}/value"))
        .unwrap_or_else(|| panic!("no example {name} in GitHub's OpenAPI description"))
        .clone()
}

/// Webhook payload examples of one event, from `@octokit/webhooks-examples`.
pub fn webhook_examples(event: &str) -> Vec<Value> {
    let path = npm("@octokit/webhooks-examples/api.github.com/index.json");
    let all: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all.into_iter()
        .find(|e| e["name"] == event)
        .and_then(|e| e["examples"].as_array().cloned())
        .unwrap_or_else(|| panic!("no {event} examples"))
}

pub fn fast_backoff() -> Backoff {
    Backoff {
        attempts: 3,
        base: Duration::from_millis(10),
        cap: Duration::from_secs(2),
    }
}

pub fn remote(api_url: &str, repository: &str) -> Remote {
    Remote {
        api_url: api_url.to_string(),
        repository: repository.to_string(),
        token: Secret::new(TOKEN),
        job_token: false,
        base: "main".into(),
        sha: Some("6113728f27ae82c7b1a177c8d03f9e96e0adf246".into()),
        path: String::new(),
        labels: vec!["model-promotion".into()],
        reviewers: vec!["octocat".into()],
        draft: false,
        backoff: fast_backoff(),
    }
}

pub fn json_response(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/json")
        .set_body_json(body)
}

pub fn git_ref(name: &str, sha: &str, kind: &str) -> Value {
    let mut r = example("git-ref");
    r["ref"] = name.into();
    r["object"]["sha"] = sha.into();
    r["object"]["type"] = kind.into();
    r
}

pub async fn mount_base(server: &MockServer) {
    mount_base_with(server, "models/churn/production.yaml").await;
}

/// The base branch `main` at [`SHA`], where `pointer` (repository path) differs from any
/// proposal, and the tree and commit a proposal writes on it (each expected once).
pub async fn mount_base_with(server: &MockServer, pointer: &str) {
    Mock::given(method("GET"))
        .and(path("/repos/o/r/git/ref/heads/main"))
        .respond_with(json_response(
            200,
            git_ref("refs/heads/main", SHA, "commit"),
        ))
        .mount(server)
        .await;
    // Content example: some other file, so the pointer differs everywhere.
    Mock::given(method("GET"))
        .and(path(format!("/repos/o/r/contents/{pointer}")))
        .respond_with(json_response(200, example("content-file")))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/o/r/git/commits/{SHA}")))
        .respond_with(json_response(200, example("git-commit")))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/git/trees"))
        .and(body_partial_json(
            json!({"tree": [{"path": pointer, "mode": "100644", "type": "blob"}]}),
        ))
        .respond_with(json_response(201, example("git-tree")))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/git/commits"))
        .and(body_partial_json(json!({"parents": [SHA]})))
        .respond_with(json_response(201, example("git-commit")))
        .expect(1)
        .mount(server)
        .await;
}

/// No promotion branch nor pull request yet: the branch is created once.
pub async fn mount_new_branch(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/repos/o/r/git/ref/heads/mlgate/promote/churn"))
        .respond_with(json_response(
            404,
            json!({"message": "Not Found", "documentation_url": "x"}),
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/git/refs"))
        .and(body_partial_json(
            json!({"ref": "refs/heads/mlgate/promote/churn"}),
        ))
        .respond_with(json_response(
            201,
            git_ref("refs/heads/mlgate/promote/churn", SHA, "commit"),
        ))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/pulls"))
        .respond_with(json_response(200, json!([])))
        .mount(server)
        .await;
}

/// The promotion pull request opened (as a draft or not), then labelled and given the
/// test remote's reviewer: each expected once.
pub async fn mount_new_pull_request(server: &MockServer, draft: bool) {
    let pr = example("pull-request");
    let number = pr["number"].as_u64().unwrap();
    Mock::given(method("POST"))
        .and(path("/repos/o/r/pulls"))
        .and(body_partial_json(
            json!({"head": "mlgate/promote/churn", "base": "main", "draft": draft}),
        ))
        .respond_with(json_response(201, pr))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/o/r/issues/{number}/labels")))
        .and(body_partial_json(json!({"labels": ["model-promotion"]})))
        .respond_with(json_response(200, example("label-items")))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/repos/o/r/pulls/{number}/requested_reviewers"
        )))
        .and(body_partial_json(json!({"reviewers": ["octocat"]})))
        .respond_with(json_response(201, example("pull-request-simple")))
        .expect(1)
        .mount(server)
        .await;
}
