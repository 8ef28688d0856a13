//! Helpers shared by the integration tests.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The `mlgate` binary under test.
pub fn mlgate() -> Command {
    let mut cmd = Command::cargo_bin("mlgate").expect("binary built");
    // Tests must not inherit a CI runner's environment.
    for var in [
        "GITHUB_ACTIONS",
        "GITLAB_CI",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
        "MLGATE_CONFIG",
        "MLGATE_DOTENV",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs git in `dir`, panicking with its output on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A fresh git repository holding the churn example at `examples/churn`, as a clone
/// would: only the files git tracks (the production version, committed beside its
/// pointer, included).
pub fn example_repo() -> (tempfile::TempDir, PathBuf) {
    let (dir, root) = example_folder();
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "example"]);
    (dir, root)
}

/// The files git tracks of the churn example at `examples/churn`, in a folder that is
/// not (yet) a repository.
pub fn example_folder() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let files = git(&repo_root(), &["ls-files", "examples/churn"]);
    for file in files.lines() {
        let target = root.join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(repo_root().join(file), &target).unwrap();
    }
    std::fs::write(root.join(".gitignore"), ".mlgate/\n").unwrap();
    (dir, root)
}

/// The churn example's config, relative to an [`example_repo`].
pub const EXAMPLE_CONFIG: &str = "examples/churn/mlgate.yaml";

/// `mlgate run` on the example: exit code and stdout, after checking nothing panicked.
pub fn run_example(root: &Path) -> (i32, String) {
    let out = mlgate()
        .current_dir(root)
        .args(["run", "--config", EXAMPLE_CONFIG])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Runs a prepared command: exit code, stdout and stderr, after checking nothing panicked.
pub fn outcome(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap(), stdout, stderr)
}

/// Every file under `dir`, recursively (none if it does not exist).
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The versions the example keeps in git, as store keys (`models/churn/versions/…`) and
/// files below `root`: what a team moving to a cloud store copies there.
pub fn committed_versions(root: &Path) -> Vec<(String, PathBuf)> {
    let project = root.join("examples/churn");
    walk(&project.join("models/churn/versions"))
        .into_iter()
        .map(|file| {
            let key = file.strip_prefix(&project).unwrap().display().to_string();
            (key, file)
        })
        .collect()
}
