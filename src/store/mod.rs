//! Stores: where model versions and published pointers live. One interface; `file://`
//! is the embedded default and cloud stores (`s3://`, feature `aws`) implement the same trait.

mod file;
mod repo_backed;
#[cfg(feature = "aws")]
pub mod s3;
pub mod versions;

pub use crate::config::uri::{is_remote, parse_uri, StoreUri};
pub use file::FileStore;
pub use repo_backed::{is_version_key, RepoBacked, GIT_VERSION_LIMIT};
#[cfg(feature = "aws")]
pub use s3::S3Store;

use crate::cloud::Cloud;
use crate::error::{Error, Result};
use crate::repo::Repo;
use std::path::Path;
use std::sync::Arc;

/// A key-value store of immutable objects plus a few mutable ones (published pointers).
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// The store's URI, for lineage and messages.
    fn uri(&self) -> String;
    /// The object at `key`, or `None` if there is none.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Writes `bytes` at `key` unless an object is already there; never overwrites.
    /// Returns whether this call wrote it.
    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<bool>;
    /// Atomically replaces the object at `key` (for state that moves, like a published pointer).
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;
    /// Whether versions reach git through promotion commits: a store that lives in the
    /// job's workspace, backed by the repository (see [`RepoBacked`]).
    fn in_git(&self) -> bool {
        false
    }
    /// Copies the object at `key` into the file `dest`; `false` if there is none. Stores
    /// of large objects stream rather than hold the object in memory.
    async fn download(&self, key: &str, dest: &Path) -> Result<bool> {
        match self.get(key).await? {
            Some(bytes) => {
                std::fs::write(dest, bytes).map_err(|e| Error::write(dest, e))?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// Opens the store named by `uri`, resolving relative paths from `root`. A `file://`
/// store is backed by `repo`, where promoted versions travel ([`RepoBacked`]).
pub async fn open(
    uri: &str,
    root: &Path,
    cloud: &Cloud,
    repo: Arc<dyn Repo>,
) -> Result<Box<dyn Store>> {
    match parse_uri(uri)? {
        StoreUri::File(path) => Ok(Box::new(RepoBacked {
            local: Box::new(FileStore::new(root.join(path), uri)),
            repo,
        })),
        #[cfg(feature = "aws")]
        StoreUri::S3 { bucket, prefix } => Ok(Box::new(S3Store::new(
            cloud.aws.s3().await,
            &bucket,
            &prefix,
        ))),
        #[cfg(not(feature = "aws"))]
        StoreUri::S3 { .. } => {
            let _ = cloud;
            Err(Error::not_built("the `s3://` store", "aws"))
        }
    }
}

/// The whole of a data bucket, for reading uploads and writing beside them (quarantine,
/// predictions).
pub async fn bucket(name: &str, cloud: &Cloud) -> Result<Box<dyn Store>> {
    #[cfg(feature = "aws")]
    {
        Ok(Box::new(S3Store::new(cloud.aws.s3().await, name, "")))
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (name, cloud);
        Err(Error::not_built("S3 buckets", "aws"))
    }
}

/// Copies the remote object at `uri` (`s3://bucket/key`) into `dest`, streaming.
pub async fn download_uri(uri: &str, dest: &Path, cloud: &Cloud) -> Result<()> {
    let Some((bucket, key)) = crate::config::uri::split_s3(uri).filter(|(_, key)| !key.is_empty())
    else {
        return Err(Error::input(format!(
            "`{uri}` is not an object location; use `s3://BUCKET/KEY`"
        )));
    };
    #[cfg(feature = "aws")]
    {
        let store = S3Store::new(cloud.aws.s3().await, bucket, "");
        if store.download(key, dest).await? {
            Ok(())
        } else {
            Err(Error::input(format!("{uri}: no such object")))
        }
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (bucket, key, dest, cloud);
        Err(Error::not_built("reading `s3://` data", "aws"))
    }
}
