//! Batch transform: score a file with a SageMaker-trained version. The SageMaker model
//! and the transform job are named after the version and the input's content, so the
//! same file scored twice (a redelivered upload event, a rerun step) starts one job.

use super::training::{already_exists, not_found, tags};
use super::{jobs, join_s3, resource_name, Clients};
use super::{BatchStrategy, JoinSource, SageMakerConfig, SplitType as Split};
use crate::cloud::aws;
use crate::error::{Error, Result};
use crate::model::{Estimator, SageMakerInput};
use crate::store::versions::Version;
use crate::store::Store;
use aws_sdk_sagemaker::operation::describe_transform_job::DescribeTransformJobOutput;
use aws_sdk_sagemaker::types::{
    AssemblyType, ContainerDefinition, DataProcessing, S3DataType, SplitType, TransformDataSource,
    TransformInput, TransformInstanceType, TransformJobStatus, TransformOutput, TransformResources,
    TransformS3DataSource,
};
use serde_json::json;
use sha2::{Digest, Sha256};

/// What to score: bytes to upload, or an object already in S3 that needs no encoding.
pub struct Input<'a> {
    /// The bytes sent to the container (for `xgboost`, its encoded features); uploaded to
    /// the store unless `uri` holds them already.
    pub bytes: Option<Vec<u8>>,
    /// Where the input already is in S3.
    pub uri: Option<&'a str>,
    /// What names the content in the job's identity: its SHA-256, or an upload's identity.
    pub digest: String,
}

impl Input<'_> {
    /// Bytes named by their SHA-256, optionally already in S3 at `uri`.
    pub fn bytes(bytes: Vec<u8>, uri: Option<&str>) -> Input<'_> {
        let digest = hex::encode(Sha256::digest(&bytes));
        Input {
            bytes: Some(bytes),
            uri,
            digest,
        }
    }
}

/// A transform job started (or found already running) for an input.
#[derive(Debug, Clone)]
pub struct Started {
    pub job: String,
    /// Where the job writes its predictions (a folder).
    pub output_path: String,
    /// The predictions object: the input's file name with `.out`.
    pub output_uri: String,
}

/// A finished transform.
#[derive(Debug, Clone)]
pub struct Finished {
    pub job: String,
    /// The predictions object.
    pub output_uri: String,
    /// Its content.
    pub output: Vec<u8>,
}

/// Scores `input` and waits for the predictions.
pub async fn run(
    clients: &Clients,
    cfg: &SageMakerConfig,
    store: &dyn Store,
    model: &str,
    version: &Version,
    input: Input<'_>,
) -> Result<Finished> {
    let started = start(clients, cfg, store, model, version, input, None).await?;
    let label = format!("transform job {}", started.job);
    let t = &cfg.transform;
    let cost = |s: f64| cfg.cost(t.instance_type(), t.instance_count(), s);
    jobs::wait(&label, cfg.poll(), cost, || async {
        let found = describe(clients, &started.job)
            .await?
            .ok_or_else(|| Error::external(format!("{label} disappeared while waiting for it")))?;
        Ok(observe(&found))
    })
    .await?;
    let output = download(clients, &started.output_uri, &label).await?;
    Ok(Finished {
        job: started.job,
        output_uri: started.output_uri,
        output,
    })
}

/// Starts the transform job for `input`, or finds the one already started for it, and
/// returns without waiting. Predictions go under `output_root` (default: the transform
/// settings' `output_path`, else the store's `sagemaker/transform/`).
pub async fn start(
    clients: &Clients,
    cfg: &SageMakerConfig,
    store: &dyn Store,
    model: &str,
    version: &Version,
    input: Input<'_>,
    output_root: Option<String>,
) -> Result<Started> {
    let Estimator::SageMaker {
        image, model_data, ..
    } = &version.model.estimator
    else {
        return Err(Error::input(format!(
            "version `{}` of `{model}` was not trained by SageMaker: score it with `mlgate predict` (the local backend)",
            version.manifest.version
        )));
    };
    let id = &version.manifest.version;
    let sm_model = ensure_model(clients, cfg, model, id, image, model_data).await?;
    let digest = input.digest;
    let input_uri = match (input.uri, input.bytes) {
        (Some(uri), _) => uri.to_string(),
        (None, Some(bytes)) => {
            let key = format!("data/sha256-{digest}/input.csv");
            store.put_if_absent(&key, &bytes).await?;
            join_s3(&store.uri(), &key)
        }
        (None, None) => return Err(Error::input("a transform input needs bytes or an S3 URI")),
    };
    let t = &cfg.transform;
    let output_root = match (
        output_root,
        &t.output_path,
        store.uri().starts_with("s3://"),
    ) {
        (Some(root), _, _) => root.trim_end_matches('/').to_string(),
        (None, Some(path), _) => path.trim_end_matches('/').to_string(),
        (None, None, true) => join_s3(&store.uri(), "sagemaker/transform"),
        (None, None, false) => {
            return Err(Error::config(
                "train.sagemaker.transform.output_path is required when the store is not s3://",
            ))
        }
    };
    let identity = json!({"version": id, "input": digest, "uri": input_uri, "transform": t});
    let base = resource_name("bt", model, &identity);
    let (job, found) = jobs::attempt("transform job", &base, |name| async move {
        Ok(describe(clients, &name).await?.map(|d| observe(&d)))
    })
    .await?;
    let label = format!("transform job {job}");
    let output_path = join_s3(&output_root, &job);
    match found {
        Some(status) => eprintln!("{label}: already exists ({status}), attaching to it"),
        None => {
            create(clients, cfg, &job, &sm_model, &input_uri, &output_path).await?;
            eprintln!(
                "{label}: started ({} × {})",
                t.instance_count(),
                t.instance_type()
            );
        }
    }
    let name = input_uri.rsplit('/').next().unwrap_or("input.csv");
    let output_uri = join_s3(&output_path, &format!("{name}.out"));
    Ok(Started {
        job,
        output_path,
        output_uri,
    })
}

/// The SageMaker model of a version, created once.
async fn ensure_model(
    clients: &Clients,
    cfg: &SageMakerConfig,
    model: &str,
    version: &str,
    image: &str,
    model_data: &str,
) -> Result<String> {
    let name = resource_name("m", model, &json!({ "version": version, "image": image }));
    match clients
        .sagemaker
        .describe_model()
        .model_name(&name)
        .send()
        .await
    {
        Ok(_) => return Ok(name),
        Err(e) if not_found(&e) => {}
        Err(e) => {
            return Err(aws::error(
                &format!("cannot read SageMaker model {name}"),
                e,
            ))
        }
    }
    let mut create = clients
        .sagemaker
        .create_model()
        .model_name(&name)
        .execution_role_arn(&cfg.role_arn)
        .primary_container(
            ContainerDefinition::builder()
                .image(image)
                .model_data_url(model_data)
                .environment("MLGATE_VERSION", version)
                .build(),
        );
    for tag in tags(cfg) {
        create = create.tags(tag);
    }
    match create.send().await {
        Ok(_) => Ok(name),
        Err(e) if already_exists(&e) => Ok(name),
        Err(e) => Err(aws::error(
            &format!("cannot create SageMaker model {name}"),
            e,
        )),
    }
}

async fn create(
    clients: &Clients,
    cfg: &SageMakerConfig,
    job: &str,
    sm_model: &str,
    input_uri: &str,
    output_path: &str,
) -> Result<()> {
    let t = &cfg.transform;
    let split = match t.split_type.unwrap_or(Split::Line) {
        Split::Line => SplitType::Line,
        Split::None => SplitType::None,
    };
    let assemble = match t.assemble_with.unwrap_or(Split::Line) {
        Split::Line => AssemblyType::Line,
        Split::None => AssemblyType::None,
    };
    let strategy = match t.batch_strategy.unwrap_or(BatchStrategy::MultiRecord) {
        BatchStrategy::MultiRecord => aws_sdk_sagemaker::types::BatchStrategy::MultiRecord,
        BatchStrategy::SingleRecord => aws_sdk_sagemaker::types::BatchStrategy::SingleRecord,
    };
    let join = match t.join_source.unwrap_or(JoinSource::None) {
        JoinSource::Input => aws_sdk_sagemaker::types::JoinSource::Input,
        JoinSource::None => aws_sdk_sagemaker::types::JoinSource::None,
    };
    let mut request = clients
        .sagemaker
        .create_transform_job()
        .transform_job_name(job)
        .model_name(sm_model)
        .batch_strategy(strategy)
        .max_payload_in_mb(t.max_payload_mb.unwrap_or(6))
        .set_max_concurrent_transforms(t.max_concurrent_transforms)
        .transform_input(
            TransformInput::builder()
                .data_source(
                    TransformDataSource::builder()
                        .s3_data_source(
                            TransformS3DataSource::builder()
                                .s3_data_type(S3DataType::S3Prefix)
                                .s3_uri(input_uri)
                                .build(),
                        )
                        .build(),
                )
                .content_type(
                    cfg.content_type
                        .clone()
                        .unwrap_or_else(|| "text/csv".into()),
                )
                .split_type(split)
                .build(),
        )
        .transform_output(
            TransformOutput::builder()
                .s3_output_path(output_path)
                .set_accept(t.accept.clone())
                .assemble_with(assemble)
                .set_kms_key_id(cfg.kms_key_id.clone())
                .build(),
        )
        .transform_resources(
            TransformResources::builder()
                .instance_type(TransformInstanceType::from(t.instance_type()))
                .instance_count(t.instance_count())
                .set_volume_kms_key_id(cfg.kms_key_id.clone())
                .build(),
        )
        .data_processing(DataProcessing::builder().join_source(join).build());
    for tag in tags(cfg) {
        request = request.tags(tag);
    }
    match request.send().await {
        Ok(_) => Ok(()),
        Err(e) if already_exists(&e) => Ok(()),
        Err(e) => Err(aws::error(&format!("cannot start transform job {job}"), e)),
    }
}

async fn describe(clients: &Clients, job: &str) -> Result<Option<DescribeTransformJobOutput>> {
    match clients
        .sagemaker
        .describe_transform_job()
        .transform_job_name(job)
        .send()
        .await
    {
        Ok(found) => Ok(Some(found)),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(aws::error(&format!("cannot read transform job {job}"), e)),
    }
}

fn observe(job: &DescribeTransformJobOutput) -> jobs::Observation {
    let reason = || {
        job.failure_reason()
            .unwrap_or("no reason given")
            .to_string()
    };
    let state = match job.transform_job_status() {
        Some(TransformJobStatus::Completed) => jobs::State::Completed,
        Some(TransformJobStatus::Failed) => jobs::State::Failed(reason()),
        Some(TransformJobStatus::Stopped) => jobs::State::Stopped(reason()),
        _ => jobs::State::Running,
    };
    let start = job.transform_start_time().and_then(jobs::system_time);
    let end = job.transform_end_time().and_then(jobs::system_time);
    jobs::Observation {
        state,
        status: job
            .transform_job_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        detail: String::new(),
        created: job.creation_time().and_then(jobs::system_time),
        billable_seconds: jobs::seconds_since(start, end),
    }
}

async fn download(clients: &Clients, uri: &str, label: &str) -> Result<Vec<u8>> {
    let (bucket, key) = super::split_s3(uri)?;
    let store = crate::store::S3Store::new(clients.s3.clone(), bucket, "");
    store.get(key).await?.ok_or_else(|| {
        Error::external(format!(
            "{label} completed but wrote no predictions at {uri}"
        ))
    })
}

/// The bytes a version's container is sent for a frame: encoded features for the
/// built-in XGBoost, the file as it is for the team's own container.
pub fn input_bytes(
    version: &Version,
    frame: &crate::data::Frame,
    path: &std::path::Path,
) -> Result<Vec<u8>> {
    match &version.model.estimator {
        Estimator::SageMaker {
            input: SageMakerInput::Xgboost,
            ..
        } => {
            let mut bytes = Vec::new();
            super::xgboost::write_inference_csv(&version.model.features, frame, &mut bytes)?;
            Ok(bytes)
        }
        _ => std::fs::read(path).map_err(|e| Error::read(path, e)),
    }
}
