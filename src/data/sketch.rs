//! Mergeable summaries of a column that stay small whatever the row count:
//! a KLL quantile sketch and a HyperLogLog distinct counter.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// KLL sketch (Karnin, Lang, Liberty 2016) of `f64` values. With `k` = [`KLL_K`] the
/// rank error of any quantile or CDF query is below [`KLL_RANK_ERROR`] of the count
/// (DataSketches' figure for all queries at once, 99% confidence); tests check it on
/// fixed data. Compaction coins come from a seeded generator, so results are
/// reproducible run to run.
///
/// Items are held as [`total_order_key`]s, integers that order as the values do under
/// `f64::total_cmp`: compactions sort and merge them all the time, and integers compare
/// faster and without a copy to keys and back each time. JSON holds the values.
///
/// Once the sketch is [`FULL_LEVELS`] levels deep, values enter it by sampling, as the
/// KLL paper's final form does (its bottom compactors become a sampler): one value out
/// of each block of `2^h`, picked at random, joins level `h` = the depth less
/// [`FULL_LEVELS`]. Sorting the level values enter was most of the sketch's cost (about
/// 16 cycles a value), and a level that deep holds items of weight `2^h` anyway: the
/// sampler's error is a small share of the compactions' above it (tests check the bound
/// at sizes where it samples).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kll {
    pub k: usize,
    pub n: u64,
    /// Level `h` holds items of weight `2^h`.
    #[serde(with = "keys_as_values")]
    levels: Vec<Vec<u64>>,
    #[serde(skip)]
    size: usize,
    /// Cached total capacity of the levels; recomputed when a level is added.
    #[serde(skip)]
    max_size: usize,
    #[serde(skip)]
    rng: u64,
    /// The block of values being sampled, if any.
    #[serde(skip)]
    block: Block,
    /// Levels the sketch of the whole stream has beyond this one's, when this one
    /// summarises one of several parts of it (see [`Kll::for_part_of`]).
    #[serde(skip)]
    levels_ahead: usize,
}

/// A block of `2^level` values of which one, at a random place, joins the sketch.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Block {
    level: usize,
    /// Values of the block still to come.
    left: usize,
    /// Values to pass before the one picked; `None` once it has been taken.
    pick: Option<usize>,
}

/// Levels that take every value: deeper sketches sample their input (see [`Kll`]), from
/// about 56 000 values on (blocks of 2; of 4 from 116 000, of 64 from 1.9 M). A sampled
/// block of `2^h` adds about `n·2^h/4` to a rank's variance, the compactions above it
/// `n·2^(depth-1)·4/k`: two fifths as much again at this depth. Measured over 8 seeds
/// (largest rank error over 999 queries, mean of the seeds): 0.0029 → 0.0042 at 70 000
/// values, 0.0037 → 0.0048 at 1 M, 0.0030 → 0.0042 at 3 M, at worst 0.0063; the bound
/// is [`KLL_RANK_ERROR`]. 8 levels sampled half as much and saved a third less time.
const FULL_LEVELS: usize = 7;

pub const KLL_K: usize = 400;
const SEED: u64 = 0x9E37_79B9_7F4A_7C15;
/// Normalised rank error bound for `k` = 400: 2.446 / k^0.9433 (DataSketches' KLL table).
pub const KLL_RANK_ERROR: f64 = 0.0086;

impl Default for Kll {
    fn default() -> Self {
        Kll::new(KLL_K)
    }
}

impl Kll {
    pub fn new(k: usize) -> Kll {
        Kll {
            k,
            n: 0,
            levels: vec![Vec::new()],
            size: 0,
            max_size: 0,
            rng: SEED,
            block: Block::default(),
            levels_ahead: 0,
        }
        .with_capacity()
    }

    /// The sketch of one of `parts` equal parts of a stream, to be merged: it samples
    /// values as the whole stream's sketch would at the same share of the stream (a
    /// level deeper for each doubling of the parts), so the merged sketch's error is
    /// that of one sketch of the whole stream. Sampling by the part's own depth sampled
    /// half as much, for no gain in accuracy once merged.
    pub fn for_part_of(parts: usize) -> Kll {
        Kll {
            levels_ahead: parts.max(1).ilog2() as usize,
            ..Kll::default()
        }
    }

    fn with_capacity(mut self) -> Self {
        self.max_size = self.compute_max_size();
        self
    }

    fn capacity(&self, level: usize) -> usize {
        let depth = self.levels.len() - level - 1;
        ((2.0f64 / 3.0).powi(depth as i32) * self.k as f64).ceil() as usize + 1
    }

    fn compute_max_size(&self) -> usize {
        (0..self.levels.len()).map(|h| self.capacity(h)).sum()
    }

    fn add_level(&mut self) {
        self.levels.push(Vec::new());
        self.max_size = self.compute_max_size();
    }

    pub fn update(&mut self, x: f64) {
        self.extend(std::slice::from_ref(&x));
    }

    /// The level new values enter: 0 until the sketch (of the whole stream) is
    /// [`FULL_LEVELS`] deep.
    fn input_level(&self) -> usize {
        (self.levels.len() + self.levels_ahead)
            .saturating_sub(FULL_LEVELS)
            .min(self.levels.len() - 1)
    }

    /// [`Kll::update`] for each of `xs` in turn.
    pub fn extend(&mut self, mut xs: &[f64]) {
        while !xs.is_empty() {
            xs = if self.block.left == 0 && self.input_level() == 0 {
                self.extend_level_0(xs)
            } else {
                self.sample(xs)
            };
        }
    }

    /// Values into level 0, each run of them up to the next compaction copied at once.
    /// Level 0 may run `k / 2` items over the sketch's capacity: in a deep sketch its own
    /// capacity is a handful of items, and compacting it a few items at a time (a sort
    /// per update) was the main cost of an update. One larger compaction adds no more
    /// rank error than several small ones.
    fn extend_level_0<'a>(&mut self, xs: &'a [f64]) -> &'a [f64] {
        let (run, rest) = xs.split_at(self.room().max(1).min(xs.len()));
        self.levels[0].extend(run.iter().map(|&x| total_order_key(x)));
        self.n += run.len() as u64;
        self.size += run.len();
        self.compress_when_full();
        rest
    }

    /// Values of sampled blocks: of each, the picked one joins the input level (which
    /// may run `k / 2` items over capacity, as level 0 does). Whole blocks up to the
    /// next compaction are taken in one loop; a block that straddles runs, in parts.
    fn sample<'a>(&mut self, xs: &'a [f64]) -> &'a [f64] {
        let level = self.input_level();
        let size = 1usize << level;
        let whole = (xs.len() / size).min(self.room());
        if self.block.left > 0 || whole == 0 {
            return self.sample_part(xs);
        }
        let (run, rest) = xs.split_at(whole * size);
        for block in run.chunks_exact(size) {
            let at = (self.next_random() as usize) & (size - 1);
            self.levels[level].push(total_order_key(block[at]));
        }
        self.size += whole;
        self.n += run.len() as u64;
        self.compress_when_full();
        rest
    }

    /// The values of one block that fall in `xs`, the block started if need be.
    fn sample_part<'a>(&mut self, xs: &'a [f64]) -> &'a [f64] {
        if self.block.left == 0 {
            let level = self.input_level();
            let left = 1 << level;
            let pick = (self.next_random() as usize) & (left - 1);
            self.block = Block {
                level,
                left,
                pick: Some(pick),
            };
        }
        let (run, rest) = xs.split_at(self.block.left.min(xs.len()));
        match self.block.pick {
            Some(at) if at < run.len() => {
                self.levels[self.block.level].push(total_order_key(run[at]));
                self.size += 1;
                self.block.pick = None;
            }
            Some(at) => self.block.pick = Some(at - run.len()),
            None => {}
        }
        self.block.left -= run.len();
        self.n += run.len() as u64;
        self.compress_when_full();
        rest
    }

    /// Items the input level takes before the next compaction: it may run `k / 2` over
    /// the sketch's capacity (see [`Kll::extend_level_0`]).
    fn room(&self) -> usize {
        (self.max_size + self.k / 2).saturating_sub(self.size)
    }

    fn compress_when_full(&mut self) {
        if self.room() == 0 {
            self.compress();
        }
    }

    /// xorshift64: cheap, deterministic.
    fn next_random(&mut self) -> u64 {
        // A sketch read back from JSON has no generator state.
        if self.rng == 0 {
            self.rng = SEED;
        }
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn coin(&mut self) -> bool {
        self.next_random() & 1 == 1
    }

    fn compress(&mut self) {
        for h in 0..self.levels.len() {
            if self.levels[h].len() >= self.capacity(h) {
                if h + 1 >= self.levels.len() {
                    self.add_level();
                }
                let mut items = std::mem::take(&mut self.levels[h]);
                // Levels above the input are kept sorted (below); one read back from
                // JSON or filled by a merge may not be.
                if h <= self.input_level() {
                    items.sort_unstable();
                } else if !items.is_sorted() {
                    // A few sorted runs, which the stable sort merges in linear time.
                    items.sort();
                }
                // An odd item out stays at this level.
                let odd = (items.len() % 2 == 1).then(|| items.pop()).flatten();
                let offset = usize::from(self.coin());
                // Every other item, kept in place: the level's buffer is emptied next.
                let half = items.len() / 2;
                for i in 0..half {
                    items[i] = items[2 * i + offset];
                }
                self.promote(h + 1, &items[..half]);
                // The input level keeps its buffer: it fills up again at once. A level
                // above gets a new one at its next promotion.
                if h <= self.input_level() {
                    items.clear();
                    items.extend(odd);
                    self.levels[h] = items;
                } else {
                    self.levels[h] = odd.into_iter().collect();
                }
                self.size = self.levels.iter().map(Vec::len).sum();
                if self.size < self.max_size {
                    break;
                }
            }
        }
    }

    /// Merges sorted items into level `h`, which stays sorted if it was: its next
    /// compaction then needs no sort (a merge is linear, the sort was not). The merge
    /// goes to a buffer of its exact size: buffers kept for reuse passed from level to
    /// level and grew to the largest, about three times the items a sketch holds (70 MiB
    /// of sketches on a table of 1000 columns read in two parts).
    fn promote(&mut self, h: usize, items: &[u64]) {
        let level = &self.levels[h];
        let mut out = Vec::with_capacity(level.len() + items.len());
        merge_sorted(level, items, &mut out);
        self.levels[h] = out;
    }

    /// `count` copies of `x`, as items at the levels of the bits of `count`: exact.
    fn insert_weighted(&mut self, x: f64, count: u64) {
        let mut bits = count;
        while bits != 0 {
            let h = bits.trailing_zeros() as usize;
            while self.levels.len() <= h {
                self.add_level();
            }
            self.levels[h].push(total_order_key(x));
            self.size += 1;
            bits &= bits - 1;
        }
        self.n += count;
    }

    /// A sketch of values with their counts; exact, however many items that takes.
    pub fn of_counts(counts: impl IntoIterator<Item = (f64, u64)>) -> Kll {
        let mut sketch = Kll::default();
        for (x, c) in counts {
            sketch.insert_weighted(x, c);
        }
        sketch
    }

    /// Folds another sketch in: the result summarises both streams.
    pub fn merge(&mut self, other: &Kll) {
        // A sketch read back from JSON has no cached sizes.
        self.max_size = self.compute_max_size();
        while self.levels.len() < other.levels.len() {
            self.add_level();
        }
        for (h, items) in other.levels.iter().enumerate() {
            self.levels[h].extend_from_slice(items);
        }
        self.n += other.n;
        self.fit();
    }

    /// Compacts until the items fit the sketch's capacity.
    fn fit(&mut self) {
        self.size = self.levels.iter().map(Vec::len).sum();
        while self.size >= self.max_size {
            self.compress();
        }
    }

    /// Items with their weights, sorted by value: a weighted sample of the stream.
    pub fn weighted(&self) -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = self
            .levels
            .iter()
            .enumerate()
            .flat_map(|(h, items)| {
                let w = (1u64 << h) as f64;
                items.iter().map(move |&k| (key_value(k), w))
            })
            .collect();
        out.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    /// The value at quantile `q` in [0, 1].
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.quantiles(&[q])[0]
    }

    /// The values at quantiles `qs`, the items sorted once for all of them.
    pub fn quantiles(&self, qs: &[f64]) -> Vec<Option<f64>> {
        let items = self.weighted();
        let total: f64 = items.iter().map(|x| x.1).sum();
        let at = |q: f64| {
            let target = q.clamp(0.0, 1.0) * total;
            let mut seen = 0.0;
            for (v, w) in &items {
                seen += w;
                if seen >= target {
                    return Some(*v);
                }
            }
            items.last().map(|x| x.0)
        };
        qs.iter().map(|&q| at(q)).collect()
    }

    /// Share of the stream at or below `x`.
    pub fn cdf(&self, x: f64) -> f64 {
        let (mut below, mut total) = (0.0, 0.0);
        for (h, items) in self.levels.iter().enumerate() {
            let w = (1u64 << h) as f64;
            total += w * items.len() as f64;
            below += w * items.iter().filter(|&&k| key_value(k) <= x).count() as f64;
        }
        if total == 0.0 {
            0.0
        } else {
            below / total
        }
    }
}

const SIGN: u64 = 1 << 63;

/// An integer that orders as `f64::total_cmp` orders `x`. Negative numbers: every bit
/// flipped (larger magnitude sorts first); others: the sign bit set, so they sort after
/// all negatives.
pub(crate) fn total_order_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b & SIGN != 0 {
        !b
    } else {
        b | SIGN
    }
}

/// Appends the merge of two sorted runs to `out`, `a`'s item first of equal ones. No
/// branch on which run gives the next item: at the levels where the two interleave at
/// random, a mispredicted branch per item was most of a merge's cost.
fn merge_sorted(a: &[u64], b: &[u64], out: &mut Vec<u64>) {
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        let take_a = x <= y;
        out.push(if take_a { x } else { y });
        i += usize::from(take_a);
        j += usize::from(!take_a);
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

/// The value of a [`total_order_key`].
fn key_value(k: u64) -> f64 {
    f64::from_bits(if k & SIGN != 0 { k & !SIGN } else { !k })
}

/// A sketch's levels of keys as levels of values in JSON.
mod keys_as_values {
    use super::{key_value, total_order_key};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    pub fn serialize<S: Serializer>(levels: &[Vec<u64>], s: S) -> Result<S::Ok, S::Error> {
        let values: Vec<Vec<f64>> = levels
            .iter()
            .map(|l| l.iter().map(|&k| key_value(k)).collect())
            .collect();
        values.serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u64>>, D::Error> {
        let values = Vec::<Vec<f64>>::deserialize(d)?;
        Ok(values
            .into_iter()
            .map(|l| l.into_iter().map(total_order_key).collect())
            .collect())
    }
}

/// Most distinct values a [`Distribution`] counts by value before it turns to sketches.
pub const EXACT_DISTINCT: usize = 512;

/// The distribution of a column's finite numbers: counts by value while there are
/// few distinct values (ages, counts, codes: exact, and cheaper per value than the
/// sketches), a KLL sketch and a HyperLogLog counter past [`EXACT_DISTINCT`].
#[derive(Debug, Clone)]
pub struct Distribution {
    /// Counts by the value's bits (`-0.0` counted as `0.0`); `None` past the limit.
    exact: Option<HashMap<u64, u64, foldhash::fast::FixedState>>,
    sketch: Kll,
    distinct: Hll,
    /// Values not yet in the sketches (past the limit), in order: see [`SKETCH_BATCH`].
    pending: Vec<f64>,
}

/// Values a [`Distribution`] holds before it puts them in its sketches, all at once. The
/// counter's 16 KiB of registers is read at random, and a wide table's batches bring a
/// hundred columns' sketches in turn, each for a hundred values or so: one at a time,
/// nearly every value missed the caches (the register loads alone were a quarter of the
/// scan on a 121-column table). Thousands together touch each register line once or
/// twice while it is at hand. 2048 of them (16 KiB) and the registers (16 KiB) fit a
/// core's first-level cache together; 4096 did not (wide Parquet 0.976 and decimals
/// Parquet 0.96 of 4096's time with 2048; 1024 was between).
const SKETCH_BATCH: usize = 2048;

impl Default for Distribution {
    fn default() -> Self {
        Distribution {
            exact: Some(HashMap::default()),
            sketch: Kll::default(),
            distinct: Hll::default(),
            pending: Vec::new(),
        }
    }
}

impl Distribution {
    /// The distribution of one of `parts` equal parts of a column (see
    /// [`Kll::for_part_of`]).
    pub fn for_part_of(parts: usize) -> Distribution {
        Distribution {
            sketch: Kll::for_part_of(parts),
            ..Distribution::default()
        }
    }

    pub fn add(&mut self, xs: &[f64]) {
        if let Some(counts) = &mut self.exact {
            for (i, &x) in xs.iter().enumerate() {
                *counts.entry(key(x)).or_insert(0) += 1;
                if counts.len() > EXACT_DISTINCT {
                    self.spill();
                    return self.add(&xs[i + 1..]);
                }
            }
            return;
        }
        let mut xs = xs;
        while !xs.is_empty() {
            let room = SKETCH_BATCH - self.pending.len();
            let (now, later) = xs.split_at(room.min(xs.len()));
            self.pending.extend_from_slice(now);
            if self.pending.len() == SKETCH_BATCH {
                self.flush();
            }
            xs = later;
        }
    }

    /// Puts the pending values in the sketches: the counter's first (its registers stay
    /// in the cache for all of them), then the quantile sketch, in arrival order.
    fn flush(&mut self) {
        if self.pending.len() >= SKETCH_BATCH / 4 {
            self.distinct.warm();
        }
        for &x in &self.pending {
            self.distinct.insert_hash(hash_f64(x));
        }
        self.sketch.extend(&self.pending);
        self.pending.clear();
    }

    /// Folds in the distribution of the values that follow.
    pub fn merge(&mut self, mut next: Distribution) {
        self.flush();
        next.flush();
        self.distinct.merge(&next.distinct);
        match (&mut self.exact, next.exact) {
            (Some(counts), Some(more)) => {
                for (k, c) in more {
                    *counts.entry(k).or_insert(0) += c;
                }
                if counts.len() > EXACT_DISTINCT {
                    self.spill();
                }
            }
            (Some(_), None) => {
                self.spill();
                self.sketch.merge(&next.sketch);
            }
            (None, Some(more)) => {
                self.sketch.merge(&next.sketch);
                self.add_counts(more);
            }
            (None, None) => self.sketch.merge(&next.sketch),
        }
    }

    /// Turns counts by value into sketch items.
    fn spill(&mut self) {
        if let Some(counts) = self.exact.take() {
            self.add_counts(counts);
        }
    }

    fn add_counts(&mut self, counts: HashMap<u64, u64, foldhash::fast::FixedState>) {
        for (k, c) in counts {
            let x = f64::from_bits(k);
            self.distinct.insert_hash(hash_f64(x));
            self.sketch.insert_weighted(x, c);
        }
        self.sketch.fit();
    }

    /// The quantile sketch (exact while values were counted), the distinct counter and,
    /// while values were counted, the exact number of distinct values.
    pub fn finish(mut self) -> (Kll, Hll, Option<usize>) {
        self.flush();
        let (mut sketch, mut distinct) = (self.sketch, self.distinct);
        let exact = self.exact.as_ref().map(HashMap::len);
        if let Some(counts) = self.exact {
            let mut counts: Vec<(f64, u64)> = counts
                .into_iter()
                .map(|(k, c)| (f64::from_bits(k), c))
                .collect();
            counts.sort_by(|a, b| a.0.total_cmp(&b.0));
            counts
                .iter()
                .for_each(|c| distinct.insert_hash(hash_f64(c.0)));
            sketch = Kll::of_counts(counts);
        }
        (sketch, distinct, exact)
    }
}

fn key(x: f64) -> u64 {
    if x == 0.0 {
        0
    } else {
        x.to_bits()
    }
}

/// HyperLogLog with 2^14 registers: relative standard error 1.04/√16384 ≈ 0.8%.
///
/// The registers are allocated on the first insert: every column of a table has two
/// counters a part (its text values', its numbers'), and most columns fill only one. On
/// a table of 1000 numeric columns the unused ones were 31 MiB.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Hll {
    /// Empty until a value is inserted; then [`HLL_REGISTERS`] long.
    #[serde(with = "registers")]
    registers: Vec<u8>,
}

const HLL_P: u32 = 14;
const HLL_REGISTERS: usize = 1 << HLL_P;
/// The registers of a counter that holds nothing.
static NO_REGISTERS: [u8; HLL_REGISTERS] = [0; HLL_REGISTERS];

impl PartialEq for Hll {
    fn eq(&self, other: &Hll) -> bool {
        self.registers() == other.registers()
    }
}

impl Hll {
    pub fn insert_hash(&mut self, hash: u64) {
        if self.registers.is_empty() {
            self.registers = vec![0; HLL_REGISTERS];
        }
        let index = (hash >> (64 - HLL_P)) as usize;
        let rest = (hash << HLL_P) | (1 << (HLL_P - 1));
        let rank = rest.leading_zeros() as u8 + 1;
        // Stored unconditionally: whether a register grows is a coin toss early on, and
        // a mispredicted branch cost more than the store.
        let register = &mut self.registers[index];
        *register = (*register).max(rank);
    }

    /// The registers, all zero when none was allocated.
    fn registers(&self) -> &[u8] {
        if self.registers.is_empty() {
            &NO_REGISTERS
        } else {
            &self.registers
        }
    }

    /// Reads the registers in order, a byte per cache line, before a run of updates: in
    /// order the hardware fetches the lines ahead of the reads, where the updates' random
    /// order waited on each line in turn.
    fn warm(&self) {
        let touched = self.registers.iter().step_by(64).fold(0, |a, &r| a ^ r);
        std::hint::black_box(touched);
    }

    pub fn is_empty(&self) -> bool {
        self.registers.iter().all(|&r| r == 0)
    }

    pub fn merge(&mut self, other: &Hll) {
        if other.registers.is_empty() {
            return;
        }
        if self.registers.is_empty() {
            self.registers = other.registers.clone();
            return;
        }
        for (a, b) in self.registers.iter_mut().zip(&other.registers) {
            *a = (*a).max(*b);
        }
    }

    pub fn estimate(&self) -> f64 {
        let registers = self.registers();
        let m = registers.len() as f64;
        let sum: f64 = registers
            .iter()
            // 2^-r from its exponent bits: exact, without a call to `powi` per register.
            .map(|&r| f64::from_bits((1023 - u64::from(r)) << 52))
            .sum();
        let raw = 0.7213 / (1.0 + 1.079 / m) * m * m / sum;
        let zeros = registers.iter().filter(|&&r| r == 0).count();
        if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        }
    }
}

/// Registers as a compact hex string in JSON, all of them even when none was allocated.
mod registers {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(r: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let r = if r.is_empty() {
            &super::NO_REGISTERS[..]
        } else {
            r
        };
        s.serialize_str(&hex::encode(r))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

/// A fast, fixed-seed hash: sketches and uniqueness checks must not vary run to run.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5eed).hash_one(bytes)
}

pub fn hash_f64(x: f64) -> u64 {
    // splitmix64 finaliser on the bits; -0.0 and 0.0 are one value.
    let mut z = if x == 0.0 { 0 } else { x.to_bits() };
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // skewed: exp of a uniform
                ((s >> 11) as f64 / (1u64 << 53) as f64 * 5.0).exp()
            })
            .collect()
    }

    fn max_rank_error(sketch: &Kll, sorted: &[f64]) -> f64 {
        let n = sorted.len() as f64;
        (1..100)
            .map(|i| {
                let x = sorted[(i as f64 / 100.0 * n) as usize];
                let true_rank = sorted.partition_point(|&v| v <= x) as f64 / n;
                (sketch.cdf(x) - true_rank).abs()
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn kll_rank_error_within_the_stated_bound() {
        for seed in 1..=5 {
            let data = stream(200_000, seed);
            let mut sketch = Kll::default();
            data.iter().for_each(|&x| sketch.update(x));
            let mut sorted = data.clone();
            sorted.sort_by(f64::total_cmp);
            let err = max_rank_error(&sketch, &sorted);
            assert!(err <= KLL_RANK_ERROR, "seed {seed}: rank error {err}");
            assert!(sketch.levels.iter().map(Vec::len).sum::<usize>() < 4 * KLL_K);
        }
    }

    #[test]
    fn a_sampled_input_keeps_the_bound() {
        // 2 M values: the sketch is 13 levels deep, values enter level 6 (one in 64).
        for seed in [1, 2] {
            let data = stream(2_000_000, seed);
            let sketch = fed_in_batches(&data, Kll::default());
            assert!(sketch.input_level() >= 5, "{}", sketch.input_level());
            assert_eq!(sketch.n, 2_000_000);
            let err = rank_error_on(&sketch, data);
            assert!(err <= KLL_RANK_ERROR, "seed {seed}: rank error {err}");
        }
    }

    fn fed_in_batches(values: &[f64], mut sketch: Kll) -> Kll {
        values.chunks(SKETCH_BATCH).for_each(|c| sketch.extend(c));
        sketch
    }

    fn rank_error_on(sketch: &Kll, mut data: Vec<f64>) -> f64 {
        data.sort_by(f64::total_cmp);
        max_rank_error(sketch, &data)
    }

    #[test]
    fn parts_sample_as_the_sketch_of_the_whole_stream_would() {
        let data = stream(1_200_000, 4);
        let (head, tail) = data.split_at(600_000);
        let mut first = fed_in_batches(head, Kll::for_part_of(2));
        let second = fed_in_batches(tail, Kll::for_part_of(2));
        let alone = fed_in_batches(head, Kll::default());
        let whole = fed_in_batches(&data, Kll::default());
        assert_eq!(first.input_level(), alone.input_level() + 1);
        assert_eq!(first.input_level(), whole.input_level());
        first.merge(&second);
        assert_eq!(first.n, 1_200_000);
        let err = rank_error_on(&first, data);
        assert!(err <= KLL_RANK_ERROR, "rank error {err}");
    }

    #[test]
    fn extending_by_runs_is_updating_one_by_one() {
        // Deep enough that values are sampled: blocks straddle the runs.
        let data = stream(300_000, 9);
        let mut one = Kll::default();
        data.iter().for_each(|&x| one.update(x));
        assert!(one.input_level() > 0);
        for chunk in [1, 7, 300, 4096, 300_000] {
            let mut runs = Kll::default();
            data.chunks(chunk).for_each(|c| runs.extend(c));
            assert_eq!(runs.levels, one.levels, "chunks of {chunk}");
            assert_eq!((runs.n, runs.size), (one.n, one.size));
        }
    }

    #[test]
    fn kll_levels_above_the_input_stay_sorted_and_unsorted_ones_are_sorted_first() {
        let sketch = |data: &[f64]| {
            let mut s = Kll::default();
            data.iter().for_each(|&x| s.update(x));
            s
        };
        let data = stream(200_000, 3);
        let (head, tail) = data.split_at(100_000);
        let mut a = sketch(head);
        let above_input = |s: &Kll| s.input_level() + 1;
        let sorted = |s: &Kll| s.levels[above_input(s)..].iter().all(|l| l.is_sorted());
        assert!(sorted(&a) && a.levels.len() > 3);
        // As a sketch read back from JSON may be: levels above the input in any order.
        // Its compactions give the same items as the sorted one's.
        let mut b = a.clone();
        let from = above_input(&b);
        b.levels[from..].iter_mut().for_each(|l| l.reverse());
        tail.iter().for_each(|&x| {
            a.update(x);
            b.update(x);
        });
        let items = |s: &Kll| s.levels.iter().map(|l| sorted_copy(l)).collect::<Vec<_>>();
        assert_eq!(items(&a), items(&b));
        assert!(sorted(&a) && a.input_level() > 0, "the tail is sampled");
    }

    fn sorted_copy(level: &[u64]) -> Vec<u64> {
        let mut v = level.to_vec();
        v.sort();
        v
    }

    #[test]
    fn kll_merge_keeps_the_bound() {
        let data = stream(300_000, 9);
        let mut parts: Vec<Kll> = data
            .chunks(70_000)
            .map(|c| {
                let mut s = Kll::default();
                c.iter().for_each(|&x| s.update(x));
                s
            })
            .collect();
        let mut merged = parts.remove(0);
        parts.iter().for_each(|p| merged.merge(p));
        assert_eq!(merged.n, 300_000);
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        assert!(max_rank_error(&merged, &sorted) <= KLL_RANK_ERROR);
    }

    #[test]
    fn keys_order_as_total_cmp_and_give_back_their_values() {
        let items = [
            3.5,
            -0.0,
            0.0,
            -7.25,
            f64::INFINITY,
            -1e300,
            1e-300,
            2.0,
            -2.0,
        ];
        let mut expected = items.to_vec();
        expected.sort_by(f64::total_cmp);
        let mut keys: Vec<u64> = items.iter().map(|&x| total_order_key(x)).collect();
        keys.sort_unstable();
        let back: Vec<u64> = keys.iter().map(|&k| key_value(k).to_bits()).collect();
        let bits: Vec<u64> = expected.iter().map(|x| x.to_bits()).collect();
        assert_eq!(back, bits);
    }

    #[test]
    fn a_sketch_read_back_from_json_holds_the_same_values() {
        let mut sketch = Kll::default();
        stream(20_000, 5)
            .iter()
            .map(|x| x - 50.0)
            .for_each(|x| sketch.update(x));
        let json = serde_json::to_string(&sketch).unwrap();
        let first_level = sketch.levels.iter().find(|l| !l.is_empty()).unwrap();
        assert!(json.contains(&format!("{}", key_value(first_level[0]))));
        let back: Kll = serde_json::from_str(&json).unwrap();
        assert_eq!(back.levels, sketch.levels);
        assert_eq!(
            back.quantiles(&[0.1, 0.5, 0.9]),
            sketch.quantiles(&[0.1, 0.5, 0.9])
        );
    }

    #[test]
    fn kll_small_streams_are_exact() {
        let mut s = Kll::default();
        (1..=100).for_each(|x| s.update(f64::from(x)));
        assert_eq!(s.quantile(0.5), Some(50.0));
        assert_eq!(s.cdf(10.0), 0.1);
    }

    fn sorted(data: &[f64]) -> Vec<f64> {
        let mut s = data.to_vec();
        s.sort_by(f64::total_cmp);
        s
    }

    #[test]
    fn few_distinct_values_are_counted_exactly() {
        // Ages: 73 distinct values, skewed.
        let data: Vec<f64> = stream(100_000, 3)
            .iter()
            .map(|x| 18.0 + (x * 0.49).floor())
            .collect();
        let (mut a, mut b) = (Distribution::default(), Distribution::default());
        a.add(&data[..40_000]);
        b.add(&data[40_000..]);
        a.merge(b);
        let (sketch, _, distinct) = a.finish();
        assert_eq!(sketch.n, 100_000);
        assert_eq!(max_rank_error(&sketch, &sorted(&data)), 0.0);
        let expected = sorted(&data).windows(2).filter(|w| w[0] != w[1]).count() + 1;
        assert_eq!(distinct, Some(expected));
    }

    #[test]
    fn many_distinct_values_turn_to_sketches_within_the_bound() {
        let data = stream(200_000, 4);
        let few: Vec<f64> = (0..50_000).map(|i| f64::from(i % 7)).collect();
        // Exact then spilled, spilled then exact, both spilled.
        for (first, second) in [(&few, &data), (&data, &few), (&data, &data)] {
            let (mut a, mut b) = (Distribution::default(), Distribution::default());
            a.add(first);
            b.add(second);
            a.merge(b);
            let (sketch, distinct, exact) = a.finish();
            assert_eq!(exact, None);
            let all: Vec<f64> = first.iter().chain(second.iter()).copied().collect();
            assert_eq!(sketch.n, all.len() as u64);
            assert!(max_rank_error(&sketch, &sorted(&all)) <= KLL_RANK_ERROR);
            assert!(sketch.levels.iter().map(Vec::len).sum::<usize>() < 4 * KLL_K);
            let d = distinct.estimate()
                / (200_000.0
                    + if std::ptr::eq(first, second) {
                        0.0
                    } else {
                        7.0
                    });
            assert!((d - 1.0).abs() < 0.03, "distinct ratio {d}");
        }
    }

    #[test]
    fn an_unused_counter_holds_no_registers_and_reads_as_an_empty_one() {
        let unused = Hll::default();
        assert!(unused.registers.is_empty());
        assert!(unused.is_empty());
        assert_eq!(unused.estimate(), 0.0);
        let zeros = Hll {
            registers: vec![0; HLL_REGISTERS],
        };
        assert_eq!(unused, zeros);
        let json = serde_json::to_string(&unused).unwrap();
        assert_eq!(json, serde_json::to_string(&zeros).unwrap());
        assert_eq!(serde_json::from_str::<Hll>(&json).unwrap(), unused);

        let mut used = Hll::default();
        (0..1000u64).for_each(|i| used.insert_hash(hash_f64(i as f64)));
        let mut merged = Hll::default();
        merged.merge(&used);
        assert_eq!(merged, used);
        merged.merge(&unused);
        assert_eq!(merged, used);
        assert!((used.estimate() / 1000.0 - 1.0).abs() < 0.03);
    }

    #[test]
    fn a_sketch_holds_little_more_room_than_its_items_need() {
        // A part of a wide table: 15 000 values in batches of 64, as a scan gives them.
        let mut d = Distribution::for_part_of(2);
        stream(15_000, 7).chunks(64).for_each(|c| d.add(c));
        d.flush();
        let room: usize = d.sketch.levels.iter().map(Vec::capacity).sum();
        let most = d.sketch.max_size + KLL_K / 2;
        assert!(room <= 2 * most, "{room} slots for at most {most} items");
    }

    #[test]
    fn hll_estimates_within_three_sigma() {
        for n in [100u64, 10_000, 1_000_000] {
            let mut h = Hll::default();
            (0..n).for_each(|i| h.insert_hash(hash_f64(i as f64)));
            let err = (h.estimate() - n as f64).abs() / n as f64;
            assert!(err < 0.025, "n={n}: {err}");
        }
    }
}
