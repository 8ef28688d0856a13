//! What every AWS client shares: credentials and region from the standard chain
//! (environment, profiles, web identity for GitHub OIDC, instance roles), bounded retries
//! for throttling and 5xx, the standard endpoint override (`AWS_ENDPOINT_URL`, used by
//! tests against moto), and one way of turning SDK errors into mlgate errors.

use crate::error::Error;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::time::Duration;

/// Attempts per request: throttling and 5xx are retried with exponential backoff.
const MAX_ATTEMPTS: u32 = 6;

/// The shared SDK configuration; `region` overrides the chain's when given.
pub async fn sdk_config(region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
        RetryConfig::standard()
            .with_max_attempts(MAX_ATTEMPTS)
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(20)),
    );
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    loader.load().await
}

/// Whether requests go to an endpoint other than AWS's (moto, MinIO, LocalStack), which
/// serve buckets by path rather than by host name.
pub fn custom_s3_endpoint(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
}

/// The service's error code, if the service answered with one.
pub fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    err.as_service_error().and_then(|e| e.code())
}

/// The HTTP status of the service's answer, if there was one.
pub fn http_status<E>(err: &SdkError<E, aws_smithy_runtime_api::http::Response>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// An external-service error naming what was attempted, the service's code and message,
/// and a hint for the usual causes. Never includes credentials: the SDK's messages carry
/// none.
pub fn error<E, R>(what: &str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let (detail, hint) = match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("error");
            let message = e.message().unwrap_or("");
            (format!("{code}: {message}"), code_hint(code))
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => (
            source_chain(&err),
            Some("check the network and the endpoint (AWS_ENDPOINT_URL, region)".to_string()),
        ),
        SdkError::ConstructionFailure(_) => (
            source_chain(&err),
            Some(
                "credentials or region are missing: set AWS_REGION and credentials (environment, \
                 profile or web identity)"
                    .to_string(),
            ),
        ),
        _ => (source_chain(&err), None),
    };
    let error = Error::external(format!("{what}: {detail}"));
    match hint {
        Some(h) => error.with_hint(h),
        None => error,
    }
}

fn code_hint(code: &str) -> Option<String> {
    match code {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => Some(
            "the role or user lacks this permission; docs/aws.md lists the IAM actions mlgate needs"
                .into(),
        ),
        "NoSuchBucket" => Some("create the bucket, or fix the store URI".into()),
        "ExpiredToken" | "ExpiredTokenException" | "InvalidClientTokenId" => {
            Some("the credentials are expired or invalid; refresh them".into())
        }
        "ResourceLimitExceeded" => {
            Some("a SageMaker quota is reached; request an increase or wait for jobs to end".into())
        }
        _ => None,
    }
}

/// The error and its causes on one line (the SDK's top-level message alone says little).
fn source_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
