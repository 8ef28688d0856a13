//! The model's `drift:` block: what its data is compared with and the thresholds a
//! column drifts past. The comparison itself lives in `data::drift`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The model's `drift:` block.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftConfig {
    /// What the data is compared with: a profile (`.json`) or a data file, relative to
    /// mlgate.yaml. Default: the profile stored with the production version, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Share of compared columns that must drift for the data set to drift (and the
    /// step to fail). Default 0.5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// Thresholds for every column (defaults in docs/data-schema.md).
    #[serde(default)]
    pub thresholds: Thresholds,
    /// Per-column thresholds, overriding `thresholds` key by key.
    #[serde(default)]
    pub columns: IndexMap<String, Thresholds>,
    /// Numeric columns with at most this many values are compared exactly; larger ones
    /// from their quantile sketches. Default 100000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact_max_rows: Option<usize>,
    /// Compare evaluation data with training data (training/serving skew). Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skew: Option<bool>,
    /// A crossed `psi`, `wasserstein` or `jensen_shannon` threshold counts only when the
    /// difference is also significant at this level (KS or chi-square p-value below it),
    /// so small samples are not flagged for sampling noise. Default 0.01; 1 turns the
    /// guard off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub significance: Option<f64>,
}

/// A column drifts when any threshold set here is crossed.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Population stability index above which a column drifts. Default 0.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psi: Option<f64>,
    /// Wasserstein distance over the reference's standard deviation above which a
    /// numeric column drifts. Default 0.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasserstein: Option<f64>,
    /// Jensen–Shannon distance (base 2, 0..1) above which a categorical column drifts.
    /// Default 0.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jensen_shannon: Option<f64>,
    /// KS p-value below which a numeric column drifts. Default: off (at large row
    /// counts any difference is significant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ks_pvalue: Option<f64>,
    /// Chi-square p-value below which a categorical column drifts. Default: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chi2_pvalue: Option<f64>,
    /// Per column only: leave the column out of drift.
    #[serde(default)]
    pub skip: bool,
}
