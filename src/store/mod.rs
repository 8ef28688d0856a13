//! Stores: where model versions and published pointers live. One interface; `file://`
//! is the embedded default and cloud stores (`s3://`, feature `aws`; `az://`, feature
//! `azure`) implement the same trait.

#[cfg(feature = "azure")]
pub mod azure;
mod file;
mod repo_backed;
#[cfg(feature = "aws")]
pub mod s3;
pub mod versions;

pub use crate::config::uri::{is_remote, parse_uri, StoreUri};
#[cfg(feature = "azure")]
pub use azure::AzureStore;
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
    /// The object at `key` as a byte stream, or `None` if there is none. Cloud stores
    /// stream from the service: a data file is never held whole in memory.
    async fn reader(&self, key: &str) -> Result<Option<ObjectReader>> {
        Ok(self
            .get(key)
            .await?
            .map(|bytes| Box::pin(std::io::Cursor::new(bytes)) as ObjectReader))
    }
    /// Copies the object at `key` into the file `dest`, streaming; `false` if there is none.
    async fn download(&self, key: &str, dest: &Path) -> Result<bool> {
        let Some(mut reader) = self.reader(key).await? else {
            return Ok(false);
        };
        let mut file = tokio::fs::File::create(dest)
            .await
            .map_err(|e| Error::write(dest, e))?;
        stream_into(
            &mut reader,
            &mut file,
            &format!("{}/{key}", self.uri()),
            dest,
        )
        .await?;
        Ok(true)
    }
    /// Copies the object at `from` to `to` unless an object is already at `to` (never
    /// overwrites); returns whether this call wrote it. This default reads the object and
    /// writes it back; S3 copies server-side (CopyObject, If-None-Match).
    async fn copy_if_absent(&self, from: &str, to: &str) -> Result<bool> {
        let Some(bytes) = self.get(from).await? else {
            return Err(gone(&format!("{}/{from}", self.uri())));
        };
        self.put_if_absent(to, &bytes).await
    }
}

/// An object's content as it arrives.
pub type ObjectReader = std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>;

/// Streams `reader` (the object `what`) into the file `dest`. A read that breaks off is
/// transient (a dropped connection); a write that fails is the machine's.
async fn stream_into(
    reader: &mut ObjectReader,
    file: &mut tokio::fs::File,
    what: &str,
    dest: &Path,
) -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader
            .read(&mut buf)
            .await
            .map_err(|e| Error::transient(format!("cannot read {what}: {e}")).with_source(e))?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n])
            .await
            .map_err(|e| Error::write(dest, e))?;
    }
    file.flush().await.map_err(|e| Error::write(dest, e))
}

/// An object's stream as a blocking `Read`, for the data scan (which reads on threads of
/// its own). It remembers a failure of the stream itself, so that a dropped connection
/// is not taken for a malformed file: see [`BlockingReader::failure`].
pub struct BlockingReader {
    inner: tokio_util::io::SyncIoBridge<ObjectReader>,
    failure: Arc<std::sync::Mutex<Option<String>>>,
}

impl BlockingReader {
    /// Must be called on the runtime, which drives the stream.
    pub fn new(reader: ObjectReader) -> Self {
        BlockingReader {
            inner: tokio_util::io::SyncIoBridge::new(reader),
            failure: Arc::default(),
        }
    }

    /// Where to find out, once reading is over, whether the stream broke off.
    pub fn failure(&self) -> Arc<std::sync::Mutex<Option<String>>> {
        self.failure.clone()
    }
}

impl std::io::Read for BlockingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if let Ok(mut f) = self.failure.lock() {
                *f = Some(e.to_string());
            }
        })
    }
}

/// An object that was there a moment ago (an event named it) and is no more.
pub fn gone(uri: &str) -> Error {
    Error::input(format!(
        "{uri}: no such object (deleted before it could be read?)"
    ))
}

/// `key` under a cloud store's name prefix (none when the prefix is empty).
#[cfg(any(feature = "aws", feature = "azure"))]
fn under(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}/{key}")
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
        StoreUri::S3 { .. } => Err(Error::not_built("the `s3://` store", "aws")),
        StoreUri::Azure { container, prefix } => azure_store(cloud, &container, &prefix).await,
    }
}

#[cfg(feature = "azure")]
async fn azure_store(cloud: &Cloud, container: &str, prefix: &str) -> Result<Box<dyn Store>> {
    let client = cloud.azure.container(container).await?;
    Ok(Box::new(AzureStore::new(client, container, prefix)))
}

#[cfg(not(feature = "azure"))]
async fn azure_store(cloud: &Cloud, _: &str, _: &str) -> Result<Box<dyn Store>> {
    let _ = cloud;
    Err(Error::not_built("the `az://` store", "azure"))
}

/// The whole of a data bucket (`s3`) or container (`az`), for reading uploads and writing
/// beside them (quarantine, predictions).
pub async fn bucket(scheme: &str, name: &str, cloud: &Cloud) -> Result<Box<dyn Store>> {
    match scheme {
        #[cfg(feature = "aws")]
        "s3" => Ok(Box::new(S3Store::new(cloud.aws.s3().await, name, ""))),
        #[cfg(not(feature = "aws"))]
        "s3" => Err(Error::not_built("S3 buckets", "aws")),
        _ => azure_store(cloud, name, "").await,
    }
}

/// The bucket and key of a remote object's URI (`s3://bucket/key`, `az://container/blob`).
async fn object_at(uri: &str, cloud: &Cloud) -> Result<(Box<dyn Store>, String)> {
    let Some((scheme, bucket, key)) =
        crate::config::uri::split_remote(uri).filter(|(_, _, key)| !key.is_empty())
    else {
        return Err(Error::input(format!(
            "`{uri}` is not an object location; use `s3://BUCKET/KEY` or `az://CONTAINER/BLOB`"
        )));
    };
    Ok((self::bucket(scheme, bucket, cloud).await?, key.to_string()))
}

/// Copies the remote object at `uri` into `dest`, streaming.
pub async fn download_uri(uri: &str, dest: &Path, cloud: &Cloud) -> Result<()> {
    let (bucket, key) = object_at(uri, cloud).await?;
    match bucket.download(&key, dest).await? {
        true => Ok(()),
        false => Err(gone(uri)),
    }
}

/// The remote object at `uri` as a blocking reader (see [`BlockingReader`]).
pub async fn read_uri(uri: &str, cloud: &Cloud) -> Result<BlockingReader> {
    let (bucket, key) = object_at(uri, cloud).await?;
    let reader = bucket.reader(&key).await?.ok_or_else(|| gone(uri))?;
    Ok(BlockingReader::new(reader))
}
