//! Forges: where promotions are proposed and deployments tagged. One interface; the
//! local git forge is the embedded default, GitHub and GitLab implement the same trait.

pub mod git;
mod local;

pub use local::LocalForge;

use crate::error::Result;
use serde::{Deserialize, Serialize};

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

#[async_trait::async_trait]
pub trait Forge: Send + Sync {
    fn name(&self) -> &'static str;
    /// Creates or updates the proposal on its branch; never duplicates it.
    async fn propose(&self, proposal: &Proposal) -> Result<ProposalOutcome>;
    /// Deployment tags of a model, oldest first.
    async fn deploy_tags(&self, model: &str) -> Result<Vec<DeployTag>>;
    /// Tags the current commit as a deployment of `version`.
    async fn create_deploy_tag(&self, model: &str, number: u64, version: &str)
        -> Result<DeployTag>;
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
