//! Drift of one data set against another (a reference profile or data file), column by
//! column: Kolmogorov–Smirnov, PSI and normalised Wasserstein for numbers; chi-square,
//! Jensen–Shannon and PSI for categories. The same comparison reports training/serving
//! skew. Exact when both sides kept their values, from the quantile sketches otherwise.

use super::profile::{sparkline, ColumnProfile, Profile};
use super::sketch::KLL_RANK_ERROR;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub use crate::config::drift::{DriftConfig, Thresholds};

pub const DEFAULT_PSI: f64 = 0.2;
pub const DEFAULT_WASSERSTEIN: f64 = 0.1;
pub const DEFAULT_JENSEN_SHANNON: f64 = 0.1;
pub const DEFAULT_SHARE: f64 = 0.5;
pub const DEFAULT_SIGNIFICANCE: f64 = 0.01;
pub const DEFAULT_EXACT_MAX_ROWS: usize = 100_000;
/// Proportions are floored at this in PSI, so an empty bin does not make it infinite.
pub const PSI_FLOOR: f64 = 1e-4;
/// scipy's `ks_2samp` computes exact p-values up to this sample size, as we do.
const KS_EXACT_MAX_N: usize = 10_000;

impl DriftConfig {
    /// The thresholds for `column`: its overrides over the global ones over defaults.
    pub fn thresholds_for(&self, column: &str) -> Thresholds {
        let o = self.columns.get(column);
        let g = &self.thresholds;
        let pick = |f: fn(&Thresholds) -> Option<f64>, default: Option<f64>| {
            o.and_then(f).or(f(g)).or(default)
        };
        Thresholds {
            psi: pick(|t| t.psi, Some(DEFAULT_PSI)),
            wasserstein: pick(|t| t.wasserstein, Some(DEFAULT_WASSERSTEIN)),
            jensen_shannon: pick(|t| t.jensen_shannon, Some(DEFAULT_JENSEN_SHANNON)),
            ks_pvalue: pick(|t| t.ks_pvalue, None),
            chi2_pvalue: pick(|t| t.chi2_pvalue, None),
            skip: o.is_some_and(|t| t.skip),
        }
    }

    pub fn share(&self) -> f64 {
        self.share.unwrap_or(DEFAULT_SHARE)
    }

    pub fn significance(&self) -> f64 {
        self.significance.unwrap_or(DEFAULT_SIGNIFICANCE)
    }

    pub fn exact_max_rows(&self) -> usize {
        self.exact_max_rows.unwrap_or(DEFAULT_EXACT_MAX_ROWS)
    }

    /// Semantic problems, as (key under `drift`, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (key, value) in [("share", self.share), ("significance", self.significance)] {
            if value.is_some_and(|s| !(s > 0.0 && s <= 1.0)) {
                out.push((key.into(), "must be in (0, 1]".into()));
            }
        }
        if self.thresholds.skip {
            out.push((
                "thresholds.skip".into(),
                "`skip` applies to one column: set it under `columns.<name>`".into(),
            ));
        }
        let all = std::iter::once(("thresholds".to_string(), &self.thresholds)).chain(
            self.columns
                .iter()
                .map(|(c, t)| (format!("columns.{c}"), t)),
        );
        for (at, t) in all {
            for (key, value, max) in [
                ("psi", t.psi, f64::INFINITY),
                ("wasserstein", t.wasserstein, f64::INFINITY),
                ("jensen_shannon", t.jensen_shannon, 1.0),
                ("ks_pvalue", t.ks_pvalue, 1.0),
                ("chi2_pvalue", t.chi2_pvalue, 1.0),
            ] {
                if value.is_some_and(|v| !(v > 0.0 && v <= max)) {
                    let range = if max.is_finite() {
                        "in (0, 1]"
                    } else {
                        "above 0"
                    };
                    out.push((format!("{at}.{key}"), format!("must be {range}")));
                }
            }
        }
        out
    }
}

/// One side of a comparison: a profile and, where kept, exact numeric values.
pub struct Side<'a> {
    pub profile: &'a Profile,
    pub values: Option<&'a HashMap<String, Vec<f64>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDrift {
    pub column: String,
    /// `numeric`, `categorical`, or `type_changed`.
    pub kind: String,
    /// `exact` or `sketch` (numeric statistics within the sketches' rank error).
    pub mode: String,
    pub metrics: IndexMap<String, f64>,
    pub drifted: bool,
    /// The thresholds crossed.
    pub reasons: Vec<String>,
    /// Set when thresholds were crossed but the difference is within sampling noise at
    /// these sample sizes: why the column is not counted as drifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<String>,
    /// Reference and current shares over the same bins or categories, for charts.
    pub reference_shares: Vec<f64>,
    pub current_shares: Vec<f64>,
}

impl ColumnDrift {
    /// Two sparklines on one scale: reference then current.
    pub fn chart(&self) -> String {
        let max = self
            .reference_shares
            .iter()
            .chain(&self.current_shares)
            .fold(0.0f64, |a, &b| a.max(b));
        let scale = |s: &[f64]| -> Vec<u64> {
            s.iter()
                .map(|v| (v / max.max(1e-12) * 1000.0).round() as u64)
                .collect()
        };
        let mut r = scale(&self.reference_shares);
        let mut c = scale(&self.current_shares);
        // A shared maximum so both lines are drawn on one scale.
        r.push(1000);
        c.push(1000);
        let (r, c) = (sparkline(&r), sparkline(&c));
        let trim = |s: String| {
            s.chars()
                .take(self.reference_shares.len())
                .collect::<String>()
        };
        format!("`{}` → `{}`", trim(r), trim(c))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub reference: String,
    pub current: String,
    pub columns: Vec<ColumnDrift>,
    /// Share of compared columns that drifted.
    pub share: f64,
    pub share_threshold: f64,
    pub dataset_drift: bool,
}

/// Compares every column present on both sides.
pub fn compare(reference: &Side, current: &Side, config: &DriftConfig) -> DriftReport {
    let compared = &current.profile.columns;
    // Columns are compared on all threads: a wide table's tests were a serial tail.
    let threads = crate::train::parallel::threads();
    let columns: Vec<ColumnDrift> = crate::train::parallel::map(compared.len(), threads, |i| {
        let (name, cur) = compared.get_index(i)?;
        let refc = reference.profile.columns.get(name)?;
        let t = config.thresholds_for(name);
        if t.skip || refc.count == 0 || cur.count == 0 || identifier_like(refc) {
            return None;
        }
        let ref_values = reference.values.and_then(|v| v.get(name));
        let cur_values = current.values.and_then(|v| v.get(name));
        let mut column = compare_column(name, refc, cur, ref_values, cur_values, &t);
        discount_noise(&mut column, refc.count, cur.count, config.significance());
        Some(column)
    })
    .into_iter()
    .flatten()
    .collect();
    let drifted = columns.iter().filter(|c| c.drifted).count();
    let share = if columns.is_empty() {
        0.0
    } else {
        drifted as f64 / columns.len() as f64
    };
    DriftReport {
        reference: reference.profile.source.clone(),
        current: current.profile.source.clone(),
        dataset_drift: !columns.is_empty() && share >= config.share(),
        columns,
        share,
        share_threshold: config.share(),
    }
}

/// Magnitude thresholds are set for the row counts mlgate is built for, where any real
/// difference is significant; on a small sample two draws of one distribution cross them
/// by chance. A column whose only crossed thresholds are magnitudes, and whose test
/// p-value is at or above `significance`, is reported but not counted as drifted.
fn discount_noise(c: &mut ColumnDrift, n_ref: u64, n_cur: u64, significance: f64) {
    let test = if c.kind == "numeric" {
        "ks_pvalue"
    } else {
        "chi2_pvalue"
    };
    let Some(&p) = c.metrics.get(test) else {
        return;
    };
    let tested = c.reasons.iter().any(|r| r.contains("_pvalue"));
    if !c.drifted || tested || significance >= 1.0 || p < significance {
        return;
    }
    c.drifted = false;
    c.noise = Some(format!(
        "{}, but within sampling noise at {n_ref} vs {n_cur} rows ({test} {p:.3} ≥ {significance})",
        c.reasons.join("; ")
    ));
}

/// Text columns whose values are mostly distinct (ids, free text) have no distribution
/// to drift; they are left out rather than always reported as drifted.
fn identifier_like(c: &ColumnProfile) -> bool {
    !c.is_numeric() && c.count >= 50 && c.distinct > 0.5 * c.count as f64
}

fn compare_column(
    name: &str,
    refc: &ColumnProfile,
    cur: &ColumnProfile,
    ref_values: Option<&Vec<f64>>,
    cur_values: Option<&Vec<f64>>,
    t: &Thresholds,
) -> ColumnDrift {
    let mut out = ColumnDrift {
        column: name.into(),
        kind: String::new(),
        mode: "exact".into(),
        metrics: IndexMap::new(),
        drifted: false,
        reasons: vec![],
        noise: None,
        reference_shares: vec![],
        current_shares: vec![],
    };
    match (refc.is_numeric(), cur.is_numeric()) {
        (true, true) => {
            let (a, b) = match (ref_values, cur_values) {
                (Some(a), Some(b)) => (Dist::exact(a), Dist::exact(b)),
                _ => {
                    out.mode = "sketch".into();
                    (Dist::sketch(refc), Dist::sketch(cur))
                }
            };
            numeric(&mut out, &a, &b, refc, t);
        }
        (false, false) => categorical(&mut out, refc, cur, t),
        _ => {
            out.kind = "type_changed".into();
            out.drifted = true;
            out.reasons.push(format!(
                "type changed from {} to {}",
                refc.kind.name(),
                cur.kind.name()
            ));
        }
    }
    out
}

fn numeric(out: &mut ColumnDrift, a: &Dist, b: &Dist, refc: &ColumnProfile, t: &Thresholds) {
    out.kind = "numeric".into();
    let (d, w) = ks_and_wasserstein(a, b);
    let p = if out.mode == "exact" && a.n.max(b.n) <= KS_EXACT_MAX_N {
        ks_exact_pvalue(a.n, b.n, a.ks_numerator(b))
    } else {
        ks_asymptotic_pvalue(d, a.n, b.n)
    };
    let std = refc.numeric.as_ref().map_or(0.0, |n| n.std);
    let normalised = if std > 0.0 { w / std } else { w };
    let edges = a.quantile_edges(10);
    let (ra, rb) = (a.bin_shares(&edges), b.bin_shares(&edges));
    let psi = psi(&ra, &rb);
    out.metrics.insert("ks_statistic".into(), d);
    out.metrics.insert("ks_pvalue".into(), p);
    out.metrics.insert("psi".into(), psi);
    out.metrics.insert("wasserstein".into(), w);
    out.metrics
        .insert("wasserstein_normalised".into(), normalised);
    if out.mode == "sketch" {
        out.metrics
            .insert("ks_statistic_error_bound".into(), 2.0 * KLL_RANK_ERROR);
    }
    judge(out, "psi", psi, t.psi, true);
    judge(out, "wasserstein", normalised, t.wasserstein, true);
    judge(out, "ks_pvalue", p, t.ks_pvalue, false);
    let chart_edges = a.even_edges(12);
    out.reference_shares = a.bin_shares(&chart_edges);
    out.current_shares = b.bin_shares(&chart_edges);
}

fn categorical(out: &mut ColumnDrift, refc: &ColumnProfile, cur: &ColumnProfile, t: &Thresholds) {
    out.kind = "categorical".into();
    let (keys, rv, cv) = common_counts(refc, cur);
    let (chi2, dof, p) = chi_square(&rv, &cv);
    let (rs, cs) = (shares(&rv), shares(&cv));
    let js = jensen_shannon(&rs, &cs);
    let psi = psi(&rs, &cs);
    out.metrics.insert("chi2".into(), chi2);
    out.metrics.insert("chi2_dof".into(), dof);
    out.metrics.insert("chi2_pvalue".into(), p);
    out.metrics.insert("jensen_shannon".into(), js);
    out.metrics.insert("psi".into(), psi);
    judge(out, "psi", psi, t.psi, true);
    judge(out, "jensen_shannon", js, t.jensen_shannon, true);
    judge(out, "chi2_pvalue", p, t.chi2_pvalue, false);
    // The chart shows the reference's most common categories.
    let shown = 12.min(keys.len());
    out.reference_shares = rs[..shown].to_vec();
    out.current_shares = cs[..shown].to_vec();
}

fn judge(out: &mut ColumnDrift, metric: &str, value: f64, threshold: Option<f64>, above: bool) {
    if let Some(t) = threshold {
        let crossed = if above { value > t } else { value < t };
        if crossed {
            out.drifted = true;
            let op = if above { ">" } else { "<" };
            out.reasons.push(format!("{metric} {value:.4} {op} {t}"));
        }
    }
}

/// Both sides' counts on the same bins: the categories (reference's most common first),
/// and `(other)` for the rest. A profile past its cap counted only its first values by
/// name, the rest in `other`; a category the other side named but this one did not may
/// hide in that `other`, so it goes to `(other)` on both sides. Otherwise the sides
/// would be compared on different bins, and two samples of one distribution with many
/// values would look drifted.
fn common_counts(a: &ColumnProfile, b: &ColumnProfile) -> (Vec<String>, Vec<f64>, Vec<f64>) {
    let (ca, cb) = (named_counts(a), named_counts(b));
    let (capped_a, capped_b) = (other_count(a) > 0, other_count(b) > 0);
    let known = |k: &String| (!capped_a || ca.contains_key(k)) && (!capped_b || cb.contains_key(k));
    let mut keys: Vec<String> = ca.keys().filter(|k| known(k)).cloned().collect();
    keys.extend(
        cb.keys()
            .filter(|k| !ca.contains_key(*k) && known(k))
            .cloned(),
    );
    let on = |counts: &IndexMap<String, f64>| -> Vec<f64> {
        keys.iter()
            .map(|k| counts.get(k).copied().unwrap_or(0.0))
            .collect()
    };
    let (mut va, mut vb) = (on(&ca), on(&cb));
    let rest = |p: &ColumnProfile, counts: &IndexMap<String, f64>, v: &[f64]| {
        counts.values().sum::<f64>() + other_count(p) as f64 - v.iter().sum::<f64>()
    };
    let (ra, rb) = (rest(a, &ca, &va), rest(b, &cb, &vb));
    if ra > 0.0 || rb > 0.0 {
        keys.push("(other)".into());
        va.push(ra);
        vb.push(rb);
    }
    (keys, va, vb)
}

/// Counts by category name, most common first.
fn named_counts(p: &ColumnProfile) -> IndexMap<String, f64> {
    p.categories
        .as_ref()
        .map(|c| {
            c.counts
                .iter()
                .map(|(k, v)| (k.clone(), *v as f64))
                .collect()
        })
        .unwrap_or_default()
}

/// Values a profile counted past its cap of names.
fn other_count(p: &ColumnProfile) -> u64 {
    p.categories.as_ref().map_or(0, |c| c.other)
}

fn shares(counts: &[f64]) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    counts
        .iter()
        .map(|c| if total > 0.0 { c / total } else { 0.0 })
        .collect()
}

/// A distribution as sorted values with cumulative weights: unit weights for exact
/// values, `2^level` for sketch items.
pub struct Dist {
    xs: Vec<f64>,
    cum: Vec<f64>,
    total: f64,
    /// Number of values summarised.
    n: usize,
}

impl Dist {
    pub fn exact(values: &[f64]) -> Dist {
        let mut xs = values.to_vec();
        xs.sort_unstable_by(f64::total_cmp);
        let cum = (1..=xs.len()).map(|i| i as f64).collect();
        Dist {
            total: xs.len() as f64,
            n: xs.len(),
            xs,
            cum,
        }
    }

    fn sketch(p: &ColumnProfile) -> Dist {
        let Some(num) = &p.numeric else {
            return Dist::exact(&[]);
        };
        let items = num.sketch.weighted();
        let mut total = 0.0;
        let cum = items
            .iter()
            .map(|(_, w)| {
                total += w;
                total
            })
            .collect();
        Dist {
            xs: items.into_iter().map(|x| x.0).collect(),
            cum,
            total,
            n: num.sketch.n as usize,
        }
    }

    /// Share of the distribution at or below `x`.
    fn cdf(&self, x: f64) -> f64 {
        let i = self.xs.partition_point(|&v| v <= x);
        if i == 0 || self.total == 0.0 {
            0.0
        } else {
            self.cum[i - 1] / self.total
        }
    }

    fn quantile(&self, q: f64) -> f64 {
        let target = q * self.total;
        let i = self
            .cum
            .partition_point(|&c| c < target)
            .min(self.xs.len().saturating_sub(1));
        self.xs.get(i).copied().unwrap_or(f64::NAN)
    }

    /// Inner edges at the reference's `bins`-quantiles, duplicates removed.
    fn quantile_edges(&self, bins: usize) -> Vec<f64> {
        let mut edges: Vec<f64> = (1..bins)
            .map(|i| self.quantile(i as f64 / bins as f64))
            .collect();
        edges.dedup();
        edges
    }

    /// Inner edges of `bins` equal-width bins over the range.
    fn even_edges(&self, bins: usize) -> Vec<f64> {
        let (lo, hi) = (self.xs.first().copied(), self.xs.last().copied());
        match (lo, hi) {
            (Some(lo), Some(hi)) if hi > lo => (1..bins)
                .map(|i| lo + (hi - lo) * i as f64 / bins as f64)
                .collect(),
            _ => vec![],
        }
    }

    /// Shares in (-inf, e1], (e1, e2], ..., (ek, inf).
    fn bin_shares(&self, edges: &[f64]) -> Vec<f64> {
        let mut last = 0.0;
        let mut out: Vec<f64> = edges
            .iter()
            .map(|&e| {
                let c = self.cdf(e);
                let s = c - last;
                last = c;
                s
            })
            .collect();
        out.push(1.0 - last);
        out
    }

    /// Exact KS statistic times n·m, as an integer (both sides exact).
    fn ks_numerator(&self, other: &Dist) -> u128 {
        let (n, m) = (self.n as i128, other.n as i128);
        let mut best = 0i128;
        merged_walk(&self.xs, &other.xs, |_, i, j| {
            best = best.max((i as i128 * m - j as i128 * n).abs());
        });
        best as u128
    }
}

/// Calls `at(x, i, j)` at each distinct value `x` of two sorted slices, in order, with
/// the number of values of each that are at most `x`.
fn merged_walk(a: &[f64], b: &[f64], mut at: impl FnMut(f64, usize, usize)) {
    let (mut i, mut j) = (0usize, 0usize);
    while i < a.len() || j < b.len() {
        let x = match (a.get(i), b.get(j)) {
            (Some(&p), Some(&q)) => p.min(q),
            (Some(&p), None) => p,
            (None, Some(&q)) => q,
            (None, None) => break,
        };
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        at(x, i, j);
    }
}

/// The KS statistic (largest CDF gap) and the Wasserstein-1 distance (area between the
/// CDFs), in one walk over the merged values: the definitions scipy's `ks_2samp` and
/// `wasserstein_distance` compute.
pub fn ks_and_wasserstein(a: &Dist, b: &Dist) -> (f64, f64) {
    let (mut d, mut w) = (0.0f64, 0.0f64);
    let mut prev: Option<(f64, f64)> = None; // (x, |Fa - Fb|) at the previous point
    merged_walk(&a.xs, &b.xs, |x, i, j| {
        let fa = if i == 0 { 0.0 } else { a.cum[i - 1] / a.total };
        let fb = if j == 0 { 0.0 } else { b.cum[j - 1] / b.total };
        let gap = (fa - fb).abs();
        if let Some((px, pg)) = prev {
            w += pg * (x - px);
        }
        d = d.max(gap);
        prev = Some((x, gap));
    });
    (d, w)
}

/// Exact two-sided p-value P(D ≥ d) for samples of sizes `n` and `m`, where
/// `numerator` = d·n·m: one minus the probability that a uniformly random lattice path
/// from (0,0) to (n,m) keeps |x·m − y·n| < numerator (the quantity scipy's
/// `ks_2samp(method='exact')` computes). Probabilities are carried instead of path
/// counts, so nothing overflows.
pub fn ks_exact_pvalue(n: usize, m: usize, numerator: u128) -> f64 {
    if numerator == 0 || n == 0 || m == 0 {
        return 1.0;
    }
    let inside = |x: usize, y: usize| {
        ((x as i128 * m as i128 - y as i128 * n as i128).unsigned_abs()) < numerator
    };
    let mut col = vec![0.0f64; m + 1];
    col[0] = 1.0;
    for y in 1..=m {
        col[y] = if inside(0, y) {
            col[y - 1] * (m - y + 1) as f64 / (n + m - y + 1) as f64
        } else {
            0.0
        };
    }
    // Only the band of cells inside the boundary can hold probability: its width is
    // about 2·numerator/n, so a small statistic (no drift) costs a sliver of n·m. The
    // band moves up with x, so a cell above it is still zero when it enters, and a cell
    // it has left is never read again.
    let (n_wide, m_wide, bound) = (n as i128, m as i128, numerator as i128);
    for x in 1..=n {
        let shift = x as i128 * m_wide;
        let lo = ((shift - bound).div_euclid(n_wide)).clamp(0, m_wide) as usize;
        let hi = ((shift + bound).div_euclid(n_wide) + 1).clamp(0, m_wide) as usize;
        let mut below = 0.0;
        for (y, cell) in col.iter_mut().enumerate().take(hi + 1).skip(lo) {
            let remaining = (n - x + 1 + m - y) as f64;
            let from_left = *cell * (n - x + 1) as f64 / remaining;
            let from_below = if y == 0 {
                0.0
            } else {
                below * (m - y + 1) as f64 / (n - x + m - y + 1) as f64
            };
            let p = if inside(x, y) {
                from_left + from_below
            } else {
                0.0
            };
            *cell = p;
            below = p;
        }
    }
    (1.0 - col[m]).clamp(0.0, 1.0)
}

/// Asymptotic p-value: Kolmogorov's distribution at Stephens' corrected λ.
pub fn ks_asymptotic_pvalue(d: f64, n: usize, m: usize) -> f64 {
    if n == 0 || m == 0 {
        return 1.0;
    }
    let en = (n as f64 * m as f64 / (n + m) as f64).sqrt();
    let lambda = (en + 0.12 + 0.11 / en) * d;
    kolmogorov_q(lambda)
}

fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    let mut sign = 1.0;
    for k in 1..=100 {
        let term = (-2.0 * (k * k) as f64 * lambda * lambda).exp();
        sum += sign * term;
        if term < 1e-16 {
            break;
        }
        sign = -sign;
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// Population stability index of two share vectors, shares floored at [`PSI_FLOOR`].
pub fn psi(reference: &[f64], current: &[f64]) -> f64 {
    reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| {
            let (r, c) = (r.max(PSI_FLOOR), c.max(PSI_FLOOR));
            (c - r) * (c / r).ln()
        })
        .sum()
}

/// Jensen–Shannon distance in base 2 (scipy's `jensenshannon(p, q, base=2)`).
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let (p, q) = (shares(p), shares(q));
    let rel = |a: f64, m: f64| if a > 0.0 { a * (a / m).ln() } else { 0.0 };
    let sum: f64 = p
        .iter()
        .zip(&q)
        .map(|(&a, &b)| {
            let m = (a + b) / 2.0;
            rel(a, m) + rel(b, m)
        })
        .sum();
    (sum / 2.0 / std::f64::consts::LN_2).max(0.0).sqrt()
}

/// Chi-square test of homogeneity on the 2×k table of counts (scipy's
/// `chi2_contingency(table, correction=False)`): statistic, degrees of freedom, p-value.
pub fn chi_square(a: &[f64], b: &[f64]) -> (f64, f64, f64) {
    let (ta, tb): (f64, f64) = (a.iter().sum(), b.iter().sum());
    let total = ta + tb;
    let mut stat = 0.0;
    let mut k = 0usize;
    for (&x, &y) in a.iter().zip(b) {
        let col = x + y;
        if col == 0.0 {
            continue;
        }
        k += 1;
        for (obs, row) in [(x, ta), (y, tb)] {
            let expected = row * col / total;
            stat += (obs - expected).powi(2) / expected;
        }
    }
    let dof = k.saturating_sub(1) as f64;
    let p = if dof == 0.0 {
        1.0
    } else {
        gamma_q(dof / 2.0, stat / 2.0)
    };
    (stat, dof, p)
}

/// Regularised upper incomplete gamma Q(a, x) (series or continued fraction).
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let gln = ln_gamma(a);
    if x < a + 1.0 {
        let (mut sum, mut del, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        1.0 - sum * (-x + a * x.ln() - gln).exp()
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (-x + a * x.ln() - gln).exp() * h
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error ~1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::schema::ColumnType;

    #[test]
    fn identical_samples_do_not_drift() {
        let a: Vec<f64> = (0..500).map(f64::from).collect();
        let (d, w) = ks_and_wasserstein(&Dist::exact(&a), &Dist::exact(&a));
        assert_eq!((d, w), (0.0, 0.0));
        let da = Dist::exact(&a);
        assert_eq!(ks_exact_pvalue(500, 500, da.ks_numerator(&da)), 1.0);
        assert_eq!(psi(&[0.5, 0.5], &[0.5, 0.5]), 0.0);
        assert_eq!(jensen_shannon(&[1.0, 2.0], &[2.0, 4.0]), 0.0);
    }

    #[test]
    fn disjoint_samples_drift_fully() {
        let a = Dist::exact(&[1.0, 2.0, 3.0]);
        let b = Dist::exact(&[10.0, 11.0, 12.0]);
        let (d, w) = ks_and_wasserstein(&a, &b);
        assert_eq!(d, 1.0);
        assert!((w - 9.0).abs() < 1e-12);
        // P(D = 1) for 3 vs 3 = 2 / C(6, 3)
        assert!((ks_exact_pvalue(3, 3, a.ks_numerator(&b)) - 0.1).abs() < 1e-12);
    }

    /// The lattice walk over every cell, as scipy computes it: the band must give the
    /// same bits.
    fn ks_exact_over_every_cell(n: usize, m: usize, numerator: u128) -> f64 {
        let inside = |x: usize, y: usize| {
            ((x as i128 * m as i128 - y as i128 * n as i128).unsigned_abs()) < numerator
        };
        let mut col = vec![0.0f64; m + 1];
        col[0] = 1.0;
        for y in 1..=m {
            col[y] = if inside(0, y) {
                col[y - 1] * (m - y + 1) as f64 / (n + m - y + 1) as f64
            } else {
                0.0
            };
        }
        for x in 1..=n {
            let mut below = 0.0;
            for (y, cell) in col.iter_mut().enumerate() {
                let from_left = *cell * (n - x + 1) as f64 / (n - x + 1 + m - y) as f64;
                let from_below = if y == 0 {
                    0.0
                } else {
                    below * (m - y + 1) as f64 / (n - x + m - y + 1) as f64
                };
                *cell = if inside(x, y) {
                    from_left + from_below
                } else {
                    0.0
                };
                below = *cell;
            }
        }
        (1.0 - col[m]).clamp(0.0, 1.0)
    }

    #[test]
    fn the_exact_ks_band_gives_the_whole_walks_bits() {
        for (n, m) in [
            (1, 1),
            (1, 7),
            (7, 1),
            (3, 3),
            (40, 25),
            (25, 40),
            (200, 170),
        ] {
            for numerator in [
                1,
                2,
                (n * m / 50) as u128,
                (n * m / 7) as u128,
                (n * m / 2) as u128,
                (n * m) as u128,
            ] {
                let numerator = numerator.max(1);
                assert_eq!(
                    ks_exact_pvalue(n, m, numerator).to_bits(),
                    ks_exact_over_every_cell(n, m, numerator).to_bits(),
                    "n={n} m={m} numerator={numerator}"
                );
            }
        }
    }

    fn categories(counts: &[(&str, u64)], other: u64) -> ColumnProfile {
        let counts: IndexMap<String, u64> =
            counts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        ColumnProfile {
            kind: ColumnType::String,
            count: counts.values().sum::<u64>() + other,
            nulls: 0,
            distinct: (counts.len() + 1) as f64,
            numeric: None,
            categories: Some(crate::data::profile::Categories {
                counts,
                other,
                top: Vec::new(),
            }),
        }
    }

    #[test]
    fn categories_past_the_cap_are_compared_on_the_same_bins() {
        // One distribution (a, b, c, d equally often) counted by two profiles that each
        // named their first three values: only a and b are named by both.
        let reference = categories(&[("a", 100), ("b", 100), ("c", 100)], 100);
        let current = categories(&[("b", 100), ("a", 100), ("d", 100)], 100);
        let (keys, r, c) = common_counts(&reference, &current);
        assert_eq!(keys, ["a", "b", "(other)"]);
        assert_eq!(
            (r, c),
            (vec![100.0, 100.0, 200.0], vec![100.0, 100.0, 200.0])
        );
        // Without a cap a value missing on one side is a true zero there.
        let reference = categories(&[("a", 10), ("b", 5)], 0);
        let current = categories(&[("a", 10), ("c", 5)], 0);
        let (keys, r, c) = common_counts(&reference, &current);
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!((r, c), (vec![10.0, 5.0, 0.0], vec![10.0, 0.0, 5.0]));
        // One side capped: what it did not name may hide in its `other`.
        let current = categories(&[("a", 10)], 5);
        let (keys, r, c) = common_counts(&reference, &current);
        assert_eq!(keys, ["a", "(other)"]);
        assert_eq!((r, c), (vec![10.0, 5.0], vec![10.0, 5.0]));
    }

    #[test]
    fn gamma_functions() {
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        // chi2.sf(3.84, 1) ≈ 0.0500435
        assert!((gamma_q(0.5, 3.841458820694124 / 2.0) - 0.05).abs() < 1e-10);
    }

    #[test]
    fn thresholds_override_key_by_key() {
        let c: DriftConfig = serde_yaml::from_str(
            "thresholds: {psi: 0.3}\ncolumns: {age: {wasserstein: 0.5}, id: {skip: true}}",
        )
        .unwrap();
        let t = c.thresholds_for("age");
        assert_eq!(
            (t.psi, t.wasserstein, t.jensen_shannon),
            (Some(0.3), Some(0.5), Some(0.1))
        );
        assert!(c.thresholds_for("id").skip);
        assert!(c.problems().is_empty());
    }
}
