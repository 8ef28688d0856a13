//! Azure (feature `azure`): Blob Storage clients for `az://` stores and data, on the
//! official SDK (`azure_storage_blob` 1.x) over rustls with ring. The account comes from
//! the config or the environment; the credential is chosen from the environment the way
//! Azure's own tools choose it (the 1.x SDK has no default chain): a SAS when one is given,
//! else workload identity, a service principal's secret, the managed identity where Azure
//! provides one, and the developer's `az login` otherwise. No key, token or SAS is ever
//! printed.

use crate::config::AzureConfig;
use crate::error::{Error, Result, Retry};
use azure_core::credentials::TokenCredential;
use azure_core::error::ErrorKind;
use azure_core::http::{ClientOptions, Transport, Url};
use azure_storage_blob::{BlobContainerClient, BlobContainerClientOptions};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Variables the credential choice reads (the SDK's own names).
const VARS: &[&str] = &[
    "MLGATE_AZURE_ACCOUNT_URL",
    "AZURE_STORAGE_ACCOUNT",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "IDENTITY_ENDPOINT",
];

/// How requests are authorised.
#[derive(Clone)]
pub enum Auth {
    /// A shared access signature appended to every URL (tests, restricted set-ups).
    Sas(String),
    /// An Entra ID token credential.
    Token(Arc<dyn TokenCredential>),
}

pub struct Azure {
    /// `https://<account>.blob.core.windows.net`, or another endpoint (Azurite).
    endpoint: Option<String>,
    vars: std::collections::HashMap<String, String>,
    transport: Option<Transport>,
    auth: OnceCell<Auth>,
}

impl Azure {
    /// From the config's `azure:` and the environment the adapter captured
    /// (`MLGATE_AZURE_ACCOUNT_URL` overrides the config's account).
    pub fn from_env(config: &AzureConfig, vars: impl Fn(&str) -> Option<String>) -> Azure {
        let vars: std::collections::HashMap<String, String> = VARS
            .iter()
            .filter_map(|k| vars(k).map(|v| (k.to_string(), v)))
            .collect();
        let endpoint = vars
            .get("MLGATE_AZURE_ACCOUNT_URL")
            .cloned()
            .or_else(|| config.endpoint.clone())
            .or_else(|| {
                let account = config
                    .account
                    .clone()
                    .or_else(|| vars.get("AZURE_STORAGE_ACCOUNT").cloned())?;
                Some(format!("https://{account}.blob.core.windows.net"))
            })
            .map(|e| e.trim_end_matches('/').to_string());
        Azure {
            endpoint,
            vars,
            transport: None,
            auth: OnceCell::new(),
        }
    }

    /// Given clients' settings: an endpoint, how to authorise, and optionally an HTTP
    /// client (one trusting a test certificate).
    pub fn with(endpoint: &str, auth: Auth, transport: Option<reqwest::Client>) -> Azure {
        Azure {
            endpoint: Some(endpoint.trim_end_matches('/').to_string()),
            vars: Default::default(),
            transport: transport.map(|c| Transport::new(Arc::new(c))),
            auth: OnceCell::new_with(Some(auth)),
        }
    }

    /// The client of one container.
    pub async fn container(&self, name: &str) -> Result<BlobContainerClient> {
        let endpoint = self.endpoint.as_deref().ok_or_else(|| {
            Error::config(format!(
                "`az://{name}` needs the storage account: set `azure.account` in mlgate.yaml (or AZURE_STORAGE_ACCOUNT)"
            ))
        })?;
        let options = BlobContainerClientOptions {
            client_options: self.client_options()?,
            ..Default::default()
        };
        let bad_url = |e: &dyn std::fmt::Display| {
            Error::config(format!("`{endpoint}/{name}` is not a container URL: {e}"))
        };
        let made = match self.auth().await? {
            Auth::Sas(sas) => {
                let url = Url::parse(&format!(
                    "{endpoint}/{name}?{}",
                    sas.trim_start_matches('?')
                ))
                .map_err(|e| bad_url(&e))?;
                BlobContainerClient::new(url, None, Some(options))
            }
            Auth::Token(credential) => {
                let url = Url::parse(&format!("{endpoint}/{name}")).map_err(|e| bad_url(&e))?;
                BlobContainerClient::new(url, Some(credential), Some(options))
            }
        };
        made.map_err(|e| error(&format!("cannot reach container `{name}` at {endpoint}"), e))
    }

    fn client_options(&self) -> Result<ClientOptions> {
        let transport = match &self.transport {
            Some(t) => t.clone(),
            None => Transport::new(Arc::new(http_client()?)),
        };
        Ok(ClientOptions {
            transport: Some(transport),
            ..Default::default()
        })
    }

    async fn auth(&self) -> Result<Auth> {
        self.auth
            .get_or_try_init(|| async { self.choose_auth() })
            .await
            .cloned()
    }

    /// The credential the environment says to use; see the module's documentation.
    fn choose_auth(&self) -> Result<Auth> {
        let var = |k: &str| self.vars.get(k).filter(|v| !v.is_empty()).cloned();
        if let Some(sas) = var("AZURE_STORAGE_SAS_TOKEN") {
            return Ok(Auth::Sas(sas));
        }
        let client_options = self.client_options()?;
        let failed = |e| credential_error(e);
        let credential: Arc<dyn TokenCredential> = if var("AZURE_FEDERATED_TOKEN_FILE").is_some() {
            let mut options = azure_identity::WorkloadIdentityCredentialOptions::default();
            options.credential_options.client_options = client_options;
            azure_identity::WorkloadIdentityCredential::new(Some(options)).map_err(failed)?
        } else if let (Some(tenant), Some(client), Some(secret)) = (
            var("AZURE_TENANT_ID"),
            var("AZURE_CLIENT_ID"),
            var("AZURE_CLIENT_SECRET"),
        ) {
            let options = azure_identity::ClientSecretCredentialOptions { client_options };
            azure_identity::ClientSecretCredential::new(
                &tenant,
                client,
                secret.into(),
                Some(options),
            )
            .map_err(failed)?
        } else if var("IDENTITY_ENDPOINT").is_some() {
            let options = azure_identity::ManagedIdentityCredentialOptions {
                user_assigned_id: var("AZURE_CLIENT_ID")
                    .map(azure_identity::UserAssignedId::ClientId),
                client_options,
            };
            azure_identity::ManagedIdentityCredential::new(Some(options)).map_err(failed)?
        } else {
            azure_identity::DeveloperToolsCredential::new(None).map_err(failed)?
        };
        Ok(Auth::Token(credential))
    }
}

/// The HTTP client for Azure: rustls on ring, like every other client of mlgate.
pub fn http_client() -> Result<reqwest::Client> {
    crate::cloud::install_ring();
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(20))
        .read_timeout(std::time::Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::external(format!("cannot build the Azure HTTP client: {e}")))
}

fn credential_error(e: azure_core::Error) -> Error {
    Error::config(format!("no Azure credential: {e}")).with_hint(
        "sign in with `az login`, run with a managed or workload identity, or give a SAS in AZURE_STORAGE_SAS_TOKEN",
    )
}

/// The HTTP status and storage error code (`x-ms-error-code`) of an SDK error.
pub fn status_and_code(e: &azure_core::Error) -> (Option<u16>, Option<&str>) {
    let status = e.http_status().map(u16::from);
    let code = match e.kind() {
        ErrorKind::HttpResponse { error_code, .. } => error_code.as_deref(),
        _ => None,
    };
    (status, code)
}

/// An SDK error as mlgate's: what failed, what Azure said, what to do; transient for
/// throttling, server errors and timeouts (after the SDK's own retries), and never
/// carrying a SAS or token (the SDK's messages hold neither).
pub fn error(what: &str, e: azure_core::Error) -> Error {
    let (status, code) = status_and_code(&e);
    let transient = matches!(status, Some(408 | 429 | 500 | 502 | 503 | 504))
        || matches!(e.kind(), ErrorKind::Io | ErrorKind::Connection);
    let code_text = code.unwrap_or("error").to_string();
    let hint = match (status, code) {
        (Some(403), Some("AuthorizationPermissionMismatch")) => Some(
            "the identity has no data role here: assign it `Storage Blob Data Contributor` on the container (`Storage Blob Data Reader` to read only); a new assignment takes a few minutes",
        ),
        (Some(403), Some("AuthenticationFailed" | "AuthorizationFailure")) => Some(
            "the SAS or token was refused: it may have expired, lack a permission (read, add, create, write, list) or not cover this container; make a new one",
        ),
        (Some(404), Some("ContainerNotFound")) => {
            Some("check the container in the `az://` URI and the account (`azure.account`)")
        }
        (_, _) if matches!(e.kind(), ErrorKind::Credential) => {
            Some("sign in with `az login`, or run with a managed or workload identity")
        }
        (_, _) if matches!(e.kind(), ErrorKind::Io | ErrorKind::Connection) => {
            Some("check the network and the account's endpoint")
        }
        _ => None,
    };
    let message = match status {
        Some(s) => format!("{what}: {s} {code_text}"),
        None => format!("{what}: {}", redact(first_line(&e.to_string()))),
    };
    let error = Error::external(message).retry_as(if transient {
        Retry::Transient
    } else {
        Retry::Permanent
    });
    match hint {
        Some(h) => error.with_hint(h),
        None => error,
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// A URL's SAS signature in a transport error's message (reqwest names the URL).
fn redact(text: &str) -> String {
    static SIG: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"(?i)\bsig=[^&\s)]*").unwrap());
    SIG.replace_all(text, "sig=…").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::http::StatusCode;

    fn refused(status: StatusCode, code: &str) -> azure_core::Error {
        let kind = ErrorKind::HttpResponse {
            status,
            error_code: Some(code.into()),
            raw_response: None,
        };
        azure_core::Error::with_message(kind, "the service said no")
    }

    /// Azurite grants every role, so the 403 a missing role gives is checked here.
    #[test]
    fn a_missing_role_names_the_role_to_assign() {
        let e = error(
            "cannot write az://mlgate/x",
            refused(StatusCode::Forbidden, "AuthorizationPermissionMismatch"),
        );
        assert_eq!(
            e.message,
            "cannot write az://mlgate/x: 403 AuthorizationPermissionMismatch"
        );
        assert!(e
            .hint
            .as_deref()
            .unwrap()
            .contains("Storage Blob Data Contributor"));
        assert!(!e.is_transient());
    }

    #[test]
    fn throttling_and_server_errors_are_transient_and_a_missing_container_is_not() {
        assert!(error("x", refused(StatusCode::ServiceUnavailable, "ServerBusy")).is_transient());
        assert!(error(
            "x",
            refused(StatusCode::InternalServerError, "InternalError")
        )
        .is_transient());
        let missing = error("x", refused(StatusCode::NotFound, "ContainerNotFound"));
        assert!(!missing.is_transient());
        assert!(missing.hint.as_deref().unwrap().contains("container"));
        let io = azure_core::Error::with_message(ErrorKind::Io, "connection reset");
        assert!(error("x", io).is_transient());
    }

    #[test]
    fn a_signature_in_a_transport_message_is_hidden() {
        let io = azure_core::Error::with_message(
            ErrorKind::Io,
            "error sending request for url (http://h/c/b?sv=1&sig=abc%2Fdef&se=2)",
        );
        let e = error("cannot read", io);
        assert!(!e.message.contains("abc"), "{}", e.message);
        assert!(e.message.contains("sig=…&se=2"), "{}", e.message);
    }

    #[test]
    fn the_account_comes_from_the_setting_then_the_config_then_the_environment() {
        let config = AzureConfig {
            account: Some("acme".into()),
            endpoint: None,
        };
        let none = |_: &str| None;
        assert_eq!(
            Azure::from_env(&config, none).endpoint.as_deref(),
            Some("https://acme.blob.core.windows.net")
        );
        let url =
            |k: &str| (k == "MLGATE_AZURE_ACCOUNT_URL").then(|| "http://127.0.0.1:1/dev/".into());
        assert_eq!(
            Azure::from_env(&config, url).endpoint.as_deref(),
            Some("http://127.0.0.1:1/dev")
        );
        let account = |k: &str| (k == "AZURE_STORAGE_ACCOUNT").then(|| "other".into());
        assert_eq!(
            Azure::from_env(&AzureConfig::default(), account)
                .endpoint
                .as_deref(),
            Some("https://other.blob.core.windows.net")
        );
        assert!(Azure::from_env(&AzureConfig::default(), none)
            .endpoint
            .is_none());
    }
}
