//! One histogram-based regression tree learner shared by gradient boosting and random
//! forests. Each row carries a weight and a vector of weighted sums; a node's score is
//! `Σₖ sumₖ² / (weight + λ)`. With gradients (sum = −g, weight = h) that is XGBoost's /
//! HistGradientBoosting's split gain; with one-hot labels (sum = w·yₖ) it is the Gini
//! decrease, and with numbers the variance decrease, of a random-forest tree.

use super::bins::{BinEdges, Binned, MISSING};
use super::parallel;
use super::rng::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BinaryHeap;

/// A fitted tree as parallel arrays; node 0 is the root and a node with `left == 0` is a leaf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub feature: Vec<u32>,
    pub threshold: Vec<f64>,
    pub missing_left: Vec<bool>,
    pub left: Vec<u32>,
    pub right: Vec<u32>,
    /// `outputs` values per node; only leaves' are used.
    pub value: Vec<f64>,
    pub outputs: usize,
}

impl Tree {
    /// The leaf a row (in design-matrix columns) falls in.
    pub fn leaf(&self, row: &[f64]) -> usize {
        let mut node = 0usize;
        while self.left[node] != 0 {
            let v = row[self.feature[node] as usize];
            let go_left = if v.is_nan() {
                self.missing_left[node]
            } else {
                v <= self.threshold[node]
            };
            node = if go_left {
                self.left[node]
            } else {
                self.right[node]
            } as usize;
        }
        node
    }

    pub fn predict(&self, row: &[f64]) -> &[f64] {
        let leaf = self.leaf(row);
        &self.value[leaf * self.outputs..(leaf + 1) * self.outputs]
    }

    fn push(&mut self) -> u32 {
        self.feature.push(0);
        self.threshold.push(0.0);
        self.missing_left.push(false);
        self.left.push(0);
        self.right.push(0);
        self.value.extend(std::iter::repeat_n(0.0, self.outputs));
        (self.feature.len() - 1) as u32
    }
}

/// Per-row learning targets: `weight[r]` and `sums[r * outputs + k]`.
pub struct Targets<'a> {
    pub outputs: usize,
    pub weight: &'a [f64],
    pub sums: &'a [f64],
}

/// Limits on a tree's growth.
#[derive(Debug, Clone)]
pub struct Growth {
    pub max_depth: Option<usize>,
    /// Best-first growth up to this many leaves; `None` grows depth-first until pure.
    pub max_leaves: Option<usize>,
    pub min_samples_leaf: usize,
    pub min_weight_leaf: f64,
    pub l2: f64,
    /// Features drawn at random for each node (random forests); `None` uses all.
    pub max_features: Option<usize>,
    pub threads: usize,
}

/// A grown tree, which rows ended in which leaf, and the gain of each feature's splits.
pub struct Grown {
    pub tree: Tree,
    pub leaves: Vec<(usize, Vec<u32>)>,
    pub gains: Vec<f64>,
}

/// One histogram per feature: 256 bins × (count, weight, sums…).
type Histograms = Vec<Vec<f64>>;

struct Data<'a> {
    binned: &'a Binned,
    targets: &'a Targets<'a>,
    growth: &'a Growth,
    stride: usize,
}

#[derive(Clone)]
struct Split {
    gain: f64,
    feature: usize,
    bin: usize,
    missing_left: bool,
    left: Vec<f64>,
    right: Vec<f64>,
}

struct Open {
    node: u32,
    depth: usize,
    rows: Vec<u32>,
    hist: Option<Histograms>,
    split: Split,
}

/// Nodes waiting to be split: best gain first (bounded leaves, as LightGBM and
/// HistGradientBoosting), or depth-first (unbounded, few histograms held at once).
enum Frontier {
    BestFirst(BinaryHeap<Open>),
    DepthFirst(Vec<Open>),
}

impl Frontier {
    fn new(best_first: bool) -> Self {
        if best_first {
            Frontier::BestFirst(BinaryHeap::new())
        } else {
            Frontier::DepthFirst(Vec::new())
        }
    }

    fn push(&mut self, open: Open) {
        match self {
            Frontier::BestFirst(heap) => heap.push(open),
            Frontier::DepthFirst(stack) => stack.push(open),
        }
    }

    fn pop(&mut self) -> Option<Open> {
        match self {
            Frontier::BestFirst(heap) => heap.pop(),
            Frontier::DepthFirst(stack) => stack.pop(),
        }
    }
}

impl PartialEq for Open {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Open {}
impl PartialOrd for Open {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Open {
    /// Largest gain first; among equal gains the older node, so the order is total.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.split
            .gain
            .total_cmp(&other.split.gain)
            .then(other.node.cmp(&self.node))
    }
}

pub fn grow(
    binned: &Binned,
    edges: &BinEdges,
    targets: &Targets,
    rows: Vec<u32>,
    growth: &Growth,
    rng: &mut Rng,
) -> Grown {
    let data = Data {
        binned,
        targets,
        growth,
        stride: 2 + targets.outputs,
    };
    let mut tree = Tree {
        feature: Vec::new(),
        threshold: Vec::new(),
        missing_left: Vec::new(),
        left: Vec::new(),
        right: Vec::new(),
        value: Vec::new(),
        outputs: targets.outputs,
    };
    let mut grown_leaves = Vec::new();
    let mut gains = vec![0.0; binned.columns.len()];
    let root = tree.push();
    let total = data.totals(&rows);
    let mut frontier = Frontier::new(growth.max_leaves.is_some());
    let mut leaves = 1usize;
    let mut finish = |tree: &mut Tree, node: u32, rows: Vec<u32>, stats: &[f64]| {
        data.set_value(tree, node as usize, stats);
        grown_leaves.push((node as usize, rows));
    };
    match data.open(root, 0, rows, &total, None, rng) {
        Ok(open) => frontier.push(open),
        Err(rows) => finish(&mut tree, root, rows, &total),
    }
    while let Some(open) = frontier.pop() {
        if growth.max_leaves.is_some_and(|max| leaves >= max) {
            let stats = data.sum(&open.split.left, &open.split.right);
            finish(&mut tree, open.node, open.rows, &stats);
            continue;
        }
        leaves += 1;
        let split = &open.split;
        gains[split.feature] += split.gain;
        let (left, right) = (tree.push(), tree.push());
        let n = open.node as usize;
        tree.feature[n] = split.feature as u32;
        tree.threshold[n] = edges.edges[split.feature]
            .get(split.bin)
            .copied()
            .unwrap_or(f64::MAX);
        tree.missing_left[n] = split.missing_left;
        tree.left[n] = left;
        tree.right[n] = right;
        let column = &binned.columns[split.feature];
        let (rows_l, rows_r): (Vec<u32>, Vec<u32>) = open.rows.iter().partition(|&&r| {
            let b = column[r as usize];
            if b == MISSING {
                split.missing_left
            } else {
                (b as usize) <= split.bin
            }
        });
        let (hist_l, hist_r) = data.child_histograms(open.hist, &rows_l, &rows_r);
        let children = [
            (left, rows_l, split.left.clone(), hist_l),
            (right, rows_r, split.right.clone(), hist_r),
        ];
        for (node, rows, stats, hist) in children {
            match data.open(node, open.depth + 1, rows, &stats, hist, rng) {
                Ok(child) => frontier.push(child),
                Err(rows) => finish(&mut tree, node, rows, &stats),
            }
        }
    }
    Grown {
        tree,
        leaves: grown_leaves,
        gains,
    }
}

impl Data<'_> {
    fn score(&self, stats: &[f64]) -> f64 {
        let w = stats[1] + self.growth.l2;
        if w <= 0.0 {
            return 0.0;
        }
        stats[2..].iter().map(|s| s * s).sum::<f64>() / w
    }

    fn sum(&self, a: &[f64], b: &[f64]) -> Vec<f64> {
        a.iter().zip(b).map(|(x, y)| x + y).collect()
    }

    fn set_value(&self, tree: &mut Tree, node: usize, stats: &[f64]) {
        let w = stats[1] + self.growth.l2;
        let k = self.targets.outputs;
        for (v, s) in tree.value[node * k..(node + 1) * k]
            .iter_mut()
            .zip(&stats[2..])
        {
            *v = if w > 0.0 { s / w } else { 0.0 };
        }
    }

    fn totals(&self, rows: &[u32]) -> Vec<f64> {
        let k = self.targets.outputs;
        let mut t = vec![0.0; self.stride];
        for &r in rows {
            let r = r as usize;
            t[0] += 1.0;
            t[1] += self.targets.weight[r];
            for (acc, s) in t[2..]
                .iter_mut()
                .zip(&self.targets.sums[r * k..(r + 1) * k])
            {
                *acc += s;
            }
        }
        t
    }

    /// A node worth splitting, with its best split; or its rows back when it is a leaf.
    fn open(
        &self,
        node: u32,
        depth: usize,
        rows: Vec<u32>,
        total: &[f64],
        hist: Option<Histograms>,
        rng: &mut Rng,
    ) -> std::result::Result<Open, Vec<u32>> {
        let g = self.growth;
        if g.max_depth.is_some_and(|d| depth >= d) || rows.len() < 2 * g.min_samples_leaf.max(1) {
            return Err(rows);
        }
        let n_features = self.binned.columns.len();
        let features: Vec<usize> = match g.max_features {
            Some(m) if m < n_features => rng.choose(n_features, m),
            _ => (0..n_features).collect(),
        };
        let hist = match hist {
            Some(h) if g.max_features.is_none() => h,
            _ => self.histograms(&rows, &features),
        };
        let parent = self.score(total);
        let mut best: Option<Split> = None;
        for &f in &features {
            if let Some(s) = self.best_split(f, &hist[f], total, parent) {
                if best.as_ref().is_none_or(|b| s.gain > b.gain) {
                    best = Some(s);
                }
            }
        }
        match best {
            Some(split) if split.gain > 1e-12 * parent.abs().max(1e-12) => Ok(Open {
                node,
                depth,
                rows,
                hist: (g.max_features.is_none()).then_some(hist),
                split,
            }),
            _ => Err(rows),
        }
    }

    /// Histograms of the given features over `rows`; other features' stay empty.
    fn histograms(&self, rows: &[u32], features: &[usize]) -> Histograms {
        let threads = if rows.len() * features.len() > 200_000 {
            self.growth.threads
        } else {
            1
        };
        let ordered = self.ordered_targets(rows);
        let built = parallel::map(features.len(), threads, |i| {
            self.histogram(rows, features[i], &ordered)
        });
        let mut all = vec![Vec::new(); self.binned.columns.len()];
        for (f, h) in features.iter().zip(built) {
            all[*f] = h;
        }
        all
    }

    /// Each row's weight and sums, in the order of `rows`: gathered once per node, so
    /// every feature's histogram reads them in sequence instead of gathering them again.
    fn ordered_targets(&self, rows: &[u32]) -> Vec<f64> {
        let k = self.targets.outputs;
        let (w, s) = (self.targets.weight, self.targets.sums);
        let mut out = Vec::with_capacity(rows.len() * (k + 1));
        for &r in rows {
            let r = r as usize;
            out.push(w[r]);
            out.extend_from_slice(&s[r * k..(r + 1) * k]);
        }
        out
    }

    /// One feature's histogram over `rows`, whose targets `ordered` holds in their order.
    fn histogram(&self, rows: &[u32], feature: usize, ordered: &[f64]) -> Vec<f64> {
        let stride = self.stride;
        let column = &self.binned.columns[feature];
        let mut h = vec![0.0; 256 * stride];
        if stride == 3 {
            // Bins as fixed arrays, which a `u8` bin indexes without a bounds check; two
            // of them, alternate rows to each, so that a run of rows in one bin does not
            // wait on its own last store.
            let mut pair = [[[0.0f64; 3]; 256]; 2];
            let mut add = |half: usize, r: u32, t: &[f64; 2]| {
                let bin = &mut pair[half][column[r as usize] as usize];
                bin[0] += 1.0;
                bin[1] += t[0];
                bin[2] += t[1];
            };
            let (rows2, rest) = rows.as_chunks::<2>();
            let (targets2, rest_targets) = ordered.as_chunks::<4>();
            for (r, t) in rows2.iter().zip(targets2) {
                add(0, r[0], &[t[0], t[1]]);
                add(1, r[1], &[t[2], t[3]]);
            }
            if let (Some(&r), [w, s]) = (rest.first(), rest_targets) {
                add(0, r, &[*w, *s]);
            }
            for (out, (a, b)) in h.chunks_exact_mut(3).zip(pair[0].iter().zip(&pair[1])) {
                (0..3).for_each(|i| out[i] = a[i] + b[i]);
            }
        } else {
            for (&r, t) in rows.iter().zip(ordered.chunks_exact(stride - 1)) {
                let base = column[r as usize] as usize * stride;
                h[base] += 1.0;
                h[base + 1..base + stride]
                    .iter_mut()
                    .zip(t)
                    .for_each(|(acc, v)| *acc += v);
            }
        }
        h
    }

    /// The children's histograms: the smaller child's built, the larger's by subtraction
    /// from the parent (half the work, the classic LightGBM trick).
    fn child_histograms(
        &self,
        parent: Option<Histograms>,
        left: &[u32],
        right: &[u32],
    ) -> (Option<Histograms>, Option<Histograms>) {
        let Some(mut parent) = parent else {
            return (None, None);
        };
        let min_rows = 2 * self.growth.min_samples_leaf.max(1);
        if left.len() < min_rows && right.len() < min_rows {
            return (None, None);
        }
        let all: Vec<usize> = (0..self.binned.columns.len()).collect();
        let small_is_left = left.len() <= right.len();
        let small = self.histograms(if small_is_left { left } else { right }, &all);
        for (p, s) in parent.iter_mut().zip(&small) {
            p.iter_mut().zip(s).for_each(|(a, b)| *a -= b);
        }
        if small_is_left {
            (Some(small), Some(parent))
        } else {
            (Some(parent), Some(small))
        }
    }

    /// The best split of one feature's histogram. One output (count, weight, sum per
    /// bin: every gradient-boosting tree but multiclass) searches on fixed arrays, which
    /// the compiler keeps in registers; the search runs for every node and feature.
    fn best_split(
        &self,
        feature: usize,
        hist: &[f64],
        total: &[f64],
        parent: f64,
    ) -> Option<Split> {
        if self.stride == 3 {
            self.search::<[f64; 3]>(feature, hist, total, parent)
        } else {
            self.search::<Vec<f64>>(feature, hist, total, parent)
        }
    }

    fn search<S: Stats>(
        &self,
        feature: usize,
        hist: &[f64],
        total: &[f64],
        parent: f64,
    ) -> Option<Split> {
        let g = self.growth;
        let stride = self.stride;
        let missing = &hist[MISSING as usize * stride..(MISSING as usize + 1) * stride];
        let has_missing = missing[0] > 0.0;
        let bins = self.binned.bins[feature];
        let ok = |s: &[f64]| s[0] >= g.min_samples_leaf.max(1) as f64 && s[1] >= g.min_weight_leaf;
        let last = if has_missing { bins } else { bins - 1 };
        let (mut left, mut l, mut r) = (S::zeros(stride), S::zeros(stride), S::zeros(stride));
        // gain, bin, missing_left, left, right: a `Split` before its vectors.
        let mut best: Option<(f64, usize, bool, S, S)> = None;
        for (bin, counts) in hist.chunks_exact(stride).enumerate().take(last) {
            // An empty bin moves no row: its split is the previous bin's.
            if counts[0] == 0.0 {
                continue;
            }
            let sums = left.as_mut();
            (0..stride).for_each(|i| sums[i] += counts[i]);
            let directions = if has_missing && bin + 1 < bins { 2 } else { 1 };
            for missing_left in [false, true].into_iter().take(directions) {
                let (sums, ls, rs) = (left.as_ref(), l.as_mut(), r.as_mut());
                for i in 0..stride {
                    ls[i] = sums[i] + if missing_left { missing[i] } else { 0.0 };
                    rs[i] = total[i] - ls[i];
                }
                let (ls, rs) = (l.as_ref(), r.as_ref());
                if !ok(ls) || !ok(rs) {
                    continue;
                }
                let gain = self.score(ls) + self.score(rs) - parent;
                if best.as_ref().is_none_or(|b| gain > b.0) {
                    // Without missing values in training, unseen missing ones follow the
                    // larger child (scikit-learn's rule).
                    let missing_left = if has_missing {
                        missing_left
                    } else {
                        ls[0] >= rs[0]
                    };
                    best = Some((gain, bin, missing_left, l.clone(), r.clone()));
                }
            }
        }
        best.map(|(gain, bin, missing_left, l, r)| Split {
            gain,
            feature,
            bin,
            missing_left,
            left: l.as_ref().to_vec(),
            right: r.as_ref().to_vec(),
        })
    }
}

/// A bin's or a child's statistics (count, weight, sums) during the split search: a
/// fixed array for one output, a vector otherwise.
trait Stats: Clone + AsRef<[f64]> + AsMut<[f64]> {
    fn zeros(stride: usize) -> Self;
}

impl Stats for [f64; 3] {
    fn zeros(_: usize) -> Self {
        [0.0; 3]
    }
}

impl Stats for Vec<f64> {
    fn zeros(stride: usize) -> Self {
        vec![0.0; stride]
    }
}
