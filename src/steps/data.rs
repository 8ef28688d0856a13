//! `validate-data`: the model's training and evaluation files against its schema.

use super::Ctx;
use crate::config::ModelConfig;
use crate::data::schema::{check_file, SchemaCheck};
use crate::data::{DataSchema, Frame};
use crate::error::Result;
use crate::report::{Case, Location, Report, Status, Table};
use std::collections::HashMap;

pub fn validate_data(ctx: &Ctx, name: &str, model: &ModelConfig) -> Result<Report> {
    let files = [("train", &model.data.train), ("eval", &model.data.eval)];
    let Some(schema_path) = &model.data.schema else {
        return structure_only(ctx, name, model, &files);
    };
    let schema = DataSchema::load(&ctx.project.resolve(schema_path))?;
    let checks = files
        .iter()
        .map(|(role, path)| Ok((*role, check_file(&ctx.project.resolve(path), &schema)?)))
        .collect::<Result<Vec<_>>>()?;
    let failed: u64 = checks
        .iter()
        .flat_map(|(_, c)| &c.findings)
        .map(|f| f.count)
        .sum();
    let rows: Vec<String> = checks
        .iter()
        .map(|(role, c)| format!("{role} {} rows", c.rows))
        .collect();
    let (status, title) = if failed == 0 {
        (
            Status::Pass,
            format!("data matches the schema ({})", rows.join(", ")),
        )
    } else {
        (
            Status::Fail,
            format!(
                "{failed} problem rows or columns against the schema ({})",
                rows.join(", ")
            ),
        )
    };
    let mut report = Report::new("validate-data", name, status, title);
    report.notes.push(format!("Schema: `{schema_path}`."));
    let table = findings_table(&checks);
    if !table.rows.is_empty() {
        report.tables.push(table);
    }
    for (role, check) in &checks {
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
            let line = f.examples.first().map(|e| e.line as usize);
            report.locations.push(Location {
                file: check.file.clone(),
                line,
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
    report.data = serde_json::json!({ "schema": schema_path, "files": checks.iter().map(|(r, c)| serde_json::json!({"role": r, "check": c})).collect::<Vec<_>>() });
    Ok(report)
}

fn finding_line(f: &crate::data::schema::Finding) -> String {
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

fn findings_table(checks: &[(&str, SchemaCheck)]) -> Table {
    let rows = checks
        .iter()
        .flat_map(|(role, c)| c.findings.iter().map(move |f| (role, f)))
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
    Table {
        header: ["file", "column", "check", "rows", "problem", "first rows"]
            .map(String::from)
            .to_vec(),
        rows,
    }
}

/// Without a schema: the files parse, and hold the target and every feature.
fn structure_only(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    files: &[(&str, &String)],
) -> Result<Report> {
    let mut report = Report::new(
        "validate-data",
        name,
        Status::Pass,
        "data files are readable and hold the model's columns",
    );
    report.notes.push("No `data.schema` configured: only the file structure was checked. Add one to check types, nulls, ranges and allowed values: see docs/data-schema.md.".into());
    let mut problems = Vec::new();
    for (role, path) in files {
        let frame = Frame::read_csv(&ctx.project.resolve(path), &HashMap::new())?;
        let mut wanted = vec![model.target.clone()];
        wanted.extend(crate::train::feature_names(model, &frame));
        for column in wanted {
            if let Err(e) = frame.require(&column) {
                problems.push(Case {
                    name: format!("{role}: column {column}"),
                    failure: Some(e.message),
                });
            }
        }
        report.cases.push(Case {
            name: format!("{role}: readable, {} rows", frame.rows),
            failure: None,
        });
    }
    if !problems.is_empty() {
        report.status = Status::Fail;
        report.title = format!("{} required columns are missing", problems.len());
        report
            .notes
            .extend(problems.iter().filter_map(|c| c.failure.clone()));
    }
    report.cases.extend(problems);
    Ok(report)
}
