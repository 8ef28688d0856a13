//! CSV rows decoded straight from bytes (simple records by a scan of 64-byte blocks, the
//! rest by csv-core, the parser under Arrow's CSV reader) into batches of field slices,
//! without building Arrow string arrays; and the split of a plain file into byte ranges
//! that several threads decode at once.
//!
//! A range other than the first starts right after a line break chosen by position,
//! which is only a row boundary if the break is not inside a quoted field. Whether it is
//! can only be known by parsing from the start of the file, so each range's reader
//! checks it for the next range: it parses on past its own end until a row ends, and
//! that row must end exactly at the next range's start (else `misaligned` is set), and
//! the caller reads the file again in one range.

/// Cells per batch: fewer than Arrow batches hold, so that a batch's text and field
/// ends stay in the core's cache while each column is read from them in turn (a wide
/// table's batch of 4096 rows did not: its columns were read at a cache miss a cell).
const BATCH_CELLS: usize = 16 * 1024;
/// Rows per batch at most (narrow tables).
pub const BATCH_ROWS: usize = 4096;

/// Rows per batch of `columns` fields.
pub(crate) fn batch_rows(columns: usize) -> usize {
    (BATCH_CELLS / columns.max(1)).clamp(64, BATCH_ROWS)
}
use super::reader::BATCH_BYTES;
use super::vocabulary::Buffered;
use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::Path;

/// A batch of rows: the records' bytes end to end (as read for simple records, unescaped
/// for the others), and where each field lies in them.
#[derive(Debug, Default)]
pub struct RowBatch {
    text: String,
    /// `columns` fields per row: start and end in `text` (a batch's text stays under
    /// 4 GiB: a batch ends once it passes [`BATCH_BYTES`]).
    spans: Vec<(u32, u32)>,
    columns: usize,
}

impl RowBatch {
    /// A batch read by another decoder (JSON Lines): `columns` spans per row into
    /// `text`, each on a character boundary, `(0, 0)` for a missing field.
    pub(crate) fn from_spans(text: String, spans: Vec<(u32, u32)>, columns: usize) -> RowBatch {
        RowBatch {
            text,
            spans,
            columns,
        }
    }

    pub fn num_rows(&self) -> usize {
        self.spans.len() / self.columns.max(1)
    }

    /// Rows in `bytes` of the file, estimated from this batch's bytes per row.
    pub fn rows_in(&self, bytes: u64) -> usize {
        let per_row = self.text.len().max(1) as f64 / self.num_rows().max(1) as f64;
        (bytes as f64 / per_row).ceil() as usize
    }

    pub fn columns(&self) -> usize {
        self.columns
    }

    /// The field at `row` and `column`; `None` when it is empty (missing, as Arrow's
    /// CSV reader has it).
    pub fn text(&self, row: usize, column: usize) -> Option<&str> {
        self.field(self.spans[row * self.columns + column])
    }

    /// The fields of `column`, row by row, as [`RowBatch::text`] gives them.
    pub fn column(&self, column: usize) -> impl Iterator<Item = Option<&str>> + '_ {
        self.spans_of(column).map(|&span| self.field(span))
    }

    /// [`RowBatch::column`] with each field in the batch's text (see [`Buffered`]).
    pub fn buffered_column(&self, column: usize) -> impl Iterator<Item = Option<Buffered<'_>>> {
        self.spans_of(column).map(|&span| {
            let text = self.field(span)?;
            Some(Buffered::new(
                text,
                &self.text.as_bytes()[span.0 as usize..],
            ))
        })
    }

    /// Where each row's field of `column` lies.
    fn spans_of(&self, column: usize) -> impl Iterator<Item = &(u32, u32)> {
        self.spans[column..].iter().step_by(self.columns.max(1))
    }

    fn field(&self, (start, end): (u32, u32)) -> Option<&str> {
        (end > start).then(|| &self.text[start as usize..end as usize])
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
    /// Rows per batch.
    batch_rows: usize,
    /// Bytes consumed, counted from the range's start.
    consumed: u64,
    rows: u64,
    skip_header: bool,
    /// `None`: read to the end of the input.
    stop: Option<Boundary>,
    done: bool,
    /// Set when reading stopped past `stop.next`: the next range did not start a row.
    pub misaligned: bool,
    /// csv-core's field ends of the record being read (room for more fields than
    /// expected, so a ragged row reports how many it had).
    ends: Vec<usize>,
    /// Whether csv-core read a record of the batch being read (see [`validate_utf8`]).
    unescaped: bool,
    /// The last batch's bytes of text: room for the next one's (rows longer than 8 bytes
    /// a field outgrew the first guess, and every batch grew its buffer again).
    room: usize,
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
            batch_rows: batch_rows(columns),
            consumed: 0,
            rows: 0,
            skip_header: false,
            stop: None,
            done: false,
            misaligned: false,
            ends: vec![0; 2 * columns + 2],
            unescaped: false,
            room: 0,
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
        let cells = self.batch_rows * self.columns;
        let mut spans = Vec::with_capacity(cells);
        // Records are appended, not copied into a zeroed buffer (zeroing a batch's room
        // was a tenth of the decoding thread's time).
        let mut data = Vec::with_capacity(self.room.max(cells * 8));
        let first_row = self.rows + 1;
        self.unescaped = false;
        // Whatever its cells, a batch ends once its text passes BATCH_BYTES.
        while spans.len() < cells && data.len() < BATCH_BYTES && !self.done {
            if !self.skip_header && self.simple_run(&mut data, &mut spans, cells) > 0 {
                self.check_stop();
                continue;
            }
            let mark = spans.len();
            match self.read_record(&mut data, &mut spans) {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(None) => self.done = true,
                Ok(Some(fields)) => {
                    if self.skip_header {
                        self.skip_header = false;
                        data.clear();
                        spans.clear();
                    } else {
                        self.rows += 1;
                        if fields != self.columns {
                            self.done = true;
                            return Some(Err(self.ragged(fields)));
                        }
                        debug_assert_eq!(spans.len(), mark + fields);
                    }
                    self.check_stop();
                }
            }
        }
        if spans.is_empty() {
            return None;
        }
        self.room = data.len();
        let batch = RowBatch {
            text: String::new(),
            spans,
            columns: self.columns,
        };
        Some(validate_utf8(data, batch, first_row, self.unescaped))
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

    /// Takes the simple records (see [`RowReader::simple_record`]) at the start of the
    /// buffered input that have the table's fields, as many as the batch and the range
    /// take: one scan across them, each block of 64 bytes searched once (a scan per
    /// record searched its first blocks again, two or three masks a record where one
    /// sufficed). The records taken; 0 when the next is csv-core's, ragged or not whole
    /// in the buffer, and [`RowReader::read_record`] reads it.
    fn simple_run(&mut self, data: &mut Vec<u8>, spans: &mut Vec<(u32, u32)>, cells: usize) -> u64 {
        let Ok(input) = self.input.fill_buf() else {
            return 0;
        };
        let records = (cells - spans.len()).div_ceil(self.columns) as u64;
        // As record by record: a batch ends after the record that passes BATCH_BYTES, a
        // range after the one that passes its break.
        let mut until = BATCH_BYTES - 1 - data.len();
        if let Some(stop) = self.stop {
            let left = stop.breaks_at.saturating_sub(self.consumed);
            until = until.min(usize::try_from(left).unwrap_or(usize::MAX));
        }
        let base = data.len() as u32;
        let mut specials = Specials::new(input, self.delimiter, self.quote);
        let (mut taken, mut n) = (0, 0);
        while n < records && taken <= until {
            let mark = spans.len();
            match simple_fields(input, &mut specials, taken, self.columns, base, spans) {
                Some((end, fields)) if fields == self.columns => {
                    taken = end;
                    n += 1;
                }
                _ => {
                    spans.truncate(mark);
                    break;
                }
            }
        }
        data.extend_from_slice(&input[..taken]);
        self.input.consume(taken);
        self.consumed += taken as u64;
        self.rows += n;
        n
    }

    /// Reads the next record itself when it is simple — every field unquoted without a
    /// quote, or quoted without a quote inside, and the record ends with a line break
    /// in the buffered input — which is most records: found by [`simple_fields`] and
    /// copied whole, cheaper than csv-core's general state machine. Anything else is
    /// left to csv-core (`None`), which parses it the same way from the same point:
    /// between records it is in a state equivalent to a fresh start.
    fn simple_record(&mut self, data: &mut Vec<u8>, spans: &mut Vec<(u32, u32)>) -> Option<usize> {
        let input = self.input.fill_buf().ok()?;
        let mark = spans.len();
        let mut specials = Specials::new(input, self.delimiter, self.quote);
        let base = data.len() as u32;
        let Some((taken, fields)) =
            simple_fields(input, &mut specials, 0, self.ends.len(), base, spans)
        else {
            spans.truncate(mark);
            return None;
        };
        data.extend_from_slice(&input[..taken]);
        self.input.consume(taken);
        self.consumed += taken as u64;
        Some(fields)
    }

    /// Reads one record into the end of `data` and its fields' spans into `spans`; its
    /// field count, or `None` at the end.
    fn read_record(
        &mut self,
        data: &mut Vec<u8>,
        spans: &mut Vec<(u32, u32)>,
    ) -> Result<Option<usize>, RowError> {
        if let Some(fields) = self.simple_record(data, spans) {
            return Ok(Some(fields));
        }
        let record = self.csv_record(data, spans)?;
        // Only a record csv-core wrote needs every field checked (see `validate_utf8`):
        // reaching the end writes none.
        self.unescaped |= record.is_some();
        Ok(record)
    }

    /// Reads one record with csv-core.
    fn csv_record(
        &mut self,
        data: &mut Vec<u8>,
        spans: &mut Vec<(u32, u32)>,
    ) -> Result<Option<usize>, RowError> {
        let base = data.len();
        let mut fields = 0;
        // csv-core writes into an initialised slice: room zeroed as the record needs it.
        let mut room = 256;
        loop {
            let input = self
                .input
                .fill_buf()
                .map_err(|e| RowError::Io(e.to_string(), e.kind()))?;
            let len = data.len();
            data.resize(len + room, 0);
            let (result, nin, nout, nend) =
                self.csv
                    .read_record(input, &mut data[len..], &mut self.ends[fields..]);
            data.truncate(len + nout);
            let at_cr = input[..nin].last() == Some(&b'\r');
            self.input.consume(nin);
            self.consumed += nin as u64;
            fields += nend;
            match result {
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => room *= 2,
                csv_core::ReadRecordResult::OutputEndsFull => {
                    self.rows += 1;
                    return Err(self.ragged(usize::MAX));
                }
                csv_core::ReadRecordResult::Record => {
                    if at_cr {
                        self.skip_lf()?;
                    }
                    break;
                }
                csv_core::ReadRecordResult::End => return Ok(None),
            }
        }
        if data.len() > u32::MAX as usize {
            return Err(RowError::Io(
                format!("row {} is longer than 2 GiB", self.rows + 1),
                std::io::ErrorKind::InvalidData,
            ));
        }
        // csv-core's ends count from the record's first byte.
        let mut start = base;
        spans.extend(self.ends[..fields].iter().map(|&end| {
            let span = (start as u32, (base + end) as u32);
            start = base + end;
            span
        }));
        Ok(Some(fields))
    }

    /// Takes the LF of a CRLF whose CR ended csv-core's record. csv-core leaves it for its
    /// next call, where the simple path saw a record starting with a line break and left
    /// it to csv-core too: once a CRLF record went to csv-core (one at the buffer's end
    /// will), so did every record after it, and a CRLF file decoded at a third of an LF
    /// file's speed. Skipped here, csv-core's next record starts as after a fresh start
    /// (after a CR it skips one LF, and otherwise reads the byte as a record's first).
    fn skip_lf(&mut self) -> Result<(), RowError> {
        let input = self
            .input
            .fill_buf()
            .map_err(|e| RowError::Io(e.to_string(), e.kind()))?;
        if input.first() == Some(&b'\n') {
            self.input.consume(1);
            self.consumed += 1;
        }
        Ok(())
    }
}

/// The fields of a simple record at `start` in `input` (see [`RowReader::simple_record`]),
/// whose special bytes `specials` gives from there on, as spans offset by `base`
/// appended to `spans`: where the record ends (past its line break) and its field count.
/// `None` when the record is not simple, not whole in `input`, or has more than
/// `max_fields`. Inlined, so that `specials` is held in registers, not memory.
#[inline(always)]
fn simple_fields(
    input: &[u8],
    specials: &mut Specials,
    start: usize,
    max_fields: usize,
    base: u32,
    spans: &mut Vec<(u32, u32)>,
) -> Option<(usize, usize)> {
    // A record starting with a line break is a blank line, which csv-core skips.
    if matches!(input.get(start), Some(b'\n' | b'\r')) {
        return None;
    }
    let (delimiter, quote) = (specials.delimiter, specials.quote);
    let (mut start, mut fields) = (start, 0);
    loop {
        let at = specials.next()?;
        let (span, after) = if input[at] == quote {
            if at != start {
                return None;
            }
            let close = loop {
                let q = specials.next()?;
                if input[q] == quote {
                    break q;
                }
            };
            // The closing quote ends the field: `""` (an escaped quote) or any other
            // byte after it is csv-core's to read.
            let after = specials.next()?;
            if after != close + 1 {
                return None;
            }
            ((at + 1, close), after)
        } else {
            ((start, at), at)
        };
        if fields == max_fields {
            return None;
        }
        spans.push((base + span.0 as u32, base + span.1 as u32));
        fields += 1;
        match input[after] {
            b if b == delimiter => start = after + 1,
            b'\n' => return Some((after + 1, fields)),
            b'\r' if input.get(after + 1) == Some(&b'\n') => {
                // The LF is the next special byte: passed, so that the next record's
                // scan starts at its first byte.
                specials.next();
                return Some((after + 2, fields));
            }
            _ => return None,
        }
    }
}

/// The positions of the bytes that end or quote fields (delimiter, quote, CR, LF), in
/// order: found 64 bytes at a time as a bit mask, instead of a branch per byte.
struct Specials<'i> {
    input: &'i [u8],
    delimiter: u8,
    quote: u8,
    /// The current block's first byte.
    block: usize,
    /// The current block's specials not returned yet.
    mask: u64,
}

impl<'i> Specials<'i> {
    fn new(input: &'i [u8], delimiter: u8, quote: u8) -> Self {
        let mut s = Specials {
            input,
            delimiter,
            quote,
            block: 0,
            mask: 0,
        };
        s.mask = s.mask_at(0);
        s
    }

    fn mask_at(&self, at: usize) -> u64 {
        let rest = &self.input[at.min(self.input.len())..];
        match rest.first_chunk::<64>() {
            Some(block) => self.mask_of(block),
            None => {
                let mut block = [0u8; 64];
                block[..rest.len()].copy_from_slice(rest);
                // Padding is no special byte, whatever the delimiter and quote.
                self.mask_of(&block) & ((1u64 << rest.len()) - 1)
            }
        }
    }

    /// Bit `i` set when byte `i` is special: eight bytes at a time in a word (SWAR),
    /// which every target runs without a branch per byte.
    fn mask_of(&self, block: &[u8; 64]) -> u64 {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        // The high bit of each byte of `word` equal to `byte` (exact: no carries).
        let equal = |word: u64, byte: u8| {
            let x = word ^ (ONES * u64::from(byte));
            !(((x & LOW) + LOW) | x) & !LOW
        };
        let (d, q) = (self.delimiter, self.quote);
        block
            .chunks_exact(8)
            .enumerate()
            .fold(0u64, |mask, (i, chunk)| {
                let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
                let high =
                    equal(word, d) | equal(word, q) | equal(word, b'\n') | equal(word, b'\r');
                // Gathers the eight high bits into one byte, byte 0's lowest.
                let bits = ((high >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
                mask | (bits << (8 * i))
            })
    }

    /// The next special byte's position; `None` past the input.
    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.block += 64;
            if self.block >= self.input.len() {
                return None;
            }
            self.mask = self.mask_at(self.block);
        }
        let at = self.block + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

/// The batch's text, once checked to be UTF-8 with every field boundary on a character
/// boundary (so slicing it can never fail). Records copied whole (`unescaped` false) need
/// only the first: each of their fields starts and ends next to an ASCII byte (the
/// delimiter, the quote, a line break) or at the text's start, and in valid UTF-8 that is
/// a character boundary. csv-core writes a record's fields end to end, so a character
/// split across two of them reads as whole: those batches check every field (a quarter
/// of the decoding thread's time when every batch did).
fn validate_utf8(
    data: Vec<u8>,
    mut batch: RowBatch,
    first_row: u64,
    unescaped: bool,
) -> Result<RowBatch, RowError> {
    let columns = batch.columns;
    let at = |field: usize| RowError::Utf8 {
        row: first_row + (field / columns) as u64,
        column: field % columns,
    };
    match String::from_utf8(data) {
        Ok(text) => {
            let boundary = |i: u32| text.is_char_boundary(i as usize);
            let split = |&(s, e): &(u32, u32)| !boundary(s) || !boundary(e);
            if let Some(i) = unescaped
                .then(|| batch.spans.iter().position(split))
                .flatten()
            {
                return Err(at(i));
            }
            batch.text = text;
            Ok(batch)
        }
        Err(e) => {
            let bad = e.utf8_error().valid_up_to() as u32;
            // The first field that ends past the first invalid byte holds it.
            let i = batch.spans.partition_point(|&(_, end)| end <= bad);
            Err(at(i.min(batch.spans.len() - 1)))
        }
    }
}

/// Byte ranges for `parts` readers of a plain file of `len` bytes: the start of each
/// range after the first, with the line break before it. Fewer ranges when the file
/// is small or has no line break near a split point. `records`: how the file's CSV
/// records are written, to start ranges on a line break that ends a record (see
/// [`Records`]); `None` for JSON Lines, where every line break does.
pub fn split(
    path: &Path,
    len: u64,
    parts: usize,
    records: Option<Records>,
) -> std::io::Result<Vec<Boundary>> {
    let mut file = std::fs::File::open(path)?;
    let mut out: Vec<Boundary> = Vec::new();
    for k in 1..parts {
        let nominal = len / parts as u64 * k as u64;
        if out.last().is_some_and(|b| b.next >= nominal) {
            continue;
        }
        if let Some(b) = break_after(&mut file, nominal, records)? {
            if b.next < len {
                out.push(b);
            }
        }
    }
    Ok(out)
}

/// How a CSV file's records are written. A line break inside a quoted field (free text
/// of several lines) is no row boundary, and a range started there made the whole file
/// be read again in one part (on text of several lines, about one split point in two,
/// see docs/benchmarks.md). Whether a break is inside quotes can only be known by
/// parsing from the start, but the records after a break outside quotes have the
/// table's number of fields, and those read from a break inside quotes (the rest of a
/// field read as a record) seldom do: a range starts at the first break after which
/// [`RECORDS_CHECKED`] records all have them. A wrong guess is still caught by the
/// reader before it (see [`RowReader::stopping_at`]).
#[derive(Debug, Clone, Copy)]
pub struct Records {
    pub delimiter: u8,
    pub quote: u8,
    pub columns: usize,
}

/// Records read after a line break to tell whether it ends a record.
const RECORDS_CHECKED: usize = 8;
/// Line breaks after a split point tried before taking the first one.
const BREAKS_TRIED: usize = 64;

impl Records {
    /// Whether the records `bytes` start with have the table's fields: all that end
    /// within `bytes`, up to [`RECORDS_CHECKED`], and at least one.
    fn start(&self, bytes: &[u8]) -> bool {
        use csv_core::ReadRecordResult as R;
        let mut csv = csv_core::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .quote(self.quote)
            .build();
        let (mut output, mut ends) = (vec![0u8; 4096], vec![0usize; self.columns + 1]);
        let (mut input, mut records, mut fields) = (bytes, 0, 0);
        while records < RECORDS_CHECKED {
            let (result, read, _, ended) = csv.read_record(input, &mut output, &mut ends);
            input = &input[read..];
            fields += ended;
            match result {
                // The field values are not needed: the buffers are reused.
                R::OutputFull => {}
                R::Record if fields == self.columns => (records, fields) = (records + 1, 0),
                R::Record | R::OutputEndsFull => return false,
                R::InputEmpty | R::End => break,
            }
        }
        records > 0
    }
}

/// Bytes searched for a line break after a split point; a longer line is not split.
const SEARCH: usize = 1 << 20;
const LOOK_BACK: usize = 256;

/// The first line break at or after `from` that ends a record of `records` (the first
/// line break if none of the first [`BREAKS_TRIED`] shows it does), whole (CR, LF,
/// blank lines).
fn break_after(
    file: &mut std::fs::File,
    from: u64,
    records: Option<Records>,
) -> std::io::Result<Option<Boundary>> {
    // From a little before `from`, so a break starting just before it is seen whole.
    let at = from.saturating_sub(LOOK_BACK as u64);
    file.seek(SeekFrom::Start(at))?;
    let mut window = Vec::with_capacity(SEARCH);
    file.take(SEARCH as u64).read_to_end(&mut window)?;
    let skip = (from - at) as usize;
    let breaks = memchr::memchr_iter(b'\n', &window[skip..])
        .filter_map(|lf| whole_break(&window, lf + skip))
        .take(BREAKS_TRIED);
    let mut first = None;
    for (starts, next) in breaks {
        let ends_a_record = records.is_none_or(|r| r.start(&window[next..]));
        let boundary = Boundary {
            breaks_at: at + starts as u64,
            next: at + next as u64,
        };
        if ends_a_record {
            return Ok(Some(boundary));
        }
        first.get_or_insert(boundary);
    }
    Ok(first)
}

/// The line break around the LF at `lf` in `window` (CR, LF, blank lines): where its
/// first byte is and where the next line starts; `None` if no line starts after it.
fn whole_break(window: &[u8], lf: usize) -> Option<(usize, usize)> {
    let is_break = |b: &u8| *b == b'\n' || *b == b'\r';
    let starts = window[..lf]
        .iter()
        .rposition(|b| !is_break(b))
        .map_or(0, |i| i + 1);
    let after = window[lf..].iter().position(|b| !is_break(b))?;
    Some((starts, lf + after))
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

    /// The fields of every record, read with or without the simple-record path, through
    /// a buffer of `buffer` bytes (a small one sends most records to csv-core).
    fn decoded(bytes: &[u8], simple: bool, buffer: usize) -> Vec<Vec<Option<String>>> {
        let input = std::io::BufReader::with_capacity(buffer, bytes);
        let mut r = RowReader::new(input, b',', b'"', 3);
        let mut out = Vec::new();
        loop {
            let (mut data, mut spans) = (Vec::new(), Vec::new());
            let record = if simple {
                r.read_record(&mut data, &mut spans)
            } else {
                r.csv_record(&mut data, &mut spans)
            };
            match record {
                Ok(Some(fields)) => {
                    assert_eq!(spans.len(), fields);
                    let text = String::from_utf8_lossy(&data).to_string();
                    let field = |(s, e): (u32, u32)| text.get(s as usize..e as usize);
                    out.push(
                        spans
                            .into_iter()
                            .map(|s| field(s).map(str::to_string))
                            .collect(),
                    );
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
        // Random strings over the tricky bytes and plain ones, up to 160 bytes: records
        // across the simple path's 64-byte blocks.
        let alphabet = [b'a', b'b', b'a', b'c', b'a', b'd', b',', b'"', b'\n', b'\r'];
        let mut seed = 7u64;
        for i in 0..40_000 {
            let mut bytes = Vec::new();
            for _ in 0..12 + i % 149 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                bytes.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            let csv_core = decoded(&bytes, false, 7);
            for buffer in [7, 4096] {
                assert_eq!(
                    decoded(&bytes, true, buffer),
                    csv_core,
                    "{:?}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }

    /// Random records of three fields, a few ragged or blank, each field plain, empty,
    /// quoted (with a delimiter, a line break, an escaped quote: csv-core's) or not ASCII.
    fn records(seed: &mut u64, n: usize, ragged: bool) -> Vec<u8> {
        let fields = [
            "ab",
            "",
            "a b",
            "\"q,x\"",
            "\"nl\nx\"",
            "\"e\"\"s\"",
            "é",
            "12.5",
        ];
        let mut next = |m: usize| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (*seed >> 33) as usize % m
        };
        let mut out = String::new();
        for _ in 0..n {
            let count = match next(200) {
                0 if ragged => 2,
                1 if ragged => 4,
                2 => {
                    out.push('\n');
                    3
                }
                _ => 3,
            };
            let row: Vec<&str> = (0..count).map(|_| fields[next(fields.len())]).collect();
            out.push_str(&row.join(","));
            out.push_str(if next(4) == 0 { "\r\n" } else { "\n" });
        }
        out.into_bytes()
    }

    #[test]
    fn batches_read_simple_records_in_runs_as_csv_core_reads_them() {
        let mut seed = 11u64;
        for (case, ragged) in (0..60).map(|case| (case, case % 3 == 0)) {
            let bytes = records(&mut seed, 1 + case * 150, ragged);
            // An empty field reads as missing from a batch.
            let want: Vec<Vec<Option<String>>> = decoded(&bytes, false, 7)
                .into_iter()
                .map(|r| r.into_iter().map(|f| f.filter(|f| !f.is_empty())).collect())
                .collect();
            // Rows up to the first ragged record, which is the error's row.
            let whole = want.iter().take_while(|r| r.len() == 3).count();
            for buffer in [16, 100, 1 << 20] {
                let input = std::io::BufReader::with_capacity(buffer, &bytes[..]);
                let mut r = RowReader::new(input, b',', b'"', 3);
                let (mut got, mut error) = (Vec::new(), None);
                while let Some(b) = r.next_batch() {
                    match b {
                        Ok(b) => got.extend((0..b.num_rows()).map(|i| {
                            (0..3)
                                .map(|c| b.text(i, c).map(str::to_string))
                                .collect::<Vec<_>>()
                        })),
                        Err(e) => error = Some(e),
                    }
                }
                // A ragged record fails its batch: the rows before the batch are read.
                let read = if whole < want.len() { got.len() } else { whole };
                assert_eq!(got, want[..read], "case {case}, buffer {buffer}");
                let ragged_row = (whole < want.len()).then(|| match error {
                    Some(RowError::Fields { row, .. }) => row,
                    other => panic!("case {case}: {other:?}"),
                });
                assert_eq!(ragged_row, (whole < want.len()).then_some(whole as u64 + 1));
            }
        }
    }

    #[test]
    fn records_after_a_crlf_record_read_by_csv_core_are_simple_again() {
        // The first record is csv-core's (an escaped quote); the next batch's are simple.
        let text: String = std::iter::once("\"a\"\"b\",x\r\n".to_string())
            .chain((0..5000).map(|i| format!("{i},y\r\n")))
            .collect();
        let mut r = RowReader::new(text.as_bytes(), b',', b'"', 2);
        let first = r.next_batch().unwrap().unwrap();
        assert_eq!(first.text(0, 0), Some("a\"b"));
        assert!(r.unescaped);
        let second = r.next_batch().unwrap().unwrap();
        assert_eq!(first.num_rows() + second.num_rows(), 5001);
        assert_eq!(second.text(0, 1), Some("y"));
        assert!(
            !r.unescaped,
            "a batch after csv-core's CRLF record went to csv-core"
        );
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
        // A character split across two fields is caught too, copied whole or written
        // end to end by csv-core (the second field's `""` is its to read).
        let mut r = RowReader::new(&b"\xc3,\xa9\n"[..], b',', b'"', 2);
        assert!(matches!(r.next_batch(), Some(Err(RowError::Utf8 { .. }))));
        let mut r = RowReader::new(&b"1,a\n\xc3,\"\xa9\"\"\"\n"[..], b',', b'"', 2);
        assert_eq!(
            r.next_batch().unwrap().unwrap_err(),
            RowError::Utf8 { row: 2, column: 0 }
        );
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
        let b = split(&path, 15, 2, None).unwrap();
        assert_eq!(
            b,
            vec![Boundary {
                breaks_at: 6,
                next: 10
            }]
        );
    }

    #[test]
    fn splits_start_ranges_on_records_not_inside_quoted_line_breaks() {
        use std::fmt::Write;
        // Every record holds a line break inside quotes: half the breaks are not row
        // boundaries.
        let mut text = String::from("id,note\n");
        for i in 0..3000 {
            writeln!(text, "{i},\"one, {i}\nand \"\"two\"\"\"").unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, &text).unwrap();
        let len = text.len() as u64;
        let starts_a_record = |b: &Boundary| {
            let rest = &text[b.next as usize..];
            rest.split(',')
                .next()
                .is_some_and(|id| id.parse::<u32>().is_ok())
        };
        let records = Records {
            delimiter: b',',
            quote: b'"',
            columns: 2,
        };
        let mut inside = 0;
        for parts in 2..=9 {
            let bounds = split(&path, len, parts, Some(records)).unwrap();
            assert_eq!(bounds.len(), parts - 1);
            assert!(
                bounds.iter().all(starts_a_record),
                "{parts} parts: {bounds:?}"
            );
            // Each range's reader ends where the next starts.
            let mut start = 0;
            for b in &bounds {
                let range = &text.as_bytes()[start as usize..];
                let mut r = RowReader::new(range, b',', b'"', 2).stopping_at(Boundary {
                    breaks_at: b.breaks_at - start,
                    next: b.next - start,
                });
                if start == 0 {
                    r = r.skipping_header();
                }
                while let Some(batch) = r.next_batch() {
                    batch.unwrap();
                }
                assert!(!r.misaligned, "{parts} parts: {b:?}");
                start = b.next;
            }
            // Without the check, the first line break is taken, inside quotes or not.
            let first_breaks = split(&path, len, parts, None).unwrap();
            inside += first_breaks.iter().filter(|b| !starts_a_record(b)).count();
        }
        assert!(inside > 0);
    }

    #[test]
    fn a_break_is_taken_when_no_records_show_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        // One field per record: the rest of a quoted field reads as a record too.
        std::fs::write(&path, b"h\n\"a\nb\"\n\"c\nd\"\n").unwrap();
        let records = Records {
            delimiter: b',',
            quote: b'"',
            columns: 1,
        };
        let b = split(&path, 14, 2, Some(records)).unwrap();
        assert_eq!(b, split(&path, 14, 2, None).unwrap());
        // Records of three fields where the table has two: the first break is taken.
        std::fs::write(&path, b"h,i\n1,2,3\n4,5,6\n7,8,9\n").unwrap();
        let records = Records {
            columns: 2,
            ..records
        };
        let b = split(&path, 24, 2, Some(records)).unwrap();
        assert_eq!(b, split(&path, 24, 2, None).unwrap());
    }

    #[test]
    fn batches_of_long_fields_end_past_their_bytes() {
        // 100 KB a record: by cells a batch would take all 120.
        let long = "w".repeat(100_000);
        let text: String = (0..120).map(|i| format!("{i},{long}\n")).collect();
        let mut r = RowReader::new(text.as_bytes(), b',', b'"', 2);
        let (mut rows, mut batches) = (0, 0);
        while let Some(b) = r.next_batch() {
            let b = b.unwrap();
            assert!(
                b.text.len() <= BATCH_BYTES + long.len() + 10,
                "{}",
                b.text.len()
            );
            rows += b.num_rows();
            batches += 1;
        }
        let per_batch = BATCH_BYTES.div_ceil(long.len() + 5);
        assert_eq!((rows, batches), (120, 120usize.div_ceil(per_batch)));
    }
}
