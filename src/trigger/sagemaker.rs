//! Through SageMaker, from an upload: `retrain: {via: sagemaker}` starts the model's
//! training job and returns (a job outlives an invocation); the job's state-change event
//! (EventBridge) brings the function back to record the candidate, compare it with
//! production and propose it. The job's name ties the two: `triggers/sagemaker/<job>.json`
//! keeps what finishing needs. `batch-transform` of a SageMaker-trained production
//! version starts its transform job on the object where it lies.

use super::claim::{self, Ran};
use super::{ActionRecord, Notice, ObjectCreated, Outcome, Record};
use crate::cloud::sagemaker::training::StartedJob;
use crate::cloud::sagemaker::transform;
use crate::config::triggers::TriggerRule;
use crate::config::ModelConfig;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{Estimator, SageMakerInput};
use crate::steps;
use crate::store::versions::Version;
use crate::train::TrainRequest;
use serde::{Deserialize, Serialize};

/// What an upload started: kept until the job's completion event finishes it.
#[derive(Debug, Serialize, Deserialize)]
struct Training {
    model: String,
    rule: String,
    object: String,
    at: String,
    started: StartedJob,
}

fn training_key(job: &str) -> String {
    format!("triggers/sagemaker/{job}.json")
}

/// Starts (or finds) the model's training job on its configured data; returns the detail
/// to record.
pub(super) async fn start_training(
    ctx: &Ctx,
    rule_name: &str,
    rule: &TriggerRule,
    model: &ModelConfig,
    object: &ObjectCreated,
) -> Result<String> {
    if let Some((key, message)) = rule.model_problem(model) {
        return Err(Error::config(format!("{key}: {message}")));
    }
    let files = ctx.data_files(model).await?;
    let frame = ctx
        .read_frame(model, &model.data.train, crate::train::read_kinds(model))
        .await?;
    let trainer = steps::sagemaker_trainer(ctx, model, files).await?;
    let started = trainer
        .start(&TrainRequest {
            name: &rule.model,
            config: model,
            train: &frame,
        })
        .await?;
    let job = started.job.clone();
    let training = Training {
        model: rule.model.clone(),
        rule: rule_name.into(),
        object: object.uri(),
        at: super::now(),
        started,
    };
    let bytes = serde_json::to_vec_pretty(&training).unwrap_or_default();
    // Another upload with the same training data started the same job: one record.
    ctx.store.put_if_absent(&training_key(&job), &bytes).await?;
    Ok(format!(
        "started SageMaker training job {job} on {}; its completion event records the candidate, compares it and proposes it",
        model.data.train
    ))
}

/// A training job changed state: a job mlgate started that completed is finished once
/// (train's recording, compare, promote); a failed or stopped one is recorded; anything
/// else is acknowledged.
pub(super) async fn job_changed(
    ctx: &Ctx,
    notice: &Notice,
    job: &str,
    status: &str,
    failure: Option<&str>,
) -> Record {
    let training = match ctx.store.get(&training_key(job)).await {
        Ok(Some(bytes)) => match serde_json::from_slice::<Training>(&bytes) {
            Ok(t) => t,
            Err(e) => {
                let why = format!("{}: not a training record: {e}", training_key(job));
                return Record::new(notice.clone(), None, Outcome::Failed, why);
            }
        },
        Ok(None) => {
            let why = format!("training job {job} was not started by an mlgate trigger");
            return Record::new(notice.clone(), None, Outcome::Ignored, why);
        }
        Err(e) => {
            let outcome = if e.is_transient() {
                Outcome::Retry
            } else {
                Outcome::Failed
            };
            let why = format!("cannot read {}: {e}", training_key(job));
            return Record::new(notice.clone(), None, outcome, why);
        }
    };
    let rule = Some(training.rule.clone());
    let ran = match status {
        "Completed" => {
            let key = format!("triggers/claims/sagemaker/{job}.json");
            claim::run_once(ctx, &key, &training.object, || finish(ctx, &training)).await
        }
        "Failed" | "Stopped" => Ran::new(
            Outcome::Failed,
            format!(
                "training job {job} (started for {}) {}: {}",
                training.object,
                status.to_lowercase(),
                failure.unwrap_or("no reason given")
            ),
        ),
        _ => Ran::new(
            Outcome::Ignored,
            format!("training job {job} is {status}: waiting for it to end"),
        ),
    };
    Record {
        rule,
        ..ran.into_record(notice.clone())
    }
}

/// The candidate of a completed job: recorded like `train` does, compared with
/// production, proposed when it passes. Each step's report goes to the store.
async fn finish(ctx: &Ctx, training: &Training) -> Ran {
    let mut actions = Vec::new();
    let outcome = match finish_steps(ctx, training, &mut actions).await {
        Ok(()) => Outcome::Done,
        Err(e) => {
            actions.push(ActionRecord {
                action: "finish",
                outcome: "error".into(),
                detail: e.to_string(),
            });
            if e.is_transient() {
                Outcome::Retry
            } else {
                Outcome::Failed
            }
        }
    };
    Ran::of_actions(outcome, actions)
}

async fn finish_steps(
    ctx: &Ctx,
    training: &Training,
    actions: &mut Vec<ActionRecord>,
) -> Result<()> {
    let name = &training.model;
    let model = super::actions::model_named(ctx, name)?;
    let files = ctx.data_files(model).await?;
    let train_path = files.train.clone();
    let mut trainer = steps::sagemaker_trainer(ctx, model, files).await?;
    trainer.attach = Some(training.started.clone());
    let job = &training.started.job;
    let mut reports = vec![steps::train_by(ctx, name, model, &train_path, &trainer).await?];
    if reports[0].passed() {
        let compared = steps::compare(ctx, name, model, None).await?;
        // Promote acts on the verdict compare leaves in the report folder.
        ctx.save_report(&compared)?;
        reports.push(compared);
    }
    if reports.len() == 2 && reports[1].passed() {
        reports.push(steps::promote(ctx, name, model).await?);
    }
    for report in &reports {
        let step = report.step;
        let at = format!("triggers/reports/sagemaker/{job}/{step}");
        ctx.store
            .put(&format!("{at}.md"), report.markdown().as_bytes())
            .await?;
        let json = crate::report::json(std::slice::from_ref(report));
        ctx.store
            .put(&format!("{at}.json"), json.as_bytes())
            .await?;
        actions.push(ActionRecord {
            action: step.as_str(),
            outcome: if report.passed() { "passed" } else { "failed" }.into(),
            detail: report.title.clone(),
        });
    }
    Ok(())
}

/// Starts the transform job that scores `object` with the SageMaker-trained production
/// `version`, writing under the rule's predictions prefix; returns the detail to record.
pub(super) async fn start_transform(
    ctx: &Ctx,
    rule: &TriggerRule,
    model: &ModelConfig,
    version: &Version,
    object: &ObjectCreated,
    file: &mut Option<std::path::PathBuf>,
) -> Result<String> {
    let cfg = model.train.sagemaker.as_ref().ok_or_else(|| {
        Error::config(format!(
            "production's version of `{}` was trained by SageMaker, and batch transform needs the model's `train.sagemaker` settings (role, transform)",
            rule.model
        ))
    })?;
    if object.scheme() != "s3" {
        return Err(Error::config(format!(
            "{}: production's version of `{}` was trained by SageMaker, which scores objects in S3 only",
            object.uri(),
            rule.model
        )));
    }
    let clients = ctx.cloud.aws.clients().await?;
    let uri = object.uri();
    let encoded = matches!(
        version.model.estimator,
        Estimator::SageMaker {
            input: SageMakerInput::Xgboost,
            ..
        }
    );
    let input = if encoded {
        // The built-in XGBoost container takes encoded features, not the file.
        let local = super::actions::fetch(ctx, object, file).await?;
        let mut kinds = version.model.column_kinds();
        kinds.remove(&version.model.target);
        let frame = ctx
            .read_frame(model, &local.to_string_lossy(), kinds)
            .await?;
        transform::Input::bytes(transform::input_bytes(version, &frame, &local)?, None)
    } else {
        transform::Input {
            bytes: None,
            uri: Some(&uri),
            digest: object.identity(),
        }
    };
    let root = object.sibling(&format!(
        "{}{}",
        rule.predictions_prefix(),
        object.identity()
    ));
    let store = ctx.store.as_ref();
    let started =
        transform::start(clients, cfg, store, &rule.model, version, input, Some(root)).await?;
    Ok(format!(
        "started transform job {} with production version `{}`; predictions at {}",
        started.job, version.manifest.version, started.output_uri
    ))
}
