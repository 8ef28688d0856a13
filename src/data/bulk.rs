//! The scan's bulk paths, for columns whose checks allow them (see [`Bulk`]): a batch of
//! numbers is parsed and checked in one loop and profiled at once; a batch of text is
//! checked and counted once per distinct value of the column's part. Missing values and
//! values that break a rule still go through the per-cell check, in row order, so
//! findings and examples are the same as the per-cell path's.

use super::frame::{Labels, Parsed};
use super::number::{parse_f64, parse_i64};
use super::profile::ColumnBuilder;
use super::schema::{Bulk, Cell, ColumnCheck, ColumnType};
use super::vocabulary::{Buffered, Known, Vocabulary};
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, BooleanArray, DictionaryArray, Float64Array, StringArray};
use std::borrow::Cow;
use std::collections::HashMap;

/// One column of one batch, and where its findings go.
pub struct Feed<'s, 'a> {
    pub check: &'s mut ColumnCheck<'a>,
    pub profile: &'s mut ColumnBuilder,
    /// Row number of the batch's first row.
    pub first: u64,
    /// Rows (index in the batch) that broke a rule, and the column's name.
    pub bad: &'s mut Vec<(usize, &'a str)>,
    /// Where to put what was parsed of the batch's text, for the frame read in the same
    /// pass (see [`super::frame::FrameBuilder::push`]).
    pub parsed: Option<&'s mut Parsed>,
}

impl Feed<'_, '_> {
    /// Whether the frame read beside takes each row's value from the profile's names:
    /// while there are names to give (past them it reads the cells itself).
    fn labelled(&self) -> bool {
        self.parsed.is_some() && !self.profile.names_full()
    }

    /// The per-cell check of row `i`.
    fn check(&mut self, i: usize, cell: Cell, number: Option<f64>) {
        if self.check.cell(self.first + i as u64, cell, number) {
            self.bad.push((i, self.check.name()));
        }
    }
}

/// A batch's missing values. Where the column allows them they are only counted, so
/// they are added to the profile and the check once per batch; otherwise each is
/// checked in row order, among the other findings.
struct Nulls {
    only_count: bool,
    count: u64,
}

impl Nulls {
    fn of(f: &Feed) -> Self {
        Nulls {
            only_count: f.check.nulls_only_count(),
            count: 0,
        }
    }

    /// The missing value of row `i`.
    fn add(&mut self, f: &mut Feed, i: usize) {
        self.count += 1;
        if !self.only_count {
            f.check(i, Cell::Null, None);
        }
    }

    fn finish(self, f: &mut Feed) {
        f.profile.nulls(self.count);
        if self.only_count {
            f.check.add_nulls(self.count);
        }
    }
}

/// Text values (CSV, JSON Lines; `None`: empty) of a [`Bulk::Numbers`] column declared
/// `kind`.
pub fn parsed_numbers<'t>(
    f: Feed,
    bulk: Bulk,
    kind: ColumnType,
    cells: impl Iterator<Item = Option<&'t str>>,
) {
    // One loop per parser, so that neither the type nor the rule is matched per cell;
    // an integer column's text is read as an i64, so its numbers are whole.
    if kind == ColumnType::Integer {
        parse_loop(
            f,
            cells,
            |t| parse_i64(t).map(|i| i as f64),
            |x| bulk.number_passes(x, true),
        );
    } else {
        parse_loop(f, cells, parse_f64, |x| bulk.number_passes(x, false));
    }
}

#[inline(always)]
fn parse_loop<'t>(
    mut f: Feed,
    cells: impl Iterator<Item = Option<&'t str>>,
    parse: impl Fn(&str) -> Option<f64>,
    passes: impl Fn(f64) -> bool,
) {
    let mut xs = Vec::with_capacity(cells.size_hint().0);
    let handover = f.parsed.take();
    let mut parsed = handover.is_some().then(Vec::new);
    let mut nulls = Nulls::of(&f);
    for (i, value) in cells.enumerate() {
        let cell = value.map_or(Cell::Null, Cell::of_text);
        let number = match cell {
            Cell::Text(t) => parse(t),
            _ => None,
        };
        if let Some(out) = &mut parsed {
            out.push(number.filter(|x| x.is_finite()).unwrap_or(f64::NAN));
        }
        match number {
            Some(x) => {
                if !passes(x) {
                    f.check(i, cell, number);
                }
                match cell {
                    Cell::Text(t) if !x.is_finite() => f.profile.text(t, number),
                    _ => xs.push(x),
                }
            }
            None => match cell {
                Cell::Text(t) => {
                    f.profile.text(t, None);
                    f.check(i, cell, None);
                }
                _ => nulls.add(&mut f, i),
            },
        }
    }
    nulls.finish(&mut f);
    f.profile.numbers(&xs);
    if let (Some(to), Some(numbers)) = (handover, parsed) {
        *to = Parsed::Numbers(numbers);
    }
}

/// Typed numbers (`integer`: stored as integers; null or NaN: missing) of a
/// [`Bulk::Numbers`] column.
pub fn typed_numbers(mut f: Feed, bulk: Bulk, integer: bool, numbers: &Float64Array) {
    let values = numbers.values();
    if let Some(xs) = all_passing(bulk, integer, numbers) {
        let missing = (values.len() - xs.len()) as u64;
        // Missing values the column does not allow are findings, named row by row below.
        if missing == 0 || f.check.nulls_only_count() {
            f.profile.nulls(missing);
            f.check.add_nulls(missing);
            f.profile.numbers(&xs);
            return;
        }
    }
    let mut xs = Vec::with_capacity(values.len());
    let mut nulls = Nulls::of(&f);
    for (i, &x) in values.iter().enumerate() {
        if numbers.is_null(i) || x.is_nan() {
            nulls.add(&mut f, i);
            continue;
        }
        if !bulk.number_passes(x, integer) {
            f.check(i, Cell::Number(x, integer), None);
        }
        if x.is_finite() {
            xs.push(x);
        } else {
            f.profile.number(x);
        }
    }
    nulls.finish(&mut f);
    f.profile.numbers(&xs);
}

/// The present numbers of a typed column (NaN is missing), when every one of them passes
/// the rule; `None` when one does not, for the per-value loop to name it. One pass with
/// no branch per value: missing values fall anywhere, and a branch on each was
/// mispredicted as often as a column is half missing. A column with nothing missing is
/// its own list of present numbers, borrowed.
fn all_passing(bulk: Bulk, integer: bool, numbers: &Float64Array) -> Option<Cow<'_, [f64]>> {
    let values = numbers.values();
    if numbers.null_count() == 0 {
        let (mut nan, mut pass) = (false, true);
        for &x in values.iter() {
            nan |= x.is_nan();
            pass &= x.is_nan() | bulk.number_passes(x, integer);
        }
        if !nan {
            return pass.then_some(Cow::Borrowed(&values[..]));
        }
    }
    let mut xs = vec![0.0; values.len()];
    let (mut kept, mut pass) = (0, true);
    let mut take = |x: f64, valid: bool| {
        let present = valid & !x.is_nan();
        xs[kept] = x;
        kept += usize::from(present);
        pass &= !present | bulk.number_passes(x, integer);
    };
    match numbers.nulls() {
        Some(v) => values
            .iter()
            .zip(v.inner().iter())
            .for_each(|(&x, valid)| take(x, valid)),
        None => values.iter().for_each(|&x| take(x, true)),
    }
    xs.truncate(kept);
    pass.then_some(Cow::Owned(xs))
}

/// Text values (`None`: empty or missing) of a [`Bulk::Texts`] column, each alone or
/// still in the buffer it was read into ([`Buffered`], keyed faster). `vocabulary`: the
/// values the column's part has shown so far (see [`Vocabulary`]); set to `None` once
/// it no longer pays.
pub fn texts<'t, V: Into<Buffered<'t>>>(
    f: Feed,
    vocabulary: &mut Option<Vocabulary>,
    cells: impl Iterator<Item = Option<V>>,
) {
    texts_of_rows(
        f,
        vocabulary,
        cells.map(|c| c.map(Into::into)).enumerate(),
        0,
    );
}

/// [`texts`] of an Arrow column. Where many rows are missing (one in eight or more) and
/// only counted, they are counted at once and the present rows visited by their bits,
/// as [`dictionary_texts`] does: a test per row was mispredicted as often as a column
/// is half missing.
pub fn strings(f: Feed, vocabulary: &mut Option<Vocabulary>, column: &StringArray) {
    let missing = column.null_count();
    match column.nulls() {
        Some(valid)
            if !f.labelled() && f.check.nulls_only_count() && missing * 8 >= column.len() =>
        {
            let present = valid
                .valid_indices()
                .map(|i| (i, Some(buffered(column, i))));
            texts_of_rows(f, vocabulary, present, missing as u64);
        }
        _ => {
            let cells = (0..column.len()).map(|i| column.is_valid(i).then(|| buffered(column, i)));
            texts(f, vocabulary, cells)
        }
    }
}

/// Value `i` of a text column, in the column's buffer of values.
fn buffered(column: &StringArray, i: usize) -> Buffered<'_> {
    let start = column.value_offsets()[i] as usize;
    Buffered::new(column.value(i), &column.value_data()[start..])
}

/// [`texts`] of the rows given with their indices, value by value; `missing`: rows left
/// out as missing, already counted. With a vocabulary a value seen before costs one
/// lookup, without one (a column of mostly new values) each is checked and counted as
/// it comes. When the frame is read beside, each row's value is also handed to it
/// ([`Parsed::Labels`]).
fn texts_of_rows<'t>(
    mut f: Feed,
    vocabulary: &mut Option<Vocabulary>,
    rows: impl Iterator<Item = (usize, Option<Buffered<'t>>)>,
    missing: u64,
) {
    let mut labels = f.labelled().then(Labeller::default);
    let mut lookup = Lookup::new(vocabulary.as_mut());
    let mut nulls = Nulls::of(&f);
    nulls.count += missing;
    for (i, value) in rows {
        let Some((value, Cell::Text(t))) = value.map(|v| (v, Cell::of_text(v.text))) else {
            nulls.add(&mut f, i);
            if let Some(labels) = &mut labels {
                labels.rows.push(Labels::MISSING);
            }
            continue;
        };
        let known = lookup.known(&mut f, value.part(t));
        if !known.passes() {
            f.check(i, Cell::Text(t), None);
        }
        if let Some(labels) = &mut labels {
            labels.push(t, known.name());
        }
    }
    nulls.finish(&mut f);
    if let (Some(labels), Some(to)) = (labels, f.parsed.take()) {
        *to = labels.parsed();
    }
    if !lookup.pays() {
        *vocabulary = None;
    }
}

/// Each row of a batch's column as an index into the batch's distinct values, for the
/// frame. A value is known by its name in the profile, which the lookup has just given:
/// no second table of strings.
#[derive(Default)]
struct Labeller<'t> {
    values: Vec<&'t str>,
    rows: Vec<u32>,
    /// By name: the value's index in `values`, or [`Labeller::NONE`].
    by_name: Vec<u32>,
    /// Values without a name (the profile named as many as it counts by name).
    unnamed: HashMap<&'t str, u32, foldhash::fast::FixedState>,
}

impl<'t> Labeller<'t> {
    const NONE: u32 = u32::MAX;

    fn push(&mut self, value: &'t str, name: Option<u32>) {
        let next = self.values.len() as u32;
        let index = match name {
            Some(name) => {
                let name = name as usize;
                if name >= self.by_name.len() {
                    self.by_name.resize(name + 1, Self::NONE);
                }
                let slot = &mut self.by_name[name];
                if *slot == Self::NONE {
                    *slot = next;
                }
                *slot
            }
            None => *self.unnamed.entry(value).or_insert(next),
        };
        if index == next {
            self.values.push(value);
        }
        self.rows.push(index);
    }

    fn parsed(self) -> Parsed {
        Parsed::Labels {
            values: self.values.iter().map(|v| v.to_string()).collect(),
            rows: self.rows,
        }
    }
}

/// A value's [`Known`] from the part's vocabulary, or learned (checked, and counted as
/// new) and held there; the vocabulary's hits and misses decide whether it pays.
struct Lookup<'v> {
    vocabulary: Option<&'v mut Vocabulary>,
    found: usize,
    missed: usize,
}

impl<'v> Lookup<'v> {
    fn new(vocabulary: Option<&'v mut Vocabulary>) -> Self {
        Lookup {
            vocabulary,
            found: 0,
            missed: 0,
        }
    }

    /// What is known of one present value, which is counted.
    #[inline(always)]
    fn known<'t>(&mut self, f: &mut Feed, value: impl Into<Buffered<'t>>) -> Known {
        let value = value.into();
        if let Some(known) = self.vocabulary.as_deref().and_then(|v| v.get(value)) {
            self.found += 1;
            f.profile.seen_again(value.text, known.name(), 1);
            return known;
        }
        self.missed += 1;
        self.learn(f, value.text)
    }

    /// What is known of a value not held: checked, counted as new and held.
    #[inline(never)]
    fn learn(&mut self, f: &mut Feed, t: &str) -> Known {
        let known = Known::new(f.profile.repeated_text(t, 1), f.check.text_passes(t));
        if let Some(v) = self.vocabulary.as_deref_mut() {
            v.insert(t, known);
        }
        known
    }

    fn pays(&self) -> bool {
        self.vocabulary
            .as_deref()
            .is_none_or(|v| v.pays(self.found, self.missed))
    }
}

/// A boolean column of a [`Bulk::Texts`] rule, its values shown as `true` and `false`
/// as a cast shows them. Two values: each is looked up once per batch and counted from
/// the bits, where the text path hashed `"true"` or `"false"` per row. Rows are visited
/// one by one only where they are needed: for the frame's labels, for a value out of
/// rule, or for missing values that are findings row by row.
pub fn booleans(mut f: Feed, vocabulary: &mut Option<Vocabulary>, column: &BooleanArray) {
    let missing = column.null_count();
    let per_row = missing > 0 && !f.check.nulls_only_count();
    let passes = [true, false]
        .iter()
        .all(|&v| f.check.text_passes(as_text(v)));
    if f.labelled() || per_row || !passes {
        return texts(f, vocabulary, shown(column));
    }
    let trues = column.true_count();
    let counts = [(true, trues), (false, column.len() - missing - trues)];
    let mut lookup = Lookup::new(vocabulary.as_mut());
    // In any order: a profile lists its values by count, then by name.
    for (value, n) in counts.into_iter().filter(|&(_, n)| n > 0) {
        let known = lookup.known(&mut f, as_text(value));
        if n > 1 {
            f.profile
                .seen_again(as_text(value), known.name(), n as u64 - 1);
        }
    }
    let mut nulls = Nulls::of(&f);
    nulls.count += missing as u64;
    nulls.finish(&mut f);
    if !lookup.pays() {
        *vocabulary = None;
    }
}

/// Booleans as text, as a cast would show them, without building the strings.
pub fn shown(b: &BooleanArray) -> impl Iterator<Item = Option<&'static str>> + '_ {
    b.iter().map(|v| v.map(as_text))
}

fn as_text(v: bool) -> &'static str {
    if v {
        "true"
    } else {
        "false"
    }
}

/// A Parquet text column kept as a dictionary (see `reader::keep_dictionaries`) of a
/// [`Bulk::Texts`] column: each entry is learned once per dictionary, through the
/// vocabulary, and a row costs an index; the counts of values seen again are added once
/// per batch. The same findings and profile as [`texts`] on the same values.
pub fn dictionary_texts(
    mut f: Feed,
    vocabulary: &mut Option<Vocabulary>,
    entries: &mut Entries,
    column: &DictionaryArray<Int32Type>,
    values: &StringArray,
) {
    let raw = |k: usize| values.is_valid(k).then(|| values.value(k));
    let text = |k: usize| raw(k).map(Cell::of_text);
    if f.labelled() {
        let cells = column
            .keys()
            .iter()
            .map(|k| k.and_then(|k| raw(k as usize)));
        return texts(f, vocabulary, cells);
    }
    entries.start(column.values());
    let mut lookup = Lookup::new(vocabulary.as_mut());
    let mut nulls = Nulls::of(&f);
    let keys = column.keys();
    // Where many rows are missing and only counted, they are counted at once and the
    // present rows visited by their bits: a test per row was mispredicted as often as a
    // column is half missing (with few missing, the test costs less than the visit).
    let missing = keys.null_count();
    let by_bits = keys
        .nulls()
        .filter(|_| nulls.only_count && missing * 8 >= keys.len());
    if by_bits.is_some() {
        nulls.count += missing as u64;
    }
    let mut row = |i: usize, key: Option<usize>| {
        let Some(k) = key else {
            nulls.add(&mut f, i);
            return;
        };
        let known = match entries.known[k] {
            Entries::MISSING => {
                nulls.add(&mut f, i);
                return;
            }
            Entries::UNSEEN => match text(k) {
                Some(Cell::Text(t)) => {
                    let known = lookup.known(&mut f, t);
                    entries.known[k] = known.packed();
                    known
                }
                _ => {
                    entries.known[k] = Entries::MISSING;
                    nulls.add(&mut f, i);
                    return;
                }
            },
            word => {
                entries.again(k);
                Known::unpacked(word)
            }
        };
        if !known.passes() {
            if let Some(Cell::Text(t)) = text(k) {
                f.check(i, Cell::Text(t), None);
            }
        }
    };
    match by_bits {
        Some(valid) => valid
            .valid_indices()
            .for_each(|i| row(i, Some(keys.values()[i] as usize))),
        None => keys
            .iter()
            .enumerate()
            .for_each(|(i, k)| row(i, k.map(|k| k as usize))),
    }
    for (k, n) in entries.seen_again() {
        if let Some(Cell::Text(t)) = text(k) {
            let known = Known::unpacked(entries.known[k]);
            f.profile.seen_again(t, known.name(), n.into());
        }
    }
    nulls.finish(&mut f);
    if !lookup.pays() {
        *vocabulary = None;
    }
}

/// What was learned of each entry of the dictionary a Parquet column's batches point
/// into: every batch of a row group shares one, so an entry is looked up once per row
/// group rather than once per row. Eight bytes per entry.
#[derive(Default)]
pub struct Entries {
    /// The dictionary (held, so that its address names it while in use).
    dictionary: Option<ArrayRef>,
    /// By entry: [`Entries::UNSEEN`], [`Entries::MISSING`] or a [`Known::packed`].
    known: Vec<u32>,
    /// Rows of this batch per entry beyond its first sighting, and the entries with any.
    again: Vec<u32>,
    touched: Vec<usize>,
}

// An entry's marks are no packed [`Known`].
const _: () = assert!(Known::PACKED_MAX < Entries::MISSING);

impl Entries {
    const UNSEEN: u32 = u32::MAX;
    /// Empty, or a spelling of a missing value.
    const MISSING: u32 = u32::MAX - 1;

    /// Starts a batch whose keys point into `dictionary`; forgets the last one's
    /// entries when it differs.
    fn start(&mut self, dictionary: &ArrayRef) {
        if self
            .dictionary
            .as_ref()
            .is_some_and(|d| std::sync::Arc::ptr_eq(d, dictionary))
        {
            return;
        }
        self.dictionary = Some(dictionary.clone());
        self.known = vec![Entries::UNSEEN; dictionary.len()];
        self.again = vec![0; dictionary.len()];
        self.touched.clear();
    }

    fn again(&mut self, k: usize) {
        if self.again[k] == 0 {
            self.touched.push(k);
        }
        self.again[k] += 1;
    }

    /// The batch's repeat counts by entry, reset for the next batch.
    fn seen_again(&mut self) -> Vec<(usize, u32)> {
        let again = &mut self.again;
        self.touched
            .drain(..)
            .map(|k| (k, std::mem::take(&mut again[k])))
            .collect()
    }
}
