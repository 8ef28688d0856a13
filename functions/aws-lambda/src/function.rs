//! The function's state across warm invocations — AWS clients, the forge token, the
//! context of the published project (rebuilt only when `deploy` publishes a new one) —
//! and one invocation.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use mlgate::ci::Ci;
use mlgate::cloud::{aws::Aws, Cloud};
use mlgate::config::Project;
use mlgate::repo::Folder;
use mlgate::store::{self, Store};
use mlgate::{forge, published, trigger, Ctx};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Mutex;

/// Token variables the forges read, in the order they look.
const TOKEN_VARS: [&str; 2] = ["GITHUB_TOKEN", "GITLAB_TOKEN"];

pub struct Function {
    store_uri: String,
    sdk: aws_config::SdkConfig,
    /// The store, for reading the published snapshot on every event.
    store: Box<dyn Store>,
    /// The environment the forge is opened with, the token included.
    vars: HashMap<String, String>,
    /// Where snapshots are materialised (Lambda's writable `/tmp`).
    scratch: PathBuf,
    /// The context of the snapshot last seen, by digest.
    current: Mutex<Option<(String, Arc<Ctx>)>>,
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
            let token = forge_token(&sdk, &secret).await?;
            // The forge reads whichever variable its provider uses.
            for var in TOKEN_VARS {
                vars.insert(var.into(), token.clone());
            }
        }
        let scratch = std::env::temp_dir().join("mlgate");
        let path_style = Aws::path_style_from_env(|name| vars.get(name).cloned());
        let cloud = Cloud::with_aws(Aws::from_config(sdk.clone(), path_style));
        let folder = Arc::new(Folder {
            root: scratch.clone(),
        });
        let store = store::open(&store_uri, &scratch, &cloud, folder).await?;
        Ok(Function {
            store_uri,
            sdk,
            store,
            scratch,
            vars,
            current: Mutex::new(None),
        })
    }

    /// One invocation.
    pub async fn handle(&self, payload: Value) -> Result<Value, lambda_runtime::Error> {
        let delivery = trigger::parse(&payload);
        let ctx = match self.context().await {
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
        let outcomes: Vec<Value> = handled
            .iter()
            .flat_map(|h| &h.records)
            .map(|r| json!({"rule": r.rule, "outcome": r.outcome, "detail": r.detail}))
            .collect();
        Ok(json!({ "handled": outcomes }))
    }

    /// The context of the store's current snapshot; built again only when it changed.
    async fn context(&self) -> Result<Arc<Ctx>, mlgate::Error> {
        let local = published::materialise(self.store.as_ref(), &self.scratch).await?;
        let mut current = self.current.lock().await;
        if let Some((digest, ctx)) = current.as_ref() {
            if *digest == local.digest {
                return Ok(ctx.clone());
            }
        }
        let ctx = Arc::new(self.build(&local.config).await?);
        *current = Some((local.digest, ctx.clone()));
        Ok(ctx)
    }

    /// A context for one snapshot, with clients of its own (made once per snapshot).
    async fn build(&self, config: &std::path::Path) -> Result<Ctx, mlgate::Error> {
        let project = Project::load_published(config)?;
        let root = project.root.clone();
        let cloud = self.cloud();
        let repo = Arc::new(Folder { root: root.clone() });
        let store = store::open(&self.store_uri, &root, &cloud, repo).await?;
        let out = root.join(".mlgate/reports");
        let mut ci = Ci::from_env(self.vars.clone(), Box::new(std::io::sink()));
        let event = forge::Event::default();
        let builder = Ctx::builder(project)
            .out(out.clone())
            .store(store)
            .cloud(cloud)
            .repo(Arc::new(Folder { root }));
        let builder = match forge::open(builder.project(), &out, &mut ci, &event) {
            Ok(opened) => builder.forge(opened.forge),
            Err(e) => builder.forge_error(e),
        };
        builder.build().await
    }

    fn cloud(&self) -> Cloud {
        let path_style = Aws::path_style_from_env(|name| self.vars.get(name).cloned());
        Cloud::with_aws(Aws::from_config(self.sdk.clone(), path_style))
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
/// when it is JSON. Never logged.
async fn forge_token(sdk: &aws_config::SdkConfig, secret: &str) -> Result<String, mlgate::Error> {
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
    if token.is_empty() {
        return Err(mlgate::Error::config(format!(
            "the forge token secret `{secret}` is empty"
        )));
    }
    Ok(token)
}
