//! Random forests, modelled on scikit-learn's RandomForest{Classifier,Regressor}:
//! bootstrap samples, a random subset of features at every node, trees grown until pure
//! (or the limits), probabilities (or values) averaged over trees. Splits are searched on
//! binned features, which costs little accuracy and makes each node linear in its rows.
//! Trees grow in parallel, each from its own seeded stream, so the forest is the same for
//! any number of threads.

use super::bins::BinEdges;
use super::matrix::Matrix;
use super::parallel;
use super::rng::Rng;
use super::tree::{grow, Growth, Targets, Tree, Weights, PREDICT_BLOCK_ROWS};

#[derive(Debug, Clone)]
pub struct ForestParams {
    pub n_estimators: usize,
    pub max_depth: Option<usize>,
    pub min_samples_leaf: usize,
    pub max_features: usize,
    pub max_bins: usize,
    pub seed: u64,
    pub threads: usize,
}

pub struct Forest {
    pub trees: Vec<Tree>,
    pub gains: Vec<f64>,
}

/// Fits a forest on `outputs` targets per row: one-hot class labels (classification)
/// or the value (regression), as `y[r * outputs + k]`.
pub fn fit(x: &Matrix, y: &[f64], outputs: usize, weight: &[f64], p: &ForestParams) -> Forest {
    let edges = BinEdges::fit(x, p.max_bins, p.seed, p.threads);
    let binned = edges.bin(x, p.threads);
    let growth = Growth {
        max_depth: p.max_depth,
        max_leaves: None,
        min_samples_leaf: p.min_samples_leaf,
        min_weight_leaf: 0.0,
        l2: 0.0,
        max_features: (p.max_features < x.cols).then_some(p.max_features),
        threads: 1,
    };
    let n = x.rows;
    let grown = parallel::map(p.n_estimators, p.threads, |t| {
        let mut rng = Rng::derive(p.seed, t as u64);
        let mut count = vec![0u32; n];
        for _ in 0..n {
            count[rng.below(n)] += 1;
        }
        let rows: Vec<u32> = (0..n as u32).filter(|&r| count[r as usize] > 0).collect();
        let w: Vec<f64> = (0..n).map(|r| f64::from(count[r]) * weight[r]).collect();
        let s: Vec<f64> = (0..n * outputs).map(|i| w[i / outputs] * y[i]).collect();
        let targets = Targets {
            outputs,
            weight: Weights::of(&w),
            sums: &s,
            single_precision: false,
        };
        let g = grow(&binned, &edges, &targets, rows, &growth, &mut rng);
        (g.tree, g.gains)
    });
    let mut gains = vec![0.0; x.cols];
    let trees = grown
        .into_iter()
        .map(|(tree, g)| {
            gains.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
            tree
        })
        .collect();
    Forest { trees, gains }
}

/// Mean of the trees' outputs for every row of `x`.
pub fn predict(trees: &[Tree], outputs: usize, x: &Matrix, threads: usize) -> Vec<f64> {
    let mut out = vec![0.0; x.rows * outputs];
    let scale = 1.0 / trees.len().max(1) as f64;
    parallel::for_chunks(
        &mut out,
        PREDICT_BLOCK_ROWS * outputs,
        threads,
        |start, chunk| {
            for tree in trees {
                for (i, acc) in chunk.chunks_mut(outputs).enumerate() {
                    let row = x.row(start / outputs + i);
                    acc.iter_mut()
                        .zip(tree.predict(row))
                        .for_each(|(a, v)| *a += v);
                }
            }
            chunk.iter_mut().for_each(|a| *a *= scale);
        },
    );
    out
}
