//! mlgate's Azure Functions custom handler: the Functions host starts this binary and
//! forwards each invocation as `POST /<function>` with `{Data, Metadata}`. The handler
//! decodes it (an Event Grid `BlobCreated` event, or a blob trigger's metadata), hands it
//! to the engine's trigger handling and answers `{Outputs, Logs, ReturnValue}`; a
//! transient failure answers 500, so the host fails the invocation and Event Grid
//! delivers it again. All it knows comes from the store `deploy` publishes to.
//!
//! Settings (app settings): `MLGATE_STORE` (`az://container/prefix`, required);
//! `MLGATE_AZURE_ACCOUNT_URL` or `AZURE_STORAGE_ACCOUNT` (the store's account); the
//! managed identity (`AZURE_CLIENT_ID` for a user-assigned one) or `AZURE_STORAGE_SAS_TOKEN`;
//! `GITHUB_TOKEN` / `GITLAB_TOKEN` (a Key Vault reference); `MLGATE_LOG` (default `info`).

mod function;
mod host;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use function::Function;
use serde_json::Value;
use std::sync::Arc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MLGATE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_current_span(false)
        .init();
    match serve().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The host shows the handler's stderr when it fails to start.
            tracing::error!("{e}");
            eprintln!("mlgate handler: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), mlgate::Error> {
    let port: u16 = std::env::var("FUNCTIONS_CUSTOMHANDLER_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let function = Arc::new(Function::init(std::env::vars().collect()).await?);
    let app = Router::new()
        // The host waits for any answer on `/` before it sends invocations.
        .route("/", get(|| async { "ready" }))
        .route("/{function}", post(invoke))
        .with_state(function);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| mlgate::Error::external(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    tracing::info!(port, "ready");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| mlgate::Error::external(format!("the handler's server stopped: {e}")))
}

async fn invoke(
    State(function): State<Arc<Function>>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> (StatusCode, Json<Value>) {
    let (status, answer) = function.invoke(&name, &body).await;
    (status, Json(answer))
}
