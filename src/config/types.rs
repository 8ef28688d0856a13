//! The typed shape of `mlgate.yaml`. Strict: every struct denies unknown keys, so a
//! misspelt key is an error (with a suggestion) rather than a silently ignored setting.
//! `docs/config.md` documents each key; a test keeps the two in step.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The whole project configuration.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Format version of this file. Only `1` exists.
    pub version: u32,
    /// Where model versions are stored: `file://PATH` (relative to this file's folder).
    #[serde(default = "default_store")]
    pub store: String,
    /// The models of this project, by name (lowercase letters, digits, `-`, `_`).
    pub models: IndexMap<String, ModelConfig>,
}

pub fn default_store() -> String {
    "file://.mlgate/store".into()
}

/// One model: its data, how it is trained, and the gate a candidate must pass.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `classification` or `regression`.
    pub task: Task,
    /// The column to predict.
    pub target: String,
    /// Columns used as features. Default: every column except the target and `exclude`.
    #[serde(default)]
    pub features: Option<Vec<String>>,
    /// Columns never used as features (identifiers, timestamps, leaks).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Classification only: the class whose precision, recall, F1 and ROC AUC are reported.
    /// Default: the greatest class label (scikit-learn's convention).
    #[serde(default)]
    pub positive_class: Option<String>,
    /// Training and evaluation data.
    pub data: DataConfig,
    /// Drift against a reference and training/serving skew, checked by `validate-data`.
    #[serde(default)]
    pub drift: crate::data::drift::DriftConfig,
    /// How the model is trained.
    #[serde(default)]
    pub train: TrainConfig,
    /// Rules a candidate must pass to be promoted, by metric name.
    #[serde(default)]
    pub gate: IndexMap<String, GateRule>,
    /// Where the production pointer lives and how promotions are proposed.
    #[serde(default)]
    pub promote: PromoteConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    Classification,
    Regression,
}

impl Task {
    pub fn as_str(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }
}

/// Paths are relative to the folder holding `mlgate.yaml`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Training data: CSV with a header row (optionally `.gz`), Parquet or JSON Lines.
    pub train: String,
    /// Evaluation data, used for every metric and for champion/challenger comparison.
    pub eval: String,
    /// Data schema checked by `validate-data` (see docs/data-schema.md).
    #[serde(default)]
    pub schema: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Training backend. Only `builtin` exists so far.
    #[serde(default)]
    pub backend: Backend,
    /// Built-in algorithm. Default: `logistic_regression` for classification, `ridge` for regression.
    #[serde(default)]
    pub algorithm: Option<Algorithm>,
    /// Algorithm parameters.
    #[serde(default)]
    pub params: Params,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    #[default]
    Builtin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// L2-regularised logistic regression (binary or multinomial); classification.
    LogisticRegression,
    /// Ridge (L2-regularised least squares); regression.
    Ridge,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::LogisticRegression => "logistic_regression",
            Algorithm::Ridge => "ridge",
        }
    }
    pub fn task(self) -> Task {
        match self {
            Algorithm::LogisticRegression => Task::Classification,
            Algorithm::Ridge => Task::Regression,
        }
    }
    pub fn default_for(task: Task) -> Self {
        match task {
            Task::Classification => Algorithm::LogisticRegression,
            Task::Regression => Algorithm::Ridge,
        }
    }
}

/// Parameters of the built-in algorithms; each applies to the algorithms named.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// logistic_regression: inverse regularisation strength (scikit-learn's `C`). Default 1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c: Option<f64>,
    /// ridge: regularisation strength. Default 1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// logistic_regression: most optimiser iterations. Default 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iter: Option<usize>,
    /// logistic_regression: `balanced` weighs classes inversely to their frequency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_weight: Option<ClassWeight>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    None,
    Balanced,
}

/// A gate rule for one metric. Every threshold given must hold; at least one is required.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateRule {
    /// `higher` or `lower` is better. Default: the metric's own (e.g. `higher` for roc_auc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// The candidate's value must be at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The candidate's value must be at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Largest allowed regression against production, in the metric's units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_regression: Option<f64>,
    /// Largest allowed regression against production, as a fraction of production's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_relative_regression: Option<f64>,
    /// Smallest required improvement over production, in the metric's units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_improvement: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Higher,
    Lower,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoteConfig {
    /// The production pointer file, relative to this file's folder.
    /// Default: `models/<name>/production.yaml`.
    #[serde(default)]
    pub pointer: Option<String>,
    /// Branch the promotion is proposed on. Default: `mlgate/promote/<name>`.
    #[serde(default)]
    pub branch: Option<String>,
}
