//! Evaluation metrics with scikit-learn's exact definitions (1.5+ defaults).
//!
//! Gates compare these numbers against thresholds and against a model trained in
//! Python, so each metric reproduces scikit-learn's conventions, including the awkward
//! ones: macro averages run over the labels present in `y_true ∪ y_pred`, zero division
//! yields 0.0, tied scores share one ROC/PR threshold, and average precision is the
//! step-wise sum, not a trapezoid. A metric scikit-learn refuses to compute (it raises)
//! is returned as NaN here rather than as an error, so one undefined number never
//! hides the others.
//!
//! Classes are indices `0..k`; probabilities are `n × k` row-major.

pub use crate::config::{is_higher_better, CLASSIFICATION_METRICS, REGRESSION_METRICS};

/// Index of the largest value in each row; ties go to the lowest index and a NaN wins
/// (both as `numpy.argmax`). A trailing partial row is ignored.
pub fn argmax_rows(proba: &[f64], n_classes: usize) -> Vec<usize> {
    if n_classes == 0 {
        return Vec::new();
    }
    proba
        .chunks_exact(n_classes)
        .map(|row| {
            let mut best = 0;
            for (j, &v) in row.iter().enumerate() {
                if v.is_nan() {
                    return j;
                }
                if v > row[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// Counts with rows = true class, columns = predicted class. Pairs with a label
/// `>= n_classes` are skipped.
pub fn confusion_matrix(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Vec<Vec<u64>> {
    let mut cm = vec![vec![0u64; n_classes]; n_classes];
    for (&t, &p) in y_true.iter().zip(y_pred) {
        if t < n_classes && p < n_classes {
            cm[t][p] += 1;
        }
    }
    cm
}

/// Classification metrics from true labels and predicted probabilities.
///
/// Binary problems (`n_classes == 2`) report `precision`/`recall`/`f1` for `positive`
/// (scikit-learn `average="binary"`), `roc_auc`/`pr_auc` on the probability of
/// `positive`, and `brier`. Multiclass problems report macro `precision`/`recall`/`f1`,
/// one-vs-rest macro `roc_auc`/`pr_auc`, and no `brier`.
///
/// `log_loss` is scikit-learn's `log_loss(y_true, proba, labels=range(k))`: defined even
/// when `y_true` lacks some classes. Undefined values are NaN: every metric for empty
/// or malformed input (length mismatch, label out of range, `n_classes < 2`,
/// `positive >= n_classes`); `roc_auc` when a class is absent from `y_true` (binary: one
/// class only); `pr_auc` likewise (binary with no positive: scikit-learn returns 0.0
/// with a warning, NaN here); the probability metrics when `proba` holds a non-finite
/// value; multiclass `roc_auc` when rows do not sum to 1 (scikit-learn raises).
pub fn classification(
    y_true: &[usize],
    proba: &[f64],
    n_classes: usize,
    positive: usize,
) -> Vec<(String, f64)> {
    let binary = n_classes == 2;
    let names: &[&str] = if binary {
        CLASSIFICATION_METRICS
    } else {
        &CLASSIFICATION_METRICS[..CLASSIFICATION_METRICS.len() - 1]
    };
    let n = y_true.len();
    let valid = n > 0
        && n_classes >= 2
        && n.checked_mul(n_classes) == Some(proba.len())
        && y_true.iter().all(|&t| t < n_classes)
        && (!binary || positive < n_classes);
    if !valid {
        return names.iter().map(|m| (m.to_string(), f64::NAN)).collect();
    }

    let k = n_classes;
    let y_pred = argmax_rows(proba, k);
    let cm = confusion_matrix(y_true, &y_pred, k);
    let tp: Vec<f64> = (0..k).map(|c| cm[c][c] as f64).collect();
    let true_sum: Vec<f64> = (0..k).map(|c| cm[c].iter().sum::<u64>() as f64).collect();
    let pred_sum: Vec<f64> = (0..k)
        .map(|c| cm.iter().map(|r| r[c]).sum::<u64>() as f64)
        .collect();
    let precision: Vec<f64> = (0..k).map(|c| divide(tp[c], pred_sum[c])).collect();
    let recall: Vec<f64> = (0..k).map(|c| divide(tp[c], true_sum[c])).collect();
    let f1: Vec<f64> = (0..k)
        .map(|c| divide(2.0 * tp[c], true_sum[c] + pred_sum[c]))
        .collect();
    // scikit-learn's default `labels=None` averages over unique_labels(y_true, y_pred).
    let present: Vec<usize> = (0..k)
        .filter(|&c| true_sum[c] + pred_sum[c] > 0.0)
        .collect();
    let macro_of = |v: &[f64]| mean(present.iter().map(|&c| v[c]));

    let accuracy = tp.iter().sum::<f64>() / n as f64;
    // Recall averaged over classes that occur in y_true (others would divide by zero).
    let balanced = mean((0..k).filter(|&c| true_sum[c] > 0.0).map(|c| recall[c]));
    let (p_main, r_main, f_main) = if binary {
        (precision[positive], recall[positive], f1[positive])
    } else {
        (macro_of(&precision), macro_of(&recall), macro_of(&f1))
    };
    let support: f64 = present.iter().map(|&c| true_sum[c]).sum();
    let f1_weighted = divide(present.iter().map(|&c| f1[c] * true_sum[c]).sum(), support);

    let finite = proba.iter().all(|v| v.is_finite());
    let column = |c: usize| -> Vec<f64> { proba.iter().skip(c).step_by(k).copied().collect() };
    let (roc_auc, pr_auc) = if !finite {
        (f64::NAN, f64::NAN)
    } else if binary {
        let truth: Vec<bool> = y_true.iter().map(|&t| t == positive).collect();
        let points = threshold_counts(&truth, &column(positive));
        (binary_roc_auc(&points), average_precision(&points))
    } else if true_sum.contains(&0.0) {
        // scikit-learn: "Number of classes in y_true not equal to the number of columns".
        (f64::NAN, f64::NAN)
    } else {
        let rows_sum_to_one = proba.chunks_exact(k).all(|row| {
            let s: f64 = row.iter().sum();
            (s - 1.0).abs() <= 1e-8 + 1e-5 * s.abs() // numpy.allclose defaults
        });
        let mut roc = 0.0;
        let mut ap = 0.0;
        for c in 0..k {
            let truth: Vec<bool> = y_true.iter().map(|&t| t == c).collect();
            let points = threshold_counts(&truth, &column(c));
            roc += binary_roc_auc(&points);
            ap += average_precision(&points);
        }
        let roc = if rows_sum_to_one {
            roc / k as f64
        } else {
            f64::NAN
        };
        (roc, ap / k as f64)
    };

    let log_loss = if finite {
        let eps = f64::EPSILON;
        let total: f64 = y_true
            .iter()
            .enumerate()
            .map(|(i, &t)| -proba[i * k + t].clamp(eps, 1.0 - eps).ln())
            .sum();
        total / n as f64
    } else {
        f64::NAN
    };

    let mut out = vec![
        ("accuracy", accuracy),
        ("balanced_accuracy", balanced),
        ("precision", p_main),
        ("recall", r_main),
        ("f1", f_main),
        ("precision_macro", macro_of(&precision)),
        ("recall_macro", macro_of(&recall)),
        ("f1_macro", macro_of(&f1)),
        ("f1_weighted", f1_weighted),
        ("roc_auc", roc_auc),
        ("pr_auc", pr_auc),
        ("log_loss", log_loss),
    ];
    if binary {
        let brier = y_true
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let target = if t == positive { 1.0 } else { 0.0 };
                (proba[i * k + positive] - target).powi(2)
            })
            .sum::<f64>()
            / n as f64;
        out.push(("brier", if finite { brier } else { f64::NAN }));
    }
    out.into_iter()
        .map(|(name, v)| (name.to_string(), v))
        .collect()
}

/// Regression metrics: `rmse`, `mae`, `r2`, `mape` (scikit-learn definitions).
///
/// `r2` follows `r2_score(force_finite=True)`: constant `y_true` gives 1.0 for a perfect
/// prediction and 0.0 otherwise; fewer than two samples gives NaN. `mape` is a
/// fraction with the denominator floored at `f64::EPSILON`. Empty or mismatched input
/// gives NaN everywhere.
pub fn regression(y_true: &[f64], y_pred: &[f64]) -> Vec<(String, f64)> {
    let n = y_true.len();
    let values = if n == 0 || y_pred.len() != n {
        [f64::NAN; 4]
    } else {
        let nf = n as f64;
        let pairs = || y_true.iter().zip(y_pred);
        let sse: f64 = pairs().map(|(t, p)| (t - p) * (t - p)).sum();
        let mae = pairs().map(|(t, p)| (t - p).abs()).sum::<f64>() / nf;
        let mape = pairs()
            .map(|(t, p)| (t - p).abs() / t.abs().max(f64::EPSILON))
            .sum::<f64>()
            / nf;
        let r2 = if n < 2 {
            f64::NAN
        } else {
            let y_mean = y_true.iter().sum::<f64>() / nf;
            let sst: f64 = y_true.iter().map(|t| (t - y_mean) * (t - y_mean)).sum();
            match (sse != 0.0, sst != 0.0) {
                (true, true) => 1.0 - sse / sst,
                (false, _) => 1.0,
                (true, false) => 0.0,
            }
        };
        [(sse / nf).sqrt(), mae, r2, mape]
    };
    REGRESSION_METRICS
        .iter()
        .zip(values)
        .map(|(m, v)| (m.to_string(), v))
        .collect()
}

/// `num / den`, or 0.0 when `den == 0` (scikit-learn's `zero_division` default).
fn divide(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

/// Arithmetic mean; NaN for no values (like `numpy.mean` of an empty array).
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    if count == 0 {
        f64::NAN
    } else {
        sum / count as f64
    }
}

/// Cumulative (false positives, true positives) at each distinct score, scanning scores
/// from high to low; tied scores form one threshold, as in scikit-learn's
/// `_binary_clf_curve`. The scores are finite.
fn threshold_counts(truth: &[bool], scores: &[f64]) -> Vec<(u64, u64)> {
    // Each row as one integer, the score's key above its truth bit: sorting those is a
    // sort of plain integers, where sorting row indices by their scores read each score
    // at random (two such sorts were most of scoring 100 000 rows).
    let mut rows: Vec<u128> = scores
        .iter()
        .zip(truth)
        .map(|(&x, &t)| u128::from(descending(x)) << 1 | u128::from(t))
        .collect();
    rows.sort_unstable();
    let mut points = Vec::new();
    let (mut fp, mut tp) = (0u64, 0u64);
    for (pos, &row) in rows.iter().enumerate() {
        if row & 1 == 1 {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_group = rows.get(pos + 1).is_none_or(|&next| next >> 1 != row >> 1);
        if last_of_group {
            points.push((fp, tp));
        }
    }
    points
}

/// A key that orders finite scores from high to low, equal for equal scores (`0.0` and
/// `-0.0` share a threshold, as numpy's `!=` has them).
fn descending(x: f64) -> u64 {
    !crate::data::sketch::total_order_key(if x == 0.0 { 0.0 } else { x })
}

/// Area under the ROC curve (trapezoidal over grouped thresholds); NaN unless both
/// classes occur. Integer counts keep the sum exact until the final division.
fn binary_roc_auc(points: &[(u64, u64)]) -> f64 {
    let (neg, pos) = points.last().copied().unwrap_or((0, 0));
    if neg == 0 || pos == 0 {
        return f64::NAN;
    }
    // Twice the area in units of one (negative, positive) pair.
    let mut area2: u128 = 0;
    let (mut fp_prev, mut tp_prev) = (0u64, 0u64);
    for &(fp, tp) in points {
        area2 += u128::from(fp - fp_prev) * u128::from(tp + tp_prev);
        fp_prev = fp;
        tp_prev = tp;
    }
    area2 as f64 / (2.0 * neg as f64 * pos as f64)
}

/// Average precision `Σ (Rₙ − Rₙ₋₁) Pₙ` over grouped thresholds (no interpolation);
/// NaN when there is no positive.
fn average_precision(points: &[(u64, u64)]) -> f64 {
    let pos = points.last().map_or(0, |p| p.1);
    if pos == 0 {
        return f64::NAN;
    }
    let mut ap = 0.0;
    let mut recall_prev = 0.0;
    for &(fp, tp) in points {
        let recall = tp as f64 / pos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - recall_prev) * precision;
        recall_prev = recall;
    }
    ap
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(metrics: &[(String, f64)], name: &str) -> f64 {
        metrics
            .iter()
            .find(|(m, _)| m == name)
            .map(|(_, v)| *v)
            .expect(name)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Binary probabilities from scores of the positive class 1.
    fn binary_proba(p: &[f64]) -> Vec<f64> {
        p.iter().flat_map(|&v| [1.0 - v, v]).collect()
    }

    #[test]
    fn names_match_constants() {
        let m = classification(&[0, 1], &binary_proba(&[0.2, 0.7]), 2, 1);
        let names: Vec<&str> = m.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, CLASSIFICATION_METRICS);
        let m = classification(
            &[0, 1, 2],
            &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            3,
            0,
        );
        assert_eq!(m.len(), CLASSIFICATION_METRICS.len() - 1);
        assert!(m.iter().all(|(n, _)| n != "brier"));
        let r = regression(&[1.0, 2.0], &[1.0, 2.0]);
        let names: Vec<&str> = r.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, REGRESSION_METRICS);
        for name in CLASSIFICATION_METRICS.iter().chain(REGRESSION_METRICS) {
            assert!(is_higher_better(name).is_some(), "{name}");
        }
        assert_eq!(is_higher_better("log_loss"), Some(false));
        assert_eq!(is_higher_better("nope"), None);
    }

    #[test]
    fn binary_hand_checked() {
        // scores of class 1; predictions: 1 if p > 0.5
        let y = [0, 0, 1, 1, 1, 0];
        let p = [0.1, 0.6, 0.8, 0.4, 0.9, 0.3];
        let m = classification(&y, &binary_proba(&p), 2, 1);
        // pred = [0,1,1,0,1,0]: tp=2 fp=1 fn=1 tn=2
        assert!(close(get(&m, "accuracy"), 4.0 / 6.0));
        assert!(close(get(&m, "precision"), 2.0 / 3.0));
        assert!(close(get(&m, "recall"), 2.0 / 3.0));
        assert!(close(get(&m, "f1"), 2.0 / 3.0));
        assert!(close(get(&m, "balanced_accuracy"), 2.0 / 3.0));
        // ranks: positives 0.8, 0.4, 0.9 vs negatives 0.1, 0.6, 0.3 → 8 of 9 pairs
        assert!(close(get(&m, "roc_auc"), 8.0 / 9.0));
        // sorted: .9(+) .8(+) .6(-) .4(+) .3 .1 → AP = (1 + 1 + 3/4) / 3
        assert!(close(get(&m, "pr_auc"), (1.0 + 1.0 + 0.75) / 3.0));
        let ll =
            -(0.9f64.ln() + 0.4f64.ln() + 0.8f64.ln() + 0.4f64.ln() + 0.9f64.ln() + 0.7f64.ln())
                / 6.0;
        assert!(close(get(&m, "log_loss"), ll));
        let brier = (0.01 + 0.36 + 0.04 + 0.36 + 0.01 + 0.09) / 6.0;
        assert!(close(get(&m, "brier"), brier));
        // positive = 0 flips the roles.
        let m0 = classification(&y, &binary_proba(&p), 2, 0);
        assert!(close(get(&m0, "roc_auc"), 8.0 / 9.0));
        assert!(close(get(&m0, "precision"), 2.0 / 3.0));
        assert!(close(get(&m0, "brier"), brier));
    }

    #[test]
    fn descending_keys_order_scores_from_high_to_low() {
        let scores = [
            -1e300,
            -2.5,
            -1.0,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            5e-324,
            0.25,
            0.5,
            1.0,
            3e300,
        ];
        for a in scores {
            for b in scores {
                let by_value = b.partial_cmp(&a).unwrap();
                assert_eq!(
                    descending(a).cmp(&descending(b)),
                    by_value,
                    "{a} against {b}"
                );
            }
        }
    }

    #[test]
    fn roc_auc_ties_count_half() {
        // One positive and one negative share a score: that pair counts 1/2.
        let y = [0, 1, 0, 1];
        let p = [0.2, 0.5, 0.5, 0.9];
        let m = classification(&y, &binary_proba(&p), 2, 1);
        assert!(close(get(&m, "roc_auc"), 3.5 / 4.0));
        // AP with the tie grouped: thresholds .9 (P=1, R=.5), .5 (P=2/3, R=1).
        assert!(close(get(&m, "pr_auc"), 0.5 + 0.5 * 2.0 / 3.0));
        // All scores tied → chance level.
        let m = classification(&y, &binary_proba(&[0.5; 4]), 2, 1);
        assert!(close(get(&m, "roc_auc"), 0.5));
        assert!(close(get(&m, "pr_auc"), 0.5));
    }

    #[test]
    fn one_class_is_nan_not_panic() {
        let m = classification(&[1, 1, 1], &binary_proba(&[0.2, 0.6, 0.9]), 2, 1);
        assert!(get(&m, "roc_auc").is_nan());
        assert!(close(get(&m, "pr_auc"), 1.0));
        let m = classification(&[0, 0, 0], &binary_proba(&[0.2, 0.6, 0.9]), 2, 1);
        assert!(get(&m, "roc_auc").is_nan());
        assert!(get(&m, "pr_auc").is_nan());
        // precision of class 1: 1 predicted, 0 correct; recall: zero division → 0.
        assert!(close(get(&m, "precision"), 0.0));
        assert!(close(get(&m, "recall"), 0.0));
        assert!(close(get(&m, "f1"), 0.0));
        // Only class 0 occurs in y_true, so balanced accuracy is its recall.
        assert!(close(get(&m, "balanced_accuracy"), 1.0 / 3.0));
        assert!(get(&m, "log_loss").is_finite());
    }

    #[test]
    fn zero_division_is_zero() {
        // Never predicts class 1.
        let m = classification(&[0, 1, 0, 1], &binary_proba(&[0.1, 0.2, 0.3, 0.4]), 2, 1);
        assert_eq!(get(&m, "precision"), 0.0);
        assert_eq!(get(&m, "recall"), 0.0);
        assert_eq!(get(&m, "f1"), 0.0);
        // macro over labels {0, 1}: class 0 has precision 0.5, recall 1.
        assert!(close(get(&m, "precision_macro"), 0.25));
        assert!(close(get(&m, "recall_macro"), 0.5));
        assert!(close(get(&m, "f1_macro"), (2.0 / 3.0) / 2.0));
        assert!(close(get(&m, "f1_weighted"), (2.0 / 3.0) / 2.0));
    }

    #[test]
    fn perfect_predictions() {
        let y = [0, 1, 2, 1, 0];
        let mut proba = vec![0.0; 15];
        for (i, &c) in y.iter().enumerate() {
            proba[i * 3 + c] = 1.0;
        }
        let m = classification(&y, &proba, 3, 0);
        for name in [
            "accuracy",
            "balanced_accuracy",
            "precision",
            "recall",
            "f1",
            "f1_macro",
            "f1_weighted",
            "roc_auc",
            "pr_auc",
        ] {
            assert!(close(get(&m, name), 1.0), "{name}: {m:?}");
        }
        // Clipping at eps keeps the loss finite: -ln(1 - eps) ≈ eps.
        assert!(get(&m, "log_loss") < 1e-15);
    }

    #[test]
    fn multiclass_hand_checked() {
        let y = [0, 1, 2, 2];
        let proba = [
            0.7, 0.2, 0.1, //
            0.3, 0.4, 0.3, //
            0.2, 0.5, 0.3, //
            0.1, 0.1, 0.8,
        ];
        let m = classification(&y, &proba, 3, 0);
        // predictions 0, 1, 1, 2
        assert!(close(get(&m, "accuracy"), 0.75));
        // recall: 1, 1, 0.5; precision: 1, 0.5, 1; f1: 1, 2/3, 2/3
        assert!(close(get(&m, "balanced_accuracy"), 2.5 / 3.0));
        assert!(close(get(&m, "precision"), 2.5 / 3.0));
        assert!(close(get(&m, "f1_macro"), (1.0 + 4.0 / 3.0) / 3.0));
        assert!(close(
            get(&m, "f1_weighted"),
            (1.0 + 2.0 / 3.0 + 2.0 * 2.0 / 3.0) / 4.0
        ));
        // OvR AUCs: class 0: 1; class 1: .4 beats .2 and .1 but not .5 → 2/3;
        // class 2: positives .3, .8 vs negatives .1, .3 (one tie) → 3.5/4
        assert!(close(get(&m, "roc_auc"), (1.0 + 2.0 / 3.0 + 0.875) / 3.0));
        assert!(get(&m, "log_loss") > 0.0);
        // A class absent from y_true makes OvR undefined.
        let m = classification(&[0, 1, 1, 0], &proba, 3, 0);
        assert!(get(&m, "roc_auc").is_nan() && get(&m, "pr_auc").is_nan());
        assert!(get(&m, "accuracy").is_finite());
    }

    #[test]
    fn multiclass_argmax_ties_take_lowest_index() {
        assert_eq!(
            argmax_rows(&[0.4, 0.4, 0.2, 0.1, 0.45, 0.45], 3),
            vec![0, 1]
        );
        assert_eq!(argmax_rows(&[0.1, f64::NAN, 0.9], 3), vec![1]);
        assert_eq!(argmax_rows(&[0.5, 0.5, 0.1], 0), Vec::<usize>::new());
    }

    #[test]
    fn degenerate_inputs_are_nan() {
        for m in [
            classification(&[], &[], 2, 1),
            classification(&[0, 1], &[0.5, 0.5], 2, 1),
            classification(&[0, 3], &[0.5, 0.5, 0.5, 0.5], 2, 1),
            classification(&[0], &[1.0], 1, 0),
            classification(&[0, 1], &[0.5, 0.5, 0.5, 0.5], 2, 2),
        ] {
            assert!(m.iter().all(|(_, v)| v.is_nan()), "{m:?}");
        }
        let m = classification(&[0, 1], &[f64::NAN, 0.5, 0.5, 0.5], 2, 1);
        assert!(get(&m, "roc_auc").is_nan() && get(&m, "log_loss").is_nan());
        assert!(regression(&[], &[]).iter().all(|(_, v)| v.is_nan()));
        assert!(regression(&[1.0], &[1.0, 2.0])
            .iter()
            .all(|(_, v)| v.is_nan()));
    }

    #[test]
    fn confusion_matrix_counts() {
        let cm = confusion_matrix(&[0, 1, 2, 2, 5], &[0, 2, 2, 1, 0], 3);
        assert_eq!(cm, vec![vec![1, 0, 0], vec![0, 0, 1], vec![0, 1, 1]]);
    }

    #[test]
    fn regression_hand_checked() {
        let m = regression(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0]);
        assert!(close(get(&m, "mae"), 0.5));
        assert!(close(get(&m, "rmse"), (0.375f64).sqrt()));
        assert!(close(get(&m, "r2"), 0.948_608_137_044_967_9));
        assert!(close(
            get(&m, "mape"),
            (0.5 / 3.0 + 1.0 + 0.0 + 1.0 / 7.0) / 4.0
        ));
        // Constant y_true: perfect → 1, otherwise 0 (force_finite).
        assert_eq!(get(&regression(&[2.0, 2.0], &[2.0, 2.0]), "r2"), 1.0);
        assert_eq!(get(&regression(&[2.0, 2.0], &[2.0, 3.0]), "r2"), 0.0);
        assert!(get(&regression(&[2.0], &[2.0]), "r2").is_nan());
        // Zero target: denominator floored at eps.
        assert!(close(
            get(&regression(&[0.0, 1.0], &[0.0, 1.0]), "mape"),
            0.0
        ));
        assert!(get(&regression(&[0.0, 1.0], &[1.0, 1.0]), "mape") > 1e15);
    }
}
