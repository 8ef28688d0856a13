//! The `forge:` block of mlgate.yaml: strict keys, semantic checks with positions.

use crate::common::mlgate;

fn check(forge: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    for f in ["train.csv", "eval.csv"] {
        std::fs::write(dir.path().join(f), "x,y\n1,0\n2,1\n").unwrap();
    }
    let config = dir.path().join("mlgate.yaml");
    std::fs::write(
        &config,
        format!("version: 1\nmodels:\n  m:\n    task: classification\n    target: y\n    data: {{train: train.csv, eval: eval.csv}}\n{forge}"),
    )
    .unwrap();
    let out = mlgate()
        .args(["config", "check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_valid_forge_block_passes() {
    let (ok, err) = check("forge:\n  provider: gitlab\n  url: https://gitlab.example.com\n  repository: group/sub/project\n  base: main\n  labels: [ml]\n  reviewers: [alice]\n  draft: true\n");
    assert!(ok, "{err}");
}

#[test]
fn forge_mistakes_point_at_their_line() {
    let (ok, err) = check("forge:\n  provider: github\n  url: api.github.com\n  repository: justone\n  reviewers: ['@bob']\n");
    assert!(!ok);
    assert!(
        err.contains("mlgate.yaml:9:") && err.contains("`forge.url`"),
        "{err}"
    );
    assert!(
        err.contains("mlgate.yaml:10:") && err.contains("`forge.repository`"),
        "{err}"
    );
    assert!(err.contains("`forge.reviewers.0`"), "{err}");
    let (ok, err) = check("forge:\n  provider: gitea\n");
    assert!(!ok && err.contains("mlgate.yaml:8:"), "{err}");
    let (ok, err) = check("forge:\n  lables: [x]\n");
    assert!(!ok && err.contains("did you mean `labels`"), "{err}");
}
