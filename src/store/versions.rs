//! Model versions: an immutable, content-addressed artifact plus its manifest.
//!
//! Layout under the store: `models/<name>/versions/<id>/model.json` and `manifest.json`.
//! The id is a prefix of the artifact's SHA-256, so the same model saved twice is one
//! version, and the manifest is written last: a version without one is incomplete.

use super::Store;
use crate::error::{Error, Result};
use crate::evaluate::Evaluation;
use crate::model::Model;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hex characters of the SHA-256 kept in a version id (64 bits: no collision in practice).
const ID_LEN: usize = 16;

/// Where a version came from and how it scored: everything needed to trust or reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub model: String,
    pub version: String,
    /// `sha256:<hex>` of `model.json`.
    pub artifact: String,
    pub task: String,
    pub algorithm: String,
    pub lineage: Lineage,
    /// Metrics on the evaluation data at training time.
    pub evaluation: Evaluation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    /// Commit of the project the version was trained from, if in a git repository.
    pub git_commit: Option<String>,
    /// Whether tracked files differed from that commit.
    pub git_dirty: bool,
    /// Fingerprints of the data, by role (`train`, `eval`).
    pub data: std::collections::BTreeMap<String, String>,
    pub params: serde_json::Value,
    pub backend: String,
    /// Backend-specific facts (iterations, job ids).
    pub details: serde_json::Map<String, serde_json::Value>,
    pub mlgate_version: String,
    /// Versions of the software that trained it (mlgate, its compiler; the backend's own
    /// when it reports them).
    #[serde(default)]
    pub libraries: std::collections::BTreeMap<String, String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub training_seconds: f64,
}

/// A version as loaded from the store.
#[derive(Debug, Clone)]
pub struct Version {
    pub manifest: Manifest,
    pub model: Model,
}

pub fn version_id(artifact: &[u8]) -> (String, String) {
    let digest = hex::encode(Sha256::digest(artifact));
    (digest[..ID_LEN].to_string(), format!("sha256:{digest}"))
}

pub fn key(model: &str, version: &str, file: &str) -> String {
    format!("models/{model}/versions/{version}/{file}")
}

/// Saves a version unless it exists. Returns its id and whether this call created it;
/// an existing version keeps its original manifest (first lineage wins).
pub async fn save(
    store: &dyn Store,
    name: &str,
    model: &Model,
    mut manifest: Manifest,
) -> Result<(String, bool)> {
    let artifact = model.to_json();
    let (id, digest) = version_id(&artifact);
    if store.get(&key(name, &id, "manifest.json")).await?.is_some() {
        return Ok((id, false));
    }
    manifest.version = id.clone();
    manifest.artifact = digest;
    store
        .put_if_absent(&key(name, &id, "model.json"), &artifact)
        .await?;
    let mut bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| Error::external(e.to_string()))?;
    bytes.push(b'\n');
    let created = store
        .put_if_absent(&key(name, &id, "manifest.json"), &bytes)
        .await?;
    Ok((id, created))
}

/// Loads a version and verifies the artifact against the manifest's digest.
pub async fn load(store: &dyn Store, name: &str, id: &str) -> Result<Version> {
    let missing = || {
        Error::input(format!(
            "model `{name}` version {id} is not in the store {}",
            store.uri()
        ))
        .with_hint("run `mlgate train` to create it, or check the store URI")
    };
    let manifest_bytes = store
        .get(&key(name, id, "manifest.json"))
        .await?
        .ok_or_else(missing)?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes).map_err(|e| {
        Error::input(format!(
            "{}: unreadable manifest: {e}",
            key(name, id, "manifest.json")
        ))
    })?;
    let artifact = store
        .get(&key(name, id, "model.json"))
        .await?
        .ok_or_else(missing)?;
    if version_id(&artifact).1 != manifest.artifact {
        return Err(Error::input(format!(
            "model `{name}` version {id}: the artifact does not match its manifest's digest; the store was modified"
        )));
    }
    let model = Model::from_json(&artifact, &key(name, id, "model.json"))?;
    Ok(Version { manifest, model })
}

/// Stores the training data's profile beside a version's manifest: the reference its
/// data is checked for drift against. Write-once like the rest of the version.
pub async fn save_profile(store: &dyn Store, name: &str, id: &str, profile: &[u8]) -> Result<()> {
    store
        .put_if_absent(&key(name, id, "profile.json"), profile)
        .await
        .map(|_| ())
}

/// The stored training-data profile of a version, if it has one.
pub async fn load_profile(store: &dyn Store, name: &str, id: &str) -> Result<Option<Vec<u8>>> {
    store.get(&key(name, id, "profile.json")).await
}
