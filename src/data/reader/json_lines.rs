//! JSON Lines: one record per line. Each line is checked as JSON on its own before
//! Arrow decodes a batch of them, so an error names its line: Arrow's decoder counts
//! neither lines nor the rows of an unfinished batch, and lets some malformed objects
//! (`{"a": 1,,}`) through as records.

use super::{batch_rows, io_error, spawn, Batch, Format, ReadError, Table};
use crate::error::{Error, Result};
use arrow_json::reader::Decoder;
use arrow_schema::{DataType, Field, Schema};
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

/// Records read to learn the field names.
const INFER_RECORDS: usize = 1000;

pub(super) type Input = BufReader<Box<dyn Read + Send>>;

/// Field names come from the first records; every value is read as text so that a value
/// of the wrong type becomes a finding on its row, not a decoding error.
pub(super) fn open(source: String, input: Input) -> Result<Table> {
    Ok(open_parts(source, input, Vec::new())?.remove(0))
}

/// [`open`] of a file in parts: `first` is the file's start, `later` the parts that
/// follow, each starting on a line of its own (a JSON record holds no line break, so
/// any line break is a record boundary). All take the first part's field names; a later
/// part numbers its lines from its own start (see `reader::read_parts`).
pub(super) fn open_parts(
    source: String,
    mut first: Input,
    later: Vec<Input>,
) -> Result<Vec<Table>> {
    let head = first
        .fill_buf()
        .map_err(|e| io_error(&source, &e))?
        .to_vec();
    let names = field_names(&source, &head)?;
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let rows = batch_rows(names.len());
    std::iter::once(first)
        .chain(later)
        .map(|input| {
            let decoder = arrow_json::ReaderBuilder::new(schema.clone())
                .with_batch_size(rows)
                .with_coerce_primitive(true)
                .build_decoder()
                .map_err(|e| Error::input(format!("{source}: {e}")))?;
            let lines = Lines {
                source: source.clone(),
                input,
                decoder,
                batch_rows: rows,
                line: 0,
                chunk: Vec::new(),
                done: false,
            };
            Ok(Table {
                source: source.clone(),
                format: Format::JsonLines,
                types: vec![DataType::Utf8; names.len()],
                names: names.clone(),
                batches: spawn(lines),
                present: Vec::new(),
                room_bytes: None,
                misaligned: Arc::default(),
            })
        })
        .collect()
}

/// The fields of the first complete records in `head`, each record checked first.
fn field_names(source: &str, head: &[u8]) -> Result<Vec<String>> {
    let mut records = Vec::new();
    let complete = head
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(head.len(), |i| i + 1);
    let lines = head[..complete].split(|&b| b == b'\n').enumerate();
    for (i, line) in lines.filter(|(_, l)| !blank(l)).take(INFER_RECORDS) {
        if let Some(problem) = line_problem(line, complete == head.len()) {
            return Err(Error::input(format!("{source}: line {}: {problem}", i + 1)));
        }
        records.extend_from_slice(line);
        records.push(b'\n');
    }
    let (inferred, _) = arrow_json::reader::infer_json_schema(&records[..], None)
        .map_err(|e| Error::input(format!("{source}: not JSON Lines: {e}")))?;
    if inferred.fields().is_empty() {
        return Err(Error::input(format!(
            "{source}: no records (the file holds no JSON objects)"
        )));
    }
    Ok(inferred.fields().iter().map(|f| f.name().clone()).collect())
}

/// Batches of checked lines, decoded by Arrow.
struct Lines {
    source: String,
    input: Input,
    decoder: Decoder,
    batch_rows: usize,
    /// Lines read so far (1-based number of the last one).
    line: u64,
    chunk: Vec<u8>,
    done: bool,
}

impl Iterator for Lines {
    type Item = std::result::Result<Batch, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let batch = self.read_chunk().and_then(|first| self.decode(first));
        self.done = !matches!(batch, Ok(Some(_)));
        batch.transpose()
    }
}

impl Lines {
    /// Reads up to a batch of records into `chunk`; the number of the first line read.
    fn read_chunk(&mut self) -> std::result::Result<u64, ReadError> {
        self.chunk.clear();
        let first = self.line + 1;
        let mut line = Vec::new();
        let mut records = 0;
        while records < self.batch_rows {
            line.clear();
            let n = self.input.read_until(b'\n', &mut line).map_err(|e| {
                ReadError::plain(&self.source, super::io_detail(e.kind(), &e.to_string()))
            })?;
            if n == 0 {
                break;
            }
            self.line += 1;
            if blank(&line) {
                continue;
            }
            let last = line.last() != Some(&b'\n');
            if let Some(problem) = line_problem(&line, last) {
                return Err(ReadError::plain(
                    &self.source,
                    format!("line {}: {problem}", self.line),
                ));
            }
            self.chunk.extend_from_slice(&line);
            if last {
                self.chunk.push(b'\n');
            }
            records += 1;
        }
        Ok(first)
    }

    fn decode(&mut self, first: u64) -> std::result::Result<Option<Batch>, ReadError> {
        let at = |e: arrow_schema::ArrowError| {
            ReadError::plain(
                &self.source,
                format!("lines {first}–{}: cannot decode: {e}", self.line),
            )
        };
        let mut rest = &self.chunk[..];
        while !rest.is_empty() {
            let used = self.decoder.decode(rest).map_err(at)?;
            rest = &rest[used..];
        }
        Ok(self.decoder.flush().map_err(at)?.map(Batch::Arrow))
    }
}

fn blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// What is wrong with one line, if anything. `last` says the line is the file's last and
/// has no line break, so a record cut short there is a truncated file.
fn line_problem(line: &[u8], last: bool) -> Option<String> {
    match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
        Err(e) if e.is_eof() && last => {
            Some("the record is cut short: the file looks truncated".into())
        }
        Err(e) => {
            let position = format!(" at line {} column {}", e.line(), e.column());
            let message = e.to_string().replace(&position, "");
            Some(format!(
                "not valid JSON at column {}: {message}",
                e.column()
            ))
        }
        Ok(_) if line.trim_ascii_start().first() != Some(&b'{') => {
            Some("not a JSON object: each line must hold one record `{...}`".into())
        }
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::BATCH_ROWS;
    use super::*;

    fn read_all(text: &str) -> std::result::Result<u64, String> {
        let input: Input = BufReader::new(Box::new(std::io::Cursor::new(text.as_bytes().to_vec())));
        let table = open("f.jsonl".into(), input).map_err(|e| e.to_string())?;
        let mut rows = 0;
        while let Some(b) = table.next_batch() {
            rows += b.map_err(|e| e.into_error(0).to_string())?.num_rows() as u64;
        }
        Ok(rows)
    }

    fn records(n: usize) -> String {
        (0..n)
            .map(|i| format!("{{\"id\": \"C{i}\", \"x\": {i}}}\n"))
            .collect()
    }

    #[test]
    fn a_malformed_line_is_named_not_read() {
        let mut text = records(40);
        text.push_str("{\"id\": \"C999999\",,}\n");
        text.push_str(&records(3));
        let e = read_all(&text).unwrap_err();
        assert!(
            e.contains("f.jsonl: line 41: not valid JSON at column 18: key must be a string"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_line_past_the_first_batch_is_numbered_in_the_file() {
        let mut text = records(BATCH_ROWS + 500);
        text.push_str("[1, 2]\n");
        let e = read_all(&text).unwrap_err();
        let line = BATCH_ROWS + 501;
        assert!(
            e.contains(&format!("line {line}: not a JSON object")),
            "{e}"
        );
    }

    #[test]
    fn a_truncated_file_names_the_last_line() {
        let mut text = records(2000);
        text.push_str("{\"id\": \"C2000\", \"x");
        let e = read_all(&text).unwrap_err();
        assert!(e.contains("line 2001: the record is cut short"), "{e}");
    }

    #[test]
    fn blank_lines_and_a_missing_final_break_are_fine() {
        let text = "{\"x\": 1}\n\n{\"x\": 2}\n  \n{\"x\": 3}";
        assert_eq!(read_all(text), Ok(3));
        assert_eq!(
            read_all(&records(BATCH_ROWS * 2 + 7)),
            Ok(BATCH_ROWS as u64 * 2 + 7)
        );
    }
}
