//! Shared by the forge tests: the npm packages scripts/test installs (GitHub's OpenAPI
//! description, Prism, webhook examples), documented response examples, a test remote.

use crate::common::repo_root;
use mlgate::ci::Secret;
use mlgate::forge::retry::Backoff;
use mlgate::forge::Remote;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

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
        labels: vec!["model-promotion".into()],
        reviewers: vec!["octocat".into()],
        draft: false,
        backoff: fast_backoff(),
    }
}
