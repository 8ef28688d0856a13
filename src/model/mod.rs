//! The built-in model artifact: feature encoding plus a fitted estimator, stored as JSON
//! so it is portable, diffable and content-addressable (same training ⇒ same bytes).

pub mod labels;

use crate::config::{Algorithm, Params, Task};
use crate::data::frame::Labels;
use crate::data::{Column, Frame, Kind};
use crate::error::{Error, Result};
use crate::train::linear::proba_of_scores;
use crate::train::matrix::Matrix;
use crate::train::rows::Rows;
use crate::train::tree::Tree;
use crate::train::{boosting, forest, parallel};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Identifies the artifact format; bumped on incompatible change.
pub const FORMAT: &str = "mlgate.model/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub format: String,
    pub task: Task,
    pub algorithm: Algorithm,
    pub target: String,
    pub features: Vec<Feature>,
    /// Class labels in index order (classification only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// Index into `classes` of the positive class (classification only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive: Option<usize>,
    pub params: Params,
    pub estimator: Estimator,
    /// Where a command model's predict command runs: the project's folder, set when a
    /// context loads the version. Not part of the artifact.
    #[serde(skip)]
    pub workdir: Workdir,
}

/// The folder a command model is scored in. It says where the model is used, not what
/// it is, so it never makes two models unequal.
#[derive(Debug, Clone, Default)]
pub struct Workdir(pub Option<std::path::PathBuf>);

impl PartialEq for Workdir {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// One input column and how it becomes numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    pub name: String,
    pub encoding: Encoding,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// Standardised; a missing value becomes the training mean.
    Numeric { mean: f64, scale: f64 },
    /// One-hot over the training levels; unseen or missing levels encode as all zeros.
    Categorical { levels: Vec<String> },
    /// The value as is; missing stays missing (tree ensembles learn where it goes).
    Value,
    /// The index of the level among the sorted training levels; an unseen or missing level
    /// is missing (tree ensembles).
    Ordinal { levels: Vec<String> },
}

impl Encoding {
    fn width(&self) -> usize {
        match self {
            Encoding::Numeric { .. } | Encoding::Value | Encoding::Ordinal { .. } => 1,
            Encoding::Categorical { levels } => levels.len(),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Encoding::Numeric { .. } | Encoding::Value => Kind::Numeric,
            Encoding::Categorical { .. } | Encoding::Ordinal { .. } => Kind::Categorical,
        }
    }

    /// Learns the encoding of a training column.
    pub fn fit(name: &str, column: &Column) -> Result<Encoding> {
        match column {
            Column::Numeric(values) => {
                let present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
                if present.is_empty() {
                    return Err(Error::input(format!(
                        "feature `{name}` has no values in the training data"
                    )));
                }
                let n = present.len() as f64;
                let mean = present.iter().sum::<f64>() / n;
                let var = present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
                // A constant column keeps scale 1 so it encodes to zeros instead of NaN.
                let scale = if var > 0.0 { var.sqrt() } else { 1.0 };
                Ok(Encoding::Numeric { mean, scale })
            }
            Column::Categorical(values) => {
                let levels = values.distinct();
                if levels.is_empty() {
                    return Err(Error::input(format!(
                        "feature `{name}` has no values in the training data"
                    )));
                }
                if looks_like_identifier(levels.len(), values.len()) {
                    return Err(Error::input(format!(
                        "feature `{name}` has {} distinct values in {} rows: it looks like an identifier, which no model can learn from",
                        levels.len(),
                        values.len()
                    ))
                    .with_hint(format!("add `{name}` to the model's `exclude` list in mlgate.yaml")));
                }
                Ok(Encoding::Categorical { levels })
            }
        }
    }

    /// The encoding a tree ensemble uses for a training column: same checks, no scaling.
    pub fn fit_for_trees(name: &str, column: &Column) -> Result<Encoding> {
        Ok(match Encoding::fit(name, column)? {
            Encoding::Categorical { levels } => Encoding::Ordinal { levels },
            _ => Encoding::Value,
        })
    }
}

/// A text column with a distinct value in most rows (ids, free text) would one-hot into
/// thousands of columns that only memorise the training rows.
fn looks_like_identifier(levels: usize, rows: usize) -> bool {
    levels > 1000 || (levels > 50 && levels * 2 > rows)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Estimator {
    Logistic {
        coef: Vec<f64>,
        intercept: Vec<f64>,
    },
    Ridge {
        coef: Vec<f64>,
        intercept: f64,
    },
    /// Raw score `k` = `baseline[k]` + Σ trees `i·K + k`; K = 1 for regression and binary.
    GradientBoosting {
        baseline: Vec<f64>,
        trees: Vec<Tree>,
    },
    /// Mean of the trees' leaf values: class probabilities or the regression value.
    RandomForest {
        trees: Vec<Tree>,
    },
    /// The team's own model (the `command` backend): its files, hex-encoded by relative
    /// path, scored by its predict command.
    Command {
        predict: String,
        timeout_seconds: u64,
        params: serde_json::Value,
        seed: u64,
        files: std::collections::BTreeMap<String, String>,
    },
    /// A SageMaker training job's model: scored by SageMaker (batch transform), judged
    /// by the metrics the job reported on the validation channel.
    #[serde(rename = "sagemaker")]
    SageMaker {
        /// Inference image (the training image).
        image: String,
        /// `s3://…/model.tar.gz`.
        model_data: String,
        /// Digest of `model.tar.gz`, so the version is content-addressed.
        model_sha256: String,
        job_name: String,
        job_arn: String,
        /// What the container is sent.
        input: SageMakerInput,
        /// Metrics the job reported, under mlgate's names.
        metrics: indexmap::IndexMap<String, f64>,
    },
}

/// How rows are sent to a SageMaker model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SageMakerInput {
    /// Headerless CSV of the encoded features (the built-in XGBoost).
    Xgboost,
    /// The file as it is (the team's own container).
    Raw,
}

/// What a model says about each row.
#[derive(Debug, Clone, PartialEq)]
pub enum Predictions {
    /// Row-major `rows × classes` probabilities.
    Proba {
        classes: Vec<String>,
        proba: Vec<f64>,
    },
    Values(Vec<f64>),
}

impl Model {
    /// Parses an artifact, refusing formats this version cannot read.
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<Model> {
        let model: Model = serde_json::from_slice(bytes)
            .map_err(|e| Error::input(format!("{origin}: not an mlgate model artifact: {e}")))?;
        if model.format != FORMAT {
            return Err(Error::input(format!(
                "{origin}: artifact format `{}` is not `{FORMAT}`",
                model.format
            )));
        }
        Ok(model)
    }

    /// Canonical bytes: the same model always serialises identically.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a model always serialises");
        bytes.push(b'\n');
        bytes
    }

    /// Column kinds to read data with, so files are typed the way training saw them.
    pub fn column_kinds(&self) -> HashMap<String, Kind> {
        let mut kinds: HashMap<String, Kind> = self
            .features
            .iter()
            .map(|f| (f.name.clone(), f.encoding.kind()))
            .collect();
        let target = match self.task {
            Task::Classification => Kind::Categorical,
            Task::Regression => Kind::Numeric,
        };
        kinds.insert(self.target.clone(), target);
        kinds
    }

    /// Metrics reported by the training job, for models mlgate cannot score itself.
    pub fn reported_metrics(&self) -> Option<&indexmap::IndexMap<String, f64>> {
        match &self.estimator {
            Estimator::SageMaker { metrics, .. } => Some(metrics),
            _ => None,
        }
    }

    pub fn predict(&self, frame: &Frame) -> Result<Predictions> {
        match &self.estimator {
            Estimator::Command { .. } => return crate::train::command::predict(self, frame),
            Estimator::SageMaker { job_name, .. } => {
                return Err(Error::input(format!(
                    "this model was trained by SageMaker job {job_name} and is scored by SageMaker"
                ))
                .with_hint("use `mlgate predict --backend sagemaker`"))
            }
            _ => {}
        }
        match &self.estimator {
            Estimator::Logistic { coef, intercept } => {
                let scores = linear_scores(&self.features, frame, coef, intercept)?;
                return Ok(Predictions::Proba {
                    classes: self.classes.clone(),
                    proba: proba_of_scores(self.classes.len(), &scores),
                });
            }
            Estimator::Ridge { coef, intercept } => {
                let values = linear_scores(&self.features, frame, coef, &[*intercept])?;
                return Ok(Predictions::Values(values));
            }
            _ => {}
        }
        let x = design_matrix(&self.features, frame)?;
        Ok(match &self.estimator {
            Estimator::GradientBoosting { baseline, trees } => {
                let raw = boosting::raw_scores(baseline, trees, &x, parallel::threads());
                self.predictions_of(
                    raw.chunks(baseline.len())
                        .flat_map(|r| boosting::link(baseline.len(), self.is_classifier(), r))
                        .collect(),
                )
            }
            Estimator::RandomForest { trees } => {
                let outputs = self.classes.len().max(1);
                self.predictions_of(forest::predict(trees, outputs, &x, parallel::threads()))
            }
            // Answered above; kept apart so the built-in arms stay exhaustive.
            Estimator::Command { .. }
            | Estimator::SageMaker { .. }
            | Estimator::Logistic { .. }
            | Estimator::Ridge { .. } => return Err(Error::input("not a tree ensemble")),
        })
    }

    /// What the manifest calls the algorithm: the built-in one, or `command` for the
    /// team's own code (whose artifact keeps the task's default in `algorithm`).
    pub fn algorithm_name(&self) -> &'static str {
        match self.estimator {
            Estimator::Command { .. } => "command",
            Estimator::SageMaker { .. } => "sagemaker",
            _ => self.algorithm.as_str(),
        }
    }

    fn is_classifier(&self) -> bool {
        self.task == Task::Classification
    }

    /// Probabilities (row-major) for classifiers, values for regressors.
    fn predictions_of(&self, scores: Vec<f64>) -> Predictions {
        if self.is_classifier() {
            Predictions::Proba {
                classes: self.classes.clone(),
                proba: scores,
            }
        } else {
            Predictions::Values(scores)
        }
    }
}

/// Encodes the frame's feature columns into the matrix the estimator was fitted on.
/// Filled in blocks of rows on the pool, every feature writing its columns of a block
/// while the block's cache lines are at hand (one feature after another over the whole
/// matrix reads every line once per feature).
pub fn design_matrix(features: &[Feature], frame: &Frame) -> Result<Matrix> {
    let (sources, width) = sources(features, frame)?;
    let mut x = Matrix::zeros(frame.rows, width);
    if width == 0 {
        return Ok(x);
    }
    let block = ENCODE_BLOCK_ROWS * width;
    parallel::for_chunks(&mut x.data, block, parallel::threads(), |start, block| {
        for (source, offset) in &sources {
            source.each_entry(start / width, block.len() / width, |i, j, x| {
                block[i * width + offset + j] = x
            });
        }
    });
    Ok(x)
}

/// The design matrix as a linear model reads it: compressed rows when at most half of
/// it is non-zero ([`Rows::of`]). Where every feature gives at most one entry a row and
/// that is at most half the width (one-hot levels), the rows are built without the
/// dense matrix: a 200 000-row table with 360 levels was a 580 MB matrix of zeros. Each
/// feature fills one slot a row, in column order, so the rows are the dense matrix's
/// non-zero entries in its order.
pub fn design_rows(features: &[Feature], frame: &Frame) -> Result<Rows<'static>> {
    let (sources, width) = sources(features, frame)?;
    let per_row = sources.len();
    if per_row == 0 || per_row * 2 > width || width > u32::MAX as usize {
        return Ok(Rows::from_matrix(design_matrix(features, frame)?));
    }
    let mut columns = vec![0u32; frame.rows * per_row];
    let mut values = vec![0.0; frame.rows * per_row];
    let block = ENCODE_BLOCK_ROWS * per_row;
    parallel::for_chunk_pairs(
        &mut columns,
        &mut values,
        block,
        parallel::threads(),
        |start, columns, values| {
            for (slot, (source, offset)) in sources.iter().enumerate() {
                source.each_entry(start / per_row, values.len() / per_row, |i, j, x| {
                    (columns[i * per_row + slot], values[i * per_row + slot]) =
                        ((offset + j) as u32, x)
                });
            }
        },
    );
    Ok(Rows::of_slots(per_row, width, columns, values))
}

/// Rows encoded together: of the design matrix, or of a linear model's scores.
const ENCODE_BLOCK_ROWS: usize = 2048;

/// Each feature's source and the design matrix column its columns start at, and the
/// matrix's width.
fn sources<'a>(
    features: &[Feature],
    frame: &'a Frame,
) -> Result<(Vec<(Source<'a>, usize)>, usize)> {
    let mut offset = 0;
    let mut sources = Vec::with_capacity(features.len());
    for feature in features {
        sources.push((Source::of(feature, frame)?, offset));
        offset += feature.encoding.width();
    }
    Ok((sources, offset))
}

/// Where a feature's columns of the design matrix come from.
enum Source<'a> {
    Standardised(&'a [f64], f64, f64),
    Value(&'a [f64]),
    OneHot(Vec<Option<usize>>),
    Ordinal(Vec<Option<usize>>),
}

impl<'a> Source<'a> {
    fn of(feature: &Feature, frame: &'a Frame) -> Result<Self> {
        let column = frame.require(&feature.name)?;
        Ok(match (&feature.encoding, column) {
            (Encoding::Numeric { mean, scale }, Column::Numeric(values)) => {
                Source::Standardised(values, *mean, *scale)
            }
            (Encoding::Value, Column::Numeric(values)) => Source::Value(values),
            (Encoding::Categorical { levels }, Column::Categorical(values)) => {
                Source::OneHot(level_indices(levels, values))
            }
            (Encoding::Ordinal { levels }, Column::Categorical(values)) => {
                Source::Ordinal(level_indices(levels, values))
            }
            _ => return Err(kind_changed(frame, feature)),
        })
    }

    /// `z[i] += x[first + i] · w` for a numeric feature (one column): the product
    /// `each_entry` would give, in a loop the compiler can vectorise. False for text.
    fn add_weighted(&self, first: usize, z: &mut [f64], w: f64) -> bool {
        let rows = first..first + z.len();
        let values = |values: &'a [f64]| &values[rows.clone()];
        match self {
            Source::Standardised(x, mean, scale) => z
                .iter_mut()
                .zip(values(x))
                .for_each(|(z, &v)| *z += standardised(v, *mean, *scale) * w),
            Source::Value(x) => z.iter_mut().zip(values(x)).for_each(|(z, &v)| *z += v * w),
            Source::OneHot(_) | Source::Ordinal(_) => return false,
        }
        true
    }

    /// `f(i, column, value)` for each non-zero entry of `rows` consecutive rows from
    /// `first` (`i` counts from `first`; `column` within the feature's columns).
    fn each_entry(&self, first: usize, rows: usize, mut f: impl FnMut(usize, usize, f64)) {
        let range = first..first + rows;
        match self {
            Source::Standardised(values, mean, scale) => values[range]
                .iter()
                .enumerate()
                .for_each(|(i, &v)| f(i, 0, standardised(v, *mean, *scale))),
            Source::Value(values) => values[range]
                .iter()
                .enumerate()
                .for_each(|(i, &v)| f(i, 0, v)),
            Source::OneHot(levels) => levels[range].iter().enumerate().for_each(|(i, level)| {
                if let Some(level) = level {
                    f(i, *level, 1.0)
                }
            }),
            Source::Ordinal(levels) => levels[range]
                .iter()
                .enumerate()
                .for_each(|(i, level)| f(i, 0, level.map_or(f64::NAN, |l| l as f64))),
        }
    }
}

/// A linear model's scores `x·wᵀ + b` for each of its weight rows (`coef`: one row of
/// the design matrix's width per entry of `intercept`), row-major, read from the frame
/// without the design matrix: a one-hot text column adds its level's weight, not a
/// product per level. The non-zero terms are added in the design matrix's column order,
/// so the scores are the ones a dot product with the design matrix gives. Blocks of rows
/// on the pool.
fn linear_scores(
    features: &[Feature],
    frame: &Frame,
    coef: &[f64],
    intercept: &[f64],
) -> Result<Vec<f64>> {
    let k = intercept.len();
    let (sources, width) = sources(features, frame)?;
    let mut z = vec![0.0; frame.rows * k];
    let block = ENCODE_BLOCK_ROWS * k;
    parallel::for_chunks(&mut z, block, parallel::threads(), |start, z| {
        for (source, offset) in &sources {
            if k == 1 && source.add_weighted(start, z, coef.get(*offset).copied().unwrap_or(0.0)) {
                continue;
            }
            source.each_entry(start / k, z.len() / k, |i, j, x| {
                for (c, score) in z[i * k..(i + 1) * k].iter_mut().enumerate() {
                    *score += x * coef.get(c * width + offset + j).copied().unwrap_or(0.0);
                }
            });
        }
        for scores in z.chunks_exact_mut(k) {
            scores.iter_mut().zip(intercept).for_each(|(z, b)| *z += b);
        }
    });
    Ok(z)
}

/// A numeric feature as linear models see it: a missing value is the training mean.
fn standardised(v: f64, mean: f64, scale: f64) -> f64 {
    (if v.is_nan() { mean } else { v } - mean) / scale
}

/// Each row's index among the sorted training `levels`; `None` for a missing or unseen
/// one. Looked up once per distinct value.
fn level_indices(levels: &[String], values: &Labels) -> Vec<Option<usize>> {
    values.map(None, |v| {
        levels.binary_search_by(|l| l.as_str().cmp(v)).ok()
    })
}

/// The frame holds a feature's column as another kind than training did.
fn kind_changed(frame: &Frame, feature: &Feature) -> Error {
    Error::input(format!(
        "{}: column `{}` must be {:?} as in training",
        frame.source,
        feature.name,
        feature.encoding.kind()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::linear::{LogisticFit, RidgeFit};

    #[test]
    fn linear_scores_from_the_frame_are_the_design_matrix_products() {
        let frame = Frame {
            source: "t.csv".into(),
            names: vec!["x".into(), "c".into()],
            columns: vec![
                Column::Numeric(vec![1.5, f64::NAN, -2.0, 0.25]),
                Column::Categorical(
                    [Some("b"), None, Some("a"), Some("z")]
                        .into_iter()
                        .collect(),
                ),
            ],
            rows: 4,
        };
        let levels = vec!["a".to_string(), "b".into(), "c".into()];
        let features = vec![
            Feature {
                name: "x".into(),
                encoding: Encoding::Numeric {
                    mean: 0.5,
                    scale: 2.0,
                },
            },
            Feature {
                name: "c".into(),
                encoding: Encoding::Categorical { levels },
            },
        ];
        let x = design_matrix(&features, &frame).unwrap();
        // Compressed rows straight from the frame are the matrix's non-zero entries.
        let rows = design_rows(&features, &frame).unwrap();
        assert!(matches!(rows, Rows::Sparse { .. }), "5 of 16 non-zero");
        let of_matrix = Rows::of(&x);
        assert_eq!((rows.rows(), rows.cols()), (4, 4));
        let w = [0.5, -2.0, 3.0, 4.0];
        for i in 0..4 {
            assert_eq!(rows.dot(i, &w).to_bits(), of_matrix.dot(i, &w).to_bits());
            let (mut a, mut b) = (vec![1.0; 4], vec![1.0; 4]);
            rows.add_to(i, 0.5, &mut a);
            of_matrix.add_to(i, 0.5, &mut b);
            assert_eq!(a, b);
        }
        // Mostly non-zero: the dense matrix serves.
        let numeric = design_rows(&features[..1], &frame).unwrap();
        assert!(matches!(numeric, Rows::Dense(_)));
        for classes in [2, 3] {
            let outputs = if classes == 2 { 1 } else { classes };
            let coef: Vec<f64> = (0..outputs * 4).map(|i| 0.3 * i as f64 - 1.1).collect();
            let intercept: Vec<f64> = (0..outputs).map(|c| 0.7 - c as f64).collect();
            let fit = LogisticFit {
                coef: coef.clone(),
                intercept: intercept.clone(),
                n_classes: classes,
                n_features: 4,
                iterations: 0,
                converged: true,
            };
            let scores = linear_scores(&features, &frame, &coef, &intercept).unwrap();
            let bits = |p: Vec<f64>| p.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(proba_of_scores(classes, &scores)),
                bits(fit.predict_proba(&x))
            );
        }
        let coef = [0.5, -1.0, 2.0, 3.0];
        let ridge = RidgeFit {
            coef: coef.to_vec(),
            intercept: 0.25,
        };
        let values = linear_scores(&features, &frame, &coef, &[0.25]).unwrap();
        assert_eq!(values, ridge.predict(&x));
        // A column read as text where training had numbers is named.
        let mut text = frame.clone();
        text.columns[0] = Column::Categorical([Some("1.5"); 4].into_iter().collect());
        let e = linear_scores(&features, &text, &coef, &[0.0]).unwrap_err();
        assert!(e.to_string().contains("column `x` must be Numeric"), "{e}");
    }
}
