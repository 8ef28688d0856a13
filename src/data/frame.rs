//! An in-memory table of typed columns read from CSV: what trainers and evaluation consume.

use super::reader::CsvOptions;
use crate::error::{Error, Result};
use arrow_array::{Array, ArrayRef};
use std::collections::HashMap;
use std::path::Path;

/// How a column's values are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Numeric,
    Categorical,
}

/// A column: numbers (missing = NaN) or labels (missing = None).
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Numeric(Vec<f64>),
    Categorical(Vec<Option<String>>),
}

impl Column {
    pub fn kind(&self) -> Kind {
        match self {
            Column::Numeric(_) => Kind::Numeric,
            Column::Categorical(_) => Kind::Categorical,
        }
    }
}

/// Columns by name, in file order.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Where the data came from, for error messages.
    pub source: String,
    pub names: Vec<String>,
    pub columns: Vec<Column>,
    pub rows: usize,
}

/// Spellings of a missing value in CSV.
pub fn is_null(value: &str) -> bool {
    matches!(
        value.trim(),
        "" | "NA" | "N/A" | "null" | "NULL" | "NaN" | "nan"
    )
}

impl Frame {
    /// Reads any format `validate-data` reads (CSV with any delimiter, gzip, Parquet,
    /// JSON Lines) through the same reader, so a file that passed validation trains.
    /// Columns named in `kinds` get that kind; the others are numeric when every present
    /// value is a finite number.
    pub fn read(path: &Path, csv: &CsvOptions, kinds: &HashMap<String, Kind>) -> Result<Frame> {
        use super::reader::{self, Batch};
        let table = reader::open(path, csv)?;
        let source = table.source.clone();
        let mut builders: Vec<Builder> = table
            .names
            .iter()
            .map(|n| Builder::new(n, kinds.get(n).copied()))
            .collect();
        let mut rows = 0;
        while let Some(batch) = table.next_batch() {
            let batch = batch.map_err(|e| e.into_error(0))?;
            for (c, builder) in builders.iter_mut().enumerate() {
                match &batch {
                    Batch::Arrow(b) => builder.push_array(&source, b.column(c), rows)?,
                    Batch::Rows(r) => {
                        for (i, value) in r.column(c).enumerate() {
                            builder.push(&source, rows + i, value.unwrap_or_default())?;
                        }
                    }
                }
            }
            rows += batch.num_rows();
        }
        Ok(Frame {
            source,
            names: table.names.clone(),
            columns: builders.into_iter().map(Builder::finish).collect(),
            rows,
        })
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.columns[i])
    }

    /// The column, or an input error naming the file and the columns it does have.
    pub fn require(&self, name: &str) -> Result<&Column> {
        self.column(name).ok_or_else(|| {
            Error::input(format!(
                "{}: no column `{name}`{} (columns: {})",
                self.source,
                crate::config::suggest::did_you_mean(name, self.names.iter().map(String::as_str)),
                self.names.join(", ")
            ))
        })
    }
}

/// One column as it is read, without a `String` per cell: labels once its kind is known
/// to be categorical; otherwise numbers while every value parses, with the text kept
/// beside them in one buffer in case a later value turns the column into labels.
struct Builder {
    name: String,
    kind: Option<Kind>,
    numbers: Vec<f64>,
    numeric: bool,
    labels: Vec<Option<String>>,
    text: String,
    ends: Vec<usize>,
}

impl Builder {
    fn new(name: &str, kind: Option<Kind>) -> Builder {
        Builder {
            name: name.into(),
            kind,
            numbers: Vec::new(),
            numeric: kind != Some(Kind::Categorical),
            labels: Vec::new(),
            text: String::new(),
            ends: Vec::new(),
        }
    }

    fn push(&mut self, source: &str, row: usize, value: &str) -> Result<()> {
        match self.kind {
            Some(Kind::Categorical) => self.labels.push(label(value)),
            Some(Kind::Numeric) => {
                let n = parse_number(value)
                    .map_err(|why| cell_error(source, row, &self.name, value, why))?;
                self.numbers.push(n.unwrap_or(f64::NAN));
            }
            None => {
                if self.numeric {
                    match parse_number(value) {
                        Ok(n) => self.numbers.push(n.unwrap_or(f64::NAN)),
                        Err(_) => {
                            self.numeric = false;
                            self.numbers = Vec::new();
                        }
                    }
                }
                self.text.push_str(value);
                self.ends.push(self.text.len());
            }
        }
        Ok(())
    }

    /// Arrow arrays of a numeric type are taken as numbers (unless the column is
    /// categorical), text arrays by reference; other types through their display form.
    fn push_array(&mut self, source: &str, array: &ArrayRef, first_row: usize) -> Result<()> {
        use arrow_array::cast::AsArray;
        use arrow_schema::DataType;
        let numbers_wanted = self.kind != Some(Kind::Categorical) && self.numeric;
        if numbers_wanted && array.data_type().is_numeric() {
            let floats = arrow_cast::cast(array, &DataType::Float64)
                .map_err(|e| Error::input(format!("{source}: column `{}`: {e}", self.name)))?;
            for (i, v) in floats
                .as_primitive::<arrow_array::types::Float64Type>()
                .iter()
                .enumerate()
            {
                match v {
                    Some(v) if !v.is_finite() => {
                        return Err(cell_error(
                            source,
                            first_row + i,
                            &self.name,
                            &v.to_string(),
                            "is infinite",
                        ))
                    }
                    v => self.push_number(v.unwrap_or(f64::NAN)),
                }
            }
            return Ok(());
        }
        if let Some(strings) = array.as_string_opt::<i32>() {
            for (i, v) in strings.iter().enumerate() {
                self.push(source, first_row + i, v.unwrap_or_default())?;
            }
            return Ok(());
        }
        for i in 0..array.len() {
            let text = if array.is_null(i) {
                String::new()
            } else {
                arrow_cast::display::array_value_to_string(array, i)
                    .map_err(|e| Error::input(format!("{source}: {e}")))?
            };
            self.push(source, first_row + i, &text)?;
        }
        Ok(())
    }

    /// A number from a typed array: its text is only needed if the column could still
    /// turn into labels, which a numeric array's column cannot.
    fn push_number(&mut self, v: f64) {
        self.numbers.push(v);
        if self.kind.is_none() {
            self.ends.push(self.text.len());
        }
    }

    fn finish(self) -> Column {
        if self.kind == Some(Kind::Categorical) {
            return Column::Categorical(self.labels);
        }
        if self.numeric {
            return Column::Numeric(self.numbers);
        }
        let mut start = 0;
        Column::Categorical(
            self.ends
                .iter()
                .map(|&end| {
                    let value = label(&self.text[start..end]);
                    start = end;
                    value
                })
                .collect(),
        )
    }
}

fn label(value: &str) -> Option<String> {
    (!is_null(value)).then(|| value.trim().to_string())
}

/// `Ok(None)` for a missing value; infinities are refused because no model can use them.
fn parse_number(value: &str) -> std::result::Result<Option<f64>, &'static str> {
    if is_null(value) {
        return Ok(None);
    }
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        Ok(_) => Err("is infinite"),
        Err(_) => Err("is not a number"),
    }
}

/// Rows are numbered from 1 after the header, so row N is on line N + 1.
pub fn cell_error(source: &str, row: usize, column: &str, value: &str, why: &str) -> Error {
    let shown: String = value.chars().take(60).collect();
    Error::input(format!(
        "{source}: row {} (line {}), column `{column}`: `{shown}` {why}",
        row + 1,
        row + 2
    ))
}
