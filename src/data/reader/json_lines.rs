//! JSON Lines: one record per line. Each line is read straight into field spans, as a
//! CSV row is ([`json_record`]), and checked in the same pass, so an error names its
//! line; serde_json describes what is wrong with a line that is not a JSON object.

use super::json_record::{Fields, Problem, ESCAPED};
use super::{spawn, Batch, Format, ReadError, Table};
use crate::data::rows::{batch_rows, RowBatch};
use crate::error::{Error, Result};
use arrow_schema::DataType;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

/// Records read to learn the field names.
const INFER_RECORDS: usize = 1000;
/// At most this much of the file is read ahead to learn them (fewer records when they
/// are longer).
const HEAD_BYTES: usize = 16 << 20;

pub(super) type Input = BufReader<Box<dyn Read + Send>>;

/// Field names come from the first records; every value is read as text so that a value
/// of the wrong type becomes a finding on its row, not a decoding error. A field that
/// holds objects or arrays there is a column of that type, reported and skipped as a
/// Parquet file's would be.
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
    let head = read_head(&mut first).map_err(|e| super::io_error(&source, &e))?;
    let (names, types) = field_names(&source, &head)?;
    let nested: Vec<bool> = types.iter().map(DataType::is_nested).collect();
    let fields = Arc::new(Fields::new(&names, nested));
    // As many rows a batch as CSV's for the same columns: its text and spans stay in
    // the core's cache while the checks read it column by column.
    let rows = batch_rows(names.len());
    let inputs = std::iter::once((first, Some(head))).chain(later.into_iter().map(|i| (i, None)));
    let tables = inputs.map(|(input, head)| Table {
        source: source.clone(),
        format: Format::JsonLines,
        types: types.clone(),
        names: names.clone(),
        batches: spawn(Lines {
            source: source.clone(),
            head: head.map(std::io::Cursor::new),
            input,
            fields: fields.clone(),
            batch_rows: rows,
            line: 0,
            chunk_bytes: 0,
            done: false,
        }),
        present: Vec::new(),
        room_bytes: None,
        revisit: None,
        misaligned: Arc::default(),
    });
    Ok(tables.collect())
}

/// The first lines of `input`, up to [`INFER_RECORDS`] records or [`HEAD_BYTES`]: read
/// line by line, as an inflating gzip stream's first buffer may hold only a few.
fn read_head(input: &mut Input) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut records = 0;
    while records < INFER_RECORDS && head.len() < HEAD_BYTES {
        let start = head.len();
        if read_line(input, &mut head)? == 0 {
            break;
        }
        records += usize::from(!blank(&head[start..]));
    }
    Ok(head)
}

/// The fields of the records in `head` (whole lines) in the order first seen, each
/// record checked first, with their types: text, or the nested type of a field that
/// holds an object or an array in any of them.
fn field_names(source: &str, head: &[u8]) -> Result<(Vec<String>, Vec<DataType>)> {
    // Only the file's last line can lack its line break.
    let open_end = !head.ends_with(b"\n");
    let lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    let count = lines.len();
    let mut names: Vec<String> = Vec::new();
    let mut types: Vec<DataType> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (i, line) in lines.into_iter().enumerate().filter(|(_, l)| !blank(l)) {
        let record = parse_record(line, open_end && i + 1 == count)
            .map_err(|problem| Error::input(format!("{source}: line {}: {problem}", i + 1)))?;
        for (name, value) in record {
            let column = *index.entry(name.clone()).or_insert_with(|| {
                names.push(name);
                types.push(DataType::Utf8);
                types.len() - 1
            });
            match value {
                serde_json::Value::Object(_) => {
                    types[column] = DataType::Struct(Default::default())
                }
                serde_json::Value::Array(_) if !types[column].is_nested() => {
                    types[column] = DataType::new_list(DataType::Utf8, true)
                }
                _ => {}
            }
        }
    }
    if names.is_empty() {
        return Err(Error::input(format!(
            "{source}: no records (the file holds no JSON objects)"
        )));
    }
    Ok((names, types))
}

/// Batches of records, each line read and checked once.
struct Lines {
    source: String,
    /// The lines read to learn the fields, read again first (the first part only).
    head: Option<std::io::Cursor<Vec<u8>>>,
    input: Input,
    fields: Arc<Fields>,
    batch_rows: usize,
    /// Lines read so far (1-based number of the last one).
    line: u64,
    /// The last batch's text length: room for the next.
    chunk_bytes: usize,
    done: bool,
}

impl Iterator for Lines {
    type Item = std::result::Result<Batch, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let batch = self.read_batch();
        self.done = !matches!(batch, Ok(Some(_)));
        batch.transpose()
    }
}

impl Lines {
    fn read_batch(&mut self) -> std::result::Result<Option<Batch>, ReadError> {
        let columns = self.fields.len();
        let mut chunk = Vec::with_capacity(self.chunk_bytes + self.chunk_bytes / 8);
        let mut spans = Vec::with_capacity(self.batch_rows * columns);
        let mut escaped = String::new();
        // Where each row's line starts in `chunk`, and its number: to name a line whose
        // text is not UTF-8.
        let mut starts: Vec<(usize, u64)> = Vec::with_capacity(self.batch_rows);
        // Whatever its rows, a batch ends once its text (lines and unescaped strings)
        // passes BATCH_BYTES: its spans are 31-bit ([`ESCAPED`] is the top bit).
        while starts.len() < self.batch_rows && chunk.len() + escaped.len() < super::BATCH_BYTES {
            let start = chunk.len();
            let n = self.read_line(&mut chunk).map_err(|e| {
                ReadError::plain(&self.source, super::io_detail(e.kind(), &e.to_string()))
            })?;
            if n == 0 {
                break;
            }
            self.line += 1;
            let line = &chunk[start..];
            if blank(line) {
                chunk.truncate(start);
                continue;
            }
            let row = spans.len();
            spans.resize(row + columns, (0, 0));
            let offset = u32::try_from(start).unwrap_or(u32::MAX);
            if let Err(problem) = self
                .fields
                .read(line, offset, &mut spans[row..], &mut escaped)
            {
                let detail = self.describe(&problem, line);
                return Err(ReadError::plain(
                    &self.source,
                    format!("line {}: {detail}", self.line),
                ));
            }
            starts.push((start, self.line));
        }
        if starts.is_empty() {
            return Ok(None);
        }
        self.chunk_bytes = chunk.len();
        let text = self.text(chunk, &escaped, &mut spans, &starts)?;
        let batch = RowBatch::from_spans(text, spans, columns);
        Ok(Some(Batch::Rows(batch)))
    }

    /// The next line into `chunk`: from the head while it lasts, then from the input.
    fn read_line(&mut self, chunk: &mut Vec<u8>) -> std::io::Result<usize> {
        if let Some(head) = &mut self.head {
            match read_line(head, chunk)? {
                0 => self.head = None,
                n => return Ok(n),
            }
        }
        read_line(&mut self.input, chunk)
    }

    /// The batch's text: its lines, then its unescaped strings, which the spans marked
    /// [`ESCAPED`] now point to.
    fn text(
        &self,
        mut chunk: Vec<u8>,
        escaped: &str,
        spans: &mut [(u32, u32)],
        starts: &[(usize, u64)],
    ) -> std::result::Result<String, ReadError> {
        if !escaped.is_empty() {
            // Room for exactly the strings: growing would double the batch's memory.
            chunk.reserve_exact(escaped.len());
            let base = chunk.len() as u32;
            for span in spans.iter_mut().filter(|(s, _)| s & ESCAPED != 0) {
                *span = (base + (span.0 & !ESCAPED), base + span.1);
            }
            chunk.extend_from_slice(escaped.as_bytes());
        }
        String::from_utf8(chunk).map_err(|e| {
            let bad = e.utf8_error().valid_up_to();
            let row = starts.partition_point(|&(start, _)| start <= bad).max(1) - 1;
            let line = starts.get(row).map_or(self.line, |&(_, line)| line);
            ReadError::plain(&self.source, format!("line {line}: not valid UTF-8"))
        })
    }

    /// What is wrong with a line the record reader refused.
    fn describe(&self, problem: &Problem, line: &[u8]) -> String {
        let last = line.last() != Some(&b'\n');
        match problem {
            Problem::Nested(c) => format!(
                "field `{}` holds an object or an array: mlgate reads flat records, one value a field",
                self.fields.name(*c)
            ),
            Problem::Syntax => parse_record(line, last)
                .err()
                .unwrap_or_else(|| "a record mlgate cannot read".into()),
        }
    }
}

/// `read_until(b'\n')`, with the SIMD search of the memchr crate (the standard
/// library's took a twentieth of the time of reading a narrow table).
fn read_line(input: &mut impl BufRead, out: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let buffer = match input.fill_buf() {
            Ok(buffer) => buffer,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buffer.is_empty() {
            return Ok(read);
        }
        let (used, done) = match memchr::memchr(b'\n', buffer) {
            Some(i) => (i + 1, true),
            None => (buffer.len(), false),
        };
        out.extend_from_slice(&buffer[..used]);
        input.consume(used);
        read += used;
        if done {
            return Ok(read);
        }
    }
}

fn blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// The fields of the JSON object on one line, in their order, or what is wrong with the
/// line. `last` says the line is the file's last and has no line break, so a record cut
/// short there is a truncated file.
fn parse_record(
    line: &[u8],
    last: bool,
) -> std::result::Result<serde_json::Map<String, serde_json::Value>, String> {
    match serde_json::from_slice(line) {
        Err(e) if e.is_eof() && last => {
            Err("the record is cut short: the file looks truncated".into())
        }
        Err(e) => {
            let position = format!(" at line {} column {}", e.line(), e.column());
            let message = e.to_string().replace(&position, "");
            Err(format!(
                "not valid JSON at column {}: {message}",
                e.column()
            ))
        }
        Ok(serde_json::Value::Object(fields)) => Ok(fields),
        Ok(_) => Err("not a JSON object: each line must hold one record `{...}`".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::rows::BATCH_ROWS;

    fn read_all(text: impl AsRef<[u8]>) -> std::result::Result<u64, String> {
        let input: Input = BufReader::new(Box::new(std::io::Cursor::new(text.as_ref().to_vec())));
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
    fn fields_come_from_the_first_records_however_the_input_arrives() {
        // A stream handing out a few bytes a read, as an inflating gzip stream may.
        struct Trickle(std::io::Cursor<Vec<u8>>);
        impl Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(64);
                self.0.read(&mut buf[..n])
            }
        }
        let mut text = records(900);
        text.push_str("{\"id\": \"C900\", \"x\": 1, \"late\": true}\n");
        text.push_str(&records(5));
        let input = Trickle(std::io::Cursor::new(text.into_bytes()));
        let table = open("f.jsonl".into(), BufReader::new(Box::new(input))).unwrap();
        assert_eq!(table.names, ["id", "x", "late"]);
        let mut rows = 0;
        while let Some(batch) = table.next_batch() {
            rows += batch.unwrap().num_rows();
        }
        assert_eq!(rows, 906);
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let mut bytes = records(BATCH_ROWS + 10).into_bytes();
        bytes.extend_from_slice(b"{\"id\": \"C\xff\", \"x\": 1}\n");
        bytes.extend_from_slice(records(3).as_bytes());
        let e = read_all(bytes).unwrap_err();
        let line = BATCH_ROWS + 11;
        assert!(e.contains(&format!("line {line}: not valid UTF-8")), "{e}");
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
            read_all(records(BATCH_ROWS * 2 + 7)),
            Ok(BATCH_ROWS as u64 * 2 + 7)
        );
    }

    #[test]
    fn batches_of_long_lines_end_past_their_bytes() {
        // 100 KB a line; with escapes, as much again unescaped: the batch's text is both.
        for (piece, per_line) in [("w", 100_000), ("w\\n", 100_000 + 66_666)] {
            let long = piece.repeat(100_000 / piece.len());
            let text: String = (0..120)
                .map(|i| format!("{{\"id\": {i}, \"text\": \"{long}\"}}\n"))
                .collect();
            let input: Input = BufReader::new(Box::new(std::io::Cursor::new(text.into_bytes())));
            let table = open("f.jsonl".into(), input).unwrap();
            let mut sizes = Vec::new();
            while let Some(b) = table.next_batch() {
                sizes.push(b.unwrap().num_rows());
            }
            assert_eq!(sizes.iter().sum::<usize>(), 120);
            // About BATCH_BYTES of text a batch, not 120 lines of 100 KB.
            let most = super::super::BATCH_BYTES / per_line + 1;
            assert!(
                sizes.len() > 1 && sizes.iter().all(|&n| n <= most),
                "{piece}: {sizes:?}"
            );
        }
    }
}
