//! The production pointer `models/<name>/production.yaml`: the desired state, in git.
//! Merging a change to it promotes a model; reverting that change rolls back.

use crate::error::{Error, Result};
use crate::store::versions::Manifest;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pointer {
    pub model: String,
    /// The production version's id; `null` while there is no production model.
    pub version: Option<String>,
    /// `sha256:<hex>` of the artifact, so a tampered store is detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
    /// Metrics recorded on the evaluation data when the version was trained; used when
    /// the version itself cannot be loaded for re-evaluation.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub metrics: IndexMap<String, f64>,
    /// Fingerprint of the data those metrics were measured on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

const HEADER: &str = "# Production pointer, managed by mlgate.\n\
# Merging a change to this file promotes the model; reverting it rolls back.\n";

impl Pointer {
    /// The pointer of a model with no production version yet.
    pub fn empty(model: &str) -> Pointer {
        Pointer {
            model: model.into(),
            version: None,
            artifact: None,
            metrics: IndexMap::new(),
            evaluated_on: None,
            git_commit: None,
            created_at: None,
        }
    }

    pub fn from_manifest(m: &Manifest) -> Pointer {
        Pointer {
            model: m.model.clone(),
            version: Some(m.version.clone()),
            artifact: Some(m.artifact.clone()),
            metrics: m.evaluation.metrics.clone(),
            evaluated_on: Some(m.evaluation.data.clone()),
            git_commit: m.lineage.git_commit.clone(),
            created_at: Some(m.lineage.created_at.clone()),
        }
    }

    /// Reads the pointer file; a missing file means no production version.
    pub fn read(path: &Path, model: &str) -> Result<Pointer> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text, model),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Pointer::empty(model)),
            Err(e) => Err(Error::read(path, e)),
        }
    }

    pub fn parse(path: &Path, text: &str, model: &str) -> Result<Pointer> {
        let pointer: Pointer = crate::config::from_yaml(path, text)?;
        if pointer.model != model {
            return Err(Error::input(format!(
                "{}: the pointer is for model `{}`, not `{model}`",
                path.display(),
                pointer.model
            )));
        }
        Ok(pointer)
    }

    /// The file's text: a header saying what it is, then the fields.
    pub fn render(&self) -> String {
        let body = serde_yaml::to_string(self).expect("a pointer always serialises");
        format!("{HEADER}{body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks_model_name() {
        let mut p = Pointer::empty("churn");
        p.version = Some("abc".into());
        p.metrics.insert("roc_auc".into(), 0.8);
        let text = p.render();
        assert!(text.starts_with("# Production pointer"));
        assert_eq!(
            Pointer::parse(Path::new("p.yaml"), &text, "churn").unwrap(),
            p
        );
        let err = Pointer::parse(Path::new("p.yaml"), &text, "other").unwrap_err();
        assert!(err.message.contains("not `other`"));
    }

    #[test]
    fn missing_file_means_no_production() {
        let p = Pointer::read(Path::new("/nonexistent/production.yaml"), "m").unwrap();
        assert_eq!(p.version, None);
    }
}
