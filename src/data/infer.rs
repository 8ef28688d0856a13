//! `mlgate schema infer`: a starting schema from what the given files hold (training and
//! evaluation data together, so the second does not fail the first's exact ranges), with
//! optional margins on numeric ranges, for a user to edit. Also spots numbers written as
//! text (`3,750`, `12,5`, `$40`), which would otherwise become text features silently.

use super::profile::{ColumnProfile, Profile};
use super::scan::{scan, ScanOptions};
use super::schema::{ColumnSchema, ColumnType, DataSchema};
use crate::error::{Error, Result};
use std::path::Path;

/// Columns with at most this many distinct values get an `allowed` list.
const MAX_ALLOWED: usize = 20;

/// A schema every file in `paths` passes, numeric ranges widened by `margin` (a share of
/// each range, e.g. 0.1) — and the warnings worth reading before using it.
pub fn infer_files(paths: &[std::path::PathBuf], margin: f64) -> Result<(String, Vec<String>)> {
    if !(0.0..=10.0).contains(&margin) {
        return Err(Error::usage(format!(
            "--margin {margin}: give a share of each range between 0 and 10 (0.1 widens by 10%)"
        )));
    }
    let mut schema: Option<DataSchema> = None;
    let mut sources = Vec::new();
    let mut warnings = Vec::new();
    for path in paths {
        let s = scan(path, None, &ScanOptions::default())?;
        warnings.extend(numeric_text_columns(&s.profile).map(|(_, w)| w));
        sources.push(format!("{} ({} rows)", s.profile.source, s.profile.rows));
        let next = infer(&s.profile);
        schema = Some(match schema {
            None => next,
            Some(acc) => union(acc, next),
        });
    }
    let mut schema = schema.ok_or_else(|| Error::usage("give at least one data file"))?;
    widen(&mut schema, margin);
    let yaml = serde_yaml::to_string(&schema)
        .map_err(|e| Error::external(format!("cannot render the schema: {e}")))?;
    let margin_note = if margin > 0.0 {
        format!(", numeric ranges widened by {}%", margin * 100.0)
    } else {
        String::new()
    };
    let mut text = format!(
        "# Inferred by `mlgate schema infer` from {}{margin_note}: review every rule.\n",
        sources.join(", ")
    );
    for w in &warnings {
        text.push_str(&format!("# warning: {w}\n"));
    }
    text.push_str(&yaml);
    Ok((text, warnings))
}

/// A schema both files pass: wider types and ranges, nullable if either is, allowed
/// values of both (while short), unique only where both are.
fn union(mut a: DataSchema, b: DataSchema) -> DataSchema {
    // A column one file lacks is optional.
    for (name, ours) in a.columns.iter_mut() {
        if !b.columns.contains_key(name) {
            ours.optional = true;
        }
    }
    for (name, theirs) in b.columns {
        let Some(ours) = a.columns.get_mut(&name) else {
            a.columns.insert(
                name,
                ColumnSchema {
                    optional: true,
                    ..theirs
                },
            );
            continue;
        };
        ours.kind = wider(ours.kind, theirs.kind);
        ours.nullable |= theirs.nullable;
        ours.min = min_of(ours.min, theirs.min);
        ours.max = max_of(ours.max, theirs.max);
        if !matches!(ours.kind, ColumnType::Integer | ColumnType::Float) {
            (ours.min, ours.max) = (None, None);
        }
        ours.allowed = match (ours.allowed.take(), theirs.allowed) {
            (Some(mut x), Some(y)) => {
                x.extend(y);
                x.sort();
                x.dedup();
                (x.len() <= MAX_ALLOWED).then_some(x)
            }
            _ => None,
        };
        ours.unique &= theirs.unique;
    }
    a
}

fn wider(a: ColumnType, b: ColumnType) -> ColumnType {
    use ColumnType::*;
    match (a, b) {
        (x, y) if x == y => x,
        (Integer, Float) | (Float, Integer) => Float,
        _ => String,
    }
}

fn min_of(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a?.min(b?))
}

fn max_of(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a?.max(b?))
}

/// Widens each numeric range by `margin` of its width on both sides, outward to whole
/// numbers for integers, never below zero for data that never was.
fn widen(schema: &mut DataSchema, margin: f64) {
    if margin <= 0.0 {
        return;
    }
    for c in schema.columns.values_mut() {
        let (Some(lo), Some(hi)) = (c.min, c.max) else {
            continue;
        };
        let pad = (hi - lo).abs().max(hi.abs().max(lo.abs()) * 1e-9) * margin;
        let (mut lo2, mut hi2) = (lo - pad, hi + pad);
        if lo >= 0.0 {
            lo2 = lo2.max(0.0);
        }
        if c.kind == ColumnType::Integer {
            (lo2, hi2) = (lo2.floor(), hi2.ceil());
        }
        (c.min, c.max) = (Some(lo2), Some(hi2));
    }
}

/// Numbers written as text look like this: thousands separators (`3,750`, `1.234.567`,
/// `12 500`), a decimal comma (`12,5`), a currency sign or a percent (`$40`, `12%`).
fn looks_numeric(value: &str) -> bool {
    static PATTERN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^[+-]?(?:[$€£¥]\s?)?(?:\d{1,3}(?:[,.' _]\d{3})+(?:[.,]\d+)?|\d+,\d+|(?:\d+(?:\.\d+)?))(?:\s?%)?$",
        )
        .expect("a valid pattern")
    });
    let v = value.trim();
    // A plain integer or decimal would have been read as a number: not this case.
    let plain = v.parse::<f64>().is_ok();
    !plain && PATTERN.is_match(v)
}

/// The text columns of `profile` whose values are nearly all numbers written as text,
/// each with the warning to show (naming the file, the column and an example value).
pub fn numeric_text_columns(profile: &Profile) -> impl Iterator<Item = (&str, String)> {
    profile.columns.iter().filter_map(|(column, c)| {
        let example = numeric_text(c)?;
        Some((
            column.as_str(),
            format!(
                "{}: column `{column}` holds numbers written as text (e.g. `{example}`): it is \
                 read as text, and as a feature it would become one level per value. Write plain \
                 numbers (`3750`, `12.5`) in the data",
                profile.source
            ),
        ))
    })
}

/// A value of a text column whose values are nearly all numbers written as text.
fn numeric_text(c: &ColumnProfile) -> Option<String> {
    if c.kind != ColumnType::String || c.count == 0 {
        return None;
    }
    let counted = c.categories.as_ref()?;
    let (numeric, all) = counted
        .counts
        .iter()
        .fold((0u64, 0u64), |(n, a), (value, count)| {
            (n + if looks_numeric(value) { *count } else { 0 }, a + count)
        });
    (all > 0 && numeric as f64 >= 0.95 * all as f64)
        .then(|| {
            counted
                .counts
                .keys()
                .find(|v| looks_numeric(v) && !v.trim().chars().all(|c| c.is_ascii_digit()))
                .cloned()
        })
        .flatten()
}

/// Writes a new file; never replaces one.
pub fn write_new(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::usage(format!("{} exists; not overwriting it", path.display()))
            } else {
                Error::write(path, e)
            }
        })?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::write(path, e))
}

/// A schema the profiled data passes: observed types, nullability and ranges; an
/// allowed list for low-cardinality text; uniqueness for all-distinct text.
pub fn infer(profile: &Profile) -> DataSchema {
    DataSchema {
        columns: profile
            .columns
            .iter()
            .map(|(name, c)| (name.clone(), column(c)))
            .collect(),
        ..DataSchema::default()
    }
}

fn column(c: &ColumnProfile) -> ColumnSchema {
    let text = matches!(c.kind, ColumnType::String | ColumnType::Boolean);
    let counts = c.categories.as_ref().filter(|k| k.other == 0);
    let allowed = counts
        .filter(|k| text && k.counts.len() <= MAX_ALLOWED && c.count > k.counts.len() as u64)
        .map(|k| {
            let mut v: Vec<String> = k.counts.keys().cloned().collect();
            v.sort();
            v
        });
    let unique = c.kind == ColumnType::String
        && c.count > 1
        && c.nulls == 0
        && counts.is_some_and(|k| k.counts.len() as u64 == c.count);
    ColumnSchema {
        kind: c.kind,
        nullable: c.nulls > 0,
        max_null_share: None,
        optional: false,
        min: c.numeric.as_ref().map(|n| n.min),
        max: c.numeric.as_ref().map(|n| n.max),
        allowed,
        pattern: None,
        unique,
    }
}
