//! The `sagemaker` trainer: one CreateTrainingJob from config, named after everything
//! that determines its result (model, commit, image, hyperparameters, data, resources),
//! so a rerun attaches to the job already running or finished instead of paying twice.
//! The finished job's `model.tar.gz` becomes a normal mlgate version: the artifact
//! records its location and digest, the job's metrics and the job's ARN.

use super::{images, jobs, join_s3, resource_name, split_s3, xgboost, Clients, SageMakerConfig};
use super::{BuiltinAlgorithm, DEFAULT_XGBOOST_VERSION};
use crate::cloud::aws;
use crate::config::{Algorithm, Params, Task};
use crate::error::{Error, Result};
use crate::model::{Estimator, Feature, Model, FORMAT};
use crate::store::Store;
use crate::train::{TrainRequest, Trained, Trainer};
use aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput;
use aws_sdk_sagemaker::types::{
    AlgorithmSpecification, Channel, CheckpointConfig, DataSource, MetricDefinition,
    OutputDataConfig, ResourceConfig, S3DataDistribution, S3DataSource, S3DataType,
    StoppingCondition, Tag, TrainingInputMode, TrainingInstanceType, TrainingJobStatus, VpcConfig,
};
use indexmap::IndexMap;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::PathBuf;

pub struct SageMakerTrainer {
    pub config: SageMakerConfig,
    pub clients: Clients,
    /// The project's store: default channels and output live under it.
    pub store_uri: String,
    /// The commit the candidate is trained from: part of the job's identity.
    pub commit: Option<String>,
    /// Local copies of the data files (the validation channel is the evaluation data).
    pub train_path: PathBuf,
    pub eval_path: PathBuf,
    /// A job started earlier (by an upload trigger): finish that one, start nothing.
    pub attach: Option<StartedJob>,
}

/// A training job started for a request: what finishing it needs, kept in the store
/// between the invocation that starts it and the one its completion event brings back.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StartedJob {
    pub job: String,
    pub image: String,
    pub output: String,
    pub features: Vec<Feature>,
    pub classes: Vec<String>,
}

/// A channel's location and a digest of its content, so new data means a new job.
#[derive(Debug, Clone, serde::Serialize)]
struct Source {
    uri: String,
    digest: String,
}

#[async_trait::async_trait]
impl Trainer for SageMakerTrainer {
    fn backend(&self) -> &'static str {
        "sagemaker"
    }

    async fn train(&self, request: &TrainRequest<'_>) -> Result<Trained> {
        let clients = &self.clients;
        let cfg = &self.config;
        let started = match &self.attach {
            Some(started) => started.clone(),
            None => self.start(request).await?,
        };
        let StartedJob {
            job,
            image,
            output,
            features,
            classes,
        } = started;
        let label = format!("training job {job}");
        let finished = self.wait(clients, &job, &label).await?;
        let artifact = finished
            .model_artifacts()
            .and_then(|a| a.s3_model_artifacts())
            .map(str::to_string)
            .unwrap_or_else(|| join_s3(&output, &format!("{job}/output/model.tar.gz")));
        let (sha256, packed_metrics) = inspect_artifact(clients, &artifact, &label).await?;
        let metrics = self.metrics(
            &finished,
            packed_metrics,
            request.config.task,
            classes.len(),
        )?;
        let arn = finished.training_job_arn().unwrap_or_default().to_string();
        let billable = finished.billable_time_in_seconds().unwrap_or(0);
        let mut details = serde_json::Map::new();
        details.insert("job_name".into(), job.clone().into());
        details.insert("job_arn".into(), arn.clone().into());
        details.insert("model_data".into(), artifact.clone().into());
        details.insert("billable_seconds".into(), billable.into());
        if let Some(cost) = cfg.cost(cfg.instance_type(), cfg.instance_count(), billable as f64) {
            details.insert(
                "estimated_cost_usd".into(),
                json!((cost * 100.0).round() / 100.0),
            );
        }
        let positive = match request.config.task {
            Task::Classification => Some(crate::model::labels::positive_index(
                request.config,
                &classes,
            )?),
            Task::Regression => None,
        };
        let model = Model {
            format: FORMAT.into(),
            task: request.config.task,
            algorithm: Algorithm::default_for(request.config.task),
            target: request.config.target.clone(),
            features,
            classes,
            positive,
            params: Params::default(),
            estimator: Estimator::SageMaker {
                image,
                model_data: artifact,
                model_sha256: sha256,
                job_name: job,
                job_arn: arn,
                input: if cfg.algorithm.is_some() {
                    crate::model::SageMakerInput::Xgboost
                } else {
                    crate::model::SageMakerInput::Raw
                },
                metrics,
            },
            workdir: Default::default(),
        };
        Ok(Trained { model, details })
    }
}

impl SageMakerTrainer {
    /// Starts the request's training job, or finds the one already started for the same
    /// inputs, and returns without waiting for it.
    pub async fn start(&self, request: &TrainRequest<'_>) -> Result<StartedJob> {
        let clients = &self.clients;
        let cfg = &self.config;
        let classes = xgboost::classes_of(request.config, request.train)?;
        let features = xgboost::fit_features(request.config, request.train)?;
        let image = self.image(&clients.region)?;
        let output = self.output_path()?;
        let channels = self.channels(clients, request, &features, &classes).await?;
        let hyperparameters = self.hyperparameters(request.config.task, classes.len());
        let commit = &self.commit;
        // What decides the job's result: not how mlgate waits, prices, tags or registers it.
        let identity = json!({
            "model": request.name, "commit": commit, "image": image,
            "hyperparameters": hyperparameters, "channels": channels, "features": features,
            "output": output, "content_type": cfg.content_type,
            "distribution": cfg.data_distribution,
            "instance_type": cfg.instance_type(), "instance_count": cfg.instance_count(),
            "volume_gb": cfg.volume_size_gb, "max_runtime": cfg.max_runtime_seconds(),
            "spot": cfg.spot, "max_wait": cfg.max_wait_seconds, "checkpoints": cfg.checkpoint_uri,
            "subnets": cfg.subnets, "security_groups": cfg.security_group_ids, "kms": cfg.kms_key_id,
            "metric_definitions": cfg.metric_definitions,
        });
        let base = resource_name("", request.name, &identity);
        let (job, found) = jobs::attempt("training job", &base, |name| async move {
            Ok(describe(clients, &name).await?.map(|d| observe(&d)))
        })
        .await?;
        let label = format!("training job {job}");
        match found {
            Some(status) => eprintln!("{label}: already exists ({status}), attaching to it"),
            None => {
                self.create(clients, &job, &image, &output, &channels, &hyperparameters)
                    .await?;
                eprintln!(
                    "{label}: started ({} × {})",
                    cfg.instance_count(),
                    cfg.instance_type()
                );
            }
        }
        Ok(StartedJob {
            job,
            image,
            output,
            features,
            classes,
        })
    }

    fn image(&self, region: &str) -> Result<String> {
        match (&self.config.image, self.config.algorithm) {
            (Some(image), _) => Ok(image.clone()),
            (None, Some(algorithm)) => images::builtin_image(
                algorithm,
                self.config
                    .algorithm_version
                    .as_deref()
                    .unwrap_or(DEFAULT_XGBOOST_VERSION),
                region,
            ),
            (None, None) => Err(Error::config(
                "train.sagemaker needs `image` (your container) or `algorithm: xgboost`",
            )),
        }
    }

    fn output_path(&self) -> Result<String> {
        match &self.config.output_path {
            Some(path) => Ok(path.trim_end_matches('/').to_string()),
            None if self.store_uri.starts_with("s3://") => {
                Ok(join_s3(&self.store_uri, "sagemaker"))
            }
            None => Err(Error::config(
                "train.sagemaker.output_path is required when the store is not s3://",
            )),
        }
    }

    /// Config hyperparameters over the algorithm's defaults, as the strings SageMaker takes.
    fn hyperparameters(&self, task: Task, classes: usize) -> IndexMap<String, String> {
        let mut h = match self.config.algorithm {
            Some(BuiltinAlgorithm::Xgboost) => xgboost::default_hyperparameters(task, classes),
            None => IndexMap::new(),
        };
        for (k, v) in &self.config.hyperparameters {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            h.insert(k.clone(), text);
        }
        h
    }

    /// The configured channels, or `train` and `validation` from the model's data,
    /// written in the algorithm's format and uploaded content-addressed.
    async fn channels(
        &self,
        clients: &Clients,
        request: &TrainRequest<'_>,
        features: &[Feature],
        classes: &[String],
    ) -> Result<IndexMap<String, Source>> {
        let mut out = IndexMap::new();
        if !self.config.channels.is_empty() {
            for (name, uri) in &self.config.channels {
                let digest = prefix_digest(clients, uri).await?;
                out.insert(
                    name.clone(),
                    Source {
                        uri: uri.clone(),
                        digest,
                    },
                );
            }
            return Ok(out);
        }
        let store = self.data_store(clients)?;
        let data = &request.config.data;
        // XGBoost's channels are re-encoded: the evaluation data is read, typed the way
        // the training data was. The team's container takes the files as they are.
        let eval = match self.config.algorithm {
            Some(BuiltinAlgorithm::Xgboost) => {
                let kinds = request
                    .train
                    .names
                    .iter()
                    .filter_map(|n| Some((n.clone(), request.train.column(n)?.kind())))
                    .collect();
                Some(crate::data::Frame::read(
                    &self.eval_path,
                    &Default::default(),
                    &kinds,
                )?)
            }
            None => None,
        };
        for (name, frame, uri, path) in [
            (
                "train",
                eval.as_ref().map(|_| request.train),
                &data.train,
                &self.train_path,
            ),
            ("validation", eval.as_ref(), &data.eval, &self.eval_path),
        ] {
            let bytes = match frame {
                Some(frame) => {
                    let mut bytes = Vec::new();
                    xgboost::write_training_csv(
                        request.config,
                        features,
                        classes,
                        frame,
                        &mut bytes,
                    )?;
                    bytes
                }
                // The team's container reads the data as it is: already in S3, use it there.
                None if crate::store::is_remote(uri) => {
                    let digest = crate::data::fingerprint(path)?;
                    out.insert(
                        name.into(),
                        Source {
                            uri: uri.clone(),
                            digest,
                        },
                    );
                    continue;
                }
                None => std::fs::read(path).map_err(|e| Error::read(path, e))?,
            };
            let digest = hex::encode(Sha256::digest(&bytes));
            let key = format!("data/sha256-{digest}/{name}.csv");
            store.put_if_absent(&key, &bytes).await?;
            let uri = join_s3(&store.uri(), &key);
            out.insert(
                name.into(),
                Source {
                    uri,
                    digest: format!("sha256:{digest}"),
                },
            );
        }
        Ok(out)
    }

    fn data_store(&self, clients: &Clients) -> Result<crate::store::S3Store> {
        let Some((bucket, prefix)) = crate::store::s3::split_uri(&self.store_uri) else {
            return Err(Error::config(
                "train.sagemaker.channels are required when the store is not s3:// \
                 (mlgate uploads the model's data to an s3:// store by itself)",
            ));
        };
        Ok(crate::store::S3Store::new(
            clients.s3.clone(),
            bucket,
            prefix,
        ))
    }

    async fn create(
        &self,
        clients: &Clients,
        job: &str,
        image: &str,
        output: &str,
        channels: &IndexMap<String, Source>,
        hyperparameters: &IndexMap<String, String>,
    ) -> Result<()> {
        let cfg = &self.config;
        let content_type = cfg
            .content_type
            .clone()
            .unwrap_or_else(|| "text/csv".into());
        let distribution = match cfg.data_distribution {
            Some(super::DataDistribution::ShardedByS3Key) => S3DataDistribution::ShardedByS3Key,
            _ => S3DataDistribution::FullyReplicated,
        };
        let mut algorithm = AlgorithmSpecification::builder()
            .training_image(image)
            .training_input_mode(TrainingInputMode::File);
        for (name, regex) in &cfg.metric_definitions {
            algorithm = algorithm
                .metric_definitions(MetricDefinition::builder().name(name).regex(regex).build());
        }
        let mut create = clients
            .sagemaker
            .create_training_job()
            .training_job_name(job)
            .role_arn(&cfg.role_arn)
            .algorithm_specification(algorithm.build())
            .set_hyper_parameters(Some(hyperparameters.clone().into_iter().collect()))
            .output_data_config(
                OutputDataConfig::builder()
                    .s3_output_path(output)
                    .set_kms_key_id(cfg.kms_key_id.clone())
                    .build(),
            )
            .resource_config(
                ResourceConfig::builder()
                    .instance_type(TrainingInstanceType::from(cfg.instance_type()))
                    .instance_count(cfg.instance_count())
                    .volume_size_in_gb(cfg.volume_size_gb.unwrap_or(30))
                    .set_volume_kms_key_id(cfg.kms_key_id.clone())
                    .build(),
            )
            .stopping_condition(
                StoppingCondition::builder()
                    .max_runtime_in_seconds(cfg.max_runtime_seconds())
                    .set_max_wait_time_in_seconds(cfg.spot.then(|| {
                        cfg.max_wait_seconds
                            .unwrap_or(2 * cfg.max_runtime_seconds())
                    }))
                    .build(),
            )
            .enable_managed_spot_training(cfg.spot);
        for (name, source) in channels {
            create = create.input_data_config(channel(
                name,
                &source.uri,
                &content_type,
                distribution.clone(),
            ));
        }
        if cfg.spot {
            let uri = cfg
                .checkpoint_uri
                .clone()
                .unwrap_or_else(|| join_s3(output, &format!("checkpoints/{job}")));
            create = create.checkpoint_config(CheckpointConfig::builder().s3_uri(uri).build());
        }
        if !cfg.subnets.is_empty() || !cfg.security_group_ids.is_empty() {
            create = create.vpc_config(
                VpcConfig::builder()
                    .set_subnets(Some(cfg.subnets.clone()))
                    .set_security_group_ids(Some(cfg.security_group_ids.clone()))
                    .build(),
            );
        }
        for tag in tags(cfg) {
            create = create.tags(tag);
        }
        match create.send().await {
            Ok(_) => Ok(()),
            // A concurrent run created it first: attach to that one.
            Err(e) if already_exists(&e) => Ok(()),
            Err(e) => Err(aws::error(&format!("cannot start training job {job}"), e)),
        }
    }

    async fn wait(
        &self,
        clients: &Clients,
        job: &str,
        label: &str,
    ) -> Result<DescribeTrainingJobOutput> {
        let cfg = &self.config;
        let cost = |s: f64| cfg.cost(cfg.instance_type(), cfg.instance_count(), s);
        let gone = || Error::external(format!("{label} disappeared while waiting for it"));
        jobs::wait(label, cfg.poll(), cost, || async {
            Ok(observe(&describe(clients, job).await?.ok_or_else(gone)?))
        })
        .await?;
        // Finished jobs no longer change: read the outcome once more in full.
        describe(clients, job).await?.ok_or_else(gone)
    }

    /// The job's final metrics under mlgate's names, then `metrics.json` from the artifact.
    fn metrics(
        &self,
        job: &DescribeTrainingJobOutput,
        packed: Option<serde_json::Map<String, serde_json::Value>>,
        task: Task,
        classes: usize,
    ) -> Result<IndexMap<String, f64>> {
        let names = if self.config.metrics.is_empty() && self.config.algorithm.is_some() {
            xgboost::default_metric_names(task, classes)
        } else {
            self.config.metrics.clone()
        };
        let reported: IndexMap<&str, f64> = job
            .final_metric_data_list()
            .iter()
            .filter_map(|m| Some((m.metric_name()?, f64::from(m.value()?))))
            .collect();
        let mut metrics = IndexMap::new();
        for (ours, theirs) in &names {
            if let Some(v) = reported.get(theirs.as_str()) {
                metrics.insert(ours.clone(), *v);
            }
        }
        for (name, value) in packed.unwrap_or_default() {
            if let Some(v) = value.as_f64() {
                metrics.insert(name, v);
            }
        }
        let known = crate::evaluate::metric_names(task);
        if let Some(unknown) = metrics.keys().find(|m| !known.contains(&m.as_str())) {
            return Err(Error::input(format!(
                "the training job reported `{unknown}`, which is not a {} metric of mlgate ({})",
                task.as_str(),
                known.join(", ")
            )));
        }
        Ok(metrics)
    }
}

fn channel(name: &str, uri: &str, content_type: &str, distribution: S3DataDistribution) -> Channel {
    Channel::builder()
        .channel_name(name)
        .content_type(content_type)
        .data_source(
            DataSource::builder()
                .s3_data_source(
                    S3DataSource::builder()
                        .s3_data_type(S3DataType::S3Prefix)
                        .s3_uri(uri)
                        .s3_data_distribution_type(distribution)
                        .build(),
                )
                .build(),
        )
        .build()
}

pub(super) fn tags(cfg: &SageMakerConfig) -> Vec<Tag> {
    std::iter::once(("managed-by".to_string(), "mlgate".to_string()))
        .chain(cfg.tags.iter().map(|(k, v)| (k.clone(), v.clone())))
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

async fn describe(clients: &Clients, job: &str) -> Result<Option<DescribeTrainingJobOutput>> {
    match clients
        .sagemaker
        .describe_training_job()
        .training_job_name(job)
        .send()
        .await
    {
        Ok(found) => Ok(Some(found)),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(aws::error(&format!("cannot read training job {job}"), e)),
    }
}

/// SageMaker answers "no such resource" with a ValidationException: "Requested resource
/// not found", "Could not find model …", "… does not exist".
pub(super) fn not_found<E, R>(err: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    err.as_service_error().is_some_and(|e| {
        e.code() == Some("ResourceNotFound")
            || (e.code() == Some("ValidationException")
                && e.message().is_some_and(|m| {
                    m.contains("not found")
                        || m.contains("Could not find")
                        || m.contains("does not exist")
                }))
    })
}

/// A create that lost a race with a concurrent run: the resource is there, use it.
pub(super) fn already_exists<E, R>(
    err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    err.as_service_error().is_some_and(|e| {
        e.code() == Some("ResourceInUse")
            || e.message().is_some_and(|m| m.contains("already exist"))
    })
}

fn observe(job: &DescribeTrainingJobOutput) -> jobs::Observation {
    let reason = || {
        job.failure_reason()
            .unwrap_or("no reason given")
            .to_string()
    };
    let state = match job.training_job_status() {
        Some(TrainingJobStatus::Completed) => jobs::State::Completed,
        Some(TrainingJobStatus::Failed) => jobs::State::Failed(reason()),
        Some(TrainingJobStatus::Stopped) => jobs::State::Stopped(
            job.failure_reason()
                .map(str::to_string)
                .or_else(|| job.secondary_status().map(|s| s.as_str().to_string()))
                .unwrap_or_else(|| "stopped".into()),
        ),
        _ => jobs::State::Running,
    };
    let message = job
        .secondary_status_transitions()
        .last()
        .and_then(|t| t.status_message())
        .unwrap_or_default();
    let detail = match job.secondary_status() {
        Some(s) if message.is_empty() => s.as_str().to_string(),
        Some(s) => format!("{}: {message}", s.as_str()),
        None => String::new(),
    };
    let start = job.training_start_time().and_then(jobs::system_time);
    let end = job.training_end_time().and_then(jobs::system_time);
    jobs::Observation {
        state,
        status: job
            .training_job_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        detail,
        created: job.creation_time().and_then(jobs::system_time),
        billable_seconds: job
            .billable_time_in_seconds()
            .map(f64::from)
            .unwrap_or_else(|| jobs::seconds_since(start, end)),
    }
}

/// A digest of the objects under an S3 prefix (keys, sizes, ETags): no download needed
/// to know whether the data changed.
async fn prefix_digest(clients: &Clients, uri: &str) -> Result<String> {
    let (bucket, prefix) = split_s3(uri)?;
    let mut hasher = Sha256::new();
    let mut pages = clients
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut count = 0;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws::error(&format!("cannot list {uri}"), e))?;
        for object in page.contents() {
            hasher.update(format!(
                "{}\t{}\t{}\n",
                object.key().unwrap_or_default(),
                object.size().unwrap_or_default(),
                object.e_tag().unwrap_or_default()
            ));
            count += 1;
        }
    }
    if count == 0 {
        return Err(Error::input(format!("channel {uri} holds no objects")));
    }
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}

/// Downloads the job's artifact to find its digest and any `metrics.json` inside it.
async fn inspect_artifact(
    clients: &Clients,
    uri: &str,
    label: &str,
) -> Result<(String, Option<serde_json::Map<String, serde_json::Value>>)> {
    let (bucket, key) = split_s3(uri)?;
    let store = crate::store::S3Store::new(clients.s3.clone(), bucket, "");
    let tmp = tempfile::NamedTempFile::new()
        .map_err(|e| Error::external(format!("temporary file: {e}")))?;
    if !store.download(key, tmp.path()).await? {
        return Err(Error::external(format!(
            "{label} completed but its model artifact {uri} does not exist"
        ))
        .with_hint("the container must write its model into /opt/ml/model"));
    }
    let mut file = std::fs::File::open(tmp.path()).map_err(|e| Error::read(tmp.path(), e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| Error::read(tmp.path(), e))?;
    let digest = format!("sha256:{}", hex::encode(hasher.finalize()));
    Ok((digest, packed_metrics(tmp.path(), uri)?))
}

/// `metrics.json` at the top of a `model.tar.gz`, if there is one.
fn packed_metrics(
    path: &std::path::Path,
    uri: &str,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
    let file = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let bad = |e: std::io::Error| Error::input(format!("{uri}: not a readable .tar.gz: {e}"));
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let name = entry
            .path()
            .map_err(bad)?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        if name == "metrics.json" {
            let mut text = String::new();
            entry.read_to_string(&mut text).map_err(bad)?;
            return match serde_json::from_str(&text) {
                Ok(serde_json::Value::Object(map)) if map.values().all(|v| v.is_number()) => {
                    Ok(Some(map))
                }
                _ => Err(Error::input(format!(
                    "{uri}: metrics.json must be an object of metric name → number"
                ))),
            };
        }
    }
    Ok(None)
}
