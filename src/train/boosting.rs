//! Histogram gradient-boosted trees, modelled on scikit-learn's HistGradientBoosting:
//! best-first trees of at most `max_leaf_nodes` leaves, Newton leaf values, squared-error
//! loss for regression, log loss (binary) or softmax with one tree per class per iteration
//! (multiclass), and early stopping on a held-out fraction of the training rows.

use super::bins::BinEdges;
use super::matrix::Matrix;
use super::parallel;
use super::rng::Rng;
use super::tree::{grow, Grown, Growth, Targets, Tree, Weights, PREDICT_BLOCK_ROWS};
use std::ops::Range;

#[derive(Debug, Clone)]
pub struct BoostParams {
    pub max_iter: usize,
    pub learning_rate: f64,
    pub max_leaf_nodes: usize,
    pub max_depth: Option<usize>,
    pub min_samples_leaf: usize,
    pub l2_regularization: f64,
    pub max_bins: usize,
    pub early_stopping: bool,
    pub validation_fraction: f64,
    pub n_iter_no_change: usize,
    pub seed: u64,
    pub threads: usize,
}

/// What is predicted: a number, or one of `k` classes (indices stored as `f64`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    Squared,
    LogLoss { classes: usize },
}

impl Loss {
    /// Raw scores per row: one for regression and binary, one per class otherwise.
    pub fn outputs(self) -> usize {
        match self {
            Loss::Squared | Loss::LogLoss { classes: 2 } => 1,
            Loss::LogLoss { classes } => classes,
        }
    }
}

pub struct Boosted {
    pub baseline: Vec<f64>,
    /// Iteration-major: tree `i * outputs + k` adds to raw score `k`.
    pub trees: Vec<Tree>,
    pub iterations: usize,
    pub stopped_early: bool,
    pub validation_loss: Option<f64>,
    pub gains: Vec<f64>,
}

pub fn fit(x: &Matrix, y: &[f64], weight: &[f64], loss: Loss, p: &BoostParams) -> Boosted {
    let n = x.rows;
    let k = loss.outputs();
    let (train_rows, val_rows) = holdout(n, p);
    let edges = BinEdges::fit(x, p.max_bins, p.seed, p.threads);
    // The rows reordered, the training rows first (each side in its order, so every sum
    // and split is as before): a tree's root then reads its bins and targets in sequence,
    // and gradients are computed for the training rows only.
    let order: Vec<usize> = train_rows
        .iter()
        .map(|&r| r as usize)
        .chain(val_rows)
        .collect();
    let binned = edges
        .bin_in_order(x, &order, p.threads)
        .with_rows(p.threads);
    let (y, weight): (Vec<f64>, Vec<f64>) = order.iter().map(|&r| (y[r], weight[r])).unzip();
    let (y, weight) = (&y[..], &weight[..]);
    let trained = train_rows.len();
    let train_rows: Vec<u32> = (0..trained as u32).collect();
    let val_rows: Vec<usize> = (trained..n).collect();
    let baseline = baseline(loss, y, weight, &train_rows);
    let mut raw: Vec<f64> = (0..n).flat_map(|_| baseline.iter().copied()).collect();
    let growth = Growth {
        max_depth: p.max_depth,
        max_leaves: Some(p.max_leaf_nodes),
        min_samples_leaf: p.min_samples_leaf,
        min_weight_leaf: 1e-3,
        l2: p.l2_regularization,
        max_features: None,
        threads: p.threads,
    };
    let mut trees = Vec::new();
    let mut gains = vec![0.0; x.cols];
    let mut history = vec![validation_loss(loss, y, weight, &raw, &val_rows)];
    let mut stopped_early = false;
    let mut rng = Rng::new(p.seed);
    let mut hess = vec![0.0; trained * k];
    let mut neg_grad = vec![0.0; trained * k];
    // One class's hessians and gradients, taken out of the rows' `k` when there are several.
    let (mut class_hess, mut class_grad) = (Vec::new(), Vec::new());
    let mut iterations = 0;
    for _ in 0..p.max_iter {
        gradients(loss, y, weight, &raw, &mut hess, &mut neg_grad, p.threads);
        let mut iteration_trees = Vec::with_capacity(k);
        for class in 0..k {
            let (w, s) = if k == 1 {
                (&hess, &neg_grad)
            } else {
                class_hess.clear();
                class_grad.clear();
                class_hess.extend(hess.iter().skip(class).step_by(k));
                class_grad.extend(neg_grad.iter().skip(class).step_by(k));
                (&class_hess, &class_grad)
            };
            let targets = Targets {
                outputs: 1,
                weight: Weights::of(w),
                sums: s,
                single_precision: true,
            };
            let mut grown = grow(
                &binned,
                &edges,
                &targets,
                train_rows.clone(),
                &growth,
                &mut rng,
            );
            grown
                .tree
                .value
                .iter_mut()
                .for_each(|v| *v *= p.learning_rate);
            add_leaf_values(&mut raw, k, class, &grown, p.threads);
            let held_out_blocks: Vec<&[usize]> = val_rows.chunks(HELD_OUT_BLOCK).collect();
            let held_out = parallel::map(held_out_blocks.len(), p.threads, |b| {
                held_out_blocks[b]
                    .iter()
                    .map(|&r| grown.tree.value[grown.leaf_of_binned(&binned, r)])
                    .collect::<Vec<_>>()
            });
            for (&r, v) in val_rows.iter().zip(held_out.into_iter().flatten()) {
                raw[r * k + class] += v;
            }
            gains
                .iter_mut()
                .zip(&grown.gains)
                .for_each(|(a, b)| *a += b);
            iteration_trees.push(grown.tree);
        }
        trees.extend(iteration_trees);
        iterations += 1;
        if p.early_stopping {
            history.push(validation_loss(loss, y, weight, &raw, &val_rows));
            if should_stop(&history, p.n_iter_no_change) {
                stopped_early = true;
                break;
            }
        }
    }
    Boosted {
        baseline,
        trees,
        iterations,
        stopped_early,
        validation_loss: p.early_stopping.then(|| history[history.len() - 1]),
        gains,
    }
}

/// Held-out rows one task finds the leaves of after each tree (each walks the tree).
const HELD_OUT_BLOCK: usize = 2048;

/// Adds each leaf's value to raw score `class` of the leaf's rows, on two threads: the
/// rows below the middle on one, the rest on the other (a leaf's rows are in index
/// order, so each side is a range of them).
fn add_leaf_values(raw: &mut [f64], k: usize, class: usize, grown: &Grown, threads: usize) {
    let add = |part: &mut [f64], rows: Range<u32>| {
        for (leaf, leaf_rows) in grown.leaf_rows() {
            let v = grown.tree.value[leaf];
            let first = leaf_rows.partition_point(|&r| r < rows.start);
            let end = leaf_rows.partition_point(|&r| r < rows.end);
            for &r in &leaf_rows[first..end] {
                part[(r - rows.start) as usize * k + class] += v;
            }
        }
    };
    let n = (raw.len() / k) as u32;
    if threads < 2 {
        return add(raw, 0..n);
    }
    let half = n / 2;
    let (low, high) = raw.split_at_mut(half as usize * k);
    parallel::join(|| add(low, 0..half), || add(high, half..n));
}

/// Training and validation rows: a seeded shuffle holds out `validation_fraction` when
/// early stopping is on.
fn holdout(n: usize, p: &BoostParams) -> (Vec<u32>, Vec<usize>) {
    if !p.early_stopping {
        return ((0..n as u32).collect(), Vec::new());
    }
    let held = ((n as f64 * p.validation_fraction).ceil() as usize).clamp(1, n.saturating_sub(1));
    let val = Rng::derive(p.seed, u64::MAX).choose(n, held);
    let mut is_val = vec![false; n];
    val.iter().for_each(|&r| is_val[r] = true);
    let train = (0..n).filter(|&r| !is_val[r]).map(|r| r as u32).collect();
    (train, val)
}

/// scikit-learn's rule: stop when none of the last `n` iterations beat the loss of the
/// iteration before them by more than a tolerance.
fn should_stop(history: &[f64], n: usize) -> bool {
    if history.len() <= n {
        return false;
    }
    let reference = history[history.len() - n - 1];
    history[history.len() - n..]
        .iter()
        .all(|&v| v > reference - 1e-7)
}

fn weighted_mean(values: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (s, w) = values.fold((0.0, 0.0), |(s, w), (v, wi)| (s + v * wi, w + wi));
    if w > 0.0 {
        s / w
    } else {
        0.0
    }
}

/// The constant raw score that minimises the loss on the training rows.
fn baseline(loss: Loss, y: &[f64], weight: &[f64], rows: &[u32]) -> Vec<f64> {
    let pairs = |f: &dyn Fn(f64) -> f64| {
        weighted_mean(rows.iter().map(|&r| (f(y[r as usize]), weight[r as usize])))
    };
    match loss {
        Loss::Squared => vec![pairs(&|v| v)],
        Loss::LogLoss { classes: 2 } => {
            let p = pairs(&|v| v).clamp(1e-12, 1.0 - 1e-12);
            vec![(p / (1.0 - p)).ln()]
        }
        Loss::LogLoss { classes } => {
            let logs: Vec<f64> = (0..classes)
                .map(|c| {
                    pairs(&|v| f64::from(u8::from(v as usize == c)))
                        .max(1e-12)
                        .ln()
                })
                .collect();
            let mean = logs.iter().sum::<f64>() / classes as f64;
            logs.iter().map(|l| l - mean).collect()
        }
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Softmax of raw scores into `out`.
pub fn softmax(raw: &[f64], out: &mut [f64]) {
    let max = raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for (o, r) in out.iter_mut().zip(raw) {
        *o = (r - max).exp();
        sum += *o;
    }
    out.iter_mut().for_each(|o| *o /= sum);
}

/// Class probabilities (or values) from raw scores, one row at a time.
pub fn link(loss_outputs: usize, classification: bool, raw: &[f64]) -> Vec<f64> {
    if !classification {
        return raw.to_vec();
    }
    let mut out = vec![0.0; loss_outputs.max(2)];
    probabilities(raw, &mut out);
    out
}

/// A row's class probabilities from its raw scores into `out`: one score (binary) gives
/// two classes, several give one each.
fn probabilities(raw: &[f64], out: &mut [f64]) {
    if let [score] = raw {
        let p = sigmoid(*score);
        (out[0], out[1]) = (1.0 - p, p);
    } else {
        softmax(raw, out);
    }
}

/// Each training row's (the first rows') hessian and negative gradient per output
/// (row-major, `k` per row): a tree's weights and sums.
fn gradients(
    loss: Loss,
    y: &[f64],
    weight: &[f64],
    raw: &[f64],
    hess: &mut [f64],
    neg_grad: &mut [f64],
    threads: usize,
) {
    let k = loss.outputs();
    parallel::for_chunk_pairs(
        hess,
        neg_grad,
        8192 * k,
        threads,
        |start, hess, neg_grad| {
            let mut p = vec![0.0; k];
            let rows = hess.chunks_mut(k).zip(neg_grad.chunks_mut(k));
            for (i, (h, g)) in rows.enumerate() {
                let r = start / k + i;
                let w = weight[r];
                let scores = &raw[r * k..(r + 1) * k];
                match loss {
                    Loss::Squared => (h[0], g[0]) = (w, w * (y[r] - scores[0])),
                    Loss::LogLoss { classes: 2 } => {
                        let q = sigmoid(scores[0]);
                        (h[0], g[0]) = (w * (q * (1.0 - q)).max(1e-16), w * (y[r] - q));
                    }
                    Loss::LogLoss { .. } => {
                        softmax(scores, &mut p);
                        for (c, q) in p.iter().enumerate() {
                            let t = f64::from(u8::from(y[r] as usize == c));
                            (h[c], g[c]) = (w * (q * (1.0 - q)).max(1e-16), w * (t - q));
                        }
                    }
                }
            }
        },
    );
}

/// Weighted mean loss on the validation rows (`NaN` without any).
fn validation_loss(loss: Loss, y: &[f64], weight: &[f64], raw: &[f64], rows: &[usize]) -> f64 {
    let k = loss.outputs();
    // Room for one row's probabilities: this runs on every held-out row each iteration.
    let mut p = vec![0.0; k.max(2)];
    let mut per_row = |r: usize| -> f64 {
        let scores = &raw[r * k..(r + 1) * k];
        match loss {
            Loss::Squared => (scores[0] - y[r]).powi(2) / 2.0,
            Loss::LogLoss { classes } => {
                probabilities(scores, &mut p);
                let truth = (y[r] as usize).min(classes - 1);
                -p[truth].max(1e-15).ln()
            }
        }
    };
    if rows.is_empty() {
        return f64::NAN;
    }
    weighted_mean(rows.iter().map(|&r| (per_row(r), weight[r])))
}

/// Raw scores of every row of `x`.
pub fn raw_scores(baseline: &[f64], trees: &[Tree], x: &Matrix, threads: usize) -> Vec<f64> {
    let k = baseline.len();
    let mut raw = vec![0.0; x.rows * k];
    parallel::for_chunks(&mut raw, PREDICT_BLOCK_ROWS * k, threads, |start, chunk| {
        chunk
            .chunks_mut(k)
            .for_each(|out| out.copy_from_slice(baseline));
        for (t, tree) in trees.iter().enumerate() {
            for (i, out) in chunk.chunks_mut(k).enumerate() {
                out[t % k] += tree.predict(x.row(start / k + i))[0];
            }
        }
    });
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_only_after_n_iterations_without_improvement() {
        assert!(!should_stop(&[1.0, 0.9, 0.8], 2));
        assert!(should_stop(&[1.0, 0.9, 0.9, 0.95], 2));
    }
}
