//! The local forge: a promotion is a branch in the project's own git repository, its
//! description a Markdown file; a deployment is an annotated tag. Needs no network.

use super::{
    tag_message, tag_name, version_from_tag_subject, CommentOutcome, CommentStatus, DeployTag,
    Dispatch, Forge, Proposal, ProposalOutcome, ProposalStatus, Sticky, Verdict,
};
use crate::error::{Error, Result};
use crate::repo::git::Git;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub struct LocalForge {
    git: Git,
    /// Where pull-request descriptions are written.
    pulls: PathBuf,
    /// Whether `git` is inside a repository, asked on first use: most steps never use
    /// the forge, and a `git` process costs them milliseconds at start.
    in_repo: OnceLock<bool>,
}

impl LocalForge {
    /// A forge over the repository holding `dir`.
    pub fn open(dir: &Path, pulls: PathBuf) -> LocalForge {
        LocalForge {
            git: Git::new(dir),
            pulls,
            in_repo: OnceLock::new(),
        }
    }

    /// The repository, or why there is none.
    fn git(&self) -> Result<&Git> {
        if *self.in_repo.get_or_init(|| self.git.is_repo()) {
            return Ok(&self.git);
        }
        Err(crate::repo::outside_git(self.git.dir(), None))
    }

    /// The tree of `base` with `files` written into it, staged in a private index.
    fn tree_with(&self, base: &str, files: &[(String, String)]) -> Result<String> {
        let index = tempfile::Builder::new()
            .prefix("mlgate-index-")
            .tempfile()
            .map_err(|e| Error::external(format!("cannot create a temporary index: {e}")))?;
        let git = self.git()?.with_index(index.path());
        git.run(&["read-tree", base], None)?;
        for (path, content) in files {
            let blob = git.run(&["hash-object", "-w", "--stdin"], Some(content.as_bytes()))?;
            git.run(
                &[
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    &format!("100644,{blob},{path}"),
                ],
                None,
            )?;
        }
        git.run(&["write-tree"], None)
    }

    fn write_description(&self, proposal: &Proposal, head: &str) -> Result<PathBuf> {
        std::fs::create_dir_all(&self.pulls).map_err(|e| Error::write(&self.pulls, e))?;
        let path = self
            .pulls
            .join(format!("{}.md", proposal.branch.replace('/', "-")));
        let text = format!(
            "# {}\n\nBranch: `{}` at `{head}`\n\n{}\n",
            proposal.title, proposal.branch, proposal.body
        );
        std::fs::write(&path, text).map_err(|e| Error::write(&path, e))?;
        Ok(path)
    }
}

#[async_trait::async_trait]
impl Forge for LocalForge {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn propose(&self, proposal: &Proposal) -> Result<ProposalOutcome> {
        let git = self.git()?;
        let base = git.head().ok_or_else(|| {
            Error::input("the git repository has no commit yet")
                .with_hint("commit the project, then promote")
        })?;
        let tree = self.tree_with(&base, &proposal.files)?;
        let base_tree = git.run(&["rev-parse", &format!("{base}^{{tree}}")], None)?;
        let reference = format!("refs/heads/{}", proposal.branch);
        if tree == base_tree {
            return Ok(ProposalOutcome {
                status: ProposalStatus::AlreadyApplied,
                branch: proposal.branch.clone(),
                head: None,
                location: reference,
            });
        }
        let existing = git.query(&["rev-parse", "--verify", "-q", &reference]);
        if let Some(head) = &existing {
            let branch_tree = git.run(&["rev-parse", &format!("{head}^{{tree}}")], None)?;
            if branch_tree == tree {
                let file = self.write_description(proposal, head)?;
                return Ok(ProposalOutcome {
                    status: ProposalStatus::Unchanged,
                    branch: proposal.branch.clone(),
                    head: Some(head.clone()),
                    location: file.display().to_string(),
                });
            }
        }
        let message = format!("{}\n\n{}", proposal.title, proposal.body);
        let commit = git.commit_tree(&tree, &base, &message)?;
        // Compare-and-swap: fails rather than clobbering a branch moved by someone else meanwhile.
        let old = existing.clone().unwrap_or_default();
        git.run(
            &[
                "update-ref",
                "-m",
                "mlgate: propose promotion",
                &reference,
                &commit,
                &old,
            ],
            None,
        )?;
        let file = self.write_description(proposal, &commit)?;
        Ok(ProposalOutcome {
            status: if existing.is_some() {
                ProposalStatus::Updated
            } else {
                ProposalStatus::Opened
            },
            branch: proposal.branch.clone(),
            head: Some(commit),
            location: file.display().to_string(),
        })
    }

    async fn last_deploy_tag(&self, model: &str) -> Result<Option<DeployTag>> {
        Ok(self.deploy_tags(model)?.pop())
    }

    async fn create_deploy_tag(
        &self,
        model: &str,
        number: u64,
        version: &str,
    ) -> Result<DeployTag> {
        self.tag_head(model, number, version)
    }

    /// No pull request exists locally: the comment is a file beside the descriptions.
    async fn upsert_comment(&self, _pr: u64, sticky: &Sticky) -> Result<CommentOutcome> {
        std::fs::create_dir_all(&self.pulls).map_err(|e| Error::write(&self.pulls, e))?;
        let path = self.pulls.join(format!("comment-{}.md", sticky.key));
        let status = match std::fs::read_to_string(&path) {
            Ok(old) if old == sticky.body => CommentStatus::Unchanged,
            Ok(_) => CommentStatus::Updated,
            Err(_) => CommentStatus::Created,
        };
        if status != CommentStatus::Unchanged {
            std::fs::write(&path, &sticky.body).map_err(|e| Error::write(&path, e))?;
        }
        Ok(CommentOutcome {
            status,
            location: path.display().to_string(),
        })
    }

    async fn set_status(&self, _sha: &str, verdict: &Verdict) -> Result<String> {
        Ok(format!(
            "{}: {} (local: no commit status)",
            verdict.name,
            if verdict.passed { "success" } else { "failure" }
        ))
    }

    fn comment_limit(&self) -> usize {
        usize::MAX
    }

    async fn dispatch(&self, _: &Dispatch) -> Result<String> {
        Err(Error::config("the local forge has no CI pipeline to start")
            .with_hint("set `forge.provider` (and `forge.repository`) to the GitHub or GitLab project whose CI retrains"))
    }
}

impl LocalForge {
    /// Deployment tags of a model, oldest first.
    pub fn deploy_tags(&self, model: &str) -> Result<Vec<DeployTag>> {
        let pattern = format!("refs/tags/model/{model}/");
        let listing = self.git()?.run(
            &[
                "for-each-ref",
                "--format=%(refname:strip=2)\t%(contents:subject)",
                &pattern,
            ],
            None,
        )?;
        let mut tags: Vec<DeployTag> = listing
            .lines()
            .filter_map(|line| {
                let (name, subject) = line.split_once('\t')?;
                let number = name
                    .strip_prefix(&format!("model/{model}/v"))?
                    .parse()
                    .ok()?;
                let version = version_from_tag_subject(model, subject)?;
                Some(DeployTag {
                    name: name.to_string(),
                    number,
                    version,
                })
            })
            .collect();
        tags.sort_by_key(|t| t.number);
        Ok(tags)
    }

    fn tag_head(&self, model: &str, number: u64, version: &str) -> Result<DeployTag> {
        let name = tag_name(model, number);
        let message = tag_message(model, version);
        let git = self.git()?;
        if git.query(&["config", "user.email"]).is_none() {
            git.run(
                &[
                    "-c",
                    "user.name=mlgate",
                    "-c",
                    "user.email=mlgate@users.noreply.localhost",
                    "tag",
                    "-a",
                    &name,
                    "-m",
                    &message,
                    "HEAD",
                ],
                None,
            )?;
        } else {
            git.run(&["tag", "-a", &name, "-m", &message, "HEAD"], None)?;
        }
        Ok(DeployTag {
            name,
            number,
            version: version.to_string(),
        })
    }
}
