//! Mermaid `xychart-beta` charts as fenced Markdown blocks.

use std::fmt::Write;

/// Mermaid labels are double-quoted: keep them on one line, without quotes.
fn label(text: &str) -> String {
    text.replace(['"', '\n'], "'")
}

fn fmt(v: f64) -> String {
    format!("{:.4}", v)
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

/// A horizontal bar chart of `values` by label (e.g. feature importance).
pub fn bars(title: &str, axis: &str, items: &[(String, f64)]) -> String {
    let top = items.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let names: Vec<String> = items
        .iter()
        .map(|(n, _)| format!("\"{}\"", label(n)))
        .collect();
    let values: Vec<String> = items.iter().map(|(_, v)| fmt(*v)).collect();
    let mut out = String::from("```mermaid\nxychart-beta horizontal\n");
    let _ = writeln!(out, "    title \"{}\"", label(title));
    let _ = writeln!(out, "    x-axis [{}]", names.join(", "));
    let _ = writeln!(
        out,
        "    y-axis \"{}\" 0 --> {}",
        label(axis),
        fmt(top.max(1e-9))
    );
    let _ = writeln!(out, "    bar [{}]", values.join(", "));
    out.push_str("```");
    out
}

/// A line of one value per labelled step (a metric over successive versions).
pub fn series(title: &str, y_axis: &str, labels: &[String], values: &[f64]) -> String {
    let names: Vec<String> = labels.iter().map(|l| format!("\"{}\"", label(l))).collect();
    let ys: Vec<String> = values.iter().map(|v| fmt(*v)).collect();
    let mut out = String::from("```mermaid\nxychart-beta\n");
    let _ = writeln!(out, "    title \"{}\"", label(title));
    let _ = writeln!(out, "    x-axis [{}]", names.join(", "));
    let _ = writeln!(out, "    y-axis \"{}\"", label(y_axis));
    let _ = writeln!(out, "    line [{}]", ys.join(", "));
    out.push_str("```");
    out
}

/// A line from (0, ys[0]) to (1, ys[n-1]) at evenly spaced x (e.g. an ROC curve).
pub fn unit_line(title: &str, x_axis: &str, y_axis: &str, ys: &[f64]) -> String {
    let values: Vec<String> = ys.iter().map(|v| fmt(*v)).collect();
    let ticks: Vec<String> = (0..ys.len())
        .map(|i| fmt(i as f64 / (ys.len().max(2) - 1) as f64))
        .collect();
    let mut out = String::from("```mermaid\nxychart-beta\n");
    let _ = writeln!(out, "    title \"{}\"", label(title));
    let _ = writeln!(
        out,
        "    x-axis \"{}\" [{}]",
        label(x_axis),
        ticks.join(", ")
    );
    let _ = writeln!(out, "    y-axis \"{}\" 0 --> 1", label(y_axis));
    let _ = writeln!(out, "    line [{}]", values.join(", "));
    out.push_str("```");
    out
}

/// True-positive rate at `steps + 1` evenly spaced false-positive rates: the ROC curve of
/// scores for the positive rows (`truth`), sampled for a chart. `None` without both classes.
pub fn roc_points(truth: &[bool], scores: &[f64], steps: usize) -> Option<Vec<f64>> {
    let curve = super::curves::roc_curve(truth, scores)?;
    Some(
        (0..=steps)
            .map(|i| {
                let x = i as f64 / steps as f64;
                curve
                    .iter()
                    .filter(|(f, _)| *f <= x + 1e-12)
                    .map(|(_, t)| *t)
                    .fold(0.0, f64::max)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_ranking_reaches_one_at_once() {
        let roc = roc_points(&[true, false, true, false], &[0.9, 0.2, 0.8, 0.1], 4).unwrap();
        assert_eq!(roc, vec![1.0; 5]);
        assert!(roc_points(&[true, true], &[0.1, 0.2], 4).is_none());
    }

    #[test]
    fn charts_are_fenced_mermaid() {
        let chart = bars(
            "Importance",
            "share",
            &[("a\"b".into(), 0.5), ("c".into(), 0.25)],
        );
        assert!(
            chart.starts_with("```mermaid\nxychart-beta horizontal\n"),
            "{chart}"
        );
        assert!(chart.contains("x-axis [\"a'b\", \"c\"]") && chart.contains("bar [0.5, 0.25]"));
        let line = unit_line(
            "ROC",
            "false positive rate",
            "true positive rate",
            &[0.0, 1.0],
        );
        assert!(line.contains("x-axis \"false positive rate\" [0, 1]") && line.ends_with("```"));
    }
}
