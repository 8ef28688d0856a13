//! The user journeys of the README on the churn example, in a fresh repository each:
//! pull request → promotion branch → merge → deploy → revert → rollback.

use crate::common::{
    example_repo, git, mlgate, run_example as run, walk, EXAMPLE_CONFIG as CONFIG,
};
use std::path::Path;

const BRANCH: &str = "mlgate/promote/churn";

fn store_files(root: &Path) -> Vec<String> {
    let store = root.join("examples/churn/.mlgate/store");
    let mut files: Vec<String> = walk(&store)
        .into_iter()
        .map(|p| p.strip_prefix(&store).unwrap().display().to_string())
        .collect();
    files.sort();
    files
}

fn production_version(root: &Path, rev: &str) -> String {
    let text = git(
        root,
        &[
            "show",
            &format!("{rev}:examples/churn/models/churn/production.yaml"),
        ],
    );
    text.lines()
        .find_map(|l| l.strip_prefix("version: "))
        .unwrap()
        .to_string()
}

#[test]
fn first_run_promotes_and_rerun_changes_nothing() {
    let (_tmp, root) = example_repo();
    let (code, out) = run(&root);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("| metric | production | candidate | change | rule | verdict |"),
        "{out}"
    );
    assert!(out.contains("passes the gate against production"), "{out}");
    assert!(
        out.contains("both scored on the same evaluation data"),
        "{out}"
    );
    assert!(
        out.contains("opened promotion branch `mlgate/promote/churn`"),
        "{out}"
    );
    // The metric history comes from the pointer's git history: here, the shipped version.
    assert!(
        out.contains("title \"roc_auc: production history and candidate\""),
        "{out}"
    );
    assert!(
        out.contains("x-axis [\"26b02e29\", \"007fe29d (candidate)\"]"),
        "{out}"
    );
    assert!(root
        .join("examples/churn/.mlgate/reports/churn/charts/history-roc_auc.svg")
        .is_file());
    let head = git(&root, &["rev-parse", BRANCH]);
    let files = store_files(&root);

    let (code, out) = run(&root);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nothing changed"), "{out}");
    assert_eq!(
        git(&root, &["rev-parse", BRANCH]),
        head,
        "rerun moved the branch"
    );
    assert_eq!(store_files(&root), files, "rerun wrote to the store");

    // The branch changes exactly the pointer, on top of main, and names the candidate.
    assert_eq!(
        git(&root, &["rev-parse", &format!("{BRANCH}^")]),
        git(&root, &["rev-parse", "main"])
    );
    // It writes the pointer, and carries the candidate's files into git beside it.
    let candidate = production_version(&root, BRANCH);
    assert_ne!(candidate, production_version(&root, "main"));
    let versions = format!("examples/churn/models/churn/versions/{candidate}");
    assert_eq!(
        git(&root, &["diff", "--name-only", "main", BRANCH])
            .lines()
            .collect::<Vec<_>>(),
        [
            "examples/churn/models/churn/production.yaml".to_string(),
            format!("{versions}/manifest.json"),
            format!("{versions}/model.json"),
            format!("{versions}/profile.json"),
        ]
    );
    // The working tree and the user's index are untouched.
    assert_eq!(git(&root, &["status", "--porcelain"]), "");
}

#[test]
fn regressing_change_is_blocked_with_the_failed_rules() {
    let (_tmp, root) = example_repo();
    git(&root, &["apply", "examples/churn/changes/regress.patch"]);
    let (code, out) = run(&root);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("is blocked by the gate (roc_auc, log_loss)"),
        "{out}"
    );
    assert!(
        out.contains("❌ min: 0.6858 is below the minimum 0.7500 by 0.0642"),
        "{out}"
    );
    assert!(
        out.contains("max_regression: regressed by 0.1061 (allowed 0.0050): over by 0.1011"),
        "{out}"
    );
    assert!(
        out.contains("max_relative_regression: regressed by 17.32% (allowed 2.00%)"),
        "{out}"
    );
    assert!(
        !out.contains("· promote"),
        "a blocked candidate must not reach promote: {out}"
    );
    assert!(git(&root, &["branch", "--list", BRANCH]).is_empty());
    let junit =
        std::fs::read_to_string(root.join("examples/churn/.mlgate/reports/churn/compare.xml"))
            .unwrap();
    assert!(junit.contains("tests=\"3\" failures=\"2\""), "{junit}");
}

#[test]
fn improving_change_updates_the_existing_promotion() {
    let (_tmp, root) = example_repo();
    assert_eq!(run(&root).0, 0);
    let first = git(&root, &["rev-parse", BRANCH]);
    git(&root, &["apply", "examples/churn/changes/improve.patch"]);
    git(&root, &["commit", "-qam", "use support_calls"]);
    let (code, out) = run(&root);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("updated promotion branch"), "{out}");
    let second = git(&root, &["rev-parse", BRANCH]);
    assert_ne!(first, second);
    assert_eq!(
        git(&root, &["rev-parse", &format!("{BRANCH}^")]),
        git(&root, &["rev-parse", "main"])
    );
    assert_eq!(
        git(&root, &["branch", "--list", "mlgate/*"])
            .lines()
            .count(),
        1
    );
}

#[test]
fn merge_deploys_and_revert_rolls_back() {
    let (_tmp, root) = example_repo();
    let shipped = production_version(&root, "main");
    let deploy = |root: &Path| {
        let out = mlgate()
            .current_dir(root)
            .args(["deploy", "--config", CONFIG])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let published = || {
        std::fs::read_to_string(
            root.join("examples/churn/.mlgate/store/models/churn/production.yaml"),
        )
        .unwrap()
    };

    assert!(deploy(&root).contains("as `model/churn/v1`"));
    assert_eq!(run(&root).0, 0);
    let candidate = production_version(&root, BRANCH);
    git(&root, &["merge", "-q", "--ff-only", BRANCH]);
    assert!(deploy(&root).contains(&format!("deployed `{candidate}` as `model/churn/v2`")));
    assert!(published().contains(&format!("version: {candidate}")));
    assert!(deploy(&root).contains("already deployed; nothing changed"));

    git(&root, &["revert", "--no-edit", "HEAD"]);
    assert!(deploy(&root).contains(&format!("deployed `{shipped}` as `model/churn/v3`")));
    assert!(published().contains(&format!("version: {shipped}")));
    // The functions' snapshot follows: materialised, it holds the reverted pointer.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let local = runtime.block_on(async {
        let store = mlgate::store::FileStore::new(
            root.join("examples/churn/.mlgate/store"),
            "file://.mlgate/store",
        );
        mlgate::published::materialise(&store, &root.join("snapshots")).await
    });
    let local = local.unwrap();
    let pointer = local.config.with_file_name("models/churn/production.yaml");
    let pointer = std::fs::read_to_string(pointer).unwrap();
    assert!(
        pointer.contains(&format!("version: {shipped}")),
        "{pointer}"
    );
    assert!(local.config.with_file_name("data/schema.yaml").is_file());
    mlgate::config::Project::load_published(&local.config).unwrap();
    let tags = git(&root, &["tag", "--list", "model/churn/*"]);
    assert_eq!(
        tags.lines().collect::<Vec<_>>(),
        ["model/churn/v1", "model/churn/v2", "model/churn/v3"]
    );
}

/// A clone of the bare repository `origin` at `dir/name`, as a CI runner checks it out:
/// no `.mlgate/`, nothing but what git holds.
fn fresh_clone(origin: &Path, dir: &Path, name: &str) -> std::path::PathBuf {
    let clone = dir.join(name);
    git(dir, &["clone", "-q", &origin.display().to_string(), name]);
    assert!(!clone.join("examples/churn/.mlgate").exists());
    clone
}

/// The loop a team runs with the embedded defaults, each step on a fresh clone: the pull
/// request re-evaluates production from the version git holds; the promotion commit
/// carries the candidate into git; after the merge a new clone deploys it; reverting the
/// merge (`-m 1`) and deploying rolls back to the version git still holds.
#[test]
fn the_loop_runs_on_fresh_clones() {
    let (_tmp, root) = example_repo();
    let shipped = production_version(&root, "main");
    let dir = tempfile::tempdir().unwrap();
    let origin = dir.path().join("origin.git");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            &root.display().to_string(),
            "origin.git",
        ],
    );
    let deploy = |clone: &Path| {
        let (code, out, err) = crate::common::outcome(
            mlgate()
                .current_dir(clone)
                .args(["deploy", "--config", CONFIG]),
        );
        assert_eq!(code, 0, "{out}{err}");
        out
    };

    // The pull request's run, on a runner.
    let pr = fresh_clone(&origin, dir.path(), "pr");
    let (code, out) = run(&pr);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "Production `{shipped}` and the candidate were both scored"
        )),
        "production comes from git on a fresh clone: {out}"
    );
    let candidate = production_version(&pr, BRANCH);
    git(&pr, &["push", "-q", "origin", BRANCH]);

    // The reviewer merges the promotion; the push to main deploys on another runner.
    let merge = fresh_clone(&origin, dir.path(), "merge");
    git(
        &merge,
        &[
            "merge",
            "-q",
            "--no-ff",
            &format!("origin/{BRANCH}"),
            "-m",
            "Merge promotion",
        ],
    );
    git(&merge, &["push", "-q", "origin", "main"]);
    let ci = fresh_clone(&origin, dir.path(), "deploy");
    assert!(deploy(&ci).contains(&format!("deployed `{candidate}` as `model/churn/v1`")));

    // Reverting the merge rolls back: the older version is still in git.
    git(&ci, &["push", "-q", "origin", "--tags"]);
    git(&ci, &["revert", "--no-edit", "-m", "1", "HEAD"]);
    git(&ci, &["push", "-q", "origin", "main"]);
    let ci = fresh_clone(&origin, dir.path(), "rollback");
    assert!(deploy(&ci).contains(&format!("deployed `{shipped}` as `model/churn/v2`")));
}
