//! The CI packaging run for real with this build's binary: the GitHub actions and the
//! example workflows under act (GitHub's API served by Prism), the GitLab components and
//! the example pipeline under gitlab-ci-local; each script lints its files, checks every
//! step's inputs against the CLI's flags, and installs the tools it needs.

use crate::common::repo_root;
use std::process::Command;

fn run(script: &str) {
    let out = Command::new(repo_root().join("tests/packaging").join(script))
        .arg(env!("CARGO_BIN_EXE_mlgate"))
        .current_dir(repo_root())
        .output()
        .expect("the packaging script starts");
    assert!(
        out.status.success(),
        "tests/packaging/{script} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn github_actions_run_under_act() {
    run("github.sh");
}

#[test]
fn gitlab_components_run_under_gitlab_ci_local() {
    run("gitlab.sh");
}
