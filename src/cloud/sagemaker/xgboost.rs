//! SageMaker's built-in XGBoost: its data format (headerless CSV, the target first as a
//! number, features encoded the way mlgate's tree ensembles encode them), default
//! hyperparameters for the task, the map from its metric names to mlgate's, and its
//! batch-transform output (one probability, a list of probabilities, or a value per line).

use crate::config::{ModelConfig, Task};
use crate::data::Frame;
use crate::error::{Error, Result};
use crate::model::labels::{class_labels, encode_labels, target_values};
use crate::model::{design_matrix, Encoding, Feature, Predictions};
use crate::train::feature_names;
use indexmap::IndexMap;
use std::io::Write;

/// Features encoded for XGBoost: raw numbers, categories as their level's index.
pub fn fit_features(config: &ModelConfig, frame: &Frame) -> Result<Vec<Feature>> {
    feature_names(config, frame)
        .into_iter()
        .map(|name| {
            let encoding = Encoding::fit_for_trees(&name, frame.require(&name)?)?;
            Ok(Feature { name, encoding })
        })
        .collect()
}

/// The task's objective, evaluation metrics and rounds, unless the config sets them.
pub fn default_hyperparameters(task: Task, classes: usize) -> IndexMap<String, String> {
    let mut h = IndexMap::new();
    match (task, classes) {
        (Task::Classification, 2) => {
            h.insert("objective".into(), "binary:logistic".into());
            h.insert("eval_metric".into(), "auc,logloss,error".into());
        }
        (Task::Classification, k) => {
            h.insert("objective".into(), "multi:softprob".into());
            h.insert("num_class".into(), k.to_string());
            h.insert("eval_metric".into(), "mlogloss,merror".into());
        }
        (Task::Regression, _) => {
            h.insert("objective".into(), "reg:squarederror".into());
            h.insert("eval_metric".into(), "rmse,mae".into());
        }
    }
    h.insert("num_round".into(), "100".into());
    h
}

/// mlgate metric ⇒ the container's final metric on the validation channel.
pub fn default_metric_names(task: Task, classes: usize) -> IndexMap<String, String> {
    let pairs: &[(&str, &str)] = match (task, classes) {
        (Task::Classification, 2) => &[
            ("roc_auc", "validation:auc"),
            ("log_loss", "validation:logloss"),
        ],
        (Task::Classification, _) => &[("log_loss", "validation:mlogloss")],
        (Task::Regression, _) => &[("rmse", "validation:rmse"), ("mae", "validation:mae")],
    };
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Writes `frame` as XGBoost training CSV: target first, no header, empty = missing.
pub fn write_training_csv(
    config: &ModelConfig,
    features: &[Feature],
    classes: &[String],
    frame: &Frame,
    out: &mut impl Write,
) -> Result<()> {
    let target: Vec<f64> = match config.task {
        Task::Classification => encode_labels(frame, &config.target, classes)?
            .into_iter()
            .map(|c| c as f64)
            .collect(),
        Task::Regression => target_values(frame, &config.target)?,
    };
    write_rows(features, frame, Some(&target), out)
}

/// Writes the features of `frame` as XGBoost inference CSV (no target, no header).
pub fn write_inference_csv(
    features: &[Feature],
    frame: &Frame,
    out: &mut impl Write,
) -> Result<()> {
    write_rows(features, frame, None, out)
}

fn write_rows(
    features: &[Feature],
    frame: &Frame,
    target: Option<&[f64]>,
    out: &mut impl Write,
) -> Result<()> {
    let x = design_matrix(features, frame)?;
    let err = |e: std::io::Error| Error::external(format!("cannot write XGBoost data: {e}"));
    let mut line = String::new();
    for row in 0..x.rows {
        line.clear();
        if let Some(t) = target {
            push_number(&mut line, t[row]);
            line.push(',');
        }
        for (col, v) in x.data[row * x.cols..(row + 1) * x.cols].iter().enumerate() {
            if col > 0 {
                line.push(',');
            }
            push_number(&mut line, *v);
        }
        line.push('\n');
        out.write_all(line.as_bytes()).map_err(err)?;
    }
    Ok(())
}

fn push_number(line: &mut String, v: f64) {
    if !v.is_nan() {
        line.push_str(&v.to_string());
    }
}

/// Parses the transform output of `rows` records: per line a probability (binary), a
/// list of probabilities (`[0.1, 0.9]` or `0.1,0.9`; multi-class) or a value (regression).
pub fn parse_predictions(
    text: &str,
    task: Task,
    classes: &[String],
    rows: usize,
    origin: &str,
) -> Result<Predictions> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() != rows {
        return Err(Error::external(format!(
            "{origin}: {} predictions for {rows} input rows",
            lines.len()
        )));
    }
    let mut numbers = Vec::with_capacity(rows * classes.len().max(1));
    for (i, line) in lines.iter().enumerate() {
        let values = parse_line(line).ok_or_else(|| {
            Error::external(format!(
                "{origin}: line {}: `{line}` is not a prediction",
                i + 1
            ))
        })?;
        match (task, classes.len(), values.as_slice()) {
            (Task::Regression, _, [v]) => numbers.push(*v),
            (Task::Classification, 2, [p]) => numbers.extend([1.0 - p, *p]),
            (Task::Classification, k, ps) if ps.len() == k => numbers.extend_from_slice(ps),
            _ => {
                return Err(Error::external(format!(
                    "{origin}: line {}: {} values, expected {}",
                    i + 1,
                    values.len(),
                    if task == Task::Regression {
                        1
                    } else {
                        classes.len()
                    }
                )))
            }
        }
    }
    Ok(match task {
        Task::Regression => Predictions::Values(numbers),
        Task::Classification => Predictions::Proba {
            classes: classes.to_vec(),
            proba: numbers,
        },
    })
}

fn parse_line(line: &str) -> Option<Vec<f64>> {
    line.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|v| v.trim().parse::<f64>().ok())
        .collect()
}

/// The class labels of a classification target (empty for regression).
pub fn classes_of(config: &ModelConfig, frame: &Frame) -> Result<Vec<String>> {
    match config.task {
        Task::Classification => class_labels(frame, &config.target),
        Task::Regression => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_output_shape() {
        let two = vec!["no".to_string(), "yes".to_string()];
        let p = parse_predictions("0.25\n0.5\n", Task::Classification, &two, 2, "out").unwrap();
        assert_eq!(
            p,
            Predictions::Proba {
                classes: two.clone(),
                proba: vec![0.75, 0.25, 0.5, 0.5]
            }
        );
        let three: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let p = parse_predictions(
            "[0.1, 0.2, 0.7]\n0.3,0.3,0.4\n",
            Task::Classification,
            &three,
            2,
            "out",
        )
        .unwrap();
        assert!(
            matches!(p, Predictions::Proba { proba, .. } if proba == vec![0.1, 0.2, 0.7, 0.3, 0.3, 0.4])
        );
        let p = parse_predictions("1.5\n", Task::Regression, &[], 1, "out").unwrap();
        assert_eq!(p, Predictions::Values(vec![1.5]));
    }

    #[test]
    fn refuses_misaligned_or_garbled_output() {
        let err = parse_predictions("0.1\n", Task::Regression, &[], 2, "s3://b/o.out").unwrap_err();
        assert!(
            err.message.contains("1 predictions for 2 input rows"),
            "{}",
            err.message
        );
        let err = parse_predictions("0.1\nnope\n", Task::Regression, &[], 2, "o").unwrap_err();
        assert!(err.message.contains("line 2"), "{}", err.message);
    }

    #[test]
    fn defaults_follow_the_task() {
        let h = default_hyperparameters(Task::Classification, 3);
        assert_eq!(h["objective"], "multi:softprob");
        assert_eq!(h["num_class"], "3");
        assert_eq!(
            default_metric_names(Task::Classification, 2)["roc_auc"],
            "validation:auc"
        );
        assert_eq!(
            default_hyperparameters(Task::Regression, 0)["objective"],
            "reg:squarederror"
        );
    }
}
