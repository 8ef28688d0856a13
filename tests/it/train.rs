//! Built-in trainers end to end, their determinism, bad training input, and metrics
//! checked against scikit-learn computed at test time.

use crate::common::{mlgate, outcome};
use std::path::{Path, PathBuf};

/// A small deterministic table: two numeric features (one with gaps), a categorical one,
/// a noise column; `label` depends on them, `amount` too (regression).
fn table(rows: usize, seed: u64) -> String {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64) / (1u64 << 31) as f64
    };
    let mut out = String::from("x1,x2,plan,noise,label,amount\n");
    for row in 0..rows {
        let (x1, x2, noise) = (next() * 10.0, next() * 4.0 - 2.0, next());
        let plan = ["basic", "plus", "pro"][(next() * 3.0) as usize % 3];
        let bonus = match plan {
            "pro" => 2.0,
            "plus" => 1.0,
            _ => 0.0,
        };
        let score = x1 * 0.5 + x2 * x2 + bonus + next() * 2.0;
        let label = if score > 4.5 { "yes" } else { "no" };
        let amount = 3.0 * x1 + 5.0 * x2.abs() + 4.0 * bonus + next();
        let x2 = if row % 17 == 0 {
            String::new()
        } else {
            format!("{x2:.4}")
        };
        out.push_str(&format!(
            "{x1:.4},{x2},{plan},{noise:.4},{label},{amount:.4}\n"
        ));
    }
    out
}

struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

/// A project with `train.csv`/`eval.csv` and one model `m` configured by `model_yaml`.
fn project(model_yaml: &str) -> Project {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::write(root.join("train.csv"), table(600, 1)).unwrap();
    std::fs::write(root.join("eval.csv"), table(300, 2)).unwrap();
    write_config(&root, model_yaml);
    Project { _dir: dir, root }
}

fn write_config(root: &Path, model_yaml: &str) {
    let indented: String = model_yaml.lines().map(|l| format!("    {l}\n")).collect();
    std::fs::write(
        root.join("mlgate.yaml"),
        format!(
            "version: 1\nmodels:\n  m:\n    data: {{train: train.csv, eval: eval.csv}}\n{indented}"
        ),
    )
    .unwrap();
}

fn classifier(algorithm: &str, params: &str) -> String {
    format!("task: classification\ntarget: label\nexclude: [amount]\ntrain: {{algorithm: {algorithm}, params: {{{params}}}}}\n")
}

fn regressor(algorithm: &str, params: &str) -> String {
    format!("task: regression\ntarget: amount\nexclude: [label]\ntrain: {{algorithm: {algorithm}, params: {{{params}}}}}\n")
}

/// Runs a step; returns exit code, stdout and stderr, refusing panics.
fn step(root: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = mlgate();
    cmd.current_dir(root).args(args).args(["--out", "out"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    outcome(&mut cmd)
}

fn train_json(root: &Path, env: &[(&str, &str)]) -> serde_json::Value {
    let (code, out, err) = step(root, &["train", "--format", "json"], env);
    assert_eq!(code, 0, "{out}{err}");
    serde_json::from_str::<serde_json::Value>(&out).unwrap()[0]["data"].clone()
}

#[test]
fn every_builtin_algorithm_trains_evaluates_and_validates() {
    let cases = [
        (classifier("logistic_regression", ""), "roc_auc", 0.85),
        (
            classifier("random_forest", "n_estimators: 30"),
            "roc_auc",
            0.85,
        ),
        (
            classifier("gradient_boosting", "class_weight: balanced"),
            "roc_auc",
            0.85,
        ),
        (regressor("ridge", ""), "r2", 0.8),
        (regressor("linear_regression", ""), "r2", 0.8),
        (regressor("random_forest", "n_estimators: 30"), "r2", 0.8),
        (
            regressor("gradient_boosting", "max_iterations: 50"),
            "r2",
            0.8,
        ),
    ];
    for (yaml, metric, floor) in cases {
        let p = project(&yaml);
        let (code, out, err) = step(&p.root, &["train", "--format", "json", "-vv"], &[]);
        assert_eq!(code, 0, "{out}{err}");
        // A built-in model reads the evaluation file with the kinds it was read with
        // beside the fit, and scores it as `evaluate` does on its own.
        assert!(err.contains("read beside the fit"), "{yaml}: {err}");
        let manifest = serde_json::from_str::<serde_json::Value>(&out).unwrap()[0]["data"].clone();
        let (code, out, err) = step(&p.root, &["evaluate", "--format", "json"], &[]);
        assert_eq!(code, 0, "{yaml}: {out}{err}");
        let evaluated = serde_json::from_str::<serde_json::Value>(&out).unwrap()[0]["data"].clone();
        assert_eq!(evaluated["evaluation"], manifest["evaluation"], "{yaml}");
        let value = manifest["evaluation"]["metrics"][metric].as_f64().unwrap();
        assert!(value > floor, "{yaml}: {metric} = {value}");
        let (code, out, err) = step(&p.root, &["validate-model"], &[]);
        assert_eq!(code, 0, "{yaml}: {out}{err}");
        predict_eval(&p.root, &manifest);
        let scored = std::fs::read_to_string(p.root.join("p.csv")).unwrap();
        assert_eq!(scored.lines().count(), 301, "{yaml}");
        assert!(
            scored.lines().next().unwrap().contains(",prediction"),
            "{yaml}"
        );
    }
}

#[test]
fn tree_ensembles_are_deterministic_whatever_the_thread_count() {
    for yaml in [
        classifier("gradient_boosting", "early_stopping: true, seed: 7"),
        classifier("random_forest", "n_estimators: 12, seed: 7"),
    ] {
        let p = project(&yaml);
        let one = train_json(&p.root, &[("MLGATE_THREADS", "1")]);
        let (code, out, _) = step(&p.root, &["train"], &[("MLGATE_THREADS", "3")]);
        assert_eq!(code, 0);
        let id = one["version"].as_str().unwrap();
        assert!(
            out.contains(&format!("`{id}` (identical to a stored version")),
            "{yaml}: {out}"
        );
        let importance = one["lineage"]["details"]["feature_importance"]
            .as_object()
            .unwrap();
        let x1 = importance["x1"].as_f64().unwrap();
        assert!(x1 > importance["noise"].as_f64().unwrap(), "{importance:?}");
        let other_seed = project(&yaml.replace("seed: 7", "seed: 8"));
        assert_ne!(
            train_json(&other_seed.root, &[])["version"],
            one["version"],
            "{yaml}"
        );
    }
}

/// Rewrites one cell (`row` counts data rows from 0) of a CSV file in the project.
fn set_cell(root: &Path, file: &str, row: usize, column: &str, value: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let at = lines[0].split(',').position(|c| c == column).unwrap();
    let mut cells: Vec<String> = lines[row + 1].split(',').map(String::from).collect();
    cells[at] = value.into();
    lines[row + 1] = cells.join(",");
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// Replaces every value of a column.
fn set_column(root: &Path, file: &str, column: &str, value: &str) {
    let rows = std::fs::read_to_string(root.join(file))
        .unwrap()
        .lines()
        .count()
        - 1;
    for row in 0..rows {
        set_cell(root, file, row, column, value);
    }
}

fn expect_input_error(root: &Path, args: &[&str], needles: &[&str]) {
    let (code, out, err) = step(root, args, &[]);
    assert_eq!(code, 2, "{args:?}: {out}{err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: `{n}` not in: {err}");
    }
}

#[test]
fn bad_training_input_is_a_clear_input_error() {
    let gb = classifier("gradient_boosting", "max_iterations: 5");
    let p = project(&gb.replace("target: label", "target: churn"));
    expect_input_error(&p.root, &["train"], &["no column `churn`"]);

    let p = project(&gb);
    set_column(&p.root, "train.csv", "label", "yes");
    expect_input_error(&p.root, &["train"], &["single class `yes`", "at least two"]);

    let p = project(&regressor("random_forest", "n_estimators: 3"));
    set_column(&p.root, "train.csv", "amount", "4.5");
    expect_input_error(&p.root, &["train"], &["target `amount` is constant"]);

    let p = project(&gb);
    set_column(&p.root, "train.csv", "noise", "");
    expect_input_error(&p.root, &["train"], &["feature `noise` has no values"]);

    let p = project(&gb);
    set_cell(&p.root, "train.csv", 4, "label", "");
    expect_input_error(
        &p.root,
        &["train"],
        &["row 5 (line 6): column `label`", "every row needs a target"],
    );

    let p = project(&regressor("gradient_boosting", "max_iterations: 5"));
    set_cell(&p.root, "train.csv", 9, "x1", "inf");
    // Without a schema the column reads as text; training names the stray cell.
    expect_input_error(
        &p.root,
        &["train"],
        &["row 10 (line 11): column `x1`: `inf` is not a finite number"],
    );
}

#[test]
fn bad_evaluation_input_is_an_error_or_a_documented_handling() {
    let p = project(&classifier("gradient_boosting", "max_iterations: 10"));
    train_json(&p.root, &[]);
    // A number column holding text in the evaluation data: named, exit 2.
    set_cell(&p.root, "eval.csv", 2, "x1", "seven");
    expect_input_error(
        &p.root,
        &["evaluate"],
        &["row 3 (line 4): column `x1`: `seven` is not a number"],
    );
    // Unseen categories and missing values are scored (they follow the learnt missing branch).
    std::fs::write(p.root.join("eval.csv"), table(300, 2)).unwrap();
    set_cell(&p.root, "eval.csv", 0, "plan", "enterprise");
    set_cell(&p.root, "eval.csv", 1, "x1", "");
    let (code, out, err) = step(&p.root, &["evaluate"], &[]);
    assert_eq!(code, 0, "{out}{err}");
}

/// Scores `eval.csv` into `p.csv` with the trained version.
fn predict_eval(root: &Path, manifest: &serde_json::Value) {
    let id = manifest["version"].as_str().unwrap();
    let args = [
        "predict",
        "--input",
        "eval.csv",
        "--output",
        "p.csv",
        "--version",
        id,
    ];
    let (code, out, err) = step(root, &args, &[]);
    assert_eq!(code, 0, "{out}{err}");
}

/// The Python with scikit-learn that scripts/test prepares; its absence fails the test.
fn python() -> String {
    std::env::var("MLGATE_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("MLGATE_TEST_PYTHON is not set: run the tests through scripts/test, which installs scikit-learn under .cache/")
    })
}

fn sklearn(script: &str, dir: &Path) -> serde_json::Value {
    let out = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .expect("the test Python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(ours: &serde_json::Value, theirs: &serde_json::Value, keys: &[&str]) {
    for k in keys {
        let (a, b) = (ours[k].as_f64().unwrap(), theirs[k].as_f64().unwrap());
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{k}: mlgate {a} vs scikit-learn {b}"
        );
    }
}

/// Trains and scores `eval.csv`; `script` then computes scikit-learn's metrics from the
/// predictions file's `rows` (as `m`) and prints them as JSON.
fn scored_by_scikit_learn(model: &str, script: &str) -> (serde_json::Value, serde_json::Value) {
    let p = project(model);
    let manifest = train_json(&p.root, &[]);
    predict_eval(&p.root, &manifest);
    let prelude = "import csv, json\nfrom sklearn import metrics as m\nrows = list(csv.DictReader(open('p.csv')))\n";
    let theirs = sklearn(&format!("{prelude}{script}"), &p.root);
    (manifest, theirs)
}

#[test]
fn metrics_match_scikit_learn_on_a_trained_models_predictions() {
    let (manifest, theirs) = scored_by_scikit_learn(
        &classifier("random_forest", "n_estimators: 20"),
        r#"
y = [r["label"] == "yes" for r in rows]
p = [float(r["proba_yes"]) for r in rows]
pred = [r["prediction"] == "yes" for r in rows]
print(json.dumps({"accuracy": m.accuracy_score(y, pred), "balanced_accuracy": m.balanced_accuracy_score(y, pred),
  "precision": m.precision_score(y, pred), "recall": m.recall_score(y, pred), "f1": m.f1_score(y, pred),
  "roc_auc": m.roc_auc_score(y, p), "pr_auc": m.average_precision_score(y, p),
  "log_loss": m.log_loss(y, p), "brier": m.brier_score_loss(y, p)}))
"#,
    );
    // Probabilities are written at full precision: every metric reproduces from the file.
    close(
        &manifest["evaluation"]["metrics"],
        &theirs,
        &[
            "accuracy",
            "balanced_accuracy",
            "precision",
            "recall",
            "f1",
            "roc_auc",
            "pr_auc",
            "log_loss",
            "brier",
        ],
    );

    let (manifest, theirs) = scored_by_scikit_learn(
        &regressor("gradient_boosting", "max_iterations: 30"),
        r#"
y = [float(r["amount"]) for r in rows]
p = [float(r["prediction"]) for r in rows]
print(json.dumps({"rmse": m.root_mean_squared_error(y, p), "mae": m.mean_absolute_error(y, p),
  "r2": m.r2_score(y, p), "mape": m.mean_absolute_percentage_error(y, p)}))
"#,
    );
    close(
        &manifest["evaluation"]["metrics"],
        &theirs,
        &["rmse", "mae", "r2", "mape"],
    );
}

#[test]
fn builtin_boosting_is_as_good_as_scikit_learns_on_the_same_data() {
    let p = project(&classifier("gradient_boosting", ""));
    let ours = train_json(&p.root, &[])["evaluation"]["metrics"]["roc_auc"]
        .as_f64()
        .unwrap();
    let theirs = sklearn(
        r#"
import csv, json
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
def load(f):
    rows = list(csv.DictReader(open(f)))
    plan = {"basic": 0, "plus": 1, "pro": 2}
    x = [[float(r["x1"]), float(r["x2"]) if r["x2"] else float("nan"), plan[r["plan"]], float(r["noise"])] for r in rows]
    return x, [r["label"] == "yes" for r in rows]
x, y = load("train.csv"); xe, ye = load("eval.csv")
model = HistGradientBoostingClassifier(random_state=0).fit(x, y)
print(json.dumps({"roc_auc": roc_auc_score(ye, model.predict_proba(xe)[:, 1])}))
"#,
        &p.root,
    )["roc_auc"]
        .as_f64()
        .unwrap();
    assert!(
        ours >= theirs - 0.01,
        "mlgate {ours} vs scikit-learn {theirs}"
    );
}

#[test]
fn validate_model_checks_budgets_limits_slice_gaps_and_classes() {
    let base = classifier("gradient_boosting", "max_iterations: 20");
    let passing = format!(
        "{base}validate:\n  max_latency_ms_per_1000_rows: 10000\n  max_artifact_bytes: 10000000\n  limits: {{roc_auc: 0.8, log_loss: 0.6}}\n  slices: [plan]\n  max_slice_gap: {{accuracy: 0.5}}\n  expected_classes: [\"no\", \"yes\"]\n"
    );
    let p = project(&passing);
    train_json(&p.root, &[]);
    let (code, out, err) = step(&p.root, &["validate-model"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("| plan = basic |") && out.contains("accuracy gap across `plan` ≤ 0.5"),
        "{out}"
    );

    write_config(
        &p.root,
        &format!(
            "{base}validate:\n  max_artifact_bytes: 100\n  limits: {{roc_auc: 0.999}}\n  slices: [plan]\n  max_slice_gap: {{accuracy: 0.0001}}\n  expected_classes: [\"no\", \"yes\", \"maybe\"]\n"
        ),
    );
    let (code, out, err) = step(&p.root, &["validate-model"], &[]);
    assert_eq!(code, 1, "{out}{err}");
    for needle in [
        "failed 4 checks",
        "artifact ≤ 100 bytes",
        "roc_auc ≥ 0.999",
        "(best `",
        "predicts no, yes",
    ] {
        assert!(out.contains(needle), "`{needle}` not in {out}");
    }
}

/// `config check` of the project: exits 2 naming every needle.
fn config_check_fails_with(root: &Path, needles: &[&str]) {
    let out = mlgate()
        .current_dir(root)
        .args(["config", "check"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "`{needle}` not in {err}");
    }
}

#[test]
fn validate_and_backend_settings_are_checked_with_their_location() {
    let p = project(&format!(
        "{}validate:\n  limits: {{rmse: 1}}\n  max_slice_gap: {{accuracy: -1}}\n",
        classifier("random_forest", "")
    ));
    config_check_fails_with(
        &p.root,
        &[
            "`models.m.validate.limits.rmse`",
            "is a regression metric",
            "`models.m.validate.max_slice_gap.accuracy`",
            "slice gaps need `slices`",
        ],
    );
    write_config(
        &p.root,
        "task: regression\ntarget: amount\ntrain: {backend: command, algorithm: ridge}\n",
    );
    config_check_fails_with(&p.root, &["`models.m.train.backend`", "needs `command`"]);
}

#[test]
fn reports_carry_mermaid_charts() {
    let p = project(&classifier("gradient_boosting", "max_iterations: 10"));
    let (code, out, err) = step(&p.root, &["train"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("```mermaid\nxychart-beta horizontal\n    title \"Feature importance\""),
        "{out}"
    );
    let (code, out, err) = step(&p.root, &["evaluate"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("title \"ROC curve (positive class `yes`)\""),
        "{out}"
    );
}

const TRAIN_PY: &str = r#"
import csv, json, os
rows = list(csv.DictReader(open(os.environ["MLGATE_TRAIN_DATA"])))
share = sum(r[os.environ["MLGATE_TARGET"]] == "yes" for r in rows) / len(rows)
out = os.environ["MLGATE_OUTPUT_DIR"]
os.makedirs(out + "/model")
model = {"share": share, "params": json.loads(os.environ["MLGATE_PARAMS"]), "seed": os.environ["MLGATE_SEED"]}
json.dump(model, open(out + "/model/model.json", "w"))
json.dump({"share": share}, open(out + "/metrics.json", "w"))
print("trained on", len(rows), "rows", flush=True)
"#;

const PREDICT_PY: &str = r#"
import csv, os
rows = list(csv.DictReader(open(os.environ["MLGATE_INPUT"])))
with open(os.environ["MLGATE_OUTPUT"], "w") as f:
    f.write("proba_no,proba_yes\n")
    for r in rows:
        p = min(0.95, max(0.05, float(r["x1"] or 5) / 10))
        f.write(f"{1 - p},{p}\n")
"#;

fn command_model(train: &str, extra: &str) -> String {
    format!(
        "task: classification\ntarget: label\ntrain:\n  backend: command\n  command:\n    train: {train}\n    predict: python3 predict.py\n    params: {{depth: 3}}\n{extra}"
    )
}

#[test]
fn command_backend_trains_and_scores_through_the_teams_code() {
    let p = project(&command_model("python3 train.py", ""));
    std::fs::write(p.root.join("train.py"), TRAIN_PY).unwrap();
    std::fs::write(p.root.join("predict.py"), PREDICT_PY).unwrap();
    let (code, out, err) = step(&p.root, &["train", "--format", "json"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("  | trained on 600 rows"),
        "logs are streamed: {err}"
    );
    let manifest = &serde_json::from_str::<serde_json::Value>(&out).unwrap()[0]["data"];
    assert_eq!(manifest["lineage"]["backend"], "command");
    assert_eq!(manifest["algorithm"], "command");
    assert!(manifest["lineage"]["details"]["reported_metrics"]["share"].is_number());
    let auc = manifest["evaluation"]["metrics"]["roc_auc"]
        .as_f64()
        .unwrap();
    assert!(
        auc > 0.6,
        "mlgate computed the metrics from the command's predictions: {auc}"
    );
    let (code, _, err) = step(&p.root, &["train"], &[]);
    assert_eq!(code, 0, "{err}");
    for args in [&["evaluate"][..], &["validate-model"]] {
        let (code, out, err) = step(&p.root, args, &[]);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
    }
    predict_eval(&p.root, manifest);
    let scored = std::fs::read_to_string(p.root.join("p.csv")).unwrap();
    assert!(
        scored
            .lines()
            .next()
            .unwrap()
            .ends_with(",prediction,proba_no,proba_yes"),
        "{scored}"
    );
    // A team's command may write the evaluation file as it trains: mlgate scores the
    // file as the command left it.
    let rewrites = "python3 train.py && head -n 101 eval.csv > e.csv && mv e.csv eval.csv";
    let p = project(&command_model(rewrites, ""));
    std::fs::write(p.root.join("train.py"), TRAIN_PY).unwrap();
    std::fs::write(p.root.join("predict.py"), PREDICT_PY).unwrap();
    let manifest = train_json(&p.root, &[]);
    assert_eq!(manifest["evaluation"]["rows"], 100, "{manifest}");
}

#[test]
fn command_failures_are_clear_input_errors() {
    let cases = [
        ("\"echo preparing; echo boom >&2; exit 3\"", "", vec!["training command", "failed (exit status: 3)", "  | boom"]),
        ("\"echo started; sleep 30\"", "    timeout_seconds: 1\n", vec!["did not finish within 1 s", "  | started", "timeout_seconds"]),
        (
            "\"mkdir -p $MLGATE_OUTPUT_DIR/model && echo '{oops' > $MLGATE_OUTPUT_DIR/metrics.json\"",
            "",
            vec!["metrics.json written by the training command is not JSON"],
        ),
        (
            "\"mkdir -p $MLGATE_OUTPUT_DIR/model && echo '{\\\"auc\\\": \\\"high\\\"}' > $MLGATE_OUTPUT_DIR/metrics.json\"",
            "",
            vec!["must be an object of metric name → number"],
        ),
        ("\"echo '{}' > $MLGATE_OUTPUT_DIR/metrics.json\"", "", vec!["wrote no model folder"]),
    ];
    for (command, extra, needles) in cases {
        let p = project(&command_model(command, extra));
        let started = std::time::Instant::now();
        expect_input_error(&p.root, &["train"], &needles);
        assert!(
            started.elapsed().as_secs() < 20,
            "{command}: the timeout stops the command"
        );
    }
}

/// A `;`-delimited file that passes `validate-data` trains, scores and predicts through
/// the same reader: no misleading "looks like an identifier" advice, the same model as
/// from the comma-separated file, and predictions written in the input's own dialect.
#[test]
fn semicolon_delimited_data_trains_as_it_validates() {
    let model = classifier("logistic_regression", "");
    let comma = project(&model);
    let semicolon = project(&model);
    for file in ["train.csv", "eval.csv"] {
        let path = semicolon.root.join(file);
        let text = std::fs::read_to_string(&path).unwrap().replace(',', ";");
        std::fs::write(&path, text).unwrap();
    }
    let (code, out, err) = step(&semicolon.root, &["validate-data"], &[]);
    assert_eq!(code, 0, "{out}{err}");
    let ours = train_json(&semicolon.root, &[]);
    let theirs = train_json(&comma.root, &[]);
    assert_eq!(
        ours["version"], theirs["version"],
        "the same model either way"
    );
    predict_eval(&semicolon.root, &ours);
    let predicted = std::fs::read_to_string(semicolon.root.join("p.csv")).unwrap();
    let header = predicted.lines().next().unwrap();
    assert_eq!(
        header,
        "x1;x2;plan;noise;label;amount;prediction;proba_no;proba_yes"
    );
}

/// What `train` would stop at is caught by `validate-data`, with the fix: a regression
/// target with missing values, or holding text.
#[test]
fn validate_data_checks_the_target_the_model_names() {
    let p = project(&regressor("ridge", ""));
    let path = p.root.join("train.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    // Blank the target (`amount`, the last column) of every tenth row.
    let blanked: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| match i {
            i if i > 0 && i % 10 == 0 => format!("{},\n", &l[..l.rfind(',').unwrap()]),
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&path, blanked).unwrap();
    let (code, out, err) = step(&p.root, &["validate-data"], &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("the target `amount` is missing in 60 of 600 rows"),
        "{out}"
    );
    assert!(out.contains("drop those rows or fill them"), "{out}");

    let q = project(&regressor("ridge", "").replace(
        "target: amount\nexclude: [label]",
        "target: label\nexclude: [amount]",
    ));
    let (code, out, err) = step(&q.root, &["validate-data"], &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("the target `label` of a regression model must be numeric, but holds text"),
        "{out}"
    );
}
