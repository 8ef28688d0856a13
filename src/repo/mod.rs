//! The repository seam: what the steps read of the project's git history — the commit a
//! run is for, files at a revision, a file's history. A checkout answers through the
//! `git` command line ([`Checkout`]); places without one (a function, a runner without a
//! clone) ask the forge's API (GitHub and GitLab implement [`Repo`] too); a folder
//! outside any repository still has its files ([`Folder`]).
//!
//! Paths are relative to the project's folder (where `mlgate.yaml` is), like every path
//! in the config.

pub mod git;

use crate::error::{Error, Result};
use git::Git;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

#[async_trait::async_trait]
pub trait Repo: Send + Sync {
    /// Where reads come from, for messages: a folder, or `owner/repo`.
    fn describe(&self) -> String;
    /// The commit this run is for: the checkout's `HEAD`, or the commit the CI names.
    async fn head(&self) -> Result<Option<String>>;
    /// [`Repo::head`], and whether tracked files differ from it (never, without a
    /// working tree).
    async fn commit(&self) -> Result<Commit> {
        Ok(Commit {
            head: self.head().await?,
            dirty: false,
        })
    }
    /// The project's folder relative to the repository's root: `""` or `examples/churn/`.
    async fn prefix(&self) -> Result<String>;
    /// A file's text at `rev`, or as this run sees it when `rev` is `None` (a checkout's
    /// working tree, else [`Repo::head`]); `None` where the file does not exist.
    async fn read(&self, path: &str, rev: Option<&str>) -> Result<Option<String>>;
    /// The commits that changed `path`, newest first, at most `limit`.
    async fn history(&self, path: &str, limit: usize) -> Result<Vec<String>>;
}

/// The commit a run is for, as lineage records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub head: Option<String>,
    /// Tracked files differ from `head`: the code trained is not exactly that commit's.
    pub dirty: bool,
}

/// The repository of a project in `root`: its checkout when git is there, else `api`
/// (the forge's), else the bare folder. Found on first use, so a step that never asks
/// (`validate-data`) starts no `git` process.
pub fn open(root: &Path, api: Option<Arc<dyn Repo>>) -> Arc<dyn Repo> {
    Arc::new(Found {
        root: root.to_path_buf(),
        api,
        repo: OnceLock::new(),
    })
}

/// [`open`]'s answer, deferred.
struct Found {
    root: PathBuf,
    api: Option<Arc<dyn Repo>>,
    repo: OnceLock<Arc<dyn Repo>>,
}

impl Found {
    fn repo(&self) -> &dyn Repo {
        self.repo
            .get_or_init(|| match Checkout::open(&self.root) {
                Some(checkout) => Arc::new(checkout),
                None => self.api.clone().unwrap_or_else(|| {
                    Arc::new(Folder {
                        root: self.root.clone(),
                    })
                }),
            })
            .as_ref()
    }
}

#[async_trait::async_trait]
impl Repo for Found {
    fn describe(&self) -> String {
        self.repo().describe()
    }

    async fn head(&self) -> Result<Option<String>> {
        self.repo().head().await
    }

    async fn commit(&self) -> Result<Commit> {
        self.repo().commit().await
    }

    async fn prefix(&self) -> Result<String> {
        self.repo().prefix().await
    }

    async fn read(&self, path: &str, rev: Option<&str>) -> Result<Option<String>> {
        // A checkout and a bare folder both answer from the working tree: no need to
        // ask git which this is (only the forge's API reads elsewhere).
        if rev.is_none() && self.api.is_none() {
            return read_file(&self.root.join(path));
        }
        self.repo().read(path, rev).await
    }

    async fn history(&self, path: &str, limit: usize) -> Result<Vec<String>> {
        self.repo().history(path, limit).await
    }
}

/// A git checkout, through the `git` command line.
pub struct Checkout {
    git: Git,
    root: PathBuf,
}

impl Checkout {
    /// `None` when `root` is not inside a git work tree or git is not installed.
    pub fn open(root: &Path) -> Option<Checkout> {
        let git = Git::new(root);
        git.is_repo().then(|| Checkout {
            git,
            root: root.to_path_buf(),
        })
    }
}

#[async_trait::async_trait]
impl Repo for Checkout {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    async fn head(&self) -> Result<Option<String>> {
        Ok(self.git.head())
    }

    async fn commit(&self) -> Result<Commit> {
        let (head, dirty) = self.git.status()?;
        Ok(Commit { head, dirty })
    }

    async fn prefix(&self) -> Result<String> {
        self.git.prefix()
    }

    async fn read(&self, path: &str, rev: Option<&str>) -> Result<Option<String>> {
        match rev {
            None => read_file(&self.root.join(path)),
            Some(rev) => {
                let commit = format!("{rev}^{{commit}}");
                if self
                    .git
                    .query(&["rev-parse", "--verify", "-q", &commit])
                    .is_none()
                {
                    return Err(Error::input(format!(
                        "commit {rev} is not in the clone at {}",
                        self.root.display()
                    ))
                    .with_hint("fetch more history (e.g. `fetch-depth: 0` on actions/checkout)"));
                }
                // `rev:./path` is relative to the folder git runs in: the project's.
                Ok(self.git.query(&["show", &format!("{rev}:./{path}")]))
            }
        }
    }

    async fn history(&self, path: &str, limit: usize) -> Result<Vec<String>> {
        let limit = format!("--max-count={limit}");
        let log = self
            .git
            .query(&["log", &limit, "--format=%H", "--", path])
            .unwrap_or_default();
        Ok(log.lines().map(str::to_string).collect())
    }
}

/// What a step that needs git says where `dir` is in no repository; `or` is another way
/// out, where there is one.
pub fn outside_git(dir: &Path, or: Option<&str>) -> Error {
    let hint = "the production pointer lives in git: run `git init` and commit the project";
    Error::input(format!("{} is not inside a git repository", dir.display())).with_hint(match or {
        Some(other) => format!("{hint}, or {other}"),
        None => format!("{hint} first"),
    })
}

/// A project folder outside any repository: its files, and no history.
pub struct Folder {
    pub root: PathBuf,
}

#[async_trait::async_trait]
impl Repo for Folder {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    async fn head(&self) -> Result<Option<String>> {
        Ok(None)
    }

    async fn prefix(&self) -> Result<String> {
        Err(outside_git(
            &self.root,
            Some("set `forge.provider` and a token so mlgate reads the repository through the forge's API"),
        ))
    }

    async fn read(&self, path: &str, rev: Option<&str>) -> Result<Option<String>> {
        match rev {
            None => read_file(&self.root.join(path)),
            Some(_) => Ok(None),
        }
    }

    async fn history(&self, _path: &str, _limit: usize) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
}

/// A file's text; `None` when it does not exist.
fn read_file(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::read(path, e)),
    }
}

/// `prefix` + `path`, the path a forge's API knows a project file by.
pub fn in_repository(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_matches('/');
    let path = path.trim_start_matches("./");
    if prefix.is_empty() {
        path.to_string()
    } else {
        format!("{prefix}/{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_paths_become_repository_paths() {
        assert_eq!(in_repository("", "models/a.yaml"), "models/a.yaml");
        assert_eq!(
            in_repository("examples/churn/", "./models/a.yaml"),
            "examples/churn/models/a.yaml"
        );
    }

    #[tokio::test]
    async fn a_folder_has_files_but_no_history() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "x").unwrap();
        let folder = Folder {
            root: dir.path().to_path_buf(),
        };
        assert_eq!(
            folder.read("a.txt", None).await.unwrap().as_deref(),
            Some("x")
        );
        assert_eq!(folder.read("b.txt", None).await.unwrap(), None);
        assert_eq!(folder.head().await.unwrap(), None);
        assert!(folder.history("a.txt", 5).await.unwrap().is_empty());
        let err = folder.prefix().await.unwrap_err();
        assert!(err.to_string().contains("git init"), "{err}");
    }
}
