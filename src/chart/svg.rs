//! SVG charts drawn with plotters: self-contained files (no fonts or network needed to
//! make them) that browsers and CI artifact viewers display as they are.

use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

const SIZE: (u32, u32) = (560, 420);
const FONT: &str = "sans-serif";

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Renders onto a fresh white canvas and returns the SVG text.
fn render(
    size: (u32, u32),
    draw: impl FnOnce(&Area) -> std::result::Result<(), String>,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(fail)?;
        draw(&root).map_err(|e| Error::external(format!("cannot draw a chart: {e}")))?;
        root.present().map_err(fail)?;
    }
    Ok(svg)
}

/// Writes a chart into `dir` (created if need be) as `file`.
pub fn save(dir: &std::path::Path, file: &str, svg: &str) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    let path = dir.join(file);
    std::fs::write(&path, svg).map_err(|e| Error::write(&path, e))
}

fn fail(e: impl std::fmt::Display) -> Error {
    Error::external(format!("cannot draw a chart: {e}"))
}

fn text<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A line through `points` in the unit square (ROC, precision–recall), optionally with
/// the chance diagonal for reference.
pub fn unit_curve(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    points: &[(f64, f64)],
    diagonal: bool,
) -> Result<String> {
    render(SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1f64, 0f64..1.02f64)
            .map_err(text)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .draw()
            .map_err(text)?;
        if diagonal {
            chart
                .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.3)))
                .map_err(text)?;
        }
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                BLUE.stroke_width(2),
            ))
            .map_err(text)?;
        Ok(())
    })
}

/// Points (x, y) with a zero line: residuals against predictions.
pub fn scatter(title: &str, x_desc: &str, y_desc: &str, points: &[(f64, f64)]) -> Result<String> {
    let (x0, x1) = bounds(points.iter().map(|p| p.0));
    let (y0, y1) = bounds(points.iter().map(|p| p.1).chain([0.0]));
    render(SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(text)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .draw()
            .map_err(text)?;
        chart
            .draw_series(LineSeries::new([(x0, 0.0), (x1, 0.0)], BLACK.mix(0.4)))
            .map_err(text)?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, 2, BLUE.mix(0.5).filled())),
            )
            .map_err(text)?;
        Ok(())
    })
}

/// One value per labelled step, joined by a line (a metric over successive versions).
pub fn series(title: &str, y_desc: &str, labels: &[String], values: &[f64]) -> Result<String> {
    // Integer ranges include their end: `0..n - 1` holds n steps.
    let n = labels.len().max(1);
    let (y0, y1) = bounds(values.iter().copied());
    render(SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((0..n - 1).into_segmented(), y0..y1)
            .map_err(text)?;
        let label = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                labels.get(*i).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .y_desc(y_desc)
            .x_labels(n)
            .x_label_formatter(&label)
            .draw()
            .map_err(text)?;
        let points = || {
            values
                .iter()
                .enumerate()
                .map(|(i, v)| (SegmentValue::CenterOf(i), *v))
        };
        chart
            .draw_series(LineSeries::new(points(), BLUE.stroke_width(2)))
            .map_err(text)?;
        chart
            .draw_series(points().map(|p| Circle::new(p, 3, BLUE.filled())))
            .map_err(text)?;
        Ok(())
    })
}

/// Range of the values with a little margin; a degenerate range is widened to stay drawable.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    (lo - pad, hi + pad)
}

/// Horizontal bars, one row per item, largest value spanning the width (feature importance).
pub fn bars(title: &str, items: &[(String, f64)]) -> Result<String> {
    let row = 24u32;
    let height = 60 + row * items.len().max(1) as u32;
    let top = items
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0_f64, f64::max)
        .max(1e-12);
    render((SIZE.0, height), |root| {
        root.draw(&Text::new(title.to_string(), (12, 12), (FONT, 18)))
            .map_err(text)?;
        let (label_w, bar_w) = (170i32, 300.0);
        for (i, (name, value)) in items.iter().enumerate() {
            let y = 48 + (i as u32 * row) as i32;
            let short: String = name.chars().take(24).collect();
            root.draw(&Text::new(short, (12, y + 4), (FONT, 13)))
                .map_err(text)?;
            let width = (value / top * bar_w).round() as i32;
            root.draw(&Rectangle::new(
                [(label_w, y), (label_w + width.max(1), y + row as i32 - 6)],
                BLUE.mix(0.7).filled(),
            ))
            .map_err(text)?;
            root.draw(&Text::new(
                format!("{value:.3}"),
                (label_w + width + 6, y + 4),
                (FONT, 12),
            ))
            .map_err(text)?;
        }
        Ok(())
    })
}

/// A confusion matrix: rows are true classes, columns predicted, shade by row share.
pub fn confusion(title: &str, classes: &[String], matrix: &[Vec<u64>]) -> Result<String> {
    let k = classes.len().max(1) as i32;
    let cell = (320 / k).clamp(40, 110);
    let (left, top) = (150, 70);
    let size = ((left + cell * k + 30) as u32, (top + cell * k + 40) as u32);
    render(size, |root| {
        root.draw(&Text::new(title.to_string(), (12, 12), (FONT, 18)))
            .map_err(text)?;
        root.draw(&Text::new(
            "predicted →".to_string(),
            (left, top - 38),
            (FONT, 13),
        ))
        .map_err(text)?;
        for (j, class) in classes.iter().enumerate() {
            let label: String = class.chars().take(12).collect();
            root.draw(&Text::new(
                label,
                (left + cell * j as i32 + 4, top - 18),
                (FONT, 12),
            ))
            .map_err(text)?;
        }
        for (i, row) in matrix.iter().enumerate() {
            let y = top + cell * i as i32;
            let label: String = classes
                .get(i)
                .map(|c| c.chars().take(16).collect())
                .unwrap_or_default();
            root.draw(&Text::new(
                format!("{label} (true)"),
                (12, y + cell / 2 - 6),
                (FONT, 12),
            ))
            .map_err(text)?;
            let total = row.iter().sum::<u64>().max(1) as f64;
            for (j, count) in row.iter().enumerate() {
                let x = left + cell * j as i32;
                let shade = *count as f64 / total;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell - 2, y + cell - 2)],
                    BLUE.mix(0.1 + 0.8 * shade).filled(),
                ))
                .map_err(text)?;
                let ink = if shade > 0.5 { &WHITE } else { &BLACK };
                let style = TextStyle::from((FONT, 14).into_font()).color(ink);
                root.draw(&Text::new(
                    count.to_string(),
                    (x + 8, y + cell / 2 - 7),
                    style,
                ))
                .map_err(text)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// plotters writes each text element's content on a line of its own.
    fn has_text(svg: &str, text: &str) -> bool {
        svg.lines().any(|line| line.trim() == text)
    }

    #[test]
    fn charts_are_standalone_svg_with_their_labels() {
        let roc = unit_curve(
            "ROC",
            "false positive rate",
            "true positive rate",
            &[(0.0, 0.0), (0.2, 0.7), (1.0, 1.0)],
            true,
        )
        .unwrap();
        assert!(roc.starts_with("<svg") && roc.trim_end().ends_with("</svg>"));
        assert!(
            has_text(&roc, "ROC") && has_text(&roc, "false positive rate"),
            "{roc}"
        );
        let cm = confusion(
            "Confusion",
            &["no".into(), "yes".into()],
            &[vec![90, 10], vec![5, 45]],
        )
        .unwrap();
        assert!(
            has_text(&cm, "90") && has_text(&cm, "45") && has_text(&cm, "yes (true)"),
            "{cm}"
        );
        let b = bars(
            "Importance",
            &[("tenure".into(), 0.6), ("contract".into(), 0.4)],
        )
        .unwrap();
        assert!(has_text(&b, "tenure") && has_text(&b, "0.600"), "{b}");
        let r = scatter(
            "Residuals",
            "predicted",
            "residual",
            &[(1.0, 0.5), (2.0, -0.5)],
        )
        .unwrap();
        assert!(r.contains("<circle"));
        let h = series(
            "roc_auc",
            "value",
            &["v1".into(), "candidate".into()],
            &[0.79, 0.81],
        )
        .unwrap();
        assert!(has_text(&h, "candidate") && h.contains("<polyline"), "{h}");
    }

    #[test]
    fn degenerate_inputs_still_draw() {
        assert!(scatter("r", "x", "y", &[]).is_ok());
        assert!(scatter("r", "x", "y", &[(1.0, 1.0)]).is_ok());
        assert!(bars("b", &[]).is_ok());
        assert!(confusion("c", &[], &[]).is_ok());
    }
}
