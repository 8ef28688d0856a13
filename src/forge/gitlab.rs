//! The GitLab forge (gitlab.com and self-managed), through the `gitlab` crate's typed
//! endpoints. The crate's own clients verify the token against `/user` on creation, which
//! `CI_JOB_TOKEN` cannot read, and hide response headers; so the endpoints run on a small
//! [`AsyncClient`] of ours (the crate's documented extension point) that sends the right
//! token header and honours `Retry-After` / `RateLimit-Reset` on 429 and 5xx.

use super::remote::RepoApi;
use super::retry::{retry, wait_from_headers, Failure};
use super::{
    already_applied, deployed_sha, parse_deploy_tag, proposed, tag_message, tag_name, tag_number,
    CommentOutcome, CommentStatus, DeployTag, Dispatch, Forge, Op, Proposal, ProposalOutcome,
    Remote, Sticky, Verdict,
};
use crate::error::{Error, Result, Retry};
use bytes::Bytes;
use gitlab::api::projects::merge_requests::notes::{
    CreateMergeRequestNote, EditMergeRequestNote, MergeRequestNotes,
};
use gitlab::api::projects::merge_requests::{
    CreateMergeRequest, EditMergeRequest, MergeRequestState, MergeRequests,
};
use gitlab::api::projects::repository::branches::{Branch, DeleteBranch};
use gitlab::api::projects::repository::commits::{
    CommitAction, CommitActionType, CommitStatusState, Commits, CreateCommit, CreateCommitStatus,
};
use gitlab::api::projects::repository::files::FileRaw;
use gitlab::api::projects::repository::tags::{CreateTag, Tags};
use gitlab::api::{self, ApiError, AsyncClient, AsyncQuery, Pagination, RestClient};
use serde::Deserialize;

/// GitLab's limit on a note's body (1 000 000 characters).
pub const NOTE_LIMIT: usize = 1_000_000;

pub struct GitLab {
    client: Client,
    remote: Remote,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    message: String,
    /// No connection could be made: a wrong `forge.url` rather than a busy server.
    unreachable: bool,
}

/// Sends the crate's requests with our token header, retrying what may be retried.
struct Client {
    http: reqwest::Client,
    /// `…/api/v4/`, with the trailing slash `Url::join` needs.
    api: url::Url,
    token_header: &'static str,
    remote: Remote,
}

impl RestClient for Client {
    type Error = TransportError;

    fn rest_endpoint(&self, endpoint: &str) -> Result<url::Url, ApiError<Self::Error>> {
        Ok(self.api.join(endpoint)?)
    }
}

#[async_trait::async_trait]
impl AsyncClient for Client {
    async fn rest_async(
        &self,
        request: http::request::Builder,
        body: Vec<u8>,
    ) -> Result<http::Response<Bytes>, ApiError<Self::Error>> {
        let (parts, ()) = request
            .body(())
            .map_err(|e| {
                ApiError::client(TransportError {
                    message: e.to_string(),
                    unreachable: false,
                })
            })?
            .into_parts();
        let send = || async {
            let mut req = self
                .http
                .request(parts.method.clone(), parts.uri.to_string())
                .headers(parts.headers.clone())
                .header(self.token_header, self.remote.token.expose())
                .body(body.clone())
                .build()
                .map_err(transport)?;
            req.headers_mut().remove("authorization");
            let resp = self.http.execute(req).await.map_err(transport)?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let bytes = resp.bytes().await.map_err(transport)?;
            if status.as_u16() == 429 || status.is_server_error() {
                let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
                return Err(Failure {
                    status: Some(status.as_u16()),
                    message: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
                    rate_limited: status.as_u16() == 429,
                    retry_after: wait_from_headers(
                        header("retry-after"),
                        header("ratelimit-reset"),
                    ),
                    unreachable: false,
                });
            }
            let mut out = http::Response::builder().status(status);
            for (k, v) in &headers {
                out = out.header(k, v);
            }
            out.body(bytes).map_err(|e| transport_msg(e.to_string()))
        };
        retry(self.remote.backoff, send)
            .await
            .map_err(|(f, attempts)| {
                let host = self.api.host_str().unwrap_or("the GitLab host");
                let message = match f.status {
                    Some(s) => format!("HTTP {s} after {attempts} attempts: {}", f.message),
                    None if f.unreachable => format!("nothing answers at {host}: {}", f.message),
                    None => format!(
                        "no answer from {host} after {attempts} attempts: {}",
                        f.message
                    ),
                };
                ApiError::client(TransportError {
                    message,
                    unreachable: f.unreachable,
                })
            })
    }
}

fn transport(e: reqwest::Error) -> Failure {
    let unreachable = super::retry::unreachable(&e);
    // reqwest's messages name the URL, never our headers.
    Failure {
        unreachable,
        ..transport_msg(crate::error::chain(&e.without_url()))
    }
}

fn transport_msg(message: String) -> Failure {
    Failure {
        status: None,
        message,
        rate_limited: false,
        retry_after: None,
        unreachable: false,
    }
}

/// `DELETE /projects/:id/merge_requests/:iid/notes/:note_id`, which the crate lacks:
/// defined through its `Endpoint` trait, its documented extension point.
struct DeleteMergeRequestNote<'a> {
    project: &'a str,
    merge_request: u64,
    note: u64,
}

impl api::Endpoint for DeleteMergeRequestNote<'_> {
    fn method(&self) -> http::Method {
        http::Method::DELETE
    }

    fn endpoint(&self) -> std::borrow::Cow<'static, str> {
        let project = api::common::NameOrId::from(self.project);
        format!(
            "projects/{project}/merge_requests/{}/notes/{}",
            self.merge_request, self.note
        )
        .into()
    }
}

#[derive(Deserialize)]
struct Note {
    id: u64,
    body: String,
}

#[derive(Deserialize)]
struct MergeRequest {
    iid: u64,
    web_url: String,
}

#[derive(Deserialize)]
struct Tag {
    name: String,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct Commit {
    id: String,
}

#[derive(Deserialize)]
struct User {
    id: u64,
}

#[derive(Deserialize)]
struct Ignored {}

impl GitLab {
    pub fn new(remote: Remote) -> Result<GitLab> {
        let mut root = remote.api_url.trim_end_matches('/').to_string();
        if !root.ends_with("/api/v4") {
            root.push_str("/api/v4");
        }
        let api = url::Url::parse(&format!("{root}/"))
            .map_err(|e| Error::config(format!("forge.url `{}`: {e}", remote.api_url)))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("mlgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::external(format!("cannot set up the GitLab client: {e}")))?;
        let token_header = if remote.job_token {
            "JOB-TOKEN"
        } else {
            "PRIVATE-TOKEN"
        };
        Ok(GitLab {
            client: Client {
                http,
                api,
                token_header,
                remote: remote.clone(),
            },
            remote,
        })
    }

    fn project(&self) -> &str {
        &self.remote.repository
    }

    async fn query<E, T>(&self, op: Op, endpoint: E) -> Result<T>
    where
        E: AsyncQuery<T, Client> + Sync,
    {
        endpoint
            .query_async(&self.client)
            .await
            .map_err(|e| explain(op, &e, self.remote.job_token))
    }

    /// Like [`GitLab::query`], but 404 is `None`.
    async fn find<E, T>(&self, op: Op, endpoint: E) -> Result<Option<T>>
    where
        E: AsyncQuery<T, Client> + Sync,
    {
        match endpoint.query_async(&self.client).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if status_of(&e) == Some(404) => Ok(None),
            Err(e) => Err(explain(op, &e, self.remote.job_token)),
        }
    }

    async fn branch_exists(&self, branch: &str) -> Result<bool> {
        Ok(self.branch_head(branch).await?.is_some())
    }

    /// One commit on the base, written to the branch with `force`: GitLab creates the
    /// branch or replaces its history atomically, so a newer candidate supersedes the older.
    async fn commit(&self, proposal: &Proposal) -> Result<String> {
        let mut actions = Vec::new();
        for (path, content) in &proposal.files {
            let exists = self.file_at(path, &self.remote.base).await?.is_some();
            actions.push(
                CommitAction::builder()
                    .action(if exists {
                        CommitActionType::Update
                    } else {
                        CommitActionType::Create
                    })
                    .file_path(path.as_str())
                    .content(content.as_bytes())
                    .build()
                    .map_err(builder)?,
            );
        }
        let endpoint = CreateCommit::builder()
            .project(self.project())
            .branch(proposal.branch.as_str())
            .start_branch(self.remote.base.as_str())
            .commit_message(format!("{}\n\nProposed by mlgate.", proposal.title))
            .actions(actions)
            .force(true)
            .build()
            .map_err(builder)?;
        let commit: Commit = self.query(Op::Propose, endpoint).await?;
        Ok(commit.id)
    }

    async fn reviewer_ids(&self) -> Result<Vec<u64>> {
        let mut ids = Vec::new();
        for name in &self.remote.reviewers {
            let endpoint = api::users::Users::builder()
                .username(name.as_str())
                .build()
                .map_err(builder)?;
            let users: Vec<User> = self.query(Op::Propose, endpoint).await?;
            match users.first() {
                Some(u) => ids.push(u.id),
                None => {
                    return Err(
                        Error::config(format!("GitLab: reviewer `{name}` is not a user"))
                            .with_hint("check `forge.reviewers` (usernames, without @)"),
                    )
                }
            }
        }
        Ok(ids)
    }

    async fn upsert_merge_request(&self, proposal: &Proposal) -> Result<(String, bool)> {
        let title = if self.remote.draft {
            format!("Draft: {}", proposal.title)
        } else {
            proposal.title.clone()
        };
        let list = MergeRequests::builder()
            .project(self.project())
            .state(MergeRequestState::Opened)
            .source_branch(proposal.branch.as_str())
            .target_branch(self.remote.base.as_str())
            .build()
            .map_err(builder)?;
        let open: Vec<MergeRequest> = self.query(Op::Propose, list).await?;
        if let Some(mr) = open.first() {
            let edit = EditMergeRequest::builder()
                .project(self.project())
                .merge_request(mr.iid)
                .title(title.as_str())
                .description(proposal.body.as_str())
                .build()
                .map_err(builder)?;
            let mr: MergeRequest = self.query(Op::Propose, edit).await?;
            return Ok((mr.web_url, false));
        }
        let reviewers = self.reviewer_ids().await?;
        let mut create = CreateMergeRequest::builder();
        create
            .project(self.project())
            .source_branch(proposal.branch.as_str())
            .target_branch(self.remote.base.as_str())
            .title(title.as_str())
            .description(proposal.body.as_str())
            .remove_source_branch(true)
            .labels(self.remote.labels.iter().map(String::as_str));
        if !reviewers.is_empty() {
            create.reviewers(reviewers.into_iter());
        }
        let mr: MergeRequest = self
            .query(Op::Propose, create.build().map_err(builder)?)
            .await?;
        Ok((mr.web_url, true))
    }
}

#[async_trait::async_trait]
impl Forge for GitLab {
    fn name(&self) -> &'static str {
        "gitlab"
    }

    async fn propose(&self, proposal: &Proposal) -> Result<ProposalOutcome> {
        if self.holds(&self.remote.base, &proposal.files).await? {
            return Ok(already_applied(
                proposal,
                format!("{}@{}", self.remote.repository, self.remote.base),
            ));
        }
        let existed = self.branch_exists(&proposal.branch).await?;
        let unchanged = existed && self.holds(&proposal.branch, &proposal.files).await?;
        let head = if unchanged {
            None
        } else {
            Some(self.commit(proposal).await?)
        };
        let (url, opened) = match self.upsert_merge_request(proposal).await {
            Ok(v) => v,
            Err(e) => {
                // A branch created by this run, without its merge request, is removed.
                if !existed {
                    if let Ok(delete) = DeleteBranch::builder()
                        .project(self.project())
                        .branch(proposal.branch.as_str())
                        .build()
                    {
                        let _ = api::ignore(delete).query_async(&self.client).await;
                    }
                }
                return Err(e);
            }
        };
        Ok(proposed(proposal, opened, unchanged, head, url))
    }

    async fn last_deploy_tag(&self, model: &str) -> Result<Option<DeployTag>> {
        let endpoint = Tags::builder()
            .project(self.project())
            .search(format!("^model/{model}/v"))
            .build()
            .map_err(builder)?;
        let tags: Vec<Tag> = self
            .query(Op::Read, api::paged(endpoint, Pagination::All))
            .await?;
        let Some(latest) = tags
            .into_iter()
            .filter(|t| tag_number(model, &t.name).is_some())
            .max_by_key(|t| tag_number(model, &t.name))
        else {
            return Ok(None);
        };
        let message = latest.message.unwrap_or_default();
        Ok(parse_deploy_tag(model, &latest.name, &message))
    }

    async fn create_deploy_tag(
        &self,
        model: &str,
        number: u64,
        version: &str,
    ) -> Result<DeployTag> {
        let sha = deployed_sha(&self.remote)?;
        let name = tag_name(model, number);
        let endpoint = CreateTag::builder()
            .project(self.project())
            .tag_name(name.as_str())
            .ref_(sha)
            .message(tag_message(model, version))
            .build()
            .map_err(builder)?;
        let _: Ignored = self.query(Op::Tag, endpoint).await?;
        Ok(DeployTag {
            name,
            number,
            version: version.to_string(),
        })
    }

    async fn upsert_comment(&self, pr: u64, sticky: &Sticky) -> Result<CommentOutcome> {
        let list = MergeRequestNotes::builder()
            .project(self.project())
            .merge_request(pr)
            .build()
            .map_err(builder)?;
        let notes: Vec<Note> = self
            .query(Op::Comment, api::paged(list, Pagination::All))
            .await?;
        let location = format!("{}!{pr}", self.remote.repository);
        let mut ours = notes.iter().filter(|n| n.body.contains(&sticky.marker));
        let Some(found) = ours.next() else {
            let create = CreateMergeRequestNote::builder()
                .project(self.project())
                .merge_request(pr)
                .body(sticky.body.as_str())
                .build()
                .map_err(builder)?;
            let _: Note = self.query(Op::Comment, create).await?;
            return Ok(CommentOutcome {
                status: CommentStatus::Created,
                location,
            });
        };
        for duplicate in ours {
            let delete = DeleteMergeRequestNote {
                project: self.project(),
                merge_request: pr,
                note: duplicate.id,
            };
            self.query::<_, ()>(Op::Comment, api::ignore(delete))
                .await?;
        }
        if found.body == sticky.body {
            return Ok(CommentOutcome {
                status: CommentStatus::Unchanged,
                location,
            });
        }
        let edit = EditMergeRequestNote::builder()
            .project(self.project())
            .merge_request(pr)
            .note(found.id)
            .body(sticky.body.as_str())
            .build()
            .map_err(builder)?;
        let _: Note = self.query(Op::Comment, edit).await?;
        Ok(CommentOutcome {
            status: CommentStatus::Updated,
            location,
        })
    }

    async fn set_status(&self, sha: &str, verdict: &Verdict) -> Result<String> {
        let mut status = CreateCommitStatus::builder();
        status
            .project(self.project())
            .commit(sha)
            .state(if verdict.passed {
                CommitStatusState::Success
            } else {
                CommitStatusState::Failed
            })
            .name(verdict.name.as_str())
            .description(verdict.title.chars().take(255).collect::<String>());
        if let Some(url) = &verdict.details_url {
            status.target_url(url.as_str());
        }
        let _: Ignored = self
            .query(Op::Status, status.build().map_err(builder)?)
            .await?;
        Ok(format!("commit status `{}`", verdict.name))
    }

    fn comment_limit(&self) -> usize {
        NOTE_LIMIT
    }

    /// A pipeline with variables (`CI_PIPELINE_SOURCE` is `api`): the token is the one
    /// the forge already has, so no separate trigger token is kept.
    async fn dispatch(&self, d: &Dispatch) -> Result<String> {
        use gitlab::api::projects::pipelines::{CreatePipeline, PipelineVariable};
        let variables = d
            .inputs
            .iter()
            .map(|(k, v)| {
                PipelineVariable::builder()
                    .key(format!("MLGATE_{}", k.to_ascii_uppercase()))
                    .value(v.as_str())
                    .build()
                    .map_err(builder)
            })
            .collect::<Result<Vec<_>>>()?;
        let endpoint = CreatePipeline::builder()
            .project(self.project())
            .ref_(d.git_ref.as_str())
            .variables(variables.into_iter())
            .build()
            .map_err(builder)?;
        let pipeline: PipelineCreated = self.query(Op::Dispatch, endpoint).await?;
        Ok(format!(
            "pipeline {} started on `{}`",
            pipeline.web_url, d.git_ref
        ))
    }
}

#[derive(Deserialize)]
struct PipelineCreated {
    web_url: String,
}

/// A builder refused our parameters: a bug in mlgate, not the user's fault.
#[async_trait::async_trait]
impl RepoApi for GitLab {
    fn remote(&self) -> &Remote {
        &self.remote
    }

    fn provider(&self) -> &'static str {
        "GitLab"
    }

    async fn branch_head(&self, branch: &str) -> Result<Option<String>> {
        let endpoint = Branch::builder()
            .project(self.project())
            .branch(branch)
            .build()
            .map_err(builder)?;
        let found: Option<serde_json::Value> = self.find(Op::Read, endpoint).await?;
        Ok(found
            .and_then(|b| b.pointer("/commit/id").cloned())
            .and_then(|id| id.as_str().map(str::to_string)))
    }

    async fn file_at(&self, path: &str, rev: &str) -> Result<Option<String>> {
        let endpoint = FileRaw::builder()
            .project(self.project())
            .file_path(path)
            .ref_(rev)
            .build()
            .map_err(builder)?;
        let raw: Option<Vec<u8>> = self.find(Op::Read, api::raw(endpoint)).await?;
        Ok(raw.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    async fn commits(&self, path: &str, rev: &str, limit: usize) -> Result<Vec<String>> {
        let endpoint = Commits::builder()
            .project(self.project())
            .ref_name(rev)
            .path(path)
            .build()
            .map_err(builder)?;
        let commits: Vec<Commit> = self
            .query(Op::Read, api::paged(endpoint, Pagination::Limit(limit)))
            .await?;
        Ok(commits.into_iter().map(|c| c.id).collect())
    }
}

fn builder(e: impl std::fmt::Display) -> Error {
    Error::external(format!("GitLab request could not be built: {e}"))
}

fn status_of(e: &ApiError<TransportError>) -> Option<u16> {
    match e {
        ApiError::GitlabWithStatus { status, .. }
        | ApiError::GitlabObjectWithStatus { status, .. }
        | ApiError::GitlabUnrecognizedWithStatus { status, .. }
        | ApiError::GitlabService { status, .. } => Some(status.as_u16()),
        _ => None,
    }
}

/// The GitLab role or scope an operation needs.
fn needs(op: Op) -> &'static str {
    match op {
        Op::Read => "the `read_api` scope and Reporter role",
        Op::Comment => "the `api` scope and Reporter role",
        Op::Status => "the `api` scope and Developer role",
        Op::Propose => "the `api` scope and Developer role (Maintainer if the base branch is protected against merges by developers)",
        Op::Tag => "the `api` scope and Maintainer role when `model/*` tags are protected (Developer otherwise)",
        Op::Dispatch => "the `api` scope and Developer role",
    }
}

fn explain(op: Op, e: &ApiError<TransportError>, job_token: bool) -> Error {
    let message = format!("GitLab: cannot {}: {e}", op.doing());
    let unreachable = matches!(e, ApiError::Client { source } if source.unreachable);
    let hint = match status_of(e) {
        None if unreachable => "check `forge.url` (self-managed GitLab: https://HOST) and the network".into(),
        Some(401) | Some(403) if job_token => "CI_JOB_TOKEN cannot post notes, set commit statuses, commit, open merge requests or create tags: store a project access token as the masked CI/CD variable GITLAB_TOKEN".to_string(),
        Some(401) => "the token is missing, expired or revoked: set GITLAB_TOKEN to a project or group access token".into(),
        Some(403) => format!("the token lacks a permission: it needs {}", needs(op)),
        Some(404) => format!("not found — or hidden from this token: check `forge.repository` and that the token has {}", needs(op)),
        Some(409) => "conflict: it exists already or the branch moved meanwhile; rerun".into(),
        Some(400) | Some(422) => "GitLab rejected the request as invalid (a tag that exists already, an unknown label or reviewer, a protected branch)".into(),
        _ => "GitLab did not answer properly; rerun later".into(),
    };
    // No answer at all (refused, timed out), throttling and server errors may pass.
    let retry = match (e, status_of(e)) {
        _ if unreachable => Retry::Permanent,
        (ApiError::Client { .. } | ApiError::GitlabRateLimited { .. }, _)
        | (_, Some(429 | 500..=599)) => Retry::Transient,
        _ => Retry::Permanent,
    };
    Error::external(message).with_hint(hint).retry_as(retry)
}
