//! The event context read from real GitHub webhook payloads (`@octokit/webhooks-examples`)
//! and from GitLab's predefined variables.

use crate::forge_support::webhook_examples;
use mlgate::ci::Ci;
use mlgate::forge::Event;
use serde_json::Value;
use std::collections::HashMap;

fn github_event(name: &str, payload: &Value) -> Event {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("event.json");
    std::fs::write(&path, payload.to_string()).unwrap();
    let vars: HashMap<String, String> = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_EVENT_NAME", name),
        ("GITHUB_EVENT_PATH", path.to_str().unwrap()),
        ("GITHUB_REPOSITORY", "Codertocat/Hello-World"),
        ("GITHUB_SHA", "ffffffffffffffffffffffffffffffffffffffff"),
        ("GITHUB_API_URL", "https://api.github.com"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_RUN_ID", "42"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Event::from_ci(&Ci::from_env(vars, Box::new(std::io::sink()))).unwrap()
}

fn pull_request(action: &str) -> Value {
    webhook_examples("pull_request")
        .into_iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no pull_request {action} example"))
}

#[test]
fn pull_request_opened_and_synchronize() {
    for action in ["opened", "synchronize"] {
        let payload = pull_request(action);
        let event = github_event("pull_request", &payload);
        let pr = event.pull_request.clone().expect("a pull request");
        assert_eq!(
            pr.number,
            payload["pull_request"]["number"].as_u64().unwrap()
        );
        assert_eq!(
            pr.base,
            payload["pull_request"]["base"]["ref"].as_str().unwrap()
        );
        assert_eq!(
            pr.head_sha,
            payload["pull_request"]["head"]["sha"].as_str().unwrap()
        );
        assert!(!pr.fork, "{action}: same repository");
        assert_eq!(event.status_sha(), Some(pr.head_sha.as_str()));
        assert_eq!(event.default_branch.as_deref(), Some("master"));
        assert_eq!(
            event.run_url.as_deref(),
            Some("https://github.com/Codertocat/Hello-World/actions/runs/42")
        );
    }
}

/// The examples hold no fork; the opened one with its head moved to another owner's
/// repository is exactly what GitHub sends for a fork.
#[test]
fn pull_request_from_a_fork() {
    let mut payload = pull_request("opened");
    payload["pull_request"]["head"]["repo"]["full_name"] = "someone/Hello-World".into();
    assert!(
        github_event("pull_request", &payload)
            .pull_request
            .unwrap()
            .fork
    );
    payload["pull_request"]["head"]["repo"] = Value::Null; // the fork was deleted since
    assert!(
        github_event("pull_request", &payload)
            .pull_request
            .unwrap()
            .fork
    );
}

#[test]
fn push_to_a_branch() {
    let payload = webhook_examples("push")
        .into_iter()
        .find(|e| e["ref"] == "refs/heads/master")
        .expect("a branch push example");
    let event = github_event("push", &payload);
    assert!(event.pull_request.is_none());
    assert_eq!(event.sha.as_deref(), payload["after"].as_str());
    assert_eq!(event.repository.as_deref(), Some("Codertocat/Hello-World"));
    // A new branch's `before` is all zeros: no previous head.
    assert_eq!(event.before, None);
}

#[test]
fn gitlab_merge_request_variables() {
    let vars: HashMap<String, String> = [
        ("GITLAB_CI", "true"),
        ("CI_PROJECT_PATH", "group/churn"),
        ("CI_API_V4_URL", "https://gitlab.example.com/api/v4"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_COMMIT_SHA", "aaaa"),
        ("CI_MERGE_REQUEST_IID", "7"),
        ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main"),
        ("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "11"),
        ("CI_MERGE_REQUEST_PROJECT_ID", "10"),
        (
            "CI_JOB_URL",
            "https://gitlab.example.com/group/churn/-/jobs/5",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let event = Event::from_ci(&Ci::from_env(vars, Box::new(std::io::sink()))).unwrap();
    let pr = event.pull_request.clone().unwrap();
    assert_eq!(
        (pr.number, pr.base.as_str(), pr.head_sha.as_str()),
        (7, "main", "aaaa")
    );
    assert!(pr.fork);
    assert_eq!(
        event.run_url.as_deref(),
        Some("https://gitlab.example.com/group/churn/-/jobs/5/artifacts/browse")
    );
}
