//! A `file://` store backed by the repository. The folder is the job's own and vanishes
//! with a CI runner; what must outlive it — the versions production uses — travels in
//! git: the promotion commit carries a version's files beside the pointer, at the same
//! keys (`models/<name>/versions/<id>/…` under the project's folder). Reads of a version
//! the folder lacks fall back to the repository, so a fresh clone has production's model,
//! and reverting the promotion takes it out again.

use super::Store;
use crate::error::Result;
use crate::repo::Repo;
use std::sync::Arc;

/// Files of one version kept in git: above this, mlgate asks for a cloud store.
pub const GIT_VERSION_LIMIT: usize = 2 * 1024 * 1024;

pub struct RepoBacked {
    pub local: Box<dyn Store>,
    pub repo: Arc<dyn Repo>,
}

/// Whether `key` is a version's file (immutable, content-addressed), which the
/// repository may hold; published pointers and claims never come from it.
pub fn is_version_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split('/').collect();
    matches!(parts.as_slice(), ["models", _, "versions", _, _])
}

#[async_trait::async_trait]
impl Store for RepoBacked {
    fn uri(&self) -> String {
        self.local.uri()
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        if let Some(bytes) = self.local.get(key).await? {
            return Ok(Some(bytes));
        }
        if !is_version_key(key) {
            return Ok(None);
        }
        Ok(self.repo.read(key, None).await?.map(String::into_bytes))
    }

    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<bool> {
        self.local.put_if_absent(key, bytes).await
    }

    async fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        self.local.put(key, bytes).await
    }

    fn in_git(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::Folder;
    use crate::store::FileStore;

    #[tokio::test]
    async fn versions_missing_locally_come_from_the_repository() {
        let project = tempfile::tempdir().unwrap();
        let local = tempfile::tempdir().unwrap();
        let key = "models/m/versions/abc/model.json";
        std::fs::create_dir_all(project.path().join("models/m/versions/abc")).unwrap();
        std::fs::write(project.path().join(key), "{}").unwrap();
        std::fs::write(project.path().join("models/m/production.yaml"), "x").unwrap();
        let store = RepoBacked {
            local: Box::new(FileStore::new(local.path().to_path_buf(), "file://s")),
            repo: Arc::new(Folder {
                root: project.path().to_path_buf(),
            }),
        };
        assert_eq!(store.get(key).await.unwrap().as_deref(), Some(&b"{}"[..]));
        // Only versions: the published pointer is the store's own.
        assert_eq!(store.get("models/m/production.yaml").await.unwrap(), None);
        assert!(store.put_if_absent(key, b"{}").await.unwrap());
        assert!(local.path().join(key).is_file());
    }
}
