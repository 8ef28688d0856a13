//! The built-in tree ensembles behind `random_forest` and `gradient_boosting`: maps the
//! configured parameters (scikit-learn's defaults where unset) onto the engines.

use super::boosting::{self, BoostParams, Loss};
use super::forest::{self, ForestParams};
use super::matrix::Matrix;
use super::{balanced_weights, parallel, Target};
use crate::config::{Algorithm, ClassWeight, Params};
use crate::model::Estimator;

/// Rows above which `gradient_boosting` stops early by default (scikit-learn's `auto`).
const EARLY_STOPPING_ROWS: usize = 10_000;

pub struct Fitted {
    pub estimator: Estimator,
    /// Total split gain per design-matrix column.
    pub gains: Vec<f64>,
    pub details: serde_json::Map<String, serde_json::Value>,
}

pub fn fit(algorithm: Algorithm, p: &Params, x: &Matrix, target: &Target) -> Fitted {
    let weight = row_weights(p, target, x.rows);
    let threads = parallel::threads();
    let seed = p.seed.unwrap_or(0);
    let max_bins = p.max_bins.unwrap_or(255);
    let mut details = serde_json::Map::new();
    // The effective seed and thread count, so a run can be reproduced (the artifact does
    // not depend on the threads; the record says what ran).
    details.insert("seed".into(), seed.into());
    details.insert("threads".into(), threads.into());
    match algorithm {
        Algorithm::GradientBoosting => {
            let (y, loss) = match target {
                Target::Labels { y, classes } => (
                    y.iter().map(|&c| c as f64).collect(),
                    Loss::LogLoss {
                        classes: classes.len(),
                    },
                ),
                Target::Values(y) => (y.clone(), Loss::Squared),
            };
            let params = BoostParams {
                max_iter: p.max_iterations.unwrap_or(100),
                learning_rate: p.learning_rate.unwrap_or(0.1),
                max_leaf_nodes: p.max_leaf_nodes.unwrap_or(31),
                max_depth: p.max_depth,
                min_samples_leaf: p.min_samples_leaf.unwrap_or(20),
                l2_regularization: p.l2_regularization.unwrap_or(0.0),
                max_bins,
                early_stopping: p.early_stopping.unwrap_or(x.rows > EARLY_STOPPING_ROWS),
                validation_fraction: p.validation_fraction.unwrap_or(0.1),
                n_iter_no_change: p.n_iter_no_change.unwrap_or(10),
                seed,
                threads,
            };
            let fit = boosting::fit(x, &y, &weight, loss, &params);
            details.insert("iterations".into(), fit.iterations.into());
            details.insert("stopped_early".into(), fit.stopped_early.into());
            if let Some(v) = fit.validation_loss.filter(|v| v.is_finite()) {
                details.insert("validation_loss".into(), v.into());
            }
            Fitted {
                estimator: Estimator::GradientBoosting {
                    baseline: fit.baseline,
                    trees: fit.trees,
                },
                gains: fit.gains,
                details,
            }
        }
        _ => {
            let (y, outputs, default_features) = match target {
                Target::Labels { y, classes } => {
                    let k = classes.len();
                    let mut onehot = vec![0.0; y.len() * k];
                    y.iter()
                        .enumerate()
                        .for_each(|(r, &c)| onehot[r * k + c] = 1.0);
                    (onehot, k, (x.cols as f64).sqrt().floor() as usize)
                }
                Target::Values(y) => (y.clone(), 1, x.cols),
            };
            let max_features = p
                .max_features
                .map_or(default_features, |f| (f * x.cols as f64).floor() as usize)
                .max(1);
            let params = ForestParams {
                n_estimators: p.n_estimators.unwrap_or(100),
                max_depth: p.max_depth,
                min_samples_leaf: p.min_samples_leaf.unwrap_or(1),
                max_features,
                max_bins,
                seed,
                threads,
            };
            let fit = forest::fit(x, &y, outputs, &weight, &params);
            details.insert("trees".into(), fit.trees.len().into());
            Fitted {
                estimator: Estimator::RandomForest { trees: fit.trees },
                gains: fit.gains,
                details,
            }
        }
    }
}

fn row_weights(p: &Params, target: &Target, rows: usize) -> Vec<f64> {
    match target {
        Target::Labels { y, classes } if p.class_weight == Some(ClassWeight::Balanced) => {
            balanced_weights(y, classes.len())
        }
        _ => vec![1.0; rows],
    }
}
