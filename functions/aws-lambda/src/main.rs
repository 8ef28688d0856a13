//! mlgate's AWS Lambda function: decodes a delivery (S3 notifications, SQS, SNS in SQS,
//! EventBridge), hands it to the engine's trigger handling and answers in Lambda's terms:
//! `batchItemFailures` for SQS, an error (so Lambda retries) for a transient failure of a
//! direct invocation. All it knows comes from the store `deploy` publishes to.
//!
//! Settings (environment): `MLGATE_STORE` (`s3://bucket/prefix`, required);
//! `MLGATE_FORGE_TOKEN_SECRET`, a Secrets Manager secret holding the forge token, else
//! `GITHUB_TOKEN` / `GITLAB_TOKEN`; `MLGATE_LOG` (a tracing filter, default `info`).

mod function;

use function::Function;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MLGATE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_current_span(false)
        .without_time() // CloudWatch stamps every line
        .init();
    let function = Function::init(std::env::vars().collect()).await?;
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        function.handle(event.payload).await
    }))
    .await
}
