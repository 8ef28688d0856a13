//! Cloud services behind mlgate's engines, each behind its cargo feature: AWS (`aws`: the
//! S3 store, SageMaker training, batch transform and Model Registry) and Azure (`azure`:
//! the `az://` store and data in Blob Storage).

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "azure")]
pub mod azure;
#[cfg(feature = "aws")]
pub mod sagemaker;

use crate::config::{AwsConfig, AzureConfig, Project};

/// The cloud clients of one context. Nothing is loaded until a step needs it, and then
/// once: a warm function serving many events reuses them.
pub struct Cloud {
    #[cfg(feature = "aws")]
    pub aws: aws::Aws,
    #[cfg(feature = "azure")]
    pub azure: azure::Azure,
}

impl Cloud {
    /// Clients configured from the project and the environment the adapter captured
    /// (`vars` looks a variable up); credentials come from each provider's standard chain.
    pub fn new(project: &Project, vars: impl Fn(&str) -> Option<String>) -> Cloud {
        let config = &project.config;
        Cloud::from_settings(&config.aws, &config.azure, vars)
    }

    /// Clients from the config's `aws:` and `azure:` settings and the environment.
    pub fn from_settings(
        aws_settings: &AwsConfig,
        azure_settings: &AzureConfig,
        vars: impl Fn(&str) -> Option<String>,
    ) -> Cloud {
        #[cfg(not(any(feature = "aws", feature = "azure")))]
        let _ = &vars;
        #[cfg(not(feature = "aws"))]
        let _ = aws_settings;
        #[cfg(not(feature = "azure"))]
        let _ = azure_settings;
        Cloud {
            #[cfg(feature = "aws")]
            aws: aws::Aws::from_chain(
                aws_settings.region.clone(),
                aws::Aws::path_style_from_env(&vars),
            ),
            #[cfg(feature = "azure")]
            azure: azure::Azure::from_env(azure_settings, &vars),
        }
    }

    /// AWS clients made from a configuration the adapter loaded itself (Azure's, if
    /// built, from the process environment).
    #[cfg(feature = "aws")]
    pub fn with_aws(aws: aws::Aws) -> Cloud {
        Cloud {
            aws,
            #[cfg(feature = "azure")]
            azure: azure::Azure::from_env(&Default::default(), |k| std::env::var(k).ok()),
        }
    }

    /// These Azure clients instead of the ones from the environment.
    #[cfg(feature = "azure")]
    pub fn with_azure(mut self, azure: azure::Azure) -> Cloud {
        self.azure = azure;
        self
    }
}

/// Makes ring rustls's process-wide provider (for clients that do not pick one), once.
#[cfg(feature = "azure")]
pub fn install_ring() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error only means a provider is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
