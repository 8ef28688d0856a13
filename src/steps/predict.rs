//! `predict`: local batch scoring of a CSV file, by default with the production version.
//! The output is the input with prediction columns appended, like a batch transform
//! that joins its input.

use super::Ctx;
use crate::config::ModelConfig;
use crate::data::Frame;
use crate::error::{Error, Result};
use crate::model::Predictions;
use crate::pointer::Pointer;
use crate::report::{Case, Report, Status};
use std::path::PathBuf;

pub struct PredictOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    /// A version id; default: the production version.
    pub version: Option<String>,
}

pub async fn predict(
    ctx: &Ctx,
    name: &str,
    _model: &ModelConfig,
    opts: &PredictOptions,
) -> Result<Report> {
    let id = match &opts.version {
        Some(v) => v.clone(),
        None => {
            let path = ctx.project.resolve(&ctx.project.pointer_rel(name));
            Pointer::read(&path, name)?.version.ok_or_else(|| {
                Error::input(format!(
                    "model `{name}` has no production version ({})",
                    path.display()
                ))
                .with_hint("pass --version ID to score with a specific version")
            })?
        }
    };
    let version = crate::store::versions::load(ctx.store.as_ref(), name, &id).await?;
    let mut kinds = version.model.column_kinds();
    kinds.remove(&version.model.target);
    let frame = Frame::read_csv(&opts.input, &kinds)?;
    let predictions = version.model.predict(&frame)?;
    write_predictions(&opts.input, &opts.output, &predictions)?;
    let mut report = Report::new(
        "predict",
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
    report.data = serde_json::json!({ "version": id, "rows": frame.rows, "output": opts.output });
    Ok(report)
}

/// Copies the input rows and appends `prediction` (and `proba_<class>` for classifiers).
fn write_predictions(input: &PathBuf, output: &PathBuf, predictions: &Predictions) -> Result<()> {
    let mut reader = csv::Reader::from_path(input)
        .map_err(|e| Error::input(format!("{}: {e}", input.display())))?;
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    }
    let mut writer = csv::Writer::from_path(output)
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
                for v in p {
                    record.push_field(&format!("{v:.6}"));
                }
            }
            Predictions::Values(values) => record.push_field(&values[row].to_string()),
        }
        writer.write_record(&record).map_err(werr)?;
    }
    writer.flush().map_err(|e| Error::write(output, e))
}
