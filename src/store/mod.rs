//! Stores: where model versions and published pointers live. One interface; `file://`
//! is the embedded default and cloud stores implement the same trait.

mod file;
pub mod versions;

pub use file::FileStore;

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
}

/// A parsed store URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUri {
    /// A folder, relative paths taken from the config's folder.
    File(String),
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
    let scheme = uri.split_once("://").map(|(s, _)| s);
    Err(match scheme {
        Some(s @ ("s3" | "az")) => Error::config(format!(
            "`{s}://` stores are not available in this version of mlgate; use `file://PATH`"
        )),
        _ => Error::config(format!("`{uri}` is not a store URI; use `file://PATH`")),
    })
}

/// Opens the store named by `uri`, resolving relative paths from `root`.
pub fn open(uri: &str, root: &Path) -> Result<Box<dyn Store>> {
    match parse_uri(uri)? {
        StoreUri::File(path) => Ok(Box::new(FileStore::new(root.join(path), uri))),
    }
}
