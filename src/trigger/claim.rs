//! Exactly one run per upload and rule: a claim written write-once to the store before
//! anything starts, named by the upload's identity. A redelivery finds it: done ⇒
//! nothing to do; still running ⇒ try again later; left for a retry (or abandoned by a
//! run that died) ⇒ taken over. The claim's state is what makes a failure after the
//! claim retryable rather than lost.

use super::{now, ActionRecord, Notice, ObjectCreated, Outcome, Record};
use crate::context::Ctx;
use serde::{Deserialize, Serialize};
use std::future::Future;

/// A run longer than a Lambda invocation can last (15 minutes) has died.
const LEASE_SECONDS: i64 = 15 * 60;

/// What running a rule's actions came to.
pub(super) struct Ran {
    pub outcome: Outcome,
    pub detail: String,
    pub actions: Vec<ActionRecord>,
}

impl Ran {
    pub fn new(outcome: Outcome, detail: impl Into<String>) -> Ran {
        Ran {
            outcome,
            detail: detail.into(),
            actions: Vec::new(),
        }
    }

    /// A run of `actions` that ended in `outcome`; its detail is each action's, in order.
    pub fn of_actions(outcome: Outcome, actions: Vec<ActionRecord>) -> Ran {
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

    pub fn into_record(self, notice: Notice) -> Record {
        Record {
            actions: self.actions,
            ..Record::new(notice, None, self.outcome, self.detail)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum State {
    Running,
    Retry,
    Done,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claim {
    state: State,
    at: String,
    object: String,
    #[serde(default)]
    outcome: Option<Outcome>,
    #[serde(default)]
    detail: String,
}

/// The claim of one upload under one rule.
pub(super) fn key(rule: &str, object: &ObjectCreated) -> String {
    format!("triggers/claims/{rule}/{}.json", object.identity())
}

/// Runs `work` unless another delivery of the same event ran or runs it; `key` names the
/// event's claim, `subject` what it is about (an object's URI).
pub(super) async fn run_once<F, Fut>(ctx: &Ctx, key: &str, subject: &str, work: F) -> Ran
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Ran>,
{
    let claim = |state, outcome, detail: &str| Claim {
        state,
        at: now(),
        object: subject.to_string(),
        outcome,
        detail: detail.to_string(),
    };
    let running = serde_json::to_vec(&claim(State::Running, None, "")).unwrap_or_default();
    match ctx.store.put_if_absent(key, &running).await {
        Ok(true) => {}
        Ok(false) => {
            if let Some(ran) = earlier(ctx, key).await {
                return ran;
            }
            if let Err(e) = ctx.store.put(key, &running).await {
                return store_failure(key, &e);
            }
        }
        Err(e) => return store_failure(key, &e),
    }
    let ran = work().await;
    let state = if ran.outcome == Outcome::Retry {
        State::Retry
    } else {
        State::Done
    };
    let done =
        serde_json::to_vec(&claim(state, Some(ran.outcome), &ran.detail)).unwrap_or_default();
    if let Err(e) = ctx.store.put(key, &done).await {
        // The work is done; a redelivery would find the claim running, wait out the
        // lease and do it again. Say so loudly.
        tracing::error!("claim {key} not marked {state:?}: {e}; a redelivery after {LEASE_SECONDS} s would run it again");
    }
    ran
}

/// What an existing claim says, or `None` when this delivery should take it over.
async fn earlier(ctx: &Ctx, key: &str) -> Option<Ran> {
    let bytes = match ctx.store.get(key).await {
        Ok(Some(b)) => b,
        Ok(None) => return None,
        Err(e) => return Some(store_failure(key, &e)),
    };
    let Ok(c) = serde_json::from_slice::<Claim>(&bytes) else {
        return None;
    };
    let age = chrono::DateTime::parse_from_rfc3339(&c.at)
        .map(|at| (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_seconds())
        .unwrap_or(i64::MAX);
    match c.state {
        State::Done => Some(Ran::new(
            Outcome::Duplicate,
            format!(
                "already handled at {} ({}): {}",
                c.at,
                c.outcome
                    .map_or("done".into(), |o| format!("{o:?}").to_lowercase()),
                c.detail
            ),
        )),
        State::Running if age < LEASE_SECONDS => Some(Ran::new(
            Outcome::Retry,
            format!(
                "another delivery of this event is being handled (since {})",
                c.at
            ),
        )),
        State::Running | State::Retry => None,
    }
}

fn store_failure(key: &str, e: &crate::Error) -> Ran {
    let outcome = if e.is_transient() {
        Outcome::Retry
    } else {
        Outcome::Failed
    };
    Ran::new(outcome, format!("cannot claim the event at `{key}`: {e}"))
}
