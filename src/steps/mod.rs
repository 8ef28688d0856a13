//! The steps of the pipeline, and [`execute`], the one entry point every adapter calls.
//! Each step takes the context and a model and returns a report; `run` chains them.
//! State between steps run as separate CI jobs travels through the store and the report
//! folder (`--out`), never through memory.

mod backends;
mod comment;
mod compare;
pub(crate) mod data;
mod deploy;
mod init;
mod model;
mod predict;
mod promote;

pub use crate::context::{Candidate, Ctx, CtxBuilder};
pub use crate::report::StepName;
#[cfg(feature = "aws")]
pub(crate) use backends::sagemaker_trainer;
pub use comment::comment;
pub use compare::compare;
pub use data::validate_data;
pub use deploy::deploy;
pub use init::{init, InitOptions};
#[cfg(feature = "aws")]
pub(crate) use model::train_by;
pub use model::{evaluate, train, validate_model};
pub use predict::{predict, PredictBackend, PredictOptions};
pub use promote::promote;

use crate::config::ModelConfig;
use crate::error::{Error, Result};
use crate::report::Report;
use std::fmt;

/// A step and its arguments.
#[derive(Debug, Clone)]
pub enum Step {
    ValidateData,
    Train,
    /// Scores the candidate, or `version`, on the evaluation data, or `data`.
    Evaluate {
        version: Option<String>,
        data: Option<String>,
    },
    ValidateModel {
        version: Option<String>,
    },
    Compare {
        version: Option<String>,
    },
    Promote,
    Deploy,
    Comment,
    Predict(PredictOptions),
    /// The pipeline: validate-data → train → evaluate → validate-model → compare → promote.
    Run,
}

impl Step {
    pub fn name(&self) -> StepName {
        match self {
            Step::ValidateData => StepName::ValidateData,
            Step::Train => StepName::Train,
            Step::Evaluate { .. } => StepName::Evaluate,
            Step::ValidateModel { .. } => StepName::ValidateModel,
            Step::Compare { .. } => StepName::Compare,
            Step::Promote => StepName::Promote,
            Step::Deploy => StepName::Deploy,
            Step::Comment => StepName::Comment,
            Step::Predict(_) => StepName::Predict,
            Step::Run => StepName::Run,
        }
    }

    /// Runs the step for one model, pushing its reports as they come.
    async fn run(
        &self,
        ctx: &Ctx,
        name: &str,
        model: &ModelConfig,
        reports: &mut Vec<Report>,
    ) -> Result<()> {
        ctx.clear_reports(name, &[self.name()])?;
        let report = match self {
            Step::Run => return run(ctx, name, model, reports).await,
            Step::ValidateData => validate_data(ctx, name, model).await?,
            Step::Train => train(ctx, name, model).await?,
            Step::Evaluate { version, data } => {
                evaluate(ctx, name, model, version.as_deref(), data.as_deref()).await?
            }
            Step::ValidateModel { version } => {
                validate_model(ctx, name, model, version.as_deref()).await?
            }
            Step::Compare { version } => compare(ctx, name, model, version.as_deref()).await?,
            Step::Promote => promote(ctx, name, model).await?,
            Step::Deploy => deploy(ctx, name, model).await?,
            Step::Comment => comment(ctx, name, model).await?,
            Step::Predict(opts) => predict(ctx, name, model, opts).await?,
        };
        ctx.save_report(&report)?;
        reports.push(report);
        Ok(())
    }
}

/// The models a step acts on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Selection {
    /// Every model of the config, in its order.
    #[default]
    All,
    /// The one model named.
    Model(String),
}

impl Selection {
    /// `None` selects every model.
    pub fn from_option(model: Option<String>) -> Selection {
        model.map_or(Selection::All, Selection::Model)
    }
}

/// A step stopped by an error, with the reports made before it (still worth publishing).
#[derive(Debug, Clone)]
pub struct Halted {
    pub error: Error,
    pub reports: Vec<Report>,
}

impl fmt::Display for Halted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Halted {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<Halted> for Error {
    fn from(halted: Halted) -> Error {
        halted.error
    }
}

/// Runs `step` for each selected model and returns every report, each also written to
/// the context's report folder. A failed gate or validation is a report that did not
/// pass; an error (bad input, a service down) stops the step at that model.
pub async fn execute(
    ctx: &Ctx,
    step: &Step,
    selection: &Selection,
) -> std::result::Result<Vec<Report>, Halted> {
    let only = match selection {
        Selection::All => None,
        Selection::Model(name) => Some(name.as_str()),
    };
    let models = ctx.project.models(only).map_err(|error| Halted {
        error,
        reports: Vec::new(),
    })?;
    let mut reports = Vec::new();
    for (name, model) in models {
        tracing::info!(model = name, step = %step.name(), "running");
        if let Err(error) = step.run(ctx, name, model, &mut reports).await {
            return Err(Halted { error, reports });
        }
    }
    Ok(reports)
}

/// The step names `run` chains, in order.
pub const PIPELINE: [StepName; 6] = StepName::PIPELINE;

/// validate-data → train → evaluate → validate-model → compare → promote, stopping a
/// model's chain at its first failed step. Reports are pushed as they come, so the
/// caller still has them when a later step errors.
pub async fn run(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    reports: &mut Vec<Report>,
) -> Result<()> {
    let chain = [
        Step::ValidateData,
        Step::Train,
        Step::Evaluate {
            version: None,
            data: None,
        },
        Step::ValidateModel { version: None },
        Step::Compare { version: None },
        Step::Promote,
    ];
    debug_assert!(chain.iter().map(Step::name).eq(PIPELINE));
    // The run's reports replace the last run's, also those of steps it will not reach.
    ctx.clear_reports(name, &PIPELINE)?;
    for step in &chain {
        Box::pin(step.run(ctx, name, model, reports)).await?;
        if !reports.last().is_some_and(Report::passed) {
            break;
        }
    }
    Ok(())
}

/// What a task spawned beside a step's own work returned; its panic goes on in the
/// step, as if the work had run there.
pub(crate) async fn joined<T>(task: tokio::task::JoinHandle<T>) -> T {
    task.await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// Logs the time each phase of a step took (`-vv`), for finding where time goes.
pub(crate) struct Phases(std::cell::Cell<std::time::Instant>);

impl Phases {
    pub(crate) fn start() -> Phases {
        Phases(std::cell::Cell::new(std::time::Instant::now()))
    }

    pub(crate) fn done(&self, what: &str) {
        let now = std::time::Instant::now();
        let ms = (now - self.0.replace(now)).as_secs_f64() * 1000.0;
        tracing::debug!("{what}: {ms:.0} ms");
    }
}
