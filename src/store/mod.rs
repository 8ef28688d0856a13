//! Stores: where model versions and published pointers live. One interface; `file://`
//! is the embedded default and cloud stores (`s3://`) implement the same trait.

mod file;
pub mod s3;
pub mod versions;

pub use file::FileStore;
pub use s3::S3Store;

use crate::error::{Error, Result};
use std::path::Path;

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

/// A parsed store URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUri {
    /// A folder, relative paths taken from the config's folder.
    File(String),
    /// A bucket and a key prefix (possibly empty).
    S3 { bucket: String, prefix: String },
}

pub fn parse_uri(uri: &str) -> Result<StoreUri> {
    if let Some(path) = uri.strip_prefix("file://") {
        if path.is_empty() {
            return Err(Error::config(
                "`file://` needs a path, e.g. `file://.mlgate/store`",
            ));
        }
        return Ok(StoreUri::File(path.to_string()));
    }
    if uri.starts_with("s3://") {
        return match s3::split_uri(uri) {
            Some((bucket, prefix)) => Ok(StoreUri::S3 {
                bucket: bucket.into(),
                prefix: prefix.into(),
            }),
            None => Err(Error::config(format!(
                "`{uri}` is not a valid S3 location: bucket names are 3–63 lowercase letters, \
                 digits, `-` and `.`, e.g. `s3://acme-ml/mlgate`"
            ))),
        };
    }
    let scheme = uri.split_once("://").map(|(s, _)| s);
    Err(match scheme {
        Some("az") => Error::config(
            "`az://` stores are not available in this version of mlgate; use `file://PATH` or `s3://BUCKET/PREFIX`",
        ),
        _ => Error::config(format!(
            "`{uri}` is not a store URI; use `file://PATH` or `s3://BUCKET/PREFIX`"
        )),
    })
}

/// Opens the store named by `uri`, resolving relative paths from `root`; `region`
/// overrides the AWS chain's.
pub async fn open(uri: &str, root: &Path, region: Option<&str>) -> Result<Box<dyn Store>> {
    match parse_uri(uri)? {
        StoreUri::File(path) => Ok(Box::new(FileStore::new(root.join(path), uri))),
        StoreUri::S3 { bucket, prefix } => {
            let config = crate::cloud::aws::sdk_config(region).await;
            Ok(Box::new(S3Store::new(
                s3::client(&config),
                &bucket,
                &prefix,
            )))
        }
    }
}

/// Whether a data path is a remote object (`s3://…`) rather than a local file.
pub fn is_remote(path: &str) -> bool {
    path.starts_with("s3://")
}

/// Copies the remote object at `uri` (`s3://bucket/key`) into `dest`, streaming.
pub async fn download_uri(uri: &str, dest: &Path, region: Option<&str>) -> Result<()> {
    let Some((bucket, key)) = s3::split_uri(uri).filter(|(_, key)| !key.is_empty()) else {
        return Err(Error::input(format!(
            "`{uri}` is not an object location; use `s3://BUCKET/KEY`"
        )));
    };
    let config = crate::cloud::aws::sdk_config(region).await;
    let store = S3Store::new(s3::client(&config), bucket, "");
    if store.download(key, dest).await? {
        Ok(())
    } else {
        Err(Error::input(format!("{uri}: no such object")))
    }
}
