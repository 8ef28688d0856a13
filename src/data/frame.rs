//! An in-memory table of typed columns read from CSV: what trainers and evaluation consume.

use super::reader::CsvOptions;
use crate::error::{Error, Result};
use arrow_array::Array;
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
        let mut raw: Vec<Vec<String>> = vec![Vec::new(); table.names.len()];
        while let Some(batch) = table.next_batch() {
            match batch.map_err(|e| e.into_error(0))? {
                Batch::Arrow(batch) => {
                    for (column, array) in raw.iter_mut().zip(batch.columns()) {
                        for i in 0..array.len() {
                            column.push(if array.is_null(i) {
                                String::new()
                            } else {
                                arrow_cast::display::array_value_to_string(array, i)
                                    .map_err(|e| Error::input(format!("{}: {e}", table.source)))?
                            });
                        }
                    }
                }
                Batch::Rows(rows) => {
                    for (c, column) in raw.iter_mut().enumerate() {
                        column.extend(
                            (0..rows.num_rows())
                                .map(|r| rows.text(r, c).unwrap_or_default().to_string()),
                        );
                    }
                }
            }
        }
        Frame::typed(table.source.clone(), table.names.clone(), raw, kinds)
    }

    /// Types raw text columns: the kinds given, else numeric when every value is a number.
    fn typed(
        source: String,
        names: Vec<String>,
        raw: Vec<Vec<String>>,
        kinds: &HashMap<String, Kind>,
    ) -> Result<Frame> {
        let rows = raw.first().map_or(0, Vec::len);
        let columns = names
            .iter()
            .zip(raw)
            .map(|(name, values)| type_column(&source, name, values, kinds.get(name).copied()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Frame {
            source,
            names,
            columns,
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

fn type_column(
    source: &str,
    name: &str,
    values: Vec<String>,
    kind: Option<Kind>,
) -> Result<Column> {
    let parsed: Vec<Option<f64>> = match kind {
        Some(Kind::Categorical) => return Ok(categorical(values)),
        Some(Kind::Numeric) => values
            .iter()
            .enumerate()
            .map(|(row, v)| parse_number(v).map_err(|why| cell_error(source, row, name, v, why)))
            .collect::<Result<_>>()?,
        None => match values
            .iter()
            .map(|v| parse_number(v).ok())
            .collect::<Option<Vec<_>>>()
        {
            Some(numbers) => numbers,
            None => return Ok(categorical(values)),
        },
    };
    Ok(Column::Numeric(
        parsed.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect(),
    ))
}

fn categorical(values: Vec<String>) -> Column {
    Column::Categorical(
        values
            .into_iter()
            .map(|v| (!is_null(&v)).then(|| v.trim().to_string()))
            .collect(),
    )
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
