//! The gate: per-metric rules a candidate must pass against production to be promoted.
//!
//! Values within [`TOLERANCE`] of a threshold count as at the threshold, and a value
//! exactly at a threshold passes, so `0.85 - 0.845 <= 0.005` holds despite rounding.

use crate::config::{Direction, GateRule};
use crate::evaluate::metrics::is_higher_better;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Absolute slack (scaled by the threshold's magnitude when above 1) for float rounding.
pub const TOLERANCE: f64 = 1e-9;

/// The verdict on one threshold of one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// `min`, `max`, `max_regression`, `max_relative_regression`, `min_improvement`, or `present`.
    pub rule: String,
    /// The threshold as configured.
    pub threshold: Option<f64>,
    /// The quantity compared with it (the value, the regression, the improvement).
    pub actual: Option<f64>,
    pub outcome: Outcome,
    /// One line for people: what was compared and, on failure, by how much it missed.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    /// Needs a production value and there is none.
    Skipped,
}

/// One row of the metrics diff table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricVerdict {
    pub metric: String,
    pub direction: Direction,
    pub production: Option<f64>,
    pub candidate: Option<f64>,
    /// candidate − production.
    pub change: Option<f64>,
    pub checks: Vec<Check>,
    pub passed: bool,
}

/// Judges every rule. `production` is `None` when there is no production model yet.
pub fn judge(
    rules: &IndexMap<String, GateRule>,
    candidate: &IndexMap<String, f64>,
    production: Option<&IndexMap<String, f64>>,
) -> Vec<MetricVerdict> {
    rules
        .iter()
        .map(|(metric, rule)| {
            let cand = candidate.get(metric).copied();
            let prod = production.and_then(|p| p.get(metric).copied());
            judge_metric(metric, rule, cand, prod, production.is_some())
        })
        .collect()
}

/// True when every rule of every metric passed (skipped checks do not fail).
pub fn passed(verdicts: &[MetricVerdict]) -> bool {
    verdicts.iter().all(|v| v.passed)
}

fn judge_metric(
    metric: &str,
    rule: &GateRule,
    cand: Option<f64>,
    prod: Option<f64>,
    has_baseline: bool,
) -> MetricVerdict {
    let direction = rule.direction.unwrap_or(match is_higher_better(metric) {
        Some(false) => Direction::Lower,
        _ => Direction::Higher,
    });
    let mut checks = Vec::new();
    match cand {
        None => checks.push(fail(
            "present",
            None,
            None,
            format!("the candidate has no `{metric}`"),
        )),
        Some(v) if v.is_nan() => checks.push(fail(
            "present",
            None,
            Some(v),
            format!("the candidate's `{metric}` is NaN"),
        )),
        Some(v) => {
            checks.extend(bounds(rule, v));
            checks.extend(against_production(rule, direction, v, prod, has_baseline));
        }
    }
    let passed = checks.iter().all(|c| c.outcome != Outcome::Fail);
    let change = match (cand, prod) {
        (Some(c), Some(p)) if !c.is_nan() && !p.is_nan() => Some(c - p),
        _ => None,
    };
    MetricVerdict {
        metric: metric.into(),
        direction,
        production: prod,
        candidate: cand,
        change,
        checks,
        passed,
    }
}

fn bounds(rule: &GateRule, v: f64) -> Vec<Check> {
    let mut out = Vec::new();
    if let Some(min) = rule.min {
        out.push(if at_least(v, min) {
            pass("min", min, v, format!("{} ≥ {}", num(v), num(min)))
        } else {
            fail(
                "min",
                Some(min),
                Some(v),
                format!(
                    "{} is below the minimum {} by {}",
                    num(v),
                    num(min),
                    num(min - v)
                ),
            )
        });
    }
    if let Some(max) = rule.max {
        out.push(if at_most(v, max) {
            pass("max", max, v, format!("{} ≤ {}", num(v), num(max)))
        } else {
            fail(
                "max",
                Some(max),
                Some(v),
                format!(
                    "{} is above the maximum {} by {}",
                    num(v),
                    num(max),
                    num(v - max)
                ),
            )
        });
    }
    out
}

fn against_production(
    rule: &GateRule,
    direction: Direction,
    v: f64,
    prod: Option<f64>,
    has_baseline: bool,
) -> Vec<Check> {
    let relative_rules = [
        ("max_regression", rule.max_regression),
        ("max_relative_regression", rule.max_relative_regression),
        ("min_improvement", rule.min_improvement),
    ];
    let prod = match prod {
        Some(p) if !p.is_nan() => p,
        _ => {
            let why = if has_baseline {
                "production has no value for this metric"
            } else {
                "no baseline"
            };
            return relative_rules
                .iter()
                .filter_map(|(name, t)| t.map(|t| skipped(name, t, why)))
                .collect();
        }
    };
    // Positive = worse than production, in the metric's units.
    let regression = match direction {
        Direction::Higher => prod - v,
        Direction::Lower => v - prod,
    };
    let mut out = Vec::new();
    if let Some(t) = rule.max_regression {
        out.push(if at_most(regression, t) {
            pass(
                "max_regression",
                t,
                regression,
                describe_change(regression, t),
            )
        } else {
            fail(
                "max_regression",
                Some(t),
                Some(regression),
                format!(
                    "regressed by {} (allowed {}): over by {}",
                    num(regression),
                    num(t),
                    num(regression - t)
                ),
            )
        });
    }
    if let Some(t) = rule.max_relative_regression {
        let relative = if prod == 0.0 {
            if regression <= 0.0 {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            regression / prod.abs()
        };
        out.push(if at_most(relative, t) {
            pass(
                "max_relative_regression",
                t,
                relative,
                format!(
                    "relative change {} (allowed regression {})",
                    pct(-relative),
                    pct(t)
                ),
            )
        } else {
            fail(
                "max_relative_regression",
                Some(t),
                Some(relative),
                format!(
                    "regressed by {} (allowed {}): over by {}",
                    pct(relative),
                    pct(t),
                    pct(relative - t)
                ),
            )
        });
    }
    if let Some(t) = rule.min_improvement {
        let improvement = -regression;
        out.push(if at_least(improvement, t) {
            pass(
                "min_improvement",
                t,
                improvement,
                format!("improved by {} (required {})", num(improvement), num(t)),
            )
        } else {
            fail(
                "min_improvement",
                Some(t),
                Some(improvement),
                format!(
                    "improved by {} but {} is required: short by {}",
                    num(improvement),
                    num(t),
                    num(t - improvement)
                ),
            )
        });
    }
    out
}

fn describe_change(regression: f64, allowed: f64) -> String {
    if regression > 0.0 {
        format!(
            "regressed by {} (allowed {})",
            num(regression),
            num(allowed)
        )
    } else {
        format!(
            "improved by {} (allowed regression {})",
            num(-regression),
            num(allowed)
        )
    }
}

fn slack(limit: f64) -> f64 {
    TOLERANCE * limit.abs().max(1.0)
}

fn at_most(v: f64, limit: f64) -> bool {
    v <= limit + slack(limit)
}

fn at_least(v: f64, limit: f64) -> bool {
    v >= limit - slack(limit)
}

fn pass(rule: &str, threshold: f64, actual: f64, message: String) -> Check {
    Check {
        rule: rule.into(),
        threshold: Some(threshold),
        actual: Some(actual),
        outcome: Outcome::Pass,
        message,
    }
}

fn fail(rule: &str, threshold: Option<f64>, actual: Option<f64>, message: String) -> Check {
    Check {
        rule: rule.into(),
        threshold,
        actual,
        outcome: Outcome::Fail,
        message,
    }
}

fn skipped(rule: &str, threshold: f64, why: &str) -> Check {
    Check {
        rule: rule.into(),
        threshold: Some(threshold),
        actual: None,
        outcome: Outcome::Skipped,
        message: format!("{rule} not checked: {why}"),
    }
}

/// Four significant decimals are what a reviewer reads; the JSON report keeps full precision.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    let s = format!("{v:.4}");
    if s == "-0.0000" {
        "0.0000".into()
    } else {
        s
    }
}

pub fn pct(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 {
            "∞%".into()
        } else {
            "-∞%".into()
        };
    }
    format!("{:.2}%", v * 100.0)
}

/// The rule as a reviewer reads it: `≥ 0.8, regression ≤ 0.005`.
pub fn describe_rule(rule: &GateRule) -> String {
    let mut parts = Vec::new();
    if let Some(v) = rule.min {
        parts.push(format!("≥ {v}"));
    }
    if let Some(v) = rule.max {
        parts.push(format!("≤ {v}"));
    }
    if let Some(v) = rule.max_regression {
        parts.push(format!("regression ≤ {v}"));
    }
    if let Some(v) = rule.max_relative_regression {
        parts.push(format!("regression ≤ {}", pct(v)));
    }
    if let Some(v) = rule.min_improvement {
        parts.push(format!("improvement ≥ {v}"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &str) -> GateRule {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn one(metric: &str, r: &str, cand: Option<f64>, prod: Option<Option<f64>>) -> MetricVerdict {
        let rules = IndexMap::from([(metric.to_string(), rule(r))]);
        let candidate: IndexMap<String, f64> =
            cand.map(|v| (metric.to_string(), v)).into_iter().collect();
        let production: Option<IndexMap<String, f64>> =
            prod.map(|p| p.map(|v| (metric.to_string(), v)).into_iter().collect());
        judge(&rules, &candidate, production.as_ref()).remove(0)
    }

    fn outcomes(v: &MetricVerdict) -> Vec<Outcome> {
        v.checks.iter().map(|c| c.outcome).collect()
    }

    #[test]
    fn equal_values_pass_regression_rules_and_fail_improvement() {
        let v = one(
            "roc_auc",
            "{max_regression: 0.0, max_relative_regression: 0.0}",
            Some(0.8),
            Some(Some(0.8)),
        );
        assert!(v.passed);
        assert_eq!(v.change, Some(0.0));
        let v = one(
            "roc_auc",
            "{min_improvement: 0.001}",
            Some(0.8),
            Some(Some(0.8)),
        );
        assert!(!v.passed);
        assert!(
            v.checks[0].message.contains("short by 0.0010"),
            "{}",
            v.checks[0].message
        );
    }

    #[test]
    fn exactly_at_threshold_passes_despite_rounding() {
        // 0.85 - 0.845 is 0.0050000000000000044 in binary floating point.
        assert!(
            one(
                "roc_auc",
                "{max_regression: 0.005}",
                Some(0.845),
                Some(Some(0.85))
            )
            .passed
        );
        assert!(one("roc_auc", "{min: 0.8}", Some(0.8), None).passed);
        assert!(one("log_loss", "{max: 0.3}", Some(0.3), None).passed);
        assert!(
            one(
                "roc_auc",
                "{min_improvement: 0.01}",
                Some(0.81),
                Some(Some(0.8))
            )
            .passed
        );
        // 0.1 + 0.2 style rounding on the relative rule: 2% of 0.35 is exactly the limit.
        assert!(
            one(
                "log_loss",
                "{max_relative_regression: 0.02}",
                Some(0.357),
                Some(Some(0.35))
            )
            .passed
        );
    }

    #[test]
    fn just_over_threshold_fails_with_the_margin() {
        let v = one(
            "roc_auc",
            "{max_regression: 0.005}",
            Some(0.8449),
            Some(Some(0.85)),
        );
        assert!(!v.passed);
        assert_eq!(
            v.checks[0].message,
            "regressed by 0.0051 (allowed 0.0050): over by 0.0001"
        );
        assert!(!one("roc_auc", "{min: 0.8}", Some(0.79999), None).passed);
    }

    #[test]
    fn nan_and_missing_candidate_metrics_fail() {
        let v = one("roc_auc", "{min: 0.5}", Some(f64::NAN), Some(Some(0.8)));
        assert!(!v.passed);
        assert_eq!(v.checks[0].rule, "present");
        let v = one("roc_auc", "{min: 0.5}", None, None);
        assert!(!v.passed);
        assert!(v.checks[0].message.contains("has no `roc_auc`"));
    }

    #[test]
    fn nan_production_value_skips_relative_rules() {
        let v = one(
            "roc_auc",
            "{max_regression: 0.01}",
            Some(0.7),
            Some(Some(f64::NAN)),
        );
        assert!(v.passed);
        assert_eq!(outcomes(&v), [Outcome::Skipped]);
        assert_eq!(v.change, None);
    }

    #[test]
    fn missing_baseline_is_promotable_but_bounds_still_apply() {
        let v = one(
            "roc_auc",
            "{min: 0.6, max_regression: 0.01, min_improvement: 0.02}",
            Some(0.7),
            None,
        );
        assert!(v.passed);
        assert_eq!(
            outcomes(&v),
            [Outcome::Pass, Outcome::Skipped, Outcome::Skipped]
        );
        assert!(v.checks[1].message.contains("no baseline"));
        assert!(
            !one(
                "roc_auc",
                "{min: 0.75, max_regression: 0.01}",
                Some(0.7),
                None
            )
            .passed
        );
    }

    #[test]
    fn lower_is_better_metrics_regress_upwards() {
        // log_loss rising from 0.30 to 0.32 is a regression of 0.02.
        let v = one(
            "log_loss",
            "{max_regression: 0.01}",
            Some(0.32),
            Some(Some(0.30)),
        );
        assert!(!v.passed);
        assert_eq!(v.direction, Direction::Lower);
        assert!((v.checks[0].actual.unwrap() - 0.02).abs() < 1e-12);
        // Falling is an improvement.
        let v = one(
            "log_loss",
            "{max_regression: 0.0, min_improvement: 0.05}",
            Some(0.25),
            Some(Some(0.30)),
        );
        assert!(v.passed, "{:?}", v.checks);
        let v = one(
            "rmse",
            "{max_relative_regression: 0.02}",
            Some(10.3),
            Some(Some(10.0)),
        );
        assert!(!v.passed);
        assert_eq!(
            v.checks[0].message,
            "regressed by 3.00% (allowed 2.00%): over by 1.00%"
        );
    }

    #[test]
    fn zero_production_value_in_relative_rule() {
        assert!(
            one(
                "mae",
                "{max_relative_regression: 0.1}",
                Some(0.0),
                Some(Some(0.0))
            )
            .passed
        );
        let v = one(
            "mae",
            "{max_relative_regression: 0.1}",
            Some(0.1),
            Some(Some(0.0)),
        );
        assert!(!v.passed);
        assert!(v.checks[0].message.contains("∞%"));
    }

    #[test]
    fn overall_verdict_needs_every_metric() {
        let rules = IndexMap::from([
            ("roc_auc".to_string(), rule("{min: 0.5}")),
            ("accuracy".to_string(), rule("{min: 0.9}")),
        ]);
        let cand = IndexMap::from([("roc_auc".to_string(), 0.8), ("accuracy".to_string(), 0.85)]);
        let v = judge(&rules, &cand, None);
        assert!(v[0].passed && !v[1].passed);
        assert!(!passed(&v));
    }

    #[test]
    fn rules_read_like_a_reviewer_would_write_them() {
        let r = rule("{min: 0.8, max_regression: 0.005, max_relative_regression: 0.02}");
        assert_eq!(
            describe_rule(&r),
            "≥ 0.8, regression ≤ 0.005, regression ≤ 2.00%"
        );
    }
}
