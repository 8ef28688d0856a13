//! Streaming readers: CSV (any delimiter, quoting, gzip), Parquet and JSON Lines become
//! one stream of Arrow record batches with column names, read on a thread of its own
//! through a bounded channel, so decoding and checking use two cores and memory stays
//! at a few batches whatever the file size.

use crate::error::{Error, Result};
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

/// Rows per batch: large enough to amortise per-batch work, small enough for the cache.
pub const BATCH_ROWS: usize = 16 * 1024;
/// Batches decoded ahead of the checker: the bound on memory held in flight.
const AHEAD: usize = 4;
/// Read-buffer size; also the most a CSV header line may take.
const BUFFER: usize = 1 << 20;

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

/// An open data file: its column names and the batches still to come.
pub struct Table {
    pub source: String,
    pub format: Format,
    pub names: Vec<String>,
    /// Arrow type of each column as stored (CSV and JSON Lines: always text).
    pub types: Vec<DataType>,
    batches: Receiver<Result<RecordBatch>>,
}

impl Table {
    /// The next batch, or the error that stopped reading.
    pub fn next_batch(&self) -> Option<Result<RecordBatch>> {
        self.batches.recv().ok()
    }
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
    let source = path.display().to_string();
    let (format, gz) = format_of(path);
    let file = File::open(path).map_err(|e| Error::read(path, e))?;
    if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
        return Err(Error::input(format!(
            "{source}: the file is empty (no header row)"
        )));
    }
    match format {
        Format::Parquet => open_parquet(source, file),
        Format::Csv => open_csv(source, decompress(file, gz), csv),
        Format::JsonLines => open_json(source, decompress(file, gz)),
    }
}

fn decompress(file: File, gz: bool) -> BufReader<Box<dyn Read + Send>> {
    let inner: Box<dyn Read + Send> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(file)
    };
    BufReader::with_capacity(BUFFER, inner)
}

/// Runs `produce` on its own thread, feeding a bounded channel.
fn spawn<I>(produce: I) -> Receiver<Result<RecordBatch>>
where
    I: Iterator<Item = Result<RecordBatch>> + Send + 'static,
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

fn io_error(source: &str, e: &std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::UnexpectedEof || e.to_string().contains("corrupt deflate") {
        Error::input(format!(
            "{source}: the gzip stream is truncated or corrupt ({e})"
        ))
    } else {
        Error::input(format!("{source}: cannot read: {e}"))
    }
}

fn open_csv(
    source: String,
    mut input: BufReader<Box<dyn Read + Send>>,
    options: &CsvOptions,
) -> Result<Table> {
    let head = input.fill_buf().map_err(|e| io_error(&source, &e))?;
    if head.is_empty() {
        return Err(Error::input(format!(
            "{source}: the file is empty (no header row)"
        )));
    }
    let head = head.to_vec();
    let line = header_line(&head);
    let delimiter = match options.delimiter {
        Some(d) if d.is_ascii() => d as u8,
        Some(d) => {
            return Err(Error::input(format!(
                "{source}: delimiter `{d}` is not a single ASCII character"
            )))
        }
        None => sniff_delimiter(line),
    };
    let quote = options.quote.filter(char::is_ascii).unwrap_or('"') as u8;
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
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .enumerate()
            .map(|(i, _)| Field::new(format!("c{i}"), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let reader = arrow_csv::ReaderBuilder::new(schema)
        .with_header(true)
        .with_delimiter(delimiter)
        .with_quote(quote)
        .with_batch_size(BATCH_ROWS)
        .build_buffered(input)
        .map_err(|e| Error::input(format!("{source}: {e}")))?;
    let src = source.clone();
    let columns = names.clone();
    let batches = spawn(reader.map(move |b| b.map_err(|e| csv_error(&src, &columns, &e))));
    Ok(Table {
        source,
        format: Format::Csv,
        types: vec![DataType::Utf8; names.len()],
        names,
        batches,
    })
}

/// The bytes of the first line, BOM removed (quoted newlines in a header are not supported).
fn header_line(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = &head[..end];
    line.strip_suffix(b"\r").unwrap_or(line)
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

/// Arrow's CSV messages say "line N" counting the header as line 1; we add the row.
fn csv_error(source: &str, names: &[String], e: &arrow_schema::ArrowError) -> Error {
    let text = match e {
        arrow_schema::ArrowError::CsvError(m) => m.clone(),
        arrow_schema::ArrowError::IoError(_, io) => return io_error(source, io),
        other => other.to_string(),
    };
    let line = text.split("line ").nth(1).and_then(|rest| {
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse::<u64>()
            .ok()
    });
    let at = line
        .map(|l| format!(" row {} (line {l})", l.saturating_sub(1)))
        .unwrap_or_default();
    let detail = if let Some(rest) = text.strip_prefix("incorrect number of fields for line ") {
        let counts = rest.split_once(", ").map(|x| x.1).unwrap_or(rest);
        format!("a row has the wrong number of fields ({counts}): ragged row or wrong delimiter")
    } else if text.starts_with("Encountered invalid UTF-8") {
        let field = text
            .rsplit("field ")
            .next()
            .and_then(|f| f.trim().parse::<usize>().ok())
            .and_then(|f| names.get(f.wrapping_sub(1)));
        match field {
            Some(name) => format!("column `{name}`: invalid UTF-8 text (the file must be UTF-8)"),
            None => "invalid UTF-8 text (the file must be UTF-8)".to_string(),
        }
    } else {
        text
    };
    Error::input(format!("{source}:{at}: {detail}"))
}

fn open_parquet(source: String, file: File) -> Result<Table> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::input(format!("{source}: not a readable Parquet file: {e}")))?;
    let schema = builder.schema().clone();
    let reader = builder
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| Error::input(format!("{source}: {e}")))?;
    let src = source.clone();
    let batches = spawn(reader.map(move |b| {
        b.map_err(|e| Error::input(format!("{src}: cannot decode Parquet data: {e}")))
    }));
    Ok(Table {
        source,
        format: Format::Parquet,
        names: schema.fields().iter().map(|f| f.name().clone()).collect(),
        types: schema
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect(),
        batches,
    })
}

/// JSON Lines: field names come from the first records; every value is read as text so
/// that a value of the wrong type becomes a finding on its row, not a decoding error.
fn open_json(source: String, mut input: BufReader<Box<dyn Read + Send>>) -> Result<Table> {
    let head = input
        .fill_buf()
        .map_err(|e| io_error(&source, &e))?
        .to_vec();
    let complete = head
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(head.len(), |i| i + 1);
    let (inferred, _) =
        arrow_json::reader::infer_json_schema(std::io::Cursor::new(&head[..complete]), Some(1000))
            .map_err(|e| Error::input(format!("{source}: not JSON Lines: {e}")))?;
    if inferred.fields().is_empty() {
        return Err(Error::input(format!(
            "{source}: no records (the file holds no JSON objects)"
        )));
    }
    let names: Vec<String> = inferred.fields().iter().map(|f| f.name().clone()).collect();
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let reader = arrow_json::ReaderBuilder::new(schema)
        .with_batch_size(BATCH_ROWS)
        .with_coerce_primitive(true)
        .build(input)
        .map_err(|e| Error::input(format!("{source}: {e}")))?;
    let src = source.clone();
    let mut row = 0u64;
    let batches = spawn(reader.map(move |b| match b {
        Ok(b) => {
            row += b.num_rows() as u64;
            Ok(b)
        }
        Err(e) => Err(Error::input(format!(
            "{src}: after row {row}: not valid JSON Lines: {e}"
        ))),
    }));
    Ok(Table {
        source,
        format: Format::JsonLines,
        types: vec![DataType::Utf8; names.len()],
        names,
        batches,
    })
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
    fn formats_from_names() {
        assert_eq!(format_of(Path::new("a.csv.gz")), (Format::Csv, true));
        assert_eq!(format_of(Path::new("a.PARQUET")), (Format::Parquet, false));
        assert_eq!(format_of(Path::new("a.jsonl")), (Format::JsonLines, false));
    }
}
