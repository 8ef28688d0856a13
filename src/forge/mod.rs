//! Forges: where promotions are proposed, reports posted, verdicts set and deployments
//! tagged. One interface; the local git forge is the embedded default, GitHub (octocrab,
//! feature `github`) and GitLab (the `gitlab` crate, feature `gitlab`) implement the same
//! trait. [`open`] picks one from the config and the CI environment.

pub mod context;
#[cfg(feature = "github")]
mod github;
#[cfg(feature = "gitlab")]
mod gitlab;
mod local;
#[cfg(any(feature = "github", feature = "gitlab"))]
mod remote;
pub mod retry;

pub use context::{Event, PullRequest};
#[cfg(feature = "github")]
pub use github::GitHub;
#[cfg(feature = "gitlab")]
pub use gitlab::GitLab;
pub use local::LocalForge;
#[cfg(any(feature = "github", feature = "gitlab"))]
use remote::{
    already_applied, deployed_sha, parse_deploy_tag, proposed, remote, tag_number, token,
};
#[cfg(any(feature = "github", feature = "gitlab"))]
pub use remote::{ApiRepo, Op, Remote, RepoApi};

use crate::ci::{Ci, Platform};
use crate::config::{Project, Provider};
use crate::error::Result;
use crate::repo::Repo;
use retry::Backoff;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// A change proposed for review: files to write on a branch, with a title and description.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub branch: String,
    pub title: String,
    pub body: String,
    /// Repository-relative path and new content of each file.
    pub files: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// A new branch (pull request) was created.
    Opened,
    /// The existing branch was moved to the new change.
    Updated,
    /// The branch already held exactly this change.
    Unchanged,
    /// The base already holds the change: nothing to propose.
    AlreadyApplied,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposalOutcome {
    pub status: ProposalStatus,
    pub branch: String,
    /// The branch head after the call (absent when nothing was proposed).
    pub head: Option<String>,
    /// Where a person reviews it (a PR URL, or a local ref).
    pub location: String,
}

/// A deployment tag such as `model/churn/v3`, with the version it marks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployTag {
    pub name: String,
    pub number: u64,
    pub version: String,
}

/// A report kept as one comment per model on a pull request, found again by `marker`.
#[derive(Debug, Clone)]
pub struct Sticky {
    /// The model: names the local file the comment is written to.
    pub key: String,
    /// A hidden HTML comment that only this report's comment contains.
    pub marker: String,
    /// The whole comment, marker included.
    pub body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommentStatus {
    Created,
    Updated,
    /// The comment already said exactly this.
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentOutcome {
    pub status: CommentStatus,
    /// Where it is (a URL, or a local file).
    pub location: String,
}

/// A pass/fail verdict shown beside a commit: a check run or commit status.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The check's name, e.g. `mlgate/churn`.
    pub name: String,
    pub passed: bool,
    /// One line.
    pub title: String,
    /// Markdown (check runs show it; commit statuses only the title).
    pub summary: String,
    /// A link to the full report.
    pub details_url: Option<String>,
}

#[async_trait::async_trait]
pub trait Forge: Send + Sync {
    fn name(&self) -> &'static str;
    /// Creates or updates the proposal on its branch; never duplicates it.
    async fn propose(&self, proposal: &Proposal) -> Result<ProposalOutcome>;
    /// The latest deployment tag of a model.
    async fn last_deploy_tag(&self, model: &str) -> Result<Option<DeployTag>>;
    /// Tags the deployed commit as a deployment of `version`.
    async fn create_deploy_tag(&self, model: &str, number: u64, version: &str)
        -> Result<DeployTag>;
    /// Creates the comment holding `sticky.marker` on pull request `pr`, or updates it in
    /// place; duplicates (from concurrent runs) are removed.
    async fn upsert_comment(&self, pr: u64, sticky: &Sticky) -> Result<CommentOutcome>;
    /// Shows the verdict on commit `sha`; returns what was set (check run, commit status).
    async fn set_status(&self, sha: &str, verdict: &Verdict) -> Result<String>;
    /// The longest comment the forge accepts, in characters.
    fn comment_limit(&self) -> usize;
    /// Starts the project's CI pipeline on `dispatch.git_ref` with `dispatch.inputs`
    /// (GitHub `workflow_dispatch`, a GitLab pipeline with variables); returns what was
    /// started, in words.
    async fn dispatch(&self, dispatch: &Dispatch) -> Result<String>;
}

/// A CI run to start: what upload triggers use to retrain through CI.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatch {
    /// GitHub: the workflow file in `.github/workflows/`; GitLab runs the project's
    /// pipeline.
    pub workflow: String,
    pub git_ref: String,
    /// GitHub workflow inputs; GitLab variables (`MLGATE_<NAME>`).
    pub inputs: std::collections::BTreeMap<String, String>,
}

/// A forge opened for a run; a remote forge's client also reads the repository through
/// its API, for places without a checkout.
pub struct Opened {
    pub forge: Arc<dyn Forge>,
    pub api: Option<Arc<dyn Repo>>,
}

/// The forge for this project and run, from the config and the CI environment: the
/// provider (`auto` follows the CI), the token (read and masked through `ci`) and the
/// run's `event`.
pub fn open(project: &Project, out: &Path, ci: &mut Ci, event: &Event) -> Result<Opened> {
    let cfg = &project.config.forge;
    let provider = match (cfg.provider, ci.platform()) {
        (Provider::Auto, Platform::GitHubActions) => Provider::Github,
        (Provider::Auto, Platform::GitLabCi) => Provider::Gitlab,
        (Provider::Auto, Platform::Local) => Provider::Local,
        (p, _) => p,
    };
    let backoff = Backoff::from_vars(|name| ci.var(name));
    match provider {
        Provider::Github => {
            #[cfg(feature = "github")]
            {
                let (token, _) = token(ci, &["GITHUB_TOKEN", "GH_TOKEN"], "github")?;
                let remote = remote(cfg, event, token, false, "https://api.github.com", backoff)?;
                let github = Arc::new(GitHub::new(remote)?);
                Ok(Opened {
                    forge: github.clone(),
                    api: Some(Arc::new(ApiRepo(github))),
                })
            }
            #[cfg(not(feature = "github"))]
            {
                let _ = (event, backoff);
                Err(crate::Error::not_built("the GitHub forge", "github"))
            }
        }
        Provider::Gitlab => {
            #[cfg(feature = "gitlab")]
            {
                let (token, var) = token(ci, &["GITLAB_TOKEN", "CI_JOB_TOKEN"], "gitlab")?;
                let job = var == "CI_JOB_TOKEN";
                let remote = remote(cfg, event, token, job, "https://gitlab.com/api/v4", backoff)?;
                let gitlab = Arc::new(GitLab::new(remote)?);
                Ok(Opened {
                    forge: gitlab.clone(),
                    api: Some(Arc::new(ApiRepo(gitlab))),
                })
            }
            #[cfg(not(feature = "gitlab"))]
            {
                let _ = (event, backoff);
                Err(crate::Error::not_built("the GitLab forge", "gitlab"))
            }
        }
        Provider::Auto | Provider::Local => Ok(Opened {
            forge: Arc::new(LocalForge::open(&project.root, out.join("pull-requests"))),
            api: None,
        }),
    }
}

/// The hidden marker of a model's sticky report comment.
pub fn sticky_marker(model: &str) -> String {
    format!("<!-- mlgate:report model={model} -->")
}

/// `model/<name>/v<N>`.
pub fn tag_name(model: &str, number: u64) -> String {
    format!("model/{model}/v{number}")
}

/// The message of a deployment tag; its first line names the version so tags can be read back.
pub fn tag_message(model: &str, version: &str) -> String {
    format!("deploy {model} {version}\n\nProduction pointer of model `{model}` set to version {version} by mlgate.")
}

/// Parses the version back out of [`tag_message`]'s first line.
pub fn version_from_tag_subject(model: &str, subject: &str) -> Option<String> {
    let rest = subject
        .strip_prefix("deploy ")?
        .strip_prefix(model)?
        .strip_prefix(' ')?;
    Some(rest.trim().to_string())
}
