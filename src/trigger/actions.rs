//! A rule's actions on one new object: validate (quarantine a bad file), retrain
//! through CI, score with the production version.

use super::claim::Ran;
use super::{ActionRecord, ObjectCreated, Outcome};
use crate::config::triggers::{Action, TriggerRule};
use crate::context::Ctx;
use crate::error::{Error, Kind, Result};
use crate::forge::Dispatch;
use crate::report::{self, Report, Status, StepName};
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
            Action::Retrain => retrain(ctx, rule, object).await,
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
                    return finish(o, records);
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
                return finish(outcome, records);
            }
        }
    }
    finish(Outcome::Done, records)
}

fn finish(outcome: Outcome, actions: Vec<ActionRecord>) -> Ran {
    let detail = actions
        .iter()
        .map(|a| format!("{}: {}", a.action, a.detail))
        .collect::<Vec<_>>()
        .join("; ");
    Ran {
        outcome,
        detail,
        actions,
    }
}

type Step = Result<(Next, String, &'static str)>;

/// The object, downloaded once per run into the context's scratch folder.
async fn fetch(ctx: &Ctx, object: &ObjectCreated, file: &mut Option<PathBuf>) -> Result<PathBuf> {
    if let Some(f) = file {
        return Ok(f.clone());
    }
    let name = object.key.rsplit('/').next().unwrap_or("object");
    let local = ctx.scratch_file(&format!("{}-{name}", object.identity()));
    let bucket = store::bucket(&object.bucket, &ctx.cloud).await?;
    if !bucket.download(&object.key, &local).await? {
        return Err(Error::input(format!(
            "{}: no such object (deleted before it could be read?)",
            object.uri()
        )));
    }
    *file = Some(local.clone());
    Ok(local)
}

async fn validate(
    ctx: &Ctx,
    rule_name: &str,
    rule: &TriggerRule,
    object: &ObjectCreated,
    file: &mut Option<PathBuf>,
) -> Step {
    let model = model_of(ctx, rule)?;
    let local = fetch(ctx, object, file).await?;
    let uri = object.uri();
    let report =
        match crate::steps::data::validate_upload(ctx, &rule.model, model, &local, &uri).await {
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
    let bucket = store::bucket(&object.bucket, &ctx.cloud).await?;
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
    let bytes = std::fs::read(&local).map_err(|e| Error::read(&local, e))?;
    bucket.put_if_absent(&target, &bytes).await?;
    bucket
        .put_if_absent(&format!("{target}.report.md"), md.as_bytes())
        .await?;
    bucket
        .put_if_absent(&format!("{target}.report.json"), json.as_bytes())
        .await?;
    let detail = format!(
        "{}; copied to s3://{}/{target} with its report (the original is untouched)",
        report.title, object.bucket
    );
    Ok((Next::Stop(Outcome::Quarantined), detail, "failed"))
}

async fn retrain(ctx: &Ctx, rule: &TriggerRule, object: &ObjectCreated) -> Step {
    model_of(ctx, rule)?;
    let window = debounce_window(rule);
    if let Some(key) = &window {
        if !take_window(ctx.store.as_ref(), key, object).await? {
            let minutes = rule.retrain.debounce_minutes.unwrap_or_default();
            let detail = format!("a retraining started in this {minutes}-minute window already; it reads the model's data, this file included");
            return Ok((Next::Continue, detail, "debounced"));
        }
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

/// `triggers/debounce/<model>/<window number>.json`, when the rule debounces.
fn debounce_window(rule: &TriggerRule) -> Option<String> {
    let minutes = i64::from(rule.retrain.debounce_minutes.filter(|&m| m > 0)?);
    let window = chrono::Utc::now().timestamp() / (minutes * 60);
    Some(format!(
        "triggers/debounce/{}/{minutes}m-{window}.json",
        rule.model
    ))
}

/// Whether this upload starts the window's retraining (a released window is free again).
async fn take_window(store: &dyn Store, key: &str, object: &ObjectCreated) -> Result<bool> {
    let taken = serde_json::json!({"object": object.uri(), "at": super::now()}).to_string();
    if store.put_if_absent(key, taken.as_bytes()).await? {
        return Ok(true);
    }
    let released = store
        .get(key)
        .await?
        .is_some_and(|b| b.starts_with(b"{\"released\""));
    if released {
        store.put(key, taken.as_bytes()).await?;
    }
    Ok(released)
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
    if object.size.unwrap_or_default() > IN_FUNCTION_SCORING_LIMIT {
        return Err(Error::config(format!(
            "{} is {} MiB: files over {} MiB are not scored inside the function",
            object.uri(),
            object.size.unwrap_or_default() >> 20,
            IN_FUNCTION_SCORING_LIMIT >> 20
        ))
        .with_hint("score it in CI with `mlgate predict --input s3://…`, or split the file"));
    }
    let local = fetch(ctx, object, file).await?;
    let output = ctx.scratch_file(&format!("{}-predictions.csv", object.identity()));
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
    let bucket = store::bucket(&object.bucket, &ctx.cloud).await?;
    bucket.put_if_absent(&target, &bytes).await?;
    let detail = format!(
        "{}; written to s3://{}/{target}",
        report.title, object.bucket
    );
    Ok((Next::Continue, detail, "scored"))
}

fn model_of<'a>(ctx: &'a Ctx, rule: &TriggerRule) -> Result<&'a crate::config::ModelConfig> {
    ctx.project.config.models.get(&rule.model).ok_or_else(|| {
        Error::config(format!(
            "a trigger rule names model `{}`, which the published config does not have",
            rule.model
        ))
    })
}
