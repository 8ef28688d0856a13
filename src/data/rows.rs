//! CSV rows decoded straight from bytes (simple records by a byte loop, the rest by
//! csv-core, the parser under Arrow's CSV reader) into batches of field slices, without
//! building Arrow string arrays; and the
//! split of a plain file into byte ranges that several threads decode at once.
//!
//! A range other than the first starts right after a line break chosen by position,
//! which is only a row boundary if the break is not inside a quoted field. Whether it is
//! can only be known by parsing from the start of the file, so each range's reader
//! checks it for the next range: it parses on past its own end until a row ends, and
//! that row must end exactly at the next range's start (else `misaligned` is set), and
//! the caller reads the file again in one range.

/// Rows per batch: fewer than Arrow batches hold, so that a batch's text and field
/// ends stay in the core's cache while each column is read from them in turn.
pub const BATCH_ROWS: usize = 4096;
use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::Path;

/// A batch of rows: every field's unescaped bytes end to end, and where each ends.
#[derive(Debug, Default)]
pub struct RowBatch {
    text: String,
    /// `columns` field ends per row, after a leading 0.
    ends: Vec<usize>,
    columns: usize,
}

impl RowBatch {
    pub fn num_rows(&self) -> usize {
        (self.ends.len() - 1) / self.columns.max(1)
    }

    pub fn columns(&self) -> usize {
        self.columns
    }

    /// The field at `row` and `column`; `None` when it is empty (missing, as Arrow's
    /// CSV reader has it).
    pub fn text(&self, row: usize, column: usize) -> Option<&str> {
        let at = row * self.columns + column;
        self.field(self.ends[at], self.ends[at + 1])
    }

    /// The fields of `column`, row by row, as [`RowBatch::text`] gives them.
    pub fn column(&self, column: usize) -> impl Iterator<Item = Option<&str>> + '_ {
        let step = self.columns.max(1);
        let starts = self.ends[column..].iter().step_by(step);
        let ends = self.ends[column + 1..].iter().step_by(step);
        starts.zip(ends).map(|(&s, &e)| self.field(s, e))
    }

    fn field(&self, start: usize, end: usize) -> Option<&str> {
        (end > start).then(|| &self.text[start..end])
    }
}

/// A problem with the bytes of one row; `row` counts from the range's first row.
#[derive(Debug, Clone, PartialEq)]
pub enum RowError {
    /// Ragged row: the header's field count and the row's (`None`: more than `expected`).
    Fields {
        row: u64,
        expected: usize,
        got: Option<usize>,
    },
    /// Invalid UTF-8 in a field (0-based column).
    Utf8 {
        row: u64,
        column: usize,
    },
    Io(String, std::io::ErrorKind),
}

/// Where a range's reader stops and whether the next range started on a row boundary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Boundary {
    /// Offset of the first line-break byte of the break before the next range: a row
    /// ending past it ends the range.
    pub breaks_at: u64,
    /// The next range's first byte.
    pub next: u64,
}

/// Decodes rows from `input` in batches of up to [`BATCH_ROWS`].
pub struct RowReader<R> {
    input: R,
    csv: csv_core::Reader,
    delimiter: u8,
    quote: u8,
    columns: usize,
    /// Bytes consumed, counted from the range's start.
    consumed: u64,
    rows: u64,
    skip_header: bool,
    /// `None`: read to the end of the input.
    stop: Option<Boundary>,
    done: bool,
    /// Set when reading stopped past `stop.next`: the next range did not start a row.
    pub misaligned: bool,
    /// Field ends of the record being read (room for more fields than expected, so a
    /// ragged row reports how many it had).
    ends: Vec<usize>,
}

impl<R: BufRead> RowReader<R> {
    /// A reader of `columns` fields per record; offsets count from where `input` starts.
    pub fn new(input: R, delimiter: u8, quote: u8, columns: usize) -> Self {
        let csv = csv_core::ReaderBuilder::new()
            .delimiter(delimiter)
            .quote(quote)
            .build();
        RowReader {
            input,
            csv,
            delimiter,
            quote,
            columns,
            consumed: 0,
            rows: 0,
            skip_header: false,
            stop: None,
            done: false,
            misaligned: false,
            ends: vec![0; 2 * columns + 2],
        }
    }

    /// The first record is the header: skip it.
    pub fn skipping_header(mut self) -> Self {
        self.skip_header = true;
        self
    }

    /// Stop at the first row boundary at or past `stop` (offsets from the range start).
    pub fn stopping_at(mut self, stop: Boundary) -> Self {
        self.stop = Some(stop);
        self
    }

    /// The next batch; `None` once the range is read.
    pub fn next_batch(&mut self) -> Option<Result<RowBatch, RowError>> {
        if self.done {
            return None;
        }
        let mut batch = RowBatch {
            text: String::new(),
            ends: Vec::with_capacity(BATCH_ROWS * self.columns + 1),
            columns: self.columns,
        };
        batch.ends.push(0);
        // Sized once and filled through `len`: csv-core writes into an initialised slice.
        let mut data = vec![0u8; BATCH_ROWS * self.columns * 8];
        let mut len = 0;
        let first_row = self.rows + 1;
        while batch.ends.len() < BATCH_ROWS * self.columns + 1 && !self.done {
            match self.read_record(&mut data, &mut len) {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(None) => self.done = true,
                Ok(Some(fields)) => {
                    if self.skip_header {
                        self.skip_header = false;
                        len = 0;
                    } else {
                        self.rows += 1;
                        if fields != self.columns {
                            self.done = true;
                            return Some(Err(self.ragged(fields)));
                        }
                        // csv-core's ends count from the record's first byte.
                        let base = batch.ends.last().copied().unwrap_or(0);
                        batch
                            .ends
                            .extend(self.ends[..fields].iter().map(|e| e + base));
                    }
                    self.check_stop();
                }
            }
        }
        if batch.ends.len() == 1 {
            return None;
        }
        data.truncate(len);
        Some(validate_utf8(data, batch, first_row))
    }

    fn ragged(&self, fields: usize) -> RowError {
        RowError::Fields {
            row: self.rows,
            expected: self.columns,
            got: (fields < self.ends.len()).then_some(fields),
        }
    }

    /// After a row: past the boundary, stop, and say whether the boundary held.
    fn check_stop(&mut self) {
        if let Some(stop) = self.stop {
            if self.consumed > stop.breaks_at {
                self.done = true;
                // The row ended within the break before `next` (CRLF, blank lines):
                // the bytes up to `next` are line breaks a fresh reader skips.
                self.misaligned = self.consumed > stop.next;
            }
        }
    }

    /// Reads the next record itself when it is simple — every field unquoted without a
    /// quote, or quoted without a quote inside, and the record ends with a line break
    /// in the buffered input — which is most records, and cheaper than csv-core's
    /// general state machine (a quarter less decoding time on the benchmark). Anything
    /// else is left to csv-core (`None`), which parses it the same way from the same
    /// point: between records it is in a state equivalent to a fresh start.
    fn simple_record(&mut self, data: &mut [u8], len: &mut usize) -> Option<usize> {
        let input = self.input.fill_buf().ok()?;
        // A record starting with a line break is a blank line, which csv-core skips.
        if matches!(input.first(), Some(b'\n' | b'\r')) {
            return None;
        }
        // Output is never longer than input; a record that may not fit goes to csv-core,
        // which grows the buffer.
        let out = &mut data[*len..];
        let input = &input[..input.len().min(out.len())];
        let (mut at, mut written, mut fields) = (0, 0, 0);
        loop {
            // Bytes are copied one by one as they are scanned: fields are short, and a
            // copy call per field costs more than the loop.
            if *input.get(at)? == self.quote {
                at += 1;
                loop {
                    let b = *input.get(at)?;
                    at += 1;
                    if b == self.quote {
                        break;
                    }
                    out[written] = b;
                    written += 1;
                }
            } else {
                loop {
                    let b = *input.get(at)?;
                    if b == self.delimiter || b == b'\n' || b == b'\r' || b == self.quote {
                        break;
                    }
                    out[written] = b;
                    written += 1;
                    at += 1;
                }
            }
            *self.ends.get_mut(fields)? = written;
            fields += 1;
            match *input.get(at)? {
                b if b == self.delimiter => at += 1,
                b'\n' => break,
                b'\r' if input.get(at + 1) == Some(&b'\n') => {
                    at += 1;
                    break;
                }
                _ => return None,
            }
        }
        at += 1;
        self.input.consume(at);
        self.consumed += at as u64;
        *len += written;
        Some(fields)
    }

    /// Reads one record into `data[len..]`; its field count, or `None` at the end.
    fn read_record(
        &mut self,
        data: &mut Vec<u8>,
        len: &mut usize,
    ) -> Result<Option<usize>, RowError> {
        match self.simple_record(data, len) {
            Some(fields) => Ok(Some(fields)),
            None => self.csv_record(data, len),
        }
    }

    /// Reads one record with csv-core.
    fn csv_record(
        &mut self,
        data: &mut Vec<u8>,
        len: &mut usize,
    ) -> Result<Option<usize>, RowError> {
        let mut fields = 0;
        loop {
            let input = self
                .input
                .fill_buf()
                .map_err(|e| RowError::Io(e.to_string(), e.kind()))?;
            let (result, nin, nout, nend) =
                self.csv
                    .read_record(input, &mut data[*len..], &mut self.ends[fields..]);
            self.input.consume(nin);
            self.consumed += nin as u64;
            *len += nout;
            fields += nend;
            match result {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => data.resize(data.len() * 2, 0),
                csv_core::ReadRecordResult::OutputEndsFull => {
                    self.rows += 1;
                    return Err(self.ragged(usize::MAX));
                }
                csv_core::ReadRecordResult::Record => return Ok(Some(fields)),
                csv_core::ReadRecordResult::End => return Ok(None),
            }
        }
    }
}

/// The batch's text, once checked to be UTF-8 with every field boundary on a character
/// boundary (so slicing it can never fail).
fn validate_utf8(data: Vec<u8>, mut batch: RowBatch, first_row: u64) -> Result<RowBatch, RowError> {
    let columns = batch.columns;
    let at = |end_index: usize| RowError::Utf8 {
        row: first_row + (end_index / columns) as u64,
        column: end_index % columns,
    };
    match String::from_utf8(data) {
        Ok(text) => {
            if let Some(i) = batch.ends[1..]
                .iter()
                .position(|&e| !text.is_char_boundary(e))
            {
                return Err(at(i));
            }
            batch.text = text;
            Ok(batch)
        }
        Err(e) => {
            let bad = e.utf8_error().valid_up_to();
            // The first field that ends past the first invalid byte holds it.
            let i = batch.ends[1..].partition_point(|&end| end <= bad);
            Err(at(i.min(batch.ends.len() - 2)))
        }
    }
}

/// Byte ranges for `parts` readers of a plain file of `len` bytes: the start of each
/// range after the first, with the line break before it. Fewer ranges when the file
/// is small or has no line break near a split point.
pub fn split(path: &Path, len: u64, parts: usize) -> std::io::Result<Vec<Boundary>> {
    let mut file = std::fs::File::open(path)?;
    let mut out: Vec<Boundary> = Vec::new();
    for k in 1..parts {
        let nominal = len / parts as u64 * k as u64;
        if out.last().is_some_and(|b| b.next >= nominal) {
            continue;
        }
        if let Some(b) = break_after(&mut file, nominal)? {
            if b.next < len {
                out.push(b);
            }
        }
    }
    Ok(out)
}

/// Bytes searched for a line break after a split point; a longer line is not split.
const SEARCH: usize = 1 << 20;
const LOOK_BACK: usize = 256;

/// The first line break at or after `from`, whole (CR, LF, blank lines).
fn break_after(file: &mut std::fs::File, from: u64) -> std::io::Result<Option<Boundary>> {
    // From a little before `from`, so a break starting just before it is seen whole.
    let at = from.saturating_sub(LOOK_BACK as u64);
    file.seek(SeekFrom::Start(at))?;
    let mut window = Vec::with_capacity(SEARCH);
    file.take(SEARCH as u64).read_to_end(&mut window)?;
    let is_break = |b: &u8| *b == b'\n' || *b == b'\r';
    let skip = (from - at) as usize;
    let Some(lf) = window.iter().skip(skip).position(|&b| b == b'\n') else {
        return Ok(None);
    };
    let lf = lf + skip;
    let first = window[..lf]
        .iter()
        .rposition(|b| !is_break(b))
        .map_or(0, |i| i + 1);
    let Some(after) = window[lf..].iter().position(|b| !is_break(b)) else {
        return Ok(None);
    };
    Ok(Some(Boundary {
        breaks_at: at + first as u64,
        next: at + (lf + after) as u64,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(bytes: &[u8], stop: Option<Boundary>) -> (Vec<Vec<Option<String>>>, bool) {
        let mut r = RowReader::new(bytes, b',', b'"', 2);
        if let Some(s) = stop {
            r = r.stopping_at(s);
        }
        let mut out = Vec::new();
        while let Some(b) = r.next_batch() {
            let b = b.unwrap();
            for i in 0..b.num_rows() {
                out.push((0..2).map(|c| b.text(i, c).map(str::to_string)).collect());
            }
        }
        (out, r.misaligned)
    }

    #[test]
    fn decodes_quotes_crlf_and_empty_fields() {
        let (got, _) = rows(b"a,\"b,\"\"c\"\"\"\r\n,x\r\n\r\n\"multi\nline\",y", None);
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            got,
            vec![
                vec![s("a"), s("b,\"c\"")],
                vec![None, s("x")],
                vec![s("multi\nline"), s("y")]
            ]
        );
    }

    /// The fields of every record, read with or without the simple-record path. (Bytes
    /// consumed may differ by the LF of a CRLF, which the simple path takes with its
    /// record and csv-core with the next; a fresh reader skips it either way.)
    fn decoded(bytes: &[u8], simple: bool) -> Vec<Vec<Option<String>>> {
        let mut r = RowReader::new(std::io::BufReader::with_capacity(7, bytes), b',', b'"', 3);
        let mut out = Vec::new();
        loop {
            let mut data = vec![0u8; 4];
            let mut len = 0;
            let record = if simple {
                r.read_record(&mut data, &mut len)
            } else {
                r.csv_record(&mut data, &mut len)
            };
            match record {
                Ok(Some(fields)) => {
                    let text = String::from_utf8_lossy(&data[..len]).to_string();
                    let mut start = 0;
                    let row = r.ends[..fields]
                        .iter()
                        .map(|&e| {
                            let f = text.get(start..e).map(str::to_string);
                            start = e;
                            f
                        })
                        .collect();
                    out.push(row);
                }
                Ok(None) => return out,
                Err(e) => {
                    out.push(vec![Some(format!("{e:?}"))]);
                    return out;
                }
            }
        }
    }

    #[test]
    fn simple_records_parse_as_csv_core_does() {
        // Random strings over the tricky bytes and plain ones, up to 48 bytes.
        let alphabet = [b'a', b'b', b'a', b'c', b'a', b'd', b',', b'"', b'\n', b'\r'];
        let mut seed = 7u64;
        for i in 0..40_000 {
            let mut bytes = Vec::new();
            for _ in 0..12 + i % 37 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                bytes.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            assert_eq!(
                decoded(&bytes, true),
                decoded(&bytes, false),
                "{:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn skips_the_header_and_names_ragged_rows() {
        let mut r = RowReader::new(&b"h1,h2\n1,2\n3\n"[..], b',', b'"', 2).skipping_header();
        assert_eq!(
            r.next_batch().unwrap().unwrap_err(),
            RowError::Fields {
                row: 2,
                expected: 2,
                got: Some(1)
            }
        );
    }

    #[test]
    fn invalid_utf8_names_row_and_column() {
        let mut r = RowReader::new(&b"1,a\n2,b\xff\n"[..], b',', b'"', 2);
        assert_eq!(
            r.next_batch().unwrap().unwrap_err(),
            RowError::Utf8 { row: 2, column: 1 }
        );
        // A character split across two fields is caught too.
        let mut r = RowReader::new(&b"\xc3,\xa9\n"[..], b',', b'"', 2);
        assert!(matches!(r.next_batch(), Some(Err(RowError::Utf8 { .. }))));
    }

    #[test]
    fn a_range_stops_at_the_next_and_detects_a_quoted_break() {
        let data = b"1,a\r\n2,b\r\n3,c\r\n";
        let stop = Boundary {
            breaks_at: 8,
            next: 10,
        };
        let (got, misaligned) = rows(data, Some(stop));
        assert_eq!((got.len(), misaligned), (2, false));
        // The break at 5 is inside a quoted field: the row ends past 7.
        let data = b"\"a\r\n2\r\n\",b\r\n3,c\r\n";
        let (_, misaligned) = rows(
            data,
            Some(Boundary {
                breaks_at: 5,
                next: 7,
            }),
        );
        assert!(misaligned);
    }

    #[test]
    fn splits_after_whole_line_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        // The middle (byte 7) is in the break after `111`: CRLF then a blank line.
        std::fs::write(&path, b"h\r\n111\r\n\r\n222\r\n").unwrap();
        let b = split(&path, 15, 2).unwrap();
        assert_eq!(
            b,
            vec![Boundary {
                breaks_at: 6,
                next: 10
            }]
        );
    }
}
