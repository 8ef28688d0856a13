//! The `git` command line, for a checkout and the local forge. Plumbing commands only,
//! so the user's working tree and index are never touched.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A git repository, addressed by any folder inside it.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    /// An alternative index file, so staging never disturbs the user's index.
    index: Option<PathBuf>,
}

/// Used when the user has no git identity configured (fresh CI machines).
const FALLBACK_NAME: &str = "mlgate";
const FALLBACK_EMAIL: &str = "mlgate@users.noreply.localhost";

impl Git {
    pub fn new(dir: &Path) -> Git {
        Git {
            dir: dir.to_path_buf(),
            index: None,
        }
    }

    /// The folder git runs in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn with_index(&self, index: &Path) -> Git {
        Git {
            dir: self.dir.clone(),
            index: Some(index.to_path_buf()),
        }
    }

    /// Runs git; a failure is an external error carrying git's own message.
    pub fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<String> {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(&self.dir).args(args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        if let Some(index) = &self.index {
            cmd.env("GIT_INDEX_FILE", index);
        }
        let mut child = cmd.spawn().map_err(|e| {
            Error::external(format!("cannot run git: {e}"))
                .with_hint("install git; the local forge and lineage need it")
        })?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input)
                .map_err(|e| Error::external(format!("git {}: {e}", args[0])))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| Error::external(format!("git {}: {e}", args[0])))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(Error::external(format!(
                "git {} failed: {}",
                args.join(" "),
                err.trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    }

    /// `Ok(None)` when git answers "no" (exit 1 on a quiet query) rather than failing.
    pub fn query(&self, args: &[&str]) -> Option<String> {
        self.run(args, None).ok().filter(|s| !s.is_empty())
    }

    pub fn is_repo(&self) -> bool {
        self.query(&["rev-parse", "--git-dir"]).is_some()
    }

    pub fn head(&self) -> Option<String> {
        self.query(&["rev-parse", "--verify", "-q", "HEAD"])
    }

    /// Path of `dir` relative to the repository root, with a trailing `/` (or empty).
    pub fn prefix(&self) -> Result<String> {
        self.run(&["rev-parse", "--show-prefix"], None)
    }

    /// `HEAD`'s commit (`None` before the first) and whether tracked files differ from
    /// it (untracked files do not count): one `git status` answers both.
    pub fn status(&self) -> Result<(Option<String>, bool)> {
        let args = [
            "status",
            "--porcelain=v2",
            "--branch",
            "--untracked-files=no",
        ];
        let (mut head, mut dirty) = (None, false);
        for line in self.run(&args, None)?.lines() {
            match line.strip_prefix("# branch.oid ") {
                Some(oid) => head = (oid != "(initial)").then(|| oid.to_string()),
                None => dirty |= !line.starts_with('#'),
            }
        }
        Ok((head, dirty))
    }

    /// Commits `tree` on `parent` as the user, or as mlgate when no identity is configured.
    pub fn commit_tree(&self, tree: &str, parent: &str, message: &str) -> Result<String> {
        let mut cmd = vec!["commit-tree", tree, "-p", parent, "-F", "-"];
        let identity: Vec<String>;
        if self.query(&["config", "user.email"]).is_none() {
            identity = vec![
                format!("user.name={FALLBACK_NAME}"),
                format!("user.email={FALLBACK_EMAIL}"),
            ];
            let mut with_identity = vec!["-c", &identity[0], "-c", &identity[1]];
            with_identity.append(&mut cmd);
            return self.run(&with_identity, Some(message.as_bytes()));
        }
        self.run(&cmd, Some(message.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_before_the_first_commit_has_no_head() {
        let dir = tempfile::tempdir().unwrap();
        let git = Git::new(dir.path());
        assert!(!git.is_repo());
        git.run(&["init", "-q"], None).unwrap();
        std::fs::write(dir.path().join("a.txt"), "a").unwrap();
        git.run(&["add", "a.txt"], None).unwrap();
        // Staged but not committed: no commit to name, and a change against none.
        assert_eq!(git.status().unwrap(), (None, true));
    }
}
