//! Steps run one by one, as separate CI jobs would, and their failure modes.

use crate::common::{
    example_folder, example_repo, git, mlgate, outcome, run_example, EXAMPLE_CONFIG as CONFIG,
};
use std::path::Path;

fn step(root: &Path, args: &[&str]) -> (i32, String, String) {
    outcome(
        mlgate()
            .current_dir(root)
            .args(args)
            .args(["--config", CONFIG, "--out", "out"]),
    )
}

#[test]
fn steps_chain_through_the_report_folder() {
    let (_tmp, root) = example_repo();
    for name in mlgate::steps::PIPELINE {
        let (code, out, err) = step(&root, &[name.as_str()]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        for ext in ["md", "json", "xml"] {
            assert!(
                root.join(format!("out/churn/{name}.{ext}")).is_file(),
                "{name}.{ext}"
            );
        }
    }
    assert!(!git(&root, &["branch", "--list", "mlgate/promote/churn"]).is_empty());
    for chart in ["confusion.svg", "roc.svg", "pr.svg"] {
        let svg = std::fs::read_to_string(root.join("out/churn/charts").join(chart)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{chart}"
        );
    }
    let evaluate = std::fs::read_to_string(root.join("out/churn/evaluate.md")).unwrap();
    assert!(
        evaluate.contains("```mermaid\nxychart-beta")
            && evaluate.contains("confusion.svg, roc.svg, pr.svg"),
        "{evaluate}"
    );
    let train: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("out/churn/train.json")).unwrap())
            .unwrap();
    let libraries = &train[0]["data"]["lineage"]["libraries"];
    assert!(
        libraries["rustc"].as_str().unwrap().starts_with("rustc "),
        "{libraries}"
    );
    assert_eq!(libraries["mlgate"], env!("CARGO_PKG_VERSION"));
    let (_, json, _) = step(&root, &["compare", "--format", "json"]);
    let reports: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(reports[0]["data"]["baseline"]["kind"], "reevaluated");
    assert_eq!(reports[0]["data"]["passed"], true);
    let (_, junit, _) = step(&root, &["compare", "--format", "junit"]);
    assert!(
        junit.starts_with("<?xml")
            && junit
                .contains("<testsuite name=\"mlgate.compare.churn\" tests=\"3\" failures=\"0\">"),
        "{junit}"
    );
}

#[test]
fn later_steps_without_earlier_ones_are_input_errors() {
    let (_tmp, root) = example_repo();
    let (code, _, err) = step(&root, &["compare"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no candidate for model `churn`") && err.contains("run `mlgate train` first"),
        "{err}"
    );
    let (code, _, err) = step(&root, &["promote"]);
    assert_eq!(code, 2);
    assert!(err.contains("run `mlgate compare` first"), "{err}");
    let (code, _, err) = step(&root, &["train", "--model", "chrun"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `churn`"), "{err}");
}

/// The lineage of a `train` run in `root`: its commit and whether the tree was dirty.
fn trained_commit(root: &Path) -> (serde_json::Value, serde_json::Value) {
    // From an empty store: a model identical to a stored one keeps that one's lineage.
    let _ = std::fs::remove_dir_all(root.join("examples/churn/.mlgate/store"));
    let (code, out, err) = step(root, &["train", "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let lineage = &report[0]["data"]["lineage"];
    (lineage["git_commit"].clone(), lineage["git_dirty"].clone())
}

#[test]
fn lineage_records_the_commit_and_edits_to_tracked_files() {
    let (_tmp, root) = example_repo();
    let head = git(&root, &["rev-parse", "HEAD"]);
    assert_eq!(trained_commit(&root), (head.clone().into(), false.into()));
    // An untracked file is not an edit to the code trained.
    std::fs::write(root.join("notes.txt"), "x").unwrap();
    assert_eq!(trained_commit(&root), (head.clone().into(), false.into()));
    let params = root.join("examples/churn/mlgate.yaml");
    let text = std::fs::read_to_string(&params).unwrap();
    std::fs::write(&params, format!("{text}\n# edited\n")).unwrap();
    assert_eq!(trained_commit(&root), (head.into(), true.into()));
}

#[test]
fn outside_git_training_warns_and_promotion_says_what_to_do() {
    let (_tmp, root) = example_folder();
    let (code, out, err) = step(&root, &["train"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("No commit recorded") && out.contains("`git init`"),
        "{out}"
    );
    for name in ["validate-model", "compare"] {
        let (code, out, err) = step(&root, &[name]);
        assert_eq!(code, 0, "{name}: {out}{err}");
    }
    let (code, out, err) = step(&root, &["promote"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("is not inside a git repository") && err.contains("git init"),
        "{err}"
    );
}

#[test]
fn bad_rows_fail_validation_naming_row_column_and_value() {
    let (_tmp, root) = example_repo();
    let eval = root.join("examples/churn/data/eval.csv");
    let mut lines: Vec<String> = std::fs::read_to_string(&eval)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    lines[3] = lines[3]
        .replacen(",month-to-month,", ",monthly,", 1)
        .replacen(",one-year,", ",monthly,", 1)
        .replacen(",two-year,", ",monthly,", 1);
    let mut cells: Vec<String> = lines[7].split(',').map(String::from).collect();
    cells[1] = "many".into();
    lines[7] = cells.join(",");
    std::fs::write(&eval, lines.join("\n") + "\n").unwrap();
    let (code, out, _) = step(&root, &["validate-data"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("| eval | contract | allowed | 1 | value not among the allowed values | row 3: `monthly` |"), "{out}");
    assert!(out.contains("| eval | tenure_months | type | 1 | not an integer (integer expected) | row 7: `many` |"), "{out}");
    // `run` stops at the failed step: nothing is trained.
    assert_eq!(run_example(&root).0, 1);
    assert!(!root
        .join("examples/churn/.mlgate/reports/churn/train.json")
        .exists());
}

#[test]
fn predict_scores_with_the_production_version() {
    let (_tmp, root) = example_repo();
    let (code, out, err) = step(
        &root,
        &[
            "predict",
            "--input",
            "examples/churn/data/score/to-score.csv",
            "--output",
            "preds.csv",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(root.join("preds.csv")).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .ends_with(",paperless_billing,prediction,proba_no,proba_yes"));
    assert_eq!(lines.clone().count(), 300);
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let (no, yes): (f64, f64) = (
            cells[cells.len() - 2].parse().unwrap(),
            cells[cells.len() - 1].parse().unwrap(),
        );
        assert!((no + yes - 1.0).abs() < 2e-6, "{line}");
        assert_eq!(
            cells[cells.len() - 3],
            if yes > no { "yes" } else { "no" },
            "{line}"
        );
    }
}

#[test]
fn tampered_store_is_detected() {
    let (_tmp, root) = example_repo();
    // Production's version, as git holds it.
    let versions = root.join("examples/churn/models/churn/versions");
    let version = std::fs::read_dir(&versions)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let model = version.join("model.json");
    let text = std::fs::read_to_string(&model)
        .unwrap()
        .replacen("0.", "1.", 1);
    std::fs::write(&model, text).unwrap();
    let (code, _, err) = step(
        &root,
        &[
            "predict",
            "--input",
            "examples/churn/data/score/to-score.csv",
            "--output",
            "p.csv",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("does not match its manifest's digest"),
        "{err}"
    );
}

#[test]
fn missing_production_artifact_falls_back_to_recorded_metrics_with_a_warning() {
    let (_tmp, root) = example_repo();
    std::fs::remove_dir_all(root.join("examples/churn/models/churn/versions")).unwrap();
    let (code, stdout) = run_example(&root);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("could not be re-evaluated"), "{stdout}");
    assert!(stdout.contains("| roc_auc ↑ | 0.7920 |"), "{stdout}");
}

#[test]
fn no_production_means_no_baseline() {
    let (_tmp, root) = example_repo();
    let pointer = root.join("examples/churn/models/churn/production.yaml");
    std::fs::write(&pointer, "model: churn\nversion: null\n").unwrap();
    git(&root, &["commit", "-qam", "no production"]);
    let (code, stdout) = run_example(&root);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("(no baseline: no production model yet)"),
        "{stdout}"
    );
    assert!(stdout.contains("| log_loss ↓ | — |"), "{stdout}");
    assert!(stdout.contains("➖ no baseline"), "{stdout}");
}

#[test]
fn init_scaffolds_a_project_that_runs() {
    let (_tmp, root) = example_repo();
    let dir = root.join("fresh");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    for f in ["train.csv", "eval.csv"] {
        std::fs::copy(
            root.join("examples/churn/data").join(f),
            dir.join("data").join(f),
        )
        .unwrap();
    }
    let init = |train: &str, eval: &str| {
        let args = [
            "init",
            "--model",
            "churn",
            "--task",
            "classification",
            "--target",
            "churned",
        ];
        mlgate()
            .args(args)
            .args(["--train", train, "--eval", eval])
            .arg("--dir")
            .arg(&dir)
            .output()
            .unwrap()
    };
    let out = init("data/train.csv", "data/eval.csv");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ignore = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == ".mlgate/"), "{ignore}");
    let again = init("a", "b");
    assert_eq!(again.status.code(), Some(2), "init must never overwrite");
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-qm", "fresh"]);
    let config = dir.join("mlgate.yaml");
    // The data has an id column: training says so instead of one-hot encoding 6 000 ids.
    let out = mlgate()
        .arg("train")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("feature `customer_id` has 6000 distinct values in 6000 rows"),
        "{stderr}"
    );
    assert!(
        stderr.contains("add `customer_id` to the model's `exclude` list"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "    target: churned\n",
        "    target: churned\n    exclude: [customer_id]\n",
    );
    std::fs::write(&config, text).unwrap();
    git(&root, &["commit", "-qam", "exclude the id"]);
    let out = mlgate()
        .arg("run")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("no baseline"), "{stdout}");
}

#[test]
fn regression_and_multiclass_models_run_end_to_end() {
    let (_tmp, root) = example_repo();
    let config = root.join("examples/churn/other.yaml");
    std::fs::write(
        &config,
        "version: 1\nmodels:\n  charges:\n    task: regression\n    target: monthly_charges\n    exclude: [customer_id, total_charges]\n    data: {train: data/train.csv, eval: data/eval.csv, schema: data/schema.yaml}\n    train: {algorithm: ridge, params: {alpha: 0.5}}\n    gate:\n      r2: {min: 0.5}\n      rmse: {max_relative_regression: 0.05}\n  contract:\n    task: classification\n    target: contract\n    exclude: [customer_id]\n    data: {train: data/train.csv, eval: data/eval.csv}\n    gate:\n      accuracy: {min: 0.4}\n      f1_macro: {min: 0.3}\n    validate: {slices: [internet_service]}\n",
    )
    .unwrap();
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-qm", "two more models"]);
    let out = mlgate()
        .current_dir(&root)
        .args([
            "run",
            "--config",
            "examples/churn/other.yaml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let reports = reports.as_array().unwrap();
    assert_eq!(reports.len(), 12, "six steps for each of two models");
    let train = |model: &str| {
        reports
            .iter()
            .find(|r| r["model"] == model && r["step"] == "train")
            .unwrap()
            .clone()
    };
    let charges = train("charges")["data"]["evaluation"]["metrics"].clone();
    let r2 = charges["r2"].as_f64().unwrap();
    assert!(
        r2 > 0.5 && r2 < 1.0,
        "monthly charges depend strongly on the internet service: r2 {r2}"
    );
    assert!(charges["rmse"].as_f64().unwrap() > 0.0);
    let contract = train("contract")["data"]["evaluation"].clone();
    assert_eq!(
        contract["classes"],
        serde_json::json!(["month-to-month", "one-year", "two-year"])
    );
    assert_eq!(contract["confusion"].as_array().unwrap().len(), 3);
    assert!(
        contract["metrics"].get("brier").is_none(),
        "brier is binary-only"
    );
    let evaluate = reports
        .iter()
        .find(|r| r["model"] == "contract" && r["step"] == "evaluate")
        .unwrap();
    let slice_table = evaluate["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["header"][0] == "slice `internet_service`")
        .expect("slice table");
    let slice_rows: Vec<&str> = slice_table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_str().unwrap())
        .collect();
    assert_eq!(slice_rows, ["dsl", "fiber", "none", "**largest gap**"]);
    assert_eq!(
        slice_table["header"],
        serde_json::json!(["slice `internet_service`", "rows", "accuracy", "f1_macro"])
    );
    let residuals = root.join("examples/churn/.mlgate/reports/charges/charts/residuals.svg");
    assert!(std::fs::read_to_string(residuals)
        .unwrap()
        .contains("<circle"));
    let contract_charts = root.join("examples/churn/.mlgate/reports/contract/charts");
    assert!(
        contract_charts.join("confusion.svg").is_file()
            && !contract_charts.join("roc.svg").exists(),
        "ROC is for binary models"
    );
    for branch in ["mlgate/promote/charges", "mlgate/promote/contract"] {
        assert!(
            !git(&root, &["branch", "--list", branch]).is_empty(),
            "{branch}"
        );
    }
}

/// A gate rule on a metric the model cannot have is a config error at the rule's key,
/// not a gate failure ("the candidate has no `brier`") after training.
#[test]
fn brier_on_a_multiclass_model_is_a_config_error() {
    let (_tmp, root) = example_repo();
    let config = root.join("examples/churn/contract.yaml");
    std::fs::write(
        &config,
        "version: 1\nmodels:\n  contract:\n    task: classification\n    target: contract\n    exclude: [customer_id]\n    data: {train: data/train.csv, eval: data/eval.csv}\n    gate:\n      accuracy: {min: 0.4}\n      brier: {max: 0.3}\n",
    )
    .unwrap();
    let (code, _, err) = outcome(mlgate().current_dir(&root).args([
        "train",
        "--config",
        "examples/churn/contract.yaml",
    ]));
    assert_eq!(code, 2, "{err}");
    for expected in [
        "contract.yaml:10:",
        "`models.contract.gate.brier`",
        "3 classes (month-to-month, one-year, two-year)",
        "binary classifiers only",
    ] {
        assert!(err.contains(expected), "{expected}: {err}");
    }
}

/// A report belongs to one run: when a run stops early, the reports of the steps it did
/// not reach are gone, so `comment` never folds in an earlier run's verdicts.
#[test]
fn a_run_that_stops_early_leaves_no_stale_reports() {
    let (_tmp, root) = example_repo();
    let (code, out) = run_example(&root);
    assert_eq!(code, 0, "{out}");
    let reports = root.join("examples/churn/.mlgate/reports/churn");
    assert!(reports.join("compare.json").is_file());
    // Break the evaluation data: validate-data fails and the chain stops there.
    let eval = root.join("examples/churn/data/eval.csv");
    let text = std::fs::read_to_string(&eval).unwrap();
    let header = text
        .lines()
        .next()
        .unwrap()
        .replacen("tenure_months", "tenure_in_months", 1);
    let rest: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    std::fs::write(&eval, format!("{header}\n{rest}")).unwrap();
    let (code, out) = run_example(&root);
    assert_eq!(code, 1, "{out}");
    assert!(reports.join("validate-data.json").is_file());
    for step in ["train", "evaluate", "validate-model", "compare", "promote"] {
        assert!(
            !reports.join(format!("{step}.json")).exists(),
            "stale {step} report"
        );
    }
    let (code, out, err) = outcome(
        mlgate()
            .current_dir(&root)
            .args(["comment", "--config", CONFIG]),
    );
    assert_eq!(code, 1, "{out}{err}");
    let comment =
        std::fs::read_to_string(reports.join("../pull-requests/comment-churn.md")).unwrap();
    assert!(comment.contains("validate-data"), "{comment}");
    assert!(
        !comment.contains("compare"),
        "an earlier run's verdict: {comment}"
    );
}
