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
