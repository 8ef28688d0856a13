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
    /// Where model versions are stored: `file://PATH` (relative to this file's folder),
    /// `s3://BUCKET/PREFIX` or `az://CONTAINER/PREFIX`.
    #[serde(default = "default_store")]
    pub store: String,
    /// The models of this project, by name (lowercase letters, digits, `-`, `_`).
    pub models: IndexMap<String, ModelConfig>,
    /// Where pull requests, reports and deployment tags go (see docs/forges.md).
    #[serde(default)]
    pub forge: ForgeConfig,
    /// AWS settings shared by the S3 store and SageMaker (see docs/aws.md).
    #[serde(default)]
    pub aws: AwsConfig,
    /// Azure settings of the `az://` store and data (see docs/azure.md).
    #[serde(default)]
    pub azure: AzureConfig,
    /// What new objects in a bucket set off: validation, retraining, batch scoring (see
    /// docs/triggers.md). Read by the functions from the config `deploy` publishes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<super::triggers::TriggerRule>,
}

/// Credentials always come from the standard AWS chain (environment, profile, web
/// identity, instance role); never from this file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Region of the S3 store and SageMaker. Default: the chain's (`AWS_REGION`, profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// The storage account of `az://` URIs. Credentials come from the environment (managed or
/// workload identity, `az login`, a SAS); never from this file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AzureConfig {
    /// The storage account's name: `az://` URIs are in
    /// `https://<account>.blob.core.windows.net`. Default: `AZURE_STORAGE_ACCOUNT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The Blob endpoint instead of the account's public one (a sovereign cloud, a
    /// private endpoint, Azurite). `MLGATE_AZURE_ACCOUNT_URL` overrides both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
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
    pub drift: super::drift::DriftConfig,
    /// How the model is trained.
    #[serde(default)]
    pub train: TrainConfig,
    /// Rules a candidate must pass to be promoted, by metric name.
    #[serde(default)]
    pub gate: IndexMap<String, GateRule>,
    /// What `validate-model` checks besides loading and predicting: budgets, metric
    /// limits, slice gaps, expected classes.
    #[serde(default)]
    pub validate: ValidateConfig,
    /// Where the production pointer lives and how promotions are proposed.
    #[serde(default)]
    pub promote: PromoteConfig,
}

/// Checks of `validate-model`; every one given must hold.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateConfig {
    /// Most milliseconds to predict 1 000 rows (measured on up to 1 000 evaluation rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_latency_ms_per_1000_rows: Option<f64>,
    /// Largest artifact, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_artifact_bytes: Option<u64>,
    /// Metric limits on the evaluation data: at least this for higher-is-better metrics,
    /// at most this for lower-is-better ones.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub limits: IndexMap<String, f64>,
    /// Columns of the evaluation data whose values define slices (e.g. `region`); the
    /// metrics are reported per slice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slices: Vec<String>,
    /// Largest allowed gap between the best and the worst slice, by metric.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub max_slice_gap: IndexMap<String, f64>,
    /// Classification: the classes the model must predict, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_classes: Option<Vec<String>>,
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
    /// Training backend: `builtin` (in-process), `command` (the team's own code, see
    /// `command`) or `sagemaker` (a SageMaker training job, see `sagemaker`).
    #[serde(default)]
    pub backend: Backend,
    /// The `command` backend: the team's own training and prediction commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandConfig>,
    /// The `sagemaker` backend: the training job, its registry group and batch transform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sagemaker: Option<super::sagemaker::SageMakerConfig>,
    /// Built-in algorithm: `logistic_regression`, `ridge`, `linear_regression`, `random_forest`
    /// or `gradient_boosting`. Default: `logistic_regression` for classification, `ridge` for regression.
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
    Command,
    Sagemaker,
}

/// The team's own code, run under the contract of docs/training.md.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandConfig {
    /// Shell command that trains, run by `sh -c` in the folder of mlgate.yaml.
    pub train: String,
    /// Shell command that scores a CSV file with a trained model (for evaluation and `predict`).
    pub predict: String,
    /// Seconds a command may run before it is stopped. Default 3600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Parameters handed to the commands as a JSON object in `MLGATE_PARAMS`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub params: IndexMap<String, serde_json::Value>,
    /// Seed handed to the commands in `MLGATE_SEED`. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// L2-regularised logistic regression (binary or multinomial); classification.
    LogisticRegression,
    /// Ridge (L2-regularised least squares); regression.
    Ridge,
    /// Ordinary least squares; regression.
    LinearRegression,
    /// Random forest (bootstrap, random feature subsets); classification or regression.
    RandomForest,
    /// Histogram gradient-boosted trees; classification or regression.
    GradientBoosting,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::LogisticRegression => "logistic_regression",
            Algorithm::Ridge => "ridge",
            Algorithm::LinearRegression => "linear_regression",
            Algorithm::RandomForest => "random_forest",
            Algorithm::GradientBoosting => "gradient_boosting",
        }
    }
    /// The task the algorithm is limited to, if any.
    pub fn task(self) -> Option<Task> {
        match self {
            Algorithm::LogisticRegression => Some(Task::Classification),
            Algorithm::Ridge | Algorithm::LinearRegression => Some(Task::Regression),
            Algorithm::RandomForest | Algorithm::GradientBoosting => None,
        }
    }
    /// Tree ensembles take raw values; linear models standardised, one-hot features.
    pub fn is_tree_ensemble(self) -> bool {
        matches!(self, Algorithm::RandomForest | Algorithm::GradientBoosting)
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
    /// logistic_regression: the optimiser stops once no entry of the (mean-loss)
    /// objective's gradient exceeds this (scikit-learn's `tol`). Default 1e-4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tol: Option<f64>,
    /// logistic_regression, random_forest, gradient_boosting (classification): `balanced`
    /// weighs classes inversely to their frequency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_weight: Option<ClassWeight>,
    /// random_forest: number of trees. Default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_estimators: Option<usize>,
    /// gradient_boosting: most boosting iterations. Default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iterations: Option<usize>,
    /// gradient_boosting: shrinkage of each tree. Default 0.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    /// random_forest, gradient_boosting: deepest a tree grows. Default: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_depth: Option<usize>,
    /// gradient_boosting: most leaves per tree. Default 31.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_leaf_nodes: Option<usize>,
    /// random_forest, gradient_boosting: fewest training rows in a leaf. Default 1 (forest), 20 (boosting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_samples_leaf: Option<usize>,
    /// random_forest: fraction of features tried at each split. Default √features for
    /// classification, all for regression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_features: Option<f64>,
    /// gradient_boosting: L2 penalty on leaf values. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2_regularization: Option<f64>,
    /// random_forest, gradient_boosting: most bins per feature (2–255). Default 255.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bins: Option<usize>,
    /// gradient_boosting: hold out `validation_fraction` of the training rows and stop when
    /// `n_iter_no_change` iterations bring no improvement. Default: on above 10 000 rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<bool>,
    /// gradient_boosting: fraction held out for early stopping. Default 0.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_fraction: Option<f64>,
    /// gradient_boosting: iterations without improvement before stopping. Default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_iter_no_change: Option<usize>,
    /// random_forest, gradient_boosting: seed of every random draw. Default 0; the same
    /// seed, data and parameters give the same artifact on any machine and thread count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
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

/// The forge: GitHub, GitLab or the local git repository. Defaults come from the CI.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgeConfig {
    /// `auto` (from the CI: GitHub Actions ⇒ github, GitLab CI ⇒ gitlab, else local),
    /// `github`, `gitlab` or `local`.
    #[serde(default)]
    pub provider: Provider,
    /// API base URL, for GitHub Enterprise Server (`https://HOST/api/v3`) or self-hosted
    /// GitLab (`https://HOST`). Default: from the CI, else github.com / gitlab.com.
    #[serde(default)]
    pub url: Option<String>,
    /// `owner/repo` on GitHub, `group/project` (or its numeric id) on GitLab.
    /// Default: from the CI (`GITHUB_REPOSITORY`, `CI_PROJECT_PATH`).
    #[serde(default)]
    pub repository: Option<String>,
    /// Branch promotion pull requests target. Default: the repository's default branch
    /// as the CI reports it, else `main`.
    #[serde(default)]
    pub base: Option<String>,
    /// Labels put on promotion pull requests.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Users asked to review promotion pull requests (logins / usernames).
    #[serde(default)]
    pub reviewers: Vec<String>,
    /// Open promotion pull requests as drafts.
    #[serde(default)]
    pub draft: bool,
    /// The folder of this mlgate.yaml in the repository (e.g. `ml/churn`), for runs
    /// without a checkout, which read the pointer and its history through the forge's
    /// API. Default: the repository's root. A checkout finds it itself.
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    #[default]
    Auto,
    Github,
    Gitlab,
    Local,
}

/// The metrics of classifiers, in report order (`brier` only for binary problems): the
/// names `evaluate::metrics::classification` returns.
pub const CLASSIFICATION_METRICS: &[&str] = &[
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "f1_weighted",
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
];

/// The metrics of regression models, in report order.
pub const REGRESSION_METRICS: &[&str] = &["rmse", "mae", "r2", "mape"];

impl Task {
    /// The metric names this task's models report.
    pub fn metric_names(self) -> &'static [&'static str] {
        match self {
            Task::Classification => CLASSIFICATION_METRICS,
            Task::Regression => REGRESSION_METRICS,
        }
    }
}

/// Whether a larger value of `metric` is better; `None` for unknown names.
pub fn is_higher_better(metric: &str) -> Option<bool> {
    match metric {
        "accuracy" | "balanced_accuracy" | "precision" | "recall" | "f1" | "precision_macro"
        | "recall_macro" | "f1_macro" | "f1_weighted" | "roc_auc" | "pr_auc" | "r2" => Some(true),
        "log_loss" | "brier" | "rmse" | "mae" | "mape" => Some(false),
        _ => None,
    }
}
