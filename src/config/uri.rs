//! Where things live, as the config writes them: store URIs (`file://`, `s3://`, `az://`)
//! and remote data objects. Only syntax: opening a store is `store`'s job.

use crate::error::{Error, Result};

/// A parsed store URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUri {
    /// A folder, relative paths taken from the config's folder.
    File(String),
    /// A bucket and a key prefix (possibly empty).
    S3 { bucket: String, prefix: String },
    /// An Azure Blob Storage container and a name prefix (possibly empty); the account
    /// is the config's `azure.account`.
    Azure { container: String, prefix: String },
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
        return match split_s3(uri) {
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
    if uri.starts_with("az://") {
        return match split_az(uri) {
            Some((container, prefix)) => Ok(StoreUri::Azure {
                container: container.into(),
                prefix: prefix.into(),
            }),
            None => Err(Error::config(format!(
                "`{uri}` is not a valid Azure Blob location: container names are 3–63 lowercase \
                 letters, digits and single `-`, e.g. `az://mlgate/store`"
            ))),
        };
    }
    Err(Error::config(format!(
        "`{uri}` is not a store URI; use `file://PATH`, `s3://BUCKET/PREFIX` or `az://CONTAINER/PREFIX`"
    )))
}

/// Whether a data path is a remote object (`s3://…`, `az://…`) rather than a local file.
pub fn is_remote(path: &str) -> bool {
    path.starts_with("s3://") || path.starts_with("az://")
}

/// A remote object's scheme, bucket or container, and key; `None` when it is not one.
pub fn split_remote(uri: &str) -> Option<(&'static str, &str, &str)> {
    split_s3(uri)
        .map(|(b, k)| ("s3", b, k))
        .or_else(|| split_az(uri).map(|(c, k)| ("az", c, k)))
}

/// `az://container/some/prefix` → (`container`, `some/prefix`).
pub fn split_az(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("az://")?;
    let (container, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    valid_container(container).then_some((container, prefix.trim_matches('/')))
}

/// Azure's container naming rules.
fn valid_container(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !name.contains("--")
}

/// `s3://bucket/some/prefix` → (`bucket`, `some/prefix`).
pub fn split_s3(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    valid_bucket(bucket).then_some((bucket, prefix.trim_matches('/')))
}

/// S3's bucket naming rules, so a typo is reported before any request.
fn valid_bucket(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
}
