//! The distinct values a text column has shown in one part of a file, each with what the
//! scan learned of it the first time: its place among the profile's named values and
//! whether it passes the column's rules. A repeated value then costs one lookup, where
//! it went through three tables before (the batch's distinct values, the profile's
//! counts, the allowed list), each hashing and comparing it again.

use std::collections::HashMap;

/// What the scan learned of a value the first time it saw it: its index among the
/// profile's named values (`None`: counted in `other`) and whether it passes the
/// column's rules. One word, the name's index shifted left by one and the verdict in
/// bit 0: as a struct of an `Option` and a `bool` it was returned through memory in
/// pieces and read back whole, which stalled the lookup of every value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known(u32);

impl Known {
    /// The name's index in place of `None` (names are far fewer).
    const UNNAMED: u32 = (u32::MAX >> 1) - 1;
    /// Above any packed [`Known`]: free for a holder's own marks.
    pub const PACKED_MAX: u32 = Known::UNNAMED << 1 | 1;

    pub fn new(name: Option<u32>, passes: bool) -> Known {
        Known(name.unwrap_or(Self::UNNAMED).min(Self::UNNAMED) << 1 | u32::from(passes))
    }

    #[inline(always)]
    pub fn name(self) -> Option<u32> {
        let name = self.0 >> 1;
        (name != Self::UNNAMED).then_some(name)
    }

    #[inline(always)]
    pub fn passes(self) -> bool {
        self.0 & 1 == 1
    }

    /// The one word.
    pub fn packed(self) -> u32 {
        self.0
    }

    /// A word from [`Known::packed`].
    pub fn unpacked(word: u32) -> Known {
        Known(word)
    }
}

/// Values of up to 16 bytes are held in the table itself, packed in two words, so a
/// lookup is a multiply and a comparison of words: no pointer to follow, no `memcmp`.
/// Longer values go to a hash map.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    /// Open addressing with linear probing; a power of two, at most half full.
    slots: Vec<Slot>,
    long: HashMap<Box<str>, Known, foldhash::fast::FixedState>,
    /// Bytes of the values in `long`.
    long_bytes: usize,
    len: usize,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    key: [u64; 2],
    /// The value's length in bytes; [`Slot::EMPTY`]: no value.
    len: u32,
    known: Known,
}

impl Slot {
    const EMPTY: u32 = u32::MAX;
    const VACANT: Slot = Slot {
        key: [0; 2],
        len: Slot::EMPTY,
        known: Known(0),
    };
}

impl Default for Vocabulary {
    fn default() -> Self {
        Vocabulary {
            slots: vec![Slot::VACANT; 16],
            long: HashMap::default(),
            long_bytes: 0,
            len: 0,
        }
    }
}

impl Vocabulary {
    /// Values held at most. A column with more is mostly new values (identifiers,
    /// timestamps, free text): see [`Vocabulary::pays`].
    pub const MAX: usize = 8192;
    /// Bytes of values longer than 16 held at most: a column of documents (16 KB a value)
    /// held 64 MB per part before it stopped paying.
    pub const MAX_LONG_BYTES: usize = 1 << 20;

    /// What was learned of a value, if it is held.
    #[inline(always)]
    pub fn get<'t>(&self, value: impl Into<Buffered<'t>>) -> Option<Known> {
        let value = value.into();
        match value.key() {
            Some(key) => self.get_short(key, value.text.len() as u32),
            None => self.get_long(value.text),
        }
    }

    #[inline(always)]
    fn get_short(&self, key: [u64; 2], len: u32) -> Option<Known> {
        let mask = self.slots.len() - 1;
        let mut i = slot_of(key, len, mask);
        loop {
            let slot = &self.slots[i];
            if slot.len == len && slot.key == key {
                return Some(slot.known);
            }
            if slot.len == Slot::EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    #[inline(never)]
    fn get_long(&self, text: &str) -> Option<Known> {
        self.long.get(text).copied()
    }

    /// Holds `known` for `text`, which is not held yet, unless the vocabulary is full.
    pub fn insert(&mut self, text: &str, known: Known) {
        if self.is_full() {
            return;
        }
        self.len += 1;
        let Some(key) = Buffered::alone(text).key() else {
            self.long_bytes += text.len();
            self.long.insert(text.into(), known);
            return;
        };
        if 2 * (self.len - self.long.len()) > self.slots.len() {
            self.grow();
        }
        self.place(key, text.len() as u32, known);
    }

    /// Whether it is worth its lookups, given how many values of a batch it `found` and
    /// `missed`. A column of mostly new values (identifiers, timestamps, free text) would
    /// only fill it: it stops paying once it is a quarter full and finds fewer than one
    /// value in five, or full and finds fewer than half.
    pub fn pays(&self, found: usize, missed: usize) -> bool {
        if self.is_full() {
            found >= missed
        } else if self.len >= Self::MAX / 4 {
            4 * found >= missed
        } else {
            true
        }
    }

    /// Whether it holds [`Vocabulary::MAX`] values or [`Vocabulary::MAX_LONG_BYTES`] of
    /// long ones, and takes no more.
    fn is_full(&self) -> bool {
        self.len >= Self::MAX || self.long_bytes >= Self::MAX_LONG_BYTES
    }

    fn place(&mut self, key: [u64; 2], len: u32, known: Known) {
        let mask = self.slots.len() - 1;
        let mut i = slot_of(key, len, mask);
        while self.slots[i].len != Slot::EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot { key, len, known };
    }

    fn grow(&mut self) {
        let grown = vec![Slot::VACANT; 2 * self.slots.len()];
        let old = std::mem::replace(&mut self.slots, grown);
        for slot in old.into_iter().filter(|s| s.len != Slot::EMPTY) {
            self.place(slot.key, slot.len, slot.known);
        }
    }
}

/// A text value in the buffer it was read into, with the bytes that follow it there. A
/// value of up to 16 bytes is then keyed by two loads and a mask: keyed from its own
/// bytes, the loads depended on its length, and a column that mixes lengths (`cok`,
/// `minib`, `hunutebo`) mispredicted that branch on most of its values.
#[derive(Debug, Clone, Copy)]
pub struct Buffered<'t> {
    pub text: &'t str,
    /// `text`'s bytes and those after it in its buffer.
    from_text: &'t [u8],
}

impl<'t> Buffered<'t> {
    /// `text`, whose bytes begin `from_text`.
    #[inline(always)]
    pub fn new(text: &'t str, from_text: &'t [u8]) -> Self {
        debug_assert!(from_text.starts_with(text.as_bytes()));
        Buffered { text, from_text }
    }

    /// `text` with nothing known past its end.
    pub fn alone(text: &'t str) -> Self {
        Buffered::new(text, text.as_bytes())
    }

    /// `part` of this value (the value trimmed of its blanks), in the same buffer; a
    /// text from elsewhere is taken alone.
    #[inline(always)]
    pub fn part(self, part: &'t str) -> Self {
        let start = (part.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        if start <= self.text.len() && part.len() <= self.text.len() - start {
            Buffered::new(part, &self.from_text[start..])
        } else {
            Buffered::alone(part)
        }
    }

    /// Up to 16 bytes as two words, zero past the value's end; with its length it
    /// determines the value. `None`: longer.
    #[inline(always)]
    fn key(&self) -> Option<[u64; 2]> {
        let n = self.text.len();
        if n > 16 {
            return None;
        }
        let Some(window) = self.from_text.first_chunk::<16>() else {
            return Some(short_key(self.text.as_bytes()));
        };
        let word = |at: usize| u64::from_le_bytes(window[at..at + 8].try_into().unwrap_or([0; 8]));
        let [lo, hi] = KEPT[n];
        Some([word(0) & lo, word(8) & hi])
    }
}

impl<'t> From<&'t str> for Buffered<'t> {
    fn from(text: &'t str) -> Self {
        Buffered::alone(text)
    }
}

/// By length up to 16: the bits of a value's two words that are its own bytes.
const KEPT: [[u64; 2]; 17] = {
    const fn bits(bytes: usize) -> u64 {
        match bytes {
            0 => 0,
            8.. => u64::MAX,
            b => u64::MAX >> (64 - 8 * b),
        }
    }
    let mut kept = [[0; 2]; 17];
    let mut n = 0;
    while n <= 16 {
        kept[n] = [bits(n), bits(n.saturating_sub(8))];
        n += 1;
    }
    kept
};

/// [`Buffered::key`] of a value of up to 16 bytes read alone.
#[inline(never)]
fn short_key(b: &[u8]) -> [u64; 2] {
    let mut padded = [0; 16];
    padded[..b.len()].copy_from_slice(b);
    let word = |at: usize| u64::from_le_bytes(padded[at..at + 8].try_into().unwrap_or([0; 8]));
    [word(0), word(8)]
}

/// The first slot to probe for a key: the high bits of a folded multiply.
#[inline(always)]
fn slot_of(key: [u64; 2], len: u32, mask: usize) -> usize {
    const K: [u64; 2] = [0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344];
    let m = u128::from(key[0] ^ K[0]) * u128::from(key[1] ^ K[1] ^ u64::from(len));
    let h = (m as u64) ^ ((m >> 64) as u64);
    (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(i: usize) -> Known {
        Known::new(
            (!i.is_multiple_of(5)).then_some(i as u32),
            i.is_multiple_of(3),
        )
    }

    #[test]
    fn short_keys_tell_every_value_apart() {
        let words = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "abd",
            "xbc",
            "aab",
            "abb",
            "city_01",
            "city_10",
            "city_0",
            "enterprise",
            "enterprisf",
            "fnterprise",
            "0123456789abcdef",
            "0123456789abcdeg",
            "0123456789abcdef0",
            "0123456789abcdef1",
            "é",
            "è",
            "\0",
            "\0\0",
            "a\0",
        ];
        // Keyed alone, and in buffers where other bytes (or zeros) follow it.
        let keys = |w: &'static str| {
            let tails = ["", ",x", &"\0".repeat(20), &"yz,".repeat(8)];
            let buffers: Vec<String> = tails.iter().map(|t| format!("{w}{t}")).collect();
            let keyed = buffers
                .iter()
                .map(|b| Buffered::new(&b[..w.len()], b.as_bytes()).key())
                .collect::<Vec<_>>();
            let alone = Buffered::alone(w).key();
            assert!(
                keyed.iter().all(|k| *k == alone),
                "{w:?}: {keyed:?} {alone:?}"
            );
            alone
        };
        for a in words {
            for b in words {
                if let (Some(x), Some(y)) = (keys(a), keys(b)) {
                    assert_eq!(x == y && a.len() == b.len(), a == b, "{a:?} {b:?}");
                }
            }
        }
        assert_eq!(keys("0123456789abcdefg"), None);
    }

    #[test]
    fn a_trimmed_value_is_found_in_its_buffer_or_alone() {
        let mut v = Vocabulary::default();
        v.insert("cok", known(1));
        let buffer = " cok ,minib,hunutebo-and-more-bytes";
        let value = Buffered::new(&buffer[..5], buffer.as_bytes());
        let trimmed = value.part(value.text.trim());
        assert_eq!(trimmed.text, "cok");
        assert_eq!(v.get(trimmed), Some(known(1)));
        // A text from elsewhere is keyed alone.
        let elsewhere = value.part("cok");
        assert_eq!(elsewhere.from_text, b"cok");
        assert_eq!(v.get(elsewhere), Some(known(1)));
        assert_eq!(
            v.get(Buffered::new(&buffer[6..11], &buffer.as_bytes()[6..])),
            None
        );
    }

    #[test]
    fn holds_what_it_was_given_short_and_long_through_growth() {
        let values: Vec<String> = (0..3000)
            .map(|i| match i % 3 {
                0 => format!("v{i}"),
                1 => format!("lvl-{i:08}"),
                _ => format!("a longer value past sixteen bytes {i}"),
            })
            .collect();
        let mut v = Vocabulary::default();
        for (i, text) in values.iter().enumerate() {
            assert_eq!(v.get(text.as_str()), None);
            v.insert(text, known(i));
        }
        for (i, text) in values.iter().enumerate() {
            assert_eq!(v.get(text.as_str()), Some(known(i)), "{text}");
        }
        assert_eq!(v.get("v1"), None);
        assert_eq!(v.get("never seen, and long at that"), None);
    }

    #[test]
    fn takes_no_more_once_full() {
        let mut v = Vocabulary::default();
        for i in 0..Vocabulary::MAX + 10 {
            v.insert(&format!("{i}"), known(i));
        }
        assert!(v.is_full());
        assert_eq!(v.get("0"), Some(known(0)));
        assert_eq!(
            v.get(format!("{}", Vocabulary::MAX - 1).as_str()),
            Some(known(Vocabulary::MAX - 1))
        );
        assert_eq!(v.get(format!("{}", Vocabulary::MAX).as_str()), None);
    }

    #[test]
    fn long_values_fill_it_by_their_bytes() {
        let mut v = Vocabulary::default();
        let document = |i: usize| format!("{i:08} {}", "word ".repeat(3000));
        let held = Vocabulary::MAX_LONG_BYTES.div_ceil(document(0).len());
        for i in 0..held + 10 {
            v.insert(&document(i), known(i));
        }
        assert!(v.is_full());
        assert_eq!(v.get(document(held - 1).as_str()), Some(known(held - 1)));
        assert_eq!(v.get(document(held).as_str()), None);
        // Full, it pays only while it finds half the values.
        assert!(!v.pays(0, 64));
        assert!(v.pays(64, 64));
    }

    #[test]
    fn pays_while_it_finds_enough() {
        let mut v = Vocabulary::default();
        assert!(v.pays(0, 1000));
        for i in 0..Vocabulary::MAX / 4 {
            v.insert(&format!("{i}"), known(i));
        }
        assert!(v.pays(100, 400));
        assert!(!v.pays(100, 401));
        for i in Vocabulary::MAX / 4..Vocabulary::MAX {
            v.insert(&format!("{i}"), known(i));
        }
        assert!(v.pays(400, 400));
        assert!(!v.pays(400, 401));
    }
}
