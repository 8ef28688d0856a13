//! The one place the config's backends are matched to the engines that run them, each
//! behind its cargo feature: a backend compiled out is a clear error, never a surprise.

use crate::config::{Backend, ModelConfig};
#[cfg(not(feature = "aws"))]
use crate::error::Error;
use crate::error::Result;
use crate::train::{command::CommandTrainer, Builtin, DataFiles, Trainer};
use crate::Ctx;

/// The trainer the model's config asks for.
pub async fn trainer_for(
    ctx: &Ctx,
    config: &ModelConfig,
    files: DataFiles,
) -> Result<Box<dyn Trainer>> {
    let train = &config.train;
    Ok(match (&train.backend, &train.command, &train.sagemaker) {
        (Backend::Command, Some(command), _) => Box::new(CommandTrainer {
            config: command.clone(),
            dir: ctx.project.root.clone(),
            train_data: files.train,
            eval_data: files.eval,
        }),
        #[cfg(feature = "aws")]
        (Backend::Sagemaker, _, Some(_)) => Box::new(sagemaker_trainer(ctx, config, files).await?),
        #[cfg(not(feature = "aws"))]
        (Backend::Sagemaker, _, Some(_)) => {
            return Err(Error::not_built("the `sagemaker` training backend", "aws"))
        }
        _ => Box::new(Builtin),
    })
}

/// The SageMaker trainer of a model whose config has `train.sagemaker`.
#[cfg(feature = "aws")]
pub async fn sagemaker_trainer(
    ctx: &Ctx,
    config: &ModelConfig,
    files: DataFiles,
) -> Result<crate::cloud::sagemaker::training::SageMakerTrainer> {
    let sagemaker = config.train.sagemaker.as_ref().ok_or_else(|| {
        crate::error::Error::config("this model has no `train.sagemaker` settings")
    })?;
    Ok(crate::cloud::sagemaker::training::SageMakerTrainer {
        config: sagemaker.clone(),
        clients: ctx.cloud.aws.clients().await?.clone(),
        store_uri: files.store_uri,
        commit: ctx.repo.head().await?,
        train_path: files.train,
        eval_path: files.eval,
        attach: None,
    })
}

/// What a step did to the SageMaker Model Registry: notes for the report, data for its
/// JSON (null when the model has no registry).
#[derive(Default)]
pub struct Registry {
    pub notes: Vec<String>,
    pub data: serde_json::Value,
}
