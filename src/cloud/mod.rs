//! Cloud services behind mlgate's engines, each behind its cargo feature: AWS (`aws`: the
//! S3 store, SageMaker training, batch transform and Model Registry).

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod sagemaker;

use crate::config::Project;

/// The cloud clients of one context. Nothing is loaded until a step needs it, and then
/// once: a warm function serving many events reuses them.
pub struct Cloud {
    #[cfg(feature = "aws")]
    pub aws: aws::Aws,
}

impl Cloud {
    /// Clients configured from the project and the environment the adapter captured
    /// (`vars` looks a variable up); credentials come from each provider's standard chain.
    pub fn new(project: &Project, vars: impl Fn(&str) -> Option<String>) -> Cloud {
        #[cfg(not(feature = "aws"))]
        let _ = (project, vars);
        Cloud {
            #[cfg(feature = "aws")]
            aws: aws::Aws::from_chain(
                project.config.aws.region.clone(),
                aws::Aws::path_style_from_env(vars),
            ),
        }
    }

    /// AWS clients made from a configuration the adapter loaded itself.
    #[cfg(feature = "aws")]
    pub fn with_aws(aws: aws::Aws) -> Cloud {
        Cloud { aws }
    }
}
