//! The target's labels and values as models see them: classes in a stable order, class
//! indices of a column, the positive class, numeric targets. Shared by training,
//! evaluation and every backend, so all encode a target the same way.

use crate::config::ModelConfig;
use crate::data::{Column, Frame};
use crate::error::{Error, Result};

/// Labels sorted numerically when they all are numbers ("2" before "10"), else as text.
pub fn sort_labels(labels: &mut [String]) {
    let numeric: Option<Vec<f64>> = labels.iter().map(|l| l.parse().ok()).collect();
    match numeric {
        Some(_) => labels.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap_or(0.0)
                .total_cmp(&b.parse().unwrap_or(0.0))
        }),
        None => labels.sort(),
    }
}

/// Class indices of the target column, naming the first row whose label is unknown.
pub fn encode_labels(frame: &Frame, target: &str, classes: &[String]) -> Result<Vec<usize>> {
    let Column::Categorical(values) = frame.require(target)? else {
        return Err(Error::input(format!(
            "{}: target `{target}` must hold class labels",
            frame.source
        )));
    };
    let class = values.map(None, |v| classes.iter().position(|c| c == v));
    values
        .iter()
        .zip(class)
        .enumerate()
        .map(|(row, (v, class))| {
            let label = v.ok_or_else(|| {
                crate::data::frame::cell_error(
                    &frame.source,
                    row,
                    target,
                    "",
                    "is missing; every row needs a target",
                )
            })?;
            class.ok_or_else(|| {
                crate::data::frame::cell_error(
                    &frame.source,
                    row,
                    target,
                    label,
                    "is a class the model never saw in training",
                )
            })
        })
        .collect()
}

/// Numeric target values, naming the first missing one.
pub fn target_values(frame: &Frame, target: &str) -> Result<Vec<f64>> {
    let Column::Numeric(values) = frame.require(target)? else {
        return Err(Error::input(format!(
            "{}: target `{target}` must be numeric for regression",
            frame.source
        )));
    };
    if let Some(row) = values.iter().position(|v| v.is_nan()) {
        return Err(crate::data::frame::cell_error(
            &frame.source,
            row,
            target,
            "",
            "is missing; every row needs a target",
        ));
    }
    Ok(values.clone())
}

/// The distinct target labels; training needs at least two.
pub fn class_labels(frame: &Frame, target: &str) -> Result<Vec<String>> {
    let Column::Categorical(values) = frame.require(target)? else {
        return Err(Error::input(format!(
            "{}: target `{target}` must hold class labels",
            frame.source
        )));
    };
    let mut classes = values.distinct();
    sort_labels(&mut classes);
    match classes.len() {
        0 => Err(Error::input(format!(
            "{}: target `{target}` has no values",
            frame.source
        ))),
        1 => Err(Error::input(format!(
            "{}: target `{target}` has a single class `{}`; a classifier needs at least two",
            frame.source, classes[0]
        ))),
        _ => Ok(classes),
    }
}

pub fn positive_index(config: &ModelConfig, classes: &[String]) -> Result<usize> {
    match &config.positive_class {
        None => Ok(classes.len() - 1),
        Some(label) => classes.iter().position(|c| c == label).ok_or_else(|| {
            Error::input(format!(
                "positive_class `{label}` is not a class of the training data (classes: {})",
                classes.join(", ")
            ))
        }),
    }
}
