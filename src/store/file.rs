//! The `file://` store: a folder. Writes go to a temporary file first and are published
//! with a hard link, which fails if the target exists, so no write ever overwrites.

use super::Store;
use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct FileStore {
    root: PathBuf,
    uri: String,
}

impl FileStore {
    pub fn new(root: PathBuf, uri: &str) -> Self {
        FileStore {
            root,
            uri: uri.to_string(),
        }
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        let valid = !key.is_empty()
            && key
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..")
            && !key.contains('\\');
        if !valid {
            return Err(Error::input(format!("invalid store key `{key}`")));
        }
        Ok(self.root.join(key))
    }

    /// A fully written temporary file in the target's folder (same file system, so the
    /// final link or rename is atomic).
    fn stage(&self, target: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
        let dir = target.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(dir)
            .map_err(|e| Error::write(dir, e))?;
        tmp.write_all(bytes).map_err(|e| Error::write(target, e))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::write(target, e))?;
        Ok(tmp)
    }
}

#[async_trait::async_trait]
impl Store for FileStore {
    fn uri(&self) -> String {
        self.uri.clone()
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(key)?;
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::external(format!(
                "store {}: cannot read {}: {e}",
                self.uri,
                path.display()
            ))),
        }
    }

    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<bool> {
        let target = self.path(key)?;
        if target.exists() {
            return Ok(false);
        }
        let tmp = self.stage(&target, bytes)?;
        match std::fs::hard_link(tmp.path(), &target) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(Error::write(&target, e)),
        }
    }

    async fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let target = self.path(key)?;
        let tmp = self.stage(&target, bytes)?;
        tmp.persist(&target)
            .map_err(|e| Error::write(&target, e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn write_once_and_atomic_replace() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().to_path_buf(), "file://x");
        assert!(store.put_if_absent("a/b.json", b"one").await.unwrap());
        assert!(!store.put_if_absent("a/b.json", b"two").await.unwrap());
        assert_eq!(store.get("a/b.json").await.unwrap().unwrap(), b"one");
        store.put("a/p.yaml", b"v1").await.unwrap();
        store.put("a/p.yaml", b"v2").await.unwrap();
        assert_eq!(store.get("a/p.yaml").await.unwrap().unwrap(), b"v2");
        assert_eq!(store.get("nope").await.unwrap(), None);
    }

    #[tokio::test]
    async fn keys_cannot_escape_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().to_path_buf(), "file://x");
        for key in ["../x", "a/../../x", "", "a//b", "/abs"] {
            assert!(store.put(key, b"").await.is_err(), "{key}");
        }
    }
}
