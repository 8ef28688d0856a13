//! The function's state across warm invocations — the AWS configuration and forge token
//! read at start, the published project's context (the engine's `Deployed`, rebuilt only
//! when `deploy` publishes a new one) — and one invocation.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use mlgate::cloud::{aws::Aws, Cloud};
use mlgate::published::Deployed;
use mlgate::trigger;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Token variables the forges read, in the order they look.
const TOKEN_VARS: [&str; 2] = ["GITHUB_TOKEN", "GITLAB_TOKEN"];

pub struct Function {
    deployed: Deployed,
}

impl Function {
    /// Once per process: settings, AWS configuration, the forge token.
    pub async fn init(mut vars: HashMap<String, String>) -> Result<Function, mlgate::Error> {
        let store_uri = vars.get("MLGATE_STORE").cloned().ok_or_else(|| {
            mlgate::Error::config("MLGATE_STORE is not set: the store `mlgate deploy` publishes to (s3://bucket/prefix)")
        })?;
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(mlgate::cloud::aws::https_client())
            .load()
            .await;
        if let Some(secret) = vars.get("MLGATE_FORGE_TOKEN_SECRET").cloned() {
            match forge_token(&sdk, &secret).await? {
                // The forge reads whichever variable its provider uses.
                Some(token) => {
                    for var in TOKEN_VARS {
                        vars.insert(var.into(), token.clone());
                    }
                }
                // Rules that need no forge (validate, batch-transform) still run; one that
                // does is a recorded failure that says so.
                None => tracing::warn!(
                    "the forge token secret `{secret}` is empty: retraining and proposing need it"
                ),
            }
        }
        let path_style = Aws::path_style_from_env(|name| vars.get(name).cloned());
        // Each context gets clients of its own, made from the configuration loaded once.
        let cloud_for = Box::new(move |_: Option<&mlgate::config::Project>| {
            Cloud::with_aws(Aws::from_config(sdk.clone(), path_style))
        });
        let scratch = std::env::temp_dir().join("mlgate");
        let deployed = Deployed::open(&store_uri, vars, scratch, cloud_for).await?;
        Ok(Function { deployed })
    }

    /// One invocation.
    pub async fn handle(&self, payload: Value) -> Result<Value, lambda_runtime::Error> {
        let delivery = trigger::parse(&payload);
        let ctx = match self.deployed.context().await {
            Ok(ctx) => ctx,
            Err(e) => {
                // Without a project nothing can be matched: keep every event for a retry
                // (and, past the queue's retries, its dead-letter queue), never drop it.
                tracing::error!(transient = e.is_transient(), "no project to act on: {e}");
                return if delivery.batch {
                    let all = delivery.messages.iter().filter_map(|m| m.id.clone());
                    Ok(batch_response(all.collect()))
                } else {
                    Err(e.to_string().into())
                };
            }
        };
        let handled = trigger::handle(&ctx, &delivery).await;
        if delivery.batch {
            return Ok(batch_response(trigger::failed_ids(&handled)));
        }
        if handled.iter().any(|h| h.retry) {
            return Err("a transient failure: the event is to be delivered again".into());
        }
        Ok(json!({ "handled": trigger::outcomes(&handled) }))
    }
}

fn batch_response(failed: Vec<String>) -> Value {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    serde_json::to_value(response).unwrap_or_default()
}

/// The forge token from Secrets Manager: the secret string itself, or its `token` field
/// when it is JSON; `None` while it is empty (a stack deployed before its token was set).
/// Never logged.
async fn forge_token(
    sdk: &aws_config::SdkConfig,
    secret: &str,
) -> Result<Option<String>, mlgate::Error> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let value = client
        .get_secret_value()
        .secret_id(secret)
        .send()
        .await
        .map_err(|e| {
            mlgate::Error::config(format!(
                "the forge token secret `{secret}` cannot be read: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            ))
            .with_hint("check MLGATE_FORGE_TOKEN_SECRET and the function's secretsmanager:GetSecretValue permission")
        })?;
    let text = value.secret_string().unwrap_or_default().trim().to_string();
    let token = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("token").and_then(Value::as_str).map(String::from))
        .unwrap_or(text);
    Ok(Some(token).filter(|t| !t.is_empty()))
}
