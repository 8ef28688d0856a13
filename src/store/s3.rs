//! The `s3://bucket/prefix` store. Write-once by S3's conditional write (`If-None-Match:
//! *`): of two writers of the same key exactly one succeeds and nothing is overwritten.
//! Large objects go up in parts, completed under the same condition and aborted on any
//! failure, so no half-written object is ever visible.

use super::{ObjectReader, Store};
use crate::cloud::aws;
use crate::error::{Error, Result};
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;

/// Objects above this size are uploaded in parts of this size.
pub const DEFAULT_PART_SIZE: usize = 16 * 1024 * 1024;
/// S3's smallest part (all but the last).
const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
    part_size: usize,
}

pub use crate::config::uri::split_s3 as split_uri;

/// An S3 client from the shared configuration (path-style for endpoints other than AWS's).
pub fn client(config: &aws_config::SdkConfig, path_style: bool) -> Client {
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(path_style || config.endpoint_url().is_some())
        .build();
    Client::from_conf(s3)
}

impl S3Store {
    pub fn new(client: Client, bucket: &str, prefix: &str) -> Self {
        S3Store {
            client,
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            part_size: DEFAULT_PART_SIZE,
        }
    }

    /// Uploads larger than `bytes` go in parts of that size (at least S3's 5 MiB).
    pub fn with_part_size(mut self, bytes: usize) -> Self {
        self.part_size = bytes.max(MIN_PART_SIZE);
        self
    }

    fn key(&self, key: &str) -> String {
        super::under(&self.prefix, key)
    }

    fn object_uri(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.key(key))
    }

    /// The object at `key`, its body not yet read; `None` if there is none.
    async fn open(&self, key: &str) -> Result<Option<GetObjectOutput>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.key(key))
            .send()
            .await
        {
            Ok(object) => Ok(Some(object)),
            Err(e) if missing_object(&e) => Ok(None),
            Err(e) => Err(aws::error(
                &format!("cannot read {}", self.object_uri(key)),
                e,
            )),
        }
    }

    async fn put_conditional(&self, key: &str, bytes: &[u8]) -> Result<bool> {
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(key))
            .if_none_match("*")
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if lost_race(aws::http_status(&e)) => Ok(false),
            Err(e) => Err(aws::error(
                &format!("cannot write {}", self.object_uri(key)),
                e,
            )),
        }
    }

    async fn put_multipart(&self, key: &str, bytes: &[u8]) -> Result<bool> {
        let what = format!("cannot write {}", self.object_uri(key));
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(self.key(key))
            .send()
            .await
            .map_err(|e| aws::error(&what, e))?;
        let id = upload.upload_id().unwrap_or_default().to_string();
        let outcome = self.upload_parts_and_complete(key, &id, bytes).await;
        if !matches!(outcome, Ok(true)) {
            // Nothing half-written stays behind (and no parts are billed).
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(self.key(key))
                .upload_id(&id)
                .send()
                .await;
        }
        outcome
    }

    async fn upload_parts_and_complete(&self, key: &str, id: &str, bytes: &[u8]) -> Result<bool> {
        let what = format!("cannot write {}", self.object_uri(key));
        let mut parts = Vec::new();
        for (i, chunk) in bytes.chunks(self.part_size).enumerate() {
            let number = i as i32 + 1;
            let part = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(self.key(key))
                .upload_id(id)
                .part_number(number)
                .body(ByteStream::from(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| aws::error(&what, e))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(part.e_tag().map(str::to_string))
                    .build(),
            );
        }
        let result = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(self.key(key))
            .upload_id(id)
            .if_none_match("*")
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if lost_race(aws::http_status(&e)) => Ok(false),
            Err(e) => Err(aws::error(&what, e)),
        }
    }
}

/// A 404 for the key, not for the bucket (a missing bucket is an error, not an absence).
fn missing_object<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(
    err: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::http::Response,
    >,
) -> bool {
    aws::http_status(err) == Some(404) && aws::error_code(err) != Some("NoSuchBucket")
}

/// 412: the object exists. 409: another conditional write to the key is in flight; its
/// writer wins, and as keys are content-addressed it writes the same bytes.
fn lost_race(status: Option<u16>) -> bool {
    matches!(status, Some(412 | 409))
}

#[async_trait::async_trait]
impl Store for S3Store {
    fn uri(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let Some(object) = self.open(key).await? else {
            return Ok(None);
        };
        let bytes =
            object.body.collect().await.map_err(|e| {
                Error::external(format!("cannot read {}: {e}", self.object_uri(key)))
            })?;
        Ok(Some(bytes.to_vec()))
    }

    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<bool> {
        if bytes.len() > self.part_size {
            self.put_multipart(key, bytes).await
        } else {
            self.put_conditional(key, bytes).await
        }
    }

    async fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(key))
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .map_err(|e| aws::error(&format!("cannot write {}", self.object_uri(key)), e))?;
        Ok(())
    }

    async fn reader(&self, key: &str) -> Result<Option<ObjectReader>> {
        let object = self.open(key).await?;
        Ok(object.map(|o| Box::pin(o.body.into_async_read()) as ObjectReader))
    }

    /// CopyObject, write-once like every other write: the bytes never pass through here.
    async fn copy_if_absent(&self, from: &str, to: &str) -> Result<bool> {
        let source = format!("{}/{}", self.bucket, self.key(from));
        let source = percent_encoding::utf8_percent_encode(&source, COPY_SOURCE).to_string();
        let result = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(self.key(to))
            .copy_source(source)
            .if_none_match("*")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if lost_race(aws::http_status(&e)) => Ok(false),
            Err(e) if missing_object(&e) => Err(super::gone(&self.object_uri(from))),
            Err(e) => Err(aws::error(
                &format!(
                    "cannot copy {} to {}",
                    self.object_uri(from),
                    self.object_uri(to)
                ),
                e,
            )),
        }
    }
}

/// `x-amz-copy-source` is `bucket/key` URL-encoded, its slashes kept.
const COPY_SOURCE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_uris_and_refuses_bad_buckets() {
        assert_eq!(
            split_uri("s3://acme-ml/models"),
            Some(("acme-ml", "models"))
        );
        assert_eq!(split_uri("s3://acme-ml/a/b/"), Some(("acme-ml", "a/b")));
        assert_eq!(split_uri("s3://acme-ml"), Some(("acme-ml", "")));
        assert_eq!(split_uri("s3://Acme/models"), None);
        assert_eq!(split_uri("s3://ab"), None);
        assert_eq!(split_uri("s3://-acme/x"), None);
        assert_eq!(split_uri("file://x"), None);
    }

    #[test]
    fn a_lost_race_is_a_412_or_409_only() {
        assert!(lost_race(Some(412)));
        assert!(lost_race(Some(409)));
        assert!(!lost_race(Some(403)));
        assert!(!lost_race(None));
    }
}
