//! Forges: where promotions are proposed, reports posted, verdicts set and deployments
//! tagged. One interface; the local git forge is the embedded default, GitHub (octocrab)
//! and GitLab (the `gitlab` crate) implement the same trait. [`open`] picks one from the
//! config and the CI environment.

pub mod context;
pub mod git;
mod github;
mod gitlab;
mod local;
pub mod retry;

pub use context::{Event, PullRequest};
pub use github::GitHub;
pub use gitlab::GitLab;
pub use local::LocalForge;

use crate::ci::{Ci, Platform, Secret};
use crate::config::{ForgeConfig, Project, Provider};
use crate::error::{Error, Result};
use retry::Backoff;
use serde::{Deserialize, Serialize};
use std::path::Path;

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
}

/// What a remote forge needs: where, as whom, and the promotion settings.
#[derive(Debug, Clone)]
pub struct Remote {
    /// REST API root, e.g. `https://api.github.com` or `https://gitlab.com/api/v4`.
    pub api_url: String,
    /// `owner/repo` or `group/project`.
    pub repository: String,
    pub token: Secret,
    /// GitLab's `CI_JOB_TOKEN`, which most write endpoints refuse.
    pub job_token: bool,
    /// Branch promotions target.
    pub base: String,
    /// The commit deployments are tagged on.
    pub sha: Option<String>,
    pub labels: Vec<String>,
    pub reviewers: Vec<String>,
    pub draft: bool,
    pub backoff: Backoff,
}

/// The forge for this project and run, and the run's event.
pub fn open(project: &Project, out: &Path) -> Result<(Box<dyn Forge>, Event)> {
    open_with(project, out, &mut Ci::detect())
}

/// [`open`] with an explicit CI environment (tokens are read and masked through it).
pub fn open_with(project: &Project, out: &Path, ci: &mut Ci) -> Result<(Box<dyn Forge>, Event)> {
    let cfg = &project.config.forge;
    let event = Event::from_ci(ci)?;
    let provider = match (cfg.provider, ci.platform()) {
        (Provider::Auto, Platform::GitHubActions) => Provider::Github,
        (Provider::Auto, Platform::GitLabCi) => Provider::Gitlab,
        (Provider::Auto, Platform::Local) => Provider::Local,
        (p, _) => p,
    };
    let forge: Box<dyn Forge> = match provider {
        Provider::Github => {
            let (token, _) = token(ci, &["GITHUB_TOKEN", "GH_TOKEN"], "github")?;
            let remote = remote(cfg, &event, token, false, "https://api.github.com")?;
            Box::new(GitHub::new(remote)?)
        }
        Provider::Gitlab => {
            let (token, var) = token(ci, &["GITLAB_TOKEN", "CI_JOB_TOKEN"], "gitlab")?;
            let job = var == "CI_JOB_TOKEN";
            let remote = remote(cfg, &event, token, job, "https://gitlab.com/api/v4")?;
            Box::new(GitLab::new(remote)?)
        }
        Provider::Auto | Provider::Local => {
            Box::new(LocalForge::open(&project.root, out.join("pull-requests"))?)
        }
    };
    Ok((forge, event))
}

/// The first variable set, masked; `which` names the forge in the error.
fn token(ci: &mut Ci, vars: &[&'static str], which: &str) -> Result<(Secret, &'static str)> {
    for var in vars {
        let secret = ci
            .secret_env(var)
            .map_err(|e| Error::external(format!("cannot mask ${var}: {e}")))?;
        if let Some(secret) = secret {
            return Ok((secret, var));
        }
    }
    Err(Error::input(format!(
        "the {which} forge needs a token: set {}",
        vars.join(" or ")
    ))
    .with_hint(match which {
        "github" => "in a workflow: `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` (see docs/forges.md for permissions)",
        _ => "store a project access token (scope `api`) as the masked CI/CD variable GITLAB_TOKEN",
    }))
}

fn remote(
    cfg: &ForgeConfig,
    event: &Event,
    token: Secret,
    job_token: bool,
    default_api: &str,
) -> Result<Remote> {
    let repository = cfg
        .repository
        .clone()
        .or_else(|| event.repository.clone())
        .ok_or_else(|| {
            Error::config("the forge's repository is unknown: not in the CI environment")
                .with_hint("set `forge.repository` in mlgate.yaml (owner/repo or group/project)")
        })?;
    Ok(Remote {
        api_url: cfg
            .url
            .clone()
            .or_else(|| event.api_url.clone())
            .unwrap_or_else(|| default_api.to_string()),
        repository,
        token,
        job_token,
        base: cfg
            .base
            .clone()
            .or_else(|| event.default_branch.clone())
            .unwrap_or_else(|| "main".into()),
        sha: event.sha.clone(),
        labels: cfg.labels.clone(),
        reviewers: cfg.reviewers.clone(),
        draft: cfg.draft,
        backoff: Backoff::from_env(),
    })
}

/// The hidden marker of a model's sticky report comment.
pub fn sticky_marker(model: &str) -> String {
    format!("<!-- mlgate:report model={model} -->")
}

/// What a forge call was for: names the permission a refusal means is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    Comment,
    Status,
    Propose,
    Tag,
}

impl Op {
    pub fn doing(self) -> &'static str {
        match self {
            Op::Read => "read the repository",
            Op::Comment => "post the report comment",
            Op::Status => "set the commit status",
            Op::Propose => "open or update the promotion pull request",
            Op::Tag => "create the deployment tag",
        }
    }
}

/// The outcome of a remote proposal: a pull request `opened` now, or one already open
/// whose branch was `unchanged` or moved.
fn proposed(
    proposal: &Proposal,
    opened: bool,
    unchanged: bool,
    head: Option<String>,
    location: String,
) -> ProposalOutcome {
    let status = match (opened, unchanged) {
        (true, _) => ProposalStatus::Opened,
        (false, true) => ProposalStatus::Unchanged,
        (false, false) => ProposalStatus::Updated,
    };
    ProposalOutcome {
        status,
        branch: proposal.branch.clone(),
        head,
        location,
    }
}

/// The base branch holds the change already: nothing is proposed.
fn already_applied(proposal: &Proposal, location: String) -> ProposalOutcome {
    ProposalOutcome {
        status: ProposalStatus::AlreadyApplied,
        branch: proposal.branch.clone(),
        head: None,
        location,
    }
}

/// The deployed commit, which remote forges tag.
fn deployed_sha(remote: &Remote) -> Result<&str> {
    remote.sha.as_deref().ok_or_else(|| {
        Error::input("no commit to tag: the CI did not say which commit this run is for")
            .with_hint("run `deploy` in a CI job on the push to the default branch")
    })
}

/// The annotated tag's message parsed back, for a tag named `name`.
fn parse_deploy_tag(model: &str, name: &str, message: &str) -> Option<DeployTag> {
    let number = name
        .strip_prefix(&format!("model/{model}/v"))?
        .parse()
        .ok()?;
    let version = version_from_tag_subject(model, message.lines().next()?)?;
    Some(DeployTag {
        name: name.to_string(),
        number,
        version,
    })
}

/// The number in `model/<model>/v<N>`.
fn tag_number(model: &str, name: &str) -> Option<u64> {
    name.strip_prefix(&format!("model/{model}/v"))?.parse().ok()
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
