//! A rule's actions on one new object: validate (quarantine a bad file), retrain
//! through CI, score with the production version.

use super::claim::Ran;
use super::{ActionRecord, ObjectCreated, Outcome};
use crate::config::triggers::{Action, RetrainVia, TriggerRule};
use crate::config::ModelConfig;
use crate::context::Ctx;
use crate::error::{Error, Kind, Result};
use crate::forge::Dispatch;
use crate::report::{self, Report, Status, StepName};
use crate::steps::data::{validate_upload, DataInput};
use crate::steps::{PredictBackend, PredictOptions};
use crate::store::{self, Store};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Files past this size are not scored inside a function (memory and time limits).
pub const IN_FUNCTION_SCORING_LIMIT: u64 = 256 << 20;
/// The workflow a `retrain` rule dispatches on GitHub unless it names one.
pub const DEFAULT_RETRAIN_WORKFLOW: &str = "mlgate-retrain.yml";

/// After an action: go on, or stop here with this outcome.
enum Next {
    Continue,
    Stop(Outcome),
}

/// The actions in order; the first that stops or fails ends the run.
pub(super) async fn run(
    ctx: &Ctx,
    rule_name: &str,
    rule: &TriggerRule,
    object: &ObjectCreated,
) -> Ran {
    let mut records = Vec::new();
    let mut file = None;
    for &action in &rule.actions {
        let result = match action {
            Action::Validate => validate(ctx, rule_name, rule, object, &mut file).await,
            Action::Retrain => retrain(ctx, rule_name, rule, object).await,
            Action::BatchTransform => batch_transform(ctx, rule, object, &mut file).await,
        };
        match result {
            Ok((next, detail, outcome)) => {
                records.push(ActionRecord {
                    action: action.as_str(),
                    outcome: outcome.into(),
                    detail,
                });
                if let Next::Stop(o) = next {
                    return Ran::of_actions(o, records);
                }
            }
            Err(e) => {
                let outcome = if e.is_transient() {
                    Outcome::Retry
                } else {
                    Outcome::Failed
                };
                records.push(ActionRecord {
                    action: action.as_str(),
                    outcome: "error".into(),
                    detail: e.to_string(),
                });
                return Ran::of_actions(outcome, records);
            }
        }
    }
    Ran::of_actions(Outcome::Done, records)
}

type Step = Result<(Next, String, &'static str)>;

/// The object, downloaded once per run into the context's scratch folder (for scoring,
/// and Parquet, which is not read as a stream).
pub(super) async fn fetch(
    ctx: &Ctx,
    object: &ObjectCreated,
    file: &mut Option<PathBuf>,
) -> Result<PathBuf> {
    if let Some(f) = file {
        return Ok(f.clone());
    }
    let local = ctx.scratch_file(&format!("{}-{}", object.identity(), object.name()))?;
    let bucket = store::bucket(object.scheme(), &object.bucket, &ctx.cloud).await?;
    if !bucket.download(&object.key, &local).await? {
        return Err(store::gone(&object.uri()));
    }
    *file = Some(local.clone());
    Ok(local)
}

/// Checks the object, as it streams from its bucket where it can (no local copy,
/// whatever its size: a Lambda's disk is small), else from the downloaded file.
async fn check_upload(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    object: &ObjectCreated,
    file: &mut Option<PathBuf>,
) -> Result<Report> {
    let uri = object.uri();
    let input = match file.is_none() && DataInput::streams(&uri) {
        true => DataInput::Remote(uri.clone()),
        false => DataInput::File(fetch(ctx, object, file).await?),
    };
    validate_upload(ctx, name, model, input, &uri).await
}

async fn validate(
    ctx: &Ctx,
    rule_name: &str,
    rule: &TriggerRule,
    object: &ObjectCreated,
    file: &mut Option<PathBuf>,
) -> Step {
    let model = model_of(ctx, rule)?;
    let report = match check_upload(ctx, &rule.model, model, object, file).await {
        Ok(r) => r,
        // A file that cannot be read as data fails validation like a bad row.
        Err(e) if e.kind == Kind::Input => Report::new(
            StepName::ValidateData,
            &rule.model,
            Status::Fail,
            e.message.clone(),
        ),
        Err(e) => return Err(e),
    };
    let md = report.markdown();
    let json = report::json(std::slice::from_ref(&report));
    if report.passed() {
        let at = format!("triggers/reports/{rule_name}/{}", object.identity());
        ctx.store
            .put(&format!("{at}/validate-data.md"), md.as_bytes())
            .await?;
        ctx.store
            .put(&format!("{at}/validate-data.json"), json.as_bytes())
            .await?;
        let detail = format!("{}; report at {}/{at}/", report.title, ctx.store.uri());
        return Ok((Next::Continue, detail, "passed"));
    }
    let bucket = store::bucket(object.scheme(), &object.bucket, &ctx.cloud).await?;
    let relative = rule
        .on
        .prefix
        .as_deref()
        .and_then(|p| object.key.strip_prefix(p))
        .unwrap_or(&object.key);
    let target = format!(
        "{}{}/{relative}",
        rule.quarantine_prefix(),
        object.identity()
    );
    bucket.copy_if_absent(&object.key, &target).await?;
    bucket
        .put_if_absent(&format!("{target}.report.md"), md.as_bytes())
        .await?;
    bucket
        .put_if_absent(&format!("{target}.report.json"), json.as_bytes())
        .await?;
    let detail = format!(
        "{}; copied to {} with its report (the original is untouched)",
        report.title,
        object.sibling(&target)
    );
    Ok((Next::Stop(Outcome::Quarantined), detail, "failed"))
}

async fn retrain(ctx: &Ctx, rule_name: &str, rule: &TriggerRule, object: &ObjectCreated) -> Step {
    let model = model_of(ctx, rule)?;
    let window = debounce_window(rule);
    if let Some(key) = &window {
        if let Some(holder) = take_window(ctx.store.as_ref(), key, object).await? {
            let minutes = rule.retrain.debounce_minutes.unwrap_or_default();
            let detail = format!(
                "this {minutes}-minute window's retraining started for {holder}; it trains on this file if it reads the model's data after the file landed, else the first retraining of a later window does"
            );
            return Ok((Next::Continue, detail, "debounced"));
        }
    }
    if rule.retrain.via == RetrainVia::Sagemaker {
        return match start_training(ctx, rule_name, rule, model, object).await {
            Ok(detail) => Ok((Next::Continue, detail, "started")),
            Err(e) => {
                if let Some(key) = &window {
                    release_window(ctx.store.as_ref(), key).await;
                }
                Err(e)
            }
        };
    }
    let dispatch = Dispatch {
        workflow: rule
            .retrain
            .workflow
            .clone()
            .unwrap_or_else(|| DEFAULT_RETRAIN_WORKFLOW.into()),
        git_ref: rule
            .retrain
            .git_ref
            .clone()
            .or_else(|| ctx.project.config.forge.base.clone())
            .unwrap_or_else(|| "main".into()),
        inputs: BTreeMap::from([
            ("model".to_string(), rule.model.clone()),
            ("object".to_string(), object.uri()),
        ]),
    };
    match ctx.forge()?.dispatch(&dispatch).await {
        Ok(what) => Ok((Next::Continue, what, "dispatched")),
        Err(e) => {
            if let Some(key) = &window {
                release_window(ctx.store.as_ref(), key).await;
            }
            Err(e)
        }
    }
}

#[cfg(feature = "aws")]
use super::sagemaker::start_training;

#[cfg(not(feature = "aws"))]
async fn start_training(
    _: &Ctx,
    _: &str,
    _: &TriggerRule,
    _: &crate::config::ModelConfig,
    _: &ObjectCreated,
) -> Result<String> {
    Err(Error::not_built("`retrain: {via: sagemaker}`", "aws"))
}

/// `triggers/debounce/<model>/<window number>.json`, when the rule debounces.
fn debounce_window(rule: &TriggerRule) -> Option<String> {
    let minutes = i64::from(rule.retrain.debounce_minutes.filter(|&m| m > 0)?);
    let window = chrono::Utc::now().timestamp() / (minutes * 60);
    Some(format!(
        "triggers/debounce/{}/{minutes}m-{window}.json",
        rule.model
    ))
}

/// Takes the window for this upload's retraining (`None`), or says whose retraining holds
/// it (`Some("<object> at <time>")`); a released window is free again.
async fn take_window(
    store: &dyn Store,
    key: &str,
    object: &ObjectCreated,
) -> Result<Option<String>> {
    let taken = serde_json::json!({"object": object.uri(), "at": super::now()}).to_string();
    if store.put_if_absent(key, taken.as_bytes()).await? {
        return Ok(None);
    }
    let holder = store
        .get(key)
        .await?
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .filter(|h| h.get("released").is_none());
    match holder {
        Some(h) => Ok(Some(format!(
            "{} at {}",
            h["object"].as_str().unwrap_or("an earlier upload"),
            h["at"].as_str().unwrap_or("an unknown time")
        ))),
        None => {
            store.put(key, taken.as_bytes()).await?;
            Ok(None)
        }
    }
}

/// A dispatch that failed leaves the window to the next upload (or this one's retry).
async fn release_window(store: &dyn Store, key: &str) {
    let released = serde_json::json!({"released": super::now()}).to_string();
    if let Err(e) = store.put(key, released.as_bytes()).await {
        tracing::warn!("debounce window {key} not released: {e}");
    }
}

async fn batch_transform(
    ctx: &Ctx,
    rule: &TriggerRule,
    object: &ObjectCreated,
    file: &mut Option<PathBuf>,
) -> Step {
    let model = model_of(ctx, rule)?;
    if let Some(detail) = transform_job(ctx, rule, model, object, file).await? {
        return Ok((Next::Continue, detail, "started"));
    }
    if object.size.unwrap_or_default() > IN_FUNCTION_SCORING_LIMIT {
        return Err(Error::config(format!(
            "{} is {} MiB: files over {} MiB are not scored inside the function",
            object.uri(),
            object.size.unwrap_or_default() >> 20,
            IN_FUNCTION_SCORING_LIMIT >> 20
        ))
        .with_hint(format!(
            "score it in CI with `mlgate predict --input {}`, or split the file",
            object.uri()
        )));
    }
    let local = fetch(ctx, object, file).await?;
    let output = ctx.scratch_file(&format!("{}-predictions.csv", object.identity()))?;
    let opts = PredictOptions {
        input: local,
        output: output.clone(),
        version: None,
        backend: PredictBackend::Local,
    };
    let report = crate::steps::predict(ctx, &rule.model, model, &opts).await?;
    let name = object.key.rsplit('/').next().unwrap_or("object");
    let target = format!("{}{}/{name}", rule.predictions_prefix(), object.identity());
    let bytes = std::fs::read(&output).map_err(|e| Error::read(&output, e))?;
    let bucket = store::bucket(object.scheme(), &object.bucket, &ctx.cloud).await?;
    bucket.put_if_absent(&target, &bytes).await?;
    let detail = format!("{}; written to {}", report.title, object.sibling(&target));
    Ok((Next::Continue, detail, "scored"))
}

/// A transform job's detail when production's version was trained by SageMaker (scored
/// there, on the object where it lies); `None` for a version scored in the function.
async fn transform_job(
    ctx: &Ctx,
    rule: &TriggerRule,
    model: &crate::config::ModelConfig,
    object: &ObjectCreated,
    file: &mut Option<PathBuf>,
) -> Result<Option<String>> {
    let Some(id) = ctx.pointer(&rule.model).await?.version else {
        return Err(Error::input(format!(
            "model `{}` has no production version to score with: run `mlgate deploy` after a promotion",
            rule.model
        )));
    };
    let version = ctx.load_version(&rule.model, &id).await?;
    if !matches!(
        version.model.estimator,
        crate::model::Estimator::SageMaker { .. }
    ) {
        return Ok(None);
    }
    #[cfg(feature = "aws")]
    return super::sagemaker::start_transform(ctx, rule, model, &version, object, file)
        .await
        .map(Some);
    #[cfg(not(feature = "aws"))]
    {
        let _ = (model, object, file);
        Err(Error::not_built(
            "batch transform of a SageMaker-trained version",
            "aws",
        ))
    }
}

fn model_of<'a>(ctx: &'a Ctx, rule: &TriggerRule) -> Result<&'a crate::config::ModelConfig> {
    model_named(ctx, &rule.model)
}

pub(super) fn model_named<'a>(ctx: &'a Ctx, name: &str) -> Result<&'a crate::config::ModelConfig> {
    ctx.project.config.models.get(name).ok_or_else(|| {
        Error::config(format!(
            "a trigger rule names model `{name}`, which the published config does not have"
        ))
    })
}
