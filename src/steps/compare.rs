//! `compare`: the candidate against production under the model's gate. Both are scored
//! on the same evaluation data whenever the production version can be loaded.

use super::Ctx;
use crate::chart::mermaid;
use crate::config::ModelConfig;
use crate::data::fingerprint;
use crate::error::Result;
use crate::evaluate::evaluate as score;
use crate::gate::{self, describe_rule, num, pct, MetricVerdict, Outcome};
use crate::pointer::Pointer;
use crate::report::{Case, Report, Status, StepName, Table};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How production's metrics were obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Baseline {
    /// No production version yet: the candidate is promotable on its bounds alone.
    None,
    /// Production re-scored on the same data as the candidate.
    Reevaluated { version: String },
    /// Production could not be loaded: the metrics recorded in its pointer were used.
    Recorded { version: String, reason: String },
}

/// `compare`'s result, read back by `promote`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub candidate: String,
    pub baseline: Baseline,
    pub data: String,
    pub verdicts: Vec<MetricVerdict>,
    pub passed: bool,
}

pub async fn compare(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    version: Option<&str>,
) -> Result<Report> {
    let candidate = ctx.candidate(name, version).await?;
    let eval_path = &model.data.eval;
    let eval_fp = fingerprint(&ctx.data_path(eval_path).await?)?;
    let cand_metrics = match candidate.model.reported_metrics() {
        Some(reported) => reported.clone(),
        None => {
            let kinds = candidate.model.column_kinds();
            let frame = ctx.read_frame(model, eval_path, kinds).await?;
            score(&candidate.model, &frame, &eval_fp)?.metrics
        }
    };
    let pointer = ctx.pointer(name).await?;
    let (baseline, prod_metrics) =
        production_metrics(ctx, name, model, &pointer, eval_path, &eval_fp).await?;
    let verdicts = gate::judge(&model.gate, &cand_metrics, prod_metrics.as_ref());
    let passed = gate::passed(&verdicts);
    let id = candidate.manifest.version.clone();
    let title = match (passed, &baseline) {
        (true, Baseline::None) => {
            format!("candidate `{id}` passes the gate (no baseline: no production model yet)")
        }
        (true, _) => format!("candidate `{id}` passes the gate against production"),
        (false, _) => {
            let failed: Vec<&str> = verdicts
                .iter()
                .filter(|v| !v.passed)
                .map(|v| v.metric.as_str())
                .collect();
            format!(
                "candidate `{id}` is blocked by the gate ({})",
                failed.join(", ")
            )
        }
    };
    let mut report = Report::new(
        StepName::Compare,
        name,
        if passed { Status::Pass } else { Status::Fail },
        title,
    );
    report
        .notes
        .extend(baseline_note(&baseline, &pointer, &eval_fp));
    if model.gate.is_empty() {
        report.notes.push("⚠️ The model has no gate rules: any candidate passes. Add rules under `gate:` in mlgate.yaml.".into());
    }
    report.tables.push(diff_table(model, &verdicts));
    report
        .notes
        .extend(history_charts(ctx, name, model, &id, &cand_metrics).await?);
    report.cases = verdicts
        .iter()
        .map(|v| Case {
            name: v.metric.clone(),
            failure: (!v.passed).then(|| failures(v).join("; ")),
        })
        .collect();
    let comparison = Comparison {
        candidate: id,
        baseline,
        data: eval_fp,
        verdicts,
        passed,
    };
    report.data = serde_json::to_value(&comparison).unwrap_or_default();
    Ok(report)
}

/// Production's metrics on the same data, or its recorded ones when it cannot be loaded.
async fn production_metrics(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    pointer: &Pointer,
    eval_path: &str,
    eval_fp: &str,
) -> Result<(Baseline, Option<IndexMap<String, f64>>)> {
    let Some(version) = pointer.version.clone() else {
        return Ok((Baseline::None, None));
    };
    let reason = match ctx.load_version(name, &version).await {
        Ok(production) if production.model.reported_metrics().is_some() => {
            "SageMaker models are compared on the metrics their training jobs reported on the \
             evaluation data (the validation channel)"
                .to_string()
        }
        Ok(production) => {
            match ctx
                .read_frame(model, eval_path, production.model.column_kinds())
                .await
                .and_then(|f| score(&production.model, &f, eval_fp))
            {
                Ok(e) => return Ok((Baseline::Reevaluated { version }, Some(e.metrics))),
                Err(e) => format!("it could not score the evaluation data: {}", e.message),
            }
        }
        Err(e) => e.message,
    };
    Ok((
        Baseline::Recorded { version, reason },
        Some(pointer.metrics.clone()),
    ))
}

fn baseline_note(baseline: &Baseline, pointer: &Pointer, eval_fp: &str) -> Vec<String> {
    match baseline {
        Baseline::None => vec![
            "No baseline: there is no production model yet, so only absolute bounds apply.".into(),
        ],
        Baseline::Reevaluated { version } => {
            vec![format!("Production `{version}` and the candidate were both scored on the same evaluation data.")]
        }
        Baseline::Recorded { version, reason } => {
            let mut notes = vec![format!(
                "⚠️ **Production `{version}` could not be re-evaluated** ({reason}); its metrics recorded in the pointer were used instead."
            )];
            if pointer.evaluated_on.as_deref() != Some(eval_fp) {
                notes.push("⚠️ Those recorded metrics were measured on different evaluation data, so the comparison is not like for like.".into());
            }
            notes
        }
    }
}

fn failures(v: &MetricVerdict) -> Vec<String> {
    v.checks
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| format!("{}: {}", c.rule, c.message))
        .collect()
}

fn diff_table(model: &ModelConfig, verdicts: &[MetricVerdict]) -> Table {
    let opt = |v: Option<f64>| v.map(num).unwrap_or_else(|| "—".into());
    let rows = verdicts
        .iter()
        .map(|v| {
            let change = match (v.change, v.production) {
                (Some(c), Some(p)) if p != 0.0 => format!(
                    "{}{} ({}{})",
                    if c > 0.0 { "+" } else { "" },
                    num(c),
                    if c > 0.0 { "+" } else { "" },
                    pct(c / p.abs())
                ),
                (Some(c), _) => num(c),
                _ => "—".into(),
            };
            let verdict = if !v.passed {
                format!("❌ {}", failures(v).join("; "))
            } else if v.checks.iter().all(|c| c.outcome == Outcome::Skipped) {
                "➖ no baseline".into()
            } else {
                "✅ pass".into()
            };
            let arrow = if v.direction == crate::config::Direction::Higher {
                "↑"
            } else {
                "↓"
            };
            vec![
                format!("{} {arrow}", v.metric),
                opt(v.production),
                opt(v.candidate),
                change,
                describe_rule(&model.gate[&v.metric]),
                verdict,
            ]
        })
        .collect();
    Table {
        header: [
            "metric",
            "production",
            "candidate",
            "change",
            "rule",
            "verdict",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

/// Commits of the pointer's history read back; enough for the last 20 promotions.
const HISTORY_COMMITS: usize = 40;

/// Production's metrics at each promotion, oldest first (at most the last 20), read from
/// the pointer's git history: the GitOps record of what production was.
async fn production_history(ctx: &Ctx, name: &str) -> Result<Vec<(String, IndexMap<String, f64>)>> {
    let path = ctx.project.pointer_rel(name);
    let commits = ctx.repo.history(&path, HISTORY_COMMITS).await?;
    let mut history: Vec<(String, IndexMap<String, f64>)> = Vec::new();
    for commit in commits.iter().rev() {
        let Some(text) = ctx.repo.read(&path, Some(commit)).await? else {
            continue;
        };
        let Ok(pointer) = Pointer::parse(Path::new(&path), &text, name) else {
            continue;
        };
        match pointer.version {
            Some(v) if history.last().map(|(last, _)| last) != Some(&v) => {
                history.push((v, pointer.metrics))
            }
            _ => {}
        }
    }
    let skip = history.len().saturating_sub(20);
    Ok(history.split_off(skip))
}

/// Each gated metric over production's history and the candidate: a Mermaid chart for the
/// report and an SVG file beside it. Nothing when production has no history in git.
async fn history_charts(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    candidate: &str,
    current: &IndexMap<String, f64>,
) -> Result<Vec<String>> {
    let history = production_history(ctx, name).await?;
    if history.is_empty() {
        return Ok(Vec::new());
    }
    let mut labels: Vec<String> = history
        .iter()
        .map(|(v, _)| v[..v.len().min(8)].to_string())
        .collect();
    labels.push(format!(
        "{} (candidate)",
        &candidate[..candidate.len().min(8)]
    ));
    #[cfg(feature = "charts")]
    let dir = ctx.model_out(name).join("charts");
    let mut notes = Vec::new();
    for metric in model.gate.keys() {
        let values: Vec<f64> = history
            .iter()
            .map(|(_, m)| m.get(metric).copied().unwrap_or(f64::NAN))
            .chain([current.get(metric).copied().unwrap_or(f64::NAN)])
            .collect();
        if values.iter().any(|v| !v.is_finite()) {
            continue;
        }
        let title = format!("{metric}: production history and candidate");
        notes.push(mermaid::series(&title, metric, &labels, &values));
        #[cfg(feature = "charts")]
        {
            let svg = crate::chart::svg::series(&title, metric, &labels, &values)?;
            crate::chart::svg::save(&dir, &format!("history-{metric}.svg"), &svg)?;
        }
    }
    Ok(notes)
}
