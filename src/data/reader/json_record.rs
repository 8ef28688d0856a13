//! A flat JSON record decoded straight into a row of field spans, as CSV rows are (see
//! `data::rows`): a value's text is its bytes in the line (numbers, `true` and `false`
//! as written, strings without their quotes), unescaped elsewhere only when a string
//! holds a `\`; `null` and an absent field are missing. Checking and reading a line are
//! one pass, and the checks read each value where it lies.
//!
//! Anything this does not read (not JSON, not an object) is described by serde_json in
//! `json_lines`; an object or an array as a field's value is an error of its own.

use std::collections::HashMap;

/// Why a line could not be read.
#[derive(Debug, PartialEq)]
pub(super) enum Problem {
    /// Not a JSON object, or not JSON at all.
    Syntax,
    /// The field of this column holds an object or an array.
    Nested(usize),
}

/// A value's span whose bytes are in the batch's unescaped strings, not its lines: the
/// start's top bit (a batch's text stays under 2 GiB).
pub(super) const ESCAPED: u32 = 1 << 31;

/// Nesting past this in a field the table does not read is refused, not recursed into.
const MAX_DEPTH: usize = 128;

/// The columns of a table and where each record's fields go.
pub(super) struct Fields {
    names: Vec<String>,
    /// Each name as a plain key is written, quotes included (`None`: a name that would
    /// need escapes): the key a record most likely has next is matched in one compare.
    quoted: Vec<Option<Vec<u8>>>,
    /// Columns of objects or arrays: their values are checked and passed over.
    nested: Vec<bool>,
    index: HashMap<String, usize>,
}

impl Fields {
    pub(super) fn new(names: &[String], nested: Vec<bool>) -> Fields {
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let plain = |n: &str| !n.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
        let quoted = names
            .iter()
            .map(|n| plain(n).then(|| format!("\"{n}\"").into_bytes()))
            .collect();
        Fields {
            names: names.to_vec(),
            quoted,
            nested,
            index,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.names.len()
    }

    pub(super) fn name(&self, column: usize) -> &str {
        &self.names[column]
    }

    /// Reads the record on `line` into `row` (one span per column, as `(0, 0)`: missing),
    /// spans counted from `offset`; strings with escapes are unescaped into `escaped`.
    pub(super) fn read(
        &self,
        line: &[u8],
        offset: u32,
        row: &mut [(u32, u32)],
        escaped: &mut String,
    ) -> Result<(), Problem> {
        let mut at = Cursor { line, at: 0 };
        at.blanks();
        at.eat(b'{')?;
        at.blanks();
        if at.eat(b'}').is_ok() {
            return at.end();
        }
        // Records usually list their fields in the same order: the next column's name is
        // tried before the index.
        let mut next = 0;
        loop {
            at.blanks();
            let column = self.key(&mut at, next, escaped)?;
            at.blanks();
            at.eat(b':')?;
            at.blanks();
            match column {
                Some(c) if self.nested[c] => {
                    at.skip(0)?;
                    next = c + 1;
                }
                Some(c) => {
                    row[c] = at.value(offset, escaped).map_err(|nested| {
                        if nested {
                            Problem::Nested(c)
                        } else {
                            Problem::Syntax
                        }
                    })?;
                    next = c + 1;
                }
                None => at.skip(0)?,
            }
            at.blanks();
            match at.next()? {
                b',' => continue,
                b'}' => return at.end(),
                _ => return Err(Problem::Syntax),
            }
        }
    }

    /// Reads a key: the column it names, if the table reads it.
    fn key(
        &self,
        at: &mut Cursor,
        next: usize,
        scratch: &mut String,
    ) -> Result<Option<usize>, Problem> {
        if let Some(quoted) = self.quoted.get(next).and_then(Option::as_deref) {
            if at.line[at.at..].starts_with(quoted) {
                at.at += quoted.len();
                return Ok(Some(next));
            }
        }
        let key = at.string()?;
        self.column(at.line, &key, scratch)
    }

    /// The column a key names, if the table reads it (looked up by name: a key that is
    /// the next column's was matched quoted in [`Fields::key`]).
    fn column(
        &self,
        line: &[u8],
        key: &Str,
        scratch: &mut String,
    ) -> Result<Option<usize>, Problem> {
        if !key.escaped {
            let name =
                std::str::from_utf8(&line[key.start..key.end]).map_err(|_| Problem::Syntax)?;
            return Ok(self.index.get(name).copied());
        }
        let mark = scratch.len();
        unescape(&line[key.start..key.end], scratch)?;
        let column = self.index.get(&scratch[mark..]).copied();
        scratch.truncate(mark);
        Ok(column)
    }
}

/// A string's content between its quotes.
struct Str {
    start: usize,
    end: usize,
    escaped: bool,
}

struct Cursor<'l> {
    line: &'l [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.line.get(self.at).copied()
    }

    fn next(&mut self) -> Result<u8, Problem> {
        let b = self.peek().ok_or(Problem::Syntax)?;
        self.at += 1;
        Ok(b)
    }

    fn eat(&mut self, b: u8) -> Result<(), Problem> {
        if self.peek() == Some(b) {
            self.at += 1;
            return Ok(());
        }
        Err(Problem::Syntax)
    }

    fn blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.at += 1;
        }
    }

    /// Nothing but blanks after the record.
    fn end(&mut self) -> Result<(), Problem> {
        self.blanks();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Problem::Syntax),
        }
    }

    /// A string, its escapes checked (not yet decoded).
    fn string(&mut self) -> Result<Str, Problem> {
        self.eat(b'"')?;
        let start = self.at;
        let mut escaped = false;
        // Eight bytes at a time while none ends the string or needs a look.
        while let Some(word) = self.line.get(self.at..self.at + 8) {
            match <[u8; 8]>::try_from(word) {
                Ok(word) if plain(u64::from_le_bytes(word)) => self.at += 8,
                _ => break,
            }
        }
        loop {
            match self.next()? {
                b'"' => {
                    return Ok(Str {
                        start,
                        end: self.at - 1,
                        escaped,
                    })
                }
                b'\\' => {
                    escaped = true;
                    match self.next()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            for _ in 0..4 {
                                if !self.next()?.is_ascii_hexdigit() {
                                    return Err(Problem::Syntax);
                                }
                            }
                        }
                        _ => return Err(Problem::Syntax),
                    }
                }
                0..0x20 => return Err(Problem::Syntax),
                _ => {}
            }
        }
    }

    /// A number as JSON writes it: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<(), Problem> {
        let _ = self.eat(b'-');
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return Err(Problem::Syntax),
        }
        if self.eat(b'.').is_ok() {
            self.some_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.some_digits()?;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Result<(), Problem> {
        let start = self.at;
        self.digits();
        if self.at == start {
            return Err(Problem::Syntax);
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Problem> {
        if self.line[self.at..].starts_with(word) {
            self.at += word.len();
            return Ok(());
        }
        Err(Problem::Syntax)
    }

    /// A scalar value's span (`Err(true)`: an object or an array).
    fn value(&mut self, offset: u32, escaped: &mut String) -> Result<(u32, u32), bool> {
        let start = self.at;
        let span = |end: usize| (offset + start as u32, offset + end as u32);
        match self.peek().ok_or(false)? {
            b'"' => {
                let s = self.string().map_err(|_| false)?;
                if !s.escaped {
                    return Ok((offset + s.start as u32, offset + s.end as u32));
                }
                let from = escaped.len();
                unescape(&self.line[s.start..s.end], escaped).map_err(|_| false)?;
                Ok((from as u32 | ESCAPED, escaped.len() as u32))
            }
            b'n' => {
                self.literal(b"null").map_err(|_| false)?;
                Ok((0, 0))
            }
            b't' => {
                self.literal(b"true").map_err(|_| false)?;
                Ok(span(self.at))
            }
            b'f' => {
                self.literal(b"false").map_err(|_| false)?;
                Ok(span(self.at))
            }
            b'{' | b'[' => Err(true),
            _ => {
                self.number().map_err(|_| false)?;
                Ok(span(self.at))
            }
        }
    }

    /// Any value, checked and passed over: a field the table does not read.
    fn skip(&mut self, depth: usize) -> Result<(), Problem> {
        let (open, close) = match self.peek().ok_or(Problem::Syntax)? {
            b'{' => (b'{', b'}'),
            b'[' => (b'[', b']'),
            b'"' => return self.string().map(drop),
            b'n' => return self.literal(b"null"),
            b't' => return self.literal(b"true"),
            b'f' => return self.literal(b"false"),
            _ => return self.number(),
        };
        if depth >= MAX_DEPTH {
            return Err(Problem::Syntax);
        }
        self.eat(open)?;
        self.blanks();
        if self.eat(close).is_ok() {
            return Ok(());
        }
        loop {
            self.blanks();
            if open == b'{' {
                self.string()?;
                self.blanks();
                self.eat(b':')?;
                self.blanks();
            }
            self.skip(depth + 1)?;
            self.blanks();
            match self.next()? {
                b',' => continue,
                b if b == close => return Ok(()),
                _ => return Err(Problem::Syntax),
            }
        }
    }
}

/// Whether eight bytes of a string's content are all as they stand: none a `"`, a `\`
/// or a control character (the usual tests for a zero byte and a byte below a value).
fn plain(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let quote = zero(word ^ (ONES * u64::from(b'"')));
    let backslash = zero(word ^ (ONES * u64::from(b'\\')));
    (control | quote | backslash) == 0
}

/// Appends the text of a string's content (escapes checked by [`Cursor::string`]).
fn unescape(raw: &[u8], out: &mut String) -> Result<(), Problem> {
    let text = std::str::from_utf8(raw).map_err(|_| Problem::Syntax)?;
    let mut rest = text;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let (c, used) = escape(&rest[i + 1..])?;
        out.push(c);
        rest = &rest[i + 1 + used..];
    }
    out.push_str(rest);
    Ok(())
}

/// The character an escape (after its `\`) stands for, and the bytes it took.
fn escape(s: &str) -> Result<(char, usize), Problem> {
    let simple = |c| Ok((c, 1));
    match s.as_bytes().first() {
        Some(b'"') => simple('"'),
        Some(b'\\') => simple('\\'),
        Some(b'/') => simple('/'),
        Some(b'b') => simple('\u{8}'),
        Some(b'f') => simple('\u{c}'),
        Some(b'n') => simple('\n'),
        Some(b'r') => simple('\r'),
        Some(b't') => simple('\t'),
        Some(b'u') => {
            let unit = |s: &str| s.get(1..5).and_then(|h| u32::from_str_radix(h, 16).ok());
            let first = unit(s).ok_or(Problem::Syntax)?;
            if !(0xD800..0xDC00).contains(&first) {
                return char::from_u32(first).map(|c| (c, 5)).ok_or(Problem::Syntax);
            }
            // A surrogate pair: the low half must follow as `\uDC00`–`\uDFFF`.
            let low = s
                .get(5..)
                .and_then(|r| r.strip_prefix('\\'))
                .and_then(unit)
                .filter(|low| (0xDC00..0xE000).contains(low))
                .ok_or(Problem::Syntax)?;
            let code = 0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00);
            char::from_u32(code).map(|c| (c, 11)).ok_or(Problem::Syntax)
        }
        _ => Err(Problem::Syntax),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields of `line` as text (`None`: missing).
    fn read(names: &[&str], line: &str) -> Result<Vec<Option<String>>, Problem> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let nested = names.iter().map(|n| n.starts_with("nested")).collect();
        let fields = Fields::new(&names, nested);
        let mut row = vec![(0, 0); names.len()];
        let mut escaped = String::new();
        fields.read(line.as_bytes(), 0, &mut row, &mut escaped)?;
        Ok(row
            .iter()
            .map(|&(s, e)| {
                let (text, s) = if s & ESCAPED != 0 {
                    (escaped.as_str(), s & !ESCAPED)
                } else {
                    (line, s)
                };
                (e > s).then(|| text[s as usize..e as usize].to_string())
            })
            .collect())
    }

    fn some(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|v| Some(v.to_string())).collect()
    }

    #[test]
    fn values_are_their_text_in_any_field_order() {
        let names = ["a", "b", "c", "d"];
        assert_eq!(
            read(
                &names,
                r#"{"a": -1.5e+3, "b": "x y", "c": true, "d": false}"#
            ),
            Ok(some(&["-1.5e+3", "x y", "true", "false"]))
        );
        assert_eq!(
            read(&names, "\t{ \"d\":0 ,\"c\" :\"\", \"a\":null}\r\n"),
            Ok(vec![None, None, None, Some("0".into())])
        );
        // The next column's name is a prefix of this key: not a match.
        assert_eq!(
            read(&["a", "ab"], r#"{"ab": 1, "a": 2}"#),
            Ok(some(&["2", "1"]))
        );
    }

    #[test]
    fn escapes_are_decoded_in_values_and_keys() {
        assert_eq!(
            read(
                &["k\"ey", "v"],
                r#"{"k\"ey": "a\\b\"c\u00e9\ud83d\ude00\n", "v": "\/"}"#
            ),
            Ok(some(&["a\\b\"c\u{e9}\u{1f600}\n", "/"]))
        );
    }

    #[test]
    fn long_strings_end_at_their_quote_and_keep_their_escapes() {
        assert_eq!(
            read(
                &["a", "b"],
                r#"{"a": "2026-12-06T23:59:59.123456", "b": "abcdefghijklmnop\"q\u00e9rstuvwxyz0123"}"#
            ),
            Ok(some(&[
                "2026-12-06T23:59:59.123456",
                "abcdefghijklmnop\"q\u{e9}rstuvwxyz0123"
            ]))
        );
    }

    #[test]
    fn fields_the_table_does_not_read_are_checked_and_passed_over() {
        assert_eq!(
            read(
                &["a"],
                r#"{"x": {"y": [1, {"z": null}, "w"]}, "a": 7, "e": []}"#
            ),
            Ok(some(&["7"]))
        );
        assert_eq!(
            read(&["a"], r#"{"x": [1,, 2], "a": 7}"#),
            Err(Problem::Syntax)
        );
    }

    #[test]
    fn a_nested_value_names_its_column_unless_the_column_is_nested() {
        assert_eq!(
            read(&["a", "b"], r#"{"a": 1, "b": [1]}"#),
            Err(Problem::Nested(1))
        );
        assert_eq!(
            read(&["a", "nested"], r#"{"a": 1, "nested": {"b": [1]}}"#),
            Ok(vec![Some("1".into()), None])
        );
    }

    #[test]
    fn plain_words_hold_no_quote_backslash_or_control_character() {
        let word = |b: &[u8; 8]| plain(u64::from_le_bytes(*b));
        assert!(word(b"abcdefgh") && word(b"~ \x7f\x80\xff\xc3\xa9!"));
        for bad in [b'"', b'\\', b'\n', b'\t', 0, 0x1f] {
            for at in 0..8 {
                let mut bytes = *b"abcdefgh";
                bytes[at] = bad;
                assert!(!word(&bytes), "{bad} at {at}");
            }
        }
    }

    #[test]
    fn malformed_records_are_refused() {
        for line in [
            r#"{"customer_id": "C999999",,}"#,
            r#"{"a": 1,}"#,
            r#"{"a": 01}"#,
            r#"{"a": 1.}"#,
            r#"{"a": .5}"#,
            r#"{"a": -}"#,
            r#"{"a": 1e}"#,
            r#"{"a": tru}"#,
            r#"{"a": "x"} x"#,
            r#"{"a": "tab	inside"}"#,
            r#"{"a": "a long string with a tab	after eight bytes"}"#,
            r#"{"a": "a long string cut short"#,
            r#"{"a": "\x"}"#,
            r#"{"a": "\ud800"}"#,
            r#"{"a" 1}"#,
            r#"{a: 1}"#,
            r#"{"a": 1"#,
            r#"[1, 2]"#,
            "",
        ] {
            assert_eq!(read(&["a"], line), Err(Problem::Syntax), "{line}");
        }
    }
}
