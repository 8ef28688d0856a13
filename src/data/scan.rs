//! The one pass over a data file: schema check, profile, duplicate rows and a sample of
//! bad rows, batch by batch as the reader decodes them on its own thread.

use super::bulk::{self, shown};
use super::frame::{Frame, FrameBuilder, Kind, Parsed};
use super::profile::{ColumnBuilder, Profile};
use super::reader::{self, joined, Batch, Format, ReadError, Table};
use super::rows::RowBatch;
use super::schema::{
    file_finding, header_findings, parse_number, Bulk, Cell, ColumnCheck, ColumnType, DataSchema,
    DuplicateRows, Example, Finding, SchemaCheck, MAX_EXAMPLES,
};
use super::sketch::{hash_bytes, hash_f64};
use super::vocabulary::Vocabulary;
use crate::error::Result;
use crate::train::parallel;
use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, BooleanArray, DictionaryArray, Float64Array, StringArray};
use arrow_schema::DataType;
use indexmap::IndexMap;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Keep up to this many exact values per numeric column (exact-mode drift); 0: none.
    pub keep_values: usize,
    /// Exact values kept over all the columns at most (see [`kept_per_column`]).
    pub keep_values_total: usize,
    /// Rows breaking a rule to keep whole, for the bad-rows sample.
    pub bad_rows: usize,
    /// Also build the file's [`Frame`] in the same pass, columns named here getting
    /// that kind (see [`Frame::read`]).
    pub frame: Option<HashMap<String, Kind>>,
    /// The most a part's Parquet reader holds of pages at once: a wider file is read a
    /// group of columns at a time (see [`reader::READER_BYTES`]).
    pub reader_bytes: u64,
    /// Threads to read on: the parts' own, then each part's columns dealt among the
    /// threads left (see [`read_dealt`]). Every core by default.
    pub threads: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            keep_values: 0,
            keep_values_total: KEEP_VALUES_TOTAL,
            bad_rows: 100,
            frame: None,
            reader_bytes: reader::READER_BYTES,
            threads: reader::cores(),
        }
    }
}

/// Exact values kept over all the numeric columns of a table at most (64 MiB): 100 000
/// a column on a table of 1000 columns peaked at 630–780 MB. A table of more than 83
/// numeric columns keeps fewer than 100 000 a column.
pub const KEEP_VALUES_TOTAL: usize = 8 << 20;

/// Exact values a numeric column keeps: `keep_values`, or fewer where the columns that
/// may hold numbers (declared numeric, or not declared) would together keep more than
/// `keep_values_total`. A column past it is compared by its sketches.
fn kept_per_column(options: &ScanOptions, names: &[String], schema: Option<&DataSchema>) -> usize {
    let numeric = names
        .iter()
        .filter(|n| {
            let rule = schema.and_then(|s| s.columns.get(*n));
            rule.is_none_or(|r| r.kind.kind() == Kind::Numeric)
        })
        .count();
    options
        .keep_values
        .min(options.keep_values_total / numeric.max(1))
}

/// Everything one pass learns about a file.
pub struct Scan {
    pub check: SchemaCheck,
    pub profile: Profile,
    /// Exact numeric values by column, where all were kept.
    pub values: HashMap<String, Vec<f64>>,
    pub bad_rows: BadRows,
    pub format: Format,
    /// The data, when [`ScanOptions::frame`] asked for it.
    pub frame: Option<Frame>,
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
    /// The batch's column as the bulk path parsed it, for the frame read in the same
    /// pass; `None` when the frame takes nothing parsed of this column.
    parsed: Option<Parsed>,
    /// The text values this part of the column has shown (see [`Vocabulary`]); `None`
    /// off the bulk path for text, and once they are mostly new.
    vocabulary: Option<Vocabulary>,
    /// What was learned of each entry of a Parquet dictionary (see [`bulk::Entries`]).
    entries: bulk::Entries,
}

pub fn scan(path: &Path, schema: Option<&DataSchema>, options: &ScanOptions) -> Result<Scan> {
    scan_in(
        path,
        schema,
        options,
        reader::cores(),
        reader::MIN_PART_BYTES,
    )
}

/// [`scan`] of a table already open in one part (a stream: see
/// [`reader::open_stream`]). One part needs no second look.
pub fn scan_table(
    table: Table,
    schema: Option<&DataSchema>,
    options: &ScanOptions,
) -> Result<Scan> {
    let source = table.source.clone();
    let again = || {
        Err(crate::Error::input(format!(
            "{source}: a stream is read once"
        )))
    };
    scan_parts(vec![table], schema, options, again)?
        .ok_or_else(|| crate::Error::input(format!("{source}: could not be read in one pass")))
}

/// [`scan`] in up to `parts` parts of at least `min_bytes`.
fn scan_in(
    path: &Path,
    schema: Option<&DataSchema>,
    options: &ScanOptions,
    parts: usize,
    min_bytes: u64,
) -> Result<Scan> {
    let csv = schema.map(|s| s.csv.clone()).unwrap_or_default();
    let parts = if schema.is_some_and(needs_one_part) {
        1
    } else {
        parts
    };
    // Row hashes and the frame need every column of a row at once.
    let whole_rows =
        options.frame.is_some() || schema.is_some_and(|s| s.duplicate_rows == DuplicateRows::Error);
    let pages = (!whole_rows).then_some(options.reader_bytes);
    let open = || reader::open_parts_of(path, &csv, parts, min_bytes, pages);
    if let Some(scan) = scan_parts(open()?, schema, options, open)? {
        return Ok(scan);
    }
    // The parts did not add up to one pass (a quoted line break at a split point), or
    // a later part's error needs its line counted from the start: read the file in one
    // part.
    tracing::debug!(
        "{}: its parts did not add up to one pass; reading it again in one part",
        path.display()
    );
    let one = || Ok(vec![reader::open(path, &csv)?]);
    scan_parts(one()?, schema, options, one)?.ok_or_else(|| {
        crate::Error::input(format!("{}: could not be read in one pass", path.display()))
    })
}

/// Uniqueness and duplicate rows need every earlier value: those files are read in one
/// part.
fn needs_one_part(schema: &DataSchema) -> bool {
    schema.duplicate_rows == DuplicateRows::Error || schema.columns.values().any(|c| c.unique)
}

/// Scans the parts of a file, each on a thread of its own, and merges them in order;
/// `None` when they cannot stand for one pass. `reopen` opens the same parts again, for
/// counts that need a second look (see [`recount`]).
fn scan_parts(
    tables: Vec<Table>,
    schema: Option<&DataSchema>,
    options: &ScanOptions,
    reopen: impl Fn() -> Result<Vec<Table>>,
) -> Result<Option<Scan>> {
    scan_parts_guessing(tables, schema, options, reopen, true)
}

/// [`scan_parts`]; `guess`: columns may stop keeping exact values on the first rows'
/// evidence (see [`Kept::guess`]).
fn scan_parts_guessing(
    tables: Vec<Table>,
    schema: Option<&DataSchema>,
    options: &ScanOptions,
    reopen: impl Fn() -> Result<Vec<Table>>,
    guess: bool,
) -> Result<Option<Scan>> {
    let first = &tables[0];
    let options = &ScanOptions {
        keep_values: kept_per_column(options, &first.names, schema),
        ..options.clone()
    };
    let mut findings = schema
        .map(|s| header_findings(&first.names, s))
        .unwrap_or_default();
    let typed = first.format == Format::Parquet;
    for (name, stored) in first.names.iter().zip(&first.types) {
        let rules = schema.and_then(|s| s.columns.get(name));
        if let Some(f) = rules
            .filter(|_| typed)
            .and_then(|r| storage_finding(name, stored, r.kind))
        {
            findings.push(f);
        }
    }
    // Threads left for dealing each part's columns among.
    let workers = (options.threads / tables.len()).max(1);
    let (source, format, names) = (first.source.clone(), first.format, first.names.clone());
    let kept: Vec<AtomicUsize> = first.names.iter().map(|_| AtomicUsize::new(0)).collect();
    let kept = Kept {
        limit: options.keep_values,
        by_column: &kept,
        // The first part makes room for the whole file.
        file_bytes: first
            .room_bytes
            .filter(|_| guess && options.keep_values > 0),
    };
    let named = Names::new(tables.len(), names.len());
    let part_count = tables.len();
    let read = |index, table: &Table| {
        let part = Part::new(table, schema, options, (index, part_count));
        read_part(table, part, workers, options.bad_rows, &kept, &named)
    };
    let Some(parts) = reader::read_parts(tables, read, |p| p.rows)? else {
        return Ok(None);
    };
    let mut parts = parts.into_iter().enumerate();
    let Some((_, mut part)) = parts.next() else {
        return Ok(None);
    };
    for (i, next) in parts {
        part.merge(next, options.bad_rows, i);
    }
    if part.columns.iter().any(|c| c.profile.stopped_too_soon()) {
        tracing::debug!("{source}: a column has fewer numbers than its first rows suggested; reading the file again to keep them");
        return scan_parts_guessing(reopen()?, schema, options, reopen, false);
    }
    if !part.recount.is_empty() {
        recount(&mut part, reopen()?)?;
    }
    Ok(Some(part.finish(source, format, &names, schema, findings)))
}

/// A part that ran past the cap of values counted by name put every value it had not
/// named in `other`, among them values that earlier parts named: one pass would have
/// counted those by name. Reads those parts again (each on its own thread, only the
/// columns concerned, nothing checked) and counts those values, so the merged counts
/// are one pass's. Cheaper than reading the file again in one part: files with an
/// identifier or timestamp stored as text have such a column in every part.
fn recount(part: &mut Part, tables: Vec<Table>) -> Result<()> {
    let wanted = std::mem::take(&mut part.recount);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = tables
            .into_iter()
            .enumerate()
            .filter_map(|(i, table)| {
                let jobs: Vec<(usize, &[String])> = wanted
                    .iter()
                    .filter(|w| w.0 == i)
                    .map(|w| (w.1, w.2.as_slice()))
                    .collect();
                (!jobs.is_empty()).then(|| s.spawn(move || count_named(&table, &jobs)))
            })
            .collect();
        handles.into_iter().map(joined).collect()
    });
    for result in results {
        for (column, found) in result.map_err(|e| e.into_error(0))? {
            part.columns[column].profile.recounted(found);
        }
    }
    Ok(())
}

/// Per (column, values) job: the column and each value's count in `table`.
type Recounted = Vec<(usize, Vec<(String, u64)>)>;

fn count_named(
    table: &Table,
    jobs: &[(usize, &[String])],
) -> std::result::Result<Recounted, ReadError> {
    let mut counts: Vec<HashMap<&str, u64, foldhash::fast::FixedState>> = jobs
        .iter()
        .map(|(_, values)| values.iter().map(|v| (v.as_str(), 0)).collect())
        .collect();
    while let Some(batch) = table.next_batch() {
        let batch = batch?;
        for (&(column, _), counts) in jobs.iter().zip(&mut counts) {
            // As the profile counts them: present text values, trimmed.
            let mut add = |value: Option<&str>| {
                if let Some(Cell::Text(t)) = value.map(Cell::of_text) {
                    if let Some(c) = counts.get_mut(t) {
                        *c += 1;
                    }
                }
            };
            match &batch {
                Batch::Rows(rows) => rows.column(column).for_each(&mut add),
                Batch::Arrow(b) => count_cells(b.column(column), &mut add),
                Batch::Columns(first, b) => {
                    if let Some(array) = column.checked_sub(*first).and_then(|c| b.columns().get(c))
                    {
                        count_cells(array, &mut add);
                    }
                }
            }
        }
    }
    Ok(jobs
        .iter()
        .zip(counts)
        .map(|(&(column, _), counts)| {
            let found = counts
                .into_iter()
                .map(|(v, c)| (v.to_string(), c))
                .collect();
            (column, found)
        })
        .collect())
}

/// [`count_named`]'s count of an Arrow column's text values.
fn count_cells(array: &ArrayRef, add: &mut impl FnMut(Option<&str>)) {
    match as_cells(array) {
        Cells::Text(strings) => strings.iter().for_each(add),
        Cells::Booleans(b) => shown(&b).for_each(add),
        _ => {}
    }
}

/// What one part of a file taught: its rows are numbered from 1.
struct Part<'a> {
    columns: Vec<ColumnState<'a>>,
    duplicates: Option<Duplicates>,
    bad_rows: BadRows,
    rows: u64,
    /// The part's place in the file.
    index: usize,
    frame: Option<FrameBuilder>,
    /// Named values to count again in a later part: part index, column, values.
    recount: Vec<(usize, usize, Vec<String>)>,
}

impl<'a> Part<'a> {
    /// The file's part `index` of `parts`.
    fn new(
        table: &Table,
        schema: Option<&'a DataSchema>,
        options: &ScanOptions,
        (index, parts): (usize, usize),
    ) -> Self {
        let frame = options
            .frame
            .as_ref()
            .map(|kinds| FrameBuilder::new(table, kinds));
        let columns = table
            .names
            .iter()
            .zip(&table.types)
            .enumerate()
            .map(|(c, (name, stored))| {
                let rules = schema.and_then(|s| s.columns.get_key_value(name));
                let mut profile =
                    ColumnBuilder::new(rules.map(|r| r.1.kind), options.keep_values).part_of(parts);
                // Exact values are kept only when all of them fit under the limit: a file
                // whose metadata counts more keeps none from the start.
                if table.present.get(c).copied().flatten() > Some(options.keep_values as u64) {
                    profile.stop_keeping();
                }
                let check = rules.map(|(name, r)| ColumnCheck::new(name, r));
                // Only the bulk path for text looks values up.
                let vocabulary = check
                    .as_ref()
                    .and_then(ColumnCheck::bulk)
                    .filter(|b| matches!(b, Bulk::Texts))
                    .map(|_| Vocabulary::default());
                ColumnState {
                    check,
                    profile: if index > 0 {
                        profile.later_part()
                    } else {
                        profile
                    },
                    declared: rules.map(|r| r.1.kind),
                    readable: readable(stored),
                    parsed: frame
                        .as_ref()
                        .filter(|f| f.takes_parsed(c))
                        .map(|_| Parsed::Nothing),
                    vocabulary,
                    entries: Default::default(),
                }
            })
            .collect();
        Part {
            columns,
            duplicates: schema
                .filter(|s| s.duplicate_rows == DuplicateRows::Error)
                .map(|_| Duplicates::default()),
            bad_rows: BadRows {
                header: table.names.clone(),
                rows: Vec::new(),
            },
            rows: 0,
            index,
            frame,
            recount: Vec::new(),
        }
    }

    /// Takes in a batch once its columns are fed: its rows that broke a rule (sampled,
    /// or marked in a pass), its duplicate rows and its rows of the frame.
    fn take_batch(
        &mut self,
        source: &str,
        batch: &Batch,
        at: At,
        fed: Fed<'a>,
        marked: &mut BTreeMap<u64, Vec<&'a str>>,
        cap: usize,
    ) -> std::result::Result<(), ReadError> {
        let mut bad: Vec<(usize, &'a str)> = fed.bad.into_iter().flat_map(|b| b.1).collect();
        if let (Some(d), Some(h)) = (self.duplicates.as_mut(), fed.hashes) {
            for (i, hash) in h.into_iter().enumerate() {
                if d.add(self.rows + 1 + i as u64, hash) {
                    bad.push((i, "duplicate_rows"));
                }
            }
        }
        match batch {
            Batch::Columns(..) => mark_bad_rows(at.before, &mut bad, marked, cap),
            _ => sample_bad_rows(batch, self.rows, &mut bad, &mut self.bad_rows, cap),
        }
        if let Some(frame) = &mut self.frame {
            let columns = fed.parsed.iter().map(|p| p.0 + 1).max().unwrap_or(0);
            let mut parsed: Vec<Option<Parsed>> = (0..columns).map(|_| None).collect();
            for (c, p) in fed.parsed {
                parsed[c] = Some(p);
            }
            frame.push(source, batch, |c| parsed.get(c).and_then(Option::as_ref))?;
        }
        if at.start == 0 {
            self.rows += at.rows as u64;
        }
        Ok(())
    }

    /// Folds in the part that follows this one, the file's part `index`. Columns are
    /// independent: merged on all threads (a thousand columns' sketches took a tenth of
    /// the scan on one).
    fn merge(&mut self, next: Part<'a>, cap: usize, index: usize) {
        let rows = self.rows;
        let pairs: Vec<_> = self.columns.iter_mut().zip(next.columns).collect();
        let missed = parallel::map_owned(pairs, parallel::threads(), |(state, next)| {
            if let (Some(check), Some(other)) = (&mut state.check, next.check) {
                check.merge(other, rows);
            }
            state.profile.merge(next.profile)
        });
        for (column, missed) in missed.into_iter().enumerate() {
            if !missed.is_empty() {
                self.recount.push((index, column, missed));
            }
        }
        if let (Some(frame), Some(next)) = (&mut self.frame, next.frame) {
            frame.append(next);
        }
        let room = cap.saturating_sub(self.bad_rows.rows.len());
        let rows_before = self.rows;
        self.bad_rows.rows.extend(
            next.bad_rows
                .rows
                .into_iter()
                .take(room)
                .map(|(row, why, values)| (row + rows_before, why, values)),
        );
        self.rows += next.rows;
    }

    fn finish(
        self,
        source: String,
        format: Format,
        names: &[String],
        schema: Option<&DataSchema>,
        mut findings: Vec<Finding>,
    ) -> Scan {
        let rows = self.rows;
        findings.extend(rows_findings(rows, schema));
        let mut values = HashMap::new();
        let mut profiles = IndexMap::new();
        // On all threads, as the parts were merged.
        let finished = parallel::map_owned(self.columns, parallel::threads(), |state| {
            let found = state.check.map(|check| check.findings(rows));
            let mut builder = state.profile;
            (found, builder.take_values(), builder.finish())
        });
        for (name, (found, kept, profile)) in names.iter().zip(finished) {
            findings.extend(found.into_iter().flatten());
            if let Some(v) = kept {
                values.insert(name.clone(), v);
            }
            profiles.insert(name.clone(), profile);
        }
        if let Some(d) = self.duplicates.filter(|d| d.count > 0) {
            findings.push(d.finding());
        }
        let frame = self.frame.map(|f| f.finish(&source, names));
        Scan {
            check: SchemaCheck {
                file: source.clone(),
                rows,
                columns: names.to_vec(),
                findings,
            },
            profile: Profile::new(source, rows, profiles),
            values,
            bad_rows: self.bad_rows,
            format,
            frame,
        }
    }
}

/// One column of a batch.
#[derive(Clone, Copy)]
enum Source<'b> {
    Arrow(&'b ArrayRef),
    Rows(&'b RowBatch, usize),
}

/// Reads a part to its end. With more than one worker, the part's columns are dealt
/// among that many threads (see [`read_dealt`]).
fn read_part<'a>(
    table: &Table,
    mut part: Part<'a>,
    workers: usize,
    cap: usize,
    kept: &Kept,
    names: &Names,
) -> std::result::Result<Part<'a>, ReadError> {
    let share = Share {
        kept,
        names,
        part: part.index,
        hashes: part.duplicates.is_some(),
    };
    let mut reading = Reading {
        counted: vec![0; part.columns.len()],
        ..Reading::default()
    };
    // The first batch is read here whatever the workers, each column timed: the times
    // deal the columns to the workers.
    let mut times = Vec::new();
    let mut first = true;
    while let Some(batch) = table.next_batch() {
        let batch = batch?;
        let at = reading.places.place(&batch);
        let columns = part.columns.iter_mut().zip(&mut reading.counted);
        let columns = columns.enumerate().map(|(c, (state, n))| (c, state, n));
        let fed = feed_columns(columns, &batch, at, share, first.then_some(&mut times));
        part.take_batch(&table.source, &batch, at, fed, &mut reading.marked, cap)?;
        if std::mem::take(&mut first) && workers > 1 && part.columns.len() > 1 {
            let dealt = deal(&times, part.columns.len(), workers);
            read_dealt(table, &mut part, &mut reading, dealt, share, cap)?;
        }
    }
    for (c, state) in part.columns.iter_mut().enumerate() {
        names.share(part.index, c, state, true);
    }
    if let (Some(revisit), false) = (&table.revisit, reading.marked.is_empty()) {
        let rows: Vec<u64> = reading.marked.keys().copied().collect();
        let values = revisit(&rows)?;
        part.bad_rows.rows = reading
            .marked
            .into_iter()
            .zip(values)
            .map(|((row, why), values)| (row + 1, why.join(" "), values))
            .collect();
    }
    Ok(part)
}

/// Batches in flight between [`read_dealt`]'s reader and its workers at most.
const IN_FLIGHT: usize = 4;

/// Reads the rest of a part with each of `dealt`'s column sets on a thread of its own,
/// every thread taking every batch in turn: a part read alone (a stream, a gzipped or
/// small file, a schema that needs one pass) uses every core, and no thread waits for
/// the others at each batch. Spawning threads for a batch's columns and joining them
/// at each batch kept 1.2 of 2 cores busy on a plain CSV read in one part.
fn read_dealt<'a>(
    table: &Table,
    part: &mut Part<'a>,
    reading: &mut Reading<'a>,
    dealt: Vec<Vec<usize>>,
    share: Share,
    cap: usize,
) -> std::result::Result<(), ReadError> {
    // The workers hold the columns; the part keeps what it takes in batch by batch.
    let mut states = std::mem::take(&mut part.columns);
    let mut columns: Vec<_> = states
        .iter_mut()
        .zip(&mut reading.counted)
        .map(Some)
        .collect();
    let sets: Vec<Vec<_>> = dealt
        .iter()
        .map(|set| {
            set.iter()
                .filter_map(|&c| columns[c].take().map(|(s, n)| (c, s, n)))
                .collect()
        })
        .collect();
    let marked = &mut reading.marked;
    let places = &mut reading.places;
    let read = std::thread::scope(|s| {
        let mut jobs = Vec::new();
        let mut results = Vec::new();
        let mut handles = Vec::new();
        for mut set in sets {
            let (job_tx, job_rx) = std::sync::mpsc::sync_channel::<(Arc<Batch>, At)>(IN_FLIGHT);
            let (fed_tx, fed_rx) = std::sync::mpsc::channel();
            handles.push(s.spawn(move || {
                for (batch, at) in job_rx {
                    let columns = set.iter_mut().map(|(c, s, n)| (*c, &mut **s, &mut **n));
                    if fed_tx
                        .send(feed_columns(columns, &batch, at, share, None))
                        .is_err()
                    {
                        return;
                    }
                }
            }));
            jobs.push(job_tx);
            results.push(fed_rx);
        }
        let read = (|| {
            let mut pending: VecDeque<(Arc<Batch>, At)> = VecDeque::new();
            let mut next = table.next_batch();
            loop {
                // The oldest batch is taken in once every worker has fed it; the reader
                // stays up to IN_FLIGHT batches ahead.
                if next.is_none() || pending.len() >= IN_FLIGHT {
                    let Some((batch, at)) = pending.pop_front() else {
                        return Ok(());
                    };
                    let Some(fed) = results
                        .iter()
                        .map(|r| r.recv().ok())
                        .collect::<Option<Vec<_>>>()
                    else {
                        // A worker stopped: its panic is resumed below.
                        return Ok(());
                    };
                    part.take_batch(&table.source, &batch, at, Fed::merged(fed), marked, cap)?;
                    continue;
                }
                if let Some(batch) = next.take() {
                    let batch = Arc::new(batch?);
                    let at = places.place(&batch);
                    for job in &jobs {
                        let _ = job.send((batch.clone(), at));
                    }
                    pending.push_back((batch, at));
                    next = table.next_batch();
                }
            }
        })();
        drop(jobs);
        handles.into_iter().for_each(joined);
        read
    });
    part.columns = states;
    read
}

/// Where a batch falls in its part.
#[derive(Debug, Clone, Copy)]
struct At {
    /// Its first column: a pass over a wide Parquet part holds some of them.
    start: usize,
    rows: usize,
    /// The pass's rows before it.
    before: u64,
}

impl At {
    fn first_row(&self) -> u64 {
        self.before + 1
    }
}

/// A part's reading, batch after batch.
#[derive(Default)]
struct Reading<'a> {
    places: Places,
    /// Rows of a pass that broke a rule, and why (see [`mark_bad_rows`]).
    marked: BTreeMap<u64, Vec<&'a str>>,
    /// The exact values each column had kept when last counted (see [`Kept::count`]).
    counted: Vec<usize>,
}

/// Where the batches fall: the pass being read (by its first column) and its rows so far.
#[derive(Default)]
struct Places {
    pass: usize,
    pass_rows: u64,
}

impl Places {
    fn place(&mut self, batch: &Batch) -> At {
        let start = match batch {
            Batch::Columns(start, _) => *start,
            _ => 0,
        };
        if start != self.pass {
            (self.pass, self.pass_rows) = (start, 0);
        }
        let at = At {
            start,
            rows: batch.num_rows(),
            before: self.pass_rows,
        };
        self.pass_rows += at.rows as u64;
        at
    }
}

/// What the columns of a part share as they are read.
#[derive(Clone, Copy)]
struct Share<'s> {
    kept: &'s Kept<'s>,
    names: &'s Names,
    /// The part's place in the file.
    part: usize,
    /// Whether rows are hashed (duplicate rows).
    hashes: bool,
}

/// What feeding columns a batch gave.
#[derive(Default)]
struct Fed<'a> {
    /// The rows that broke a rule (index in the batch, why), by column.
    bad: Vec<(usize, Vec<(usize, &'a str)>)>,
    /// Each row's hash over the columns fed, where rows are hashed.
    hashes: Option<Vec<u64>>,
    /// What the bulk path parsed for the frame, by column.
    parsed: Vec<(usize, Parsed)>,
}

impl<'a> Fed<'a> {
    /// The workers' feeds of one batch as one, by column as one thread gives them.
    fn merged(feds: Vec<Fed<'a>>) -> Fed<'a> {
        let mut all = Fed::default();
        for fed in feds {
            all.bad.extend(fed.bad);
            all.parsed.extend(fed.parsed);
            all.hashes = match (all.hashes, fed.hashes) {
                (Some(mut a), Some(h)) => {
                    a.iter_mut().zip(h).for_each(|(a, x)| *a ^= x);
                    Some(a)
                }
                (a, h) => a.or(h),
            };
        }
        all.bad.sort_by_key(|b| b.0);
        all
    }
}

/// Feeds `columns` (each with its number and the exact values it had kept when last
/// counted) the batch at `at`, each column's own bookkeeping right after it. `first`:
/// given for the part's first batch, where exact values may stop on its evidence (see
/// [`Kept::guess`]), and where to note how long each column took.
fn feed_columns<'a, 'c>(
    columns: impl Iterator<Item = (usize, &'c mut ColumnState<'a>, &'c mut usize)>,
    batch: &Batch,
    at: At,
    share: Share,
    mut first: Option<&mut Vec<(usize, Duration)>>,
) -> Fed<'a>
where
    'a: 'c,
{
    let mut fed = Fed {
        hashes: share.hashes.then(|| vec![0; at.rows]),
        ..Fed::default()
    };
    for (c, state, counted) in columns {
        let Some(source) = source_of(batch, at.start, c) else {
            continue;
        };
        let started = first.is_some().then(Instant::now);
        let mut bad = Vec::new();
        feed(
            state,
            source,
            at.first_row(),
            c,
            fed.hashes.as_deref_mut(),
            &mut bad,
        );
        if let Some(parsed) = &mut state.parsed {
            fed.parsed.push((c, std::mem::take(parsed)));
        }
        if !bad.is_empty() {
            fed.bad.push((c, bad));
        }
        if first.is_some() {
            share.kept.guess(batch, state);
        }
        share.kept.count(state, c, counted);
        share.names.share(share.part, c, state, false);
        if let (Some(times), Some(started)) = (first.as_deref_mut(), started) {
            times.push((c, started.elapsed()));
        }
    }
    fed
}

/// Column `c` of a batch whose first column is `start`, if it holds it.
fn source_of(batch: &Batch, start: usize, c: usize) -> Option<Source<'_>> {
    match batch {
        Batch::Arrow(b) => b.columns().get(c).map(Source::Arrow),
        Batch::Columns(_, b) => c
            .checked_sub(start)
            .and_then(|i| b.columns().get(i))
            .map(Source::Arrow),
        Batch::Rows(r) => (c < r.columns()).then_some(Source::Rows(r, c)),
    }
}

/// Deals `columns` to `workers` sets of about the same time by `times` (the first
/// batch's): the longest first, each to the set with the least so far. A column the
/// first batch did not hold (a later pass's) counts as the mean.
fn deal(times: &[(usize, Duration)], columns: usize, workers: usize) -> Vec<Vec<usize>> {
    let mut cost = vec![None; columns];
    for &(c, t) in times {
        cost[c] = Some(t.as_nanos());
    }
    let timed: Vec<u128> = cost.iter().flatten().copied().collect();
    let mean = timed.iter().sum::<u128>() / timed.len().max(1) as u128;
    let mut order: Vec<(u128, usize)> = cost
        .iter()
        .enumerate()
        .map(|(c, t)| (t.unwrap_or(mean), c))
        .collect();
    order.sort_unstable_by(|a, b| b.cmp(a));
    let workers = workers.clamp(1, columns.max(1));
    let (mut sets, mut load) = (vec![Vec::new(); workers], vec![0u128; workers]);
    for (t, c) in order {
        let w = (0..workers).min_by_key(|&w| load[w]).unwrap_or(0);
        load[w] += t;
        sets[w].push(c);
    }
    // Each set in column order: a batch of rows is read column by column.
    sets.iter_mut().for_each(|set| set.sort_unstable());
    sets
}

/// Notes the rows of a batch of a pass (`before`: the pass's rows before it) that broke
/// a rule, and why, keeping the first `cap` rows: those a pass of whole rows would keep.
/// Passes come in column order, so a row's reasons come in it too.
fn mark_bad_rows<'a>(
    before: u64,
    bad: &mut [(usize, &'a str)],
    marked: &mut BTreeMap<u64, Vec<&'a str>>,
    cap: usize,
) {
    bad.sort_by_key(|b| b.0);
    for &(i, why) in bad.iter() {
        marked.entry(before + i as u64).or_default().push(why);
    }
    while marked.len() > cap {
        marked.pop_last();
    }
}

/// The values each part of a file named per column, published once final, so that a
/// later part counts the values earlier parts named as it reads them, instead of
/// reading its part again after the merge (see the profile's `Overflow`).
struct Names {
    /// By part, then column.
    parts: Vec<Vec<OnceLock<Vec<String>>>>,
}

impl Names {
    fn new(parts: usize, columns: usize) -> Self {
        Names {
            parts: (0..parts)
                .map(|_| (0..columns).map(|_| OnceLock::new()).collect())
                .collect(),
        }
    }

    /// Publishes the final names of the part's column `c`, and hands it the earlier
    /// parts' if it waits for them; `done`: the part is read.
    fn share(&self, part: usize, c: usize, state: &mut ColumnState, done: bool) {
        let mine = &self.parts[part][c];
        if mine.get().is_none() {
            if let Some(names) = state.profile.final_names(done) {
                let _ = mine.set(names);
            }
        }
        if state.profile.awaits_names() {
            let earlier: Option<Vec<&[String]>> = self.parts[..part]
                .iter()
                .map(|p| p[c].get().map(Vec::as_slice))
                .collect();
            if let Some(earlier) = earlier {
                state.profile.earlier_names(earlier);
            }
        }
    }
}

/// Exact values kept by every part of a file, per column. A column's values are used
/// only when all of them, across the parts, fit under the limit: once the parts
/// together have kept more, none keeps any longer. Without this each part kept up to
/// the limit, which on a wide table is hundreds of MiB that are then thrown away.
struct Kept<'a> {
    limit: usize,
    by_column: &'a [AtomicUsize],
    /// The whole file's size, where the first batch of a part may guess.
    file_bytes: Option<u64>,
}

impl Kept<'_> {
    /// Stops keeping, after a part's first batch, in the columns whose numbers there
    /// put the whole file at over twice the limit. Counting up to the limit first
    /// kept, grew and dropped up to the limit's worth of values per column (96 MiB on
    /// a wide table of 121 columns). A wrong guess shows in the merged profile (see
    /// [`ColumnBuilder::stopped_too_soon`]), and the file is then read again.
    fn guess(&self, batch: &Batch, state: &mut ColumnState) {
        let (Some(bytes), Batch::Rows(first)) = (self.file_bytes, batch) else {
            return;
        };
        let (rows, n) = (first.rows_in(bytes) as f64, first.num_rows().max(1) as f64);
        if let Some(kept) = state.profile.kept() {
            if kept as f64 / n * rows > 2.0 * self.limit as f64 {
                state.profile.stop_keeping_on_guess();
            }
        }
    }

    /// Adds what a part's column kept since the last call (`counted`: how many it had
    /// then) and stops it past the limit.
    fn count(&self, state: &mut ColumnState, c: usize, counted: &mut usize) {
        let Some(now) = state.profile.kept() else {
            return;
        };
        let total = &self.by_column[c];
        let all = total.fetch_add(now - *counted, Ordering::Relaxed) + now - *counted;
        *counted = now;
        if all > self.limit {
            state.profile.stop_keeping();
        }
    }
}

/// Feeds one column of a batch; `first` is the row number of its first row.
fn feed<'a>(
    state: &mut ColumnState<'a>,
    source: Source,
    first: u64,
    index: usize,
    mut hashes: Option<&mut [u64]>,
    bad: &mut Vec<(usize, &'a str)>,
) {
    if let Some(parsed) = &mut state.parsed {
        *parsed = Parsed::Nothing;
    }
    if !state.readable {
        return;
    }
    // Row hashes for duplicate rows need every cell: only the per-cell path gives them.
    if hashes.is_none() && feed_bulk(state, source, first, bad) {
        return;
    }
    let name: &'a str = state.check.as_ref().map_or("", ColumnCheck::name);
    let mut visit = |i: usize, cell: Cell, number: Option<f64>, state: &mut ColumnState<'a>| {
        match cell {
            Cell::Null => state.profile.nulls(1),
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
    let array = match source {
        Source::Rows(rows, c) => {
            return feed_texts(state, rows.column(c), &mut visit);
        }
        Source::Arrow(array) => array,
    };
    match as_cells(array) {
        Cells::Text(strings) => feed_texts(state, strings.iter(), &mut visit),
        Cells::Booleans(b) => feed_texts(state, shown(&b), &mut visit),
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

/// Feeds one column of a batch through a bulk path; false when its checks allow none.
fn feed_bulk<'a>(
    state: &mut ColumnState<'a>,
    source: Source,
    first: u64,
    bad: &mut Vec<(usize, &'a str)>,
) -> bool {
    let (Some(check), Some(kind)) = (&mut state.check, state.declared) else {
        return false;
    };
    let Some(rule) = check.bulk() else {
        return false;
    };
    let f = bulk::Feed {
        check,
        profile: &mut state.profile,
        first,
        bad,
        parsed: state.parsed.as_mut(),
    };
    let vocabulary = &mut state.vocabulary;
    if let (Bulk::Texts, Source::Arrow(array)) = (rule, source) {
        if let Some((column, values)) = text_dictionary(array) {
            bulk::dictionary_texts(f, vocabulary, &mut state.entries, column, values);
            return true;
        }
    }
    match (rule, source) {
        (Bulk::Numbers { .. }, Source::Rows(rows, c)) => {
            bulk::parsed_numbers(f, rule, kind, rows.column(c))
        }
        (Bulk::Texts, Source::Rows(rows, c)) => bulk::texts(f, vocabulary, rows.buffered_column(c)),
        (_, Source::Arrow(array)) => match (rule, as_cells(array)) {
            (Bulk::Numbers { .. }, Cells::Numbers(numbers, integer)) => {
                bulk::typed_numbers(f, rule, integer, &numbers)
            }
            (Bulk::Texts, Cells::Text(strings)) => bulk::strings(f, vocabulary, &strings),
            (Bulk::Texts, Cells::Booleans(b)) => bulk::booleans(f, vocabulary, &b),
            _ => return false,
        },
    }
    true
}

/// Text values (`None`: missing), each parsed once as a number when the column may hold
/// numbers.
fn feed_texts<'t, 'a, I, V>(state: &mut ColumnState<'a>, texts: I, visit: &mut V)
where
    I: Iterator<Item = Option<&'t str>>,
    V: FnMut(usize, Cell<'t>, Option<f64>, &mut ColumnState<'a>),
{
    let parse = state.declared.is_none_or(ColumnType::is_numeric);
    for (i, value) in texts.enumerate() {
        let cell = value.map_or(Cell::Null, Cell::of_text);
        let number = match cell {
            Cell::Text(t) if parse => parse_number(state.declared, t),
            _ => None,
        };
        visit(i, cell, number, state);
    }
}

fn cell_hash(cell: Cell, number: Option<f64>) -> u64 {
    match (cell, number) {
        (Cell::Null, _) => 0x6e75_6c6c,
        (_, Some(x)) | (Cell::Number(x, _), _) => hash_f64(x),
        (Cell::Text(t), None) => hash_bytes(t.as_bytes()),
    }
}

/// A column of text kept as a dictionary, and its values.
fn text_dictionary(array: &ArrayRef) -> Option<(&DictionaryArray<Int32Type>, &StringArray)> {
    let column = array.as_dictionary_opt::<Int32Type>()?;
    Some((column, column.values().as_string_opt::<i32>()?))
}

enum Cells {
    Text(StringArray),
    Booleans(BooleanArray),
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
    if let Some(b) = array.as_boolean_opt() {
        return Cells::Booleans(b.clone());
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
    batch: &Batch,
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
        out.rows.push((
            offset + 1 + index as u64,
            reasons.join(" "),
            row_values(batch, index),
        ));
    }
}

/// A row's values as read, missing ones empty.
fn row_values(batch: &Batch, index: usize) -> Vec<String> {
    match batch {
        Batch::Arrow(b) | Batch::Columns(_, b) => reader::arrow_row(b.columns(), index),
        Batch::Rows(r) => (0..r.columns())
            .map(|c| r.text(index, c).unwrap_or_default().to_string())
            .collect(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::frame::Column;
    use crate::data::profile::MAX_CATEGORIES;
    use crate::data::reader::CsvOptions;
    use std::fmt::Write;

    const SCHEMA: &str = "columns:\n  id: {type: integer, min: 0}\n  x: {type: float, max: 90}\n  c: {type: string, allowed: [a, b, c]}\n";

    fn schema(yaml: &str) -> DataSchema {
        serde_yaml::from_str(yaml).unwrap()
    }

    /// Rows with a bad value now and then, so that every part has findings.
    fn rows(n: usize, c: impl Fn(usize) -> String) -> String {
        let mut text = String::from("id,x,c\n");
        for i in 0..n {
            let x = if i % 997 == 5 {
                "oops".to_string()
            } else {
                (i % 100).to_string()
            };
            writeln!(text, "{i},{x},{}", c(i)).unwrap();
        }
        text
    }

    /// The file scanned in one part and in `parts` parts.
    fn one_and_many(text: &str, yaml: &str, parts: usize) -> (Result<Scan>, Result<Scan>) {
        one_and_many_named("d.csv", text, yaml, parts)
    }

    /// [`rows`] as JSON Lines (every value a string, as the reader takes them), with a
    /// blank line now and then.
    fn json_lines(csv: &str) -> String {
        let mut lines = csv.lines();
        let names: Vec<&str> = lines.next().unwrap().split(',').collect();
        let mut text = String::new();
        for (i, line) in lines.enumerate() {
            let fields: Vec<String> = names
                .iter()
                .zip(line.split(','))
                .map(|(n, v)| format!("\"{n}\": \"{v}\""))
                .collect();
            writeln!(text, "{{{}}}", fields.join(", ")).unwrap();
            if i % 1000 == 999 {
                text.push('\n');
            }
        }
        text
    }

    fn one_and_many_named(
        name: &str,
        text: &str,
        yaml: &str,
        parts: usize,
    ) -> (Result<Scan>, Result<Scan>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let options = ScanOptions {
            keep_values: 1000,
            bad_rows: 7,
            ..ScanOptions::default()
        };
        let schema = schema(yaml);
        let scan = |parts| scan_in(&path, Some(&schema), &options, parts, 1);
        (scan(1), scan(parts))
    }

    /// Everything but the sketch's own items and rounding in mean and deviation.
    fn assert_same(one: &Scan, many: &Scan) {
        assert_eq!(one.check, many.check);
        assert_eq!(one.bad_rows.rows, many.bad_rows.rows);
        assert_eq!(one.values, many.values);
        for (a, b) in one
            .profile
            .columns
            .values()
            .zip(many.profile.columns.values())
        {
            assert_eq!(
                (a.kind, a.count, a.nulls, a.distinct),
                (b.kind, b.count, b.nulls, b.distinct)
            );
            assert_eq!(a.categories, b.categories);
            if let (Some(x), Some(y)) = (&a.numeric, &b.numeric) {
                assert_eq!((x.min, x.max), (y.min, y.max));
                assert!(
                    (x.mean - y.mean).abs() <= 1e-9 * x.mean.abs().max(1.0),
                    "{} {}",
                    x.mean,
                    y.mean
                );
                assert!((x.std - y.std).abs() <= 1e-9 * x.std.max(1.0));
            }
        }
    }

    #[test]
    fn parts_add_up_to_one_pass() {
        let text = rows(20_000, |i| ["a", "b", "c", "d"][i % 4].to_string());
        assert_parts_add_up("d.csv", &text);
    }

    #[test]
    fn json_lines_parts_add_up_to_one_pass() {
        let text = json_lines(&rows(20_000, |i| ["a", "b", "c", "d"][i % 4].to_string()));
        assert_parts_add_up("d.jsonl", &text);
    }

    /// Three parts of 20 000 [`rows`] make the scan of one, findings numbered in the file.
    fn assert_parts_add_up(name: &str, text: &str) {
        let (one, many) = one_and_many_named(name, text, SCHEMA, 3);
        let (one, many) = (one.unwrap(), many.unwrap());
        assert_same(&one, &many);
        assert_eq!(many.check.rows, 20_000);
        let types = many
            .check
            .findings
            .iter()
            .find(|f| f.check == "type")
            .unwrap();
        assert_eq!(types.count, 21);
        assert_eq!(types.examples[1].row, 998 + 5);
    }

    #[test]
    fn exact_values_are_kept_by_the_values_the_parts_hold_together() {
        // The limit is 1000 values. `x` is missing in two rows of three: 2400 rows hold
        // 800 values, kept although the rows are past the limit; 3600 rows hold 1200,
        // each part's share under the limit but not their sum, so none are kept.
        let text = |n: usize| {
            let mut text = String::from("id,x,c\n");
            for i in 0..n {
                let x = if i % 3 == 0 {
                    (i % 100).to_string()
                } else {
                    String::new()
                };
                writeln!(text, "{i},{x},a").unwrap();
            }
            text
        };
        for (n, kept) in [(2400, Some(800)), (3600, None)] {
            let (one, many) = one_and_many(&text(n), SCHEMA, 3);
            let (one, many) = (one.unwrap(), many.unwrap());
            assert_same(&one, &many);
            assert_eq!(many.values.get("x").map(Vec::len), kept, "{n} rows");
        }
    }

    #[test]
    fn a_wide_table_keeps_fewer_exact_values_a_column() {
        // Two numeric columns, `id` of 600 values and `x` of 599 (one is not a number);
        // the limit is 1000 a column.
        let text = rows(600, |_| "a".into());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, text).unwrap();
        let schema = schema(SCHEMA);
        for (total, kept) in [(2400, [Some(600), Some(599)]), (1000, [None, None])] {
            let options = ScanOptions {
                keep_values: 1000,
                keep_values_total: total,
                ..ScanOptions::default()
            };
            for parts in [1, 3] {
                let scan = scan_in(&path, Some(&schema), &options, parts, 1).unwrap();
                let counts = ["id", "x"].map(|c| scan.values.get(c).map(Vec::len));
                assert_eq!(counts, kept, "total {total}, {parts} parts");
            }
        }
    }

    #[test]
    fn a_guess_that_more_values_will_come_is_checked_at_the_end() {
        // The limit is 1000 values; a part stops keeping after its first batch (4096
        // rows here) when the file's size at that batch's density gives over 2000.
        // Dense throughout: the guess holds, nothing kept, the file read once. Dense
        // only in the first batch (820 values): the file is read again to keep them.
        let dir = tempfile::tempdir().unwrap();
        let schema = schema(SCHEMA);
        let options = ScanOptions {
            keep_values: 1000,
            ..ScanOptions::default()
        };
        let dense = |i: usize| i.is_multiple_of(3);
        let first_batch_only = |i: usize| i < 4096 && i.is_multiple_of(5);
        for (has_x, expected) in [
            (&dense as &dyn Fn(usize) -> bool, None),
            (&first_batch_only, Some(820)),
        ] {
            let mut text = String::from("id,x,c\n");
            let mut values = Vec::new();
            for i in 0..30_000 {
                let x = has_x(i).then_some((i % 100) as f64);
                values.extend(x);
                let x = x.map(|x| x.to_string()).unwrap_or_default();
                writeln!(text, "{i},{x},a").unwrap();
            }
            // JSON Lines' batches hold as many rows as CSV's here.
            let json = json_lines(&text);
            for (path, parts) in [("d.csv", 1), ("d.csv", 3), ("d.jsonl", 1), ("d.jsonl", 3)] {
                let path = dir.path().join(path);
                let file = if path.extension() == Some("csv".as_ref()) {
                    &text
                } else {
                    &json
                };
                std::fs::write(&path, file).unwrap();
                let opened = std::cell::Cell::new(0);
                let open = || {
                    opened.set(opened.get() + 1);
                    reader::open_parts_of(&path, &CsvOptions::default(), parts, 1, None)
                };
                let scan = scan_parts(open().unwrap(), Some(&schema), &options, open)
                    .unwrap()
                    .unwrap();
                let kept = scan.values.get("x");
                assert_eq!(kept.map(Vec::len), expected, "{path:?}, {parts} parts");
                if expected.is_some() {
                    assert_eq!(kept, Some(&values));
                }
                assert_eq!(opened.get(), 1 + usize::from(expected.is_some()));
                assert_eq!(scan.profile.columns["x"].count, values.len() as u64);
            }
        }
    }

    #[test]
    fn quoted_line_breaks_at_split_points_add_up_to_one_pass() {
        let yaml = SCHEMA.replace(", allowed: [a, b, c]", "");
        // Every value of `c` holds a line break: any split lands in one or next to one.
        let text = rows(5_000, |i| format!("\"a\n{i}\""));
        // Lines inside quotes that read as records of the table: a range may start
        // inside quotes, and the file is read again in one part.
        let fooling = rows(2_000, |i| {
            let lines: Vec<String> = (0..9).map(|k| format!("{i},{k},x")).collect();
            format!("\"a\n{}\"", lines.join("\n"))
        });
        for (text, n) in [(text, 5_000), (fooling, 2_000)] {
            let (one, many) = one_and_many(&text, &yaml, 4);
            let (one, many) = (one.unwrap(), many.unwrap());
            assert_same(&one, &many);
            assert_eq!(many.check.rows, n);
        }
    }

    #[test]
    fn many_distinct_values_are_counted_by_the_names_of_earlier_parts() {
        // Each part sees all 3000 values and names its own first 1000; the later parts'
        // overflow holds values the first part named.
        let text = rows(20_000, |i| format!("v{}", (i * 7) % 3000 + i / 10_000));
        let yaml = SCHEMA.replace(", allowed: [a, b, c]", "");
        let (one, many) = one_and_many(&text, &yaml, 3);
        let (one, many) = (one.unwrap(), many.unwrap());
        assert_same(&one, &many);
        let c = many.profile.columns["c"].categories.as_ref().unwrap();
        assert_eq!(c.counts.len(), MAX_CATEGORIES);
        assert_eq!(c.other, 20_000 - c.counts.values().sum::<u64>());
        // In parts, and not read again: the later parts counted the values the first
        // part named as they read them.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, &text).unwrap();
        let schema = schema(&yaml);
        let csv = CsvOptions::default();
        let opened = std::cell::Cell::new(0);
        let open = || {
            opened.set(opened.get() + 1);
            reader::open_parts_of(&path, &csv, 3, 1, None)
        };
        let scan = scan_parts(
            open().unwrap(),
            Some(&schema),
            &ScanOptions::default(),
            open,
        )
        .unwrap()
        .expect("read in parts");
        assert_eq!(opened.get(), 1);
        assert_eq!(
            scan.profile.columns["c"].categories,
            one.profile.columns["c"].categories
        );
    }

    #[test]
    #[cfg(feature = "parquet")]
    fn parquet_row_group_parts_add_up_to_one_pass() {
        use arrow_array::{Int64Array, RecordBatch, StringArray};
        let n = 10_000i64;
        let batch = RecordBatch::try_from_iter([
            (
                "id",
                std::sync::Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef,
            ),
            (
                "c",
                std::sync::Arc::new(StringArray::from_iter_values((0..n).map(|i| {
                    if i % 777 == 3 {
                        "z"
                    } else {
                        "a"
                    }
                }))) as ArrayRef,
            ),
        ])
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.parquet");
        reader::write_parquet(&path, &batch, 1000);
        let yaml =
            "columns:\n  id: {type: integer, max: 9000}\n  c: {type: string, allowed: [a]}\n";
        let options = ScanOptions::default();
        let schema = schema(yaml);
        let one = scan_in(&path, Some(&schema), &options, 1, 1).unwrap();
        let many = scan_in(&path, Some(&schema), &options, 4, 1).unwrap();
        assert_same(&one, &many);
        assert_eq!(many.check.findings.len(), 2);
        assert_eq!(many.check.findings[1].examples[2].row, 777 * 2 + 3 + 1);
    }

    /// Messy values: missing spellings, blanks, non-numbers, out of range, infinite,
    /// fractions in an integer column, values not allowed or not matching.
    fn messy(n: usize) -> String {
        let mut text = String::from("id,age,x,flag,city,plan,code,ref\n");
        for i in 0..n {
            let age = match i % 211 {
                3 => "NA".to_string(),
                7 => "x".to_string(),
                11 => "2.5".to_string(),
                13 => "-4".to_string(),
                _ => (18 + i % 70).to_string(),
            };
            let x = match i % 157 {
                2 => "inf".to_string(),
                5 => String::new(),
                9 => " 1.5 ".to_string(),
                12 => "1e999".to_string(),
                _ => format!("{}.{}", i % 1000, i % 7),
            };
            let flag = ["yes", "no", "maybe", "", "true"][i % 5];
            let city = format!("city_{:02}", i % 43).replace("city_42", "Town");
            let plan = ["basic", "pro", "NULL", "gold", " basic"][(i / 3) % 5];
            // Past 1000 distinct values: the path for mostly new values.
            let code = match i % 97 {
                4 => String::new(),
                8 => format!("k{i}"),
                _ => format!("c{}", i % 5000),
            };
            // Past the bulk path's vocabulary (8192 values), short and long values.
            let reference = match (i % 3, i % 101) {
                (_, 6) => "bad ref".to_string(),
                (0, _) => format!("r{i}"),
                (1, _) => format!("reference-{i:012}"),
                _ => format!("ref{}", i % 50),
            };
            writeln!(
                text,
                "{i},{age},{x},{flag},{city},{plan},{code},{reference}"
            )
            .unwrap();
        }
        text
    }

    const MESSY: &str = "columns:
  id: {type: integer}
  age: {type: integer, min: 0, max: 80}
  x: {type: float, nullable: true, max: 900}
  flag: {type: boolean, max_null_share: 0.1}
  city: {type: string, pattern: 'city_[0-9]{2}'}
  plan: {type: string, nullable: true, allowed: [basic, pro]}
  code: {type: string, nullable: true, pattern: 'c[0-9]+'}
  ref: {type: string, pattern: 'r[a-z-]*[0-9]+'}
";

    /// A part whose columns are dealt to several threads reads as on one: the same
    /// findings, profile (byte for byte), exact values, bad rows, duplicate rows and
    /// frame, from CSV and from Parquet read in passes of a few columns.
    #[test]
    fn a_part_read_on_several_threads_reads_as_on_one() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("d.csv");
        // Rows that break every rule but the first column's, in the first batch and in a
        // later one: their reasons in column order. Every bad row is kept.
        let all_bad = "-1,99,9999,maybe,nowhere,gold,zz,bad ref";
        let mut text = String::new();
        for (i, line) in messy(20_000).lines().enumerate() {
            writeln!(text, "{line}").unwrap();
            if i == 0 || i == 15_000 {
                writeln!(text, "{all_bad}").unwrap();
            }
        }
        // Repeated rows, for duplicate rows.
        let again: Vec<String> = text
            .lines()
            .skip(1)
            .step_by(1500)
            .map(String::from)
            .collect();
        again
            .iter()
            .for_each(|row| writeln!(text, "{row}").unwrap());
        std::fs::write(&csv, text).unwrap();
        let kinds = HashMap::from([
            ("id".to_string(), Kind::Numeric),
            ("plan".to_string(), Kind::Categorical),
        ]);
        let read = |path: &Path, yaml: &str, options: &ScanOptions| {
            let schema = schema(yaml);
            let on = |threads| {
                let options = ScanOptions {
                    threads,
                    ..options.clone()
                };
                scan_in(path, Some(&schema), &options, 1, 1).unwrap()
            };
            let one = on(1);
            for threads in [2, 3, 8] {
                let many = on(threads);
                assert_eq!(one.check, many.check, "{threads} threads");
                assert_eq!(one.bad_rows.rows, many.bad_rows.rows);
                assert_eq!(one.values, many.values);
                assert_eq!(one.profile.to_json(), many.profile.to_json());
                let columns = |s: &Scan| s.frame.as_ref().map(|f| f.columns.clone());
                assert_eq!(columns(&one), columns(&many));
            }
            one
        };
        let options = ScanOptions {
            keep_values: 100_000,
            bad_rows: usize::MAX,
            ..ScanOptions::default()
        };
        let scan = read(&csv, MESSY, &options);
        let reasons = |rows: &[(u64, String, Vec<String>)]| -> Vec<(u64, String)> {
            rows.iter()
                .filter(|r| r.2.join(",") == all_bad)
                .map(|r| (r.0, r.1.clone()))
                .collect()
        };
        let every = "age x flag city plan code ref".to_string();
        // The first is repeated at the end, with the rows below.
        let at = [1, 15_002, 20_003].map(|row| (row, every.clone()));
        assert_eq!(reasons(&scan.bad_rows.rows), at);
        let framed = ScanOptions {
            frame: Some(kinds),
            ..options.clone()
        };
        assert!(read(&csv, MESSY, &framed).frame.is_some());
        let duplicates = read(&csv, &format!("{MESSY}duplicate_rows: error\n"), &options);
        assert!(duplicates
            .check
            .findings
            .iter()
            .any(|f| f.check == "duplicate_rows"));
        #[cfg(feature = "parquet")]
        {
            let pq = dir.path().join("d.parquet");
            typed_parquet_of(&csv, &pq);
            let in_passes = ScanOptions {
                reader_bytes: 1,
                ..options
            };
            // Marked pass by pass, every bad row read again whole at the end.
            assert!(read(&pq, MESSY, &in_passes).bad_rows.rows.len() > 10_000);
        }
    }

    /// A frame read beside the scan, in parts, is the frame read on its own: a column
    /// numeric until its last part turns into labels, levels first seen in later parts
    /// keep their rows, a column past the profile's named values keeps the unnamed ones
    /// (repeated within a batch), and the numbers and labels the scan parsed (missing
    /// spellings and blanks among them) are the frame's.
    #[test]
    fn a_frame_read_beside_the_scan_in_parts_is_the_frame_read_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        let mut text = String::from("x,n,label,code\n");
        for i in 0..3000 {
            let x = match i % 50 {
                7 => "NA".to_string(),
                9 => String::new(),
                _ => format!("{i}.25"),
            };
            let n = if i == 2999 {
                "many".into()
            } else {
                i.to_string()
            };
            // Levels first seen in later parts, and missing ones.
            let label = match i % 31 {
                3 => "NA".to_string(),
                5 => " l9 ".to_string(),
                _ => format!("l{}", i / 700),
            };
            // 1100 values, each two or three times: more than a part's profile names.
            let code = match i % 29 {
                4 => String::new(),
                _ => format!("c{}", i * 37 % 1100),
            };
            writeln!(text, "{x},{n},{label},{code}").unwrap();
        }
        std::fs::write(&path, &text).unwrap();
        let schema = schema(
            "columns:\n  x: {type: float}\n  label: {type: string}\n  code: {type: string}\n",
        );
        let kinds = HashMap::from([
            ("x".to_string(), Kind::Numeric),
            ("label".to_string(), Kind::Categorical),
            ("code".to_string(), Kind::Categorical),
        ]);
        let alone = Frame::read(&path, &CsvOptions::default(), &kinds).unwrap();
        let same = |a: &Column, b: &Column| match (a, b) {
            (Column::Numeric(a), Column::Numeric(b)) => a
                .iter()
                .map(|v| v.to_bits())
                .eq(b.iter().map(|v| v.to_bits())),
            _ => a == b,
        };
        assert!(matches!(alone.column("n"), Some(Column::Categorical(_))));
        assert!(matches!(alone.column("label"),
            Some(Column::Categorical(l)) if l.get(3).is_none() && l.get(5) == Some("l9")));
        assert!(matches!(&alone.columns[0], Column::Numeric(x) if x[7].is_nan() && x[10] == 10.25));
        let options = ScanOptions {
            frame: Some(kinds.clone()),
            ..ScanOptions::default()
        };
        assert!(
            matches!(alone.column("code"), Some(Column::Categorical(l)) if l.distinct().len() == 1100)
        );
        for parts in [1, 2, 3] {
            let frame = scan_in(&path, Some(&schema), &options, parts, 1)
                .unwrap()
                .frame
                .unwrap();
            assert_eq!((&frame.names, frame.rows), (&alone.names, 3000));
            for (a, b) in frame.columns.iter().zip(&alone.columns) {
                assert!(same(a, b), "{parts} parts: {a:?} against {b:?}");
            }
        }
        // A value that is no number stops the read, named by its row in the file.
        std::fs::write(&path, text.replace("\n2500.25,", "\nseven,")).unwrap();
        let e = scan_in(&path, Some(&schema), &options, 3, 1).err().unwrap();
        assert!(
            e.to_string()
                .contains("row 2501 (line 2502): column `x`: `seven` is not a number"),
            "{e}"
        );
    }

    #[test]
    fn bulk_paths_match_the_per_cell_path() {
        // With `duplicate_rows: error` every cell goes through the per-cell path (row
        // hashes need them all); the ids are distinct, so the findings must not differ.
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("d.csv");
        std::fs::write(&csv, messy(30_000)).unwrap();
        let options = ScanOptions {
            keep_values: 100_000,
            bad_rows: 50,
            ..ScanOptions::default()
        };
        let bulk = schema(MESSY);
        let per_cell = schema(&format!("{MESSY}duplicate_rows: error\n"));
        let a = scan_in(&csv, Some(&bulk), &options, 1, 1).unwrap();
        let b = scan_in(&csv, Some(&per_cell), &options, 1, 1).unwrap();
        assert_same(&a, &b);
        let checks: Vec<_> = a
            .check
            .findings
            .iter()
            .map(|f| (f.column.clone().unwrap_or_default(), f.check.as_str()))
            .collect();
        for expected in [
            ("age", "null"),
            ("age", "type"),
            ("age", "range"),
            ("x", "type"),
            ("flag", "type"),
            ("city", "pattern"),
            ("plan", "allowed"),
            ("ref", "pattern"),
        ] {
            assert!(
                checks.contains(&(expected.0.to_string(), expected.1)),
                "{expected:?} not in {checks:?}"
            );
        }
        // The same rows as Parquet: typed numbers and strings.
        #[cfg(feature = "parquet")]
        {
            let pq = dir.path().join("d.parquet");
            typed_parquet_of(&csv, &pq);
            // Its text columns are read as dictionaries where every page is one: the
            // bulk path then learns each entry once per row group.
            let parquet = reader::open(&pq, &Default::default()).unwrap();
            let Some(Ok(Batch::Arrow(first))) = parquet.next_batch() else {
                panic!("no batch");
            };
            let kept: Vec<&str> = (0..first.num_columns())
                .filter(|&c| text_dictionary(first.column(c)).is_some())
                .map(|c| parquet.names[c].as_str())
                .collect();
            assert!(kept.contains(&"plan") && kept.contains(&"city"), "{kept:?}");
            let b = scan_in(&pq, Some(&per_cell), &options, 1, 1).unwrap();
            for parts in [1, 3] {
                let a = scan_in(&pq, Some(&bulk), &options, parts, 1).unwrap();
                assert_same(&a, &b);
                assert!(a.check.findings.len() >= 5, "{:?}", a.check.findings);
            }
        }
    }

    /// The CSV file at `csv` as Parquet at `path`, typed as [`write_typed_parquet`] does.
    #[cfg(feature = "parquet")]
    fn typed_parquet_of(csv: &Path, path: &Path) {
        let table = reader::open(csv, &Default::default()).unwrap();
        let mut batches = Vec::new();
        while let Some(b) = table.next_batch() {
            if let Batch::Rows(rows) = b.unwrap() {
                batches.push(rows);
            }
        }
        write_typed_parquet(path, &table.names, &batches);
    }

    #[cfg(feature = "parquet")]
    #[test]
    fn missing_values_in_typed_columns_match_the_per_cell_path() {
        // `age`, `x` and `plan` are missing in some rows (`x` in 2501 of 5000, as null and
        // as NaN; `plan`, a dictionary, in one row in three), which their rules allow:
        // the bulk paths count them without a test per row. `y` has no nulls but a NaN in
        // one row in seven, `z` neither: it is its own list of numbers. Booleans `b1`
        // (missing in one row in four, counted) and `b2` (missing only out of rule) are
        // counted from their bits, and so are the present rows of `note`, plain text
        // missing in one row in three. A value out of rule sends its batch through the
        // per-value loop, which names its row.
        let dir = tempfile::tempdir().unwrap();
        let (csv, pq) = (dir.path().join("d.csv"), dir.path().join("d.parquet"));
        let yaml = "columns:\n  id: {type: integer}\n  age: {type: integer, min: 0, max: 80, max_null_share: 0.5}\n  x: {type: float, nullable: true, max: 900}\n  plan: {type: string, nullable: true, allowed: [basic, pro]}\n  y: {type: float, nullable: true, min: 0}\n  z: {type: float, max: 1000}\n  b1: {type: boolean, max_null_share: 0.3}\n  b2: {type: boolean}\n  note: {type: string, max_null_share: 0.4, pattern: 'n[0-9]+'}\n";
        let (bulk, per_cell) = (
            schema(yaml),
            schema(&format!("{yaml}duplicate_rows: error\n")),
        );
        let options = ScanOptions::default();
        for out_of_rule in [None, Some(2500)] {
            let mut text = String::from("id,age,x,plan,y,z,b1,b2,note\n");
            for i in 0..5000 {
                let age = if i % 5 == 0 {
                    String::new()
                } else {
                    (i % 70).to_string()
                };
                let x = match i % 6 {
                    0 | 3 => String::new(),
                    1 => "NaN".to_string(),
                    _ if out_of_rule == Some(i) => "950".to_string(),
                    _ => format!("{}.5", i % 800),
                };
                let plan = match i % 3 {
                    0 => "",
                    _ if out_of_rule == Some(i + 2) => "gold",
                    1 => "basic",
                    _ => "pro",
                };
                let y = match i % 7 {
                    0 => "NaN".to_string(),
                    _ if out_of_rule == Some(i + 4) => "-1".to_string(),
                    _ => format!("{}.25", i % 90),
                };
                let z = if out_of_rule == Some(i + 1) {
                    1001
                } else {
                    i % 1000
                };
                let b1 = ["", "false", "true", "true"][i % 4];
                let b2 = if out_of_rule == Some(i + 3) {
                    ""
                } else {
                    ["true", "false"][i % 3 / 2]
                };
                let note = match i % 3 {
                    0 => String::new(),
                    _ if out_of_rule == Some(i + 5) => "bad".to_string(),
                    _ => format!("n{i}"),
                };
                writeln!(text, "{i},{age},{x},{plan},{y},{z}.5,{b1},{b2},{note}").unwrap();
            }
            std::fs::write(&csv, text).unwrap();
            typed_parquet_of(&csv, &pq);
            let b = scan_in(&pq, Some(&per_cell), &options, 1, 1).unwrap();
            for parts in [1, 3] {
                let a = scan_in(&pq, Some(&bulk), &options, parts, 1).unwrap();
                assert_same(&a, &b);
                let nulls: Vec<u64> = ["age", "x", "plan", "y", "z", "b1", "note"]
                    .iter()
                    .map(|c| a.profile.columns[*c].nulls)
                    .collect();
                assert_eq!(nulls, [1000, 2501, 1667, 715, 0, 1250, 1667]);
                let b1 = a.profile.columns["b1"].categories.as_ref().unwrap();
                let b1: Vec<_> = b1.counts.iter().map(|(v, n)| (v.as_str(), *n)).collect();
                assert_eq!(b1, [("true", 2500), ("false", 1250)]);
                let found = |column: &str| {
                    let f = a.check.findings.iter();
                    let mut f = f.filter(|f| f.column.as_deref() == Some(column));
                    f.next().map(|f| f.examples[0].row)
                };
                let rows = out_of_rule.map(|i| i as u64 + 1);
                assert_eq!(found("x"), rows);
                assert_eq!(found("plan"), rows.map(|r| r - 2));
                assert_eq!(found("y"), rows.map(|r| r - 4));
                assert_eq!(found("z"), rows.map(|r| r - 1));
                assert_eq!(found("b2"), rows.map(|r| r - 3));
                assert_eq!(found("note"), rows.map(|r| r - 5));
            }
        }
    }

    /// `id`, `age` as Int64, `x`, `y`, `z` as Float64 and `b1`, `b2` as booleans where
    /// they parse, the rest as strings.
    #[cfg(feature = "parquet")]
    fn write_typed_parquet(path: &Path, names: &[String], batches: &[RowBatch]) {
        use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
        let column = |c: usize| {
            batches
                .iter()
                .flat_map(move |b| b.column(c).map(|v| v.map(str::to_string)))
        };
        let arrays: Vec<(String, ArrayRef)> = names
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let array: ArrayRef = match name.as_str() {
                    "id" | "age" => std::sync::Arc::new(Int64Array::from_iter(
                        column(c).map(|v| v.and_then(|v| v.parse::<i64>().ok())),
                    )),
                    "x" | "y" | "z" => std::sync::Arc::new(Float64Array::from_iter(
                        column(c).map(|v| v.and_then(|v| v.trim().parse::<f64>().ok())),
                    )),
                    "b1" | "b2" => std::sync::Arc::new(arrow_array::BooleanArray::from_iter(
                        column(c).map(|v| v.and_then(|v| v.parse::<bool>().ok())),
                    )),
                    _ => std::sync::Arc::new(StringArray::from_iter(column(c))),
                };
                (name.clone(), array)
            })
            .collect();
        let batch = RecordBatch::try_from_iter(arrays).unwrap();
        let file = std::fs::File::create(path).unwrap();
        // Row groups of 7000 rows: several dictionaries per column; `note` as plain text.
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(7000))
            .set_column_dictionary_enabled("note".into(), false)
            .build();
        let mut w =
            parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    /// A Parquet file read a column at a time, in passes over each part's rows, gives
    /// what whole rows give: the same findings, profiles and exact values, and the same
    /// bad rows, whole, their reasons in column order, whichever pass found them.
    #[cfg(feature = "parquet")]
    #[test]
    fn a_parquet_file_read_a_group_of_columns_at_a_time_is_read_as_whole_rows() {
        let dir = tempfile::tempdir().unwrap();
        let (csv, pq) = (dir.path().join("d.csv"), dir.path().join("d.parquet"));
        std::fs::write(&csv, messy(30_000)).unwrap();
        typed_parquet_of(&csv, &pq);
        let schema = schema(MESSY);
        for bad_rows in [5, 400] {
            let options = |reader_bytes| ScanOptions {
                keep_values: 100_000,
                bad_rows,
                reader_bytes,
                ..ScanOptions::default()
            };
            let whole = scan_in(&pq, Some(&schema), &options(u64::MAX), 1, 1).unwrap();
            let by_column = scan_in(&pq, Some(&schema), &options(1), 1, 1).unwrap();
            assert_same(&whole, &by_column);
            assert_eq!(
                serde_json::to_value(&whole.profile).unwrap(),
                serde_json::to_value(&by_column.profile).unwrap()
            );
            assert_same(
                &whole,
                &scan_in(&pq, Some(&schema), &options(1), 3, 1).unwrap(),
            );
            let rows = &by_column.bad_rows.rows;
            assert_eq!(rows.len(), bad_rows);
            assert!(rows
                .iter()
                .all(|r| r.2.len() == 8 && r.2[0] == (r.0 - 1).to_string()));
            assert!(rows.iter().any(|r| r.1.contains(' ')), "{rows:?}");
        }
        // It did come a column at a time, and rows are read again only that way.
        let tables = reader::open_parts_of(&pq, &Default::default(), 1, 1, Some(1)).unwrap();
        assert!(tables[0].revisit.is_some());
        let Some(Ok(Batch::Columns(0, first))) = tables[0].next_batch() else {
            panic!("not read a column at a time");
        };
        assert_eq!(first.num_columns(), 1);
        let whole = reader::open_parts_of(&pq, &Default::default(), 1, 1, None).unwrap();
        assert!(whole[0].revisit.is_none());
    }

    #[test]
    fn booleans_read_as_the_cast_shows_them() {
        let array: ArrayRef = std::sync::Arc::new(arrow_array::BooleanArray::from(vec![
            Some(true),
            None,
            Some(false),
        ]));
        let Cells::Booleans(b) = as_cells(&array) else {
            panic!("not booleans");
        };
        let cast = arrow_cast::cast(&array, &DataType::Utf8).unwrap();
        let cast: Vec<Option<&str>> = cast.as_string::<i32>().iter().collect();
        assert_eq!(shown(&b).collect::<Vec<_>>(), cast);
    }

    /// [`rows`]-like rows as CSV and as a JSON writer puts them: typed numbers, `null` or
    /// no field for a missing value, escapes, the fields in another order now and then.
    fn csv_and_json_lines(n: usize) -> (String, String) {
        let mut csv = String::from("id,x,c\n");
        let mut json = String::new();
        let texts = [
            ("a", "a"),
            ("\"b\"\"q\"", "b\\\"q"),
            ("é", "\\u00e9"),
            ("t\tx", "t\\tx"),
        ];
        for i in 0..n {
            let (csv_c, json_c) = texts[i % 4];
            let (csv_x, json_x) = match (i % 997, i % 13) {
                (5, _) => ("oops".to_string(), Some("\"oops\"".to_string())),
                (_, 0) => (String::new(), (i % 2 == 0).then(|| "null".to_string())),
                _ => ((i % 100).to_string(), Some((i % 100).to_string())),
            };
            writeln!(csv, "{i},{csv_x},{csv_c}").unwrap();
            let mut fields = vec![format!("\"id\": {i}"), format!("\"c\": \"{json_c}\"")];
            if let Some(x) = json_x {
                fields.insert(1, format!("\"x\":{x}"));
            }
            if i % 3 == 1 {
                fields.reverse();
            }
            writeln!(json, "{{{}}}", fields.join(", ")).unwrap();
        }
        (csv, json)
    }

    #[test]
    fn json_lines_values_scan_as_the_same_rows_in_csv() {
        let (csv, json) = csv_and_json_lines(20_000);
        let (csv, _) = one_and_many_named("d.csv", &csv, SCHEMA, 1);
        let (one, many) = one_and_many_named("d.jsonl", &json, SCHEMA, 3);
        let csv = csv.unwrap();
        for json in [one, many] {
            let mut json = json.unwrap();
            json.check.file.clone_from(&csv.check.file);
            assert_same(&csv, &json);
        }
        let checks: Vec<(&str, u64)> = csv
            .check
            .findings
            .iter()
            .map(|f| (f.check.as_str(), f.count))
            .collect();
        assert!(checks.contains(&("allowed", 15_000)), "{checks:?}");
        assert!(csv.profile.columns["x"].nulls > 1000);
    }

    #[test]
    fn a_json_lines_field_of_objects_is_skipped_unless_its_column_held_text() {
        // `meta` holds text or an object: a nested column, skipped.
        let record = |i: usize, c: &str| {
            let meta = if i.is_multiple_of(2) {
                "\"x\"".to_string()
            } else {
                format!("{{\"k\": [{i}]}}")
            };
            format!("{{\"id\": {i}, \"c\": {c}, \"meta\": {meta}}}\n")
        };
        // Past the first 1000 records, which tell a column's type.
        let mut text: String = (0..1500).map(|i| record(i, "\"a\"")).collect();
        let (one, _) = one_and_many_named("d.jsonl", &text, SCHEMA, 1);
        let scan = one.unwrap();
        assert_eq!(scan.check.rows, 1500);
        assert_eq!(
            scan.profile.columns["id"].numeric.as_ref().unwrap().max,
            1499.0
        );
        text.push_str(&record(1500, "{\"x\": 1}"));
        let (one, _) = one_and_many_named("d.jsonl", &text, SCHEMA, 1);
        let e = one.err().unwrap().to_string();
        assert!(
            e.contains("line 1501: field `c` holds an object or an array"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_line_in_a_later_json_lines_part_is_numbered_in_the_file() {
        let mut text = json_lines(&rows(20_000, |_| "a".into()));
        // 20 000 records and 20 blank lines before it.
        text.push_str("{\"id\": \"1\",,}\n");
        text.push_str(&json_lines(&rows(10, |_| "a".into())));
        let (one, many) = one_and_many_named("d.jsonl", &text, SCHEMA, 3);
        for e in [
            one.err().unwrap().to_string(),
            many.err().unwrap().to_string(),
        ] {
            assert!(e.contains("line 20021: not valid JSON"), "{e}");
        }
    }

    #[test]
    fn a_ragged_row_in_a_later_part_is_numbered_in_the_file() {
        let mut text = rows(20_000, |_| "a".into());
        text.push_str("1,2\n");
        text.push_str(&rows(10, |_| "a".into())["id,x,c\n".len()..]);
        let (one, many) = one_and_many(&text, SCHEMA, 3);
        for e in [
            one.err().unwrap().to_string(),
            many.err().unwrap().to_string(),
        ] {
            assert!(e.contains("row 20001 (line 20002)"), "{e}");
            assert!(
                e.contains("wrong number of fields (expected 3 got 2)"),
                "{e}"
            );
        }
    }
}
