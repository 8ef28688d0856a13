//! The CI contract seen from outside: what a step leaves for GitHub Actions and GitLab CI.

use crate::common::{example_repo, mlgate, EXAMPLE_CONFIG as CONFIG};

#[test]
fn github_gets_outputs_summary_and_annotations() {
    let (_tmp, root) = example_repo();
    let output = root.join("gh_output");
    let summary = root.join("gh_summary");
    // Break one value so validate-data reports a finding to annotate.
    let eval = root.join("examples/churn/data/eval.csv");
    let text = std::fs::read_to_string(&eval)
        .unwrap()
        .replacen(",no\n", ",maybe\n", 1);
    std::fs::write(&eval, text).unwrap();
    let out = mlgate()
        .current_dir(&root)
        .args(["validate-data", "--config", CONFIG])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let annotation = stdout
        .lines()
        .find(|l| l.starts_with("::error "))
        .unwrap_or_else(|| panic!("no annotation in {stdout}"));
    assert!(
        annotation.contains("file=examples/churn/data/eval.csv,line=2,"),
        "{annotation}"
    );
    assert!(
        annotation.contains("column `churned`: value not among the allowed values"),
        "{annotation}"
    );
    let outputs = std::fs::read_to_string(&output).unwrap();
    assert!(outputs.contains("status=fail\n"), "{outputs}");
    assert!(std::fs::read_to_string(&summary)
        .unwrap()
        .contains("### ❌ `churn` · validate-data"));
}

#[test]
fn gitlab_gets_a_dotenv_and_local_runs_stay_quiet() {
    let (_tmp, root) = example_repo();
    let out = mlgate()
        .current_dir(&root)
        .args(["train", "--config", CONFIG])
        .env("GITLAB_CI", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let dotenv =
        std::fs::read_to_string(root.join("examples/churn/.mlgate/reports/mlgate.env")).unwrap();
    assert!(dotenv.contains("MLGATE_STATUS=pass"), "{dotenv}");
    assert!(
        dotenv
            .lines()
            .any(|l| l.starts_with("MLGATE_CHURN_CANDIDATE=")),
        "{dotenv}"
    );
    let models = dotenv
        .lines()
        .find_map(|l| l.strip_prefix("MLGATE_MODELS="))
        .expect("MLGATE_MODELS");
    let models: serde_json::Value = serde_json::from_str(models).unwrap();
    assert_eq!(models["churn"]["status"], "pass", "{models}");
    assert_eq!(
        models["churn"]["candidate"].as_str().map(str::len),
        Some(16)
    );

    let out = mlgate()
        .current_dir(&root)
        .args(["train", "--config", CONFIG])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("::"),
        "local runs print no workflow commands: {stdout}"
    );
}

#[test]
fn errors_become_an_annotation_on_github() {
    let (_tmp, root) = example_repo();
    let out = mlgate()
        .current_dir(&root)
        .args(["compare", "--config", CONFIG])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", root.join("o"))
        .env("GITHUB_STEP_SUMMARY", root.join("s"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("::error::no candidate for model `churn`")
    );
}
