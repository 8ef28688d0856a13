//! Upload triggers: what the functions call with a delivery. Each new object is matched
//! against the `triggers:` rules; each match is claimed once in the store (so a
//! redelivered event starts nothing new) and its actions run in order; each leaves an
//! audit record in the store and one log line. Transient failures go back to the
//! platform for a retry; permanent ones are recorded and acknowledged.

mod actions;
mod claim;
pub mod event;
#[cfg(feature = "aws")]
mod sagemaker;

pub use event::{parse, Delivery, Message, Notice, ObjectCreated};

use crate::config::triggers::TriggerRule;
use crate::context::Ctx;
use serde::Serialize;

/// What became of one message of a delivery.
#[derive(Debug, Clone, Serialize)]
pub struct Handled {
    /// The SQS message id, where there is one.
    pub id: Option<String>,
    /// Give the message back for a retry (a transient failure).
    pub retry: bool,
    pub records: Vec<Record>,
}

/// The audit record of one notice under one rule.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub at: String,
    pub notice: Notice,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub outcome: Outcome,
    pub detail: String,
    pub actions: Vec<ActionRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every action ran.
    Done,
    /// The file failed validation: copied to quarantine with its report, nothing else ran.
    Quarantined,
    /// Another delivery of the same upload was (or is being) handled.
    Duplicate,
    /// Nothing to do: no rule matched, a test event, an event of another kind.
    Ignored,
    /// A permanent failure, recorded and acknowledged.
    Failed,
    /// A transient failure: the platform delivers the event again.
    Retry,
}

/// One action's result.
#[derive(Debug, Clone, Serialize)]
pub struct ActionRecord {
    pub action: &'static str,
    pub outcome: String,
    pub detail: String,
}

/// Handles every message of a delivery; never fails as a whole, so one poison message
/// cannot hold back the rest of a batch.
pub async fn handle(ctx: &Ctx, delivery: &Delivery) -> Vec<Handled> {
    let mut out = Vec::new();
    for message in &delivery.messages {
        out.push(handle_message(ctx, message).await);
    }
    out
}

/// Every record's rule, outcome and detail: what a function answers with.
pub fn outcomes(handled: &[Handled]) -> Vec<serde_json::Value> {
    handled
        .iter()
        .flat_map(|h| &h.records)
        .map(|r| serde_json::json!({"rule": r.rule, "outcome": r.outcome, "detail": r.detail}))
        .collect()
}

/// The SQS message ids to hand back as `batchItemFailures`.
pub fn failed_ids(handled: &[Handled]) -> Vec<String> {
    handled
        .iter()
        .filter(|h| h.retry)
        .filter_map(|h| h.id.clone())
        .collect()
}

async fn handle_message(ctx: &Ctx, message: &Message) -> Handled {
    let notices = match &message.notices {
        Ok(n) => n.clone(),
        Err(why) => {
            let record = Record::new(
                Notice::Ignored {
                    what: "an unreadable message".into(),
                },
                None,
                Outcome::Failed,
                why.clone(),
            );
            log(&record);
            return Handled {
                id: message.id.clone(),
                retry: false,
                records: vec![record],
            };
        }
    };
    let mut records = Vec::new();
    for notice in notices {
        records.extend(handle_notice(ctx, notice).await);
    }
    Handled {
        id: message.id.clone(),
        retry: records.iter().any(|r| r.outcome == Outcome::Retry),
        records,
    }
}

async fn handle_notice(ctx: &Ctx, notice: Notice) -> Vec<Record> {
    let object = match &notice {
        Notice::Created(o) => o.clone(),
        Notice::Test => return vec![ignored(notice, "a test event: notifications reach mlgate")],
        Notice::TrainingJob {
            name,
            status,
            failure,
        } => return vec![training_job(ctx, &notice, name, status, failure.as_deref()).await],
        Notice::Ignored { what } => {
            let what = format!("not an object creation ({what})");
            return vec![ignored(notice, &what)];
        }
    };
    let rules: Vec<(String, &TriggerRule)> = ctx
        .project
        .config
        .triggers
        .iter()
        .enumerate()
        .filter(|(_, r)| r.matches(&object.bucket, &object.key))
        .map(|(i, r)| (r.name_at(i), r))
        .collect();
    if rules.is_empty() {
        let detail = format!("no rule matches {}", object.uri());
        return vec![ignored(notice, &detail)];
    }
    let mut records = Vec::new();
    for (name, rule) in rules {
        let key = claim::key(&name, &object);
        let record = claim::run_once(ctx, &key, &object.uri(), || {
            actions::run(ctx, &name, rule, &object)
        })
        .await;
        let record = Record {
            rule: Some(name),
            ..record.into_record(notice.clone())
        };
        log(&record);
        if record.outcome != Outcome::Duplicate {
            audit(ctx, &record, &object.identity()).await;
        }
        records.push(record);
    }
    records
}

/// A SageMaker training job's state change: finishes a retraining an upload started.
async fn training_job(
    ctx: &Ctx,
    notice: &Notice,
    job: &str,
    status: &str,
    failure: Option<&str>,
) -> Record {
    #[cfg(feature = "aws")]
    {
        let record = sagemaker::job_changed(ctx, notice, job, status, failure).await;
        log(&record);
        if record.rule.is_some() && !matches!(record.outcome, Outcome::Duplicate | Outcome::Ignored)
        {
            audit(ctx, &record, job).await;
        }
        record
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (ctx, status, failure);
        ignored(
            notice.clone(),
            &format!("training job {job}: SageMaker is not built in (feature `aws`)"),
        )
    }
}

fn ignored(notice: Notice, detail: &str) -> Record {
    let record = Record::new(notice, None, Outcome::Ignored, detail.into());
    log(&record);
    record
}

impl Record {
    fn new(notice: Notice, rule: Option<String>, outcome: Outcome, detail: String) -> Record {
        Record {
            at: now(),
            notice,
            rule,
            outcome,
            detail,
            actions: Vec::new(),
        }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One structured log line per record.
fn log(r: &Record) {
    let uri = match &r.notice {
        Notice::Created(o) => o.uri(),
        _ => String::new(),
    };
    tracing::info!(
        outcome = ?r.outcome,
        rule = r.rule.as_deref().unwrap_or("-"),
        object = %uri,
        actions = %r.actions.iter().map(|a| format!("{}={}", a.action, a.outcome)).collect::<Vec<_>>().join(","),
        "{}",
        r.detail
    );
}

/// `triggers/audit/<day>/<rule>/<identity>.json` (a training job's name for its events);
/// a failure to write it is logged, not fatal: the action already happened.
async fn audit(ctx: &Ctx, r: &Record, identity: &str) {
    let day = &r.at[..10];
    let rule = r.rule.as_deref().unwrap_or("-");
    let key = format!("triggers/audit/{day}/{rule}/{identity}.json");
    let bytes = serde_json::to_vec_pretty(r).unwrap_or_default();
    if let Err(e) = ctx.store.put(&key, &bytes).await {
        tracing::warn!("audit record {key} not written: {e}");
    }
}
