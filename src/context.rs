//! The context a step runs in, built once by the adapter and handed to
//! [`crate::steps::execute`]: the project, its store, where reports go, what started the
//! run, the forge, the repository and the cloud clients. Steps read nothing else — no
//! process environment, no global state — so one process can hold contexts for several
//! projects (a warm function serving many events).

use crate::ci::Ci;
use crate::cloud::Cloud;
use crate::config::{ModelConfig, Project};
use crate::data::reader::CsvOptions;
use crate::data::{DataSchema, Frame, Kind};
use crate::error::{Error, Result};
use crate::forge::{self, Event, Forge};
use crate::pointer::Pointer;
use crate::repo::{self, Repo};
use crate::report::{Report, StepName};
use crate::store::{self, versions, Store};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything a step needs. Build it with [`Ctx::builder`], or [`Ctx::from_ci`] where a
/// CI runner's environment says the rest.
pub struct Ctx {
    pub project: Project,
    pub store: Box<dyn Store>,
    /// Reports and step state (`candidate.json`) go here.
    pub out: PathBuf,
    /// What started the run: the pull request, the pushed commit.
    pub event: Event,
    pub repo: Arc<dyn Repo>,
    /// Opened when the context is built; an error (a missing token) is kept for the
    /// steps that need the forge, so the others run without one.
    forge: std::result::Result<Arc<dyn Forge>, Error>,
    pub cloud: Cloud,
    /// Local copies of remote data files (`s3://…`), by URI, fetched once per context.
    downloads: tokio::sync::Mutex<HashMap<String, PathBuf>>,
    /// A temporary folder for downloads, made on first use: most runs download nothing,
    /// and a run killed before its end leaves no empty folder behind.
    scratch: std::sync::OnceLock<tempfile::TempDir>,
}

/// Which model version the later steps act on, written by `train`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub model: String,
    pub version: String,
    pub store: String,
}

/// Sets the parts of a [`Ctx`] an adapter has made itself; the rest get their defaults.
pub struct CtxBuilder {
    project: Project,
    out: Option<PathBuf>,
    event: Event,
    forge: Option<std::result::Result<Arc<dyn Forge>, Error>>,
    repo: Option<Arc<dyn Repo>>,
    store: Option<Box<dyn Store>>,
    cloud: Option<Cloud>,
}

impl CtxBuilder {
    /// The project the context is for.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// Default: `.mlgate/reports` beside the config.
    pub fn out(mut self, out: PathBuf) -> Self {
        self.out = Some(out);
        self
    }

    /// Default: no event (a run on a developer's machine).
    pub fn event(mut self, event: Event) -> Self {
        self.event = event;
        self
    }

    /// Default: the local forge over the project's checkout.
    pub fn forge(mut self, forge: Arc<dyn Forge>) -> Self {
        self.forge = Some(Ok(forge));
        self
    }

    /// A forge that could not be opened: steps that need one report `error`.
    pub fn forge_error(mut self, error: Error) -> Self {
        self.forge = Some(Err(error));
        self
    }

    /// Default: the project's checkout, else its bare folder.
    pub fn repo(mut self, repo: Arc<dyn Repo>) -> Self {
        self.repo = Some(repo);
        self
    }

    /// Default: the store the config names.
    pub fn store(mut self, store: Box<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Default: clients from each provider's standard chain, loaded on first use.
    pub fn cloud(mut self, cloud: Cloud) -> Self {
        self.cloud = Some(cloud);
        self
    }

    pub async fn build(self) -> Result<Ctx> {
        let project = self.project;
        let out = self.out.unwrap_or_else(|| default_out(&project));
        let cloud = self.cloud.unwrap_or_else(|| Cloud::new(&project, |_| None));
        let repo = self.repo.unwrap_or_else(|| repo::open(&project.root, None));
        let store = match self.store {
            Some(store) => store,
            None => {
                let (uri, root) = (&project.config.store, &project.root);
                store::open(uri, root, &cloud, repo.clone()).await?
            }
        };
        let forge = self.forge.unwrap_or_else(|| {
            Ok(Arc::new(forge::LocalForge::open(
                &project.root,
                out.join("pull-requests"),
            )))
        });
        Ok(Ctx {
            project,
            store,
            out,
            event: self.event,
            repo,
            forge,
            cloud,
            downloads: Default::default(),
            scratch: Default::default(),
        })
    }
}

/// Where reports go unless the adapter says: `.mlgate/reports` beside the config.
fn default_out(project: &Project) -> PathBuf {
    project.root.join(".mlgate/reports")
}

impl Ctx {
    pub fn builder(project: Project) -> CtxBuilder {
        CtxBuilder {
            project,
            out: None,
            event: Event::default(),
            forge: None,
            repo: None,
            store: None,
            cloud: None,
        }
    }

    /// The context of a step run by a CI job or a developer: the config at `config`,
    /// and the event, forge, token and cloud settings from the environment `ci` captured.
    /// The repository is the checkout when there is one, else the forge's API.
    pub async fn from_ci(config: &Path, out: Option<PathBuf>, ci: &mut Ci) -> Result<Ctx> {
        let project = Project::load(config)?;
        let out = out.unwrap_or_else(|| default_out(&project));
        let event = Event::from_ci(ci)?;
        let cloud = Cloud::new(&project, |name| ci.var(name).map(str::to_string));
        let builder = Ctx::builder(project).out(out.clone()).cloud(cloud);
        let builder = match forge::open(&builder.project, &out, ci, &event) {
            Ok(opened) => {
                let repo = repo::open(&builder.project.root, opened.api);
                builder.forge(opened.forge).repo(repo)
            }
            Err(e) => builder.forge_error(e),
        };
        builder.event(event).build().await
    }

    /// The forge, or why it could not be opened.
    pub fn forge(&self) -> Result<&dyn Forge> {
        self.forge.as_deref().map_err(Clone::clone)
    }

    /// The model's production pointer as this run sees it (a checkout's working tree,
    /// else the repository at the run's commit); empty when there is none yet.
    pub async fn pointer(&self, name: &str) -> Result<Pointer> {
        let rel = self.project.pointer_rel(name);
        let label = self.project.resolve(&rel);
        match self.repo.read(&rel, None).await? {
            Some(text) => Pointer::parse(&label, &text, name),
            None => Ok(Pointer::empty(name)),
        }
    }

    /// A stored version, ready to score in this project.
    pub async fn load_version(&self, name: &str, id: &str) -> Result<versions::Version> {
        let mut version = versions::load(self.store.as_ref(), name, id).await?;
        version.model.workdir = crate::model::Workdir(Some(self.project.root.clone()));
        Ok(version)
    }

    /// A fresh path in this context's scratch folder, for one-off downloads.
    pub fn scratch_file(&self, name: &str) -> Result<PathBuf> {
        Ok(self.scratch()?.join(name))
    }

    fn scratch(&self) -> Result<&Path> {
        if let Some(dir) = self.scratch.get() {
            return Ok(dir.path());
        }
        let dir = tempfile::Builder::new()
            .prefix("mlgate-data-")
            .tempdir()
            .map_err(|e| Error::external(format!("temporary folder: {e}")).with_source(e))?;
        // Two first uses at once: one folder is kept, the other removed as it drops.
        Ok(self.scratch.get_or_init(|| dir).path())
    }

    /// A local path for a data file of the config: the project's file, or a copy of a
    /// remote object, streamed to disk once per context.
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
        let local = self.scratch_file(&format!("{}-{name}", downloads.len()))?;
        store::download_uri(path, &local, &self.cloud).await?;
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

    /// Takes away the model's reports of `steps` from an earlier run.
    pub fn clear_reports(&self, name: &str, steps: &[StepName]) -> Result<()> {
        let dir = self.model_out(name);
        steps
            .iter()
            .try_for_each(|step| crate::report::remove_files(&dir, *step))
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
                    let hint = match self.event.runner {
                        Some(runner) => format!(
                            "run `mlgate train` earlier in this {runner} job (with the same --out): \
                             the report folder and a `file://` store do not outlive a job"
                        ),
                        None => "run `mlgate train` first (with the same --out), or pass --version ID"
                            .into(),
                    };
                    Error::input(format!(
                        "no candidate for model `{name}`: {} does not exist",
                        path.display()
                    ))
                    .with_hint(hint)
                })?;
                let c: Candidate = serde_json::from_str(&text)
                    .map_err(|e| Error::input(format!("{}: unreadable: {e}", path.display())))?;
                c.version
            }
        };
        self.load_version(name, &id).await
    }

    /// Reads the model's data with the CSV dialect and column kinds of its schema, through
    /// the reader `validate-data` uses, so types never depend on luck.
    pub async fn read_frame(
        &self,
        model: &ModelConfig,
        path: &str,
        extra: HashMap<String, Kind>,
    ) -> Result<Frame> {
        let (csv, kinds) = self.frame_options(model, extra)?;
        Frame::read(&self.data_path(path).await?, &csv, &kinds)
    }

    /// The CSV dialect and column kinds [`Ctx::read_frame`] reads with.
    pub fn frame_options(
        &self,
        model: &ModelConfig,
        extra: HashMap<String, Kind>,
    ) -> Result<(CsvOptions, HashMap<String, Kind>)> {
        let schema = self.schema(model)?;
        let kinds = frame_kinds(schema.as_ref(), extra);
        Ok((schema.map(|s| s.csv).unwrap_or_default(), kinds))
    }

    /// The model's data schema, if it has one.
    pub fn schema(&self, model: &ModelConfig) -> Result<Option<DataSchema>> {
        let Some(path) = &model.data.schema else {
            return Ok(None);
        };
        DataSchema::load(&self.project.resolve(path)).map(Some)
    }
}

/// Column kinds for a frame: the schema's, then `extra` (the model's own).
pub fn frame_kinds(
    schema: Option<&DataSchema>,
    extra: HashMap<String, Kind>,
) -> HashMap<String, Kind> {
    let mut kinds: HashMap<String, Kind> = schema
        .iter()
        .flat_map(|s| &s.columns)
        .map(|(n, c)| (n.clone(), c.kind.kind()))
        .collect();
    kinds.extend(extra);
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_scratch_folder_is_made_on_first_use_and_removed_with_the_context() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("mlgate.yaml");
        let yaml = "version: 1\nmodels:\n  m:\n    task: classification\n    target: y\n    data: {train: train.csv, eval: eval.csv}\n";
        std::fs::write(&config, yaml).unwrap();
        for data in ["train.csv", "eval.csv"] {
            std::fs::write(dir.path().join(data), "x,y\n1,a\n").unwrap();
        }
        let project = Project::load(&config).unwrap();
        let ctx = Ctx::builder(project).build().await.unwrap();
        assert!(ctx.scratch.get().is_none(), "made before any use");
        let (a, b) = (
            ctx.scratch_file("a").unwrap(),
            ctx.scratch_file("b").unwrap(),
        );
        let folder = a.parent().unwrap().to_path_buf();
        assert_eq!(b.parent(), Some(folder.as_path()));
        assert!(folder.is_dir());
        drop(ctx);
        assert!(!folder.exists(), "{} left behind", folder.display());
    }
}
