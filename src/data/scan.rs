//! The one pass over a data file: schema check, profile, duplicate rows and a sample of
//! bad rows, batch by batch as the reader decodes them on its own thread.

use super::profile::{ColumnBuilder, Profile};
use super::reader::{self, Format, Table};
use super::schema::{
    file_finding, header_findings, parse_number, Cell, ColumnCheck, ColumnType, DataSchema,
    DuplicateRows, Example, Finding, SchemaCheck, MAX_EXAMPLES,
};
use super::sketch::{hash_bytes, hash_f64};
use crate::error::Result;
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Keep up to this many exact values per numeric column (exact-mode drift); 0: none.
    pub keep_values: usize,
    /// Rows breaking a rule to keep whole, for the bad-rows sample.
    pub bad_rows: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            keep_values: 0,
            bad_rows: 100,
        }
    }
}

/// Everything one pass learns about a file.
pub struct Scan {
    pub check: SchemaCheck,
    pub profile: Profile,
    /// Exact numeric values by column, where all were kept.
    pub values: HashMap<String, Vec<f64>>,
    pub bad_rows: BadRows,
    pub format: Format,
}

/// Whole rows that broke a rule: row number, what broke, the values as read.
#[derive(Debug, Clone, Default)]
pub struct BadRows {
    pub header: Vec<String>,
    pub rows: Vec<(u64, String, Vec<String>)>,
}

/// One column's running state.
struct ColumnState<'a> {
    check: Option<ColumnCheck<'a>>,
    profile: ColumnBuilder,
    declared: Option<ColumnType>,
    /// False when the stored type cannot be read as cells (nested Parquet types).
    readable: bool,
}

pub fn scan(path: &Path, schema: Option<&DataSchema>, options: &ScanOptions) -> Result<Scan> {
    let csv = schema.map(|s| s.csv.clone()).unwrap_or_default();
    let table = reader::open(path, &csv)?;
    let mut findings = schema
        .map(|s| header_findings(&table.names, s))
        .unwrap_or_default();
    let mut columns: Vec<ColumnState> = table
        .names
        .iter()
        .zip(&table.types)
        .map(|(name, stored)| {
            let rules = schema.and_then(|s| s.columns.get(name));
            let typed = table.format == Format::Parquet;
            if let Some(f) = rules
                .filter(|_| typed)
                .and_then(|r| storage_finding(name, stored, r.kind))
            {
                findings.push(f);
            }
            ColumnState {
                check: rules.map(|r| ColumnCheck::new(name, r)),
                profile: ColumnBuilder::new(rules.map(|r| r.kind), options.keep_values),
                declared: rules.map(|r| r.kind),
                readable: readable(stored),
            }
        })
        .collect();
    let mut duplicates = schema
        .filter(|s| s.duplicate_rows == DuplicateRows::Error)
        .map(|_| Duplicates::default());
    let mut bad_rows = BadRows {
        header: table.names.clone(),
        rows: Vec::new(),
    };
    let rows = read_all(
        &table,
        &mut columns,
        duplicates.as_mut(),
        &mut bad_rows,
        options,
    )?;
    findings.extend(rows_findings(rows, schema));
    let mut values = HashMap::new();
    let mut profiles = IndexMap::new();
    for (name, state) in table.names.iter().zip(columns) {
        if let Some(check) = state.check {
            findings.extend(check.findings(rows));
        }
        let mut builder = state.profile;
        if let Some(v) = builder.take_values() {
            values.insert(name.clone(), v);
        }
        profiles.insert(name.clone(), builder.finish());
    }
    if let Some(d) = duplicates.filter(|d| d.count > 0) {
        findings.push(d.finding());
    }
    Ok(Scan {
        check: SchemaCheck {
            file: table.source.clone(),
            rows,
            columns: table.names.clone(),
            findings,
        },
        profile: Profile::new(table.source.clone(), rows, profiles),
        values,
        bad_rows,
        format: table.format,
    })
}

fn read_all<'a>(
    table: &Table,
    columns: &mut [ColumnState<'a>],
    mut duplicates: Option<&mut Duplicates>,
    bad_rows: &mut BadRows,
    options: &ScanOptions,
) -> Result<u64> {
    let mut rows = 0u64;
    // Columns are split among worker threads for each batch; the reader has its own.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(columns.len().max(1));
    let chunk = columns.len().div_ceil(workers).max(1);
    while let Some(batch) = table.next_batch() {
        let batch = batch?;
        let n = batch.num_rows();
        let want_hashes = duplicates.is_some();
        let arrays = batch.columns();
        let work = |(group, (cols, arrays)): (usize, (&mut [ColumnState<'a>], &[ArrayRef]))| {
            let mut bad: Vec<(usize, &'a str)> = Vec::new();
            let mut hashes = want_hashes.then(|| vec![0u64; n]);
            for (k, (state, array)) in cols.iter_mut().zip(arrays).enumerate() {
                let index = group * chunk + k;
                feed(
                    state,
                    array,
                    rows + 1,
                    index,
                    hashes.as_deref_mut(),
                    &mut bad,
                );
            }
            (bad, hashes)
        };
        let groups = columns
            .chunks_mut(chunk)
            .zip(arrays.chunks(chunk))
            .enumerate();
        let results: Vec<_> = if workers == 1 {
            groups.map(work).collect()
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = groups.map(|g| s.spawn(move || work(g))).collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            })
        };
        let mut bad = Vec::new();
        let mut hashes = want_hashes.then(|| vec![0u64; n]);
        for (b, h) in results {
            bad.extend(b);
            if let (Some(all), Some(h)) = (hashes.as_mut(), h) {
                all.iter_mut().zip(h).for_each(|(a, x)| *a ^= x);
            }
        }
        if let (Some(d), Some(h)) = (duplicates.as_deref_mut(), hashes) {
            for (i, hash) in h.into_iter().enumerate() {
                if d.add(rows + 1 + i as u64, hash) {
                    bad.push((i, "duplicate_rows"));
                }
            }
        }
        sample_bad_rows(&batch, rows, &mut bad, bad_rows, options.bad_rows);
        rows += n as u64;
    }
    Ok(rows)
}

/// Feeds one column of a batch; `first` is the row number of its first row.
fn feed<'a>(
    state: &mut ColumnState<'a>,
    array: &ArrayRef,
    first: u64,
    index: usize,
    mut hashes: Option<&mut [u64]>,
    bad: &mut Vec<(usize, &'a str)>,
) {
    if !state.readable {
        return;
    }
    let name: &'a str = state.check.as_ref().map_or("", ColumnCheck::name);
    let mut visit = |i: usize, cell: Cell, number: Option<f64>, state: &mut ColumnState<'a>| {
        match cell {
            Cell::Null => state.profile.null(),
            Cell::Text(t) => state.profile.text(t, number),
            Cell::Number(x, _) => state.profile.number(x),
        }
        if let Some(check) = &mut state.check {
            if check.cell(first + i as u64, cell, number) {
                bad.push((i, name));
            }
        }
        if let Some(h) = hashes.as_deref_mut() {
            // Rotated by the column's position, so swapping values between columns differs.
            h[i] ^= cell_hash(cell, number).rotate_left((index % 64) as u32);
        }
    };
    match as_cells(array) {
        Cells::Text(strings) => {
            let parse = state.declared.is_none_or(ColumnType::is_numeric);
            for (i, value) in strings.iter().enumerate() {
                let cell = value.map_or(Cell::Null, Cell::of_text);
                let number = match cell {
                    Cell::Text(t) if parse => parse_number(state.declared, t),
                    _ => None,
                };
                visit(i, cell, number, state);
            }
        }
        Cells::Numbers(numbers, integer) => {
            for (i, value) in numbers.iter().enumerate() {
                let cell = match value {
                    Some(x) if !x.is_nan() => Cell::Number(x, integer),
                    _ => Cell::Null,
                };
                visit(i, cell, None, state);
            }
        }
        Cells::Unreadable => {}
    }
}

fn cell_hash(cell: Cell, number: Option<f64>) -> u64 {
    match (cell, number) {
        (Cell::Null, _) => 0x6e75_6c6c,
        (_, Some(x)) | (Cell::Number(x, _), _) => hash_f64(x),
        (Cell::Text(t), None) => hash_bytes(t.as_bytes()),
    }
}

enum Cells {
    Text(StringArray),
    Numbers(Float64Array, bool),
    Unreadable,
}

/// A column of a batch as text or numbers: numbers stay numbers; every other readable
/// type (booleans, dates, timestamps, dictionaries) is shown as text.
fn as_cells(array: &ArrayRef) -> Cells {
    let t = array.data_type();
    if t.is_numeric() {
        let integer = t.is_integer();
        return match arrow_cast::cast(array, &DataType::Float64) {
            Ok(a) => match a.as_any().downcast_ref::<Float64Array>() {
                Some(f) => Cells::Numbers(f.clone(), integer),
                None => Cells::Unreadable,
            },
            Err(_) => Cells::Unreadable,
        };
    }
    if let Some(s) = array.as_any().downcast_ref::<StringArray>() {
        return Cells::Text(s.clone());
    }
    match arrow_cast::cast(array, &DataType::Utf8) {
        Ok(a) => a
            .as_any()
            .downcast_ref::<StringArray>()
            .map_or(Cells::Unreadable, |s| Cells::Text(s.clone())),
        Err(_) => Cells::Unreadable,
    }
}

fn readable(t: &DataType) -> bool {
    t.is_numeric()
        || t.is_temporal()
        || matches!(
            t,
            DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
                | DataType::Boolean
                | DataType::Null
                | DataType::Dictionary(..)
        )
}

/// A typed (Parquet) column stored as something the schema's type cannot be. (CSV and
/// JSON Lines columns are text: their values are checked one by one instead.)
fn storage_finding(name: &str, stored: &DataType, expected: ColumnType) -> Option<Finding> {
    let fits = match expected {
        _ if !readable(stored) => false,
        ColumnType::Integer => stored.is_integer(),
        ColumnType::Float => stored.is_numeric(),
        ColumnType::Boolean => matches!(stored, DataType::Boolean) || stored.is_integer(),
        ColumnType::String => true,
    };
    (!fits).then(|| {
        let why = if readable(stored) {
            "values are checked one by one"
        } else {
            "mlgate cannot read this type, so its values were not checked"
        };
        file_finding(
            Some(name),
            "stored_type",
            format!(
                "column is stored as {stored} but the schema says {}; {why}",
                expected.name()
            ),
        )
    })
}

fn rows_findings(rows: u64, schema: Option<&DataSchema>) -> Option<Finding> {
    let bounds = schema.map(|s| s.rows).unwrap_or_default();
    let message = if rows < bounds.min {
        if rows == 0 {
            "the file has a header but no data rows".to_string()
        } else {
            format!("{rows} data rows; at least {} expected", bounds.min)
        }
    } else if bounds.max.is_some_and(|m| rows > m) {
        format!(
            "{rows} data rows; at most {} expected",
            bounds.max.unwrap_or_default()
        )
    } else {
        return None;
    };
    Some(file_finding(None, "rows", message))
}

/// Identical rows, by a 64-bit hash of every cell (a false match needs a hash
/// collision: about one in 10^19 per pair of rows).
#[derive(Default)]
struct Duplicates {
    seen: HashSet<u64, foldhash::fast::FixedState>,
    count: u64,
    examples: Vec<Example>,
}

impl Duplicates {
    /// Whether `row` repeats an earlier row.
    fn add(&mut self, row: u64, hash: u64) -> bool {
        if self.seen.insert(hash) {
            return false;
        }
        self.count += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(Example {
                row,
                line: row + 1,
                value: String::new(),
            });
        }
        true
    }

    fn finding(self) -> Finding {
        Finding {
            column: None,
            check: "duplicate_rows".into(),
            message: "row repeats an earlier row".into(),
            count: self.count,
            examples: self.examples,
        }
    }
}

/// Keeps whole rows that broke a rule until `cap` rows are kept.
fn sample_bad_rows(
    batch: &RecordBatch,
    offset: u64,
    bad: &mut [(usize, &str)],
    out: &mut BadRows,
    cap: usize,
) {
    if bad.is_empty() || out.rows.len() >= cap {
        return;
    }
    bad.sort_by_key(|b| b.0);
    let mut i = 0;
    while i < bad.len() && out.rows.len() < cap {
        let index = bad[i].0;
        let mut reasons = Vec::new();
        while i < bad.len() && bad[i].0 == index {
            reasons.push(bad[i].1);
            i += 1;
        }
        let values = batch
            .columns()
            .iter()
            .map(|a| {
                if a.is_null(index) {
                    String::new()
                } else {
                    arrow_cast::display::array_value_to_string(a, index).unwrap_or_default()
                }
            })
            .collect();
        out.rows
            .push((offset + 1 + index as u64, reasons.join(" "), values));
    }
}

impl BadRows {
    /// CSV: `row`, `problems` (columns that broke a rule), then the row's own columns.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["row".to_string(), "problems".to_string()];
        header.extend(self.header.iter().cloned());
        let _ = w.write_record(&header);
        for (row, problems, values) in &self.rows {
            let mut record = vec![row.to_string(), problems.clone()];
            record.extend(
                values
                    .iter()
                    .map(|v| v.chars().take(1000).collect::<String>()),
            );
            let _ = w.write_record(&record);
        }
        w.into_inner().unwrap_or_default()
    }
}
