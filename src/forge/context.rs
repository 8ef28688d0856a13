//! What the CI run is about: the pull/merge request (number, base, head SHA, fork), the
//! pushed commit, the repository and where the run's artifacts are. Read from
//! `GITHUB_EVENT_PATH` on GitHub Actions and from predefined variables on GitLab CI.

use crate::ci::{Ci, Platform};
use crate::error::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// The pull or merge request a run was triggered by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    /// Branch the request targets.
    pub base: String,
    /// Commit at the head of the request (what statuses are set on).
    pub head_sha: String,
    /// From another repository: its token is usually read-only.
    pub fork: bool,
}

/// The run's event, as far as the forge needs it. Every field may be missing locally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// `owner/repo` or `group/project`.
    pub repository: Option<String>,
    /// The forge's REST API root (`GITHUB_API_URL`, `CI_API_V4_URL`).
    pub api_url: Option<String>,
    pub default_branch: Option<String>,
    /// The commit the run is for: a pull request's head, or the pushed commit.
    pub sha: Option<String>,
    /// The previous head of the branch on a push (absent or all zeros for a new branch).
    pub before: Option<String>,
    pub pull_request: Option<PullRequest>,
    /// The page of this run, where its report artifact can be downloaded.
    pub run_url: Option<String>,
    /// The CI system running the step (`GitHub Actions`, `GitLab CI`); `None` on a
    /// developer's machine.
    pub runner: Option<&'static str>,
}

impl Event {
    pub fn from_ci(ci: &Ci) -> Result<Event> {
        match ci.platform() {
            Platform::GitHubActions => github(ci),
            Platform::GitLabCi => Ok(gitlab(ci)),
            Platform::Local => Ok(Event::default()),
        }
    }

    /// The commit a verdict is reported on.
    pub fn status_sha(&self) -> Option<&str> {
        self.pull_request
            .as_ref()
            .map(|pr| pr.head_sha.as_str())
            .or(self.sha.as_deref())
    }
}

fn owned(ci: &Ci, name: &str) -> Option<String> {
    ci.var(name).map(str::to_string)
}

fn github(ci: &Ci) -> Result<Event> {
    let payload = match ci.var("GITHUB_EVENT_PATH") {
        Some(path) => read_payload(Path::new(path))?,
        None => Value::Null,
    };
    let run_url = match (
        ci.var("GITHUB_SERVER_URL"),
        ci.var("GITHUB_REPOSITORY"),
        ci.var("GITHUB_RUN_ID"),
    ) {
        (Some(server), Some(repo), Some(run)) => {
            Some(format!("{server}/{repo}/actions/runs/{run}"))
        }
        _ => None,
    };
    let str_at = |p: &str| {
        payload
            .pointer(p)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Ok(Event {
        repository: owned(ci, "GITHUB_REPOSITORY").or_else(|| str_at("/repository/full_name")),
        api_url: owned(ci, "GITHUB_API_URL"),
        default_branch: str_at("/repository/default_branch"),
        sha: str_at("/after").or_else(|| owned(ci, "GITHUB_SHA")),
        before: str_at("/before").filter(|s| !is_zero_sha(s)),
        pull_request: github_pull_request(&payload),
        run_url,
        runner: Some("GitHub Actions"),
    })
}

/// `pull_request` and `pull_request_target` payloads carry `pull_request`; a fork is a
/// head repository other than the base one (or one deleted since, shown as null).
fn github_pull_request(payload: &Value) -> Option<PullRequest> {
    let pr = payload.get("pull_request")?;
    let base_repo = pr.pointer("/base/repo/full_name").and_then(Value::as_str);
    let head_repo = pr.pointer("/head/repo/full_name").and_then(Value::as_str);
    Some(PullRequest {
        number: pr.get("number")?.as_u64()?,
        base: pr.pointer("/base/ref")?.as_str()?.to_string(),
        head_sha: pr.pointer("/head/sha")?.as_str()?.to_string(),
        fork: head_repo.is_none() || head_repo != base_repo,
    })
}

fn read_payload(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::input(format!(
            "{}: GITHUB_EVENT_PATH is not a JSON event payload: {e}",
            path.display()
        ))
    })
}

fn gitlab(ci: &Ci) -> Event {
    let pull_request = ci
        .var("CI_MERGE_REQUEST_IID")
        .and_then(|iid| iid.parse().ok())
        .map(|number| PullRequest {
            number,
            base: owned(ci, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME").unwrap_or_default(),
            // Set in merged-results pipelines, where CI_COMMIT_SHA is the merge commit.
            head_sha: owned(ci, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")
                .or_else(|| owned(ci, "CI_COMMIT_SHA"))
                .unwrap_or_default(),
            fork: matches!(
                (ci.var("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"), ci.var("CI_MERGE_REQUEST_PROJECT_ID")),
                (Some(source), Some(target)) if source != target
            ),
        });
    Event {
        repository: owned(ci, "CI_PROJECT_PATH"),
        api_url: owned(ci, "CI_API_V4_URL"),
        default_branch: owned(ci, "CI_DEFAULT_BRANCH"),
        sha: owned(ci, "CI_COMMIT_SHA"),
        before: owned(ci, "CI_COMMIT_BEFORE_SHA").filter(|s| !is_zero_sha(s)),
        pull_request,
        run_url: owned(ci, "CI_JOB_URL").map(|u| format!("{u}/artifacts/browse")),
        runner: Some("GitLab CI"),
    }
}

fn is_zero_sha(sha: &str) -> bool {
    sha.chars().all(|c| c == '0')
}
