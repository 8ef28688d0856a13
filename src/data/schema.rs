//! Data schemas (`schema.yaml`) and the check of a CSV file against one, streaming
//! row by row so any file size fits in memory.

use super::frame::{is_null, Kind};
use crate::error::{Error, Result};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

/// The expected shape of a data file.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSchema {
    /// Expected columns by name.
    pub columns: IndexMap<String, ColumnSchema>,
    /// Columns the schema does not name: `error` (default) or `allow`.
    #[serde(default)]
    pub extra_columns: ExtraColumns,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtraColumns {
    #[default]
    Error,
    Allow,
}

/// Rules for one column. Only `type` is required.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnSchema {
    #[serde(rename = "type")]
    pub kind: ColumnType,
    /// Missing values allowed. Default false.
    #[serde(default)]
    pub nullable: bool,
    /// Column may be absent from the file. Default false.
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    /// The only values allowed.
    #[serde(default)]
    pub allowed: Option<Vec<String>>,
    /// Every value distinct.
    #[serde(default)]
    pub unique: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Integer,
    Float,
    String,
    Boolean,
}

impl ColumnType {
    /// How a column of this type is held in a [`super::Frame`].
    pub fn kind(self) -> Kind {
        match self {
            ColumnType::Integer | ColumnType::Float => Kind::Numeric,
            ColumnType::String | ColumnType::Boolean => Kind::Categorical,
        }
    }
}

impl DataSchema {
    pub fn load(path: &Path) -> Result<DataSchema> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
        crate::config::from_yaml(path, &text)
    }
}

/// One kind of problem in one column, with the first rows that show it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    /// `None` for file-level findings (a missing column is reported on that column).
    pub column: Option<String>,
    pub check: String,
    pub message: String,
    /// How many rows have it.
    pub count: u64,
    pub examples: Vec<Example>,
}

/// A row that shows a finding. Rows are numbered from 1 after the header.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Example {
    pub row: u64,
    pub line: u64,
    pub value: String,
}

const MAX_EXAMPLES: usize = 5;

/// The result of checking one file against a schema.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SchemaCheck {
    pub file: String,
    pub rows: u64,
    pub columns: Vec<String>,
    pub findings: Vec<Finding>,
}

impl SchemaCheck {
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Checks `path` against `schema`. Data problems become findings; only an unreadable
/// or malformed file is an error.
pub fn check_file(path: &Path, schema: &DataSchema) -> Result<SchemaCheck> {
    let source = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::read(path, e))?;
    let mut reader = csv::ReaderBuilder::new().from_reader(file);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::input(format!("{source}: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let mut findings = header_findings(&header, schema);
    let mut checks: Vec<ColumnCheck> = schema
        .columns
        .iter()
        .filter_map(|(name, rules)| {
            header
                .iter()
                .position(|h| h == name)
                .map(|i| ColumnCheck::new(name, i, rules))
        })
        .collect();
    let mut rows = 0u64;
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e
                .position()
                .map(|p| format!(" at line {}", p.line()))
                .unwrap_or_default();
            Error::input(format!("{source}{line}: {e}"))
        })?;
        rows += 1;
        for check in &mut checks {
            check.row(rows, record.get(check.index).unwrap_or(""));
        }
    }
    findings.extend(checks.into_iter().flat_map(ColumnCheck::findings));
    Ok(SchemaCheck {
        file: source,
        rows,
        columns: header,
        findings,
    })
}

fn header_findings(header: &[String], schema: &DataSchema) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, rules) in &schema.columns {
        if !rules.optional && !header.contains(name) {
            let hint =
                crate::config::suggest::did_you_mean(name, header.iter().map(String::as_str));
            out.push(file_finding(
                Some(name),
                "missing_column",
                format!("required column `{name}` is missing{hint}"),
            ));
        }
    }
    if schema.extra_columns == ExtraColumns::Error {
        for name in header.iter().filter(|h| !schema.columns.contains_key(*h)) {
            out.push(file_finding(
                Some(name),
                "unexpected_column",
                format!("column `{name}` is not in the schema"),
            ));
        }
    }
    out
}

fn file_finding(column: Option<&str>, check: &str, message: String) -> Finding {
    Finding {
        column: column.map(str::to_string),
        check: check.into(),
        message,
        count: 1,
        examples: vec![],
    }
}

/// Running state of the checks on one column.
struct ColumnCheck<'a> {
    name: &'a str,
    index: usize,
    rules: &'a ColumnSchema,
    allowed: Option<HashSet<&'a str>>,
    seen: HashSet<String>,
    /// Findings by check name, in the order first met.
    found: IndexMap<&'static str, (String, u64, Vec<Example>)>,
}

impl<'a> ColumnCheck<'a> {
    fn new(name: &'a str, index: usize, rules: &'a ColumnSchema) -> Self {
        let allowed = rules
            .allowed
            .as_ref()
            .map(|a| a.iter().map(String::as_str).collect());
        ColumnCheck {
            name,
            index,
            rules,
            allowed,
            seen: HashSet::new(),
            found: IndexMap::new(),
        }
    }

    fn row(&mut self, row: u64, value: &str) {
        if is_null(value) {
            if !self.rules.nullable {
                self.note(
                    row,
                    value,
                    "null",
                    "missing value in a non-nullable column".into(),
                );
            }
            return;
        }
        let value = value.trim();
        if let Some(problem) = type_problem(self.rules.kind, value) {
            self.note(
                row,
                value,
                "type",
                format!("{problem} ({} expected)", type_name(self.rules.kind)),
            );
            return;
        }
        if let Ok(v) = value.parse::<f64>() {
            if self.rules.min.is_some_and(|min| v < min)
                || self.rules.max.is_some_and(|max| v > max)
            {
                let range = format!(
                    "{}..={}",
                    fmt_bound(self.rules.min),
                    fmt_bound(self.rules.max)
                );
                self.note(row, value, "range", format!("value outside {range}"));
            }
        }
        if self.allowed.as_ref().is_some_and(|a| !a.contains(value)) {
            self.note(
                row,
                value,
                "allowed",
                "value not among the allowed values".into(),
            );
        }
        if self.rules.unique && !self.seen.insert(value.to_string()) {
            self.note(
                row,
                value,
                "unique",
                "duplicate value in a unique column".into(),
            );
        }
    }

    fn note(&mut self, row: u64, value: &str, check: &'static str, message: String) {
        let entry = self
            .found
            .entry(check)
            .or_insert_with(|| (message, 0, Vec::new()));
        entry.1 += 1;
        if entry.2.len() < MAX_EXAMPLES {
            entry.2.push(Example {
                row,
                line: row + 1,
                value: value.chars().take(80).collect(),
            });
        }
    }

    fn findings(self) -> impl Iterator<Item = Finding> + 'a {
        let name = self.name;
        self.found
            .into_iter()
            .map(move |(check, (message, count, examples))| Finding {
                column: Some(name.to_string()),
                check: check.into(),
                message,
                count,
                examples,
            })
    }
}

fn fmt_bound(b: Option<f64>) -> String {
    b.map(|v| v.to_string()).unwrap_or_default()
}

fn type_name(t: ColumnType) -> &'static str {
    match t {
        ColumnType::Integer => "integer",
        ColumnType::Float => "float",
        ColumnType::String => "string",
        ColumnType::Boolean => "boolean",
    }
}

fn type_problem(t: ColumnType, value: &str) -> Option<&'static str> {
    match t {
        ColumnType::Integer => value.parse::<i64>().is_err().then_some("not an integer"),
        ColumnType::Float => match value.parse::<f64>() {
            Ok(v) if v.is_finite() => None,
            Ok(_) => Some("infinite"),
            Err(_) => Some("not a number"),
        },
        ColumnType::Boolean => (!matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "0" | "1" | "yes" | "no"
        ))
        .then_some("not a boolean"),
        ColumnType::String => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(yaml: &str) -> DataSchema {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn check(csv: &str, yaml: &str) -> SchemaCheck {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, csv).unwrap();
        check_file(&path, &schema(yaml)).unwrap()
    }

    #[test]
    fn clean_file_passes() {
        let r = check(
            "a,b\n1,x\n2,y\n",
            "columns: {a: {type: integer}, b: {type: string, allowed: [x, y]}}",
        );
        assert!(r.passed(), "{:?}", r.findings);
        assert_eq!(r.rows, 2);
    }

    #[test]
    fn findings_name_row_column_and_value() {
        let r = check(
            "a,b\n1,x\nzz,y\n3,\n-1,q\n",
            "columns: {a: {type: integer, min: 0}, b: {type: string, allowed: [x, y]}}",
        );
        let by = |c: &str| r.findings.iter().find(|f| f.check == c).unwrap().clone();
        assert_eq!(
            by("type").examples,
            vec![Example {
                row: 2,
                line: 3,
                value: "zz".into()
            }]
        );
        assert_eq!(by("null").column.as_deref(), Some("b"));
        assert_eq!(by("null").examples[0].row, 3);
        assert_eq!(by("range").examples[0].value, "-1");
        assert_eq!(by("allowed").examples[0].value, "q");
    }

    #[test]
    fn missing_and_unexpected_columns() {
        let r = check(
            "a,c\n1,2\n",
            "columns: {a: {type: integer}, b: {type: float}}",
        );
        let checks: Vec<_> = r.findings.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(checks, ["missing_column", "unexpected_column"]);
    }

    #[test]
    fn counts_beyond_examples_and_uniqueness() {
        let csv = format!("id\n{}", "7\n".repeat(9));
        let r = check(&csv, "columns: {id: {type: integer, unique: true}}");
        assert_eq!(r.findings[0].count, 8);
        assert_eq!(r.findings[0].examples.len(), MAX_EXAMPLES);
    }
}
