//! `mlgate init`: scaffolds `mlgate.yaml`, an empty production pointer and the ignore
//! rule for the workspace folder (`.mlgate/`: the local store and reports; promoted
//! versions travel in git beside the pointer).

use crate::config::Task;
use crate::error::{Error, Result};
use crate::pointer::Pointer;
use std::path::{Path, PathBuf};

pub struct InitOptions {
    pub dir: PathBuf,
    pub model: String,
    pub task: Task,
    pub target: String,
    pub train: String,
    pub eval: String,
}

/// Writes the files and returns their paths; refuses to overwrite anything.
pub fn init(opts: &InitOptions) -> Result<Vec<PathBuf>> {
    if !crate::config::valid_model_name(&opts.model) {
        return Err(Error::usage(format!(
            "`{}` is not a valid model name: use lowercase letters, digits, `-` and `_`",
            opts.model
        )));
    }
    let config = opts.dir.join("mlgate.yaml");
    let schema = opts.dir.join("mlgate.schema.json");
    let pointer = opts
        .dir
        .join(format!("models/{}/production.yaml", opts.model));
    for path in [&config, &schema, &pointer] {
        if path.exists() {
            return Err(Error::usage(format!(
                "{} already exists; mlgate init never overwrites",
                path.display()
            )));
        }
    }
    let (metric, rule) = match opts.task {
        Task::Classification => ("roc_auc", "{min: 0.7, max_regression: 0.005}"),
        Task::Regression => ("rmse", "{max_relative_regression: 0.02}"),
    };
    let text = format!(
        "# yaml-language-server: $schema=mlgate.schema.json\n\
version: 1\n\
store: file://.mlgate/store\n\
models:\n  {model}:\n    task: {task}\n    target: {target}\n    data:\n      train: {train}\n      eval: {eval}\n    gate:\n      {metric}: {rule}\n",
        model = opts.model,
        task = opts.task.as_str(),
        target = opts.target,
        train = opts.train,
        eval = opts.eval,
    );
    write_new(&config, &text)?;
    write_new(&schema, &(crate::config::json_schema() + "\n"))?;
    write_new(&pointer, &Pointer::empty(&opts.model).render())?;
    let mut created = vec![config, schema, pointer];
    created.extend(ignore_workspace(&opts.dir)?);
    Ok(created)
}

/// Adds `.mlgate/` to the folder's `.gitignore` unless it is there; the path if changed.
fn ignore_workspace(dir: &Path) -> Result<Option<PathBuf>> {
    let path = dir.join(".gitignore");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::read(&path, e)),
    };
    if text
        .lines()
        .any(|l| matches!(l.trim(), ".mlgate/" | ".mlgate" | "/.mlgate/"))
    {
        return Ok(None);
    }
    let separator = if text.is_empty() || text.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    let rule = "# mlgate's workspace: the local store and reports (promoted versions are committed beside their pointer)\n.mlgate/\n";
    std::fs::write(&path, format!("{text}{separator}{rule}"))
        .map_err(|e| Error::write(&path, e))?;
    Ok(Some(path))
}

fn write_new(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    }
    std::fs::write(path, text).map_err(|e| Error::write(path, e))
}
