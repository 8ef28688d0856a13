//! The handler's state across invocations — the published project's context (the
//! engine's `Deployed`, rebuilt only when `deploy` publishes a new one) with its Azure
//! clients — and one invocation in the host's terms.

use crate::host;
use axum::http::StatusCode;
use mlgate::cloud::Cloud;
use mlgate::config::{AwsConfig, AzureConfig, Project};
use mlgate::published::Deployed;
use mlgate::trigger;
use serde_json::{json, Value};
use std::collections::HashMap;

pub struct Function {
    deployed: Deployed,
}

impl Function {
    /// Once per process: settings and the store; nothing is read yet, so the host sees
    /// the handler ready at once.
    pub async fn init(vars: HashMap<String, String>) -> Result<Function, mlgate::Error> {
        let store_uri = vars.get("MLGATE_STORE").cloned().ok_or_else(|| {
            mlgate::Error::config(
                "MLGATE_STORE is not set: the store `mlgate deploy` publishes to (az://container/prefix)",
            )
        })?;
        for var in ["GITHUB_TOKEN", "GITLAB_TOKEN"] {
            // An unresolved Key Vault reference arrives as its own text.
            if vars
                .get(var)
                .is_some_and(|v| v.starts_with("@Microsoft.KeyVault("))
            {
                return Err(mlgate::Error::config(format!(
                    "{var} is an unresolved Key Vault reference: the secret is not set, or the function's identity cannot read it"
                ))
                .with_hint("set the forge token secret in the Key Vault and give the identity `Key Vault Secrets User` on it"));
            }
        }
        let env = vars.clone();
        // The account from the settings, else from the published config's `azure:`.
        let cloud_for = Box::new(move |project: Option<&Project>| {
            let azure = project.map_or_else(AzureConfig::default, |p| p.config.azure.clone());
            Cloud::from_settings(&AwsConfig::default(), &azure, |k| env.get(k).cloned())
        });
        let scratch = std::env::temp_dir().join("mlgate");
        let deployed = Deployed::open(&store_uri, vars, scratch, cloud_for).await?;
        Ok(Function { deployed })
    }

    /// One invocation of `function`: 200 with the outcomes, 500 when something is to be
    /// delivered again (the host then fails the invocation and Event Grid retries).
    pub async fn invoke(&self, function: &str, body: &[u8]) -> (StatusCode, Value) {
        let request: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return permanent(format!("the host's request is not JSON: {e}")),
        };
        let event = match host::event(function, &request) {
            Ok(event) => event,
            Err(why) => return permanent(why),
        };
        let delivery = trigger::parse(&event);
        let ctx = match self.deployed.context().await {
            Ok(ctx) => ctx,
            Err(e) => {
                // Without a project nothing can be matched: fail the invocation so Event
                // Grid keeps the event (then its dead-letter container), never drop it.
                tracing::error!(transient = e.is_transient(), "no project to act on: {e}");
                return answer(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    vec![e.to_string()],
                    Value::Null,
                );
            }
        };
        // Boxed: the engine's future is too deep to lay out inline in the server's.
        let handled = Box::pin(trigger::handle(&ctx, &delivery)).await;
        let outcomes = trigger::outcomes(&handled);
        let logs = outcomes
            .iter()
            .map(|o| format!("{}: {}", o["outcome"], o["detail"].as_str().unwrap_or("")))
            .collect();
        let status = if handled.iter().any(|h| h.retry) {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        };
        answer(status, logs, json!({ "handled": outcomes }))
    }
}

/// `{Outputs, Logs, ReturnValue}`, the custom handler's answer.
fn answer(status: StatusCode, logs: Vec<String>, value: Value) -> (StatusCode, Value) {
    (
        status,
        json!({"Outputs": {}, "Logs": logs, "ReturnValue": value}),
    )
}

/// A payload that can never be handled: logged and acknowledged (a retry would fail the
/// same way).
fn permanent(why: String) -> (StatusCode, Value) {
    tracing::error!(outcome = "Failed", "{why}");
    answer(StatusCode::OK, vec![why.clone()], json!({"failed": why}))
}
