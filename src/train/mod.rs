//! Training: one interface, one implementation per backend. The built-in backend trains
//! in-process; remote backends (the team's own command, SageMaker) slot in beside it.

pub mod lbfgs;
pub mod linear;
pub mod matrix;

use crate::config::{Algorithm, ClassWeight, ModelConfig, Task};
use crate::data::{Column, Frame, Kind};
use crate::error::{Error, Result};
use crate::model::{design_matrix, Encoding, Estimator, Feature, Model, FORMAT};
use std::collections::HashMap;

/// What a trainer is asked to do.
pub struct TrainRequest<'a> {
    pub name: &'a str,
    pub config: &'a ModelConfig,
    pub train: &'a Frame,
}

/// What a trainer hands back: the artifact and facts about the run for the lineage.
#[derive(Debug, Clone)]
pub struct Trained {
    pub model: Model,
    /// Backend-specific facts (iterations, convergence, job ids).
    pub details: serde_json::Map<String, serde_json::Value>,
}

#[async_trait::async_trait]
pub trait Trainer: Send + Sync {
    /// Name recorded in the lineage.
    fn backend(&self) -> &'static str;
    async fn train(&self, request: &TrainRequest<'_>) -> Result<Trained>;
}

/// The trainer the model's config asks for.
pub fn trainer_for(_config: &ModelConfig) -> Box<dyn Trainer> {
    Box::new(Builtin)
}

/// Feature columns: the configured list, or every column but the target and exclusions.
pub fn feature_names(config: &ModelConfig, frame: &Frame) -> Vec<String> {
    match &config.features {
        Some(list) => list.clone(),
        None => frame
            .names
            .iter()
            .filter(|n| **n != config.target && !config.exclude.contains(n))
            .cloned()
            .collect(),
    }
}

/// Kinds to read the target with: labels for classification, numbers for regression.
pub fn target_kind(task: Task) -> Kind {
    match task {
        Task::Classification => Kind::Categorical,
        Task::Regression => Kind::Numeric,
    }
}

/// Column kinds to read training data with: the target typed by the task.
pub fn read_kinds(config: &ModelConfig) -> HashMap<String, Kind> {
    HashMap::from([(config.target.clone(), target_kind(config.task))])
}

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
    values
        .iter()
        .enumerate()
        .map(|(row, v)| {
            let label = v.as_deref().ok_or_else(|| {
                crate::data::frame::cell_error(
                    &frame.source,
                    row,
                    target,
                    "",
                    "is missing; every row needs a target",
                )
            })?;
            classes.iter().position(|c| c == label).ok_or_else(|| {
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

/// In-process training of the built-in algorithms.
pub struct Builtin;

#[async_trait::async_trait]
impl Trainer for Builtin {
    fn backend(&self) -> &'static str {
        "builtin"
    }

    async fn train(&self, request: &TrainRequest<'_>) -> Result<Trained> {
        let TrainRequest { config, train, .. } = request;
        let features = feature_names(config, train)
            .into_iter()
            .map(|name| {
                Ok(Feature {
                    encoding: Encoding::fit(&name, train.require(&name)?)?,
                    name,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let x = design_matrix(&features, train)?;
        let algorithm = config
            .train
            .algorithm
            .unwrap_or_else(|| Algorithm::default_for(config.task));
        let params = config.train.params.clone();
        let mut details = serde_json::Map::new();
        let (estimator, classes, positive) = match algorithm {
            Algorithm::LogisticRegression => {
                let classes = class_labels(train, &config.target)?;
                let positive = positive_index(config, &classes)?;
                let y = encode_labels(train, &config.target, &classes)?;
                let weights = (params.class_weight == Some(ClassWeight::Balanced))
                    .then(|| balanced_weights(&y, classes.len()));
                let fit = linear::fit_logistic(
                    &x,
                    &y,
                    classes.len(),
                    params.c.unwrap_or(1.0),
                    weights.as_deref(),
                    params.max_iter.unwrap_or(1000),
                );
                details.insert("iterations".into(), fit.iterations.into());
                details.insert("converged".into(), fit.converged.into());
                (
                    Estimator::Logistic {
                        coef: fit.coef,
                        intercept: fit.intercept,
                    },
                    classes,
                    Some(positive),
                )
            }
            Algorithm::Ridge => {
                let y = target_values(train, &config.target)?;
                let fit = linear::fit_ridge(&x, &y, params.alpha.unwrap_or(1.0), None)
                    .map_err(Error::input)?;
                (
                    Estimator::Ridge {
                        coef: fit.coef,
                        intercept: fit.intercept,
                    },
                    Vec::new(),
                    None,
                )
            }
        };
        details.insert("rows".into(), train.rows.into());
        let model = Model {
            format: FORMAT.into(),
            task: config.task,
            algorithm,
            target: config.target.clone(),
            features,
            classes,
            positive,
            params,
            estimator,
        };
        Ok(Trained { model, details })
    }
}

/// The distinct target labels; training needs at least two.
fn class_labels(frame: &Frame, target: &str) -> Result<Vec<String>> {
    let Column::Categorical(values) = frame.require(target)? else {
        return Err(Error::input(format!(
            "{}: target `{target}` must hold class labels",
            frame.source
        )));
    };
    let mut classes: Vec<String> = values.iter().flatten().cloned().collect();
    classes.sort();
    classes.dedup();
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

fn positive_index(config: &ModelConfig, classes: &[String]) -> Result<usize> {
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

/// scikit-learn's `class_weight="balanced"`: n_samples / (n_classes * count(class)).
fn balanced_weights(y: &[usize], n_classes: usize) -> Vec<f64> {
    let mut counts = vec![0usize; n_classes];
    for &c in y {
        counts[c] += 1;
    }
    let n = y.len() as f64;
    y.iter()
        .map(|&c| n / (n_classes as f64 * counts[c] as f64))
        .collect()
}
