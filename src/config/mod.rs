//! Loading `mlgate.yaml`: strict parsing, then semantic checks, each error pointing at
//! the file, line, column and key it is about.

mod check;
pub use check::valid_model_name;
pub mod locate;
pub mod suggest;
mod types;

pub use types::*;

use crate::error::{Error, Result};
use locate::{Locator, Pos};
use std::path::{Path, PathBuf};

/// A loaded, checked configuration and where it came from.
#[derive(Debug)]
pub struct Project {
    /// The config file as given.
    pub file: PathBuf,
    /// The folder holding it: every relative path in the config is resolved from here.
    pub root: PathBuf,
    pub config: Config,
    source: Source,
}

/// The config text and an index of where each key stands in it.
#[derive(Debug)]
struct Source {
    text: String,
    locator: Locator,
}

impl Project {
    /// Reads, parses and checks a config file.
    pub fn load(file: &Path) -> Result<Project> {
        let text = std::fs::read_to_string(file).map_err(|e| {
            let err = Error::read(file, e);
            if file.exists() {
                err
            } else {
                Error::config(format!("{}: config file not found", file.display()))
                    .with_hint("pass --config PATH, or run `mlgate init` to create one")
            }
        })?;
        let project = Self::parse(file, text)?;
        check::check(&project)?;
        Ok(project)
    }

    /// Parses config text without touching the file system (no semantic checks).
    pub fn parse(file: &Path, text: String) -> Result<Project> {
        let root = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let root = if root.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            root
        };
        let config = from_yaml::<Config>(file, &text)?;
        let source = Source {
            locator: Locator::new(&text),
            text,
        };
        Ok(Project {
            file: file.to_path_buf(),
            root,
            config,
            source,
        })
    }

    /// Resolves a path written in the config relative to the config's folder.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        }
    }

    /// The models a step acts on: the one named, or all of them.
    pub fn models(&self, only: Option<&str>) -> Result<Vec<(&str, &ModelConfig)>> {
        match only {
            None => Ok(self
                .config
                .models
                .iter()
                .map(|(n, m)| (n.as_str(), m))
                .collect()),
            Some(name) => match self.config.models.get_key_value(name) {
                Some((n, m)) => Ok(vec![(n.as_str(), m)]),
                None => Err(Error::usage(format!(
                    "--model {name}: no such model in {}{}",
                    self.file.display(),
                    suggest::did_you_mean(name, self.config.models.keys().map(String::as_str))
                ))),
            },
        }
    }

    /// Path of the model's production pointer, relative to the config's folder.
    pub fn pointer_rel(&self, name: &str) -> String {
        self.config.models[name]
            .promote
            .pointer
            .clone()
            .unwrap_or_else(|| format!("models/{name}/production.yaml"))
    }

    /// Branch a promotion of the model is proposed on.
    pub fn promotion_branch(&self, name: &str) -> String {
        self.config.models[name]
            .promote
            .branch
            .clone()
            .unwrap_or_else(|| format!("mlgate/promote/{name}"))
    }

    /// An error about the key at `path` (dotted), pointing at its position in the file.
    pub fn error_at(&self, path: &str, message: impl std::fmt::Display) -> Error {
        let pos = self.source.locator.find(path);
        Error::config(located(
            &self.file,
            &self.source.text,
            pos,
            &format!("`{path}`: {message}"),
        ))
    }
}

/// The JSON Schema of `mlgate.yaml`, for editors (yaml-language-server) and docs.
pub fn json_schema() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(Config)).unwrap_or_default()
}

/// Parses any of mlgate's YAML files strictly; errors carry file, line, column and key.
pub fn from_yaml<T: serde::de::DeserializeOwned>(file: &Path, text: &str) -> Result<T> {
    if is_only_comments(text) {
        return Err(
            Error::config(format!("{}: the file is empty", file.display()))
                .with_hint("see docs/config.md for what it should hold"),
        );
    }
    serde_yaml::from_str::<T>(text).map_err(|e| syntax_error(file, text, &e))
}

fn is_only_comments(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---"
    })
}

/// `FILE:LINE:COL: message`, then the offending line with a caret under the column.
fn located(file: &Path, text: &str, pos: Option<Pos>, message: &str) -> String {
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

/// Turns serde_yaml's message into ours: position first, the key path named, and a
/// suggestion for unknown keys and values.
fn syntax_error(file: &Path, text: &str, err: &serde_yaml::Error) -> Error {
    let pos = err.location().map(|l| Pos {
        line: l.line(),
        column: l.column(),
    });
    let mut message = err.to_string();
    // serde_yaml appends " at line L column C"; we lead with the position instead.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    let message = explain(&message);
    Error::config(located(file, text, pos, &message))
}

/// Rewrites serde's wording ("unknown field `x`, expected one of …") for people.
fn explain(message: &str) -> String {
    let (path, detail) = match message.split_once(": ") {
        Some((p, d)) if !p.contains(' ') => (Some(p), d),
        _ => (None, message),
    };
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
    if let Some(field) = detail.strip_prefix("missing field ") {
        return format!("{prefix}missing required key {field}");
    }
    format!("{prefix}{detail}")
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
        let m = explain("models.churn: unknown field `gaet`, expected one of `task`, `gate`");
        assert_eq!(
            m,
            "in `models.churn`: unknown key `gaet`; did you mean `gate`? (expected one of `task`, `gate`)"
        );
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
