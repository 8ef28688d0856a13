//! What the remote forges (GitHub, GitLab) share: where and as whom they call, the token
//! read from the CI, the operations a refusal is explained for, and how proposals and
//! deployment tags are read back.

use super::retry::Backoff;
use super::{
    version_from_tag_subject, DeployTag, Event, Proposal, ProposalOutcome, ProposalStatus,
};
use crate::ci::{Ci, Secret};
use crate::config::ForgeConfig;
use crate::error::{Error, Result};
use crate::repo::{in_repository, Repo};
use std::sync::Arc;

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
    /// The commit the run is for: deployments are tagged on it, and the repository is
    /// read at it when there is no checkout.
    pub sha: Option<String>,
    /// The project's folder in the repository (`""` at the root), for reads through the API.
    pub path: String,
    pub labels: Vec<String>,
    pub reviewers: Vec<String>,
    pub draft: bool,
    pub backoff: Backoff,
}

impl Remote {
    /// What the repository is read at without a checkout: the run's commit, else the base.
    pub fn revision(&self) -> &str {
        self.sha.as_deref().unwrap_or(&self.base)
    }
}

/// The first variable set, masked; `which` names the forge in the error.
pub(super) fn token(
    ci: &mut Ci,
    vars: &[&'static str],
    which: &str,
) -> Result<(Secret, &'static str)> {
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

pub(super) fn remote(
    cfg: &ForgeConfig,
    event: &Event,
    token: Secret,
    job_token: bool,
    default_api: &str,
    backoff: Backoff,
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
        path: cfg.path.clone().unwrap_or_default(),
        labels: cfg.labels.clone(),
        reviewers: cfg.reviewers.clone(),
        draft: cfg.draft,
        backoff,
    })
}

/// What a forge call was for: names the permission a refusal means is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    Comment,
    Status,
    Propose,
    Tag,
    Dispatch,
}

impl Op {
    pub fn doing(self) -> &'static str {
        match self {
            Op::Read => "read the repository",
            Op::Comment => "post the report comment",
            Op::Status => "set the commit status",
            Op::Propose => "open or update the promotion pull request",
            Op::Tag => "create the deployment tag",
            Op::Dispatch => "start the CI pipeline",
        }
    }
}

/// The outcome of a remote proposal: a pull request `opened` now, or one already open
/// whose branch was `unchanged` or moved.
pub(super) fn proposed(
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
pub(super) fn already_applied(proposal: &Proposal, location: String) -> ProposalOutcome {
    ProposalOutcome {
        status: ProposalStatus::AlreadyApplied,
        branch: proposal.branch.clone(),
        head: None,
        location,
    }
}

/// The deployed commit, which remote forges tag.
pub(super) fn deployed_sha(remote: &Remote) -> Result<&str> {
    remote.sha.as_deref().ok_or_else(|| {
        Error::input("no commit to tag: the CI did not say which commit this run is for")
            .with_hint("run `deploy` in a CI job on the push to the default branch")
    })
}

/// The annotated tag's message parsed back, for a tag named `name`.
pub(super) fn parse_deploy_tag(model: &str, name: &str, message: &str) -> Option<DeployTag> {
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
pub(super) fn tag_number(model: &str, name: &str) -> Option<u64> {
    name.strip_prefix(&format!("model/{model}/v"))?.parse().ok()
}

/// What a remote forge's API tells about the repository; [`ApiRepo`] makes a [`Repo`] of it.
#[async_trait::async_trait]
pub trait RepoApi: Send + Sync {
    fn remote(&self) -> &Remote;
    /// `GitHub`, `GitLab`: for messages.
    fn provider(&self) -> &'static str;
    /// The commit at the head of `branch`, if the branch exists.
    async fn branch_head(&self, branch: &str) -> Result<Option<String>>;
    /// A file's text at `rev` (repository path), `None` where it does not exist.
    async fn file_at(&self, path: &str, rev: &str) -> Result<Option<String>>;
    /// Commits reachable from `rev` that changed `path`, newest first, at most `limit`.
    async fn commits(&self, path: &str, rev: &str, limit: usize) -> Result<Vec<String>>;

    /// Whether `files` (path, content) are exactly so at `rev`: nothing to change there.
    async fn holds(&self, rev: &str, files: &[(String, String)]) -> Result<bool> {
        for (path, content) in files {
            if self.file_at(path, rev).await?.as_deref() != Some(content.as_str()) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The repository read through a forge's API, for places without a checkout: files and
/// history at the commit the CI names, else at the base branch's head.
pub struct ApiRepo<T: RepoApi>(pub Arc<T>);

#[async_trait::async_trait]
impl<T: RepoApi> Repo for ApiRepo<T> {
    fn describe(&self) -> String {
        format!("{} on {}", self.0.remote().repository, self.0.provider())
    }

    async fn head(&self) -> Result<Option<String>> {
        let remote = self.0.remote();
        match &remote.sha {
            Some(sha) => Ok(Some(sha.clone())),
            None => self.0.branch_head(&remote.base).await,
        }
    }

    async fn prefix(&self) -> Result<String> {
        Ok(self.0.remote().path.clone())
    }

    async fn read(&self, path: &str, rev: Option<&str>) -> Result<Option<String>> {
        let remote = self.0.remote();
        let full = in_repository(&remote.path, path);
        self.0
            .file_at(&full, rev.unwrap_or(remote.revision()))
            .await
    }

    async fn history(&self, path: &str, limit: usize) -> Result<Vec<String>> {
        let remote = self.0.remote();
        let full = in_repository(&remote.path, path);
        self.0.commits(&full, remote.revision(), limit).await
    }
}
