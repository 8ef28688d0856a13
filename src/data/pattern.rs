//! A column's `pattern`, matched against whole values. Most patterns in schemas are a
//! shape: codes, dates, timestamps, UUIDs (`[A-Z]{2}-[0-9]{4}`, `[0-9a-f]{8}-…`), a row
//! of character sets each repeated some number of times. Those are matched by walking
//! the value once against the row of sets, a table lookup per byte; the regular
//! expression engine, which costs several times that per value, reads the rest.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// A compiled `pattern`: matches a value when the whole value matches.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern anchored at both ends: the reference, and the matcher for patterns
    /// that are neither a row of sets nor small enough for [`Pattern::dfa`].
    regex: regex::Regex,
    runs: Option<Runs>,
    /// The other patterns (alternatives, repeated groups: `[a-z]+@[a-z]+\.(com|org)`,
    /// `[A-Z][a-z]*( [A-Z][a-z]*)*`) as a deterministic automaton walked a byte at a
    /// time: the `regex` crate runs the same kind of automaton, behind a search's set-up
    /// that cost more than the walk on short values.
    dfa: Option<Dfa>,
}

type Dfa = regex_automata::dfa::dense::DFA<Vec<u32>>;

/// Largest automaton [`Pattern::dfa`] builds; a larger pattern stays with the regex.
const MAX_DFA_BYTES: usize = 1 << 16;

impl Pattern {
    /// `None` when `pattern` is not a valid regular expression (schemas are checked for
    /// that when they load).
    pub fn new(pattern: &str) -> Option<Pattern> {
        let anchored = format!("^(?:{pattern})$");
        let regex = regex::Regex::new(&anchored).ok()?;
        let runs = regex_syntax::parse(pattern)
            .ok()
            .and_then(|hir| Runs::of(&hir));
        let dfa = runs.is_none().then(|| whole_value_dfa(&anchored)).flatten();
        Some(Pattern { regex, runs, dfa })
    }

    pub fn is_match(&self, text: &str) -> bool {
        match (&self.runs, &self.dfa) {
            (Some(runs), _) => runs
                .is_match(text.as_bytes())
                .unwrap_or_else(|| self.regex.is_match(text)),
            (None, Some(dfa)) => {
                dfa_matches(dfa, text.as_bytes()).unwrap_or_else(|| self.regex.is_match(text))
            }
            (None, None) => self.regex.is_match(text),
        }
    }

    /// Whether values are matched without the regular expression engine.
    #[cfg(test)]
    fn is_shape(&self) -> bool {
        self.runs.is_some()
    }

    /// Whether values that are not a shape are matched by the automaton of their own.
    #[cfg(test)]
    fn is_automaton(&self) -> bool {
        self.dfa.is_some()
    }
}

/// An automaton of the whole-value pattern `anchored`, started anchored; `None` past
/// [`MAX_DFA_BYTES`] or where the pattern needs what an automaton lacks.
fn whole_value_dfa(anchored: &str) -> Option<Dfa> {
    use regex_automata::dfa::{dense, StartKind};
    dense::Builder::new()
        .configure(
            dense::Config::new()
                .start_kind(StartKind::Anchored)
                .dfa_size_limit(Some(MAX_DFA_BYTES))
                .determinize_size_limit(Some(MAX_DFA_BYTES)),
        )
        .build(anchored)
        .ok()
}

/// Whether the whole of `text` matches: the automaton walked over every byte, then told
/// the input ended (the pattern ends with `$`). `None` where the automaton gives up (it
/// may on some inputs), for the regex to answer.
fn dfa_matches(dfa: &Dfa, text: &[u8]) -> Option<bool> {
    use regex_automata::dfa::Automaton;
    use regex_automata::{Anchored, Input};
    let mut state = dfa
        .start_state_forward(&Input::new(text).anchored(Anchored::Yes))
        .ok()?;
    for &byte in text {
        state = dfa.next_state(state, byte);
        if dfa.is_dead_state(state) {
            return Some(false);
        }
        if dfa.is_quit_state(state) {
            return None;
        }
    }
    Some(dfa.is_match_state(dfa.next_eoi_state(state)))
}

/// A row of byte sets, each repeated between `min` and `max` times, matched greedily.
/// Greedy matching is exact when a run that may take a variable count never shares a
/// byte with a run that may follow it directly ([`Runs::of`] checks that).
///
/// A byte is tested against a set by one load: `classes[byte]` has a bit for each of
/// the pattern's distinct sets that holds the byte (at most 64 of them), and a run
/// carries its set's bit.
#[derive(Debug, Clone)]
struct Runs {
    runs: Vec<Run>,
    classes: Box<[u64; 256]>,
    /// When every run has a fixed count (codes, dates, UUIDs): the set bit of each byte
    /// of a matching value, in order.
    fixed: Option<Vec<u64>>,
    /// Some set stands for a character class that also holds non-ASCII characters: a
    /// byte of a multi-byte character cannot be tested against it alone, so values that
    /// are not ASCII go to the regular expression.
    wider: bool,
}

#[derive(Debug, Clone)]
struct Run {
    bytes: ByteSet,
    /// The bit of `bytes` in [`Runs::classes`].
    bit: u64,
    min: u32,
    max: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct ByteSet([u64; 4]);

impl ByteSet {
    fn of(byte: u8) -> ByteSet {
        let mut set = ByteSet::default();
        set.insert(byte);
        set
    }

    fn insert(&mut self, byte: u8) {
        self.0[usize::from(byte >> 6)] |= 1 << (byte & 63);
    }

    fn contains(&self, byte: u8) -> bool {
        self.0[usize::from(byte >> 6)] >> (byte & 63) & 1 == 1
    }

    fn meets(&self, other: &ByteSet) -> bool {
        self.0.iter().zip(&other.0).any(|(a, b)| a & b != 0)
    }
}

/// Patterns longer than this many runs stay with the regular expression engine.
const MAX_RUNS: usize = 256;
/// Fixed-length patterns up to this many bytes are matched byte by byte.
const MAX_FIXED: usize = 1024;

impl Runs {
    /// The runs of a pattern that is a row of sets, else `None`.
    fn of(hir: &Hir) -> Option<Runs> {
        let mut runs = Runs {
            runs: Vec::new(),
            classes: Box::new([0; 256]),
            fixed: None,
            wider: false,
        };
        let items: &[Hir] = match hir.kind() {
            HirKind::Concat(items) => items,
            _ => std::slice::from_ref(hir),
        };
        let last = items.len().saturating_sub(1);
        for (i, item) in items.iter().enumerate() {
            match item.kind() {
                // The value is matched whole anyway.
                HirKind::Look(Look::Start) if i == 0 => {}
                HirKind::Look(Look::End) if i == last => {}
                _ => runs.push(item, 1, 1)?,
            }
        }
        if runs.runs.len() > MAX_RUNS || !runs.greedy_is_exact() {
            return None;
        }
        runs.number_sets()?;
        runs.fixed = runs.flat();
        Some(runs)
    }

    /// Gives each distinct set a bit and fills [`Runs::classes`]; `None` past 64 sets.
    fn number_sets(&mut self) -> Option<()> {
        let mut sets: Vec<ByteSet> = Vec::new();
        for run in &mut self.runs {
            let j = match sets.iter().position(|s| *s == run.bytes) {
                Some(j) => j,
                None => {
                    sets.push(run.bytes);
                    sets.len() - 1
                }
            };
            run.bit = 1u64.checked_shl(j as u32)?;
        }
        for (b, class) in self.classes.iter_mut().enumerate() {
            *class = sets
                .iter()
                .enumerate()
                .filter(|(_, s)| s.contains(b as u8))
                .fold(0, |c, (j, _)| c | 1 << j);
        }
        Some(())
    }

    /// The set bit of each byte, when every run has a fixed count and there are not too
    /// many bytes.
    fn flat(&self) -> Option<Vec<u64>> {
        let mut bits = Vec::new();
        for run in &self.runs {
            if run.min != run.max || bits.len() + run.min as usize > MAX_FIXED {
                return None;
            }
            bits.extend(std::iter::repeat_n(run.bit, run.min as usize));
        }
        Some(bits)
    }

    /// Appends `hir` repeated between `min` and `max` times.
    fn push(&mut self, hir: &Hir, min: u32, max: u32) -> Option<()> {
        match hir.kind() {
            HirKind::Literal(literal) => match &*literal.0 {
                [byte] => self.runs.push(Run {
                    bytes: ByteSet::of(*byte),
                    bit: 0,
                    min,
                    max,
                }),
                // A string, or one character of several bytes: exactly once each.
                bytes if (min, max) == (1, 1) => {
                    self.runs.extend(bytes.iter().map(|&b| Run {
                        bytes: ByteSet::of(b),
                        bit: 0,
                        min: 1,
                        max: 1,
                    }));
                }
                _ => return None,
            },
            HirKind::Class(class) => {
                let (bytes, wider) = ascii_part(class)?;
                self.wider |= wider;
                self.runs.push(Run {
                    bytes,
                    bit: 0,
                    min,
                    max,
                });
            }
            HirKind::Repetition(r) if (min, max) == (1, 1) => {
                self.push(&r.sub, r.min, r.max.unwrap_or(u32::MAX))?;
            }
            HirKind::Capture(c) if (min, max) == (1, 1) => {
                let items: &[Hir] = match c.sub.kind() {
                    HirKind::Concat(items) => items,
                    _ => std::slice::from_ref(&*c.sub),
                };
                for item in items {
                    self.push(item, 1, 1)?;
                }
            }
            _ => return None,
        }
        (self.runs.len() <= MAX_RUNS).then_some(())
    }

    /// Whether no byte a run of variable count may take could also start any run that
    /// may come right after it (the next one, and past it while runs may be empty).
    fn greedy_is_exact(&self) -> bool {
        self.runs.iter().enumerate().all(|(i, run)| {
            run.min == run.max || {
                let mut after = self.runs[i + 1..].iter();
                let mut ok = true;
                for next in after.by_ref() {
                    ok &= !run.bytes.meets(&next.bytes);
                    if next.min > 0 {
                        break;
                    }
                }
                ok
            }
        })
    }

    /// Whether `value` matches; `None` when only the regular expression can tell.
    fn is_match(&self, value: &[u8]) -> Option<bool> {
        if self.wider && !value.is_ascii() {
            return None;
        }
        let classes = &*self.classes;
        if let Some(bits) = &self.fixed {
            // Every byte tested, without a branch per byte: values mostly match.
            let all = value.iter().zip(bits).fold(true, |ok, (&b, &bit)| {
                ok & (classes[usize::from(b)] & bit != 0)
            });
            return Some(value.len() == bits.len() && all);
        }
        let mut at = 0;
        for run in &self.runs {
            let rest = &value[at..];
            let cap = rest.len().min(run.max as usize);
            let taken = rest[..cap]
                .iter()
                .position(|&b| classes[usize::from(b)] & run.bit == 0)
                .unwrap_or(cap);
            if taken < run.min as usize {
                return Some(false);
            }
            at += taken;
        }
        Some(at == value.len())
    }
}

/// A class's ASCII members as bytes, and whether it has members outside ASCII; `None`
/// for a byte class with bytes past ASCII (those only appear in patterns that opt out
/// of Unicode).
fn ascii_part(class: &Class) -> Option<(ByteSet, bool)> {
    let mut set = ByteSet::default();
    let mut wider = false;
    let mut add = |start: u32, end: u32| {
        for c in start..=end.min(0x7f) {
            set.insert(c as u8);
        }
        wider |= end > 0x7f;
    };
    match class {
        Class::Unicode(c) => c
            .ranges()
            .iter()
            .for_each(|r| add(u32::from(r.start()), u32::from(r.end()))),
        Class::Bytes(c) => {
            if c.ranges().iter().any(|r| r.end() > 0x7f) {
                return None;
            }
            c.ranges()
                .iter()
                .for_each(|r| add(u32::from(r.start()), u32::from(r.end())));
        }
    }
    Some((set, wider))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATTERNS: &[&str] = &[
        "[A-Z]{2}-[0-9]{4}",
        "20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z",
        "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        "S[0-9]{10}",
        "[A-Z][a-z ,]*\\.",
        "^ab?c$",
        "\\d{2,4}x",
        "(?i)[a-c]{2}",
        "[^a]{2}",
        "é{2}",
        "xé",
        "[a-zé]+",
        "(ab)c",
        "a*a",
        "a+b*a",
        "[A-Z][a-z]*( [A-Z][a-z]*)*",
        "(a|b)c",
        "a{0}",
        "",
        ".{3}",
        "\\w+",
        "(?m)^a$",
        "(?-u:[a-c])+",
        "[a-z]+\\.[a-z]+[0-9]{0,2}@[a-z]+\\.(com|org|net|io)",
        "\\bx\\w*",
        "(?s).*x",
        "(a|bé|٣)+z?",
    ];

    /// Every pattern gives the regular expression's verdict on random strings over the
    /// characters the patterns use (some not ASCII), and on every one-character edit of
    /// strings that match.
    #[test]
    fn same_verdicts_as_the_regular_expression() {
        let alphabet: Vec<char> = "aAbBcCxXzZsS09459T:.-, \né٣".chars().collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let compiled = |p: &str| {
            let reference = regex::Regex::new(&format!("^(?:{p})$")).unwrap();
            (Pattern::new(p).unwrap(), reference)
        };
        let same = |(pattern, reference): &(Pattern, regex::Regex), s: &str| {
            let verdict = reference.is_match(s);
            assert_eq!(pattern.is_match(s), verdict, "{reference} on {s:?}");
            verdict
        };
        for p in PATTERNS {
            let p = &compiled(p);
            for _ in 0..5_000 {
                let len = (next() % 14) as usize;
                let s: String = (0..len)
                    .map(|_| alphabet[next() as usize % alphabet.len()])
                    .collect();
                same(p, &s);
            }
        }
        let matching = [
            ("[A-Z]{2}-[0-9]{4}", "SW-9197"),
            (PATTERNS[1], "2026-12-04T18:30:54.123Z"),
            (PATTERNS[2], "3f2b8c1e-9d4a-4b7e-8f00-0123456789ab"),
            ("S[0-9]{10}", "S0123456789"),
            ("[A-Z][a-z ,]*\\.", "Hello, world."),
            ("\\d{2,4}x", "٣٣x"),
            ("\\d{2,4}x", "1234x"),
            ("é{2}", "éé"),
            ("[^a]{2}", "éb"),
            ("[a-zé]+", "café"),
            ("(ab)c", "abc"),
        ];
        for (p, s) in matching {
            let p = &compiled(p);
            assert!(same(p, s), "{} should match {s:?}", p.1);
            let chars: Vec<char> = s.chars().collect();
            for i in 0..=chars.len() {
                let edit = |c: &[char]| c.iter().collect::<String>();
                if i < chars.len() {
                    same(p, &edit(&[&chars[..i], &chars[i + 1..]].concat()));
                }
                for &c in &alphabet {
                    same(p, &edit(&[&chars[..i], &[c], &chars[i..]].concat()));
                    if i < chars.len() {
                        same(p, &edit(&[&chars[..i], &[c], &chars[i + 1..]].concat()));
                    }
                }
            }
        }
    }

    /// Shapes are matched without the regular expression engine; patterns where a
    /// greedy walk could go wrong, or that are not a row of sets, are not.
    #[test]
    fn which_patterns_are_shapes() {
        for p in [
            "[A-Z]{2}-[0-9]{4}",
            "20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}",
            "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
            "[A-Z][a-z ,]*\\.",
            "^S[0-9]{10}$",
            "\\d{2,4}x",
            "(ab)c",
        ] {
            assert!(Pattern::new(p).unwrap().is_shape(), "{p:?}");
        }
        for p in [
            "a*a",
            "a+b*a",
            "(ab|c)d",
            "[A-Z][a-z]*( [A-Z][a-z]*)*",
            "(?m)^a$",
            "(ab)+",
        ] {
            assert!(!Pattern::new(p).unwrap().is_shape(), "{p:?}");
        }
        assert!(Pattern::new("[").is_none());
        // The others walk an automaton of their own, unless it would be too large or the
        // pattern asks what one cannot tell (a Unicode word boundary).
        for p in ["a*a", "(ab|c)d", "[A-Z][a-z]*( [A-Z][a-z]*)*", "(?m)^a$"] {
            assert!(Pattern::new(p).unwrap().is_automaton(), "{p:?}");
        }
        for p in ["\\bx\\w*", "\\w{50}\\d{50}"] {
            assert!(!Pattern::new(p).unwrap().is_automaton(), "{p:?}");
        }
        // A shape tells its distinct sets apart by a bit each: 64 at most.
        let sets64: String = ('a'..='z')
            .chain('A'..='Z')
            .chain('0'..='9')
            .chain(['_', '@'])
            .collect();
        let shape = Pattern::new(&sets64).unwrap();
        assert!(shape.is_shape() && shape.is_match(&sets64));
        assert!(!shape.is_match(&sets64.replace('@', "_")));
        assert!(!Pattern::new(&format!("{sets64}%")).unwrap().is_shape());
    }
}
