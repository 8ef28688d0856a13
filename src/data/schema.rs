//! Data schemas (`schema.yaml`): the vocabulary of checks, and the per-column checker
//! the one-pass scan (`super::scan`) feeds cell by cell.

use super::frame::{is_null, Kind};
use super::pattern::Pattern;
use super::reader::CsvOptions;
use crate::error::{Error, Result};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

/// The expected shape of a data file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSchema {
    /// Expected columns by name.
    pub columns: IndexMap<String, ColumnSchema>,
    /// Columns the schema does not name: `error` (default) or `allow`.
    #[serde(default)]
    pub extra_columns: ExtraColumns,
    /// `any` (default): columns may come in any order; `strict`: in the schema's order.
    #[serde(default)]
    pub column_order: ColumnOrder,
    /// Bounds on the number of data rows. Default: at least one.
    #[serde(default)]
    pub rows: RowBounds,
    /// `allow` (default) or `error`: whether two identical rows are a finding.
    #[serde(default)]
    pub duplicate_rows: DuplicateRows,
    /// How CSV files are read (delimiter, quote); detected when absent.
    #[serde(default)]
    pub csv: CsvOptions,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtraColumns {
    #[default]
    Error,
    Allow,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnOrder {
    #[default]
    Any,
    Strict,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateRows {
    #[default]
    Allow,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RowBounds {
    /// Fewest data rows. Default 1: a file with a header only is a finding.
    #[serde(default = "one")]
    pub min: u64,
    /// Most data rows.
    #[serde(default)]
    pub max: Option<u64>,
}

fn one() -> u64 {
    1
}

impl Default for RowBounds {
    fn default() -> Self {
        RowBounds { min: 1, max: None }
    }
}

/// Rules for one column. Only `type` is required.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnSchema {
    #[serde(rename = "type")]
    pub kind: ColumnType,
    /// Missing values allowed. Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nullable: bool,
    /// Largest share of missing values (0..=1); implies `nullable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_null_share: Option<f64>,
    /// Column may be absent from the file. Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The only values allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
    /// A regular expression every value must match in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Every value distinct.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
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

    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Integer => "integer",
            ColumnType::Float => "float",
            ColumnType::String => "string",
            ColumnType::Boolean => "boolean",
        }
    }

    pub fn is_numeric(self) -> bool {
        self.kind() == Kind::Numeric
    }
}

impl DataSchema {
    pub fn load(path: &Path) -> Result<DataSchema> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
        let schema: DataSchema = crate::config::from_yaml(path, &text)?;
        schema.validate(path)?;
        Ok(schema)
    }

    /// Rules that parse but cannot hold: an error naming the column and the key.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let fail = |column: &str, msg: String| {
            Err(Error::config(format!(
                "{}: columns.{column}: {msg}",
                path.display()
            )))
        };
        for (name, c) in &self.columns {
            if let Some(p) = &c.pattern {
                if let Err(e) = regex::Regex::new(p) {
                    return fail(
                        name,
                        format!("pattern is not a valid regular expression: {e}"),
                    );
                }
            }
            if c.max_null_share.is_some_and(|s| !(0.0..=1.0).contains(&s)) {
                return fail(name, "max_null_share must be between 0 and 1".into());
            }
            if let (Some(lo), Some(hi)) = (c.min, c.max) {
                if lo > hi {
                    return fail(name, format!("min {lo} is greater than max {hi}"));
                }
            }
            if c.allowed.as_ref().is_some_and(Vec::is_empty) {
                return fail(name, "allowed is empty: no value could pass".into());
            }
        }
        if self.rows.max.is_some_and(|m| m < self.rows.min) {
            return Err(Error::config(format!(
                "{}: rows.max is below rows.min",
                path.display()
            )));
        }
        Ok(())
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

pub const MAX_EXAMPLES: usize = 5;

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
    let options = super::scan::ScanOptions::default();
    Ok(super::scan::scan(path, Some(schema), &options)?.check)
}

/// Findings about the header: missing, unexpected and misordered columns.
pub fn header_findings(header: &[String], schema: &DataSchema) -> Vec<Finding> {
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
    if schema.column_order == ColumnOrder::Strict {
        let expected: Vec<&String> = schema
            .columns
            .keys()
            .filter(|k| header.contains(k))
            .collect();
        let found: Vec<&String> = header
            .iter()
            .filter(|h| schema.columns.contains_key(*h))
            .collect();
        if let Some(i) = expected.iter().zip(&found).position(|(a, b)| a != b) {
            out.push(file_finding(
                Some(found[i]),
                "column_order",
                format!(
                    "column {} is `{}` but the schema expects `{}` there (column_order: strict)",
                    i + 1,
                    found[i],
                    expected[i]
                ),
            ));
        }
    }
    out
}

pub fn file_finding(column: Option<&str>, check: &str, message: String) -> Finding {
    Finding {
        column: column.map(str::to_string),
        check: check.into(),
        message,
        count: 1,
        examples: vec![],
    }
}

/// A cell as the checker sees it.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Null,
    /// Text as read (CSV, JSON Lines, Parquet strings), trimmed.
    Text(&'a str),
    /// A number from a typed column; `true` when the stored type is an integer.
    Number(f64, bool),
}

impl Cell<'_> {
    /// The cell of a text value: missing-value spellings become `Null`.
    pub fn of_text(value: &str) -> Cell<'_> {
        // Fast path: most values have no surrounding blanks and do not start like a
        // missing-value spelling.
        let b = value.as_bytes();
        if let (Some(&first), Some(&last)) = (b.first(), b.last()) {
            if !matches!(first, b'N' | b'n' | b' ' | b'\t') && !last.is_ascii_whitespace() {
                return Cell::Text(value);
            }
        }
        if is_null(value) {
            Cell::Null
        } else {
            Cell::Text(value.trim())
        }
    }

    fn shown(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Text(t) => t.chars().take(80).collect(),
            Cell::Number(x, _) => x.to_string(),
        }
    }
}

/// How a text value of a column reads as a number: parsed once, shared by check and profile.
pub fn parse_number(kind: Option<ColumnType>, text: &str) -> Option<f64> {
    match kind {
        Some(ColumnType::Integer) => super::number::parse_i64(text).map(|i| i as f64),
        Some(ColumnType::String | ColumnType::Boolean) => None,
        Some(ColumnType::Float) | None => super::number::parse_f64(text),
    }
}

/// The allowed values of a column. A short list is searched in order: comparing a few
/// short strings is cheaper than hashing the value.
enum Allowed<'a> {
    Few(Vec<&'a str>),
    Many(HashSet<&'a str, foldhash::fast::FixedState>),
}

impl<'a> Allowed<'a> {
    const FEW: usize = 8;

    fn new(values: &'a [String]) -> Self {
        let values = values.iter().map(String::as_str);
        if values.len() <= Self::FEW {
            Allowed::Few(values.collect())
        } else {
            Allowed::Many(values.collect())
        }
    }

    fn contains(&self, value: &str) -> bool {
        match self {
            Allowed::Few(list) => list.contains(&value),
            Allowed::Many(set) => set.contains(value),
        }
    }
}

/// A column whose cells may be checked in bulk.
#[derive(Debug, Clone, Copy)]
pub enum Bulk {
    /// Present numbers pass when finite, within `min..=max` and, for `integer`, whole.
    Numbers { integer: bool, min: f64, max: f64 },
    /// Present values pass or fail by their text alone: see [`ColumnCheck::text_passes`].
    Texts,
}

impl Bulk {
    /// Whether a present number passes; `whole`: known to be an integer (read as one),
    /// which spares the test.
    #[inline(always)]
    pub fn number_passes(self, x: f64, whole: bool) -> bool {
        match self {
            Bulk::Numbers { integer, min, max } => {
                x.is_finite() && x >= min && x <= max && (whole || !integer || is_whole(x))
            }
            Bulk::Texts => false,
        }
    }
}

/// Whether `x` is a finite integer. Not `fract`: without SSE4.1 it is a libm call,
/// which the compiler evaluates even where a condition before it makes it moot.
pub fn is_whole(x: f64) -> bool {
    // Doubles of magnitude 2^52 and above are all integers.
    x.is_finite() && (x.abs() >= 4_503_599_627_370_496.0 || (x as i64) as f64 == x)
}

/// Running state of the checks on one column.
pub struct ColumnCheck<'a> {
    name: &'a str,
    rules: &'a ColumnSchema,
    allowed: Option<Allowed<'a>>,
    pattern: Option<Pattern>,
    seen: HashSet<u64, foldhash::fast::FixedState>,
    nulls: u64,
    /// Whether the current cell broke a rule.
    hit: bool,
    /// Findings by check name, in the order first met.
    found: IndexMap<&'static str, (String, u64, Vec<Example>)>,
}

impl<'a> ColumnCheck<'a> {
    pub fn new(name: &'a str, rules: &'a ColumnSchema) -> Self {
        let allowed = rules.allowed.as_ref().map(|a| Allowed::new(a));
        // The whole value must match; validated when the schema loads.
        let pattern = rules.pattern.as_deref().and_then(Pattern::new);
        ColumnCheck {
            name,
            rules,
            allowed,
            pattern,
            seen: HashSet::default(),
            nulls: 0,
            hit: false,
            found: IndexMap::new(),
        }
    }

    pub fn name(&self) -> &'a str {
        self.name
    }

    /// How this column's cells may be checked in bulk: `None` when each needs the
    /// general check (uniqueness, allowed values or patterns on numbers).
    pub fn bulk(&self) -> Option<Bulk> {
        let r = self.rules;
        if r.unique {
            return None;
        }
        match r.kind {
            ColumnType::Integer | ColumnType::Float
                if self.allowed.is_none() && self.pattern.is_none() =>
            {
                Some(Bulk::Numbers {
                    integer: r.kind == ColumnType::Integer,
                    min: r.min.unwrap_or(f64::NEG_INFINITY),
                    max: r.max.unwrap_or(f64::INFINITY),
                })
            }
            ColumnType::String | ColumnType::Boolean => Some(Bulk::Texts),
            _ => None,
        }
    }

    /// Whether a present text value of a [`Bulk::Texts`] column passes every check:
    /// they depend on the value alone, so a value need only be checked once.
    pub fn text_passes(&self, text: &str) -> bool {
        type_problem(self.rules.kind, Cell::Text(text), None).is_none()
            && self.allowed.as_ref().is_none_or(|a| a.contains(text))
            && self.pattern.as_ref().is_none_or(|p| p.is_match(text))
    }

    /// Whether a missing value is only counted (the column allows them, with or without
    /// a bound on their share): a bulk path then adds a batch's at once.
    pub fn nulls_only_count(&self) -> bool {
        self.rules.nullable || self.rules.max_null_share.is_some()
    }

    /// `n` missing values of a column where they are only counted.
    pub fn add_nulls(&mut self, n: u64) {
        self.nulls += n;
    }

    /// Checks one cell; `number` is the text's value from [`parse_number`]. Returns
    /// whether the row breaks a rule.
    pub fn cell(&mut self, row: u64, cell: Cell, number: Option<f64>) -> bool {
        self.hit = false;
        self.check(row, cell, number);
        self.hit
    }

    fn check(&mut self, row: u64, cell: Cell, number: Option<f64>) {
        let text = match cell {
            Cell::Null => {
                self.nulls += 1;
                if !self.nulls_only_count() {
                    self.note(
                        row,
                        cell,
                        "null",
                        "missing value in a non-nullable column".into(),
                    );
                }
                return;
            }
            Cell::Text(t) => Some(t),
            Cell::Number(..) => None,
        };
        if let Some(problem) = type_problem(self.rules.kind, cell, number) {
            let message = format!("{problem} ({} expected)", self.rules.kind.name());
            self.note(row, cell, "type", message);
            return;
        }
        let value = number.or(match cell {
            Cell::Number(x, _) => Some(x),
            _ => None,
        });
        if let Some(v) = value {
            if self.rules.min.is_some_and(|min| v < min)
                || self.rules.max.is_some_and(|max| v > max)
            {
                let range = format!(
                    "{}..={}",
                    fmt_bound(self.rules.min),
                    fmt_bound(self.rules.max)
                );
                self.note(row, cell, "range", format!("value outside {range}"));
            }
        }
        if self.allowed.is_none() && self.pattern.is_none() && !self.rules.unique {
            // Nothing below needs the value as text (formatting a number is not free).
            return;
        }
        let shown = match text {
            Some(t) => std::borrow::Cow::Borrowed(t),
            None => std::borrow::Cow::Owned(cell.shown()),
        };
        if self.allowed.as_ref().is_some_and(|a| !a.contains(&shown)) {
            self.note(
                row,
                cell,
                "allowed",
                "value not among the allowed values".into(),
            );
        }
        if self.pattern.as_ref().is_some_and(|p| !p.is_match(&shown)) {
            let pattern = self.rules.pattern.clone().unwrap_or_default();
            self.note(
                row,
                cell,
                "pattern",
                format!("value does not match `{pattern}`"),
            );
        }
        if self.rules.unique {
            let hash = match value {
                Some(v) => super::sketch::hash_f64(v),
                None => super::sketch::hash_bytes(shown.as_bytes()),
            };
            if !self.seen.insert(hash) {
                self.note(
                    row,
                    cell,
                    "unique",
                    "duplicate value in a unique column".into(),
                );
            }
        }
    }

    fn note(&mut self, row: u64, cell: Cell, check: &'static str, message: String) {
        let entry = self
            .found
            .entry(check)
            .or_insert_with(|| (message, 0, Vec::new()));
        entry.1 += 1;
        self.hit = true;
        if entry.2.len() < MAX_EXAMPLES {
            entry.2.push(Example {
                row,
                line: row + 1,
                value: cell.shown(),
            });
        }
    }

    /// Folds in the checks of the rows that follow this one's (a later part of the file,
    /// its rows numbered from 1): counts add up, examples stay the first ones by row.
    /// Uniqueness is not merged: a file with a `unique` column is read in one part.
    pub fn merge(&mut self, next: ColumnCheck<'a>, rows_before: u64) {
        self.nulls += next.nulls;
        for (check, (message, count, examples)) in next.found {
            let entry = self
                .found
                .entry(check)
                .or_insert_with(|| (message, 0, Vec::new()));
            entry.1 += count;
            let room = MAX_EXAMPLES.saturating_sub(entry.2.len());
            entry
                .2
                .extend(examples.into_iter().take(room).map(|e| Example {
                    row: e.row + rows_before,
                    line: e.line + rows_before,
                    value: e.value,
                }));
        }
    }

    /// The findings, once every row of a file with `rows` rows was seen.
    pub fn findings(mut self, rows: u64) -> Vec<Finding> {
        if let Some(max) = self.rules.max_null_share {
            let share = if rows == 0 {
                0.0
            } else {
                self.nulls as f64 / rows as f64
            };
            if share > max {
                let message = format!(
                    "{:.2}% of values are missing; at most {:.2}% allowed",
                    share * 100.0,
                    max * 100.0
                );
                self.found
                    .insert("max_null_share", (message, self.nulls, Vec::new()));
            }
        }
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
            .collect()
    }
}

fn fmt_bound(b: Option<f64>) -> String {
    b.map(|v| v.to_string()).unwrap_or_default()
}

fn type_problem(t: ColumnType, cell: Cell, number: Option<f64>) -> Option<&'static str> {
    match (t, cell) {
        (_, Cell::Null) => None,
        (ColumnType::Integer, Cell::Number(x, _)) => (!is_whole(x)).then_some("not an integer"),
        (ColumnType::Float, Cell::Number(x, _)) => (!x.is_finite()).then_some("infinite"),
        (ColumnType::Boolean, Cell::Number(x, _)) => {
            (x != 0.0 && x != 1.0).then_some("not a boolean")
        }
        (ColumnType::String, _) => None,
        (ColumnType::Integer, Cell::Text(_)) => number.is_none().then_some("not an integer"),
        (ColumnType::Float, Cell::Text(_)) => match number {
            Some(v) if v.is_finite() => None,
            Some(_) => Some("infinite"),
            None => Some("not a number"),
        },
        (ColumnType::Boolean, Cell::Text(t)) => {
            (!super::profile::is_bool_token(t)).then_some("not a boolean")
        }
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
