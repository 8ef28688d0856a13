//! Data: reading tables, checking them against a schema, fingerprinting them for lineage.

mod bulk;
pub mod drift;
pub mod frame;
pub mod infer;
mod number;
mod pattern;
pub mod profile;
pub mod reader;
pub mod rows;
pub mod scan;
pub mod schema;
pub mod sketch;
mod vocabulary;

pub use frame::{Column, Frame, Kind};
pub use schema::{DataSchema, SchemaCheck};

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::Path;

/// `sha256:<hex>` of a file's bytes: the identity of a data set in a model's lineage.
pub fn fingerprint(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
    // Read in 1 MiB blocks: `io::copy`'s own 8 KiB buffer made a system call per 8 KiB.
    let mut file = std::io::BufReader::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| Error::read(path, e))?;
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}
