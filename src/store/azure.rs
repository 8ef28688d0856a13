//! The `az://container/prefix` store on Azure Blob Storage. Write-once by a conditional
//! create (`If-None-Match: *`): of two writers of the same key one succeeds and nothing
//! is overwritten. Large objects go up as blocks committed in one Put Block List under
//! the same condition, so no half-written blob is ever visible; reads stream.

use super::{ObjectReader, Store};
use crate::cloud::azure::{error, status_and_code};
use crate::error::Result;
use azure_core::http::RequestContent;
use azure_storage_blob::models::{BlobClientDownloadOptions, BlobClientUploadOptions};
use azure_storage_blob::BlobContainerClient;
use futures::TryStreamExt;
use std::num::NonZero;

/// Uploads above this size go up in blocks of this size.
pub const DEFAULT_BLOCK_SIZE: u64 = 8 * 1024 * 1024;

pub struct AzureStore {
    container: BlobContainerClient,
    name: String,
    prefix: String,
    block_size: u64,
}

impl AzureStore {
    pub fn new(container: BlobContainerClient, name: &str, prefix: &str) -> Self {
        AzureStore {
            container,
            name: name.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            block_size: DEFAULT_BLOCK_SIZE,
        }
    }

    /// Uploads larger than `bytes` are staged in blocks of that size.
    pub fn with_block_size(mut self, bytes: u64) -> Self {
        self.block_size = bytes.max(1);
        self
    }

    fn key(&self, key: &str) -> String {
        super::under(&self.prefix, key)
    }

    fn object_uri(&self, key: &str) -> String {
        format!("az://{}/{}", self.name, self.key(key))
    }

    fn options(&self) -> BlobClientUploadOptions<'static> {
        BlobClientUploadOptions {
            partition_size: NonZero::new(self.block_size),
            ..Default::default()
        }
    }

    /// The blob's content as a stream, or `None` when there is no such blob (a missing
    /// container is an error: it is a mistake in the URI, not an absence).
    async fn open(&self, key: &str) -> Result<Option<azure_core::http::AsyncResponseBody>> {
        let blob = self.container.blob_client(&self.key(key));
        // One range at a time: memory stays small whatever the blob's size.
        let options = BlobClientDownloadOptions {
            parallel: NonZero::new(1),
            ..Default::default()
        };
        match blob.download(Some(options)).await {
            Ok(found) => Ok(Some(found.body)),
            Err(e) if status_and_code(&e) == (Some(404), Some("BlobNotFound")) => Ok(None),
            Err(e) => Err(error(&format!("cannot read {}", self.object_uri(key)), e)),
        }
    }
}

/// 409 `BlobAlreadyExists` or 412: the blob is there (another writer won, with the same
/// content-addressed bytes). Other 409s (a lease) are real errors.
fn lost_race(e: &azure_core::Error) -> bool {
    matches!(
        status_and_code(e),
        (Some(409), Some("BlobAlreadyExists")) | (Some(412), _)
    )
}

#[async_trait::async_trait]
impl Store for AzureStore {
    fn uri(&self) -> String {
        if self.prefix.is_empty() {
            format!("az://{}", self.name)
        } else {
            format!("az://{}/{}", self.name, self.prefix)
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let Some(body) = self.open(key).await? else {
            return Ok(None);
        };
        let bytes = body
            .collect()
            .await
            .map_err(|e| error(&format!("cannot read {}", self.object_uri(key)), e))?;
        Ok(Some(bytes.to_vec()))
    }

    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<bool> {
        let blob = self.container.blob_client(&self.key(key));
        let content = RequestContent::from(bytes.to_vec());
        match blob
            .upload(content, Some(self.options().if_not_exists()))
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if lost_race(&e) => Ok(false),
            Err(e) => Err(error(&format!("cannot write {}", self.object_uri(key)), e)),
        }
    }

    async fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let blob = self.container.blob_client(&self.key(key));
        let content = RequestContent::from(bytes.to_vec());
        blob.upload(content, Some(self.options()))
            .await
            .map_err(|e| error(&format!("cannot write {}", self.object_uri(key)), e))?;
        Ok(())
    }

    async fn reader(&self, key: &str) -> Result<Option<ObjectReader>> {
        let body = self.open(key).await?;
        Ok(body.map(|b| {
            let chunks = b.map_err(std::io::Error::other);
            Box::pin(tokio_util::io::StreamReader::new(chunks)) as ObjectReader
        }))
    }
}
