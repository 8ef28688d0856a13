//! Parquet in parts of consecutive row groups, each decoded on a thread of its own; a
//! wide file in passes over each part's rows, a group of columns at a time.

use super::{spawn, Batch, Format, ReadError, Table, BATCH_BYTES, BATCH_ROWS};
use crate::error::{Error, Result};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder, RowSelection,
    RowSelector,
};
use parquet::arrow::ProjectionMask;
use parquet::basic::Compression;
use parquet::file::metadata::ParquetMetaData;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per decoded Parquet batch of `columns` columns of `row_bytes` each (uncompressed,
/// as the file's metadata says): at most 256 Ki cells (2 MiB of doubles), so that a wide
/// table's batches queued ahead stay within memory beside what the reader holds (a
/// Parquet page per column and part: 790 KB each in polars' files), and a batch's
/// columns stay in cache while the checks take them in turn; and about [`BATCH_BYTES`]
/// at most.
fn batch_rows(columns: usize, row_bytes: u64) -> usize {
    let by_bytes = BATCH_BYTES as u64 / row_bytes.max(1);
    BATCH_ROWS
        .min((1 << 18) / columns.max(1))
        .max(1024)
        .min(by_bytes.max(1) as usize)
}

/// The most of a column chunk counted as its page: writers cut pages at about 1 MiB.
const PAGE_BYTES: u64 = 1 << 20;
/// What the reader of a zstd-compressed column holds beside its page (99 KB measured).
const ZSTD_BYTES: u64 = 100 << 10;

/// Parquet in up to `parts` tables of consecutive row groups; a file whose pages take
/// more than `pages` a part comes in passes over each part's rows (see
/// [`super::open_parts_of`]).
pub(super) fn open_parquet(
    source: String,
    path: &Path,
    file: File,
    parts: usize,
    pages: Option<u64>,
) -> Result<Vec<Table>> {
    use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::input(format!("{source}: not a readable Parquet file: {e}"))
    };
    let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
        .map_err(|e| unreadable(&e))?;
    let schema = metadata.schema().clone();
    let metadata = keep_dictionaries(metadata);
    let columns = schema.fields().len();
    let present = present_values(metadata.metadata(), columns);
    let groups = metadata.metadata().num_row_groups();
    let parts = parts.min(groups).max(1);
    let passes = match pages {
        Some(most) if flat(metadata.metadata(), columns) => {
            column_passes(metadata.metadata(), columns, most)
        }
        _ => std::iter::once(0..columns).collect(),
    };
    let reading = Arc::new(Reading {
        batch_rows: passes
            .iter()
            .map(|p| batch_rows(p.len(), row_bytes(metadata.metadata(), p, columns)))
            .collect(),
        source: source.clone(),
        path: path.to_owned(),
        metadata,
        passes,
    });
    (0..parts)
        .map(|p| {
            let range: Vec<usize> = (groups * p / parts..groups * (p + 1) / parts).collect();
            // The first pass is set up here, so that a file it cannot read fails to open.
            let first = reading.pass(&range, 0, None).map_err(|e| e.into_error(0))?;
            let revisit = (reading.passes.len() > 1).then(|| -> super::Revisit {
                let (reading, range) = (reading.clone(), range.clone());
                Arc::new(move |rows| reading.rows(&range, rows))
            });
            Ok(Table {
                source: source.clone(),
                format: Format::Parquet,
                names: schema.fields().iter().map(|f| f.name().clone()).collect(),
                types: schema
                    .fields()
                    .iter()
                    .map(|f| f.data_type().clone())
                    .collect(),
                present: present.clone(),
                room_bytes: None,
                batches: spawn(reading.clone().batches(range, first)),
                revisit,
                misaligned: Arc::default(),
            })
        })
        .collect()
}

/// A Parquet file's metadata and how its parts are read.
struct Reading {
    source: String,
    path: PathBuf,
    metadata: ArrowReaderMetadata,
    /// The columns of each pass over a part's rows; one pass of all of them unless the
    /// file is too wide.
    passes: Vec<Range<usize>>,
    /// Rows per batch of each pass.
    batch_rows: Vec<usize>,
}

impl Reading {
    /// A reader of pass `pass` over `groups` (row groups), of the rows `rows` selects.
    fn pass(
        &self,
        groups: &[usize],
        pass: usize,
        rows: Option<RowSelection>,
    ) -> std::result::Result<ParquetRecordBatchReader, ReadError> {
        let failed = |e: &dyn std::fmt::Display| ReadError::plain(&self.source, e.to_string());
        let file = File::open(&self.path).map_err(|e| failed(&e))?;
        let mut builder =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
                .with_row_groups(groups.to_vec())
                .with_batch_size(self.batch_rows[pass]);
        if self.passes.len() > 1 {
            let columns =
                ProjectionMask::roots(builder.parquet_schema(), self.passes[pass].clone());
            builder = builder.with_projection(columns);
        }
        if let Some(rows) = rows {
            builder = builder.with_row_selection(rows);
        }
        builder.build().map_err(|e| failed(&e))
    }

    /// The batches of a part: every pass over `groups` in turn, the first from `first`.
    fn batches(
        self: Arc<Self>,
        groups: Vec<usize>,
        first: ParquetRecordBatchReader,
    ) -> impl Iterator<Item = std::result::Result<Batch, ReadError>> + Send {
        let mut first = Some(first);
        (0..self.passes.len()).flat_map(move |pass| {
            let reader = match first.take() {
                Some(reader) => Ok(reader),
                None => self.pass(&groups, pass, None),
            };
            let (whole, start) = (self.passes.len() == 1, self.passes[pass].start);
            let source = self.source.clone();
            let batches: Box<dyn Iterator<Item = _> + Send> = match reader {
                Ok(reader) => Box::new(reader.map(move |b| {
                    b.map(|b| {
                        if whole {
                            Batch::Arrow(b)
                        } else {
                            Batch::Columns(start, b)
                        }
                    })
                    .map_err(|e| decode_error(&source, &e))
                })),
                Err(e) => Box::new(std::iter::once(Err(e))),
            };
            batches
        })
    }

    /// Rows of a part (0-based within its row groups `groups`, ascending), every column
    /// of them, read a pass at a time.
    fn rows(
        &self,
        groups: &[usize],
        rows: &[u64],
    ) -> std::result::Result<Vec<Vec<String>>, ReadError> {
        let in_part: i64 = groups
            .iter()
            .map(|&g| self.metadata.metadata().row_group(g).num_rows())
            .sum();
        let selection = selection_of(rows, in_part.max(0) as u64);
        let mut values = vec![Vec::new(); rows.len()];
        for pass in 0..self.passes.len() {
            let reader = self.pass(groups, pass, Some(selection.clone()))?;
            let mut row = values.iter_mut();
            for batch in reader {
                let batch = batch.map_err(|e| decode_error(&self.source, &e))?;
                for (i, values) in (0..batch.num_rows()).zip(&mut row) {
                    values.extend(super::arrow_row(batch.columns(), i));
                }
            }
        }
        Ok(values)
    }
}

fn decode_error(source: &str, e: &dyn std::fmt::Display) -> ReadError {
    ReadError::plain(source, format!("cannot decode Parquet data: {e}"))
}

/// The selection of `rows` (ascending) among `total`.
fn selection_of(rows: &[u64], total: u64) -> RowSelection {
    let mut selectors = Vec::with_capacity(2 * rows.len() + 1);
    let mut next = 0;
    for &row in rows {
        if row > next {
            selectors.push(RowSelector::skip((row - next) as usize));
        }
        selectors.push(RowSelector::select(1));
        next = row + 1;
    }
    if total > next {
        selectors.push(RowSelector::skip((total - next) as usize));
    }
    selectors.into()
}

/// Consecutive columns, each group's pages within `most` bytes (a column larger alone is
/// a group of its own). A column's page is taken as its largest chunk up to
/// [`PAGE_BYTES`], uncompressed, plus a zstd context where it has one.
fn column_passes(metadata: &ParquetMetaData, columns: usize, most: u64) -> Vec<Range<usize>> {
    let held = |c: usize| {
        metadata
            .row_groups()
            .iter()
            .map(|g| {
                let chunk = g.column(c);
                let page = (chunk.uncompressed_size().max(0) as u64).min(PAGE_BYTES);
                let codec = match chunk.compression() {
                    Compression::ZSTD(_) => ZSTD_BYTES,
                    _ => 0,
                };
                page + codec
            })
            .max()
            .unwrap_or(0)
    };
    let mut passes = Vec::new();
    let (mut start, mut held_now) = (0, 0);
    for c in 0..columns {
        let more = held(c);
        if c > start && held_now + more > most {
            passes.push(start..c);
            (start, held_now) = (c, 0);
        }
        held_now += more;
    }
    passes.push(start..columns);
    passes
}

/// Uncompressed bytes a row of `columns` (of `all`) takes, on average over the file: the
/// file's own total where they are all of them.
fn row_bytes(metadata: &ParquetMetaData, columns: &Range<usize>, all: usize) -> u64 {
    let groups = metadata.row_groups();
    let rows: i64 = groups.iter().map(|g| g.num_rows()).sum();
    let bytes: i64 = if columns.len() == all {
        groups.iter().map(|g| g.total_byte_size()).sum()
    } else {
        groups
            .iter()
            .flat_map(|g| columns.clone().map(|c| g.column(c).uncompressed_size()))
            .sum()
    };
    (bytes.max(0) as u64).div_ceil(rows.max(1) as u64)
}

/// The reader's metadata asking for text columns whose every data page is dictionary
/// encoded as Arrow dictionaries: a value is then checked and counted once per row
/// group (see `bulk::dictionary_texts`) instead of copied out and looked up per row. A
/// column with plain pages (a writer falls back once its dictionary grows large) would
/// be hashed into a dictionary by the reader, so it stays plain text. Any text type
/// qualifies (polars writes large strings). Where the reader declines the request, the
/// file is read as it was written.
fn keep_dictionaries(
    metadata: parquet::arrow::arrow_reader::ArrowReaderMetadata,
) -> parquet::arrow::arrow_reader::ArrowReaderMetadata {
    use arrow_schema::{Field, Schema};
    use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
    let groups = metadata.metadata().row_groups();
    let schema = metadata.schema();
    if groups.is_empty() || !flat(metadata.metadata(), schema.fields().len()) {
        return metadata;
    }
    let dictionary = |c: usize| groups.iter().all(|g| all_dictionary_pages(g.column(c)));
    let text = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let fields: Vec<Field> = (0..schema.fields().len())
        .map(|c| {
            let field = schema.field(c);
            match field.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View if dictionary(c) => {
                    field.clone().with_data_type(text.clone())
                }
                _ => field.clone(),
            }
        })
        .collect();
    if fields
        .iter()
        .zip(schema.fields())
        .all(|(a, b)| a == b.as_ref())
    {
        return metadata;
    }
    let wanted = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let options = ArrowReaderOptions::new().with_schema(wanted);
    ArrowReaderMetadata::try_new(metadata.metadata().clone(), options).unwrap_or(metadata)
}

/// Whether the column chunk's data pages are all dictionary encoded: by its page
/// encoding statistics where the writer kept them (pyarrow, Spark, arrow-rs). Without
/// them (polars) the chunk must have a dictionary page, a dictionary encoding among its
/// encodings, and a dictionary page too small to have made the writer fall back to
/// plain pages (pyarrow, arrow-rs and Spark do at 1 MiB; text compresses far less
/// than 16 to 1). A wrong guess costs time only: the reader then builds the dictionary
/// itself.
fn all_dictionary_pages(column: &parquet::file::metadata::ColumnChunkMetaData) -> bool {
    use parquet::basic::Encoding;
    const SMALL_DICTIONARY_PAGE: i64 = 64 << 10;
    let Some(dictionary_page) = column.dictionary_page_offset() else {
        return false;
    };
    let dictionary = [Encoding::RLE_DICTIONARY, Encoding::PLAIN_DICTIONARY];
    match column.page_encoding_stats_mask() {
        Some(mask) => dictionary.iter().any(|&e| mask.is_only(e)),
        None => {
            column.encodings().any(|e| dictionary.contains(&e))
                && column.data_page_offset() - dictionary_page <= SMALL_DICTIONARY_PAGE
        }
    }
}

/// Present values per column, from every row group's row and null counts; unknown for
/// a column where a row group has no null count, and for all when the schema is nested
/// (its leaf columns are not the top-level fields).
fn present_values(
    metadata: &parquet::file::metadata::ParquetMetaData,
    fields: usize,
) -> Vec<Option<u64>> {
    if !flat(metadata, fields) {
        return Vec::new();
    }
    let groups = metadata.row_groups();
    (0..fields)
        .map(|c| {
            groups.iter().try_fold(0u64, |sum, g| {
                let nulls = g.column(c).statistics()?.null_count_opt()?;
                Some(sum + (g.num_rows() as u64).checked_sub(nulls)?)
            })
        })
        .collect()
}

/// Whether every row group's leaf columns are the schema's `fields` top-level fields
/// (not so when the schema is nested).
fn flat(metadata: &parquet::file::metadata::ParquetMetaData, fields: usize) -> bool {
    metadata
        .row_groups()
        .iter()
        .all(|g| g.num_columns() == fields)
}

/// Writes `batch` as a Parquet file of row groups of `group_rows` rows (tests).
#[cfg(test)]
pub(crate) fn write_parquet(path: &Path, batch: &arrow_array::RecordBatch, group_rows: usize) {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(group_rows))
        .build();
    let file = File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

#[cfg(test)]
mod tests {
    use super::super::{open, open_parts, CsvOptions};
    use super::*;

    #[test]
    fn parquet_batches_hold_about_batch_bytes_of_long_rows() {
        // Short rows: by cells, as before (121 doubles: 2166 rows; 3 columns: 16 Ki).
        assert_eq!(batch_rows(121, 968), 2166);
        assert_eq!(batch_rows(3, 24), BATCH_ROWS);
        // Rows of documents: about 4 MiB a batch, and at least one row.
        assert_eq!(batch_rows(3, 16_000), BATCH_BYTES / 16_000);
        assert_eq!(batch_rows(3, 10 << 20), 1);
    }

    #[test]
    fn parquet_metadata_counts_present_values() {
        use arrow_array::{ArrayRef, Float64Array, RecordBatch};
        // Three row groups; `x` is missing in one row of four.
        let x = Float64Array::from_iter((0..3000).map(|i| (i % 4 != 0).then_some(i as f64)));
        let y = Float64Array::from_iter_values((0..3000).map(f64::from));
        let batch = RecordBatch::try_from_iter([
            ("x", std::sync::Arc::new(x) as ArrayRef),
            ("y", std::sync::Arc::new(y) as ArrayRef),
        ])
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.parquet");
        write_parquet(&path, &batch, 1000);
        let tables = open_parts(&path, &CsvOptions::default(), 2).unwrap();
        for t in &tables {
            assert_eq!(t.present, vec![Some(2250), Some(3000)]);
        }
        let csv = dir.path().join("d.csv");
        std::fs::write(&csv, "x,y\n1,2\n").unwrap();
        assert!(open(&csv, &CsvOptions::default())
            .unwrap()
            .present
            .is_empty());
    }

    #[test]
    fn dictionary_pages_by_statistics_or_else_by_a_small_dictionary() {
        use parquet::basic::{Encoding, EncodingMask};
        use parquet::file::metadata::ColumnChunkMetaData;
        use parquet::schema::{parser::parse_message_type, types::SchemaDescriptor};
        let message = parse_message_type("message m { optional binary c (STRING); }").unwrap();
        let schema = SchemaDescriptor::new(Arc::new(message));
        let (plain, rle, dict) = (Encoding::PLAIN, Encoding::RLE, Encoding::RLE_DICTIONARY);
        let chunk = |dictionary: Option<i64>, data: i64, stats: Option<&[Encoding]>| {
            let b = ColumnChunkMetaData::builder(schema.column(0))
                .set_encodings(vec![plain, rle, dict])
                .set_dictionary_page_offset(dictionary)
                .set_data_page_offset(data);
            let b = match stats {
                Some(s) => {
                    b.set_page_encoding_stats_mask(EncodingMask::new_from_encodings(s.iter()))
                }
                None => b,
            };
            all_dictionary_pages(&b.build().unwrap())
        };
        // Statistics decide where there are some, whatever the dictionary's size.
        assert!(chunk(Some(4), 900_000, Some(&[dict])));
        assert!(!chunk(Some(4), 1000, Some(&[dict, plain])));
        // Without (polars): a small dictionary page, and no dictionary no dictionary.
        assert!(chunk(Some(4), 1000, None));
        assert!(!chunk(Some(4), 900_000, None));
        assert!(!chunk(None, 1000, None));
    }

    #[test]
    fn text_of_any_kind_comes_as_a_dictionary_where_every_page_is_one() {
        use arrow_array::{ArrayRef, LargeStringArray, RecordBatch, StringArray};
        use arrow_array::{StringViewArray, UInt32Array};
        let few = |i: u32| ["red", "green", "blue"][i as usize % 3];
        let batch = RecordBatch::try_from_iter([
            (
                "large",
                Arc::new(LargeStringArray::from_iter_values((0..3000).map(few))) as ArrayRef,
            ),
            (
                "view",
                Arc::new(StringViewArray::from_iter_values((0..3000).map(few))) as ArrayRef,
            ),
            (
                "plain",
                Arc::new(StringArray::from_iter_values((0..3000).map(few))) as ArrayRef,
            ),
            (
                "n",
                Arc::new(UInt32Array::from_iter_values(0..3000)) as ArrayRef,
            ),
        ])
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.parquet");
        write_parquet(&path, &batch, 1000);
        let table = open(&path, &CsvOptions::default()).unwrap();
        // The types as stored, for findings; the arrays as dictionaries.
        assert_eq!(table.types[0], DataType::LargeUtf8);
        let Some(Ok(Batch::Arrow(read))) = table.next_batch() else {
            panic!("no batch");
        };
        let text = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        for c in 0..3 {
            assert_eq!(read.column(c).data_type(), &text, "column {c}");
        }
        assert_eq!(read.column(3).data_type(), &DataType::UInt32);
        let shown = arrow_cast::cast(read.column(0), &DataType::Utf8).unwrap();
        let written = StringArray::from_iter_values((0..3000).map(few));
        assert_eq!(shown.as_ref(), &written as &dyn arrow_array::Array);
    }

    #[test]
    fn rows_are_selected_among_skipped_ones() {
        let selectors: Vec<RowSelector> = selection_of(&[0, 3, 4, 9], 12).into();
        let expected = [
            RowSelector::select(1),
            RowSelector::skip(2),
            RowSelector::select(1),
            RowSelector::select(1),
            RowSelector::skip(4),
            RowSelector::select(1),
            RowSelector::skip(2),
        ];
        // Adjacent selectors of a kind may be merged: compare the rows they select.
        let rows = |s: &[RowSelector]| -> Vec<bool> {
            s.iter()
                .flat_map(|r| std::iter::repeat_n(!r.skip, r.row_count))
                .collect()
        };
        assert_eq!(rows(&selectors), rows(&expected));
    }

    #[test]
    fn columns_are_grouped_by_the_pages_a_reader_holds() {
        use arrow_array::{ArrayRef, Float64Array, RecordBatch};
        let columns: Vec<(String, ArrayRef)> = (0..10)
            .map(|c| {
                let values =
                    Float64Array::from_iter_values((0..5000).map(|i| f64::from(i * 10 + c)));
                (format!("c{c}"), Arc::new(values) as ArrayRef)
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.parquet");
        write_parquet(&path, &RecordBatch::try_from_iter(columns).unwrap(), 1000);
        let file = File::open(&path).unwrap();
        let metadata = parquet::file::reader::FileReader::metadata(
            &parquet::file::serialized_reader::SerializedFileReader::new(file).unwrap(),
        )
        .clone();
        let one = column_passes(&metadata, 10, u64::MAX);
        assert_eq!((one.len(), one[0].clone()), (1, 0..10));
        let alone: Vec<_> = (0..10).map(|c| c..c + 1).collect();
        assert_eq!(column_passes(&metadata, 10, 1), alone);
        // Every column's chunks are alike: three of them fit three and a half.
        let page = metadata.row_group(0).column(0).uncompressed_size() as u64;
        let mut sizes = metadata.row_groups().iter().flat_map(|g| g.columns());
        assert!(sizes.all(|c| c.uncompressed_size() as u64 == page));
        assert_eq!(
            column_passes(&metadata, 10, 3 * page + page / 2),
            vec![0..3, 3..6, 6..9, 9..10]
        );
    }
}
