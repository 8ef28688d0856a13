//! Strict YAML parsing for all of mlgate's files. Errors lead with `FILE:LINE:COL`, name
//! the key path, and reword parser jargon for people.

use super::locate::{Duplicate, Locator, Pos};
use super::suggest;
use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use std::path::Path;

/// Parses any of mlgate's YAML files strictly; errors carry file, line, column and key.
pub fn from_yaml<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T> {
    parse(file, text).map(|(value, _)| value)
}

/// As [`from_yaml`], also returning where each key stands in the text.
pub(super) fn parse<T: DeserializeOwned>(file: &Path, text: &str) -> Result<(T, Locator)> {
    if let Some(what) = emptiness(text) {
        let start = Some(Pos { line: 1, column: 1 });
        return Err(Error::config(located(file, text, start, what))
            .with_hint("see docs/config.md for what it should hold"));
    }
    let locator = Locator::new(text);
    if let Some(dup) = locator.duplicates().first() {
        return Err(duplicate_error(file, text, dup));
    }
    // Syntax first: typed parsing stops at the first type error, and after a slip (a bad
    // indent, an unclosed bracket) that error is about the wrong key on the wrong line.
    serde_yaml::from_str::<serde_yaml::Value>(text)
        .map_err(|e| yaml_error(file, text, &e, &locator))?;
    let value = serde_yaml::from_str::<T>(text)
        .map_err(|e| every_unknown_key::<T>(file, text, e, &locator))?;
    Ok((value, locator))
}

/// Unknown keys reported at most in one error.
const MAX_UNKNOWN_KEYS: usize = 20;

/// serde stops at the first unknown key; `config check` promises every problem. While
/// the error is an unknown key written in block style, that key and its block are
/// commented out (so lines keep their numbers) and the text parsed again: one error
/// then lists every unknown key, each at its own line.
fn every_unknown_key<T: DeserializeOwned>(
    file: &Path,
    text: &str,
    first: serde_yaml::Error,
    locator: &Locator,
) -> Error {
    let mut errors = vec![yaml_error(file, text, &first, locator)];
    let mut current = text.to_string();
    let mut err = first;
    while errors.len() < MAX_UNKNOWN_KEYS {
        let Some(next) = without_unknown_key(&current, &err) else {
            break;
        };
        match serde_yaml::from_str::<T>(&next) {
            Err(e) if is_unknown_key(&e) => {
                errors.push(yaml_error(file, text, &e, locator));
                (current, err) = (next, e);
            }
            // Anything else may be a consequence of the removal: the keys found stand.
            _ => break,
        }
    }
    match errors.len() {
        1 => errors.remove(0),
        n => {
            let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
            Error::config(format!(
                "{}\n\n{n} unknown keys in {}",
                all.join("\n\n"),
                file.display()
            ))
        }
    }
}

fn is_unknown_key(err: &serde_yaml::Error) -> bool {
    err.to_string().contains("unknown field")
}

/// `text` with the unknown key of `err` and the lines nested under it commented out;
/// `None` unless the key starts its line (block style).
fn without_unknown_key(text: &str, err: &serde_yaml::Error) -> Option<String> {
    if !is_unknown_key(err) {
        return None;
    }
    let location = err.location()?;
    let lines: Vec<&str> = text.lines().collect();
    let at = location.line().checked_sub(1)?;
    let line = lines.get(at)?;
    let indent = line.len() - line.trim_start().len();
    if location.column() != indent + 1 {
        return None;
    }
    let nested = |l: &&&str| l.trim().is_empty() || l.len() - l.trim_start().len() > indent;
    let end = at + 1 + lines[at + 1..].iter().take_while(nested).count();
    let out: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| match i {
            i if (at..end).contains(&i) => "#".to_string(),
            _ => l.to_string(),
        })
        .collect();
    Some(out.join("\n") + "\n")
}

/// Why a file holds no settings at all, if it does not.
fn emptiness(text: &str) -> Option<&'static str> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "---")
        .collect();
    if lines.is_empty() {
        Some("the file is empty")
    } else if lines.iter().all(|l| l.starts_with('#')) {
        Some("the file holds only comments, no settings")
    } else {
        None
    }
}

/// serde keeps the last of two equal keys; a repeated model or gate rule is a mistake.
fn duplicate_error(file: &Path, text: &str, dup: &Duplicate) -> Error {
    let key = dup.path.rsplit('.').next().unwrap_or(&dup.path);
    let message = format!(
        "`{}`: duplicate key `{key}`, first given at line {}; each key may appear once",
        dup.path, dup.first.line
    );
    Error::config(located(file, text, Some(dup.pos), &message))
}

/// `FILE:LINE:COL: message`, then the offending line with a caret under the column.
pub(super) fn located(file: &Path, text: &str, pos: Option<Pos>, message: &str) -> String {
    let Some(pos) = pos else {
        return format!("{}: {message}", file.display());
    };
    let mut out = format!("{}:{}:{}: {message}", file.display(), pos.line, pos.column);
    if let Some(line) = text.lines().nth(pos.line.saturating_sub(1)) {
        let gutter = pos.line.to_string();
        let caret = " ".repeat(pos.column.saturating_sub(1));
        out.push_str(&format!(
            "\n {gutter} | {line}\n {} | {caret}^",
            " ".repeat(gutter.len())
        ));
    }
    out
}

/// Turns serde_yaml's message into ours: position first, the key path named, a
/// suggestion for unknown keys and values, advice for syntax slips.
fn yaml_error(file: &Path, text: &str, err: &serde_yaml::Error, locator: &Locator) -> Error {
    let mut pos = err.location().map(|l| Pos {
        line: l.line(),
        column: l.column(),
    });
    let full = err.to_string();
    let (problem, context) = split_marks(&full);
    let (message, advice) = match context {
        Some((what, Some(start))) if pos.is_some_and(|p| p.line > text.lines().count()) => {
            // Nothing to show at the end of the file: point at what was left open.
            pos = Some(start);
            (unclosed(what, problem), None)
        }
        // Where a scalar started says little; where a collection started locates a slip.
        Some((what, start)) if what.contains("flow") || what.contains("block") => {
            (with_context(problem, what, start), advice(problem, what))
        }
        Some((what, _)) => (problem.to_string(), advice(problem, what)),
        None => {
            let (path, detail) = split_path(problem);
            if let (Some(path), true) = (path, detail.starts_with("missing field")) {
                // serde points at the mapping's first key; its own key reads better.
                pos = locator.find(&dotted(path)).or(pos);
            }
            (explain(path, detail), advice(problem, ""))
        }
    };
    let error = Error::config(located(file, text, pos, &message));
    match advice {
        Some(hint) => error.with_hint(hint),
        None => error,
    }
}

/// Splits libyaml's `PROBLEM at line L column C, CONTEXT at line L2 column C2`.
fn split_marks(message: &str) -> (&str, Option<(&str, Option<Pos>)>) {
    let Some((problem, rest)) = message.split_once(" at line ") else {
        return (message, None);
    };
    let context = rest
        .split_once(", ")
        .map(|(_, c)| match c.split_once(" at line ") {
            Some((what, at)) => (what, parse_mark(at)),
            None => (c, None),
        });
    (problem, context)
}

/// `L column C` → a position.
fn parse_mark(text: &str) -> Option<Pos> {
    let (line, column) = text.split_once(" column ")?;
    Some(Pos {
        line: line.trim().parse().ok()?,
        column: column.trim().parse().ok()?,
    })
}

/// libyaml's "while parsing a flow sequence" that hit the end of the file, in plain words.
fn unclosed(what: &str, problem: &str) -> String {
    let thing = ["while parsing a ", "while scanning a "]
        .iter()
        .find_map(|p| what.strip_prefix(p))
        .unwrap_or(what);
    format!("unclosed {thing}: {problem} before the end of the file")
}

/// The problem, and where the collection it broke began.
fn with_context(problem: &str, what: &str, start: Option<Pos>) -> String {
    match start {
        Some(p) => format!(
            "{problem}, {what} that starts at line {} column {}",
            p.line, p.column
        ),
        None => format!("{problem}, {what}"),
    }
}

/// What usually causes libyaml's terser complaints.
fn advice(problem: &str, context: &str) -> Option<&'static str> {
    if problem.contains("tab character") {
        Some("indent with spaces: YAML does not allow tabs for indentation")
    } else if problem.contains("did not find expected key") && context.contains("block mapping") {
        Some("check this line's indentation: the keys of one mapping must line up")
    } else if problem.contains("mapping values are not allowed") {
        Some("check this line's indentation, or quote a value that contains `: `")
    } else if problem.contains("did not find expected ',' or") {
        Some("is a closing bracket or a comma missing?")
    } else {
        None
    }
}

/// serde's messages that follow a `path: ` prefix.
const SERDE_PHRASES: [&str; 7] = [
    "unknown field",
    "unknown variant",
    "missing field",
    "invalid type",
    "invalid value",
    "invalid length",
    "duplicate field",
];

/// Splits `models.churn: missing field …` into the key path and the rest.
fn split_path(message: &str) -> (Option<&str>, &str) {
    match message.split_once(": ") {
        Some((p, d)) if SERDE_PHRASES.iter().any(|s| d.starts_with(s)) => (Some(p), d),
        _ => (None, message),
    }
}

/// serde_yaml writes sequence items as `features[1]`; the locator as `features.1`.
fn dotted(path: &str) -> String {
    path.replace('[', ".").replace(']', "")
}

/// Rewrites serde's wording ("unknown field `x`, expected one of …") for people.
fn explain(path: Option<&str>, detail: &str) -> String {
    let prefix = path.map(|p| format!("in `{p}`: ")).unwrap_or_default();
    for (serde_word, ours) in [
        ("unknown field", "unknown key"),
        ("unknown variant", "unknown value"),
    ] {
        if let Some(rest) = detail.strip_prefix(serde_word) {
            let given = backticked(rest).into_iter().next().unwrap_or_default();
            let expected = detail
                .split_once("expected")
                .map(|(_, e)| backticked(e))
                .unwrap_or_default();
            let hint = suggest::did_you_mean(&given, expected.iter().map(String::as_str));
            let list = expected
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ");
            return format!("{prefix}{ours} `{given}`{hint} (expected one of {list})");
        }
    }
    if detail == "unknown anchor" {
        return "unknown alias: no anchor (`&name`) of this name is defined before it".into();
    }
    if let Some(field) = detail.strip_prefix("missing field ") {
        return format!("{prefix}missing required key {field}");
    }
    format!("{prefix}{}", plain_types(detail))
}

/// Rust type names mean nothing to someone writing YAML.
fn plain_types(detail: &str) -> String {
    let Some((head, expected)) = detail.rsplit_once(", expected ") else {
        return detail.to_string();
    };
    let expected = match expected {
        "f64" | "f32" => "a number",
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more",
        "a map" => "a mapping of `key: value` entries",
        e if e.starts_with("struct ") => "a mapping of `key: value` entries",
        e => e,
    };
    format!("{head}, expected {expected}")
}

/// The `…`-quoted words in serde's messages.
fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_unknown_fields_with_suggestion() {
        let (path, detail) =
            split_path("models.churn: unknown field `gaet`, expected one of `task`, `gate`");
        assert_eq!(
            explain(path, detail),
            "in `models.churn`: unknown key `gaet`; did you mean `gate`? (expected one of `task`, `gate`)"
        );
    }

    #[test]
    fn paths_may_hold_spaces_but_messages_are_not_paths() {
        assert_eq!(
            split_path("models.Churn Model: missing field `target`"),
            (Some("models.Churn Model"), "missing field `target`")
        );
        let top = "invalid type: string \"x\", expected struct Config";
        assert_eq!(split_path(top), (None, top));
    }

    #[test]
    fn names_types_plainly() {
        assert_eq!(
            plain_types("invalid type: string \"high\", expected f64"),
            "invalid type: string \"high\", expected a number"
        );
    }

    #[test]
    fn splits_libyaml_marks() {
        let (problem, context) = split_marks(
            "did not find expected ',' or ']' at line 18 column 1, while parsing a flow sequence at line 17 column 15",
        );
        assert_eq!(problem, "did not find expected ',' or ']'");
        assert_eq!(
            context,
            Some((
                "while parsing a flow sequence",
                Some(Pos {
                    line: 17,
                    column: 15
                })
            ))
        );
    }

    #[test]
    fn tells_empty_from_comments_only() {
        assert_eq!(emptiness(" \n---\n"), Some("the file is empty"));
        assert_eq!(
            emptiness("# a\n\n# b\n"),
            Some("the file holds only comments, no settings")
        );
        assert_eq!(emptiness("# a\nversion: 1\n"), None);
    }

    #[test]
    fn location_renders_caret() {
        let text = "a: 1\nbb: 2\n";
        let s = located(
            Path::new("m.yaml"),
            text,
            Some(Pos { line: 2, column: 1 }),
            "bad",
        );
        assert_eq!(s, "m.yaml:2:1: bad\n 2 | bb: 2\n   | ^");
    }
}
