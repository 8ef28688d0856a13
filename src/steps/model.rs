//! `train`, `evaluate` and `validate-model`: produce a candidate version and vouch for it.

use super::{Candidate, Ctx, Phases};
use crate::chart::mermaid;
#[cfg(feature = "charts")]
use crate::chart::{curves, svg};
use crate::config::{ModelConfig, ValidateConfig};
use crate::data::{fingerprint, Frame, Kind};
use crate::error::Result;
use crate::evaluate::slices::Gap;
use crate::evaluate::{evaluate as score, Evaluation};
use crate::gate::num;
use crate::model::{Model, Predictions};
use crate::report::{Case, Report, Status, StepName, Table};
use crate::store::versions::{self, Lineage, Manifest};
use crate::train::{read_kinds, TrainRequest};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

pub async fn train(ctx: &Ctx, name: &str, model: &ModelConfig) -> Result<Report> {
    let files = ctx.data_files(model).await?;
    let train_path = files.train.clone();
    let trainer = super::backends::trainer_for(ctx, model, files).await?;
    train_by(ctx, name, model, &train_path, trainer.as_ref()).await
}

/// `train` with a given trainer: an upload trigger finishing the SageMaker job it started.
pub(crate) async fn train_by(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    train_path: &Path,
    trainer: &dyn crate::train::Trainer,
) -> Result<Report> {
    let phase = Phases::start();
    // Hashed beside the read and the fit, which leave a core free at times.
    let train_file = train_path.to_path_buf();
    let fingerprinting = tokio::task::spawn_blocking(move || fingerprint(&train_file));
    // And the commit the code is at, asked of git beside them too.
    let repo = ctx.repo.clone();
    let commit = tokio::spawn(async move { repo.commit().await });
    // The training data's profile (the drift reference once this version is in
    // production) comes from the pass that reads the frame.
    let (frame, profile) =
        super::data::frame_and_profile(ctx, model, &model.data.train, read_kinds(model)).await?;
    phase.done("read the training data");
    // The evaluation file is read beside the fit, which leaves a core free at times,
    // unless the trainer may write it.
    let early_eval = if trainer.leaves_files_alone() {
        Some(EarlyEval::start(ctx, model, crate::train::model_kinds(model, &frame)).await?)
    } else {
        None
    };
    let started = Instant::now();
    let trained = trainer
        .train(&TrainRequest {
            name,
            config: model,
            train: &frame,
        })
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    phase.done("fit");
    let evaluation = evaluate_on(ctx, model, &trained.model, early_eval).await?;
    phase.done("evaluate");
    if trained.model.reported_metrics().is_none() {
        gate_metrics_exist(ctx, name, model, &evaluation)?;
    }
    let crate::repo::Commit {
        head: git_commit,
        dirty: git_dirty,
    } = super::joined(commit).await?;
    let lineage = Lineage {
        git_commit,
        git_dirty,
        data: BTreeMap::from([
            ("train".into(), super::joined(fingerprinting).await?),
            ("eval".into(), evaluation.data.clone()),
        ]),
        params: serde_json::to_value(&trained.model.params).unwrap_or_default(),
        backend: trainer.backend().into(),
        details: trained.details,
        mlgate_version: crate::VERSION.into(),
        libraries: BTreeMap::from([
            ("mlgate".into(), crate::VERSION.into()),
            ("rustc".into(), env!("MLGATE_RUSTC_VERSION").into()),
        ]),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        training_seconds: (seconds * 1000.0).round() / 1000.0,
    };
    let manifest = Manifest {
        model: name.into(),
        version: String::new(),
        artifact: String::new(),
        task: model.task.as_str().into(),
        algorithm: trained.model.algorithm_name().into(),
        lineage,
        evaluation,
    };
    phase.done("lineage");
    let (id, created) = versions::save(ctx.store.as_ref(), name, &trained.model, manifest).await?;
    phase.done("store");
    let features = crate::train::feature_names(model, &frame);
    let numeric_text: Vec<String> = crate::data::infer::numeric_text_columns(&profile)
        .filter(|(column, _)| features.iter().any(|f| f == column))
        .map(|(_, w)| format!("⚠️ {w}; this model used it as a text feature."))
        .collect();
    versions::save_profile(ctx.store.as_ref(), name, &id, &profile.to_json()).await?;
    ctx.write_candidate(&Candidate {
        model: name.into(),
        version: id.clone(),
        store: ctx.store.uri(),
    })?;
    let stored = ctx.load_version(name, &id).await?;
    phase.done("save the profile and reload");
    let how = if created {
        "new version"
    } else {
        "identical to a stored version; nothing written"
    };
    let mut report = Report::new(
        StepName::Train,
        name,
        Status::Pass,
        format!("trained candidate `{id}` ({how})"),
    );
    report.notes.push(lineage_note(&stored.manifest));
    report.notes.extend(numeric_text);
    if stored.manifest.lineage.git_commit.is_none() {
        report.notes.push(format!(
            "⚠️ No commit recorded: {} is not in a git repository (or has no commit yet). \
             Promotion goes through git: `git init` and commit the project.",
            ctx.repo.describe()
        ));
    }
    if let (Some(runner), true) = (ctx.event.runner, ctx.store.in_git()) {
        report.notes.push(format!(
            "ℹ️ The store `{}` lives in this {runner} job's workspace: run `compare` and \
             `promote` in this job (or pass the store folder to later jobs as an artifact, \
             as mlgate's actions and components do), and the promotion commit carries the \
             version into git beside the pointer. To keep every candidate across jobs and \
             runs, use a cloud store (`s3://…`).",
            ctx.store.uri()
        ));
    }
    if let Some(chart) = importance_chart(&stored.manifest) {
        report.notes.push(chart);
    }
    report
        .tables
        .push(metrics_table(&stored.manifest.evaluation));
    report.cases.push(Case {
        name: "train".into(),
        failure: None,
    });
    report.data = serde_json::to_value(&stored.manifest).unwrap_or_default();
    Ok(report)
}

/// Every gated metric must be one this model has: `brier` on a multiclass model is a
/// mistake in the config, said at the gate's key before any candidate is compared.
fn gate_metrics_exist(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    evaluation: &Evaluation,
) -> Result<()> {
    let Some(metric) = model
        .gate
        .keys()
        .find(|m| !evaluation.metrics.contains_key(*m))
    else {
        return Ok(());
    };
    let why = match evaluation.classes.len() {
        k if k > 2 => format!(
            "this model has {k} classes ({}) and `{metric}` is defined for binary classifiers only",
            evaluation.classes.join(", ")
        ),
        _ => format!(
            "the evaluation of this model has no `{metric}` (it has {})",
            evaluation
                .metrics
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Err(ctx
        .project
        .error_at(&format!("models.{name}.gate.{metric}"), why)
        .with_hint("remove the rule, or gate on a metric the model has"))
}

/// The evaluation file read and hashed beside the fit, with the column kinds a built-in
/// model of the training frame reads it with.
struct EarlyEval {
    kinds: HashMap<String, Kind>,
    read: tokio::task::JoinHandle<Result<(Frame, String)>>,
}

impl EarlyEval {
    async fn start(
        ctx: &Ctx,
        config: &ModelConfig,
        model_kinds: HashMap<String, Kind>,
    ) -> Result<EarlyEval> {
        let (csv, kinds) = ctx.frame_options(config, model_kinds)?;
        let path = ctx.data_path(&config.data.eval).await?;
        let read_kinds = kinds.clone();
        let read = tokio::task::spawn_blocking(move || {
            Ok((Frame::read(&path, &csv, &read_kinds)?, fingerprint(&path)?))
        });
        Ok(EarlyEval { kinds, read })
    }
}

/// Scores a model on the project's evaluation file; a model mlgate cannot score itself
/// (SageMaker's) brings the metrics its job measured on the same file. The early read
/// serves if the model reads the file with the same kinds; otherwise it is read now.
async fn evaluate_on(
    ctx: &Ctx,
    config: &ModelConfig,
    model: &Model,
    early: Option<EarlyEval>,
) -> Result<Evaluation> {
    let (csv, kinds) = ctx.frame_options(config, model.column_kinds())?;
    let (frame, data) = match early.filter(|e| e.kinds == kinds) {
        Some(early) => {
            tracing::debug!("the evaluation file was read beside the fit");
            super::joined(early.read).await?
        }
        None => {
            tracing::debug!("the evaluation file is read after the fit");
            let path = ctx.data_path(&config.data.eval).await?;
            (Frame::read(&path, &csv, &kinds)?, fingerprint(&path)?)
        }
    };
    match model.reported_metrics() {
        Some(metrics) => Ok(Evaluation {
            data,
            rows: frame.rows,
            metrics: metrics.clone(),
            confusion: None,
            classes: model.classes.clone(),
        }),
        None => score(model, &frame, &data),
    }
}

/// The report of a step on a model judged by its job's metrics: the metrics and why.
fn reported_report(step: StepName, name: &str, manifest: &Manifest, note: String) -> Report {
    let id = &manifest.version;
    let mut report = Report::new(
        step,
        name,
        Status::Pass,
        format!("`{id}`: metrics reported by its training job"),
    );
    report.notes.push(note);
    report.tables.push(metrics_table(&manifest.evaluation));
    report.cases.push(Case {
        name: "artifact loads and matches its digest".into(),
        failure: None,
    });
    report.data = serde_json::json!({ "version": id, "evaluation": manifest.evaluation });
    report
}

/// Said in every report on a model whose metrics come from its training job.
fn reported_note(model: &Model) -> Option<String> {
    match &model.estimator {
        crate::model::Estimator::SageMaker { job_name, .. } => Some(format!(
            "Metrics reported by SageMaker training job `{job_name}` on the evaluation data \
             (its validation channel); the model is scored by SageMaker, so per-row charts, \
             slices and latency are not measured here."
        )),
        _ => None,
    }
}

pub async fn evaluate(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    version: Option<&str>,
    data: Option<&str>,
) -> Result<Report> {
    let candidate = ctx.candidate(name, version).await?;
    let path = data.unwrap_or(&model.data.eval);
    if let Some(note) = reported_note(&candidate.model) {
        return Ok(reported_report(
            StepName::Evaluate,
            name,
            &candidate.manifest,
            note,
        ));
    }
    let frame = ctx
        .read_frame(model, path, candidate.model.column_kinds())
        .await?;
    let predictions = candidate.model.predict(&frame)?;
    let fingerprint = fingerprint(&ctx.data_path(path).await?)?;
    let evaluation =
        crate::evaluate::score(&candidate.model, &frame, predictions.clone(), &fingerprint)?;
    let id = &candidate.manifest.version;
    let mut report = Report::new(
        StepName::Evaluate,
        name,
        Status::Pass,
        format!("`{id}` on `{path}` ({} rows)", evaluation.rows),
    );
    report.tables.push(metrics_table(&evaluation));
    let curve = binary_scores(&candidate.model, &frame, &predictions)?;
    if let Some(BinaryScores {
        truth,
        scores,
        positive,
    }) = &curve
    {
        if let Some(tpr) = mermaid::roc_points(truth, scores, 20) {
            let title = format!("ROC curve (positive class `{positive}`)");
            report.notes.push(mermaid::unit_line(
                &title,
                "false positive rate",
                "true positive rate",
                &tpr,
            ));
        }
    }
    for column in &model.validate.slices {
        report
            .tables
            .push(slice_table(model, &candidate.model, &frame, column)?);
    }
    let dir = ctx.model_out(name).join("charts");
    let charts = write_charts(
        &dir,
        &candidate,
        &frame,
        &predictions,
        &evaluation,
        curve.as_ref(),
    )?;
    if !charts.is_empty() {
        report.notes.push(format!(
            "Charts (SVG) in `{}`: {}.",
            dir.display(),
            charts.join(", ")
        ));
    }
    if let Some(confusion) = &evaluation.confusion {
        report
            .tables
            .push(confusion_table(&evaluation.classes, confusion));
    }
    report.cases.extend(evaluation.metrics.keys().map(|m| Case {
        name: m.clone(),
        failure: None,
    }));
    report.data = serde_json::json!({ "version": id, "data": path, "evaluation": evaluation });
    Ok(report)
}

/// Checks a version can serve: it loads, predicts on a sample, predicts sensibly, and
/// meets the budgets, metric limits and slice gaps of the model's `validate` settings.
pub async fn validate_model(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    version: Option<&str>,
) -> Result<Report> {
    const SAMPLE: usize = 1000;
    let candidate = ctx.candidate(name, version).await?;
    let rules = &model.validate;
    if let Some(note) = reported_note(&candidate.model) {
        let mut report = reported_report(StepName::ValidateModel, name, &candidate.manifest, note);
        let evaluation = &candidate.manifest.evaluation;
        report.cases.extend(limit_cases(rules, evaluation));
        // Latency is SageMaker's to measure; the artifact budget still applies.
        let size_only = ValidateConfig {
            max_latency_ms_per_1000_rows: None,
            ..rules.clone()
        };
        let size = candidate.model.to_json().len();
        report.cases.extend(budget_cases(&size_only, 0.0, size));
        if let Some(expected) = &rules.expected_classes {
            report
                .cases
                .push(classes_case(expected, &candidate.model.classes));
        }
        if report.cases.iter().any(|c| c.failure.is_some()) {
            report.status = Status::Fail;
        }
        return Ok(report);
    }
    let mut kinds = candidate.model.column_kinds();
    for column in &rules.slices {
        kinds
            .entry(column.clone())
            .or_insert(crate::data::Kind::Categorical);
    }
    let full = ctx.read_frame(model, &model.data.eval, kinds).await?;
    let mut frame = full.clone();
    truncate(&mut frame, SAMPLE);
    let started = Instant::now();
    let predictions = candidate.model.predict(&frame)?;
    let per_1000 = started.elapsed().as_secs_f64() * 1000.0 / frame.rows.max(1) as f64 * 1000.0;
    let artifact_bytes = candidate.model.to_json().len();
    let mut cases = vec![Case {
        name: "artifact loads and matches its digest".into(),
        failure: None,
    }];
    cases.push(shape_case(&predictions, frame.rows));
    cases.extend(budget_cases(rules, per_1000, artifact_bytes));
    if let Some(expected) = &rules.expected_classes {
        cases.push(classes_case(expected, &candidate.model.classes));
    }
    let evaluation = score(&candidate.model, &full, "")?;
    cases.extend(limit_cases(rules, &evaluation));
    let mut slice_table = Table {
        header: ["slice", "rows"]
            .map(String::from)
            .into_iter()
            .chain(evaluation.metrics.keys().cloned())
            .collect(),
        rows: Vec::new(),
    };
    let mut gaps = Vec::new();
    for column in &rules.slices {
        let slices = crate::evaluate::slices::slices(&candidate.model, &full, column)?;
        for s in &slices {
            let mut row = vec![format!("{column} = {}", s.value), s.rows.to_string()];
            row.extend(
                evaluation
                    .metrics
                    .keys()
                    .map(|m| s.metrics.get(m).map_or("–".into(), |v| num(*v))),
            );
            slice_table.rows.push(row);
        }
        for (metric, max) in &rules.max_slice_gap {
            let gap = crate::evaluate::slices::gap(&slices, metric);
            cases.push(gap_case(column, metric, *max, gap.as_ref()));
            gaps.extend(gap);
        }
    }
    let id = &candidate.manifest.version;
    let failed = cases.iter().filter(|c| c.failure.is_some()).count();
    let status = if failed == 0 {
        Status::Pass
    } else {
        Status::Fail
    };
    let title = if failed == 0 {
        format!("`{id}` loads and predicts sensibly")
    } else {
        format!("`{id}` failed {failed} checks")
    };
    let mut report = Report::new(StepName::ValidateModel, name, status, title);
    report.tables.push(Table {
        header: vec!["check".into(), "result".into()],
        rows: cases
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    c.failure.clone().unwrap_or_else(|| "ok".into()),
                ]
            })
            .chain([
                vec!["latency per 1 000 rows".into(), format!("{per_1000:.2} ms")],
                vec!["artifact size".into(), format!("{artifact_bytes} bytes")],
            ])
            .collect(),
    });
    if !slice_table.rows.is_empty() {
        report.tables.push(slice_table);
    }
    report.cases = cases;
    report.data = serde_json::json!({ "version": id, "sample_rows": frame.rows, "latency_ms_per_1000_rows": per_1000, "artifact_bytes": artifact_bytes, "slice_gaps": gaps });
    Ok(report)
}

fn check(name: String, failure: Option<String>) -> Case {
    Case { name, failure }
}

fn budget_cases(rules: &ValidateConfig, per_1000: f64, bytes: usize) -> Vec<Case> {
    let mut cases = Vec::new();
    if let Some(max) = rules.max_latency_ms_per_1000_rows {
        cases.push(check(
            format!("latency ≤ {max} ms per 1 000 rows"),
            (per_1000 > max).then(|| format!("{per_1000:.2} ms per 1 000 rows")),
        ));
    }
    if let Some(max) = rules.max_artifact_bytes {
        cases.push(check(
            format!("artifact ≤ {max} bytes"),
            (bytes as u64 > max).then(|| format!("{bytes} bytes")),
        ));
    }
    cases
}

fn classes_case(expected: &[String], actual: &[String]) -> Case {
    let (mut e, mut a) = (expected.to_vec(), actual.to_vec());
    e.sort();
    a.sort();
    check(
        format!("predicts the classes {}", expected.join(", ")),
        (e != a).then(|| format!("predicts {}", actual.join(", "))),
    )
}

fn limit_cases(rules: &ValidateConfig, evaluation: &Evaluation) -> Vec<Case> {
    rules
        .limits
        .iter()
        .map(|(metric, limit)| {
            let higher = crate::evaluate::metrics::is_higher_better(metric).unwrap_or(true);
            let (op, name) = if higher {
                ("≥", metric)
            } else {
                ("≤", metric)
            };
            let failure = match evaluation.metrics.get(metric).filter(|v| v.is_finite()) {
                None => Some("not computed on the evaluation data".into()),
                Some(v) if (higher && v < limit) || (!higher && v > limit) => Some(num(*v)),
                Some(_) => None,
            };
            check(format!("{name} {op} {limit}"), failure)
        })
        .collect()
}

fn gap_case(column: &str, metric: &str, max: f64, gap: Option<&Gap>) -> Case {
    let failure = match gap {
        None => Some(format!(
            "{metric} is defined on fewer than two `{column}` slices"
        )),
        Some(g) if g.gap > max => Some(format!(
            "gap {} (best `{}`, worst `{}`)",
            num(g.gap),
            g.best,
            g.worst
        )),
        Some(_) => None,
    };
    check(format!("{metric} gap across `{column}` ≤ {max}"), failure)
}

fn truncate(frame: &mut crate::data::Frame, rows: usize) {
    use crate::data::Column;
    for column in &mut frame.columns {
        match column {
            Column::Numeric(v) => v.truncate(rows),
            Column::Categorical(v) => v.truncate(rows),
        }
    }
    frame.rows = frame.rows.min(rows);
}

fn shape_case(predictions: &Predictions, rows: usize) -> Case {
    let failure = match predictions {
        Predictions::Proba { classes, proba } => {
            let k = classes.len();
            if proba.len() != rows * k {
                Some(format!(
                    "{} probabilities for {rows} rows × {k} classes",
                    proba.len()
                ))
            } else {
                proba
                    .chunks(k)
                    .position(|p| {
                        p.iter().any(|v| !(0.0..=1.0).contains(v))
                            || (p.iter().sum::<f64>() - 1.0).abs() > 1e-6
                    })
                    .map(|row| {
                        format!(
                            "row {} has probabilities outside [0, 1] or not summing to 1",
                            row + 1
                        )
                    })
            }
        }
        Predictions::Values(v) => {
            if v.len() != rows {
                Some(format!("{} predictions for {rows} rows", v.len()))
            } else {
                v.iter()
                    .position(|x| !x.is_finite())
                    .map(|row| format!("row {} predicts a non-finite value", row + 1))
            }
        }
    };
    Case {
        name: format!("predictions have the expected shape ({rows} sample rows)"),
        failure,
    }
}

pub fn metrics_table(e: &Evaluation) -> Table {
    Table {
        header: vec!["metric".into(), "value".into()],
        rows: e
            .metrics
            .iter()
            .map(|(k, v)| vec![k.clone(), num(*v)])
            .collect(),
    }
}

fn confusion_table(classes: &[String], m: &[Vec<u64>]) -> Table {
    let mut header = vec!["true \\ predicted".to_string()];
    header.extend(classes.iter().cloned());
    let rows = classes
        .iter()
        .zip(m)
        .map(|(c, row)| {
            std::iter::once(c.clone())
                .chain(row.iter().map(u64::to_string))
                .collect()
        })
        .collect();
    Table { header, rows }
}

/// Tree ensembles' feature importance, largest first (top 15).
fn importance(m: &Manifest) -> Option<Vec<(String, f64)>> {
    let shares = m.lineage.details.get("feature_importance")?.as_object()?;
    let mut items: Vec<(String, f64)> = shares
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
        .collect();
    items.sort_by(|a, b| b.1.total_cmp(&a.1));
    items.truncate(15);
    (!items.is_empty()).then_some(items)
}

/// Feature importance as a Mermaid bar chart for the train report.
fn importance_chart(m: &Manifest) -> Option<String> {
    importance(m).map(|items| mermaid::bars("Feature importance", "share of split gain", &items))
}

/// Metrics of each slice of `column`, for the metrics the model is judged on (its gate
/// and slice-gap rules, else the task's headline metrics), with the gap per metric.
fn slice_table(config: &ModelConfig, model: &Model, frame: &Frame, column: &str) -> Result<Table> {
    let slices = crate::evaluate::slices::slices(model, frame, column)?;
    let mut metrics: Vec<&str> = config
        .gate
        .keys()
        .chain(config.validate.max_slice_gap.keys())
        .map(String::as_str)
        .collect();
    metrics.dedup();
    if metrics.is_empty() {
        metrics = match config.task {
            crate::config::Task::Classification => vec!["accuracy", "roc_auc"],
            crate::config::Task::Regression => vec!["rmse", "r2"],
        };
    }
    let mut header = vec![format!("slice `{column}`"), "rows".into()];
    header.extend(metrics.iter().map(|m| m.to_string()));
    let mut rows: Vec<Vec<String>> = slices
        .iter()
        .map(|s| {
            let values = metrics
                .iter()
                .map(|m| s.metrics.get(*m).map_or("—".into(), |v| num(*v)));
            [s.value.clone(), s.rows.to_string()]
                .into_iter()
                .chain(values)
                .collect()
        })
        .collect();
    let gaps = metrics
        .iter()
        .map(|m| crate::evaluate::slices::gap(&slices, m).map_or("—".into(), |g| num(g.gap)));
    rows.push(
        ["**largest gap**".to_string(), String::new()]
            .into_iter()
            .chain(gaps)
            .collect(),
    );
    Ok(Table { header, rows })
}

/// A binary classifier's predictions as curves need them.
struct BinaryScores {
    /// Whether each row is of the positive class.
    truth: Vec<bool>,
    /// The predicted probability of the positive class.
    scores: Vec<f64>,
    /// The positive class's label.
    positive: String,
}

/// Truth and positive-class scores of a binary classifier's predictions, for curves.
fn binary_scores(
    model: &Model,
    frame: &Frame,
    predictions: &Predictions,
) -> Result<Option<BinaryScores>> {
    let Predictions::Proba { proba, classes } = predictions else {
        return Ok(None);
    };
    if classes.len() != 2 {
        return Ok(None);
    }
    let positive = model.positive.unwrap_or(1);
    let y = crate::model::labels::encode_labels(frame, &model.target, classes)?;
    let truth = y.iter().map(|c| *c == positive).collect();
    let scores = proba.chunks(2).map(|p| p[positive]).collect();
    Ok(Some(BinaryScores {
        truth,
        scores,
        positive: classes[positive].clone(),
    }))
}

/// Without the `charts` feature there are no SVG files; the report's Mermaid charts stay.
#[cfg(not(feature = "charts"))]
fn write_charts(
    _: &Path,
    _: &versions::Version,
    _: &Frame,
    _: &Predictions,
    _: &Evaluation,
    _: Option<&BinaryScores>,
) -> Result<Vec<String>> {
    Ok(Vec::new())
}

/// Writes the evaluation's SVG charts into `dir`; returns the file names written.
#[cfg(feature = "charts")]
fn write_charts(
    dir: &Path,
    version: &versions::Version,
    frame: &Frame,
    predictions: &Predictions,
    evaluation: &Evaluation,
    curve: Option<&BinaryScores>,
) -> Result<Vec<String>> {
    let mut charts: Vec<(&str, String)> = Vec::new();
    if let Some(matrix) = &evaluation.confusion {
        charts.push((
            "confusion.svg",
            svg::confusion("Confusion matrix", &evaluation.classes, matrix)?,
        ));
    }
    if let Some(BinaryScores {
        truth,
        scores,
        positive,
    }) = curve
    {
        if let Some(roc) = curves::roc_curve(truth, scores) {
            charts.push((
                "roc.svg",
                svg::unit_curve(
                    &format!("ROC curve (positive: {positive})"),
                    "false positive rate",
                    "true positive rate",
                    &roc,
                    true,
                )?,
            ));
        }
        if let Some(pr) = curves::pr_curve(truth, scores) {
            charts.push((
                "pr.svg",
                svg::unit_curve(
                    &format!("Precision–recall (positive: {positive})"),
                    "recall",
                    "precision",
                    &pr,
                    false,
                )?,
            ));
        }
    }
    if let Predictions::Values(predicted) = predictions {
        let actual = crate::model::labels::target_values(frame, &version.model.target)?;
        let points: Vec<(f64, f64)> = predicted
            .iter()
            .zip(&actual)
            .map(|(p, a)| (*p, a - p))
            .collect();
        charts.push((
            "residuals.svg",
            svg::scatter("Residuals", "predicted", "actual − predicted", &points)?,
        ));
    }
    if let Some(items) = importance(&version.manifest) {
        charts.push((
            "importance.svg",
            svg::bars("Feature importance (share of split gain)", &items)?,
        ));
    }
    charts
        .into_iter()
        .map(|(file, text)| {
            svg::save(dir, file, &text)?;
            Ok(file.to_string())
        })
        .collect()
}

pub fn lineage_note(m: &Manifest) -> String {
    let l = &m.lineage;
    let commit = l
        .git_commit
        .as_deref()
        .map(|c| &c[..c.len().min(12)])
        .unwrap_or("none");
    let dirty = if l.git_dirty {
        " (with uncommitted changes)"
    } else {
        ""
    };
    let data: Vec<String> = l
        .data
        .iter()
        .map(|(k, v)| format!("{k} `{}`", &v[..v.len().min(19)]))
        .collect();
    // Remote backends name their job, so the version leads back to it.
    let job = match (
        l.details.get("job_name"),
        l.details.get("estimated_cost_usd"),
    ) {
        (Some(job), Some(cost)) => {
            format!(" (job `{}`, ≈ ${cost})", job.as_str().unwrap_or_default())
        }
        (Some(job), None) => format!(" (job `{}`)", job.as_str().unwrap_or_default()),
        _ => String::new(),
    };
    format!(
        "Lineage: commit `{commit}`{dirty}, {} backend{job}, data {}, trained {} in {:.2}s, mlgate {}.",
        l.backend,
        data.join(", "),
        l.created_at,
        l.training_seconds,
        l.mlgate_version
    )
}
