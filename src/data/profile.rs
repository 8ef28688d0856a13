//! Profiles: per-column statistics gathered in the same pass as the schema check, saved
//! as JSON and stored with each model version as the reference for drift.

use super::schema::ColumnType;
use super::sketch::{hash_bytes, hash_f64, Distribution, Hll, Kll, KLL_RANK_ERROR};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Distinct values counted exactly per column; past this the rest go to `other`.
pub const MAX_CATEGORIES: usize = 1000;
const TOP_K: usize = 10;
const HISTOGRAM_BINS: usize = 20;
const QUANTILES: [f64; 9] = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];

/// A data set's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Format of this file.
    pub profile_version: u32,
    pub source: String,
    pub rows: u64,
    /// Normalised rank error bound of the quantile sketches.
    pub quantile_rank_error: f64,
    pub columns: IndexMap<String, ColumnProfile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// `integer`, `float`, `boolean` or `string`: the schema's, or what the values fit.
    #[serde(rename = "type")]
    pub kind: ColumnType,
    /// Present values.
    pub count: u64,
    pub nulls: u64,
    /// Exact for numbers when at most 512 distinct; otherwise a HyperLogLog estimate
    /// (±0.8% standard error).
    pub distinct: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeric: Option<NumericProfile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Categories>,
}

impl ColumnProfile {
    pub fn is_numeric(&self) -> bool {
        matches!(self.kind, ColumnType::Integer | ColumnType::Float) && self.numeric.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericProfile {
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Quantile → value, from the sketch.
    pub quantiles: IndexMap<String, f64>,
    pub histogram: Histogram,
    pub sketch: Kll,
}

/// Equal-width bins over [min, max]; counts estimated from the sketch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
}

/// Exact value counts up to [`MAX_CATEGORIES`] distinct values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Categories {
    pub counts: IndexMap<String, u64>,
    /// Values not counted by name because the column had too many distinct values.
    pub other: u64,
    pub top: Vec<(String, u64)>,
}

/// Running statistics of one column.
#[derive(Debug, Clone)]
pub struct ColumnBuilder {
    /// The type to hold values as; `None`: decide from the values.
    declared: Option<ColumnType>,
    count: u64,
    nulls: u64,
    /// Distinct text values, and infinite numbers.
    hll: Hll,
    moments: Moments,
    /// Distribution of the finite numbers.
    numbers: Distribution,
    /// Counts by value, while below the cap (categorical and undecided columns), in
    /// the order first seen: which values make the cap depends on it.
    counts: Option<IndexMap<String, u64, foldhash::fast::FixedState>>,
    other: u64,
    /// What every present value so far fits (for undeclared columns).
    all_int: bool,
    all_num: bool,
    all_bool: bool,
    /// Exact values for exact-mode drift, while below the limit.
    values: Option<Vec<f64>>,
    keep_limit: usize,
    /// Keeping stopped on a guess that more than the limit would come (see
    /// [`Self::stop_keeping_on_guess`]).
    guessed: bool,
    /// In a later part of a file: its values in `other` that earlier parts may name.
    overflow: Option<Overflow>,
    /// The names' hashes, once the cap is reached (no value is named after that): most
    /// values are then new, and this tells nearly all of them from the names without a
    /// lookup.
    full_names: Option<NameFilter>,
}

/// A set of strings' [`hash_bytes`] in a table of 16 Ki bits: a string whose bit is
/// clear is not in the set. With the names of a full column (a thousand) a string not
/// among them finds its bit set one time in sixteen.
#[derive(Debug, Clone)]
struct NameFilter(Box<[u64; 256]>);

impl NameFilter {
    fn of<'s>(strings: impl IntoIterator<Item = &'s String>) -> NameFilter {
        let mut bits = Box::new([0u64; 256]);
        for s in strings {
            let bit = hash_bytes(s.as_bytes()) & 0x3fff;
            bits[(bit >> 6) as usize] |= 1 << (bit & 63);
        }
        NameFilter(bits)
    }

    /// Whether the string with this hash may be in the set.
    fn may_hold(&self, hash: u64) -> bool {
        let bit = hash & 0x3fff;
        self.0[(bit >> 6) as usize] >> (bit & 63) & 1 == 1
    }
}

/// The values a later part of a file counts in `other`, past its own cap, that earlier
/// parts may have named: one pass over the file counts those by name. They are looked
/// up among the earlier parts' names once those are known, and held until then (up
/// to [`Overflow::MAX_PENDING`] distinct values; past that the part is read again
/// for the names the merge misses, see [`ColumnBuilder::recounted`]).
#[derive(Debug, Clone, Default)]
struct Overflow {
    /// Values seen before the earlier names were known, with their counts.
    pending: HashMap<String, u64>,
    /// The names one pass gives before this part, once known.
    earlier: Option<HashSet<String>>,
    /// Their hashes.
    earlier_filter: Option<NameFilter>,
    /// Counts of the values in `earlier`.
    found: HashMap<String, u64>,
    /// More values were pending than held: their names are unknown.
    lost: bool,
}

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::FixedState>;

impl Overflow {
    const MAX_PENDING: usize = 64 * 1024;

    /// `n` more of `text`, whose [`hash_bytes`] the caller may know.
    fn add(&mut self, text: &str, hash: Option<u64>, n: u64) {
        if let (Some(filter), Some(hash)) = (&self.earlier_filter, hash) {
            if !filter.may_hold(hash) {
                return;
            }
        }
        let counts = match &self.earlier {
            Some(names) if !names.contains(text) => return,
            Some(_) => &mut self.found,
            None if self.lost => return,
            None => &mut self.pending,
        };
        if let Some(c) = counts.get_mut(text) {
            *c += n;
        } else if counts.len() < Self::MAX_PENDING || self.earlier.is_some() {
            counts.insert(text.to_string(), n);
        } else {
            self.lost = true;
            self.pending = HashMap::default();
        }
    }

    /// The names of the earlier parts, in file order: one pass names the first
    /// [`MAX_CATEGORIES`] distinct values of them.
    fn resolve<'n>(&mut self, earlier: impl IntoIterator<Item = &'n [String]>) {
        let mut names = HashSet::default();
        for value in earlier.into_iter().flatten() {
            if names.len() >= MAX_CATEGORIES {
                break;
            }
            if !names.contains(value) {
                names.insert(value.clone());
            }
        }
        self.found = std::mem::take(&mut self.pending)
            .into_iter()
            .filter(|(v, _)| names.contains(v))
            .collect();
        self.earlier_filter = Some(NameFilter::of(&names));
        self.earlier = Some(names);
    }
}

impl ColumnBuilder {
    pub fn new(declared: Option<ColumnType>, keep_limit: usize) -> Self {
        let numeric = matches!(declared, Some(ColumnType::Integer | ColumnType::Float));
        ColumnBuilder {
            declared,
            count: 0,
            nulls: 0,
            hll: Hll::default(),
            moments: Moments::default(),
            numbers: Distribution::default(),
            counts: (!numeric).then(IndexMap::default),
            other: 0,
            all_int: true,
            all_num: true,
            all_bool: true,
            values: (keep_limit > 0).then(Vec::new),
            keep_limit,
            guessed: false,
            overflow: None,
            full_names: None,
        }
    }

    /// The builder of one of `parts` equal parts of a file, its numbers sketched for
    /// the merge (see [`Distribution::for_part_of`]).
    pub fn part_of(mut self, parts: usize) -> Self {
        self.numbers = Distribution::for_part_of(parts);
        self
    }

    /// The builder of a later part of a file: it keeps track of the values it counts
    /// in `other` for the merge (see [`Overflow`]).
    pub fn later_part(mut self) -> Self {
        if self.counts.is_some() {
            self.overflow = Some(Overflow::default());
        }
        self
    }

    /// The values named, in the order first seen, once no more can be named: the cap
    /// is reached, or `done` (the part is read).
    pub fn final_names(&self, done: bool) -> Option<Vec<String>> {
        let counts = self.counts.as_ref()?;
        (done || counts.len() >= MAX_CATEGORIES).then(|| counts.keys().cloned().collect())
    }

    /// Whether values in `other` wait for the earlier parts' names.
    pub fn awaits_names(&self) -> bool {
        self.overflow
            .as_ref()
            .is_some_and(|o| o.earlier.is_none() && !o.lost)
    }

    /// The names of the earlier parts of the file, each in the order it saw them.
    pub fn earlier_names<'n>(&mut self, names: impl IntoIterator<Item = &'n [String]>) {
        if let Some(o) = &mut self.overflow {
            o.resolve(names);
        }
    }

    /// `n` missing values.
    pub fn nulls(&mut self, n: u64) {
        self.nulls += n;
    }

    /// A number read from a typed (Parquet) column.
    pub fn number(&mut self, x: f64) {
        self.count += 1;
        self.add_number(x);
        self.all_int &= !x.is_finite() || super::schema::is_whole(x);
        self.all_bool = false;
    }

    /// Present numbers of a declared numeric column, in row order: what [`Self::text`]
    /// does for each, in bulk.
    pub fn numbers(&mut self, xs: &[f64]) {
        self.count += xs.len() as u64;
        self.numbers.add(xs);
        self.moments.merge(&Moments::of(xs));
        self.keep(xs);
    }

    /// A present text value, with its number when it parses as one.
    pub fn text(&mut self, text: &str, number: Option<f64>) {
        let Some(x) = number else {
            self.repeated_text(text, 1);
            return;
        };
        self.count += 1;
        self.add_number(x);
        if self.all_int && self.declared.is_none() {
            self.all_int = text.parse::<i64>().is_ok();
        }
        if self.all_bool && self.declared.is_none() {
            self.all_bool = is_bool_token(text);
        }
        if let Some(counts) = &mut self.counts {
            if !count(counts, text, 1) {
                self.overflowed(text, None, 1);
            }
        }
    }

    /// `n` present values that are `text`, which does not read as a number. Returns its
    /// index among the values counted by name, `None` when it is counted in `other`.
    pub fn repeated_text(&mut self, text: &str, n: u64) -> Option<u32> {
        self.count += n;
        // Past the cap the value is most likely new: its hash, needed for the distinct
        // counter then, first tells whether it can be a name.
        let hash = self.names_full().then(|| hash_bytes(text.as_bytes()));
        // A value already counted by name was seen whole before: its hash is in the
        // distinct counter and it told the type flags all they learn from it.
        if let Some(i) = self.name_of(text, hash) {
            self.add_to_name(i, n);
            return Some(i);
        }
        let hash = hash.unwrap_or_else(|| hash_bytes(text.as_bytes()));
        self.hll.insert_hash(hash);
        self.all_num = false;
        self.all_int = false;
        if self.all_bool && self.declared.is_none() {
            self.all_bool = is_bool_token(text);
        }
        let counts = self.counts.as_mut()?;
        // Not counted by name (looked up above): named now, or `other`.
        if counts.len() < MAX_CATEGORIES {
            counts.insert(text.to_string(), n);
            Some(counts.len() as u32 - 1)
        } else {
            self.overflowed(text, Some(hash), n);
            None
        }
    }

    /// The index of `text` among the names; `hash`, its [`hash_bytes`], once the cap
    /// is reached.
    fn name_of(&mut self, text: &str, hash: Option<u64>) -> Option<u32> {
        let counts = self.counts.as_ref()?;
        if let Some(hash) = hash {
            let names = self
                .full_names
                .get_or_insert_with(|| NameFilter::of(counts.keys()));
            if !names.may_hold(hash) {
                return None;
            }
        }
        name_of(counts, text)
    }

    /// `n` more of a value [`Self::repeated_text`] was given before and named `name`:
    /// all it learned from the value stands, only the counts grow.
    pub fn seen_again(&mut self, text: &str, name: Option<u32>, n: u64) {
        self.count += n;
        match name {
            Some(i) => self.add_to_name(i, n),
            None => self.overflowed(text, None, n),
        }
    }

    fn add_to_name(&mut self, i: u32, n: u64) {
        if let Some((_, c)) = self
            .counts
            .as_mut()
            .and_then(|m| m.get_index_mut(i as usize))
        {
            *c += n;
        }
    }

    fn overflowed(&mut self, text: &str, hash: Option<u64>, n: u64) {
        self.other += n;
        if let Some(o) = &mut self.overflow {
            o.add(text, hash, n);
        }
    }

    /// Whether the column has named as many values as it counts by name: most of its
    /// values are then new (identifiers, timestamps, free text).
    pub fn names_full(&self) -> bool {
        self.counts
            .as_ref()
            .is_some_and(|c| c.len() >= MAX_CATEGORIES)
    }

    /// Infinite values are present numbers but are left out of the numeric statistics:
    /// one would make the mean and deviation meaningless.
    fn add_number(&mut self, x: f64) {
        if !x.is_finite() {
            self.hll.insert_hash(hash_f64(x));
            return;
        }
        self.moments.add(x);
        self.numbers.add(std::slice::from_ref(&x));
        self.keep(std::slice::from_ref(&x));
    }

    /// Keeps exact values while all of them fit under the limit.
    fn keep(&mut self, xs: &[f64]) {
        if let Some(values) = &mut self.values {
            if values.len() + xs.len() <= self.keep_limit {
                values.extend_from_slice(xs);
            } else {
                self.values = None;
            }
        }
    }

    /// How many exact values are kept, if still keeping.
    pub fn kept(&self) -> Option<usize> {
        self.values.as_ref().map(Vec::len)
    }

    /// Keeps no exact values (more than the limit are known to exist elsewhere).
    pub fn stop_keeping(&mut self) {
        self.values = None;
    }

    /// Keeps no exact values, more than the limit being expected:
    /// [`Self::stopped_too_soon`] tells, once all are counted, whether they came.
    pub fn stop_keeping_on_guess(&mut self) {
        self.guessed |= self.values.take().is_some();
    }

    /// Whether keeping stopped on a guess, yet all the values would have fit.
    pub fn stopped_too_soon(&self) -> bool {
        self.guessed && self.moments.n <= self.keep_limit as u64
    }

    /// Folds in the builder of the rows that follow this one's (a later part of the
    /// file): the same statistics as one pass over both, except the quantile sketch
    /// (merged, within its error bound) and rounding in the mean and deviation. Returns
    /// the values counted by name whose count in `next` is not known yet: see
    /// [`ColumnBuilder::merge_counts`].
    pub fn merge(&mut self, next: ColumnBuilder) -> Vec<String> {
        self.count += next.count;
        self.nulls += next.nulls;
        self.hll.merge(&next.hll);
        self.moments.merge(&next.moments);
        self.numbers.merge(next.numbers);
        self.all_int &= next.all_int;
        self.all_num &= next.all_num;
        self.all_bool &= next.all_bool;
        self.guessed |= next.guessed;
        self.values = match (self.values.take(), next.values) {
            (Some(mut a), Some(b)) if a.len() + b.len() <= self.keep_limit => {
                a.extend(b);
                Some(a)
            }
            _ => None,
        };
        self.merge_counts(next.counts, next.other, next.overflow)
    }

    /// Counts as one pass would have them: the next part's values in the order it first
    /// saw them, named while below the cap. When the next part itself ran past the cap,
    /// its overflow has no names: the values named here but not there may hide in it.
    /// The next part tracked them (see [`Overflow`]); when it could not, those names
    /// are returned, for the caller to count in that part and hand to
    /// [`ColumnBuilder::recounted`]. The names themselves are exact: a part past the cap
    /// fills the cap here, so no later part adds a name.
    fn merge_counts(
        &mut self,
        next: Option<IndexMap<String, u64, foldhash::fast::FixedState>>,
        other: u64,
        overflow: Option<Overflow>,
    ) -> Vec<String> {
        self.other += other;
        let (Some(counts), Some(next)) = (&mut self.counts, next) else {
            return Vec::new();
        };
        for (value, &c) in &next {
            if !count(counts, value, c) {
                self.other += c;
            }
        }
        if other == 0 {
            return Vec::new();
        }
        match overflow {
            Some(o) if !o.lost => {
                // Pending values are not the next part's names: only names given
                // here before it can match them.
                for (value, c) in o.found.into_iter().chain(o.pending) {
                    if let Some(n) = counts.get_mut(&value) {
                        *n += c;
                        self.other -= c;
                    }
                }
                Vec::new()
            }
            _ => counts
                .keys()
                .filter(|v| !next.contains_key(*v))
                .cloned()
                .collect(),
        }
    }

    /// Counts of named values in a part that had them in its overflow (see
    /// [`ColumnBuilder::merge_counts`]): moved from `other` to their names.
    pub fn recounted(&mut self, found: impl IntoIterator<Item = (String, u64)>) {
        if let Some(counts) = &mut self.counts {
            for (value, c) in found {
                if let Some(n) = counts.get_mut(&value) {
                    *n += c;
                    self.other = self.other.saturating_sub(c);
                }
            }
        }
    }

    /// The type the values fit, when the schema does not say.
    fn kind(&self) -> ColumnType {
        if let Some(t) = self.declared {
            return t;
        }
        if self.count == 0 {
            ColumnType::String
        } else if self.all_int {
            ColumnType::Integer
        } else if self.all_num {
            ColumnType::Float
        } else if self.all_bool {
            ColumnType::Boolean
        } else {
            ColumnType::String
        }
    }

    /// The exact values kept for exact-mode drift, if all were kept.
    pub fn take_values(&mut self) -> Option<Vec<f64>> {
        let numeric = matches!(self.kind(), ColumnType::Integer | ColumnType::Float);
        self.values.take().filter(|_| numeric)
    }

    pub fn finish(self) -> ColumnProfile {
        let kind = self.kind();
        let numeric = matches!(kind, ColumnType::Integer | ColumnType::Float) && self.moments.n > 0;
        let categories = (!numeric || self.declared.is_none()).then(|| {
            let mut counts: Vec<(String, u64)> = self
                .counts
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect();
            counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            Categories {
                top: counts.iter().take(TOP_K).cloned().collect(),
                counts: counts.into_iter().collect(),
                other: self.other,
            }
        });
        let categories = if numeric && self.other > 0 {
            None
        } else {
            categories
        };
        let (sketch, mut hll, exact) = self.numbers.finish();
        let distinct = match exact {
            // Only numbers, counted by value.
            Some(n) if self.hll.is_empty() => n as f64,
            _ => {
                hll.merge(&self.hll);
                hll.estimate().round()
            }
        };
        ColumnProfile {
            kind,
            count: self.count,
            nulls: self.nulls,
            distinct,
            numeric: numeric.then(|| numeric_profile(&self.moments, sketch)),
            categories,
        }
    }
}

/// The numeric part of a profile, from the moments and the finished sketch.
fn numeric_profile(m: &Moments, sketch: Kll) -> NumericProfile {
    NumericProfile {
        min: m.min,
        max: m.max,
        mean: m.mean,
        std: (m.m2 / m.n as f64).sqrt(),
        quantiles: QUANTILES
            .iter()
            .zip(sketch.quantiles(&QUANTILES))
            .map(|(q, v)| (format!("{q}"), v.unwrap_or(f64::NAN)))
            .collect(),
        histogram: histogram(&sketch, m.min, m.max, m.n),
        sketch,
    }
}

/// The index of `text` among the values counted by name, if it is one: a few values are
/// compared in order, which is cheaper than hashing the value.
fn name_of(counts: &IndexMap<String, u64, foldhash::fast::FixedState>, text: &str) -> Option<u32> {
    const FEW: usize = 8;
    let i = if counts.len() <= FEW {
        counts.keys().position(|k| k == text)
    } else {
        counts.get_index_of(text)
    };
    i.map(|i| i as u32)
}

/// Adds `n` to the count of `text`, named if it is not yet and the cap allows; false
/// when it is past the cap (the caller counts it in `other`).
fn count(
    counts: &mut IndexMap<String, u64, foldhash::fast::FixedState>,
    text: &str,
    n: u64,
) -> bool {
    if let Some(c) = counts.get_mut(text) {
        *c += n;
    } else if counts.len() < MAX_CATEGORIES {
        counts.insert(text.to_string(), n);
    } else {
        return false;
    }
    true
}

/// `step` folded over every eighth value of `xs` from each of the first eight, from
/// `start`: eight independent running results.
#[inline(always)]
fn lanes(xs: &[f64], start: f64, step: impl Fn(f64, f64) -> f64) -> [f64; 8] {
    let mut acc = [start; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a = step(*a, x);
        }
    }
    for (a, &x) in acc.iter_mut().zip(rest) {
        *a = step(*a, x);
    }
    acc
}

/// Count, mean, sum of squared deviations and range of numbers.
#[derive(Debug, Clone, Copy)]
struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Moments {
    /// Two passes over a batch: no division per value. Each pass keeps eight running
    /// sums (or bounds), over every eighth value: one running sum is a chain of
    /// additions each waiting on the last, which the compiler may not reorder; eight
    /// are independent, and the processor (and the compiler's vectors) take them at
    /// once. The sums are as exact as one running sum, or more.
    fn of(xs: &[f64]) -> Moments {
        if xs.is_empty() {
            return Moments::default();
        }
        let n = xs.len() as f64;
        let mean = lanes(xs, 0.0, |a, x| a + x).iter().sum::<f64>() / n;
        let m2 = lanes(xs, 0.0, |a, x| a + (x - mean) * (x - mean))
            .iter()
            .sum();
        let min = lanes(xs, f64::INFINITY, |a, x| if x < a { x } else { a });
        let max = lanes(xs, f64::NEG_INFINITY, |a, x| if x > a { x } else { a });
        Moments {
            n: xs.len() as u64,
            mean,
            m2,
            min: min.iter().copied().fold(f64::INFINITY, f64::min),
            max: max.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    /// Welford's update.
    fn add(&mut self, x: f64) {
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// Chan et al.'s pairwise update.
    fn merge(&mut self, next: &Moments) {
        let n = self.n + next.n;
        if next.n > 0 {
            let delta = next.mean - self.mean;
            let share = next.n as f64 / n as f64;
            self.mean += delta * share;
            self.m2 += next.m2 + delta * delta * self.n as f64 * share;
        }
        self.n = n;
        self.min = self.min.min(next.min);
        self.max = self.max.max(next.max);
    }
}

pub fn is_bool_token(text: &str) -> bool {
    ["true", "false", "yes", "no", "0", "1"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(text))
}

fn histogram(sketch: &Kll, min: f64, max: f64, n: u64) -> Histogram {
    if max.partial_cmp(&min) != Some(std::cmp::Ordering::Greater) {
        return Histogram {
            edges: vec![min, max],
            counts: vec![n],
        };
    }
    let width = (max - min) / HISTOGRAM_BINS as f64;
    let edges: Vec<f64> = (0..=HISTOGRAM_BINS)
        .map(|i| min + width * i as f64)
        .collect();
    let mut last = 0.0;
    let counts = edges[1..]
        .iter()
        .enumerate()
        .map(|(i, &e)| {
            let c = if i + 1 == HISTOGRAM_BINS {
                1.0
            } else {
                sketch.cdf(e)
            };
            let share = c - last;
            last = c;
            (share * n as f64).round() as u64
        })
        .collect();
    Histogram { edges, counts }
}

/// One-line bar chart of counts (for Markdown reports).
pub fn sparkline(counts: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    counts
        .iter()
        .map(|&c| BARS[((c as f64 / max) * 7.0).round() as usize])
        .collect()
}

impl Profile {
    pub fn new(source: String, rows: u64, columns: IndexMap<String, ColumnProfile>) -> Profile {
        Profile {
            profile_version: 1,
            source,
            rows,
            quantile_rank_error: KLL_RANK_ERROR,
            columns,
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        // Writing to memory fails only on a value JSON cannot hold, which a profile has not.
        let _ = self.write_json(&mut bytes);
        bytes
    }

    /// [`Profile::to_json`] written to `out` as it is formatted: a wide table's profile
    /// is tens of megabytes.
    pub fn write_json(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut out, self)?;
        out.write_all(b"\n")
    }

    pub fn from_json(bytes: &[u8], source: &str) -> crate::Result<Profile> {
        serde_json::from_slice(bytes)
            .map_err(|e| crate::Error::input(format!("{source}: not an mlgate profile: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One pass over `values`, and the same values in two parts whose later part
    /// learns the first part's names after `before` of its values (if it still waits
    /// for them); with the number of names the merge missed, counted in the later part.
    fn one_and_two_parts(
        values: &[String],
        before: usize,
    ) -> (ColumnProfile, ColumnProfile, usize) {
        let mut one = ColumnBuilder::new(Some(ColumnType::String), 0);
        values.iter().for_each(|v| one.text(v, None));
        let (head, tail) = values.split_at(values.len() / 2);
        let mut first = ColumnBuilder::new(Some(ColumnType::String), 0);
        head.iter().for_each(|v| first.text(v, None));
        let mut later = ColumnBuilder::new(Some(ColumnType::String), 0).later_part();
        for (i, v) in tail.iter().enumerate() {
            if i == before && later.awaits_names() {
                later.earlier_names([first.final_names(true).unwrap().as_slice()]);
            }
            later.repeated_text(v, 1);
        }
        let missed = first.merge(later);
        let found: Vec<(String, u64)> = missed
            .iter()
            .map(|m| (m.clone(), tail.iter().filter(|v| *v == m).count() as u64))
            .collect();
        first.recounted(found);
        (one.finish(), first.finish(), missed.len())
    }

    #[test]
    fn past_the_cap_names_are_still_counted_by_name() {
        // Twice each of 1200 values: the first 1000 are named, and found again among
        // the names once the cap is reached (through their hashes first).
        let mut b = ColumnBuilder::new(Some(ColumnType::String), 0);
        for round in 0..2 {
            for i in 0..1200 {
                let name = b.repeated_text(&format!("v{i}"), 1);
                assert_eq!(
                    name,
                    (i < MAX_CATEGORIES).then_some(i as u32),
                    "round {round}"
                );
            }
        }
        let categories = b.finish().categories.unwrap();
        assert_eq!(categories.counts.len(), MAX_CATEGORIES);
        assert!(categories.counts.values().all(|&c| c == 2));
        assert_eq!(categories.other, 400);
    }

    #[test]
    fn a_later_part_counts_the_values_earlier_parts_named() {
        // 3000 values, both halves past the cap: the first half names its first 1000.
        let values: Vec<String> = (0..40_000)
            .map(|i| format!("v{}", (i * 7) % 3000))
            .collect();
        for before in [0, 500, 19_000] {
            let (one, two, missed) = one_and_two_parts(&values, before);
            assert_eq!(missed, 0, "names given after {before} values");
            assert_eq!(one.categories, two.categories);
        }
    }

    #[test]
    fn a_later_part_past_its_pending_limit_leaves_the_names_to_a_recount() {
        // All distinct after the cap: the later part holds its values until the names
        // come, and gives up past the limit; the values the first part named (repeated
        // in the second half) are then counted again in it.
        let n = 4 * Overflow::MAX_PENDING;
        let values: Vec<String> = (0..n)
            .map(|i| match i < n / 2 {
                true => format!("u{i}"),
                false if i % 3 == 0 => format!("u{}", i % 1000),
                false => format!("w{i}"),
            })
            .collect();
        let (one, two, missed) = one_and_two_parts(&values, n / 2 - 1);
        assert!(missed > 0);
        assert_eq!(one.categories, two.categories);
        let (one, two, missed) = one_and_two_parts(&values, 10);
        assert_eq!(missed, 0);
        assert_eq!(one.categories, two.categories);
    }

    #[test]
    fn infers_types_and_moments() {
        let mut b = ColumnBuilder::new(None, 0);
        for v in ["1", "2", "3", "4"] {
            b.text(v, v.parse().ok());
        }
        b.nulls(1);
        let p = b.finish();
        assert_eq!(p.kind, ColumnType::Integer);
        assert_eq!((p.count, p.nulls), (4, 1));
        let n = p.numeric.unwrap();
        assert_eq!((n.min, n.max, n.mean), (1.0, 4.0, 2.5));
        assert!((n.std - 1.25f64.sqrt()).abs() < 1e-12);
        assert_eq!(n.histogram.counts.iter().sum::<u64>(), 4);
    }

    #[test]
    fn categories_are_capped_with_top_k() {
        let mut b = ColumnBuilder::new(Some(ColumnType::String), 0);
        for i in 0..(MAX_CATEGORIES + 5) {
            b.text(&format!("v{i}"), None);
        }
        b.text("v1", None);
        let c = b.finish().categories.unwrap();
        assert_eq!(c.other, 5);
        assert_eq!(c.top[0], ("v1".to_string(), 2));
    }

    #[test]
    fn booleans_and_strings() {
        let mut b = ColumnBuilder::new(None, 0);
        ["yes", "no"].iter().for_each(|v| b.text(v, None));
        assert_eq!(b.finish().kind, ColumnType::Boolean);
        let mut b = ColumnBuilder::new(None, 0);
        ["1", "x"].iter().for_each(|v| b.text(v, v.parse().ok()));
        assert_eq!(b.finish().kind, ColumnType::String);
    }
}
