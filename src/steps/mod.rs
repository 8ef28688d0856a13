//! The steps of the pipeline. Each takes the project context and a model and returns a
//! report; `run` chains them. State between steps run as separate CI jobs travels through
//! the store and the report folder (`--out`), never through memory.

mod comment;
mod compare;
mod data;
mod deploy;
mod init;
mod model;
mod predict;
mod promote;

pub use comment::comment;
pub use compare::compare;
pub use data::validate_data;
pub use deploy::deploy;
pub use init::{init, InitOptions};
pub use model::{evaluate, train, validate_model};
pub use predict::{predict, PredictBackend, PredictOptions};
pub use promote::promote;

use crate::config::{ModelConfig, Project};
use crate::data::{DataSchema, Frame, Kind};
use crate::error::{Error, Result};
use crate::report::Report;
use crate::store::{self, versions, Store};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Everything a step needs: the checked config, the store, where reports go.
pub struct Ctx {
    pub project: Project,
    pub store: Box<dyn Store>,
    pub out: PathBuf,
    /// Local copies of remote data files (`s3://…`), by URI, fetched once per process.
    downloads: tokio::sync::Mutex<HashMap<String, PathBuf>>,
    scratch: tempfile::TempDir,
}

/// Which model version the later steps act on, written by `train`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub model: String,
    pub version: String,
    pub store: String,
}

impl Ctx {
    /// Loads the config and opens its store. `out` defaults to `.mlgate/reports` beside the config.
    pub async fn open(config: &Path, out: Option<PathBuf>) -> Result<Ctx> {
        let project = Project::load(config)?;
        crate::train::command::set_project_dir(&project.root);
        let region = project.config.aws.region.clone();
        let store = store::open(&project.config.store, &project.root, region.as_deref()).await?;
        let out = out.unwrap_or_else(|| project.root.join(".mlgate/reports"));
        let scratch = tempfile::Builder::new()
            .prefix("mlgate-data-")
            .tempdir()
            .map_err(|e| Error::external(format!("temporary folder: {e}")))?;
        Ok(Ctx {
            project,
            store,
            out,
            downloads: Default::default(),
            scratch,
        })
    }

    /// A local path for a data file of the config: the project's file, or a copy of a
    /// remote object, streamed to disk once per process.
    pub async fn data_path(&self, path: &str) -> Result<PathBuf> {
        if !store::is_remote(path) {
            return Ok(self.project.resolve(path));
        }
        let mut downloads = self.downloads.lock().await;
        if let Some(local) = downloads.get(path) {
            return Ok(local.clone());
        }
        // The file name stays last, so the reader still sees `.csv.gz`, `.parquet`, ….
        let name = path.rsplit('/').next().unwrap_or("data");
        let local = self
            .scratch
            .path()
            .join(format!("{}-{name}", downloads.len()));
        let region = self.project.config.aws.region.as_deref();
        store::download_uri(path, &local, region).await?;
        downloads.insert(path.to_string(), local.clone());
        Ok(local)
    }

    /// The data files a trainer reads.
    pub async fn data_files(&self, model: &ModelConfig) -> Result<crate::train::DataFiles> {
        Ok(crate::train::DataFiles {
            train: self.data_path(&model.data.train).await?,
            eval: self.data_path(&model.data.eval).await?,
            store_uri: self.store.uri(),
        })
    }

    pub fn model_out(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    pub fn save_report(&self, report: &Report) -> Result<()> {
        report.write_files(&self.model_out(&report.model))
    }

    fn candidate_path(&self, name: &str) -> PathBuf {
        self.model_out(name).join("candidate.json")
    }

    pub fn write_candidate(&self, candidate: &Candidate) -> Result<()> {
        let path = self.candidate_path(&candidate.model);
        let dir = self.model_out(&candidate.model);
        std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;
        let text = serde_json::to_string_pretty(candidate).unwrap_or_default();
        std::fs::write(&path, text + "\n").map_err(|e| Error::write(&path, e))
    }

    /// The candidate `train` produced, or the version given with `--version`.
    pub async fn candidate(&self, name: &str, version: Option<&str>) -> Result<versions::Version> {
        let id = match version {
            Some(v) => v.to_string(),
            None => {
                let path = self.candidate_path(name);
                let text = std::fs::read_to_string(&path).map_err(|_| {
                    Error::input(format!(
                        "no candidate for model `{name}`: {} does not exist",
                        path.display()
                    ))
                    .with_hint(
                        "run `mlgate train` first (with the same --out), or pass --version ID",
                    )
                })?;
                let c: Candidate = serde_json::from_str(&text)
                    .map_err(|e| Error::input(format!("{}: unreadable: {e}", path.display())))?;
                c.version
            }
        };
        versions::load(self.store.as_ref(), name, &id).await
    }

    /// Reads the model's data with column kinds from its schema, so types never depend on luck.
    pub async fn read_frame(
        &self,
        model: &ModelConfig,
        path: &str,
        extra: HashMap<String, Kind>,
    ) -> Result<Frame> {
        let mut kinds = HashMap::new();
        if let Some(schema) = &model.data.schema {
            let schema = DataSchema::load(&self.project.resolve(schema))?;
            kinds.extend(
                schema
                    .columns
                    .iter()
                    .map(|(n, c)| (n.clone(), c.kind.kind())),
            );
        }
        kinds.extend(extra);
        Frame::read(&self.data_path(path).await?, &kinds)
    }
}

/// The step names, in pipeline order.
pub const PIPELINE: [&str; 6] = [
    "validate-data",
    "train",
    "evaluate",
    "validate-model",
    "compare",
    "promote",
];

/// validate-data → train → evaluate → validate-model → compare → promote, stopping a
/// model's chain at its first failed step. Reports are pushed as they come, so the
/// caller still has them when a later step errors.
pub async fn run(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    reports: &mut Vec<Report>,
) -> Result<()> {
    macro_rules! step {
        ($e:expr) => {{
            let report = $e;
            ctx.save_report(&report)?;
            let ok = report.passed();
            reports.push(report);
            if !ok {
                return Ok(());
            }
        }};
    }
    step!(validate_data(ctx, name, model).await?);
    step!(train(ctx, name, model).await?);
    step!(evaluate(ctx, name, model, None, None).await?);
    step!(validate_model(ctx, name, model, None).await?);
    step!(compare(ctx, name, model, None).await?);
    step!(promote(ctx, name, model).await?);
    Ok(())
}
