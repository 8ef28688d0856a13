//! `predict`: batch scoring of a CSV file, by default with the production version,
//! in-process or by a SageMaker batch-transform job. The output is the input with
//! prediction columns appended, like a batch transform that joins its input.

use super::Ctx;
use crate::config::ModelConfig;
use crate::data::reader::CsvOptions;
use crate::data::Frame;
use crate::error::{Error, Result};
use crate::model::Predictions;
use crate::report::{Case, Report, Status, StepName};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct PredictOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    /// A version id; default: the production version.
    pub version: Option<String>,
    pub backend: PredictBackend,
}

/// Where scoring runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PredictBackend {
    /// In this process, with the built-in model.
    Local,
    /// A SageMaker batch-transform job (feature `aws`), for SageMaker-trained versions.
    Sagemaker,
}

pub async fn predict(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    opts: &PredictOptions,
) -> Result<Report> {
    let id = match &opts.version {
        Some(v) => v.clone(),
        None => ctx.pointer(name).await?.version.ok_or_else(|| {
            Error::input(format!(
                "model `{name}` has no production version ({})",
                ctx.project
                    .resolve(&ctx.project.pointer_rel(name))
                    .display()
            ))
            .with_hint("pass --version ID to score with a specific version")
        })?,
    };
    let version = ctx.load_version(name, &id).await?;
    let mut kinds = version.model.column_kinds();
    kinds.remove(&version.model.target);
    let input_text = opts.input.to_string_lossy().to_string();
    // A local --input is relative to the working directory, unlike the config's paths.
    let input = if crate::store::is_remote(&input_text) {
        ctx.data_path(&input_text).await?
    } else {
        opts.input.clone()
    };
    // Read like the model's data (its schema's CSV dialect), with the reader
    // `validate-data` uses.
    let csv = ctx.schema(model)?.map(|s| s.csv).unwrap_or_default();
    let frame = Frame::read(&input, &csv, &kinds)?;
    // The batch-transform job and where it wrote, when scoring ran on SageMaker.
    let remote: Option<(String, String)> = match opts.backend {
        PredictBackend::Local => {
            let predictions = version.model.predict(&frame)?;
            write_predictions(&input, &csv, &opts.output, &predictions)?;
            None
        }
        #[cfg(feature = "aws")]
        PredictBackend::Sagemaker => {
            let files = Files {
                input: &input,
                input_text: &input_text,
                output: &opts.output,
            };
            let finished = transform(ctx, name, model, &version, &frame, files).await?;
            Some((finished.job, finished.output_uri))
        }
        #[cfg(not(feature = "aws"))]
        PredictBackend::Sagemaker => {
            let _ = model;
            return Err(Error::not_built("`--backend sagemaker`", "aws"));
        }
    };
    let mut data = serde_json::json!({ "version": id, "rows": frame.rows, "output": opts.output });
    if let Some((job, uri)) = remote {
        data["job"] = job.into();
        data["predictions_uri"] = uri.into();
    }
    let mut report = Report::new(
        StepName::Predict,
        name,
        Status::Pass,
        format!(
            "scored {} rows with `{id}` into `{}`",
            frame.rows,
            opts.output.display()
        ),
    );
    report.cases.push(Case {
        name: "predict".into(),
        failure: None,
    });
    report.data = data;
    Ok(report)
}

/// Scores with a batch-transform job and writes its predictions like the local backend:
/// joined to the input rows for the built-in XGBoost, as the container wrote them
/// otherwise.
#[cfg(feature = "aws")]
async fn transform(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    version: &crate::store::versions::Version,
    frame: &Frame,
    files: Files<'_>,
) -> Result<crate::cloud::sagemaker::transform::Finished> {
    use crate::cloud::sagemaker;
    use crate::model::{Estimator, SageMakerInput};
    let Files {
        input,
        input_text,
        output,
    } = files;
    let cfg = model.train.sagemaker.as_ref().ok_or_else(|| {
        Error::config(format!(
            "model `{name}` has no `train.sagemaker` settings, which `--backend sagemaker` needs (role, transform)"
        ))
    })?;
    let clients = ctx.cloud.aws.clients().await?;
    let bytes = sagemaker::transform::input_bytes(version, frame, input)?;
    let encoded = matches!(
        version.model.estimator,
        Estimator::SageMaker {
            input: SageMakerInput::Xgboost,
            ..
        }
    );
    let uri = (!encoded && input_text.starts_with("s3://")).then_some(input_text);
    let request = sagemaker::transform::Input::bytes(bytes, uri);
    let finished =
        sagemaker::transform::run(clients, cfg, ctx.store.as_ref(), name, version, request).await?;
    if encoded {
        let m = &version.model;
        let text = String::from_utf8_lossy(&finished.output);
        let predictions = sagemaker::xgboost::parse_predictions(
            &text,
            m.task,
            &m.classes,
            frame.rows,
            &finished.output_uri,
        )?;
        write_predictions(input, &CsvOptions::default(), output, &predictions)?;
    } else {
        create_parent(output)?;
        std::fs::write(output, &finished.output).map_err(|e| Error::write(output, e))?;
    }
    Ok(finished)
}

/// The input (its local copy and as given) and where predictions go.
#[cfg(feature = "aws")]
struct Files<'a> {
    input: &'a std::path::Path,
    input_text: &'a str,
    output: &'a std::path::Path,
}

fn create_parent(output: &std::path::Path) -> Result<()> {
    match output.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e)),
        None => Ok(()),
    }
}

/// Copies the input rows and appends `prediction` (and `proba_<class>` for classifiers).
fn write_predictions(
    input: &std::path::Path,
    csv: &CsvOptions,
    output: &std::path::Path,
    predictions: &Predictions,
) -> Result<()> {
    // The output keeps the input's dialect: a `;`-delimited file stays one.
    let (delimiter, quote) = crate::data::reader::csv_dialect(input, csv)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .quote(quote)
        .from_path(input)
        .map_err(|e| Error::input(format!("{}: {e}", input.display())))?;
    create_parent(output)?;
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .quote(quote)
        .from_path(output)
        .map_err(|e| Error::external(format!("{}: {e}", output.display())))?;
    let werr = |e: csv::Error| Error::external(format!("{}: {e}", output.display()));
    let mut header = reader
        .headers()
        .map_err(|e| Error::input(e.to_string()))?
        .clone();
    header.push_field("prediction");
    if let Predictions::Proba { classes, .. } = predictions {
        for c in classes {
            header.push_field(&format!("proba_{c}"));
        }
    }
    writer.write_record(&header).map_err(werr)?;
    for (row, record) in reader.records().enumerate() {
        let mut record = record.map_err(|e| Error::input(format!("{}: {e}", input.display())))?;
        match predictions {
            Predictions::Proba { classes, proba } => {
                let p = &proba[row * classes.len()..(row + 1) * classes.len()];
                let best = crate::evaluate::metrics::argmax_rows(p, classes.len())[0];
                record.push_field(&classes[best]);
                // Shortest round-trip text: the metrics can be recomputed from the file
                // exactly, and small probabilities do not become 0.
                for v in p {
                    record.push_field(&v.to_string());
                }
            }
            Predictions::Values(values) => record.push_field(&values[row].to_string()),
        }
        writer.write_record(&record).map_err(werr)?;
    }
    writer.flush().map_err(|e| Error::write(output, e))
}
