//! L2-regularised logistic regression and ridge regression.
//!
//! The objectives are exactly scikit-learn's (`LogisticRegression(solver="lbfgs")` and
//! `Ridge(fit_intercept=True)`), so a model trained here can be compared one-to-one with
//! a reference trained in Python. Every reduction sums fixed pieces in a fixed order
//! (the pieces run on all threads), so the same inputs give bit-identical coefficients
//! however many threads ran; artifacts are content-addressed.

use super::lbfgs;
use super::matrix::Matrix;
use super::parallel;
use super::rows::Rows;

/// A fitted logistic-regression model.
///
/// Binary models keep one weight vector (for class 1), like scikit-learn; multiclass
/// models keep one row per class (`n_classes × n_features`, row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticFit {
    pub coef: Vec<f64>,
    pub intercept: Vec<f64>,
    pub n_classes: usize,
    pub n_features: usize,
    pub iterations: usize,
    pub converged: bool,
}

/// scikit-learn's default `tol` for `LogisticRegression`: L-BFGS stops once no entry of the
/// mean objective's gradient exceeds it (scipy's `gtol`), which is where scikit-learn
/// stops, so both do the same work for the same quality.
pub const DEFAULT_TOL: f64 = 1e-4;

/// Fit `LogisticRegression(C=c, solver="lbfgs", tol=tol)`: minimise
/// `C * Σ wᵢ·lossᵢ + ½‖W‖²` with the intercept unpenalised.
///
/// The objective is divided by `Σ wᵢ` internally (as scikit-learn does) so the
/// gradient tolerance is independent of the data size; the optimum is unchanged.
///
/// The caller guarantees at least one row, `n_classes >= 2`, labels `< n_classes`,
/// `c > 0` and non-negative finite weights with a positive sum. Violations are caught
/// by `debug_assert!` in tests; in release builds rows with out-of-range labels are
/// ignored and otherwise unusable input yields an all-zero, unconverged fit, never a
/// panic.
pub fn fit_logistic(
    x: &Rows,
    y: &[usize],
    n_classes: usize,
    c: f64,
    sample_weight: Option<&[f64]>,
    max_iter: usize,
    tol: f64,
) -> LogisticFit {
    let d = x.cols();
    let n = x.rows();
    debug_assert!(n >= 1, "logistic regression needs at least one row");
    debug_assert!(
        n_classes >= 2,
        "logistic regression needs at least two classes"
    );
    debug_assert_eq!(y.len(), n, "one label per row");
    debug_assert!(
        y.iter().all(|&k| k < n_classes),
        "labels must be < n_classes"
    );
    debug_assert!(c > 0.0, "C must be positive");

    let k_out = if n_classes == 2 { 1 } else { n_classes };
    let unfit = |iterations| LogisticFit {
        coef: vec![0.0; k_out * d],
        intercept: vec![0.0; k_out],
        n_classes,
        n_features: d,
        iterations,
        converged: false,
    };

    let weights_ok = match sample_weight {
        Some(w) => w.len() == n && w.iter().all(|v| v.is_finite() && *v >= 0.0),
        None => true,
    };
    debug_assert!(
        weights_ok,
        "sample weights must be finite, non-negative, one per row"
    );
    let rows = n.min(y.len());
    if n_classes < 2 || c.is_nan() || c <= 0.0 || !weights_ok || rows == 0 {
        return unfit(0);
    }
    let weight = |i: usize| sample_weight.map_or(1.0, |w| w[i]);
    // Rows with an out-of-range label carry no usable information; drop them.
    let keep: Vec<usize> = (0..rows).filter(|&i| y[i] < n_classes).collect();
    let sw: f64 = keep.iter().map(|&i| weight(i)).sum();
    if !(sw > 0.0 && sw.is_finite()) {
        return unfit(0);
    }
    let inv_sw = 1.0 / sw;
    // ½‖W‖² / (C Σw): the penalty after dividing the whole objective by Σw.
    let l2 = 1.0 / (c * sw);

    let opts = lbfgs::Options {
        max_iter,
        tol,
        memory: 10,
    };
    let outcome = if n_classes == 2 {
        let objective =
            |p: &[f64], g: &mut [f64]| binary_objective(x, y, &keep, &weight, p, g, inv_sw, l2);
        lbfgs::minimize(objective, vec![0.0; d + 1], &opts)
    } else {
        let objective = |p: &[f64], g: &mut [f64]| {
            multinomial_objective(x, y, &keep, &weight, n_classes, p, g, inv_sw, l2)
        };
        lbfgs::minimize(objective, vec![0.0; n_classes * (d + 1)], &opts)
    };

    let (coef, intercept) = outcome.x.split_at(k_out * d);
    let mut intercept = intercept.to_vec();
    if k_out > 1 {
        // Softmax intercepts are only defined up to a shared constant (they are not
        // penalised); pin the zero-sum representative, the one L-BFGS reaches from zero.
        let mean = intercept.iter().sum::<f64>() / k_out as f64;
        intercept.iter_mut().for_each(|b| *b -= mean);
    }
    LogisticFit {
        coef: coef.to_vec(),
        intercept,
        n_classes,
        n_features: d,
        iterations: outcome.iterations,
        converged: outcome.converged,
    }
}

/// Rows per piece of an objective's sum: pieces are summed in their order whatever the
/// threads, so the result does not depend on how many ran.
const PIECE: usize = 8192;

/// `piece(rows)` — its loss and gradient — over fixed pieces of `keep` on all threads,
/// summed in piece order into `g`; returns the summed loss.
fn summed(
    keep: &[usize],
    g: &mut [f64],
    piece: impl Fn(&[usize]) -> (f64, Vec<f64>) + Sync,
) -> f64 {
    let pieces: Vec<&[usize]> = keep.chunks(PIECE).collect();
    let parts = parallel::map(pieces.len(), parallel::threads(), |k| piece(pieces[k]));
    g.iter_mut().for_each(|v| *v = 0.0);
    let mut loss = 0.0;
    for (l, pg) in parts {
        loss += l;
        g.iter_mut().zip(pg).for_each(|(a, b)| *a += b);
    }
    loss
}

/// Mean binomial log-loss plus penalty; parameters are `[w (d), b]`.
#[allow(clippy::too_many_arguments)]
fn binary_objective(
    x: &Rows,
    y: &[usize],
    keep: &[usize],
    weight: &(impl Fn(usize) -> f64 + Sync),
    p: &[f64],
    g: &mut [f64],
    inv_sw: f64,
    l2: f64,
) -> f64 {
    let d = p.len() - 1;
    let (w, b) = (&p[..d], p[d]);
    let loss = summed(keep, g, |rows| {
        let mut g = vec![0.0; d + 1];
        let mut loss = 0.0;
        for &i in rows {
            let z = x.dot(i, w) + b;
            let target = if y[i] == 1 { 1.0 } else { 0.0 };
            let wi = weight(i);
            loss += wi * (softplus(z) - target * z);
            let r = wi * (sigmoid(z) - target);
            x.add_to(i, r, &mut g[..d]);
            g[d] += r;
        }
        (loss, g)
    });
    let mut value = loss * inv_sw;
    for j in 0..d {
        g[j] = g[j] * inv_sw + l2 * w[j];
        value += 0.5 * l2 * w[j] * w[j];
    }
    g[d] *= inv_sw;
    value
}

/// Mean multinomial cross-entropy plus penalty; parameters are `[W (k×d), b (k)]`.
#[allow(clippy::too_many_arguments)]
fn multinomial_objective(
    x: &Rows,
    y: &[usize],
    keep: &[usize],
    weight: &(impl Fn(usize) -> f64 + Sync),
    k: usize,
    p: &[f64],
    g: &mut [f64],
    inv_sw: f64,
    l2: f64,
) -> f64 {
    let d = p.len() / k - 1;
    let (w, b) = p.split_at(k * d);
    let loss = summed(keep, g, |rows| {
        let mut g = vec![0.0; k * (d + 1)];
        let mut z = vec![0.0; k];
        let mut loss = 0.0;
        for &i in rows {
            for (c, zc) in z.iter_mut().enumerate() {
                *zc = x.dot(i, &w[c * d..(c + 1) * d]) + b[c];
            }
            let lse = log_sum_exp(&z);
            let wi = weight(i);
            loss += wi * (lse - z[y[i]]);
            for (c, &zc) in z.iter().enumerate() {
                let target = if c == y[i] { 1.0 } else { 0.0 };
                let r = wi * ((zc - lse).exp() - target);
                x.add_to(i, r, &mut g[c * d..(c + 1) * d]);
                g[k * d + c] += r;
            }
        }
        (loss, g)
    });
    let mut value = loss * inv_sw;
    for (gj, wj) in g[..k * d].iter_mut().zip(w) {
        *gj = *gj * inv_sw + l2 * wj;
        value += 0.5 * l2 * wj * wj;
    }
    g[k * d..].iter_mut().for_each(|v| *v *= inv_sw);
    value
}

/// Predictions from a design matrix: models score from the frame (`model::linear_scores`),
/// the tests check fits and those scores against these.
#[cfg(test)]
impl LogisticFit {
    /// Class probabilities, `x.rows × n_classes` row-major (binary rows are `[1-p, p]`).
    pub fn predict_proba(&self, x: &Matrix) -> Vec<f64> {
        debug_assert_eq!(x.cols, self.n_features, "feature count mismatch");
        let d = self.n_features;
        let outputs = self.intercept.len();
        let rows = x
            .data
            .len()
            .checked_div(x.cols)
            .unwrap_or(x.rows)
            .min(x.rows);
        let mut scores = Vec::with_capacity(rows * outputs);
        for i in 0..rows {
            let row = x.row(i);
            for (c, b) in self.intercept.iter().enumerate() {
                let w = self.coef.get(c * d..(c + 1) * d).unwrap_or(&[]);
                scores.push(dot(row, w) + b);
            }
        }
        proba_of_scores(self.n_classes, &scores)
    }
}

/// Class probabilities from a logistic model's scores (row-major: one per row for two
/// classes, one per class otherwise), `rows × n_classes` (binary rows are `[1-p, p]`).
pub fn proba_of_scores(n_classes: usize, scores: &[f64]) -> Vec<f64> {
    if n_classes == 2 {
        return scores
            .iter()
            .flat_map(|&z| {
                let p = sigmoid(z);
                [1.0 - p, p]
            })
            .collect();
    }
    scores
        .chunks(n_classes.max(1))
        .flat_map(|z| {
            let lse = log_sum_exp(z);
            z.iter().map(move |zc| (zc - lse).exp())
        })
        .collect()
}

/// A fitted ridge-regression model.
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeFit {
    pub coef: Vec<f64>,
    pub intercept: f64,
}

/// Fit `Ridge(alpha, fit_intercept=True)`: centre X and y with the (weighted) means,
/// solve `(XᵀWX + αI) w = XᵀWy` by Cholesky, and recover the unpenalised intercept.
///
/// Weights are used as given (not normalised), exactly like scikit-learn, so `alpha`
/// is relative to `Σ wᵢ`.
pub fn fit_ridge(
    x: &Rows,
    y: &[f64],
    alpha: f64,
    sample_weight: Option<&[f64]>,
) -> Result<RidgeFit, String> {
    if !(alpha >= 0.0 && alpha.is_finite()) {
        return Err(format!("alpha must be a finite number >= 0, got {alpha}"));
    }
    fit_penalised(x, y, sample_weight, |_| alpha)
}

/// Fit `LinearRegression`: ridge with a penalty negligible against the data's own scale
/// (`1e-10` of the largest diagonal of `XᵀWX`). One-hot levels are collinear with the
/// intercept; the penalty picks one solution among the equivalent ones (the least-norm
/// one, as a least-squares solver's), where an absolute `1e-10` stayed below the
/// singularity threshold of any real table and failed it as singular.
pub fn fit_least_squares(
    x: &Rows,
    y: &[f64],
    sample_weight: Option<&[f64]>,
) -> Result<RidgeFit, String> {
    fit_penalised(x, y, sample_weight, |scale| (1e-10 * scale).max(1e-10))
}

/// [`fit_ridge`] with the penalty a function of the largest diagonal of `XᵀWX`.
fn fit_penalised(
    x: &Rows,
    y: &[f64],
    sample_weight: Option<&[f64]>,
    penalty: impl Fn(f64) -> f64,
) -> Result<RidgeFit, String> {
    let n = x.rows();
    let d = x.cols();
    if n == 0 {
        return Err("ridge regression needs at least one row".into());
    }
    if y.len() != n {
        return Err(format!("got {} targets for {n} rows", y.len()));
    }
    if let Some(w) = sample_weight {
        if w.len() != n {
            return Err(format!("got {} sample weights for {n} rows", w.len()));
        }
        if w.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err("sample weights must be finite and non-negative".into());
        }
    }
    if !x.all_finite() || y.iter().any(|v| !v.is_finite()) {
        return Err("features and targets must be finite".into());
    }
    let weight = |i: usize| sample_weight.map_or(1.0, |w| w[i]);
    let sw: f64 = (0..n).map(weight).sum();
    if !(sw > 0.0 && sw.is_finite()) {
        return Err("sample weights must have a positive sum".into());
    }

    let mut x_mean = vec![0.0; d];
    let mut y_mean = 0.0;
    for (i, &yi) in y.iter().enumerate() {
        let wi = weight(i);
        x.for_each_entry(i, |j, v| x_mean[j] += wi * v);
        y_mean += wi * yi;
    }
    x_mean.iter_mut().for_each(|m| *m /= sw);
    y_mean /= sw;

    let (mut a, rhs) = match x {
        Rows::Dense(x) => centred_normal_equations(x, y, &weight, &x_mean, y_mean),
        Rows::Sparse { .. } => sparse_normal_equations(x, y, &weight, &x_mean, y_mean, sw),
    };
    let scale = (0..d).map(|j| a[j * d + j]).fold(0.0_f64, f64::max);
    let alpha = penalty(scale);
    for j in 0..d {
        a[j * d + j] += alpha;
    }
    let coef = cholesky_solve(&mut a, &rhs, d, scale).map_err(|column| {
        format!(
            "ridge system is singular at feature {column} (alpha = {alpha}); \
             features are constant or collinear — use alpha > 0 or drop the redundant feature"
        )
    })?;
    let intercept = y_mean - dot(&x_mean, &coef);
    Ok(RidgeFit { coef, intercept })
}

#[cfg(test)]
impl RidgeFit {
    /// Predictions `X w + b`, one per row.
    pub fn predict(&self, x: &Matrix) -> Vec<f64> {
        debug_assert_eq!(x.cols, self.coef.len(), "feature count mismatch");
        let rows = x
            .data
            .len()
            .checked_div(x.cols)
            .unwrap_or(x.rows)
            .min(x.rows);
        (0..rows)
            .map(|i| dot(x.row(i), &self.coef) + self.intercept)
            .collect()
    }
}

/// `XᵀWX` and `XᵀWy` of the centred data, the full matrix (lower triangle accumulated,
/// then mirrored).
fn centred_normal_equations(
    x: &Matrix,
    y: &[f64],
    weight: &impl Fn(usize) -> f64,
    x_mean: &[f64],
    y_mean: f64,
) -> (Vec<f64>, Vec<f64>) {
    let d = x.cols;
    let mut a = vec![0.0; d * d];
    let mut rhs = vec![0.0; d];
    let mut centred = vec![0.0; d];
    for (i, &yi) in y.iter().enumerate() {
        let wi = weight(i);
        centred
            .iter_mut()
            .zip(x.row(i).iter().zip(x_mean))
            .for_each(|(c, (v, m))| *c = v - m);
        let yc = yi - y_mean;
        for j in 0..d {
            let wc = wi * centred[j];
            rhs[j] += wc * yc;
            for l in 0..=j {
                a[j * d + l] += wc * centred[l];
            }
        }
    }
    mirror(&mut a, d);
    (a, rhs)
}

/// [`centred_normal_equations`] from compressed rows, without centring them (that would
/// fill every entry): `Σ w x xᵀ − Σw · x̄ x̄ᵀ`, a row's cost its non-zero entries squared
/// instead of the width squared. `Σ w x (y − ȳ)` is already centred, as `Σ w (y − ȳ) = 0`.
fn sparse_normal_equations(
    x: &Rows,
    y: &[f64],
    weight: &impl Fn(usize) -> f64,
    x_mean: &[f64],
    y_mean: f64,
    sw: f64,
) -> (Vec<f64>, Vec<f64>) {
    let d = x.cols();
    let mut a = vec![0.0; d * d];
    let mut rhs = vec![0.0; d];
    let mut row = Vec::new();
    for (i, &yi) in y.iter().enumerate() {
        let wi = weight(i);
        row.clear();
        x.for_each_entry(i, |j, v| row.push((j, v)));
        let yc = yi - y_mean;
        // Entries come in column order: (j, l) with l <= j is the lower triangle.
        for (k, &(j, v)) in row.iter().enumerate() {
            let wv = wi * v;
            rhs[j] += wv * yc;
            for &(l, u) in &row[..=k] {
                a[j * d + l] += wv * u;
            }
        }
    }
    for j in 0..d {
        for l in 0..=j {
            a[j * d + l] -= sw * x_mean[j] * x_mean[l];
        }
    }
    mirror(&mut a, d);
    (a, rhs)
}

/// Copies the lower triangle of a `d × d` matrix onto the upper.
fn mirror(a: &mut [f64], d: usize) {
    for j in 0..d {
        for l in 0..j {
            a[l * d + j] = a[j * d + l];
        }
    }
}

/// Solve `A w = b` for symmetric positive definite `A` (overwritten by its Cholesky
/// factor). A pivot that is not clearly positive relative to the largest diagonal of the
/// unregularised matrix (`scale`) means the system is numerically singular; the failing
/// column is returned.
fn cholesky_solve(a: &mut [f64], b: &[f64], d: usize, scale: f64) -> Result<Vec<f64>, usize> {
    let threshold = (d as f64) * f64::EPSILON * scale;
    for j in 0..d {
        let mut pivot = a[j * d + j];
        for l in 0..j {
            pivot -= a[j * d + l] * a[j * d + l];
        }
        if !(pivot > threshold && pivot.is_finite()) || pivot <= 0.0 {
            return Err(j);
        }
        let root = pivot.sqrt();
        a[j * d + j] = root;
        for i in j + 1..d {
            let mut v = a[i * d + j];
            for l in 0..j {
                v -= a[i * d + l] * a[j * d + l];
            }
            a[i * d + j] = v / root;
        }
    }
    // Forward substitution L z = b, then back substitution Lᵀ w = z.
    let mut z = vec![0.0; d];
    for i in 0..d {
        let mut v = b[i];
        for l in 0..i {
            v -= a[i * d + l] * z[l];
        }
        z[i] = v / a[i * d + i];
    }
    let mut w = vec![0.0; d];
    for i in (0..d).rev() {
        let mut v = z[i];
        for l in i + 1..d {
            v -= a[l * d + i] * w[l];
        }
        w[i] = v / a[i * d + i];
    }
    Ok(w)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `ln(1 + e^z)` without overflow for large `z` or cancellation for very negative `z`.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// Logistic function evaluated on the side where `exp` cannot overflow.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

fn log_sum_exp(z: &[f64]) -> f64 {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Far past scikit-learn's default: the tests check the optimum itself.
    const TIGHT: f64 = 1e-10;

    fn matrix(rows: usize, cols: usize, data: &[f64]) -> Matrix {
        Matrix {
            rows,
            cols,
            data: data.to_vec(),
        }
    }

    /// Deterministic pseudo-random numbers in [0, 1) (xorshift) for test data.
    fn lcg(seed: &mut u64) -> f64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    fn dataset(n: usize, d: usize, k: usize) -> (Matrix, Vec<usize>) {
        let mut seed = 0x9E37_79B9_7F4A_7C15;
        let mut x = Matrix::zeros(n, d);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let class = i % k;
            for (j, v) in x.row_mut(i).iter_mut().enumerate() {
                let shift = if j % k == class { 1.5 } else { 0.0 };
                *v = 2.0 * lcg(&mut seed) - 1.0 + shift;
            }
            y.push(class);
        }
        (x, y)
    }

    /// Full (unscaled) gradient of `C Σ wᵢ lossᵢ + ½‖W‖²` at the fitted parameters.
    fn sklearn_gradient(fit: &LogisticFit, x: &Matrix, y: &[usize], c: f64) -> Vec<f64> {
        let proba = fit.predict_proba(x);
        let k = fit.n_classes;
        let d = fit.n_features;
        let kk = if k == 2 { 1 } else { k };
        let mut g = vec![0.0; kk * (d + 1)];
        for i in 0..x.rows {
            for cls in 0..kk {
                let (p, t) = if k == 2 {
                    (proba[2 * i + 1], (y[i] == 1) as u8 as f64)
                } else {
                    (proba[i * k + cls], (y[i] == cls) as u8 as f64)
                };
                for j in 0..d {
                    g[cls * d + j] += c * (p - t) * x.row(i)[j];
                }
                g[kk * d + cls] += c * (p - t);
            }
        }
        for (gj, wj) in g.iter_mut().zip(&fit.coef) {
            *gj += wj;
        }
        g
    }

    #[test]
    fn binary_logistic_reaches_stationary_point() {
        let (x, y) = dataset(120, 3, 2);
        for c in [1.0, 0.1, 100.0] {
            let fit = fit_logistic(&Rows::of(&x), &y, 2, c, None, 1000, TIGHT);
            assert!(fit.converged, "C={c}: {fit:?}");
            assert_eq!(fit.coef.len(), 3);
            assert_eq!(fit.intercept.len(), 1);
            let g = sklearn_gradient(&fit, &x, &y, c);
            let gmax = g.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            assert!(gmax < 1e-6 * c.max(1.0), "C={c}: gradient {g:?}");
        }
    }

    #[test]
    fn multinomial_logistic_reaches_stationary_point() {
        let (x, y) = dataset(150, 4, 3);
        let fit = fit_logistic(&Rows::of(&x), &y, 3, 1.0, None, 1000, TIGHT);
        assert!(fit.converged, "{fit:?}");
        assert_eq!(fit.coef.len(), 12);
        assert_eq!(fit.intercept.len(), 3);
        let g = sklearn_gradient(&fit, &x, &y, 1.0);
        assert!(g.iter().all(|v| v.abs() < 1e-6), "{g:?}");
        assert!(fit.intercept.iter().sum::<f64>().abs() < 1e-12);
        let proba = fit.predict_proba(&x);
        for row in proba.chunks(3) {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn sample_weights_equal_row_duplication() {
        let (x, y) = dataset(40, 2, 2);
        let mut w = vec![1.0; 40];
        w[3] = 2.0;
        let mut xd = x.clone();
        xd.data.extend_from_slice(x.row(3));
        xd.rows += 1;
        let mut yd = y.clone();
        yd.push(y[3]);
        let a = fit_logistic(&Rows::of(&x), &y, 2, 1.0, Some(&w), 1000, TIGHT);
        let b = fit_logistic(&Rows::of(&xd), &yd, 2, 1.0, None, 1000, TIGHT);
        for (p, q) in a
            .coef
            .iter()
            .chain(&a.intercept)
            .zip(b.coef.iter().chain(&b.intercept))
        {
            assert!((p - q).abs() < 1e-7, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn one_feature_closed_form() {
        // Symmetric data: x = ±1 with labels 1/0 → b = 0 and w solves C·n·(σ(w) - 1) + w = 0.
        let x = matrix(2, 1, &[1.0, -1.0]);
        let fit = fit_logistic(&Rows::of(&x), &[1, 0], 2, 1.0, None, 1000, TIGHT);
        let w = fit.coef[0];
        assert!(fit.intercept[0].abs() < 1e-9);
        assert!((2.0 * (sigmoid(w) - 1.0) + w).abs() < 1e-7, "{fit:?}");
    }

    #[test]
    fn separable_data_stays_finite() {
        let x = matrix(4, 1, &[-2.0, -1.0, 1.0, 2.0]);
        let fit = fit_logistic(&Rows::of(&x), &[0, 0, 1, 1], 2, 1e4, None, 5000, TIGHT);
        assert!(fit.coef.iter().chain(&fit.intercept).all(|v| v.is_finite()));
        assert!(fit.converged, "{fit:?}");
        let p = fit.predict_proba(&x);
        assert!(p[1] < 0.01 && p[7] > 0.99, "{p:?}");
    }

    #[test]
    fn logistic_is_bit_identical_across_runs() {
        let (x, y) = dataset(90, 3, 3);
        let a = fit_logistic(&Rows::of(&x), &y, 3, 0.5, None, 1000, TIGHT);
        let b = fit_logistic(&Rows::of(&x), &y, 3, 0.5, None, 1000, TIGHT);
        let bits = |f: &LogisticFit| {
            f.coef
                .iter()
                .chain(&f.intercept)
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&a), bits(&b));
    }

    #[test]
    fn degenerate_logistic_input_does_not_panic() {
        let x = Matrix::zeros(0, 2);
        // Release-mode behaviour only; debug builds assert on the caller contract.
        if !cfg!(debug_assertions) {
            let fit = fit_logistic(&Rows::of(&x), &[], 2, 1.0, None, 100, TIGHT);
            assert!(!fit.converged);
        }
        let fit = LogisticFit {
            coef: vec![0.0; 2],
            intercept: vec![0.0],
            n_classes: 2,
            n_features: 2,
            iterations: 0,
            converged: true,
        };
        assert!(fit.predict_proba(&x).is_empty());
    }

    #[test]
    fn single_class_column_is_handled() {
        // All labels one class: optimum pushes the intercept towards that class.
        let x = matrix(3, 1, &[0.0, 1.0, 2.0]);
        let fit = fit_logistic(&Rows::of(&x), &[1, 1, 1], 2, 1.0, None, 1000, TIGHT);
        assert!(fit.intercept[0] > 1.0 && fit.coef[0].is_finite(), "{fit:?}");
    }

    #[test]
    fn ridge_matches_closed_form() {
        // y = 1 + 2x exactly; one feature, alpha = 1.
        // Centred: x̄ = 1.5, Σ(x-x̄)² = 5, Σ(x-x̄)(y-ȳ) = 10 → w = 10 / (5 + 1).
        let x = matrix(4, 1, &[0.0, 1.0, 2.0, 3.0]);
        let y = [1.0, 3.0, 5.0, 7.0];
        let fit = fit_ridge(&Rows::dense(&x), &y, 1.0, None).expect("fit");
        let w = 10.0 / 6.0;
        assert!((fit.coef[0] - w).abs() < 1e-14);
        assert!((fit.intercept - (4.0 - 1.5 * w)).abs() < 1e-14);
        let pred = fit.predict(&x);
        assert!((pred[0] - fit.intercept).abs() < 1e-15);

        let exact = fit_ridge(&Rows::dense(&x), &y, 0.0, None).expect("fit");
        assert!((exact.coef[0] - 2.0).abs() < 1e-12 && (exact.intercept - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ridge_two_features_and_weights() {
        // Weighted problem checked against the explicit 2×2 solution.
        let x = matrix(4, 2, &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 0.5]);
        let y = [1.0, 2.0, 2.5, 3.0];
        let w = [1.0, 2.0, 0.5, 1.5];
        let alpha = 0.3;
        let fit = fit_ridge(&Rows::dense(&x), &y, alpha, Some(&w)).expect("fit");
        let sw: f64 = w.iter().sum();
        let xm: Vec<f64> = (0..2)
            .map(|j| (0..4).map(|i| w[i] * x.row(i)[j]).sum::<f64>() / sw)
            .collect();
        let ym = (0..4).map(|i| w[i] * y[i]).sum::<f64>() / sw;
        let mut a = [[0.0; 2]; 2];
        let mut b = [0.0; 2];
        for i in 0..4 {
            for j in 0..2 {
                b[j] += w[i] * (x.row(i)[j] - xm[j]) * (y[i] - ym);
                for l in 0..2 {
                    a[j][l] += w[i] * (x.row(i)[j] - xm[j]) * (x.row(i)[l] - xm[l]);
                }
            }
        }
        a[0][0] += alpha;
        a[1][1] += alpha;
        let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
        let w0 = (b[0] * a[1][1] - a[0][1] * b[1]) / det;
        let w1 = (a[0][0] * b[1] - a[1][0] * b[0]) / det;
        assert!((fit.coef[0] - w0).abs() < 1e-12 && (fit.coef[1] - w1).abs() < 1e-12);
        assert!((fit.intercept - (ym - xm[0] * w0 - xm[1] * w1)).abs() < 1e-12);
    }

    #[test]
    fn sparse_ridge_matches_the_dense_one() {
        // A numeric column and two one-hot groups (a missing level leaves a row's group
        // empty): mostly zeros, so compressed rows.
        let rows = 60;
        let mut data = Vec::new();
        let mut y = Vec::new();
        for i in 0..rows {
            let mut row = [0.0; 7];
            row[0] = (i as f64 * 0.37).sin();
            row[1 + i % 3] = 1.0;
            if i % 5 != 0 {
                row[4 + i % 3] = 1.0;
            }
            y.push(2.0 * row[0] + row[2] - 0.5 * row[5] + (i as f64 * 1.3).cos() * 0.1);
            data.extend(row);
        }
        let x = matrix(rows, 7, &data);
        let sparse = Rows::of(&x);
        assert!(matches!(sparse, Rows::Sparse { .. }));
        let w: Vec<f64> = (0..rows).map(|i| 0.5 + (i % 4) as f64).collect();
        for weights in [None, Some(&w[..])] {
            let a = fit_ridge(&Rows::dense(&x), &y, 0.3, weights).expect("dense fit");
            let b = fit_ridge(&sparse, &y, 0.3, weights).expect("sparse fit");
            for (p, q) in a
                .coef
                .iter()
                .chain([&a.intercept])
                .zip(b.coef.iter().chain([&b.intercept]))
            {
                assert!((p - q).abs() < 1e-12 * p.abs().max(1.0), "{p} vs {q}");
            }
        }
    }

    #[test]
    fn least_squares_fits_one_hot_levels_collinear_with_the_intercept() {
        // A numeric column and every level of a text column, as the encoding writes them:
        // the levels sum to the intercept's column.
        let rows = 3_000;
        let (mut full, mut reduced, mut y) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..rows {
            let x = (i as f64 * 0.61).sin() * 10.0;
            let level = [0.0, 1.0, 2.0].map(|l| f64::from(u8::from(i % 3 == l as usize)));
            full.extend([x, level[0], level[1], level[2]]);
            reduced.extend([x, level[1], level[2]]);
            y.push(3.0 * x + 5.0 * level[1] - 2.0 * level[2] + (i as f64 * 1.7).cos());
        }
        let (full, reduced) = (matrix(rows, 4, &full), matrix(rows, 3, &reduced));
        let fit = fit_least_squares(&Rows::dense(&full), &y, None).expect("least squares");
        // Same fitted values as the full-rank fit without the first level.
        let exact = fit_ridge(&Rows::dense(&reduced), &y, 0.0, None).expect("full rank");
        let (a, b) = (fit.predict(&full), exact.predict(&reduced));
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() < 1e-6 * q.abs().max(1.0), "{p} vs {q}");
        }
        let sparse = fit_least_squares(&Rows::of(&full), &y, None).expect("sparse");
        for (p, q) in sparse.predict(&full).iter().zip(&b) {
            assert!((p - q).abs() < 1e-6 * q.abs().max(1.0), "{p} vs {q}");
        }
    }

    #[test]
    fn ridge_singular_is_an_error() {
        let x = matrix(3, 2, &[1.0, 2.0, 2.0, 4.0, 3.0, 6.0]);
        let err = fit_ridge(&Rows::dense(&x), &[1.0, 2.0, 3.0], 0.0, None).unwrap_err();
        assert!(err.contains("singular"), "{err}");
        // A constant column is collinear with the intercept.
        let x = matrix(3, 1, &[5.0, 5.0, 5.0]);
        assert!(fit_ridge(&Rows::dense(&x), &[1.0, 2.0, 3.0], 0.0, None).is_err());
        // ... and regularisation fixes both.
        assert!(fit_ridge(&Rows::dense(&x), &[1.0, 2.0, 3.0], 1.0, None).is_ok());
    }

    #[test]
    fn ridge_degenerate_inputs() {
        assert!(fit_ridge(&Rows::dense(&Matrix::zeros(0, 2)), &[], 1.0, None).is_err());
        assert!(fit_ridge(&Rows::dense(&Matrix::zeros(2, 1)), &[1.0], 1.0, None).is_err());
        assert!(fit_ridge(&Rows::dense(&Matrix::zeros(2, 1)), &[1.0, 2.0], -1.0, None).is_err());
        assert!(fit_ridge(
            &Rows::dense(&Matrix::zeros(2, 1)),
            &[1.0, 2.0],
            1.0,
            Some(&[0.0, 0.0])
        )
        .is_err());
        let x = matrix(2, 1, &[f64::NAN, 1.0]);
        assert!(fit_ridge(&Rows::dense(&x), &[1.0, 2.0], 1.0, None).is_err());
        // No features: the intercept is the weighted mean.
        let fit = fit_ridge(
            &Rows::dense(&Matrix::zeros(2, 0)),
            &[1.0, 4.0],
            1.0,
            Some(&[2.0, 1.0]),
        )
        .expect("fit");
        assert_eq!(fit.intercept, 2.0);
        assert_eq!(fit.predict(&Matrix::zeros(3, 0)), vec![2.0; 3]);
    }

    #[test]
    fn ridge_is_bit_identical_across_runs() {
        let (x, _) = dataset(50, 4, 2);
        let y: Vec<f64> = (0..50).map(|i| (i as f64).sin()).collect();
        let a = fit_ridge(&Rows::dense(&x), &y, 0.7, None).expect("fit");
        let b = fit_ridge(&Rows::dense(&x), &y, 0.7, None).expect("fit");
        assert_eq!(a.intercept.to_bits(), b.intercept.to_bits());
        assert_eq!(
            a.coef.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.coef.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}
