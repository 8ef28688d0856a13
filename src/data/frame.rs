//! An in-memory table of typed columns read from CSV: what trainers and evaluation consume.

use super::reader::{self, Batch, CsvOptions, ReadError, Table};
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

/// A column: numbers (missing = NaN) or labels.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Numeric(Vec<f64>),
    Categorical(Labels),
}

/// A text column's values, each distinct value held once: a row is a code into `levels`
/// (reading a label is not an allocation, and encoding one is a lookup per level).
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// The distinct values, in the order first seen.
    levels: Vec<String>,
    /// Per row: an index into `levels`, or [`Labels::MISSING`].
    codes: Vec<u32>,
    index: HashMap<String, u32, foldhash::fast::FixedState>,
}

impl Labels {
    /// The code of a missing value.
    pub const MISSING: u32 = u32::MAX;

    /// Room for `rows` more rows.
    fn try_reserve(&mut self, rows: usize) -> Result<(), std::collections::TryReserveError> {
        self.codes.try_reserve(rows)
    }

    /// Appends a row (`None`: missing).
    pub fn push(&mut self, value: Option<&str>) {
        let code = value.map_or(Self::MISSING, |v| self.code_of(v));
        self.codes.push(code);
    }

    /// Appends `other`'s rows: its codes renumbered into this column's levels.
    pub fn append(&mut self, other: Labels) {
        self.push_coded(&other.levels, &other.codes);
    }

    /// Appends rows given as indices into `values` ([`Labels::MISSING`]: missing): each
    /// value is looked up once, not once per row.
    pub fn push_coded(&mut self, values: &[String], rows: &[u32]) {
        let codes: Vec<u32> = values.iter().map(|v| self.code_of(v)).collect();
        self.codes.extend(rows.iter().map(|&c| {
            if c == Self::MISSING {
                c
            } else {
                codes[c as usize]
            }
        }));
    }

    /// The code of `value`, added as a level if new.
    fn code_of(&mut self, value: &str) -> u32 {
        if let Some(&code) = self.index.get(value) {
            return code;
        }
        let code = self.levels.len() as u32;
        self.levels.push(value.to_string());
        self.index.insert(value.to_string(), code);
        code
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    pub fn get(&self, row: usize) -> Option<&str> {
        self.level(self.codes[row])
    }

    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        self.codes.iter().map(|&c| self.level(c))
    }

    fn level(&self, code: u32) -> Option<&str> {
        (code != Self::MISSING).then(|| self.levels[code as usize].as_str())
    }

    /// Each distinct value (in the order first seen) with its number of rows, which is
    /// 0 for a value no row holds any longer (see [`Labels::truncate`]).
    pub fn counts(&self) -> impl Iterator<Item = (&str, usize)> {
        let mut rows = vec![0; self.levels.len()];
        for &c in &self.codes {
            if c != Self::MISSING {
                rows[c as usize] += 1;
            }
        }
        self.levels.iter().map(String::as_str).zip(rows)
    }

    /// The first row whose value `pick` takes, `pick` asked once per distinct value.
    pub fn position(&self, pick: impl Fn(&str) -> bool) -> Option<usize> {
        let picked: Vec<bool> = self.levels.iter().map(|l| pick(l)).collect();
        self.codes
            .iter()
            .position(|&c| c != Self::MISSING && picked[c as usize])
    }

    /// The distinct values some row holds, sorted.
    pub fn distinct(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .counts()
            .filter(|&(_, rows)| rows > 0)
            .map(|(level, _)| level.to_string())
            .collect();
        out.sort();
        out
    }

    /// `f` of each row's value, computed once per distinct value.
    pub fn map<T: Clone>(&self, missing: T, f: impl Fn(&str) -> T) -> Vec<T> {
        let per_level: Vec<T> = self.levels.iter().map(|l| f(l)).collect();
        self.codes
            .iter()
            .map(|&c| {
                if c == Self::MISSING {
                    missing.clone()
                } else {
                    per_level[c as usize].clone()
                }
            })
            .collect()
    }

    pub fn truncate(&mut self, rows: usize) {
        self.codes.truncate(rows);
    }

    /// The rows at `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Labels {
        Labels {
            levels: self.levels.clone(),
            codes: rows.iter().map(|&r| self.codes[r]).collect(),
            index: self.index.clone(),
        }
    }
}

impl PartialEq for Labels {
    fn eq(&self, other: &Labels) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<'a> FromIterator<Option<&'a str>> for Labels {
    fn from_iter<I: IntoIterator<Item = Option<&'a str>>>(values: I) -> Labels {
        let mut labels = Labels::default();
        for v in values {
            labels.push(v);
        }
        labels
    }
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

/// Spellings of a missing value in CSV, blanks around them allowed.
pub fn is_null(value: &str) -> bool {
    let spelled = |v: &str| matches!(v, "" | "NA" | "N/A" | "null" | "NULL" | "NaN" | "nan");
    // Most missing values come without blanks: trimming (Unicode-aware) costs more
    // than the comparisons.
    spelled(value) || {
        let trimmed = value.trim();
        trimmed.len() != value.len() && spelled(trimmed)
    }
}

impl Frame {
    /// Reads any format `validate-data` reads (CSV with any delimiter, gzip, Parquet,
    /// JSON Lines) through the same reader, so a file that passed validation trains.
    /// Columns named in `kinds` get that kind; the others are numeric when every present
    /// value is a finite number.
    /// The file is read in parts on all cores, as `validate-data` reads it.
    pub fn read(path: &Path, csv: &CsvOptions, kinds: &HashMap<String, Kind>) -> Result<Frame> {
        let read = |_, table: &Table| {
            let mut frame = FrameBuilder::new(table, kinds);
            while let Some(batch) = table.next_batch() {
                frame.push(&table.source, &batch?, |_| None)?;
            }
            Ok(frame)
        };
        let rows = |f: &FrameBuilder| f.rows as u64;
        let tables = reader::open_parts(path, csv, reader::cores())?;
        let (source, names) = (tables[0].source.clone(), tables[0].names.clone());
        let parts = match reader::read_parts(tables, read, rows)? {
            Some(parts) => parts,
            None => reader::read_parts(vec![reader::open(path, csv)?], read, rows)?
                .ok_or_else(|| Error::input(format!("{source}: could not be read")))?,
        };
        let mut parts = parts.into_iter();
        let mut frame = parts
            .next()
            .ok_or_else(|| Error::input(format!("{source}: could not be read")))?;
        parts.for_each(|next| frame.append(next));
        Ok(frame.finish(&source, &names))
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

/// One column of a batch as the scan's bulk path read it, handed to the frame read in
/// the same pass so that it is not parsed or looked up twice.
#[derive(Debug, Default)]
pub enum Parsed {
    #[default]
    Nothing,
    /// Each row's number, NaN where the text is not a finite number.
    Numbers(Vec<f64>),
    /// The batch's distinct values (trimmed) and each row's index among them
    /// ([`Labels::MISSING`]: missing).
    Labels { values: Vec<String>, rows: Vec<u32> },
}

/// A frame being read: one part of a file, batch by batch (see [`Frame::read`] and
/// [`super::scan::ScanOptions::frame`]).
pub struct FrameBuilder {
    columns: Vec<Builder>,
    rows: usize,
    /// Bytes of file to make room for once the first batch shows their rows' size.
    room_bytes: Option<u64>,
}

impl FrameBuilder {
    pub fn new(table: &Table, kinds: &HashMap<String, Kind>) -> FrameBuilder {
        let columns = table
            .names
            .iter()
            .map(|n| Builder::new(n, kinds.get(n).copied()))
            .collect();
        FrameBuilder {
            columns,
            rows: 0,
            room_bytes: table.room_bytes,
        }
    }

    /// Whether column `c` has a kind whatever its values: the scan reading the same pass
    /// may hand over what it parsed of it (see [`FrameBuilder::push`]).
    pub fn takes_parsed(&self, c: usize) -> bool {
        self.columns[c].kind.is_some()
    }

    /// Appends a batch of the part; errors name rows counted from the part's start.
    /// `parsed(c)`: what the scan already parsed of column `c` in this batch, for a column
    /// that [takes it](FrameBuilder::takes_parsed).
    pub fn push<'p>(
        &mut self,
        source: &str,
        batch: &Batch,
        parsed: impl Fn(usize) -> Option<&'p Parsed>,
    ) -> std::result::Result<(), ReadError> {
        let n = batch.num_rows();
        if let (Some(bytes), Batch::Rows(r)) = (self.room_bytes.take(), batch) {
            self.reserve(bytes, r);
        }
        for (c, builder) in self.columns.iter_mut().enumerate() {
            let r = match batch {
                Batch::Arrow(b) => {
                    builder.push_array(source, b.column(c), self.rows)?;
                    continue;
                }
                // Opened with whole rows: a frame never sees these.
                Batch::Columns(..) => {
                    return Err(ReadError::plain(source, "a frame needs whole rows".into()));
                }
                Batch::Rows(r) => r,
            };
            match (builder.kind, parsed(c)) {
                (Some(Kind::Numeric), Some(Parsed::Numbers(numbers))) if numbers.len() == n => {
                    builder.push_parsed(source, self.rows, numbers, r, c)?
                }
                (Some(Kind::Categorical), Some(Parsed::Labels { values, rows }))
                    if rows.len() == n =>
                {
                    builder.labels.push_coded(values, rows)
                }
                _ => {
                    for (i, value) in r.column(c).enumerate() {
                        builder.push(source, self.rows + i, value.unwrap_or_default())?;
                    }
                }
            }
        }
        self.rows += n;
        Ok(())
    }

    /// Room for the rows of `bytes` of file, as many as the first batch's size per row
    /// makes and an eighth more: growing column by column would copy the numbers again at
    /// each doubling and touch twice the memory, and an estimate a few rows short did that
    /// for the last rows (the part, then the whole frame as the parts were appended).
    /// Memory reserved but never written costs no pages.
    fn reserve(&mut self, bytes: u64, first: &super::rows::RowBatch) {
        let rows = first.rows_in(bytes);
        let rows = rows + rows / 8;
        for column in &mut self.columns {
            column.reserve(rows);
        }
    }

    /// Appends the part that follows this one.
    pub fn append(&mut self, next: FrameBuilder) {
        let pairs: Vec<_> = self.columns.iter_mut().zip(next.columns).collect();
        // Columns are independent: appended on all threads.
        let threads = crate::train::parallel::threads();
        crate::train::parallel::map_owned(pairs, threads, |(column, next)| column.append(next));
        self.rows += next.rows;
    }

    pub fn finish(self, source: &str, names: &[String]) -> Frame {
        Frame {
            source: source.to_string(),
            names: names.to_vec(),
            columns: self.columns.into_iter().map(Builder::finish).collect(),
            rows: self.rows,
        }
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
    labels: Labels,
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
            labels: Labels::default(),
            text: String::new(),
            ends: Vec::new(),
        }
    }

    /// Room for `rows` more values, if the memory is there (otherwise the column grows
    /// as it is read).
    fn reserve(&mut self, rows: usize) {
        let _ = match self.kind {
            Some(Kind::Categorical) => self.labels.try_reserve(rows),
            Some(Kind::Numeric) => self.numbers.try_reserve(rows),
            None => self
                .numbers
                .try_reserve(rows)
                .and_then(|_| self.ends.try_reserve(rows)),
        };
    }

    /// `row` counts from the part's first row (0).
    fn push(
        &mut self,
        source: &str,
        row: usize,
        value: &str,
    ) -> std::result::Result<(), ReadError> {
        match self.kind {
            Some(Kind::Categorical) => self.labels.push(label(value)),
            Some(Kind::Numeric) => {
                let n = parse_number(value).map_err(|why| {
                    ReadError::cell(source, row as u64 + 1, &self.name, value, why)
                })?;
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

    /// Numbers parsed by the scan; the rows where it found no finite number (missing,
    /// or an error to report) go through [`Builder::push`] with their text.
    fn push_parsed(
        &mut self,
        source: &str,
        first_row: usize,
        numbers: &[f64],
        rows: &super::rows::RowBatch,
        column: usize,
    ) -> std::result::Result<(), ReadError> {
        let mut run = 0;
        for (i, _) in numbers.iter().enumerate().filter(|(_, x)| x.is_nan()) {
            self.numbers.extend_from_slice(&numbers[run..i]);
            self.push(
                source,
                first_row + i,
                rows.text(i, column).unwrap_or_default(),
            )?;
            run = i + 1;
        }
        self.numbers.extend_from_slice(&numbers[run..]);
        Ok(())
    }

    /// Arrow arrays of a numeric type are taken as numbers (unless the column is
    /// categorical), text arrays by reference; other types through their display form.
    fn push_array(
        &mut self,
        source: &str,
        array: &ArrayRef,
        first_row: usize,
    ) -> std::result::Result<(), ReadError> {
        use arrow_array::cast::AsArray;
        use arrow_schema::DataType;
        let numbers_wanted = self.kind != Some(Kind::Categorical) && self.numeric;
        if numbers_wanted && array.data_type().is_numeric() {
            let floats = arrow_cast::cast(array, &DataType::Float64)
                .map_err(|e| ReadError::plain(source, format!("column `{}`: {e}", self.name)))?;
            for (i, v) in floats
                .as_primitive::<arrow_array::types::Float64Type>()
                .iter()
                .enumerate()
            {
                match v {
                    Some(v) if !v.is_finite() => {
                        let row = (first_row + i) as u64 + 1;
                        let value = v.to_string();
                        return Err(ReadError::cell(
                            source,
                            row,
                            &self.name,
                            &value,
                            "is infinite",
                        ));
                    }
                    v => self.push_number(v.unwrap_or(f64::NAN)),
                }
            }
            return Ok(());
        }
        if let Some(strings) = array.as_string_opt::<i32>() {
            return self.push_texts(source, first_row, strings.iter());
        }
        let dictionary = array.as_dictionary_opt::<arrow_array::types::Int32Type>();
        if let Some(texts) = dictionary.and_then(|d| d.downcast_dict::<arrow_array::StringArray>())
        {
            return self.push_texts(source, first_row, texts.into_iter());
        }
        for i in 0..array.len() {
            let text = if array.is_null(i) {
                String::new()
            } else {
                arrow_cast::display::array_value_to_string(array, i)
                    .map_err(|e| ReadError::plain(source, e.to_string()))?
            };
            self.push(source, first_row + i, &text)?;
        }
        Ok(())
    }

    /// Text values of an array (`None`: missing), the first at row `first_row`.
    fn push_texts<'t>(
        &mut self,
        source: &str,
        first_row: usize,
        texts: impl Iterator<Item = Option<&'t str>>,
    ) -> std::result::Result<(), ReadError> {
        for (i, v) in texts.enumerate() {
            self.push(source, first_row + i, v.unwrap_or_default())?;
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

    /// Appends the same column of the part that follows: a column is numeric only if
    /// every part's values were numbers.
    fn append(&mut self, next: Builder) {
        self.labels.append(next.labels);
        self.numeric &= next.numeric;
        if self.numeric {
            self.numbers.extend(next.numbers);
        } else {
            self.numbers = Vec::new();
        }
        let offset = self.text.len();
        self.text.push_str(&next.text);
        self.ends.extend(next.ends.iter().map(|end| end + offset));
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

fn label(value: &str) -> Option<&str> {
    (!is_null(value)).then(|| value.trim())
}

/// `Ok(None)` for a missing value; infinities are refused because no model can use them.
fn parse_number(value: &str) -> std::result::Result<Option<f64>, &'static str> {
    if is_null(value) {
        return Ok(None);
    }
    match super::number::parse_f64(value.trim()) {
        Some(v) if v.is_finite() => Ok(Some(v)),
        Some(_) => Err("is infinite"),
        None => Err("is not a number"),
    }
}

/// Rows are numbered from 1 after the header, so row N is on line N + 1.
pub fn cell_error(source: &str, row: usize, column: &str, value: &str, why: &str) -> Error {
    ReadError::cell(source, row as u64 + 1, column, value, why).into_error(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_are_their_spellings_with_or_without_blanks() {
        for v in [
            "",
            "NA",
            "N/A",
            "null",
            "NULL",
            "NaN",
            "nan",
            " NA",
            "null\t",
            "  ",
            "\u{a0}NaN",
        ] {
            assert!(is_null(v), "{v:?}");
        }
        for v in ["Na", "N A", "NAN", "Nancy", "nul", "0", " x "] {
            assert!(!is_null(v), "{v:?}");
        }
    }

    #[test]
    fn a_frame_whose_first_rows_are_longer_than_the_rest_is_read_without_growing() {
        // The first batch's rows are 9 % longer than the file's, so the room they ask for
        // is that much short of the rows to come.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut text = String::from("x,label\n");
        for i in 0..60_000 {
            let x = if i < 20_000 { "1.25" } else { "1.5" };
            text.push_str(&format!("{x},aa\n"));
        }
        std::fs::write(&path, text).unwrap();
        let kinds = HashMap::from([
            ("x".to_string(), Kind::Numeric),
            ("label".to_string(), Kind::Categorical),
        ]);
        let frame = Frame::read(&path, &CsvOptions::default(), &kinds).unwrap();
        assert_eq!(frame.rows, 60_000);
        let Some(Column::Numeric(x)) = frame.column("x") else {
            panic!("x is numeric")
        };
        let Some(Column::Categorical(labels)) = frame.column("label") else {
            panic!("label is categorical")
        };
        for (name, room) in [("x", x.capacity()), ("label", labels.codes.capacity())] {
            assert!(room < 60_000 * 5 / 4, "{name}: room for {room} rows");
        }
    }

    #[test]
    fn labels_hold_each_value_once_and_read_back_by_row() {
        let rows = [Some("b"), None, Some("a"), Some("b"), Some("c")];
        let mut labels: Labels = rows.into_iter().collect();
        assert_eq!(labels.iter().collect::<Vec<_>>(), rows);
        assert_eq!(labels.levels.len(), 3);
        assert_eq!(labels.get(3), Some("b"));
        assert_eq!(labels.map(0, |v| v.len() + 1), vec![2, 0, 2, 2, 2]);
        // Only the values some row still holds count as distinct, sorted.
        assert_eq!(labels.distinct(), ["a", "b", "c"]);
        let picked = labels.select(&[4, 0]);
        assert_eq!(picked.iter().collect::<Vec<_>>(), [Some("c"), Some("b")]);
        assert_eq!(picked.distinct(), ["b", "c"]);
        labels.truncate(2);
        assert_eq!(labels.distinct(), ["b"]);
        // Equal by values, whatever order the levels were first seen in.
        let same: Labels = [Some("b"), None].into_iter().collect();
        assert_eq!(labels, same);
    }
}
