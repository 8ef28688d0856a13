//! The scan's bulk paths, for columns whose checks allow them (see [`Bulk`]): a batch of
//! numbers is parsed and checked in one loop and profiled at once; a batch of text is
//! checked and counted once per distinct value of the column's part. Missing values and
//! values that break a rule still go through the per-cell check, in row order, so
//! findings and examples are the same as the per-cell path's.

use super::frame::{Labels, Parsed};
use super::number::{parse_f64, parse_i64};
use super::profile::ColumnBuilder;
use super::schema::{Bulk, Cell, ColumnCheck, ColumnType};
use super::vocabulary::{same, Known, Vocabulary};
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, DictionaryArray, StringArray};
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

/// Typed numbers (`integer`: stored as integers; `None`: missing) of a
/// [`Bulk::Numbers`] column.
pub fn typed_numbers(
    mut f: Feed,
    bulk: Bulk,
    integer: bool,
    cells: impl Iterator<Item = Option<f64>>,
) {
    let mut xs = Vec::with_capacity(cells.size_hint().0);
    let mut nulls = Nulls::of(&f);
    for (i, value) in cells.enumerate() {
        match value.filter(|x| !x.is_nan()) {
            Some(x) => {
                if !bulk.number_passes(x, integer) {
                    f.check(i, Cell::Number(x, integer), None);
                }
                if x.is_finite() {
                    xs.push(x);
                } else {
                    f.profile.number(x);
                }
            }
            None => nulls.add(&mut f, i),
        }
    }
    nulls.finish(&mut f);
    f.profile.numbers(&xs);
}

/// Text values (`None`: empty or missing) of a [`Bulk::Texts`] column. `vocabulary`:
/// the values the column's part has shown so far (see [`Vocabulary`]); set to `None`
/// once it no longer pays.
pub fn texts<'t>(
    f: Feed,
    vocabulary: &mut Option<Vocabulary>,
    cells: impl Iterator<Item = Option<&'t str>>,
) {
    if f.parsed.is_some() && !f.profile.names_full() {
        return labelled_texts(f, cells);
    }
    if !texts_by_value(f, vocabulary.as_mut(), cells) {
        *vocabulary = None;
    }
}

/// [`texts`] value by value; with a vocabulary a value seen before costs one lookup,
/// without one (a column of mostly new values) each is checked and counted as it comes.
/// Returns false when the vocabulary no longer pays (see [`Vocabulary::pays`]).
fn texts_by_value<'t>(
    mut f: Feed,
    vocabulary: Option<&mut Vocabulary>,
    cells: impl Iterator<Item = Option<&'t str>>,
) -> bool {
    let mut lookup = Lookup::new(vocabulary);
    let mut nulls = Nulls::of(&f);
    for (i, value) in cells.enumerate() {
        let Cell::Text(t) = value.map_or(Cell::Null, Cell::of_text) else {
            nulls.add(&mut f, i);
            continue;
        };
        if !lookup.known(&mut f, t).passes {
            f.check(i, Cell::Text(t), None);
        }
    }
    nulls.finish(&mut f);
    lookup.pays()
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

    /// What is known of one present value `t`, which is counted.
    fn known(&mut self, f: &mut Feed, t: &str) -> Known {
        if let Some(known) = self.vocabulary.as_deref().and_then(|v| v.get(t)) {
            self.found += 1;
            f.profile.seen_again(t, known.name, 1);
            return known;
        }
        self.missed += 1;
        let known = Known {
            name: f.profile.repeated_text(t, 1),
            passes: f.check.text_passes(t),
        };
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
    if f.parsed.is_some() && !f.profile.names_full() {
        let cells = column
            .keys()
            .iter()
            .map(|k| k.and_then(|k| raw(k as usize)));
        return labelled_texts(f, cells);
    }
    entries.start(column.values());
    let mut lookup = Lookup::new(vocabulary.as_mut());
    let mut nulls = Nulls::of(&f);
    for (i, key) in column.keys().iter().enumerate() {
        let Some(k) = key.map(|k| k as usize) else {
            nulls.add(&mut f, i);
            continue;
        };
        let known = match entries.known[k] {
            Entries::MISSING => {
                nulls.add(&mut f, i);
                continue;
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
                    continue;
                }
            },
            word => {
                entries.again(k);
                Known::unpacked(word)
            }
        };
        if !known.passes {
            if let Some(Cell::Text(t)) = text(k) {
                f.check(i, Cell::Text(t), None);
            }
        }
    }
    for (k, n) in entries.seen_again() {
        if let Some(Cell::Text(t)) = text(k) {
            let known = Known::unpacked(entries.known[k]);
            f.profile.seen_again(t, known.name, n.into());
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

/// [`texts`] of a column the frame takes as labels: the batch's distinct values give
/// them, and each is checked and counted once.
fn labelled_texts<'t>(mut f: Feed, cells: impl Iterator<Item = Option<&'t str>>) {
    const MISSING: u32 = Labels::MISSING;
    let mut distinct = Distinct::default();
    let mut missing = 0u64;
    let ids: Vec<u32> = cells
        .map(|value| match value.map_or(Cell::Null, Cell::of_text) {
            Cell::Text(t) => distinct.id(t),
            _ => {
                missing += 1;
                MISSING
            }
        })
        .collect();
    // Values in the order first seen, as the per-cell path counts them.
    let passes: Vec<bool> = distinct
        .values
        .iter()
        .map(|&(t, n)| {
            f.profile.repeated_text(t, n);
            f.check.text_passes(t)
        })
        .collect();
    let mut nulls = Nulls::of(&f);
    if !passes.iter().all(|&p| p) || (missing > 0 && !nulls.only_count) {
        for (i, &id) in ids.iter().enumerate() {
            if id == MISSING {
                nulls.add(&mut f, i);
            } else if !passes[id as usize] {
                f.check(i, Cell::Text(distinct.values[id as usize].0), None);
            }
        }
    } else {
        nulls.count = missing;
    }
    nulls.finish(&mut f);
    if let Some(to) = f.parsed.take() {
        let values = distinct.values.iter().map(|v| v.0.to_string()).collect();
        *to = Parsed::Labels { values, rows: ids };
    }
}

/// The distinct values of a batch's column with their counts, in the order first seen.
#[derive(Default)]
struct Distinct<'t> {
    values: Vec<(&'t str, u64)>,
    /// Index of `values`, built once there are more than [`Distinct::FEW`].
    index: HashMap<&'t str, u32, foldhash::fast::FixedState>,
}

impl<'t> Distinct<'t> {
    /// Up to this many values are searched in order: cheaper than hashing the value.
    const FEW: usize = 8;

    fn id(&mut self, text: &'t str) -> u32 {
        let found = if self.values.len() <= Self::FEW {
            self.values.iter().position(|v| same(v.0, text))
        } else {
            self.index.get(text).map(|&i| i as usize)
        };
        if let Some(i) = found {
            self.values[i].1 += 1;
            return i as u32;
        }
        let id = self.values.len() as u32;
        self.values.push((text, 1));
        if self.values.len() > Self::FEW {
            if self.index.is_empty() {
                self.index = self.values.iter().zip(0..).map(|(v, i)| (v.0, i)).collect();
            } else {
                self.index.insert(text, id);
            }
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_values_keep_first_seen_order_past_the_linear_search() {
        let mut d = Distinct::default();
        let words: Vec<String> = (0..20).map(|i| format!("v{}", i % 13)).collect();
        let ids: Vec<u32> = words.iter().map(|w| d.id(w)).collect();
        assert_eq!(
            &ids[..15],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 1]
        );
        assert_eq!(d.values.len(), 13);
        assert_eq!(d.values[0], ("v0", 2));
        assert_eq!(d.values[12], ("v12", 1));
    }
}
