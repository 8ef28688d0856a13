//! Per-slice metrics: the evaluation rows grouped by the values of a column (region, plan,
//! age band), each group scored alone, and the largest gap between groups per metric, the
//! usual first check that a model serves every group about equally well.

use super::{evaluate, Evaluation};
use crate::data::{Column, Frame};
use crate::error::{Error, Result};
use crate::model::Model;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Metrics of the rows sharing one value of a column (missing values form `(missing)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slice {
    pub column: String,
    pub value: String,
    pub rows: usize,
    /// Metrics defined on this slice (e.g. no ROC AUC on a slice holding one class).
    pub metrics: IndexMap<String, f64>,
}

/// The spread of one metric across the slices of a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    pub column: String,
    pub metric: String,
    pub gap: f64,
    pub best: String,
    pub worst: String,
}

/// Scores every slice of `column` in `frame`.
pub fn slices(model: &Model, frame: &Frame, column: &str) -> Result<Vec<Slice>> {
    let values: Vec<String> = match frame.require(column)? {
        Column::Categorical(v) => v
            .iter()
            .map(|v| v.unwrap_or("(missing)").to_string())
            .collect(),
        Column::Numeric(v) if distinct(v) <= 20 => v
            .iter()
            .map(|x| if x.is_nan() { "(missing)".into() } else { x.to_string() })
            .collect(),
        Column::Numeric(_) => {
            return Err(Error::input(format!(
                "{}: slice column `{column}` holds more than 20 distinct numbers; slice by a column of categories (e.g. a band)",
                frame.source
            )))
        }
    };
    let mut groups: IndexMap<&str, Vec<usize>> = IndexMap::new();
    for (row, v) in values.iter().enumerate() {
        groups.entry(v.as_str()).or_default().push(row);
    }
    groups.sort_keys();
    groups
        .into_iter()
        .map(|(value, rows)| {
            let part = subset(frame, &rows);
            let Evaluation { metrics, .. } = evaluate(model, &part, "")?;
            Ok(Slice {
                column: column.into(),
                value: value.into(),
                rows: rows.len(),
                metrics: metrics.into_iter().filter(|(_, v)| v.is_finite()).collect(),
            })
        })
        .collect()
}

/// The gap of `metric` across the slices of one column, best and worst by the metric's
/// direction; `None` when fewer than two slices define it.
pub fn gap(slices: &[Slice], metric: &str) -> Option<Gap> {
    let higher = super::metrics::is_higher_better(metric).unwrap_or(true);
    let scored: Vec<(&Slice, f64)> = slices
        .iter()
        .filter_map(|s| s.metrics.get(metric).map(|v| (s, *v)))
        .collect();
    if scored.len() < 2 {
        return None;
    }
    let by_value = |a: &&(&Slice, f64), b: &&(&Slice, f64)| a.1.total_cmp(&b.1);
    let (low, high) = (
        scored.iter().min_by(by_value)?,
        scored.iter().max_by(by_value)?,
    );
    let (best, worst) = if higher { (high, low) } else { (low, high) };
    Some(Gap {
        column: best.0.column.clone(),
        metric: metric.into(),
        gap: high.1 - low.1,
        best: best.0.value.clone(),
        worst: worst.0.value.clone(),
    })
}

fn distinct(values: &[f64]) -> usize {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v.len()
}

/// The given rows of a frame, in order.
fn subset(frame: &Frame, rows: &[usize]) -> Frame {
    let columns = frame
        .columns
        .iter()
        .map(|c| match c {
            Column::Numeric(v) => Column::Numeric(rows.iter().map(|&r| v[r]).collect()),
            Column::Categorical(v) => Column::Categorical(v.select(rows)),
        })
        .collect();
    Frame {
        source: frame.source.clone(),
        names: frame.names.clone(),
        columns,
        rows: rows.len(),
    }
}
