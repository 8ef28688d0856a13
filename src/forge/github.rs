//! The GitHub forge, through octocrab's typed API (github.com and GitHub Enterprise
//! Server). Promotions are committed with the Git database API (tree → commit → ref), so
//! a token is enough: no clone, no push, and the branch moves in one atomic step.

use super::remote::RepoApi;
use super::retry::{retry, wait_from_headers, Failure};
use super::{
    already_applied, deployed_sha, parse_deploy_tag, proposed, tag_message, tag_name, tag_number,
    CommentOutcome, CommentStatus, DeployTag, Dispatch, Forge, Op, Proposal, ProposalOutcome,
    Remote, Sticky, Verdict,
};
use crate::error::{Error, Result, Retry};
use crate::report::truncate;
use base64::Engine as _;
use octocrab::models::repos::Object;
use octocrab::models::StatusState;
use octocrab::params::checks::{CheckRunConclusion, CheckRunOutput, CheckRunStatus};
use octocrab::params::repos::Reference;
use octocrab::Octocrab;
use std::future::Future;

/// GitHub's limit on an issue comment's body.
pub const COMMENT_LIMIT: usize = 65_536;

pub struct GitHub {
    crab: Octocrab,
    remote: Remote,
    owner: String,
    repo: String,
}

impl GitHub {
    pub fn new(remote: Remote) -> Result<GitHub> {
        let (owner, repo) = remote
            .repository
            .split_once('/')
            .map(|(o, r)| (o.to_string(), r.to_string()))
            .ok_or_else(|| {
                Error::config(format!(
                    "`{}` is not a GitHub repository (owner/repo)",
                    remote.repository
                ))
            })?;
        let crab = Octocrab::builder()
            .base_uri(remote.api_url.as_str())
            .map_err(|e| Error::config(format!("forge.url `{}`: {e}", remote.api_url)))?
            // Our own retry honours rate limits; octocrab's would retry blindly underneath.
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .personal_token(remote.token.expose().to_string())
            .build()
            .map_err(|e| Error::external(format!("cannot set up the GitHub client: {e}")))?;
        Ok(GitHub {
            crab,
            remote,
            owner,
            repo,
        })
    }

    /// Runs one API call with retries; a final failure is explained for `op`.
    async fn call<T, F, Fut>(&self, op: Op, f: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = octocrab::Result<T>>,
    {
        retry(self.remote.backoff, || self.attempt(&f))
            .await
            .map_err(|(failure, attempts)| explain(op, &failure, attempts, &self.remote.api_url))
    }

    /// One try. A primary rate limit says when it resets only in headers octocrab does
    /// not expose, so the reset time is asked of `GET /rate_limit` (which never counts
    /// against the limit).
    async fn attempt<T, F, Fut>(&self, f: &F) -> std::result::Result<T, Failure>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = octocrab::Result<T>>,
    {
        let mut fail = match f().await {
            Ok(v) => return Ok(v),
            Err(e) => failure(e),
        };
        if fail.rate_limited
            && fail
                .message
                .to_lowercase()
                .contains("api rate limit exceeded")
        {
            if let Ok(limits) = self.crab.ratelimit().get().await {
                let reset = limits.resources.core.reset.to_string();
                fail.retry_after = wait_from_headers(None, Some(&reset));
            }
        }
        Err(fail)
    }

    /// Like [`GitHub::call`], but a 404 is `None`.
    async fn find<T, F, Fut>(&self, op: Op, f: F) -> Result<Option<T>>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = octocrab::Result<T>>,
    {
        let result = retry(self.remote.backoff, || self.attempt(&f)).await;
        match result {
            Ok(v) => Ok(Some(v)),
            Err((f, _)) if f.status == Some(404) => Ok(None),
            Err((f, attempts)) => Err(explain(op, &f, attempts, &self.remote.api_url)),
        }
    }

    async fn branch_sha(&self, branch: &str) -> Result<Option<String>> {
        let reference = Reference::Branch(branch.to_string());
        let repos = self.crab.repos(&self.owner, &self.repo);
        let found = self.find(Op::Read, || repos.get_ref(&reference)).await?;
        Ok(found.and_then(|r| match r.object {
            Object::Commit { sha, .. } => Some(sha),
            _ => None,
        }))
    }

    /// One commit on top of `base` writing `files`; returns its SHA. Unreferenced until
    /// a ref points at it, so a failure here leaves nothing visible behind.
    async fn commit_on(&self, base: &str, proposal: &Proposal) -> Result<String> {
        let repos = self.crab.repos(&self.owner, &self.repo);
        let base_commit = self.call(Op::Propose, || repos.get_commit(base)).await?;
        let entries: Vec<_> = proposal
            .files
            .iter()
            .map(|(path, content)| {
                let mut e =
                    octocrab::models::git::CreateTreeEntry::new(path.clone(), "100644", "blob");
                e.content = Some(content.clone());
                e
            })
            .collect();
        let tree = self
            .call(Op::Propose, || {
                repos
                    .create_tree(entries.clone())
                    .base_tree(base_commit.tree.sha.clone())
                    .send()
            })
            .await?;
        let message = format!("{}\n\n{}", proposal.title, "Proposed by mlgate.");
        let commit = self
            .call(Op::Propose, || async {
                repos
                    .create_git_commit_object(message.clone(), tree.sha.clone())
                    .parents(vec![base.to_string()])
                    .send()
                    .await
            })
            .await?;
        Ok(commit.sha)
    }

    /// Points the branch at `sha`: created, or force-moved (a newer candidate supersedes
    /// the older one in the same pull request).
    async fn move_branch(&self, branch: &str, sha: &str, exists: bool) -> Result<()> {
        let repos = self.crab.repos(&self.owner, &self.repo);
        let reference = Reference::Branch(branch.to_string());
        if exists {
            self.call(Op::Propose, || {
                repos.update_ref(&reference, sha).force(true).send()
            })
            .await?;
        } else {
            self.call(Op::Propose, || repos.create_ref(&reference, sha))
                .await?;
        }
        Ok(())
    }

    /// The open pull request from `branch` into the base, created or updated.
    async fn upsert_pull(&self, proposal: &Proposal) -> Result<(u64, String, bool)> {
        let pulls = self.crab.pulls(&self.owner, &self.repo);
        let head = format!("{}:{}", self.owner, proposal.branch);
        let page = self
            .call(Op::Propose, || {
                pulls
                    .list()
                    .state(octocrab::params::State::Open)
                    .head(head.clone())
                    .base(self.remote.base.clone())
                    .per_page(10)
                    .send()
            })
            .await?;
        if let Some(pr) = page.items.into_iter().next() {
            let pr = self
                .call(Op::Propose, || {
                    pulls
                        .update(pr.number)
                        .title(proposal.title.clone())
                        .body(proposal.body.clone())
                        .send()
                })
                .await?;
            return Ok((pr.number, html(&pr.html_url), false));
        }
        let pr = self
            .call(Op::Propose, || {
                pulls
                    .create(
                        proposal.title.clone(),
                        proposal.branch.clone(),
                        self.remote.base.clone(),
                    )
                    .body(proposal.body.clone())
                    .draft(self.remote.draft)
                    .send()
            })
            .await?;
        self.decorate(pr.number).await?;
        Ok((pr.number, html(&pr.html_url), true))
    }

    /// Labels and reviewers, on a new pull request only: re-requesting is noise.
    async fn decorate(&self, number: u64) -> Result<()> {
        if !self.remote.labels.is_empty() {
            let issues = self.crab.issues(&self.owner, &self.repo);
            self.call(Op::Propose, || {
                issues.add_labels(number, &self.remote.labels)
            })
            .await?;
        }
        if !self.remote.reviewers.is_empty() {
            let pulls = self.crab.pulls(&self.owner, &self.repo);
            self.call(Op::Propose, || {
                pulls.request_reviews(number, self.remote.reviewers.clone(), Vec::<String>::new())
            })
            .await?;
        }
        Ok(())
    }

    /// Every comment of the pull request. Pages are followed only on the API's own host,
    /// so a `Link` header pointing elsewhere never receives the token.
    async fn all_comments(
        &self,
        issues: &octocrab::issues::IssueHandler<'_>,
        pr: u64,
    ) -> octocrab::Result<Vec<octocrab::models::issues::Comment>> {
        let mut page = issues.list_comments(pr).per_page(100).send().await?;
        let mut all = page.take_items();
        let own = self.remote.api_url.parse::<http::Uri>().ok();
        let own = own.as_ref().and_then(|u| u.authority());
        for _ in 0..100 {
            let next = page.next.take().filter(|n| n.authority() == own);
            match self.crab.get_page(&next).await? {
                Some(p) => page = p,
                None => break,
            }
            all.extend(page.take_items());
        }
        Ok(all)
    }

    async fn check_run(&self, sha: &str, verdict: &Verdict) -> octocrab::Result<String> {
        let checks = self.crab.checks(&self.owner, &self.repo);
        let mut run = checks
            .create_check_run(verdict.name.clone(), sha.to_string())
            .status(CheckRunStatus::Completed)
            .conclusion(if verdict.passed {
                CheckRunConclusion::Success
            } else {
                CheckRunConclusion::Failure
            })
            .output(CheckRunOutput {
                title: verdict.title.clone(),
                summary: truncate(&verdict.summary, COMMENT_LIMIT - 1),
                text: None,
                annotations: vec![],
                images: vec![],
            });
        if let Some(url) = &verdict.details_url {
            run = run.details_url(url.clone());
        }
        let run = run.send().await?;
        Ok(format!("check run {}", run.html_url.unwrap_or_default()))
    }

    async fn commit_status(&self, sha: &str, verdict: &Verdict) -> octocrab::Result<String> {
        let state = if verdict.passed {
            StatusState::Success
        } else {
            StatusState::Failure
        };
        let repos = self.crab.repos(&self.owner, &self.repo);
        let mut status = repos
            .create_status(sha.to_string(), state)
            .context(verdict.name.clone())
            // GitHub cuts descriptions at 140 characters.
            .description(truncate(&verdict.title, 140));
        if let Some(url) = &verdict.details_url {
            status = status.target(url.clone());
        }
        status.send().await?;
        Ok(format!("commit status `{}`", verdict.name))
    }
}

#[async_trait::async_trait]
impl Forge for GitHub {
    fn name(&self) -> &'static str {
        "github"
    }

    async fn propose(&self, proposal: &Proposal) -> Result<ProposalOutcome> {
        let base = &self.remote.base;
        let base_sha = self.branch_sha(base).await?.ok_or_else(|| {
            Error::config(format!(
                "GitHub: base branch `{base}` not found in {}",
                self.remote.repository
            ))
            .with_hint("set `forge.base` to the branch promotions should target")
        })?;
        if self.holds(&base_sha, &proposal.files).await? {
            return Ok(already_applied(
                proposal,
                format!("{}@{base}", self.remote.repository),
            ));
        }
        let existing = self.branch_sha(&proposal.branch).await?;
        let unchanged = match &existing {
            Some(head) => self.holds(head, &proposal.files).await?,
            None => false,
        };
        let head = match (&existing, unchanged) {
            (Some(head), true) => head.clone(),
            _ => {
                let sha = self.commit_on(&base_sha, proposal).await?;
                self.move_branch(&proposal.branch, &sha, existing.is_some())
                    .await?;
                sha
            }
        };
        let (_, url, opened) = match self.upsert_pull(proposal).await {
            Ok(v) => v,
            Err(e) => {
                // A branch created by this run, without its pull request, is removed.
                if existing.is_none() {
                    let reference = Reference::Branch(proposal.branch.clone());
                    let repos = self.crab.repos(&self.owner, &self.repo);
                    let _ = repos.delete_ref(&reference).await;
                }
                return Err(e);
            }
        };
        Ok(proposed(proposal, opened, unchanged, Some(head), url))
    }

    async fn last_deploy_tag(&self, model: &str) -> Result<Option<DeployTag>> {
        let repos = self.crab.repos(&self.owner, &self.repo);
        let prefix = format!("tags/model/{model}/");
        let refs = self
            .call(Op::Read, || repos.list_matching_refs(&prefix))
            .await?;
        let Some((number, name, object)) = refs
            .into_iter()
            .filter_map(|r| {
                let name = r.ref_field.strip_prefix("refs/tags/")?.to_string();
                Some((tag_number(model, &name)?, name, r.object))
            })
            .max_by_key(|(n, _, _)| *n)
        else {
            return Ok(None);
        };
        let Object::Tag { sha, .. } = object else {
            return Err(Error::external(format!(
                "GitHub: tag `{name}` is a lightweight tag; mlgate's deployment tags are annotated"
            ))
            .with_hint("delete the tag, then rerun deploy"));
        };
        let tag = self.call(Op::Read, || repos.get_tag(sha.clone())).await?;
        Ok(parse_deploy_tag(model, &name, &tag.message).filter(|t| t.number == number))
    }

    async fn create_deploy_tag(
        &self,
        model: &str,
        number: u64,
        version: &str,
    ) -> Result<DeployTag> {
        let sha = deployed_sha(&self.remote)?;
        let name = tag_name(model, number);
        let repos = self.crab.repos(&self.owner, &self.repo);
        let message = tag_message(model, version);
        let tag = self
            .call(Op::Tag, || {
                repos
                    .create_tag(name.clone(), message.clone(), sha, "commit")
                    .send()
            })
            .await?;
        let reference = Reference::Tag(name.clone());
        self.call(Op::Tag, || repos.create_ref(&reference, tag.sha.clone()))
            .await?;
        Ok(DeployTag {
            name,
            number,
            version: version.to_string(),
        })
    }

    async fn upsert_comment(&self, pr: u64, sticky: &Sticky) -> Result<CommentOutcome> {
        let issues = self.crab.issues(&self.owner, &self.repo);
        let all = self
            .call(Op::Comment, || self.all_comments(&issues, pr))
            .await?;
        let mut ours = all.into_iter().filter(|c| {
            c.body
                .as_deref()
                .is_some_and(|b| b.contains(&sticky.marker))
        });
        let Some(found) = ours.next() else {
            let c = self
                .call(Op::Comment, || issues.create_comment(pr, &sticky.body))
                .await?;
            return Ok(CommentOutcome {
                status: CommentStatus::Created,
                location: c.html_url.to_string(),
            });
        };
        for duplicate in ours {
            self.call(Op::Comment, || issues.delete_comment(duplicate.id))
                .await?;
        }
        if found.body.as_deref() == Some(sticky.body.as_str()) {
            return Ok(CommentOutcome {
                status: CommentStatus::Unchanged,
                location: found.html_url.to_string(),
            });
        }
        // GitHub documents PATCH for this endpoint; octocrab's `update_comment` sends POST
        // (an undocumented alias), so the raw facility sends what the API describes.
        let route = format!(
            "/repos/{}/{}/issues/comments/{}",
            self.owner, self.repo, found.id
        );
        let body = serde_json::json!({ "body": sticky.body });
        let c: octocrab::models::issues::Comment = self
            .call(Op::Comment, || self.crab.patch(route.as_str(), Some(&body)))
            .await?;
        Ok(CommentOutcome {
            status: CommentStatus::Updated,
            location: c.html_url.to_string(),
        })
    }

    /// A check run; where the token may not create one (only GitHub Apps and
    /// `GITHUB_TOKEN` may; a PAT may not), a commit status.
    async fn set_status(&self, sha: &str, verdict: &Verdict) -> Result<String> {
        let checked = retry(self.remote.backoff, || async {
            self.check_run(sha, verdict).await.map_err(failure)
        })
        .await;
        match checked {
            Ok(where_) => Ok(where_),
            Err((f, _)) if matches!(f.status, Some(403) | Some(404)) && !f.rate_limited => {
                tracing::info!("no check run ({}); setting a commit status", f.message);
                self.call(Op::Status, || self.commit_status(sha, verdict))
                    .await
            }
            Err((f, attempts)) => Err(explain(Op::Status, &f, attempts, &self.remote.api_url)),
        }
    }

    fn comment_limit(&self) -> usize {
        COMMENT_LIMIT
    }

    async fn dispatch(&self, d: &Dispatch) -> Result<String> {
        let actions = self.crab.actions();
        let inputs = serde_json::to_value(&d.inputs).unwrap_or_default();
        self.call(Op::Dispatch, || {
            actions
                .create_workflow_dispatch(&self.owner, &self.repo, &d.workflow, &d.git_ref)
                .inputs(inputs.clone())
                .send()
        })
        .await?;
        Ok(format!(
            "workflow `{}` dispatched on `{}` in {}",
            d.workflow, d.git_ref, self.remote.repository
        ))
    }
}

#[async_trait::async_trait]
impl RepoApi for GitHub {
    fn remote(&self) -> &Remote {
        &self.remote
    }

    fn provider(&self) -> &'static str {
        "GitHub"
    }

    async fn branch_head(&self, branch: &str) -> Result<Option<String>> {
        self.branch_sha(branch).await
    }

    async fn file_at(&self, path: &str, rev: &str) -> Result<Option<String>> {
        let repos = self.crab.repos(&self.owner, &self.repo);
        let items = self
            .find(Op::Read, || {
                repos.get_content().path(path).r#ref(rev).send()
            })
            .await?;
        // Not octocrab's `decoded_content`: it panics on content that is not base64.
        Ok(items.and_then(|mut i| {
            let encoded = i.take_items().into_iter().next()?.content?;
            let compact: String = encoded.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()?;
            String::from_utf8(bytes).ok()
        }))
    }

    async fn commits(&self, path: &str, rev: &str, limit: usize) -> Result<Vec<String>> {
        let per_page = limit.clamp(1, 100) as u8;
        let repos = self.crab.repos(&self.owner, &self.repo);
        let page = self
            .call(Op::Read, || {
                repos
                    .list_commits()
                    .sha(rev)
                    .path(path)
                    .per_page(per_page)
                    .send()
            })
            .await?;
        Ok(page.items.into_iter().map(|c| c.sha).take(limit).collect())
    }
}

fn html(url: &Option<url::Url>) -> String {
    url.as_ref().map(|u| u.to_string()).unwrap_or_default()
}

/// Classifies an octocrab error. Its typed errors carry the status and GitHub's message
/// but not the response headers, so rate limits are recognised by GitHub's documented
/// messages and waited out with backoff.
fn failure(e: octocrab::Error) -> Failure {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let status = source.status_code.as_u16();
            let mut message = source.message.clone();
            if let Some(errors) = &source.errors {
                let details: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                message = format!("{message} ({})", details.join("; "));
            }
            let lower = message.to_lowercase();
            Failure {
                status: Some(status),
                rate_limited: matches!(status, 403 | 429) && lower.contains("rate limit"),
                retry_after: None,
                message,
                unreachable: false,
            }
        }
        octocrab::Error::Hyper { .. } | octocrab::Error::Service { .. } => Failure {
            status: None,
            message: crate::error::chain(&e),
            rate_limited: false,
            retry_after: None,
            unreachable: super::retry::unreachable(&e),
        },
        other => Failure {
            // An answer we could not read: retrying would not help.
            status: Some(0),
            message: format!("unexpected answer: {other}"),
            rate_limited: false,
            retry_after: None,
            unreachable: false,
        },
    }
}

/// The GitHub Actions permission an operation needs.
fn permission(op: Op) -> &'static str {
    match op {
        Op::Read => "contents: read",
        Op::Comment => "pull-requests: write",
        Op::Status => "checks: write` and `statuses: write",
        Op::Propose => "contents: write` and `pull-requests: write",
        Op::Tag => "contents: write",
        Op::Dispatch => "actions: write",
    }
}

/// A final failure as an error that says what to do.
fn explain(op: Op, f: &Failure, attempts: u32, api_url: &str) -> Error {
    let status = match f.status {
        Some(s) => format!("HTTP {s}: "),
        None => format!("no answer from {api_url}: "),
    };
    let message = format!("GitHub: cannot {}: {status}{}", op.doing(), f.message);
    let lower = f.message.to_lowercase();
    let hint = match f.status {
        _ if f.unreachable => "nothing answers there: check `forge.url` (GitHub Enterprise Server: https://HOST/api/v3) and the network".into(),
        _ if f.rate_limited => format!(
            "rate limited, still after {attempts} attempts: rerun later; a GitHub App token has higher limits than GITHUB_TOKEN"
        ),
        Some(401) => "the token is missing, expired or revoked: pass `GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` (or GH_TOKEN) to the step".into(),
        Some(403) if lower.contains("not permitted to create or approve pull requests") => "enable Settings → Actions → General → \"Allow GitHub Actions to create and approve pull requests\" (organisation and repository), or use a PAT or GitHub App token — which you need anyway when the promotion PR must trigger workflows".into(),
        Some(403) => format!(
            "the token lacks a permission: add `permissions: {}` to the workflow job; a fork's pull request only ever gets a read-only token",
            permission(op)
        ),
        Some(404) => format!(
            "not found — or hidden from this token (GitHub answers 404 for what a token may not see): check `forge.repository` (owner/repo), the branch and the pull request, and that the token has `permissions: {}`",
            permission(op)
        ),
        Some(409) => "conflict: the branch moved meanwhile, or the repository is empty; rerun".into(),
        Some(422) => "GitHub rejected the request as invalid: a reviewer must be a collaborator other than the author, a label or tag name must be valid, and a tag must not exist yet".into(),
        Some(0) => "GitHub answered something mlgate cannot read; check `forge.url` points at the REST API (https://HOST/api/v3 on GitHub Enterprise Server)".into(),
        _ => format!("GitHub did not answer properly after {attempts} attempts; rerun later"),
    };
    let retry = if f.retriable() {
        Retry::Transient
    } else {
        Retry::Permanent
    };
    Error::external(message).with_hint(hint).retry_as(retry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(status: u16, message: &str) -> Failure {
        Failure {
            status: Some(status),
            message: message.into(),
            rate_limited: message.contains("rate limit"),
            retry_after: None,
            unreachable: false,
        }
    }

    #[test]
    fn refusals_name_the_missing_permission() {
        let e = explain(
            Op::Comment,
            &f(403, "Resource not accessible by integration"),
            1,
            "https://api.github.com",
        );
        assert!(e.to_string().contains("pull-requests: write"), "{e}");
        let e = explain(
            Op::Propose,
            &f(
                403,
                "GitHub Actions is not permitted to create or approve pull requests.",
            ),
            1,
            "https://api.github.com",
        );
        assert!(
            e.to_string()
                .contains("Allow GitHub Actions to create and approve pull requests"),
            "{e}"
        );
        assert!(e.to_string().contains("PAT or GitHub App token"), "{e}");
        let e = explain(
            Op::Read,
            &f(401, "Bad credentials"),
            1,
            "https://api.github.com",
        );
        assert!(e.to_string().contains("GITHUB_TOKEN"), "{e}");
        let e = explain(
            Op::Status,
            &f(403, "You have exceeded a secondary rate limit"),
            5,
            "https://api.github.com",
        );
        assert!(e.to_string().contains("after 5 attempts"), "{e}");
        let e = explain(Op::Tag, &f(404, "Not Found"), 1, "https://api.github.com");
        assert!(e.to_string().contains("hidden from this token"), "{e}");
        assert!(e.to_string().contains("contents: write"), "{e}");
        let e = explain(
            Op::Propose,
            &f(409, "Reference update failed"),
            1,
            "https://api.github.com",
        );
        assert!(e.to_string().contains("moved meanwhile"), "{e}");
        let e = explain(
            Op::Propose,
            &f(422, "Reviews may only be requested from collaborators."),
            1,
            "https://api.github.com",
        );
        assert!(e.to_string().contains("collaborator"), "{e}");
    }
}
