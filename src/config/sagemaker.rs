//! The `train.sagemaker` section of mlgate.yaml: the training job, the model package
//! group it registers in, and the batch-transform settings used by `predict --backend
//! sagemaker`.

use super::{ModelConfig, Project};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const DEFAULT_INSTANCE_TYPE: &str = "ml.m5.xlarge";
pub const DEFAULT_XGBOOST_VERSION: &str = "1.7-1";

/// A SageMaker training job from config. Every key but `role_arn` has a default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SageMakerConfig {
    /// IAM role SageMaker assumes for the job (`arn:aws:iam::ACCOUNT:role/NAME`).
    pub role_arn: String,
    /// Training (and inference) image of the team's own container (ECR URI). Give this
    /// or `algorithm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// A SageMaker built-in algorithm, its image looked up for the region: `xgboost`.
    /// mlgate then writes the channels in the algorithm's format (headerless CSV, target
    /// first) and maps its metrics (`validation:auc` ⇒ `roc_auc`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<BuiltinAlgorithm>,
    /// Version of the built-in algorithm's image. Default `1.7-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm_version: Option<String>,
    /// Instance type. Default `ml.m5.xlarge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// Instances (more than one trains distributed). Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_count: Option<i32>,
    /// Storage volume per instance, in GB. Default 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_size_gb: Option<i32>,
    /// Longest the job may run before SageMaker stops it. Default 86400 (a day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime_seconds: Option<i32>,
    /// Train on managed spot instances (cheaper, may be interrupted and resumed from
    /// checkpoints).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spot: bool,
    /// Spot only: longest to wait for spot capacity plus training. Default: twice
    /// `max_runtime_seconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wait_seconds: Option<i32>,
    /// Spot only: where the job saves checkpoints (`s3://…`). Default: under
    /// `output_path`, per job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_uri: Option<String>,
    /// Hyperparameters handed to the container (values become strings). For `xgboost`,
    /// `objective`, `eval_metric`, `num_class` and `num_round` default from the task.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub hyperparameters: IndexMap<String, serde_json::Value>,
    /// Input channels by name (`s3://…` prefixes or objects). Default: `train` and
    /// `validation` from `data.train` and `data.eval`, uploaded to the store's `data/`
    /// (content-addressed) when they are local files.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub channels: IndexMap<String, String>,
    /// How channel data reaches the instances: `fully_replicated` (each gets all of it,
    /// the default) or `sharded_by_s3_key` (distributed training: each gets a share of
    /// the objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_distribution: Option<DataDistribution>,
    /// Content type of the channels. Default `text/csv` for CSV data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Where jobs write their output (`s3://…`). Default: `<store>/sagemaker` (the store
    /// must then be `s3://`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_path: Option<String>,
    /// Subnets to run the job in (with `security_group_ids`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
    /// Security groups for the job's network interfaces (with `subnets`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_group_ids: Vec<String>,
    /// KMS key encrypting the job's output and storage volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// Tags put on the training job, model and transform jobs.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub tags: IndexMap<String, String>,
    /// mlgate metric name ⇒ the job's metric name in its final metrics (e.g. `roc_auc:
    /// "validation:auc"`). Defaults for `xgboost`. A `metrics.json` at the top of the
    /// model artifact, with mlgate's metric names, is read too.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub metrics: IndexMap<String, String>,
    /// Custom images: metric name ⇒ regular expression SageMaker applies to the job's
    /// log to extract it.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub metric_definitions: IndexMap<String, String>,
    /// US dollars per instance-hour by instance type, for the cost estimate shown while
    /// jobs run (e.g. `ml.m5.xlarge: 0.23`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub prices: IndexMap<String, f64>,
    /// Seconds between status checks while waiting. Default 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_seconds: Option<f64>,
    /// Model Registry group the model's versions are registered in. Default: the model's
    /// name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_package_group: Option<String>,
    /// Batch transform (`mlgate predict --backend sagemaker`).
    #[serde(default)]
    pub transform: TransformConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataDistribution {
    FullyReplicated,
    ShardedByS3Key,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BuiltinAlgorithm {
    /// SageMaker's XGBoost container.
    Xgboost,
}

/// A batch-transform job on a model version.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransformConfig {
    /// Instance type. Default `ml.m5.xlarge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// Instances. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_count: Option<i32>,
    /// Largest request sent to the container, in MB. Default 6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_payload_mb: Option<i32>,
    /// Parallel requests per instance. Default: SageMaker's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_transforms: Option<i32>,
    /// How input files are split into records: `line` or `none`. Default `line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_type: Option<SplitType>,
    /// `multi_record` (as many records per request as fit) or `single_record`. Default
    /// `multi_record`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_strategy: Option<BatchStrategy>,
    /// `input` joins each prediction to its input record; `none` writes predictions only.
    /// Default `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_source: Option<JoinSource>,
    /// How output records are assembled: `line` or `none`. Default `line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assemble_with: Option<SplitType>,
    /// MIME type of the output. Default: the container's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<String>,
    /// Where predictions are written (`s3://…`). Default: `<store>/sagemaker/transform`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_path: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SplitType {
    Line,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchStrategy {
    MultiRecord,
    SingleRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JoinSource {
    Input,
    None,
}

impl SageMakerConfig {
    pub fn instance_type(&self) -> &str {
        self.instance_type
            .as_deref()
            .unwrap_or(DEFAULT_INSTANCE_TYPE)
    }
    pub fn instance_count(&self) -> i32 {
        self.instance_count.unwrap_or(1)
    }
    pub fn max_runtime_seconds(&self) -> i32 {
        self.max_runtime_seconds.unwrap_or(86_400)
    }
    pub fn poll(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.poll_seconds.unwrap_or(30.0).max(0.01))
    }
    pub fn package_group(&self, model: &str) -> String {
        self.model_package_group
            .clone()
            .unwrap_or_else(|| model.to_string())
    }
    /// Estimated US dollars for `seconds` on `count` instances of `instance_type`, when
    /// the price table has it.
    pub fn cost(&self, instance_type: &str, count: i32, seconds: f64) -> Option<f64> {
        self.prices
            .get(instance_type)
            .map(|hourly| hourly * f64::from(count) * seconds / 3600.0)
    }
}

impl TransformConfig {
    pub fn instance_type(&self) -> &str {
        self.instance_type
            .as_deref()
            .unwrap_or(DEFAULT_INSTANCE_TYPE)
    }
    pub fn instance_count(&self) -> i32 {
        self.instance_count.unwrap_or(1)
    }
}

/// What SageMaker would refuse, said before any job is created.
pub(super) fn problems(
    project: &Project,
    model: &ModelConfig,
    sm: &SageMakerConfig,
) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut add = |key: &str, message: String| problems.push((key.to_string(), message));
    let role = regex::Regex::new(r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$").expect("valid regex");
    if !role.is_match(&sm.role_arn) {
        add(
            "role_arn",
            format!(
                "`{}` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                sm.role_arn
            ),
        );
    }
    match (&sm.image, sm.algorithm) {
        (None, None) => add(
            "image",
            "give `image` (your container's ECR URI) or `algorithm: xgboost`".into(),
        ),
        (Some(_), Some(_)) => add("algorithm", "give `image` or `algorithm`, not both".into()),
        _ => {}
    }
    for (key, value) in [
        ("instance_count", sm.instance_count),
        ("volume_size_gb", sm.volume_size_gb),
        ("max_runtime_seconds", sm.max_runtime_seconds),
        ("max_wait_seconds", sm.max_wait_seconds),
        ("transform.instance_count", sm.transform.instance_count),
        ("transform.max_payload_mb", sm.transform.max_payload_mb),
    ] {
        if value.is_some_and(|v| v < 1) {
            add(key, "must be at least 1".into());
        }
    }
    if let (Some(wait), true) = (sm.max_wait_seconds, sm.spot) {
        if wait < sm.max_runtime_seconds() {
            add(
                "max_wait_seconds",
                format!(
                    "must be at least max_runtime_seconds ({})",
                    sm.max_runtime_seconds()
                ),
            );
        }
    }
    if !sm.spot && (sm.max_wait_seconds.is_some() || sm.checkpoint_uri.is_some()) {
        add(
            "spot",
            "`max_wait_seconds` and `checkpoint_uri` apply to spot training: set `spot: true`"
                .into(),
        );
    }
    let s3_store = project.config.store.starts_with("s3://");
    if !s3_store && sm.output_path.is_none() {
        add(
            "output_path",
            "required unless the store is `s3://…` (jobs write their output there)".into(),
        );
    }
    if !s3_store && sm.channels.is_empty() {
        add(
            "channels",
            "required unless the store is `s3://…` (mlgate uploads the model's data there)".into(),
        );
    }
    let uris = sm
        .channels
        .iter()
        .map(|(k, v)| (format!("channels.{k}"), v))
        .chain(
            sm.output_path
                .iter()
                .map(|v| ("output_path".to_string(), v)),
        )
        .chain(
            sm.checkpoint_uri
                .iter()
                .map(|v| ("checkpoint_uri".to_string(), v)),
        )
        .chain(
            sm.transform
                .output_path
                .iter()
                .map(|v| ("transform.output_path".to_string(), v)),
        );
    for (key, uri) in uris {
        if super::uri::split_s3(uri).is_none() {
            add(
                &key,
                format!("`{uri}` is not an S3 location (s3://BUCKET/PREFIX)"),
            );
        }
    }
    if sm.algorithm.is_some() && sm.transform.join_source == Some(JoinSource::Input) {
        add(
            "transform.join_source",
            "with `algorithm: xgboost` mlgate joins predictions to the input itself; leave `join_source` out".into(),
        );
    }
    let known = model.task.metric_names();
    for metric in sm.metrics.keys() {
        if !known.contains(&metric.as_str()) {
            let hint = super::suggest::did_you_mean(metric, known.iter().copied());
            add(
                &format!("metrics.{metric}"),
                format!("`{metric}` is not a {} metric{hint}", model.task.as_str()),
            );
        }
    }
    if sm.poll_seconds.is_some_and(|p| p.is_nan() || p <= 0.0) {
        add("poll_seconds", "must be above 0".into());
    }
    problems
}
