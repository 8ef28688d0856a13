//! What `deploy` mirrors from git into the store for the functions, which have no
//! checkout: the config, the schemas it names and the production pointers, as merged. The
//! files are stored content-addressed and write-once (`published/files/<sha256>`); one
//! small `published/snapshot.json` maps their paths and is the only thing that moves. A
//! function materialises a snapshot into a local folder once and runs there as a project
//! without git, until the snapshot changes.

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

pub const SNAPSHOT: &str = "published/snapshot.json";
const FILES: &str = "published/files/";

/// The published project: file paths (relative to the config's folder) by content digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The config file's name in the folder.
    pub config: String,
    pub files: BTreeMap<String, String>,
}

/// A snapshot ready to run in: its digest and the config file.
#[derive(Debug, Clone, PartialEq)]
pub struct Local {
    pub digest: String,
    pub config: PathBuf,
}

/// Publishes the project's config and schemas as the run has them, and each model's
/// pointer as its repository has it; whether the snapshot changed.
pub async fn publish(ctx: &Ctx) -> Result<bool> {
    let (project, store) = (&ctx.project, ctx.store.as_ref());
    let config = project
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mlgate.yaml".into());
    let mut contents = Vec::new();
    let read = |rel: &str| {
        let path = project.resolve(rel);
        std::fs::read(&path).map_err(|e| Error::read(&path, e))
    };
    contents.push((config.clone(), read(&config)?));
    for (name, model) in &project.config.models {
        if let Some(schema) = model
            .data
            .schema
            .as_ref()
            .filter(|s| !crate::store::is_remote(s))
        {
            contents.push((schema.clone(), read(schema)?));
        }
        let pointer = ctx.pointer(name).await?.render();
        contents.push((project.pointer_rel(name), pointer.into_bytes()));
    }
    let mut files = BTreeMap::new();
    for (rel, bytes) in contents {
        let digest = hex::encode(Sha256::digest(&bytes));
        store
            .put_if_absent(&format!("{FILES}{digest}"), &bytes)
            .await?;
        files.insert(rel, digest);
    }
    let snapshot = serde_json::to_vec_pretty(&Snapshot { config, files }).unwrap_or_default();
    if store.get(SNAPSHOT).await?.as_deref() == Some(&snapshot[..]) {
        return Ok(false);
    }
    store.put(SNAPSHOT, &snapshot).await?;
    Ok(true)
}

/// Materialises the store's snapshot under `dir/<digest>/` (once per digest) and names
/// its config; a function calls this per event and rebuilds its context only when the
/// digest changes.
pub async fn materialise(store: &dyn Store, dir: &Path) -> Result<Local> {
    let bytes = store.get(SNAPSHOT).await?.ok_or_else(|| {
        Error::config(format!(
            "{}: no published project ({SNAPSHOT})",
            store.uri()
        ))
        .with_hint("run `mlgate deploy` on the default branch with this store: it publishes the config, schemas and pointers the functions read")
    })?;
    let snapshot: Snapshot = serde_json::from_slice(&bytes)
        .map_err(|e| Error::config(format!("{}/{SNAPSHOT}: unreadable: {e}", store.uri())))?;
    let digest = hex::encode(&Sha256::digest(&bytes)[..8]);
    let root = dir.join(&digest);
    let local = Local {
        config: root.join(safe(&snapshot.config)?),
        digest,
    };
    let complete = root.join(".complete");
    if complete.exists() {
        return Ok(local);
    }
    for (rel, sha) in &snapshot.files {
        let target = root.join(safe(rel)?);
        let bytes = store.get(&format!("{FILES}{sha}")).await?.ok_or_else(|| {
            Error::config(format!("{}: the published `{rel}` is missing", store.uri()))
        })?;
        if hex::encode(Sha256::digest(&bytes)) != *sha {
            return Err(Error::config(format!(
                "{}: the published `{rel}` does not match its digest",
                store.uri()
            )));
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
        }
        std::fs::write(&target, bytes).map_err(|e| Error::write(&target, e))?;
    }
    std::fs::write(&complete, b"").map_err(|e| Error::write(&complete, e))?;
    Ok(local)
}

/// A published path stays inside the folder it is materialised in.
fn safe(rel: &str) -> Result<&Path> {
    let path = Path::new(rel);
    if path.components().all(|c| matches!(c, Component::Normal(_))) {
        Ok(path)
    } else {
        Err(Error::config(format!(
            "published path `{rel}` leaves its folder"
        )))
    }
}

/// Builds the clouds of a context from its published project, or for reading the
/// snapshot before there is one (`None`): the adapter's own settings and environment.
pub type CloudFor =
    Box<dyn Fn(Option<&crate::config::Project>) -> crate::cloud::Cloud + Send + Sync>;

/// What a function acts on: the project `deploy` published to its store, as a context
/// built once per snapshot and reused across invocations until the snapshot changes.
/// Every adapter holds one; it is the only state a function keeps.
pub struct Deployed {
    store_uri: String,
    /// For reading the snapshot on every event (one small GET).
    store: Box<dyn Store>,
    /// The environment the forge is opened with, tokens included.
    vars: std::collections::HashMap<String, String>,
    /// Where snapshots are materialised (a function's writable temporary folder).
    scratch: PathBuf,
    cloud_for: CloudFor,
    current: tokio::sync::Mutex<Option<(String, std::sync::Arc<Ctx>)>>,
}

impl Deployed {
    /// Opens the store `deploy` publishes to; nothing is read yet.
    pub async fn open(
        store_uri: &str,
        vars: std::collections::HashMap<String, String>,
        scratch: PathBuf,
        cloud_for: CloudFor,
    ) -> Result<Deployed> {
        let folder = std::sync::Arc::new(crate::repo::Folder {
            root: scratch.clone(),
        });
        let store = crate::store::open(store_uri, &scratch, &cloud_for(None), folder).await?;
        Ok(Deployed {
            store_uri: store_uri.to_string(),
            store,
            vars,
            scratch,
            cloud_for,
            current: tokio::sync::Mutex::new(None),
        })
    }

    /// The context of the store's current snapshot; built again only when it changed.
    pub async fn context(&self) -> Result<std::sync::Arc<Ctx>> {
        let local = materialise(self.store.as_ref(), &self.scratch).await?;
        let mut current = self.current.lock().await;
        if let Some((digest, ctx)) = current.as_ref() {
            if *digest == local.digest {
                return Ok(ctx.clone());
            }
        }
        let ctx = std::sync::Arc::new(self.build(&local.config).await?);
        *current = Some((local.digest, ctx.clone()));
        Ok(ctx)
    }

    /// A context for one snapshot, with clients of its own.
    async fn build(&self, config: &Path) -> Result<Ctx> {
        let project = crate::config::Project::load_published(config)?;
        let root = project.root.clone();
        let cloud = (self.cloud_for)(Some(&project));
        let repo = std::sync::Arc::new(crate::repo::Folder { root: root.clone() });
        let store = crate::store::open(&self.store_uri, &root, &cloud, repo.clone()).await?;
        let out = root.join(".mlgate/reports");
        let mut ci = crate::ci::Ci::from_env(self.vars.clone(), Box::new(std::io::sink()));
        let event = crate::forge::Event::default();
        let builder = Ctx::builder(project)
            .out(out.clone())
            .store(store)
            .cloud(cloud)
            .repo(repo);
        let builder = match crate::forge::open(builder.project(), &out, &mut ci, &event) {
            Ok(opened) => builder.forge(opened.forge),
            Err(e) => builder.forge_error(e),
        };
        builder.build().await
    }
}
