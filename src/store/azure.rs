//! The `az://container/prefix` store on Azure Blob Storage. Write-once by a conditional
//! create (`If-None-Match: *`): of two writers of the same key one succeeds and nothing
//! is overwritten. Large objects go up as blocks committed in one Put Block List under
//! the same condition, so no half-written blob is ever visible; reads stream, and a copy
//! streams one block at a time (Azurite has no Put Blob From URL to test a server-side
//! copy against).

use super::{ObjectReader, Store};
use crate::cloud::azure::{error, status_and_code};
use crate::error::Result;
use azure_core::http::RequestContent;
use azure_storage_blob::models::{
    BlobClientDownloadOptions, BlobClientUploadOptions, BlockBlobClientCommitBlockListOptions,
    BlockLookupList,
};
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

    /// Streams `from` into blocks of `to` and commits them under `If-None-Match: *`: memory
    /// holds one block whatever the blob's size. Block ids are random, so two copies racing
    /// to one name never mix their blocks; the loser's uncommitted blocks expire unseen.
    async fn copy_if_absent(&self, from: &str, to: &str) -> Result<bool> {
        use tokio::io::AsyncReadExt;
        let Some(reader) = self.reader(from).await? else {
            return Err(super::gone(&self.object_uri(from)));
        };
        let what = self.object_uri(to);
        let block_blob = self
            .container
            .blob_client(&self.key(to))
            .block_blob_client();
        let mut reader = reader.take(u64::MAX);
        let mut ids = Vec::new();
        loop {
            let mut block = Vec::new();
            reader.set_limit(self.block_size);
            reader.read_to_end(&mut block).await.map_err(|e| {
                crate::Error::transient(format!("cannot read {}: {e}", self.object_uri(from)))
            })?;
            if block.is_empty() {
                break;
            }
            let id = uuid::Uuid::new_v4().as_bytes().to_vec();
            let len = block.len() as u64;
            block_blob
                .stage_block(&id, len, RequestContent::from(block), None)
                .await
                .map_err(|e| error(&format!("cannot write {what}"), e))?;
            ids.push(id);
        }
        let list = BlockLookupList {
            latest: Some(ids),
            ..Default::default()
        };
        let options = BlockBlobClientCommitBlockListOptions {
            if_none_match: Some("*".into()),
            ..Default::default()
        };
        let commit = list
            .try_into()
            .map_err(|e| error(&format!("cannot write {what}"), e))?;
        match block_blob.commit_block_list(commit, Some(options)).await {
            Ok(_) => Ok(true),
            Err(e) if lost_race(&e) => Ok(false),
            Err(e) => Err(error(&format!("cannot write {what}"), e)),
        }
    }

    async fn reader(&self, key: &str) -> Result<Option<ObjectReader>> {
        let body = self.open(key).await?;
        Ok(body.map(|b| {
            let chunks = b.map_err(std::io::Error::other);
            Box::pin(tokio_util::io::StreamReader::new(chunks)) as ObjectReader
        }))
    }
}
