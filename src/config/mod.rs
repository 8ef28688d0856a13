//! Loading `mlgate.yaml`: strict parsing, then semantic checks, each error pointing at
//! the file, line, column and key it is about.

mod check;
pub use check::valid_model_name;
pub mod drift;
pub mod locate;
pub mod sagemaker;
pub mod suggest;
pub mod triggers;
mod types;
pub mod uri;
mod yaml;

pub use types::*;
pub use yaml::from_yaml;

use crate::error::{Error, Result};
use locate::Locator;
use std::path::{Path, PathBuf};

/// A loaded, checked configuration and where it came from.
#[derive(Debug)]
pub struct Project {
    /// The config file as given.
    pub file: PathBuf,
    /// The folder holding it: every relative path in the config is resolved from here.
    pub root: PathBuf,
    pub config: Config,
    source: Source,
}

/// The config text and an index of where each key stands in it.
#[derive(Debug)]
struct Source {
    text: String,
    locator: Locator,
}

impl Project {
    /// Reads, parses and checks a config file.
    pub fn load(file: &Path) -> Result<Project> {
        Self::load_checked(file, check::Data::Present)
    }

    /// Like [`Project::load`], for a config published without its data (a function's
    /// snapshot): everything is checked but that the data files are here.
    pub fn load_published(file: &Path) -> Result<Project> {
        Self::load_checked(file, check::Data::Elsewhere)
    }

    fn load_checked(file: &Path, data: check::Data) -> Result<Project> {
        if file.is_dir() {
            return Err(Error::config(format!(
                "{}: is a directory, not a config file",
                file.display()
            ))
            .with_hint(format!(
                "pass the file itself, e.g. --config {}",
                file.join("mlgate.yaml").display()
            )));
        }
        let text = std::fs::read_to_string(file).map_err(|e| {
            let err = Error::read(file, e);
            if file.exists() {
                err
            } else {
                Error::config(format!("{}: config file not found", file.display()))
                    .with_hint("pass --config PATH, or run `mlgate init` to create one")
            }
        })?;
        let project = Self::parse(file, text)?;
        check::check(&project, data)?;
        Ok(project)
    }

    /// Parses config text without touching the file system (no semantic checks).
    pub fn parse(file: &Path, text: String) -> Result<Project> {
        let root = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let root = if root.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            root
        };
        let (config, locator) = yaml::parse::<Config>(file, &text)?;
        let source = Source { locator, text };
        Ok(Project {
            file: file.to_path_buf(),
            root,
            config,
            source,
        })
    }

    /// Resolves a path written in the config relative to the config's folder.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        }
    }

    /// The models a step acts on: the one named, or all of them.
    pub fn models(&self, only: Option<&str>) -> Result<Vec<(&str, &ModelConfig)>> {
        match only {
            None => Ok(self
                .config
                .models
                .iter()
                .map(|(n, m)| (n.as_str(), m))
                .collect()),
            Some(name) => match self.config.models.get_key_value(name) {
                Some((n, m)) => Ok(vec![(n.as_str(), m)]),
                None => Err(Error::usage(format!(
                    "--model {name}: no such model in {}{}",
                    self.file.display(),
                    suggest::did_you_mean(name, self.config.models.keys().map(String::as_str))
                ))),
            },
        }
    }

    /// Path of the model's production pointer, relative to the config's folder.
    pub fn pointer_rel(&self, name: &str) -> String {
        self.config.models[name]
            .promote
            .pointer
            .clone()
            .unwrap_or_else(|| format!("models/{name}/production.yaml"))
    }

    /// Branch a promotion of the model is proposed on.
    pub fn promotion_branch(&self, name: &str) -> String {
        self.config.models[name]
            .promote
            .branch
            .clone()
            .unwrap_or_else(|| format!("mlgate/promote/{name}"))
    }

    /// An error about the key at `path` (dotted), pointing at its position in the file.
    pub fn error_at(&self, path: &str, message: impl std::fmt::Display) -> Error {
        let pos = self.source.locator.find(path);
        Error::config(yaml::located(
            &self.file,
            &self.source.text,
            pos,
            &format!("`{path}`: {message}"),
        ))
    }
}

/// The JSON Schema of `mlgate.yaml`, for editors (yaml-language-server) and docs.
pub fn json_schema() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(Config)).unwrap_or_default()
}
