//! What every AWS client shares: credentials and region from the standard chain
//! (environment, profiles, web identity for GitHub OIDC, instance roles), bounded retries
//! for throttling and 5xx, the standard endpoint override (`AWS_ENDPOINT_URL`, used by
//! tests against moto), and one way of turning SDK errors into mlgate errors.
//!
//! [`Aws`] is built once per context and hands out clients: the chain is read at most
//! once, on first use, and an adapter that already has an `SdkConfig` (a Lambda) passes it in.

use crate::cloud::sagemaker::Clients;
use crate::error::{Error, Result, Retry};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::time::Duration;
use tokio::sync::OnceCell;

/// Attempts per request: throttling and 5xx are retried with exponential backoff.
const MAX_ATTEMPTS: u32 = 6;

/// A context's AWS configuration and clients, made on first use and then shared.
pub struct Aws {
    /// `aws.region` from mlgate.yaml: overrides the chain's.
    region: Option<String>,
    /// Buckets addressed by path (moto, MinIO, LocalStack) rather than by host name.
    path_style: bool,
    config: OnceCell<SdkConfig>,
    s3: OnceCell<aws_sdk_s3::Client>,
    clients: OnceCell<Clients>,
}

impl Aws {
    /// Reads the standard chain on first use. `path_style` is for S3 endpoints other
    /// than AWS's; [`Aws::path_style_from_env`] tells it the way the SDK's users expect.
    pub fn from_chain(region: Option<String>, path_style: bool) -> Aws {
        Aws {
            region,
            path_style,
            config: OnceCell::new(),
            s3: OnceCell::new(),
            clients: OnceCell::new(),
        }
    }

    /// Uses a configuration the adapter has already loaded.
    pub fn from_config(config: SdkConfig, path_style: bool) -> Aws {
        Aws {
            region: None,
            path_style,
            config: OnceCell::new_with(Some(config)),
            s3: OnceCell::new(),
            clients: OnceCell::new(),
        }
    }

    /// Whether `AWS_ENDPOINT_URL` or `AWS_ENDPOINT_URL_S3` point S3 elsewhere than AWS,
    /// read by the adapter when it builds its context.
    pub fn path_style_from_env(vars: impl Fn(&str) -> Option<String>) -> bool {
        vars("AWS_ENDPOINT_URL").is_some() || vars("AWS_ENDPOINT_URL_S3").is_some()
    }

    pub async fn config(&self) -> &SdkConfig {
        self.config
            .get_or_init(|| sdk_config(self.region.as_deref()))
            .await
    }

    /// The S3 client (cheap to clone: clones share it).
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        self.s3
            .get_or_init(|| async {
                crate::store::s3::client(self.config().await, self.path_style)
            })
            .await
            .clone()
    }

    /// SageMaker and S3 clients under the same credentials and region.
    pub async fn clients(&self) -> Result<&Clients> {
        self.clients
            .get_or_try_init(|| async {
                let config = self.config().await;
                let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
                    Error::config("no AWS region: set `aws.region` in mlgate.yaml or AWS_REGION")
                })?;
                Ok(Clients {
                    sagemaker: aws_sdk_sagemaker::Client::new(config),
                    s3: self.s3().await,
                    region,
                })
            })
            .await
    }
}

/// The shared SDK configuration; `region` overrides the chain's when given.
async fn sdk_config(region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
        RetryConfig::standard()
            .with_max_attempts(MAX_ATTEMPTS)
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(20)),
    );
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    loader.http_client(https_client()).load().await
}

/// The SDK's HTTP client: hyper and rustls on ring, the provider the forge clients use
/// too, so one TLS stack is built (the SDK's default, aws-lc, is a long C build).
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
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
/// and a hint for the usual causes; transient when AWS throttled, failed (5xx) or did not
/// answer in time. Never includes credentials: the SDK's messages carry none.
pub fn error<E>(what: &str, err: SdkError<E, aws_smithy_runtime_api::http::Response>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let retry = if transient(&err) {
        Retry::Transient
    } else {
        Retry::Permanent
    };
    let (detail, hint) = match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("error");
            let message = e.message().unwrap_or("");
            (format!("{code}: {message}"), code_hint(code))
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => (
            crate::error::chain(&err),
            Some("check the network and the endpoint (AWS_ENDPOINT_URL, region)".to_string()),
        ),
        SdkError::ConstructionFailure(_) => (
            crate::error::chain(&err),
            Some(
                "credentials or region are missing: set AWS_REGION and credentials (environment, \
                 profile or web identity)"
                    .to_string(),
            ),
        ),
        _ => (crate::error::chain(&err), None),
    };
    let error = Error::external(format!("{what}: {detail}")).retry_as(retry);
    let error = match hint {
        Some(h) => error.with_hint(h),
        None => error,
    };
    error.with_source(err)
}

/// Codes AWS uses for "slow down" across services.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "SlowDown",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Whether the same request may succeed later: no answer, a timeout, throttling or 5xx.
fn transient<E: ProvideErrorMetadata>(
    err: &SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> bool {
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => true,
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            http_status(err).is_some_and(|s| s == 429 || s >= 500)
                || error_code(err).is_some_and(|c| THROTTLING.contains(&c))
        }
        _ => false,
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
