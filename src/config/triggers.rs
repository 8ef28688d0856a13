//! The `triggers:` block: which new objects in a bucket (or Azure container) a rule
//! matches and what it does with them. Acting on them lives in `trigger`.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// One rule: every key set under `on` must match the new object.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerRule {
    /// Name in logs, claims and audit records. Default `<model>-<n>`, n its place in the
    /// list from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Which new objects the rule matches.
    pub on: ObjectMatch,
    /// The model the rule acts for.
    pub model: String,
    /// What to do, in order: `validate`, `retrain`, `batch-transform` (one or a list). A
    /// file that fails validation goes no further.
    #[serde(rename = "do", deserialize_with = "one_or_many")]
    #[schemars(with = "OneOrMany")]
    pub actions: Vec<Action>,
    /// How `retrain` retrains. Default: through CI.
    #[serde(default)]
    pub retrain: RetrainConfig,
    /// Where `validate` copies a file that fails, with its report beside it: a prefix in
    /// the same bucket. Default `<model>/quarantine/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<String>,
    /// Where `batch-transform` writes predictions: a prefix in the same bucket. Default
    /// `<model>/predictions/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictions: Option<String>,
}

/// Conditions on the new object; those not set match anything.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectMatch {
    /// The bucket (S3) or container (Azure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// The key starts with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The key ends with this (e.g. `.csv`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// The whole key matches this glob: `*` within a path segment, `**` across them,
    /// `?`, `[abc]`, `{csv,parquet}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glob: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Check the object against the model's schema; quarantine it if it fails.
    Validate,
    /// Retrain the model (see `retrain`).
    Retrain,
    /// Score the object with the production version.
    BatchTransform,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Validate => "validate",
            Action::Retrain => "retrain",
            Action::BatchTransform => "batch-transform",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrainConfig {
    /// `ci` (default): start the model's CI pipeline (GitHub `workflow_dispatch`, a GitLab
    /// pipeline with variables), which trains, compares and opens the promotion pull
    /// request. `sagemaker`: start the model's SageMaker training job from the function;
    /// its completion event brings the function back to record the candidate, compare it
    /// with production and open or update the promotion pull request.
    #[serde(default)]
    pub via: RetrainVia,
    /// GitHub: the workflow file to dispatch (in `.github/workflows/`). Default
    /// `mlgate-retrain.yml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// Branch the pipeline runs on. Default: `forge.base`, else `main`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "ref")]
    pub git_ref: Option<String>,
    /// Retrain at most once per this many minutes per model: files arriving meanwhile are
    /// part of the next retraining, not a retraining each. Default 0 (every new file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debounce_minutes: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RetrainVia {
    #[default]
    Ci,
    Sagemaker,
}

/// `do: retrain` or `do: [validate, retrain]`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum OneOrMany {
    One(Action),
    Many(Vec<Action>),
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Action>, D::Error> {
    struct Actions;
    impl<'de> serde::de::Visitor<'de> for Actions {
        type Value = Vec<Action>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("`validate`, `retrain` or `batch-transform`, or a list of them")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            use serde::de::IntoDeserializer;
            Action::deserialize(v.into_deserializer()).map(|a| vec![a])
        }

        // Each item is read on its own, so a misspelt one is reported at its place.
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(a) = seq.next_element()? {
                out.push(a);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Actions)
}

impl TriggerRule {
    /// The rule's name: its own, else `<model>-<n>`.
    pub fn name_at(&self, index: usize) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{}-{}", self.model, index + 1))
    }

    pub fn quarantine_prefix(&self) -> String {
        self.quarantine
            .clone()
            .unwrap_or_else(|| format!("{}/quarantine/", self.model))
    }

    pub fn predictions_prefix(&self) -> String {
        self.predictions
            .clone()
            .unwrap_or_else(|| format!("{}/predictions/", self.model))
    }

    /// Problems as (key under the rule, message), given the models the config has.
    pub fn problems<'a>(&self, models: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let models: Vec<&str> = models.collect();
        if !models.contains(&self.model.as_str()) {
            let hint = super::suggest::did_you_mean(&self.model, models.iter().copied());
            out.push((
                "model".into(),
                format!("no model `{}` in `models`{hint}", self.model),
            ));
        }
        if self.actions.is_empty() {
            out.push(("do".into(), "give at least one action".into()));
        }
        if let Some(glob) = &self.on.glob {
            if let Err(e) = globset::Glob::new(glob) {
                out.push(("on.glob".into(), format!("not a glob: {}", e.kind())));
            }
        }
        if self.on == ObjectMatch::default() {
            out.push((
                "on".into(),
                "set at least one of `bucket`, `prefix`, `suffix`, `glob`: a rule for every object would also see mlgate's own writes".into(),
            ));
        }
        for (key, prefix) in [
            ("quarantine", self.quarantine_prefix()),
            ("predictions", self.predictions_prefix()),
        ] {
            // mlgate writes there in the same bucket, with the file's own suffix.
            let written = format!("{prefix}x{}", self.on.suffix.as_deref().unwrap_or(".csv"));
            if self.matches_key(&written) {
                out.push((
                    key.into(),
                    format!("`{prefix}` is inside what `on` matches: files mlgate writes there would trigger the rule again"),
                ));
            }
        }
        out
    }

    /// What `retrain: {via: sagemaker}` needs of the rule's model, as (key, message).
    pub fn model_problem(&self, model: &super::ModelConfig) -> Option<(String, String)> {
        if self.retrain.via != RetrainVia::Sagemaker || !self.actions.contains(&Action::Retrain) {
            return None;
        }
        let problem = if model.train.backend != super::Backend::Sagemaker
            || model.train.sagemaker.is_none()
        {
            format!("`via: sagemaker` trains with the model's SageMaker settings: give model `{}` `train.backend: sagemaker` and `train.sagemaker`", self.model)
        } else if !model.data.train.starts_with("s3://") {
            format!("`via: sagemaker` runs where there is no checkout: model `{}` needs `data.train` in S3 (`s3://…`), not `{}`", self.model, model.data.train)
        } else {
            return None;
        };
        Some(("retrain.via".into(), problem))
    }

    /// Whether `bucket`/`key` is one of the objects the rule is for.
    pub fn matches(&self, bucket: &str, key: &str) -> bool {
        self.on.bucket.as_deref().is_none_or(|b| b == bucket) && self.matches_key(key)
    }

    fn matches_key(&self, key: &str) -> bool {
        let on = &self.on;
        on.prefix.as_deref().is_none_or(|p| key.starts_with(p))
            && on.suffix.as_deref().is_none_or(|s| key.ends_with(s))
            && on.glob.as_deref().is_none_or(|g| {
                globset::GlobBuilder::new(g)
                    .literal_separator(true)
                    .build()
                    .is_ok_and(|g| g.compile_matcher().is_match(key))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &str) -> TriggerRule {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn matching_by_bucket_prefix_suffix_and_glob() {
        let r = rule("on: {bucket: b, prefix: churn/incoming/, suffix: .csv}\nmodel: churn\ndo: [validate, retrain]\n");
        assert_eq!(r.actions, [Action::Validate, Action::Retrain]);
        assert!(r.matches("b", "churn/incoming/2026/a.csv"));
        assert!(!r.matches("other", "churn/incoming/a.csv"));
        assert!(!r.matches("b", "churn/incoming/a.parquet"));
        let g = rule("on: {glob: 'churn/*/data-*.{csv,parquet}'}\nmodel: churn\ndo: retrain\n");
        assert_eq!(g.actions, [Action::Retrain]);
        assert!(g.matches("any", "churn/incoming/data-1.parquet"));
        assert!(!g.matches("any", "churn/incoming/deeper/data-1.csv"));
    }

    #[test]
    fn problems_name_the_key() {
        let r = rule("on: {prefix: churn/}\nmodel: chrun\ndo: validate\n");
        let problems = r.problems(["churn"].into_iter());
        assert!(
            problems
                .iter()
                .any(|(k, m)| k == "model" && m.contains("did you mean `churn`")),
            "{problems:?}"
        );
        let inside = rule("on: {prefix: churn/}\nmodel: churn\ndo: validate\n");
        let problems = inside.problems(["churn"].into_iter());
        assert!(
            problems.iter().any(|(k, _)| k == "quarantine"),
            "{problems:?}"
        );
        let ok = rule("on: {prefix: churn/incoming/}\nmodel: churn\ndo: validate\n");
        assert_eq!(ok.problems(["churn"].into_iter()), vec![]);
        assert!(
            serde_yaml::from_str::<TriggerRule>("on: {prefix: a/}\nmodel: m\ndo: retrian\n")
                .is_err()
        );
    }
}
