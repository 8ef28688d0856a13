//! Maps a key path in a YAML document (`models.churn.gate.roc_auc`) to its line and
//! column, so checks that run after deserialisation can still point at the source.
//! It also finds duplicate keys, which serde would silently collapse into the last one.

use std::collections::{HashMap, HashSet};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Positions of every mapping key and sequence item, by dotted path.
#[derive(Debug, Default)]
pub struct Locator {
    positions: HashMap<String, Pos>,
    duplicates: Vec<Duplicate>,
}

/// A key given twice in one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// Dotted path of the key.
    pub path: String,
    /// Where it is given again.
    pub pos: Pos,
    /// Where it was first given.
    pub first: Pos,
}

impl Locator {
    /// Indexes `text`; a document that does not parse yields an empty index
    /// (the deserialiser reports the syntax error with its own position).
    pub fn new(text: &str) -> Self {
        let mut builder = Builder::default();
        if Parser::new_from_str(text)
            .load(&mut builder, false)
            .is_err()
        {
            return Locator::default();
        }
        Locator {
            positions: builder.positions,
            duplicates: builder.duplicates,
        }
    }

    /// Keys given more than once in the same mapping, in document order.
    pub fn duplicates(&self) -> &[Duplicate] {
        &self.duplicates
    }

    /// The position of `path`, or of its nearest ancestor that has one.
    pub fn find(&self, path: &str) -> Option<Pos> {
        let mut path = path;
        loop {
            if let Some(pos) = self.positions.get(path) {
                return Some(*pos);
            }
            path = &path[..path.rfind('.')?];
        }
    }
}

enum Frame {
    /// In a mapping: the key awaiting its value, if any, and the keys seen so far.
    Map {
        key: Option<String>,
        seen: HashSet<String>,
    },
    Seq {
        index: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    path: Vec<String>,
    positions: HashMap<String, Pos>,
    duplicates: Vec<Duplicate>,
}

impl Builder {
    /// Called before a value (scalar or collection) starts: settles its path segment.
    /// Returns true when the event was a mapping key rather than a value.
    fn enter_value(&mut self, scalar: Option<&str>, mark: Marker) -> bool {
        let pos = Pos {
            line: mark.line(),
            column: mark.col() + 1,
        };
        match self.stack.last_mut() {
            Some(Frame::Map { key, seen }) if key.is_none() => {
                if let Some(name) = scalar {
                    *key = Some(name.to_string());
                    let again = !seen.insert(name.to_string());
                    self.path.push(name.to_string());
                    self.record(pos, again);
                }
                true
            }
            Some(Frame::Seq { index }) => {
                self.path.push(index.to_string());
                *index += 1;
                self.record(pos, false);
                false
            }
            _ => false,
        }
    }

    /// Notes the position of the current path; the first occurrence of a key wins.
    fn record(&mut self, pos: Pos, again: bool) {
        let path = self.path.join(".");
        if again {
            if let Some(first) = self.positions.get(&path) {
                self.duplicates.push(Duplicate {
                    first: *first,
                    path,
                    pos,
                });
            }
            return;
        }
        self.positions.entry(path).or_insert(pos);
    }

    /// A scalar or alias is a key, or a value that ends where it starts.
    fn scalar(&mut self, scalar: Option<&str>, mark: Marker) {
        if !self.enter_value(scalar, mark) {
            self.leave_value();
        }
    }

    /// Called after a value ends: pops its segment and readies the parent for the next key.
    fn leave_value(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key, .. }) if key.is_some() => {
                *key = None;
                self.path.pop();
            }
            Some(Frame::Seq { .. }) => {
                self.path.pop();
            }
            _ => {}
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => self.scalar(Some(&value), mark),
            Event::Alias(_) => self.scalar(None, mark),
            Event::MappingStart(..) => {
                self.enter_value(None, mark);
                self.stack.push(Frame::Map {
                    key: None,
                    seen: HashSet::new(),
                });
            }
            Event::SequenceStart(..) => {
                self.enter_value(None, mark);
                self.stack.push(Frame::Seq { index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.leave_value();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "version: 1\nmodels:\n  churn:\n    task: classification\n    gate:\n      roc_auc: {min: 0.8}\n    features:\n      - a\n      - b\n";

    #[test]
    fn finds_nested_keys_and_sequence_items() {
        let loc = Locator::new(DOC);
        assert_eq!(loc.find("version"), Some(Pos { line: 1, column: 1 }));
        assert_eq!(
            loc.find("models.churn.task"),
            Some(Pos { line: 4, column: 5 })
        );
        assert_eq!(
            loc.find("models.churn.gate.roc_auc.min"),
            Some(Pos {
                line: 6,
                column: 17
            })
        );
        assert_eq!(
            loc.find("models.churn.features.1"),
            Some(Pos { line: 9, column: 9 })
        );
    }

    #[test]
    fn falls_back_to_nearest_ancestor() {
        let loc = Locator::new(DOC);
        assert_eq!(
            loc.find("models.churn.gate.nope"),
            loc.find("models.churn.gate")
        );
        assert_eq!(loc.find("nothing.here"), None);
    }

    #[test]
    fn finds_duplicate_keys_in_one_mapping_only() {
        let loc = Locator::new("a:\n  x: 1\n  y: 2\n  x: 3\nb:\n  x: 4\n");
        assert_eq!(
            loc.duplicates(),
            [Duplicate {
                path: "a.x".into(),
                pos: Pos { line: 4, column: 3 },
                first: Pos { line: 2, column: 3 },
            }]
        );
        assert_eq!(loc.find("a.x"), Some(Pos { line: 2, column: 3 }));
    }

    #[test]
    fn broken_yaml_gives_empty_index() {
        assert_eq!(Locator::new("a: [1, 2").find("a"), None);
    }
}
