//! Training: one interface, one implementation per backend. The built-in backend trains
//! in-process; remote backends (the team's own command, SageMaker) slot in beside it.

pub mod bins;
pub mod boosting;
pub mod command;
pub mod ensemble;
pub mod forest;
pub mod lbfgs;
pub mod linear;
pub mod matrix;
pub mod pages;
pub mod parallel;
pub mod rng;
pub mod rows;
pub mod tree;

use crate::config::{Algorithm, ClassWeight, ModelConfig, Task};
use crate::data::{Column, Frame, Kind};
use crate::error::{Error, Result};
use crate::model::labels::{class_labels, encode_labels, positive_index, target_values};
use crate::model::{design_matrix, design_rows, Encoding, Estimator, Feature, Model, FORMAT};
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
    /// Whether the project's files stay as they are while it trains, so that they may be
    /// read beside the fit: mlgate's own algorithms; a team's command may write them.
    fn leaves_files_alone(&self) -> bool {
        false
    }
}

/// Where a trainer finds the model's data: local copies of its files (downloaded when
/// the config names `s3://` objects) and the project's store.
pub struct DataFiles {
    pub train: std::path::PathBuf,
    pub eval: std::path::PathBuf,
    pub store_uri: String,
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

/// The column kinds a built-in model trained on `frame` reads data with (its
/// [`column_kinds`](crate::model::Model::column_kinds)): each feature's kind in the frame,
/// the target's by the task.
pub fn model_kinds(config: &ModelConfig, frame: &Frame) -> HashMap<String, Kind> {
    let mut kinds: HashMap<String, Kind> = feature_names(config, frame)
        .into_iter()
        .filter_map(|name| Some((name.clone(), frame.column(&name)?.kind())))
        .collect();
    kinds.extend(read_kinds(config));
    kinds
}

/// In-process training of the built-in algorithms.
pub struct Builtin;

#[async_trait::async_trait]
impl Trainer for Builtin {
    fn backend(&self) -> &'static str {
        "builtin"
    }

    fn leaves_files_alone(&self) -> bool {
        true
    }

    async fn train(&self, request: &TrainRequest<'_>) -> Result<Trained> {
        let TrainRequest { config, train, .. } = request;
        let algorithm = config
            .train
            .algorithm
            .unwrap_or_else(|| Algorithm::default_for(config.task));
        let features = feature_names(config, train)
            .into_iter()
            .map(|name| {
                let column = train.require(&name)?;
                stray_text(train, &name, column)?;
                let encoding = if algorithm.is_tree_ensemble() {
                    Encoding::fit_for_trees(&name, column)?
                } else {
                    Encoding::fit(&name, column)?
                };
                Ok(Feature { encoding, name })
            })
            .collect::<Result<Vec<_>>>()?;
        let params = config.train.params.clone();
        let mut details = serde_json::Map::new();
        let target = Target::read(config, train)?;
        let estimator = match algorithm {
            Algorithm::LogisticRegression => {
                let (y, classes) = target.labels()?;
                let weights = (params.class_weight == Some(ClassWeight::Balanced))
                    .then(|| balanced_weights(y, classes.len()));
                let x = design_rows(&features, train)?;
                let fit = parallel::on_pool(|| {
                    linear::fit_logistic(
                        &x,
                        y,
                        classes.len(),
                        params.c.unwrap_or(1.0),
                        weights.as_deref(),
                        params.max_iter.unwrap_or(1000),
                        params.tol.unwrap_or(linear::DEFAULT_TOL),
                    )
                });
                details.insert("iterations".into(), fit.iterations.into());
                details.insert("converged".into(), fit.converged.into());
                Estimator::Logistic {
                    coef: fit.coef,
                    intercept: fit.intercept,
                }
            }
            Algorithm::Ridge | Algorithm::LinearRegression => {
                let (x, y) = (design_rows(&features, train)?, target.values()?);
                let fit = match algorithm {
                    Algorithm::Ridge => linear::fit_ridge(&x, y, params.alpha.unwrap_or(1.0), None),
                    _ => linear::fit_least_squares(&x, y, None),
                }
                .map_err(Error::input)?;
                Estimator::Ridge {
                    coef: fit.coef,
                    intercept: fit.intercept,
                }
            }
            Algorithm::RandomForest | Algorithm::GradientBoosting => {
                let x = design_matrix(&features, train)?;
                let fitted = parallel::on_pool(|| ensemble::fit(algorithm, &params, &x, &target));
                details.extend(fitted.details);
                details.insert(
                    "feature_importance".into(),
                    importance(&features, &fitted.gains),
                );
                fitted.estimator
            }
        };
        details.insert("rows".into(), train.rows.into());
        let (classes, positive) = match &target {
            Target::Labels { classes, .. } => {
                (classes.clone(), Some(positive_index(config, classes)?))
            }
            Target::Values(_) => (Vec::new(), None),
        };
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
            workdir: Default::default(),
        };
        Ok(Trained { model, details })
    }
}

/// A text column whose values are nearly all numbers is a number column with a stray
/// value (a typo, `inf`): name the first such cell instead of treating digits as labels.
fn stray_text(frame: &Frame, name: &str, column: &Column) -> Result<()> {
    let Column::Categorical(values) = column else {
        return Ok(());
    };
    let is_number = |v: &str| v.parse::<f64>().is_ok_and(f64::is_finite);
    // By distinct value: a column of levels repeats each one many times.
    let (mut present, mut numbers) = (0, 0);
    for (value, rows) in values.counts() {
        present += rows;
        if is_number(value) {
            numbers += rows;
        }
    }
    if present < 10 || numbers * 10 < present * 9 {
        return Ok(());
    }
    match values.position(|v| !is_number(v)) {
        Some(row) => Err(crate::data::frame::cell_error(
            &frame.source,
            row,
            name,
            values.get(row).unwrap_or_default(),
            "is not a finite number, in a column of numbers",
        )),
        None => Ok(()),
    }
}

/// The training target, read by the task: class indices with their labels, or numbers.
pub enum Target {
    Labels { y: Vec<usize>, classes: Vec<String> },
    Values(Vec<f64>),
}

impl Target {
    fn read(config: &ModelConfig, frame: &Frame) -> Result<Target> {
        match config.task {
            Task::Classification => {
                let classes = class_labels(frame, &config.target)?;
                positive_index(config, &classes)?;
                let y = encode_labels(frame, &config.target, &classes)?;
                Ok(Target::Labels { y, classes })
            }
            Task::Regression => {
                let y = target_values(frame, &config.target)?;
                if y.iter().all(|v| *v == y[0]) {
                    return Err(Error::input(format!(
                        "{}: target `{}` is constant ({}); there is nothing to learn",
                        frame.source,
                        config.target,
                        y.first().copied().unwrap_or(f64::NAN)
                    )));
                }
                Ok(Target::Values(y))
            }
        }
    }

    fn labels(&self) -> Result<(&[usize], &[String])> {
        match self {
            Target::Labels { y, classes } => Ok((y, classes)),
            Target::Values(_) => Err(Error::input("this algorithm needs class labels")),
        }
    }

    fn values(&self) -> Result<&[f64]> {
        match self {
            Target::Values(y) => Ok(y),
            Target::Labels { .. } => Err(Error::input("this algorithm needs a numeric target")),
        }
    }
}

/// Split gains per feature, as fractions of the total (scikit-learn's impurity-based
/// importance), keyed by feature name in feature order.
fn importance(features: &[Feature], gains: &[f64]) -> serde_json::Value {
    let total: f64 = gains.iter().sum();
    features
        .iter()
        .zip(gains)
        .map(|(f, g)| {
            let share = if total > 0.0 { g / total } else { 0.0 };
            (f.name.clone(), ((share * 1e6).round() / 1e6).into())
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// scikit-learn's `class_weight="balanced"`: n_samples / (n_classes * count(class)).
pub fn balanced_weights(y: &[usize], n_classes: usize) -> Vec<f64> {
    let mut counts = vec![0usize; n_classes];
    for &c in y {
        counts[c] += 1;
    }
    let n = y.len() as f64;
    y.iter()
        .map(|&c| n / (n_classes as f64 * counts[c] as f64))
        .collect()
}
