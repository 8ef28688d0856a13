//! Evaluation: metrics computed by mlgate itself from a model's predictions, so every
//! backend's models are judged by the same definitions.

pub mod metrics;
pub mod slices;

use crate::config::Task;
use crate::data::Frame;
use crate::error::Result;
use crate::model::labels::{encode_labels, target_values};
use crate::model::{Model, Predictions};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Metrics of one model on one data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Fingerprint of the data evaluated on.
    pub data: String,
    pub rows: usize,
    pub metrics: IndexMap<String, f64>,
    /// Rows = true class, columns = predicted class (classification only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confusion: Option<Vec<Vec<u64>>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

/// The metric names a task's models report.
pub fn metric_names(task: Task) -> &'static [&'static str] {
    task.metric_names()
}

/// Scores `model` on `frame`, which must hold the target column.
pub fn evaluate(model: &Model, frame: &Frame, data_fingerprint: &str) -> Result<Evaluation> {
    score(model, frame, model.predict(frame)?, data_fingerprint)
}

/// Scores predictions already made on `frame`, so a caller that also charts them predicts once.
pub fn score(
    model: &Model,
    frame: &Frame,
    predictions: Predictions,
    data_fingerprint: &str,
) -> Result<Evaluation> {
    let (metrics, confusion, classes) = match predictions {
        Predictions::Proba { classes, proba } => {
            let y = encode_labels(frame, &model.target, &classes)?;
            let positive = model.positive.unwrap_or(classes.len() - 1);
            let m = metrics::classification(&y, &proba, classes.len(), positive);
            let predicted = metrics::argmax_rows(&proba, classes.len());
            (
                m,
                Some(metrics::confusion_matrix(&y, &predicted, classes.len())),
                classes,
            )
        }
        Predictions::Values(values) => {
            let y = target_values(frame, &model.target)?;
            (metrics::regression(&y, &values), None, Vec::new())
        }
    };
    Ok(Evaluation {
        data: data_fingerprint.to_string(),
        rows: frame.rows,
        metrics: metrics.into_iter().collect(),
        confusion,
        classes,
    })
}
