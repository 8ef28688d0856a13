//! `validate-data`: the model's training and evaluation files against its schema, their
//! drift against a reference, and the skew between them; one pass per file.

use super::{Ctx, Phases};
use crate::config::{ModelConfig, Task};
use crate::context::frame_kinds;
use crate::data::drift::{self, DriftReport, Side};
use crate::data::frame::{Frame, Kind};
use crate::data::profile::{sparkline, Profile};
use crate::data::reader::{format_of, open_stream, Format};
use crate::data::scan::{scan, scan_table, Scan, ScanOptions};
use crate::data::schema::{ColumnType, Finding, SchemaCheck};
use crate::data::DataSchema;
use crate::error::{Error, Result};
use crate::report::{truncate, Case, Location, Report, Status, StepName, Table};
use crate::store::{self, versions};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A data set compared against: a stored profile, or a data file scanned like the rest.
struct Reference {
    label: String,
    profile: Profile,
    values: Option<HashMap<String, Vec<f64>>>,
}

pub async fn validate_data(ctx: &Ctx, name: &str, model: &ModelConfig) -> Result<Report> {
    let phase = Phases::start();
    let schema = ctx.schema(model)?;
    let options = drift_options(model);
    let scan_role = |role, path| scan_file(ctx, model, role, path, schema.as_ref(), &options);
    let train = scan_role("train", &model.data.train).await?;
    phase.done("scan train");
    // The evaluation file and the reference each take one core: read together. (Read
    // beside the training file too, they added to its peak: 249 MiB on 1000 columns.)
    let (eval, reference) = tokio::join!(
        scan_role("eval", &model.data.eval),
        reference(ctx, name, model, schema.as_ref(), &options)
    );
    let scans = [("train", train), ("eval", eval?)];
    let reference = reference?;
    phase.done("scan eval, read the drift reference");
    // The profiles are written while drift and skew are compared, each on its own
    // thread: formatting a wide table's numbers takes as long as comparing its columns.
    let dir = ctx.model_out(name);
    std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;
    let (drift, skew) = std::thread::scope(|s| {
        let writing: Vec<_> = scans
            .iter()
            .map(|(role, scan)| s.spawn(|| write_side_files(&dir, role, scan)))
            .collect();
        let drift = drift_from(reference, &scans[0].1, model);
        let skew = (model.drift.skew != Some(false))
            .then(|| drift::compare(&side_of(&scans[0].1), &side_of(&scans[1].1), &model.drift));
        writing
            .into_iter()
            .try_for_each(crate::data::reader::joined)?;
        Ok::<_, Error>((drift, skew))
    })?;
    phase.done("drift and skew, write the profiles");
    let report = build_report(name, model, &scans, drift.as_ref(), skew.as_ref());
    phase.done("build the report");
    Ok(report)
}

/// [`scan_input`] of the model's data file at `path`.
async fn scan_file(
    ctx: &Ctx,
    model: &ModelConfig,
    role: &'static str,
    path: &str,
    schema: Option<&DataSchema>,
    options: &ScanOptions,
) -> Result<Scan> {
    let input = DataInput::of(ctx, path).await?;
    let label = input.label(path);
    scan_input(ctx, model, role, input, &label, schema, options).await
}

/// Where a data file to check is.
pub enum DataInput {
    File(PathBuf),
    /// A remote CSV or JSON Lines object (`s3://…`, `az://…`), checked as it streams: no
    /// local copy, and the check runs while the bytes arrive.
    Remote(String),
}

impl DataInput {
    /// Whether the file at `location` is checked as it streams: remote and not Parquet
    /// (whose index sits at the end of the file).
    pub fn streams(location: &str) -> bool {
        store::is_remote(location) && format_of(Path::new(location)).0 != Format::Parquet
    }

    /// The model's data file at `path`: streamed, or on disk (downloaded if remote).
    async fn of(ctx: &Ctx, path: &str) -> Result<DataInput> {
        if Self::streams(path) {
            return Ok(DataInput::Remote(path.to_string()));
        }
        Ok(DataInput::File(ctx.data_path(path).await?))
    }

    /// What reports call it: the URI it came from, not a scratch file's path.
    fn label(&self, location: &str) -> String {
        match self {
            DataInput::File(p) if !store::is_remote(location) => p.display().to_string(),
            _ => location.to_string(),
        }
    }
}

/// Scans `input` with the model's column and target checks, off the async threads (a
/// stream is read through the runtime). A stream that breaks off is a transient error,
/// never a finding about the file.
async fn scan_input(
    ctx: &Ctx,
    model: &ModelConfig,
    role: &'static str,
    input: DataInput,
    label: &str,
    schema: Option<&DataSchema>,
    options: &ScanOptions,
) -> Result<Scan> {
    let (read, failure) = match input {
        DataInput::File(path) => (Read::File(path), None),
        DataInput::Remote(uri) => {
            let reader = store::read_uri(&uri, &ctx.cloud).await?;
            let failure = reader.failure();
            (Read::Stream(uri, reader), Some(failure))
        }
    };
    let (model, schema, options) = (model.clone(), schema.cloned(), options.clone());
    let source = label.to_string();
    let scanned = tokio::task::spawn_blocking(move || {
        let scanned = match read {
            Read::File(path) => scan(&path, schema.as_ref(), &options)?,
            Read::Stream(uri, reader) => {
                let csv = schema.as_ref().map(|s| s.csv.clone()).unwrap_or_default();
                let table = open_stream(&source, &uri, Box::new(reader), &csv)?
                    .ok_or_else(|| Error::input(format!("{source}: Parquet cannot stream")))?;
                scan_table(table, schema.as_ref(), &options)?
            }
        };
        let mut s = checked(&model, role, scanned, schema.as_ref());
        s.check.file = source.clone();
        s.profile.source = source;
        Ok::<_, Error>(s)
    })
    .await
    .map_err(|e| Error::external(format!("the scan of {label} stopped: {e}")))?;
    if let Some(why) = failure.and_then(|f| f.lock().ok().and_then(|mut f| f.take())) {
        return Err(Error::transient(format!(
            "{label}: reading broke off: {why}"
        )));
    }
    scanned
}

/// What [`scan_input`] reads.
enum Read {
    File(PathBuf),
    Stream(String, store::BlockingReader),
}

/// `validate-data` for one new file (an upload a trigger saw): the model's schema and
/// target checks, and drift against the reference (by default production's training
/// data). The report's title names `label` (the object's URI).
pub async fn validate_upload(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    input: DataInput,
    label: &str,
) -> Result<Report> {
    let schema = ctx.schema(model)?;
    let options = drift_options(model);
    // The reference (production's profile, from the store) is fetched as the file is read.
    let (s, reference) = tokio::join!(
        scan_input(
            ctx,
            model,
            "upload",
            input,
            label,
            schema.as_ref(),
            &options
        ),
        reference(ctx, name, model, schema.as_ref(), &options)
    );
    let (s, reference) = (s?, reference?);
    let drift = drift_from(reference, &s, model);
    Ok(build_report(
        name,
        model,
        &[("upload", s)],
        drift.as_ref(),
        None,
    ))
}

/// Reads one of the model's data files as a frame (`kinds`: the model's column kinds)
/// and profiles it, with its schema's types, in the same pass on all cores: `train`
/// needs both.
pub(super) async fn frame_and_profile(
    ctx: &Ctx,
    model: &ModelConfig,
    path: &str,
    kinds: HashMap<String, Kind>,
) -> Result<(Frame, Profile)> {
    let schema = ctx.schema(model)?;
    let options = ScanOptions {
        bad_rows: 0,
        frame: Some(frame_kinds(schema.as_ref(), kinds)),
        ..ScanOptions::default()
    };
    let path = ctx.data_path(path).await?;
    blocking(move || {
        let scan = scan(&path, schema.as_ref(), &options)?;
        let frame = scan
            .frame
            .ok_or_else(|| Error::input(format!("{}: the scan read no data", path.display())))?;
        Ok((frame, scan.profile))
    })
    .await
}

/// Scans keep exact values up to the size drift compares exactly.
fn drift_options(model: &ModelConfig) -> ScanOptions {
    ScanOptions {
        keep_values: model.drift.exact_max_rows(),
        ..ScanOptions::default()
    }
}

/// A scan with the model's column and target checks added.
fn checked(model: &ModelConfig, role: &str, mut s: Scan, schema: Option<&DataSchema>) -> Scan {
    if schema.is_none() {
        s.check.findings.extend(model_columns(model, &s.check));
    }
    let target = target_findings(model, role, &s, schema.is_some());
    s.check.findings.extend(target);
    s
}

/// Drift of `current` against the reference, labelled with it.
fn drift_from(
    reference: Option<Reference>,
    current: &Scan,
    model: &ModelConfig,
) -> Option<DriftReport> {
    reference.map(|r| {
        let side = Side {
            profile: &r.profile,
            values: r.values.as_ref(),
        };
        let mut d = drift::compare(&side, &side_of(current), &model.drift);
        d.reference = r.label;
        d
    })
}

fn side_of(s: &Scan) -> Side<'_> {
    Side {
        profile: &s.profile,
        values: Some(&s.values),
    }
}

/// Without a schema, the files must at least hold the target and named features.
fn model_columns(model: &ModelConfig, check: &SchemaCheck) -> Vec<Finding> {
    let mut wanted = vec![model.target.clone()];
    wanted.extend(model.features.clone().unwrap_or_default());
    wanted
        .into_iter()
        .filter(|c| !check.columns.contains(c))
        .map(|c| {
            let hint =
                crate::config::suggest::did_you_mean(&c, check.columns.iter().map(String::as_str));
            crate::data::schema::file_finding(
                Some(&c),
                "missing_column",
                format!("the model needs column `{c}`{hint}"),
            )
        })
        .collect()
}

/// What `train` would refuse about the target, said here with the fix: a target the
/// file lacks, missing target values, text for a regression.
fn target_findings(model: &ModelConfig, role: &str, s: &Scan, schema: bool) -> Vec<Finding> {
    let t = &model.target;
    let finding = |check: &str, count: u64, message: String| Finding {
        count,
        ..crate::data::schema::file_finding(Some(t), check, message)
    };
    let Some(c) = s.profile.columns.get(t) else {
        // Without a schema, `model_columns` reports the missing column already.
        if !schema {
            return Vec::new();
        }
        let names = s.profile.columns.keys().map(String::as_str);
        let hint = crate::config::suggest::did_you_mean(t, names);
        return vec![finding(
            "target",
            1,
            format!("the model's target `{t}` is not a column of the {role} data{hint}: fix `target` in mlgate.yaml or the data"),
        )];
    };
    let mut found = Vec::new();
    if c.nulls > 0 {
        found.push(finding(
            "target",
            c.nulls,
            format!(
                "the target `{t}` is missing in {} of {} rows: every row needs a target; drop those rows or fill them",
                c.nulls,
                c.nulls + c.count
            ),
        ));
    }
    let text = matches!(c.kind, ColumnType::String | ColumnType::Boolean);
    if model.task == Task::Regression && text {
        let example = c
            .categories
            .as_ref()
            .and_then(|k| k.top.first())
            .map(|(v, _)| format!(" (e.g. `{v}`)"))
            .unwrap_or_default();
        found.push(finding(
            "target",
            c.count,
            format!("the target `{t}` of a regression model must be numeric, but holds text{example}: use `task: classification`, or clean the column"),
        ));
    }
    found
}

/// `drift.reference`, else the profile stored with the production version, else none.
/// Files are read and parsed off the async threads, so that it reads beside a scan.
async fn reference(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    schema: Option<&DataSchema>,
    options: &ScanOptions,
) -> Result<Option<Reference>> {
    if let Some(path) = &model.drift.reference {
        let resolved = ctx.data_path(path).await?;
        let (label, schema, options) = (path.clone(), schema.cloned(), options.clone());
        return blocking(move || {
            if label.ends_with(".json") {
                let bytes = std::fs::read(&resolved).map_err(|e| Error::read(&resolved, e))?;
                let profile = Profile::from_json(&bytes, &label)?;
                return Ok(Some(Reference {
                    label,
                    profile,
                    values: None,
                }));
            }
            let s = scan(&resolved, schema.as_ref(), &options)?;
            Ok(Some(Reference {
                label,
                profile: s.profile,
                values: Some(s.values),
            }))
        })
        .await;
    }
    let Some(version) = ctx.pointer(name).await.ok().and_then(|p| p.version) else {
        return Ok(None);
    };
    let Some(bytes) = versions::load_profile(ctx.store.as_ref(), name, &version).await? else {
        return Ok(None);
    };
    let label = format!("production `{version}` (training data profile)");
    blocking(move || {
        Ok(Some(Reference {
            profile: Profile::from_json(&bytes, &label)?,
            label,
            values: None,
        }))
    })
    .await
}

/// `work` on a thread for blocking work.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    super::joined(tokio::task::spawn_blocking(work)).await
}

/// A file's profile and bad-row sample go next to the report, in `dir`.
fn write_side_files(dir: &Path, role: &str, s: &Scan) -> Result<()> {
    let path = dir.join(format!("profile.{role}.json"));
    let file = std::fs::File::create(&path).map_err(|e| Error::write(&path, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    (s.profile.write_json(&mut out).and_then(|()| out.flush()))
        .map_err(|e| Error::write(&path, e))?;
    let bad = dir.join(format!("validate-data.bad-rows.{role}.csv"));
    if s.bad_rows.rows.is_empty() {
        let _ = std::fs::remove_file(&bad);
        Ok(())
    } else {
        write(&bad, &s.bad_rows.to_csv())
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::write(path, e))
}

fn build_report(
    name: &str,
    model: &ModelConfig,
    scans: &[(&str, Scan)],
    drift: Option<&DriftReport>,
    skew: Option<&DriftReport>,
) -> Report {
    let problems: u64 = scans
        .iter()
        .flat_map(|(_, s)| &s.check.findings)
        .map(|f| f.count)
        .sum();
    let rows: Vec<String> = scans
        .iter()
        .map(|(role, s)| format!("{role} {} rows", s.check.rows))
        .collect();
    let drifted = drift.is_some_and(|d| d.dataset_drift);
    let skewed = skew.is_some_and(|d| d.dataset_drift);
    let mut verdicts = Vec::new();
    if problems > 0 {
        verdicts.push(format!(
            "{problems} problem rows or columns against the schema"
        ));
    }
    if drifted {
        let what = if scans[0].0 == "upload" {
            "new"
        } else {
            "training"
        };
        verdicts.push(format!("the {what} data drifted from the reference"));
    }
    if skewed {
        verdicts.push("evaluation data is skewed against training data".to_string());
    }
    let status = if verdicts.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    let title = if verdicts.is_empty() {
        let what = if model.data.schema.is_some() {
            "data matches the schema"
        } else {
            "data is readable and holds the model's columns"
        };
        format!("{what} ({})", rows.join(", "))
    } else {
        format!("{} ({})", verdicts.join("; "), rows.join(", "))
    };
    let mut report = Report::new(StepName::ValidateData, name, status, title);
    match &model.data.schema {
        Some(path) => report.notes.push(format!("Schema: `{path}`.")),
        None => report.notes.push("No `data.schema` configured: only the file structure was checked. Add one to check types, nulls, ranges and allowed values: see docs/data-schema.md.".into()),
    }
    let table = findings_table(scans);
    if !table.rows.is_empty() {
        report.tables.push(table);
    }
    if scans.iter().any(|(_, s)| !s.bad_rows.rows.is_empty()) {
        report.notes.push("A sample of the offending rows is in `validate-data.bad-rows.<file>.csv` next to this report.".into());
    }
    for (_, s) in scans {
        let warnings = crate::data::infer::numeric_text_columns(&s.profile);
        report
            .notes
            .extend(warnings.map(|(_, w)| format!("⚠️ {w}.")));
    }
    report.tables.push(profile_table(&scans[0].1.profile));
    for (label, d) in [
        ("Drift of training data", drift),
        ("Skew: evaluation vs training data", skew),
    ] {
        if let Some(d) = d {
            report.notes.push(drift_note(label, d));
            report.tables.push(drift_table(d));
        }
    }
    if drift.is_none() {
        report.notes.push("No drift reference: set `drift.reference`, or promote a version (its training-data profile becomes the reference).".into());
    }
    add_cases(&mut report, scans, drift, skew);
    report.data = serde_json::json!({
        "schema": model.data.schema,
        "files": scans.iter().map(|(r, s)| serde_json::json!({"role": r, "format": s.format, "check": s.check})).collect::<Vec<_>>(),
        "drift": drift,
        "skew": skew,
    });
    report
}

fn add_cases(
    report: &mut Report,
    scans: &[(&str, Scan)],
    drift: Option<&DriftReport>,
    skew: Option<&DriftReport>,
) {
    for (role, s) in scans {
        let check = &s.check;
        report.cases.push(Case {
            name: format!("{role}: file readable, {} rows", check.rows),
            failure: None,
        });
        for f in &check.findings {
            let column = f.column.as_deref().unwrap_or("-");
            report.cases.push(Case {
                name: format!("{role}: {column}: {}", f.check),
                failure: Some(finding_line(f)),
            });
            report.locations.push(Location {
                file: check.file.clone(),
                line: f.examples.first().map(|e| e.line as usize),
                message: finding_line(f),
            });
        }
        if check.passed() {
            report.cases.push(Case {
                name: format!("{role}: schema"),
                failure: None,
            });
        }
    }
    for (what, d) in [("drift", drift), ("skew", skew)] {
        let Some(d) = d else { continue };
        for c in &d.columns {
            report.cases.push(Case {
                name: format!("{what}: {}", c.column),
                failure: c.drifted.then(|| c.reasons.join("; ")),
            });
        }
        report.cases.push(Case {
            name: format!("{what}: data set"),
            failure: d.dataset_drift.then(|| share_line(d)),
        });
    }
}

fn share_line(d: &DriftReport) -> String {
    let drifted = d.columns.iter().filter(|c| c.drifted).count();
    format!(
        "{drifted} of {} columns drifted ({:.0}%; the data set drifts at {:.0}%)",
        d.columns.len(),
        d.share * 100.0,
        d.share_threshold * 100.0
    )
}

fn drift_note(label: &str, d: &DriftReport) -> String {
    let verdict = if d.dataset_drift {
        "❌ drifted"
    } else {
        "✅ no data-set drift"
    };
    format!(
        "**{label}**: {verdict}: {}. Reference: `{}`. Charts: reference → current distribution.",
        share_line(d),
        d.reference
    )
}

fn finding_line(f: &Finding) -> String {
    let column = f
        .column
        .as_deref()
        .map(|c| format!("column `{c}`: "))
        .unwrap_or_default();
    let first = f
        .examples
        .first()
        .map(|e| format!("; first at row {} (line {}): `{}`", e.row, e.line, e.value))
        .unwrap_or_default();
    format!("{column}{} ({} rows){first}", f.message, f.count)
}

fn findings_table(scans: &[(&str, Scan)]) -> Table {
    let rows = scans
        .iter()
        .flat_map(|(role, s)| s.check.findings.iter().map(move |f| (role, f)))
        .map(|(role, f)| {
            let examples = f
                .examples
                .iter()
                .map(|e| format!("row {}: `{}`", e.row, e.value))
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                role.to_string(),
                f.column.clone().unwrap_or_default(),
                f.check.clone(),
                f.count.to_string(),
                f.message.clone(),
                examples,
            ]
        })
        .collect();
    header_table(
        &["file", "column", "check", "rows", "problem", "first rows"],
        rows,
    )
}

fn header_table(header: &[&str], rows: Vec<Vec<String>>) -> Table {
    Table {
        header: header.iter().map(|h| h.to_string()).collect(),
        rows,
    }
}

fn num(x: f64) -> String {
    if x.abs() >= 1e5 || (x != 0.0 && x.abs() < 1e-3) {
        format!("{x:.3e}")
    } else {
        format!("{:.4}", x)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// Bytes of a top value a profile table shows.
const TOP_VALUE_BYTES: usize = 60;

fn profile_table(p: &Profile) -> Table {
    let rows = p
        .columns
        .iter()
        .map(|(name, c)| {
            let (range, mean, chart) = match &c.numeric {
                Some(n) => (
                    format!("{} … {}", num(n.min), num(n.max)),
                    format!("{} ± {}", num(n.mean), num(n.std)),
                    format!("`{}`", sparkline(&n.histogram.counts)),
                ),
                None => {
                    // A long value (a document) shows its start: whole, one made a
                    // 53 KB line of the table.
                    let top = c.categories.as_ref().map(|k| {
                        k.top
                            .iter()
                            .take(3)
                            .map(|(v, n)| format!("{} ({n})", truncate(v, TOP_VALUE_BYTES)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    });
                    (String::new(), String::new(), top.unwrap_or_default())
                }
            };
            vec![
                name.clone(),
                c.kind.name().to_string(),
                c.nulls.to_string(),
                num(c.distinct),
                range,
                mean,
                chart,
            ]
        })
        .collect();
    header_table(
        &[
            "training column",
            "type",
            "nulls",
            "distinct ≈",
            "range",
            "mean ± std",
            "distribution / top values",
        ],
        rows,
    )
}

fn drift_table(d: &DriftReport) -> Table {
    let rows = d
        .columns
        .iter()
        .map(|c| {
            let verdict = match (&c.noise, c.drifted) {
                (_, true) => format!("❌ {}", c.reasons.join("; ")),
                (Some(noise), false) => format!("ℹ️ {noise}"),
                (None, false) => "✅".to_string(),
            };
            let metrics = c
                .metrics
                .iter()
                .map(|(k, v)| format!("{k} {}", num(*v)))
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                c.column.clone(),
                format!("{} ({})", c.kind, c.mode),
                verdict,
                metrics,
                c.chart(),
            ]
        })
        .collect();
    header_table(&["column", "kind", "verdict", "values", "chart"], rows)
}
