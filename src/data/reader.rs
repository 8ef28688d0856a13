//! Streaming readers: CSV (any delimiter, quoting, gzip), Parquet and JSON Lines become
//! one stream of batches with column names (Arrow record batches for Parquet, fields as
//! text for CSV and JSON Lines), read on a thread of its own
//! through a bounded channel, so decoding and checking use two cores and memory stays
//! at a few batches whatever the file size.

mod json_lines;
mod json_record;
#[cfg(feature = "parquet")]
mod parquet_parts;

#[cfg(feature = "parquet")]
use parquet_parts::open_parquet;
#[cfg(all(test, feature = "parquet"))]
pub(crate) use parquet_parts::write_parquet;

use super::rows::{self, Boundary, RowBatch, RowError, RowReader};
use crate::error::{Error, Result};
use arrow_array::RecordBatch;
use arrow_schema::DataType;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

/// Rows per batch: large enough to amortise per-batch work, small enough for the cache.
pub const BATCH_ROWS: usize = 16 * 1024;
/// Bytes of values a batch holds at most, however few its cells: batches sized by cells
/// alone held 65 MB each on a table of documents (16 KB a cell), and the batches in
/// flight 550–650 MB. A cell larger than this is a batch of its own.
pub(crate) const BATCH_BYTES: usize = 2 << 20;
/// Batches decoded ahead of the checker: the bound on memory held in flight.
const AHEAD: usize = 4;
/// Read-buffer size; also the most a CSV header line may take.
const BUFFER: usize = 1 << 20;
/// Most that a part's Parquet reader holds at once of the pages it decodes and of their
/// codecs' state, by default: it holds a page of every column it reads. A wider file is
/// read in passes over each part's rows, a group of columns at a time
/// ([`Batch::Columns`]): 1000 columns of polars' single 240 KB page per column chunk,
/// and as many zstd contexts, held 330 MB at once.
pub const READER_BYTES: u64 = 8 << 20;
/// Smallest share of a file worth a reader of its own.
pub const MIN_PART_BYTES: u64 = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Parquet,
    JsonLines,
}

/// How to read a CSV file; every field may be left to detection.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    /// Field delimiter, one ASCII character. Default: detected from the header line
    /// among `,` `;` tab and `|`.
    #[serde(default)]
    pub delimiter: Option<char>,
    /// Quote character. Default `"`.
    #[serde(default)]
    pub quote: Option<char>,
}

/// An open data file, or one part of it: its column names and the batches still to come.
pub struct Table {
    pub source: String,
    pub format: Format,
    pub names: Vec<String>,
    /// Arrow type of each column as stored (CSV and JSON Lines: always text).
    pub types: Vec<DataType>,
    /// Present (non-null) values of each column in the whole file, where its metadata
    /// says (Parquet statistics); empty when unknown.
    pub present: Vec<Option<u64>>,
    /// Bytes of the file that what is built from this part needs room for, where known
    /// (an uncompressed file on disk): all of it for the first part, which the others
    /// are appended to, and a part's share for the others.
    pub room_bytes: Option<u64>,
    batches: Receiver<std::result::Result<Batch, ReadError>>,
    /// Where the part comes in passes over its rows ([`Batch::Columns`]): how to read
    /// chosen rows of it whole again.
    pub revisit: Option<Revisit>,
    /// Set when this part read past the next part's start: the split was not on a row
    /// boundary (a quoted line break), so the parts do not add up to the file.
    misaligned: Arc<AtomicBool>,
}

/// Decoded rows: Arrow arrays (Parquet) or fields as text (CSV, JSON Lines).
pub enum Batch {
    Arrow(RecordBatch),
    /// Some of a wide Parquet file's columns, from the column numbered here on: the part
    /// is read in passes over its rows, a group of columns at a time (see
    /// [`Table::revisit`]).
    Columns(usize, RecordBatch),
    Rows(RowBatch),
}

impl Batch {
    pub fn num_rows(&self) -> usize {
        match self {
            Batch::Arrow(b) | Batch::Columns(_, b) => b.num_rows(),
            Batch::Rows(r) => r.num_rows(),
        }
    }
}

/// Reads rows of a part again, every column of them (0-based in the part, ascending),
/// as [`arrow_row`] gives each value.
pub type Revisit =
    Arc<dyn Fn(&[u64]) -> std::result::Result<Vec<Vec<String>>, ReadError> + Send + Sync>;

/// A row's values as read, missing ones empty.
pub fn arrow_row(columns: &[arrow_array::ArrayRef], row: usize) -> Vec<String> {
    columns
        .iter()
        .map(|a| {
            if a.is_null(row) {
                String::new()
            } else {
                arrow_cast::display::array_value_to_string(a, row).unwrap_or_default()
            }
        })
        .collect()
}

/// A reading error. Row-level problems keep their row counted from the part's first
/// row, so a part read on its own thread can be renumbered once the rows before it are
/// counted.
#[derive(Debug)]
pub struct ReadError {
    source: String,
    row: Option<u64>,
    detail: String,
}

impl ReadError {
    /// A value that cannot be read as its column needs; `row` counts from the part's
    /// first row (1).
    pub fn cell(source: &str, row: u64, column: &str, value: &str, why: &str) -> ReadError {
        let shown: String = value.chars().take(60).collect();
        ReadError {
            source: source.to_string(),
            row: Some(row),
            detail: format!("column `{column}`: `{shown}` {why}"),
        }
    }

    /// An error that concerns no row in particular.
    pub fn plain(source: &str, detail: String) -> ReadError {
        ReadError {
            source: source.to_string(),
            row: None,
            detail,
        }
    }

    /// The error, its row numbered after the `rows_before` rows of earlier parts.
    pub fn into_error(self, rows_before: u64) -> Error {
        let at = self
            .row
            .map(|r| r + rows_before)
            .map(|r| format!(": row {r} (line {})", r + 1))
            .unwrap_or_default();
        Error::input(format!("{}{at}: {}", self.source, self.detail))
    }
}

impl Table {
    /// The next batch, or the error that stopped reading.
    pub fn next_batch(&self) -> Option<std::result::Result<Batch, ReadError>> {
        self.batches.recv().ok()
    }

    /// Whether this part read past the next one's start; known once it is read.
    pub fn misaligned(&self) -> bool {
        self.misaligned.load(Ordering::SeqCst)
    }
}

/// Cores to read a file's parts on.
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
}

/// A scoped thread's result; its panic goes on in the caller.
pub fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Reads the parts of a file, each on a thread of its own, with `read` (given the part's
/// index), and returns what it made of each, in order; `None` when the parts do not add
/// up to the file (a quoted line break at a split point) or a later part of JSON Lines
/// failed (its line is named by a read from the start): read it again in one part.
/// `rows` counts a part's rows, so that an error in a later part names its row in the
/// file.
pub fn read_parts<T: Send>(
    tables: Vec<Table>,
    read: impl Fn(usize, &Table) -> std::result::Result<T, ReadError> + Sync,
    rows: impl Fn(&T) -> u64,
) -> Result<Option<Vec<T>>> {
    let read = &read;
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = tables
            .into_iter()
            .enumerate()
            .map(|(i, table)| s.spawn(move || (read(i, &table), table.misaligned(), table.format)))
            .collect();
        handles.into_iter().map(joined).collect()
    });
    let mut rows_before = 0;
    let mut parts = Vec::with_capacity(results.len());
    for (i, (result, misaligned, format)) in results.into_iter().enumerate() {
        // A later part of JSON Lines counts lines from its own start, and blank lines
        // make lines differ from rows: read in one part, the file names the line.
        let part = match result {
            Err(_) if i > 0 && format == Format::JsonLines => return Ok(None),
            result => result.map_err(|e| e.into_error(rows_before))?,
        };
        rows_before += rows(&part);
        parts.push(part);
        // Checked before the next part's result: its errors count only if it started
        // on a row boundary.
        if misaligned {
            return Ok(None);
        }
    }
    Ok(Some(parts))
}

/// Format from the file name: `.parquet`/`.pq`, `.jsonl`/`.ndjson` (optionally `.gz`),
/// anything else is CSV (optionally `.gz`).
pub fn format_of(path: &Path) -> (Format, bool) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let gz = name.ends_with(".gz");
    let stem = name.trim_end_matches(".gz");
    let format = if stem.ends_with(".parquet") || stem.ends_with(".pq") {
        Format::Parquet
    } else if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") {
        Format::JsonLines
    } else {
        Format::Csv
    };
    (format, gz)
}

/// Opens `path` and starts decoding it on a background thread.
pub fn open(path: &Path, csv: &CsvOptions) -> Result<Table> {
    let mut tables = open_parts(path, csv, 1)?;
    Ok(tables.remove(0))
}

/// Opens `path` as up to `parts` tables, each decoded on a thread of its own: byte
/// ranges of a plain CSV or JSON Lines file, ranges of row groups of a Parquet file.
/// Gzipped files, and small ones, are one table.
pub fn open_parts(path: &Path, csv: &CsvOptions, parts: usize) -> Result<Vec<Table>> {
    open_parts_of(path, csv, parts, MIN_PART_BYTES, None)
}

/// [`open_parts`] with parts of at least `min_bytes` (tests split small files). `pages`:
/// the most a part's Parquet reader may hold of pages at once, a wider file then coming
/// a group of columns at a time ([`Batch::Columns`]); `None`: whole rows.
pub(crate) fn open_parts_of(
    path: &Path,
    csv: &CsvOptions,
    parts: usize,
    min_bytes: u64,
    pages: Option<u64>,
) -> Result<Vec<Table>> {
    let source = path.display().to_string();
    let (format, gz) = format_of(path);
    let file = File::open(path).map_err(|e| Error::read(path, e))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Err(Error::input(format!(
            "{source}: the file is empty (no header row)"
        )));
    }
    let parts = if gz {
        1
    } else {
        parts.min((len / min_bytes.max(1)) as usize).max(1)
    };
    let split = (parts > 1).then_some((path, len, parts));
    let mut tables = match format {
        Format::Parquet => return open_parquet(source, path, file, parts, pages),
        Format::Csv => open_csv(source, decompress(Box::new(file), gz), csv, split)?,
        Format::JsonLines => match split {
            Some((path, len, parts)) => json_lines_parts(source, path, len, parts)?,
            None => vec![json_lines::open(source, decompress(Box::new(file), gz))?],
        },
    };
    // Text on disk: its size tells how many rows are coming.
    let count = tables.len() as u64;
    for (i, table) in tables.iter_mut().enumerate().filter(|_| !gz) {
        table.room_bytes = Some(if i == 0 { len } else { len / count });
    }
    Ok(tables)
}

/// Starts decoding `input`, the content of a file named `name` read as it arrives (an
/// object streamed from a bucket): CSV or JSON Lines, optionally gzipped, in one part.
/// `None` for Parquet, whose index sits at the end of the file: read it from a file.
pub fn open_stream(
    source: &str,
    name: &str,
    input: Box<dyn Read + Send>,
    csv: &CsvOptions,
) -> Result<Option<Table>> {
    let (format, gz) = format_of(Path::new(name));
    let source = source.to_string();
    let table = match format {
        Format::Parquet => return Ok(None),
        Format::Csv => open_csv(source, decompress(input, gz), csv, None)?.remove(0),
        Format::JsonLines => json_lines::open(source, decompress(input, gz))?,
    };
    Ok(Some(table))
}

fn decompress(input: Box<dyn Read + Send>, gz: bool) -> BufReader<Box<dyn Read + Send>> {
    let inner: Box<dyn Read + Send> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(input)))
    } else {
        input
    };
    BufReader::with_capacity(BUFFER, inner)
}

/// Runs `produce` on its own thread, feeding a bounded channel.
fn spawn<I>(produce: I) -> Receiver<std::result::Result<Batch, ReadError>>
where
    I: Iterator<Item = std::result::Result<Batch, ReadError>> + Send + 'static,
{
    let (tx, rx) = sync_channel(AHEAD);
    std::thread::spawn(move || {
        for item in produce {
            let stop = item.is_err();
            if tx.send(item).is_err() || stop {
                break;
            }
        }
    });
    rx
}

fn io_detail(kind: std::io::ErrorKind, message: &str) -> String {
    if kind == std::io::ErrorKind::UnexpectedEof || message.contains("corrupt deflate") {
        format!("the gzip stream is truncated or corrupt ({message})")
    } else {
        format!("cannot read: {message}")
    }
}

fn io_error(source: &str, e: &std::io::Error) -> Error {
    Error::input(format!("{source}: {}", io_detail(e.kind(), &e.to_string())))
}

/// Opens a CSV stream; `split` (the file, its length and a number of parts) reads a
/// plain file in byte ranges, each on a thread of its own.
fn open_csv(
    source: String,
    mut input: BufReader<Box<dyn Read + Send>>,
    options: &CsvOptions,
    split: Option<(&Path, u64, usize)>,
) -> Result<Vec<Table>> {
    let head = input.fill_buf().map_err(|e| io_error(&source, &e))?;
    if head.is_empty() {
        return Err(Error::input(format!(
            "{source}: the file is empty (no header row)"
        )));
    }
    let head = head.to_vec();
    let line = header_line(&head);
    let (delimiter, quote) = dialect(&source, line, options)?;
    let names = parse_header(&source, line, delimiter, quote)?;
    if options.delimiter.is_some() && names.len() == 1 {
        let other = sniff_delimiter(line);
        if other != delimiter {
            return Err(Error::input(format!(
                "{source}: line 1: the header is one column `{}` with delimiter `{}`, but it looks `{}`-delimited",
                names[0].chars().take(60).collect::<String>(),
                delimiter as char,
                other as char
            ))
            .with_hint("fix `csv.delimiter` in the data schema, or leave it out to detect it"));
        }
    }
    let boundaries = match split {
        Some((path, len, parts)) => {
            let records = rows::Records {
                delimiter,
                quote,
                columns: names.len(),
            };
            rows::split(path, len, parts, Some(records)).map_err(|e| io_error(&source, &e))?
        }
        None => Vec::new(),
    };
    let table =
        |input: Box<dyn BufRead + Send>, start: u64, header: bool, stop: Option<&Boundary>| {
            let mut reader = RowReader::new(input, delimiter, quote, names.len());
            if header {
                reader = reader.skipping_header();
            }
            if let Some(b) = stop {
                reader = reader.stopping_at(Boundary {
                    breaks_at: b.breaks_at - start,
                    next: b.next - start,
                });
            }
            csv_table(&source, &names, reader)
        };
    let mut tables = vec![table(Box::new(input), 0, true, boundaries.first())];
    for (i, b) in boundaries.iter().enumerate() {
        let Some((path, _, _)) = split else { break };
        let input = Box::new(BufReader::with_capacity(
            BUFFER,
            open_at(path, b.next, &source)?,
        ));
        tables.push(table(input, b.next, false, boundaries.get(i + 1)));
    }
    Ok(tables)
}

/// A plain JSON Lines file in up to `parts` byte ranges, split after line breaks.
fn json_lines_parts(source: String, path: &Path, len: u64, parts: usize) -> Result<Vec<Table>> {
    let starts: Vec<u64> = rows::split(path, len, parts, None)
        .map_err(|e| io_error(&source, &e))?
        .iter()
        .map(|b| b.next)
        .collect();
    let ends = starts.iter().map(|&next| Some(next)).chain([None]);
    let mut inputs = Vec::with_capacity(starts.len() + 1);
    for (start, end) in std::iter::once(0).chain(starts.iter().copied()).zip(ends) {
        let file = open_at(path, start, &source)?;
        let input: Box<dyn Read + Send> = match end {
            Some(end) => Box::new(file.take(end - start)),
            None => Box::new(file),
        };
        inputs.push(BufReader::with_capacity(BUFFER, input));
    }
    let first = inputs.remove(0);
    json_lines::open_parts(source, first, inputs)
}

/// `path` opened at byte `start`, for a part of its own: clones of one handle would share
/// the read offset across threads.
fn open_at(path: &Path, start: u64, source: &str) -> Result<File> {
    let mut file = File::open(path).map_err(|e| Error::read(path, e))?;
    file.seek(SeekFrom::Start(start))
        .map_err(|e| io_error(source, &e))?;
    Ok(file)
}

/// A CSV part decoded on its own thread.
fn csv_table<R: BufRead + Send + 'static>(
    source: &str,
    names: &[String],
    mut reader: RowReader<R>,
) -> Table {
    let misaligned = Arc::new(AtomicBool::new(false));
    let flag = misaligned.clone();
    let (src, columns) = (source.to_string(), names.to_vec());
    let batches = spawn(std::iter::from_fn(move || {
        let next = reader.next_batch();
        if next.is_none() && reader.misaligned {
            flag.store(true, Ordering::SeqCst);
        }
        Some(
            next?
                .map(Batch::Rows)
                .map_err(|e| row_error(&src, &columns, e)),
        )
    }));
    Table {
        source: source.to_string(),
        format: Format::Csv,
        types: vec![DataType::Utf8; names.len()],
        present: Vec::new(),
        room_bytes: None,
        names: names.to_vec(),
        batches,
        revisit: None,
        misaligned,
    }
}

/// The bytes of the first line, BOM removed (quoted newlines in a header are not supported).
fn header_line(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = &head[..end];
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The delimiter and quote of a CSV file whose header is `line`: as configured, else
/// the delimiter detected from the header.
fn dialect(source: &str, line: &[u8], options: &CsvOptions) -> Result<(u8, u8)> {
    let delimiter = match options.delimiter {
        Some(d) if d.is_ascii() => d as u8,
        Some(d) => {
            return Err(Error::input(format!(
                "{source}: delimiter `{d}` is not a single ASCII character"
            )))
        }
        None => sniff_delimiter(line),
    };
    Ok((
        delimiter,
        options.quote.filter(char::is_ascii).unwrap_or('"') as u8,
    ))
}

/// The delimiter and quote [`open`] reads a plain CSV file with, for writers that keep
/// the file's own dialect (`predict` appends columns to its input's rows).
pub fn csv_dialect(path: &Path, options: &CsvOptions) -> Result<(u8, u8)> {
    let source = path.display().to_string();
    let file = File::open(path).map_err(|e| Error::read(path, e))?;
    let mut input = BufReader::new(file);
    let head = input.fill_buf().map_err(|e| io_error(&source, &e))?;
    dialect(&source, header_line(head), options)
}

/// The candidate that splits the header into the most fields, outside quotes.
fn sniff_delimiter(line: &[u8]) -> u8 {
    let mut best = (0usize, b',');
    for d in [b',', b';', b'\t', b'|'] {
        let mut quoted = false;
        let n = line
            .iter()
            .filter(|&&b| {
                if b == b'"' {
                    quoted = !quoted;
                }
                !quoted && b == d
            })
            .count();
        if n > best.0 {
            best = (n, d);
        }
    }
    best.1
}

fn parse_header(source: &str, line: &[u8], delimiter: u8, quote: u8) -> Result<Vec<String>> {
    let text = std::str::from_utf8(line).map_err(|_| {
        Error::input(format!(
            "{source}: line 1 (header): the file is not valid UTF-8 text"
        ))
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .quote(quote)
        .from_reader(text.as_bytes());
    let record = reader
        .records()
        .next()
        .transpose()
        .map_err(|e| Error::input(format!("{source}: line 1 (header): {e}")))?
        .unwrap_or_default();
    let names: Vec<String> = record.iter().map(|h| h.trim().to_string()).collect();
    if names.iter().all(String::is_empty) {
        return Err(Error::input(format!(
            "{source}: line 1: the header row is empty"
        )));
    }
    if let Some(i) = names.iter().position(String::is_empty) {
        return Err(Error::input(format!(
            "{source}: line 1: header column {} has no name",
            i + 1
        )));
    }
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(Error::input(format!(
                "{source}: line 1: column `{name}` appears twice in the header"
            )));
        }
    }
    Ok(names)
}

/// A CSV reading error, worded for the user.
fn row_error(source: &str, names: &[String], e: RowError) -> ReadError {
    let (row, detail) = match e {
        RowError::Fields { row, expected, got } => {
            let got = got.map_or(format!("more than {expected}"), |g| g.to_string());
            let detail = format!(
                "a row has the wrong number of fields (expected {expected} got {got}): ragged row or wrong delimiter"
            );
            (Some(row), detail)
        }
        RowError::Utf8 { row, column } => {
            let name = names.get(column).map_or("?", String::as_str);
            let detail = format!("column `{name}`: invalid UTF-8 text (the file must be UTF-8)");
            (Some(row), detail)
        }
        RowError::Io(message, kind) => (None, io_detail(kind, &message)),
    };
    ReadError {
        source: source.to_string(),
        row,
        detail,
    }
}

/// Without the `parquet` feature a Parquet file is an input this build cannot read.
#[cfg(not(feature = "parquet"))]
fn open_parquet(source: String, _: &Path, _: File, _: usize, _: Option<u64>) -> Result<Vec<Table>> {
    Err(Error::not_built(
        &format!("{source}: reading Parquet"),
        "parquet",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_delimiters_outside_quotes() {
        assert_eq!(sniff_delimiter(b"a;b;c"), b';');
        assert_eq!(sniff_delimiter(b"a\tb"), b'\t');
        assert_eq!(sniff_delimiter(b"\"x;y\",b,c"), b',');
        assert_eq!(sniff_delimiter(b"single"), b',');
    }

    #[test]
    fn errors_name_the_row_after_earlier_parts() {
        let e = |row| ReadError {
            source: "d.csv".into(),
            row,
            detail: "bad".into(),
        };
        assert_eq!(
            e(Some(3)).into_error(10).to_string(),
            Error::input("d.csv: row 13 (line 14): bad").to_string()
        );
        assert_eq!(
            e(None).into_error(10).to_string(),
            Error::input("d.csv: bad").to_string()
        );
    }

    #[test]
    fn formats_from_names() {
        assert_eq!(format_of(Path::new("a.csv.gz")), (Format::Csv, true));
        assert_eq!(format_of(Path::new("a.PARQUET")), (Format::Parquet, false));
        assert_eq!(format_of(Path::new("a.jsonl")), (Format::JsonLines, false));
    }
}
