//! `mlgate schema infer`: a starting schema from what one file holds, for a user to edit.

use super::profile::{ColumnProfile, Profile};
use super::scan::{scan, ScanOptions};
use super::schema::{ColumnSchema, ColumnType, DataSchema};
use crate::error::{Error, Result};
use std::path::Path;

/// Columns with at most this many distinct values get an `allowed` list.
const MAX_ALLOWED: usize = 20;

pub fn infer_file(path: &Path) -> Result<String> {
    let s = scan(path, None, &ScanOptions::default())?;
    let schema = infer(&s.profile);
    let yaml = serde_yaml::to_string(&schema)
        .map_err(|e| Error::external(format!("cannot render the schema: {e}")))?;
    Ok(format!(
        "# Inferred by `mlgate schema infer` from {} ({} rows): review every rule.\n{yaml}",
        s.profile.source, s.profile.rows
    ))
}

/// Writes a new file; never replaces one.
pub fn write_new(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::usage(format!("{} exists; not overwriting it", path.display()))
            } else {
                Error::write(path, e)
            }
        })?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::write(path, e))
}

/// A schema the profiled data passes: observed types, nullability and ranges; an
/// allowed list for low-cardinality text; uniqueness for all-distinct text.
pub fn infer(profile: &Profile) -> DataSchema {
    DataSchema {
        columns: profile
            .columns
            .iter()
            .map(|(name, c)| (name.clone(), column(c)))
            .collect(),
        ..DataSchema::default()
    }
}

fn column(c: &ColumnProfile) -> ColumnSchema {
    let text = matches!(c.kind, ColumnType::String | ColumnType::Boolean);
    let counts = c.categories.as_ref().filter(|k| k.other == 0);
    let allowed = counts
        .filter(|k| text && k.counts.len() <= MAX_ALLOWED && c.count > k.counts.len() as u64)
        .map(|k| {
            let mut v: Vec<String> = k.counts.keys().cloned().collect();
            v.sort();
            v
        });
    let unique = c.kind == ColumnType::String
        && c.count > 1
        && c.nulls == 0
        && counts.is_some_and(|k| k.counts.len() as u64 == c.count);
    ColumnSchema {
        kind: c.kind,
        nullable: c.nulls > 0,
        max_null_share: None,
        optional: false,
        min: c.numeric.as_ref().map(|n| n.min),
        max: c.numeric.as_ref().map(|n| n.max),
        allowed,
        pattern: None,
        unique,
    }
}
