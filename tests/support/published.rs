//! The churn example with extra configuration (trigger rules), published to a store as
//! `mlgate deploy` publishes it: what a function reads at start. Shared by the functions'
//! test crates with `#[path]`.
#![allow(dead_code)]

use mlgate::store::Store;
use std::path::Path;

/// Copies `examples/churn` (without its `.mlgate/` outputs) into `dir`, appends `extra` to
/// its `mlgate.yaml`, and publishes the project to `store`.
pub async fn publish_example(dir: &Path, extra: &str, store: Box<dyn Store>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/churn");
    copy_dir(&root, dir);
    let config = dir.join("mlgate.yaml");
    let text = std::fs::read_to_string(&config).unwrap() + extra;
    std::fs::write(&config, text).unwrap();
    let ctx = mlgate::Ctx::builder(mlgate::config::Project::load(&config).unwrap())
        .store(store)
        .repo(std::sync::Arc::new(mlgate::repo::Folder {
            root: dir.to_path_buf(),
        }))
        .build()
        .await
        .unwrap();
    assert!(mlgate::published::publish(&ctx).await.unwrap());
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            if entry.file_name() == ".mlgate" {
                continue;
            }
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
