//! Broken configs: each must exit 2 with `FILE:LINE:COL:` pointing at the defect and a
//! message naming the key and what is wrong with it; none may panic.

use crate::common::mlgate;
use std::path::Path;

/// A small valid project. The line numbers in `CASES` refer to this text.
const BASE: &str = r##"# A small valid project; each case below breaks one thing.
version: 1
store: file://.mlgate/store
models:
  churn:
    task: classification
    target: y
    positive_class: "yes"
    data:
      train: train.csv
      eval: eval.csv
    train:
      algorithm: logistic_regression
      params: {c: 1.0, class_weight: balanced}
    gate:
      roc_auc: {min: 0.5, max_regression: 0.01}
      log_loss: {max_relative_regression: 0.05}
      recall: {min: 0.4}
"##;

const DATA: &str = "a,b,y\n1,2,yes\n2,3,no\n3,1,yes\n4,0,no\n";

/// How a case derives its config from `BASE`.
enum Edit {
    /// Replace the one occurrence of the first text with the second.
    Replace(&'static str, &'static str),
    /// Add lines at the end.
    Append(&'static str),
    /// Use this text instead of `BASE`.
    Whole(&'static str),
}
use Edit::*;

struct Case {
    name: &'static str,
    edit: Edit,
    /// Where the error must point (`mlgate.yaml:LINE:COL:`).
    line: usize,
    column: usize,
    /// Everything stderr must contain: the key path or name, and what is wrong.
    expect: &'static [&'static str],
}

const fn case(
    name: &'static str,
    edit: Edit,
    line: usize,
    column: usize,
    expect: &'static [&'static str],
) -> Case {
    Case {
        name,
        edit,
        line,
        column,
        expect,
    }
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    // YAML syntax.
    case("unclosed bracket at the end", Append("    features: [a, b\n"), 19, 15,
        &["unclosed flow sequence", "']'"]),
    // libyaml notices the missing `}` only on the next line; the message names the start.
    case("unclosed brace before more keys", Replace("max_regression: 0.01}", "max_regression: 0.01"), 17, 15,
        &["did not find expected ',' or '}'", "flow mapping that starts at line 16 column 16", "closing bracket"]),
    case("key indented too little", Replace("    target: y", "   target: y"), 7, 4,
        &["did not find expected key", "indentation"]),
    case("key indented too much", Replace("      eval: eval.csv", "        eval: eval.csv"), 11, 13,
        &["mapping values are not allowed", "indentation"]),
    case("tab indentation", Replace("    target: y", "\ttarget: y"), 7, 1,
        &["tab", "spaces"]),
    case("alias without anchor", Replace("target: y", "target: *nope"), 7, 13,
        &["unknown alias"]),
    case("empty file", Whole(""), 1, 1, &["the file is empty"]),
    case("comments only", Whole("# nothing here yet\n\n# still nothing\n"), 1, 1,
        &["only comments"]),
    case("top level is a list", Whole("- churn\n- fraud\n"), 1, 1,
        &["expected a mapping"]),
    // Unknown and misspelt keys.
    case("unknown top-level key", Replace("store: file://.mlgate/store", "store: file://.mlgate/store\nowner: ml-team"), 4, 1,
        &["unknown key `owner`", "`version`, `store`, `models`"]),
    case("misspelt top-level key", Replace("models:", "modles:"), 4, 1,
        &["unknown key `modles`", "did you mean `models`"]),
    case("misspelt model key", Replace("    gate:", "    gaet:"), 15, 5,
        &["in `models.churn`", "unknown key `gaet`", "did you mean `gate`"]),
    case("misspelt nested data key", Replace("train: train.csv", "trian: train.csv"), 10, 7,
        &["in `models.churn.data`", "unknown key `trian`", "did you mean `train`"]),
    case("misspelt gate rule key", Replace("max_regression: 0.01", "max_regresion: 0.01"), 16, 27,
        &["in `models.churn.gate.roc_auc`", "did you mean `max_regression`"]),
    case("misspelt parameter", Replace("class_weight: balanced", "class_wieght: balanced"), 14, 24,
        &["in `models.churn.train.params`", "did you mean `class_weight`"]),
    // Wrong types and values.
    case("threshold is not a number", Replace("min: 0.5", "min: high"), 16, 22,
        &["`models.churn.gate.roc_auc.min`", "\"high\"", "expected a number"]),
    case("version is not a number", Replace("version: 1", "version: one"), 2, 10,
        &["`version`", "expected a whole number"]),
    case("models is not a mapping", Whole("version: 1\nmodels: churn\n"), 2, 9,
        &["in `models`", "expected a mapping"]),
    case("negative max_iter", Replace("params: {c: 1.0, class_weight: balanced}", "params: {max_iter: -1}"), 14, 26,
        &["`models.churn.train.params.max_iter`", "-1", "whole number"]),
    case("misspelt task", Replace("task: classification", "task: clasification"), 6, 11,
        &["`models.churn.task`", "unknown value `clasification`", "did you mean `classification`"]),
    case("misspelt class weight", Replace("class_weight: balanced", "class_weight: balancd"), 14, 38,
        &["`models.churn.train.params.class_weight`", "did you mean `balanced`"]),
    // Missing and repeated keys.
    case("missing target", Replace("    target: y\n", ""), 5, 3,
        &["in `models.churn`", "missing required key `target`"]),
    case("missing models", Whole("version: 1\n"), 1, 1,
        &["missing required key `models`"]),
    case("no models", Whole("version: 1\nmodels: {}\n"), 2, 1,
        &["`models`", "at least one model"]),
    // Trigger rules.
    case("trigger for an unknown model", Append("triggers:\n  - on: {prefix: churn/incoming/}\n    model: chrun\n    do: retrain\n"), 21, 5,
        &["`triggers.0.model`", "no model `chrun`", "did you mean `churn`"]),
    case("trigger action misspelt", Append("triggers:\n  - on: {prefix: churn/incoming/}\n    model: churn\n    do: [validate, retrian]\n"), 22, 20,
        &["`triggers[0].do[1]`", "unknown value `retrian`", "did you mean `retrain`"]),
    case("sagemaker retraining of a built-in model", Append("triggers:\n  - on: {prefix: churn/incoming/}\n    model: churn\n    do: retrain\n    retrain: {via: sagemaker}\n"), 23, 15,
        &["`triggers.0.retrain.via`", "`train.backend: sagemaker`"]),
    case("duplicate model name", Append("  churn:\n    task: regression\n    target: b\n    data: {train: train.csv, eval: eval.csv}\n"), 19, 3,
        &["`models.churn`", "duplicate key `churn`", "line 5"]),
    case("duplicate gate metric", Replace("recall: {min: 0.4}", "roc_auc: {min: 0.6}"), 18, 7,
        &["`models.churn.gate.roc_auc`", "duplicate key `roc_auc`", "line 16"]),
    case("duplicate model key", Replace("    target: y\n", "    target: y\n    task: regression\n"), 8, 5,
        &["`models.churn.task`", "duplicate key `task`", "line 6"]),
    // Project-level checks.
    case("unsupported version", Replace("version: 1", "version: 2"), 2, 1,
        &["`version`", "only version 1"]),
    case("invalid model name", Replace("  churn:", "  Churn Model:"), 5, 3,
        &["`models.Churn Model`", "lowercase letters"]),
    case("unsupported store scheme", Replace("file://.mlgate/store", "gs://bucket/models"), 3, 1,
        &["`store`", "not a store URI", "file://PATH", "s3://BUCKET/PREFIX", "az://CONTAINER/PREFIX"]),
    case("store without scheme", Replace("file://.mlgate/store", ".mlgate/store"), 3, 1,
        &["`store`", "not a store URI"]),
    // Data.
    case("missing data file", Replace("eval: eval.csv", "eval: data/missing.csv"), 11, 7,
        &["`models.churn.data.eval`", "file not found", "data/missing.csv"]),
    case("missing schema file", Replace("eval: eval.csv", "eval: eval.csv\n      schema: schema.yaml"), 12, 7,
        &["`models.churn.data.schema`", "file not found", "schema.yaml"]),
    case("target listed in features", Replace("    target: y\n", "    target: y\n    features: [a, y]\n"), 8, 19,
        &["`models.churn.features.1`", "the target `y` cannot also be a feature"]),
    case("empty feature list", Replace("    target: y\n", "    target: y\n    features: []\n"), 8, 5,
        &["`models.churn.features`", "empty feature list"]),
    case("target excluded", Replace("    target: y\n", "    target: y\n    exclude: [y]\n"), 8, 5,
        &["`models.churn.exclude`", "the target is never a feature"]),
    // Gate rules.
    case("gate on an unknown metric", Replace("roc_auc:", "roc_auk:"), 16, 7,
        &["`models.churn.gate.roc_auk`", "not a metric of classification models", "did you mean `roc_auc`"]),
    case("gate on a metric of the other task", Replace("recall: {min: 0.4}", "rmse: {max: 0.4}"), 18, 7,
        &["`models.churn.gate.rmse`", "`rmse` is a regression metric"]),
    case("negative relative regression", Replace("0.05}", "-0.05}"), 17, 18,
        &["`models.churn.gate.log_loss.max_relative_regression`", "zero or positive", "-0.05"]),
    case("min above max", Replace("recall: {min: 0.4}", "recall: {min: 0.9, max: 0.8}"), 18, 16,
        &["`models.churn.gate.recall.min`", "min 0.9 is greater than max 0.8"]),
    case("rule without thresholds", Replace("recall: {min: 0.4}", "recall: {}"), 18, 7,
        &["`models.churn.gate.recall`", "sets no threshold"]),
    case("infinite threshold", Replace("recall: {min: 0.4}", "recall: {min: .inf}"), 18, 16,
        &["`models.churn.gate.recall.min`", "finite"]),
    case("direction contradicts the metric", Replace("roc_auc: {min: 0.5", "roc_auc: {direction: lower, min: 0.5"), 16, 17,
        &["`models.churn.gate.roc_auc.direction`", "higher-is-better"]),
    // Training.
    case("parameter of another algorithm", Replace("class_weight: balanced", "alpha: 0.5"), 14, 24,
        &["`models.churn.train.params.alpha`", "not a parameter of logistic_regression"]),
    case("c is zero", Replace("{c: 1.0,", "{c: 0,"), 14, 16,
        &["`models.churn.train.params.c`", "must be a positive number, not 0"]),
    case("algorithm of the other task", Replace("logistic_regression\n      params: {c: 1.0, class_weight: balanced}", "ridge\n      params: {alpha: 1.0}"), 13, 7,
        &["`models.churn.train.algorithm`", "`ridge` is a regression algorithm", "task is classification"]),
    // The sagemaker backend.
    case("sagemaker backend without its settings",
        Replace("      algorithm: logistic_regression\n      params: {c: 1.0, class_weight: balanced}\n", "      backend: sagemaker\n"), 13, 7,
        &["models.churn.train.backend", "needs `sagemaker`"]),
    case("sagemaker role that is not an ARN",
        Replace("      algorithm: logistic_regression\n      params: {c: 1.0, class_weight: balanced}\n",
            "      backend: sagemaker\n      sagemaker:\n        role_arn: mlgate-role\n        algorithm: xgboost\n        output_path: s3://b-1/out\n        channels: {train: s3://b-1/train/}\n"), 15, 9,
        &["models.churn.train.sagemaker.role_arn", "not an IAM role ARN"]),
    case("sagemaker without s3 store needs an output path",
        Replace("      algorithm: logistic_regression\n      params: {c: 1.0, class_weight: balanced}\n",
            "      backend: sagemaker\n      sagemaker:\n        role_arn: arn:aws:iam::123456789012:role/r\n        image: 1.dkr.ecr.us-east-1.amazonaws.com/x:1\n        channels: {train: s3://b-1/train/}\n"), 14, 7,
        &["models.churn.train.sagemaker.output_path", "unless the store is `s3://"]),
    case("sagemaker metric misspelt",
        Replace("      algorithm: logistic_regression\n      params: {c: 1.0, class_weight: balanced}\n",
            "      backend: sagemaker\n      sagemaker:\n        role_arn: arn:aws:iam::123456789012:role/r\n        algorithm: xgboost\n        output_path: s3://b-1/out\n        channels: {train: s3://b-1/train/}\n        metrics: {roc_acu: validation:auc}\n"), 19, 19,
        &["models.churn.train.sagemaker.metrics.roc_acu", "did you mean `roc_auc`"]),
    case("sagemaker settings on the builtin backend",
        Replace("      algorithm: logistic_regression\n      params: {c: 1.0, class_weight: balanced}\n",
            "      sagemaker: {role_arn: x, image: y}\n"), 13, 7,
        &["models.churn.train.sagemaker", "applies to `backend: sagemaker` only"]),
    case("s3 store with a bad bucket", Replace("store: file://.mlgate/store", "store: s3://My_Bucket/x"), 3, 1,
        &["`store`", "not a valid S3 location"]),
];

/// A project folder holding `yaml` as `mlgate.yaml` and the data files it names.
fn project(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("train.csv", DATA),
        ("eval.csv", DATA),
        ("mlgate.yaml", yaml),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn config_check(config: &Path) -> Outcome {
    let out = mlgate()
        .args(["config", "check", "--config"])
        .arg(config)
        .output()
        .expect("mlgate runs");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn apply(edit: &Edit) -> Result<String, String> {
    match edit {
        Replace(from, to) => match BASE.matches(from).count() {
            1 => Ok(BASE.replace(from, to)),
            n => Err(format!("test bug: {from:?} occurs {n} times in BASE")),
        },
        Append(text) => Ok(format!("{BASE}{text}")),
        Whole(text) => Ok(text.to_string()),
    }
}

/// Every way a failed config check can fall short of the contract.
fn problems(out: &Outcome, line: usize, column: usize, expect: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    if out.code != Some(2) {
        found.push(format!("exit code {:?}, expected 2", out.code));
    }
    if !out.stdout.is_empty() {
        found.push("stdout is not empty".into());
    }
    let first = out.stderr.lines().next().unwrap_or_default();
    if !first.starts_with("error: ") {
        found.push("stderr does not start with `error: `".into());
    }
    let at = format!("mlgate.yaml:{line}:{column}: ");
    if !first.contains(&at) {
        found.push(format!("first line does not point at `{at}`"));
    }
    for want in expect {
        if !out.stderr.contains(want) {
            found.push(format!("stderr lacks {want:?}"));
        }
    }
    for bad in ["panicked", "RUST_BACKTRACE", " problems in "] {
        if out.stderr.contains(bad) {
            found.push(format!("stderr contains {bad:?}"));
        }
    }
    found
}

#[test]
fn each_broken_config_exits_2_pointing_at_its_defect() {
    assert!(CASES.len() >= 20);
    let mut failures = Vec::new();
    for case in CASES {
        let yaml = match apply(&case.edit) {
            Ok(yaml) => yaml,
            Err(e) => {
                failures.push(format!("case `{}`: {e}", case.name));
                continue;
            }
        };
        let dir = project(&yaml);
        let out = config_check(&dir.path().join("mlgate.yaml"));
        let found = problems(&out, case.line, case.column, case.expect);
        if !found.is_empty() {
            failures.push(format!(
                "case `{}`:\n  - {}\n--- mlgate.yaml ---\n{yaml}--- stderr ---\n{}",
                case.name,
                found.join("\n  - "),
                out.stderr
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_problem_in_a_file_is_reported_with_its_own_line() {
    let yaml = BASE
        .replace("version: 1", "version: 2")
        .replace("{c: 1.0,", "{c: 0,");
    let dir = project(&yaml);
    let out = config_check(&dir.path().join("mlgate.yaml"));
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    for want in [
        "mlgate.yaml:2:1: `version`: only version 1 exists",
        "mlgate.yaml:14:16: `models.churn.train.params.c`: must be a positive number",
        "2 problems in ",
    ] {
        assert!(out.stderr.contains(want), "lacks {want:?}:\n{}", out.stderr);
    }
}

/// serde stops at the first unknown key; the user gets every one, each at its line.
#[test]
fn every_unknown_key_is_reported_with_its_own_line() {
    let yaml = BASE
        .replace(
            "store: file://.mlgate/store",
            "store: file://.mlgate/store\nowner: ml-team",
        )
        .replace(
            "    target: y",
            "    target: y\n    gaet:\n      recall: {min: 0.4}",
        )
        .replace(
            "      eval: eval.csv",
            "      eval: eval.csv\n      trian: train.csv",
        );
    let dir = project(&yaml);
    let out = config_check(&dir.path().join("mlgate.yaml"));
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    for want in [
        "mlgate.yaml:4:1: unknown key `owner`",
        "mlgate.yaml:9:5: in `models.churn`: unknown key `gaet`; did you mean `gate`?",
        "mlgate.yaml:15:7: in `models.churn.data`: unknown key `trian`; did you mean `train`?",
        "3 unknown keys in ",
    ] {
        assert!(out.stderr.contains(want), "lacks {want:?}:\n{}", out.stderr);
    }
}

#[test]
fn missing_config_file_exits_2_with_init_hint() {
    let dir = tempfile::tempdir().unwrap();
    let out = config_check(&dir.path().join("mlgate.yaml"));
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    for want in ["mlgate.yaml: config file not found", "mlgate init"] {
        assert!(out.stderr.contains(want), "lacks {want:?}:\n{}", out.stderr);
    }
}

#[test]
fn directory_as_config_exits_2_naming_the_file_to_pass() {
    let dir = project(BASE);
    let out = config_check(dir.path());
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    for want in ["is a directory, not a config file", "mlgate.yaml"] {
        assert!(out.stderr.contains(want), "lacks {want:?}:\n{}", out.stderr);
    }
    assert!(!out.stderr.contains("os error"), "{}", out.stderr);
}

#[test]
fn valid_config_passes() {
    let dir = project(BASE);
    let out = config_check(&dir.path().join("mlgate.yaml"));
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    assert!(out.stdout.contains("ok (1 models)"), "{}", out.stdout);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn example_config_passes() {
    let config = crate::common::repo_root().join("examples/churn/mlgate.yaml");
    let out = config_check(&config);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
}
