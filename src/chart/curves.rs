//! ROC and precision–recall curves of a binary scorer, for charts (the metrics themselves
//! are computed in `evaluate::metrics`, with scikit-learn's exact definitions).

/// Cumulative (false positives, true positives) after each distinct score, highest first,
/// with the class totals.
struct Sweep {
    steps: Vec<(usize, usize)>,
    positives: usize,
    negatives: usize,
}

fn sweep(truth: &[bool], scores: &[f64]) -> Option<Sweep> {
    let positives = truth.iter().filter(|t| **t).count();
    let negatives = truth.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..truth.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut steps = Vec::new();
    let (mut tp, mut fp) = (0, 0);
    for (i, &row) in order.iter().enumerate() {
        if truth[row] {
            tp += 1;
        } else {
            fp += 1;
        }
        // Tied scores are one threshold: emit a point only after the last of them.
        if order
            .get(i + 1)
            .is_none_or(|&next| scores[next] != scores[row])
        {
            steps.push((fp, tp));
        }
    }
    Some(Sweep {
        steps,
        positives,
        negatives,
    })
}

/// (false positive rate, true positive rate) from (0, 0) to (1, 1). `None` without both classes.
pub fn roc_curve(truth: &[bool], scores: &[f64]) -> Option<Vec<(f64, f64)>> {
    let Sweep {
        steps,
        positives: p,
        negatives: n,
    } = sweep(truth, scores)?;
    let mut curve = vec![(0.0, 0.0)];
    curve.extend(
        steps
            .iter()
            .map(|&(fp, tp)| (fp as f64 / n as f64, tp as f64 / p as f64)),
    );
    Some(curve)
}

/// (recall, precision) at each threshold, starting at recall 0 with precision 1 like
/// scikit-learn's `precision_recall_curve`. `None` without both classes.
pub fn pr_curve(truth: &[bool], scores: &[f64]) -> Option<Vec<(f64, f64)>> {
    let Sweep {
        steps,
        positives: p,
        ..
    } = sweep(truth, scores)?;
    let mut curve = vec![(0.0, 1.0)];
    curve.extend(
        steps
            .iter()
            .map(|&(fp, tp)| (tp as f64 / p as f64, tp as f64 / (tp + fp) as f64)),
    );
    Some(curve)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_group_ties_and_span_the_unit_square() {
        let truth = [true, false, true, false];
        let scores = [0.9, 0.5, 0.5, 0.1];
        let roc = roc_curve(&truth, &scores).unwrap();
        assert_eq!(roc, vec![(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)]);
        let pr = pr_curve(&truth, &scores).unwrap();
        assert_eq!(
            pr,
            vec![(0.0, 1.0), (0.5, 1.0), (1.0, 2.0 / 3.0), (1.0, 0.5)]
        );
        assert!(roc_curve(&[true, true], &[0.1, 0.2]).is_none());
    }
}
