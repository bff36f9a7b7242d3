//! Recognising JSON text that is already in canonical form, without building a value.
//!
//! A stored trace is mostly text this runtime wrote, and it wrote payloads canonically ([`super::Payload`]), so
//! their hash input is the very bytes on the line. [`canonical_end`] checks that cheaply: it accepts a value only
//! when [`super::parse_strict`] would accept it and [`super::canonical`] of the result would give back the same
//! bytes. Anything else — whitespace, unsorted or escaped keys, a number or escape in another spelling, deep
//! nesting — is answered `None`, and the caller takes the full path (parse, then canonicalise), which also
//! produces any error. Being conservative is always safe here; accepting too much never is.

use super::canonical::{utf16_cmp, write_number};
use super::parse::{parse_strict, MAX_DEPTH};
use serde_json::Value;

/// The end of the canonical JSON value that starts at byte `at` of `text`, which encloses it in `depth`
/// containers; `None` when the value is not valid, not canonical or nested deeper than [`MAX_DEPTH`] in all.
pub fn canonical_end(text: &str, at: usize, depth: usize) -> Option<usize> {
    let mut s = Scan { text, bytes: text.as_bytes(), at };
    s.value(depth)?;
    Some(s.at)
}

/// The length of the run at the start of `bytes` that a JSON string holds as it is: up to the first `"`, `\\` or
/// control character, or the whole. Eight bytes are tested at a time (long strings are mostly such runs).
pub fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let quote = x ^ (ONES * b'"' as u64);
        let backslash = x ^ (ONES * b'\\' as u64);
        // Some byte of `v` is zero iff `(v - ONES) & !v` has a high bit set; some byte of `x` is below 0x20 iff
        // `(x - 0x20 * ONES) & !x` has one (exact for "some byte", though not for which).
        let zero = |v: u64| v.wrapping_sub(ONES) & !v;
        if (zero(quote) | zero(backslash) | (x.wrapping_sub(0x20 * ONES) & !x)) & HIGH != 0 {
            break;
        }
        i += 8;
    }
    let rest = bytes.get(i..).unwrap_or_default();
    i + rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).unwrap_or(rest.len())
}

struct Scan<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        if self.peek() == Some(b) {
            self.at += 1;
            Some(())
        } else {
            None
        }
    }

    fn word(&mut self, w: &[u8]) -> Option<()> {
        if self.bytes.get(self.at..)?.starts_with(w) {
            self.at += w.len();
            Some(())
        } else {
            None
        }
    }

    /// `depth`: containers enclosing this value.
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string().map(|_| ()),
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.at += 1; // [
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.value(depth)?;
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Members in strictly ascending order of their names' UTF-16 code units (which also rules out duplicates).
    /// Names with escapes are left to the full path: their order is that of the unescaped text.
    fn object(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.at += 1; // {
        if self.eat(b'}').is_some() {
            return Some(());
        }
        let mut previous: Option<&'a str> = None;
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let (key, escaped) = self.string()?;
            if escaped {
                return None;
            }
            if let Some(p) = previous {
                let ordered = if p.is_ascii() && key.is_ascii() { p < key } else { utf16_cmp(p, key).is_lt() };
                if !ordered {
                    return None;
                }
            }
            previous = Some(key);
            self.eat(b':')?;
            self.value(depth)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string spelled as `write_string` spells it: raw characters but for `"`, `\` and controls, which are
    /// escaped by their short form where JSON has one and as `\u00xx` (lowercase) otherwise. Answers the text
    /// between the quotes and whether it holds escapes.
    fn string(&mut self) -> Option<(&'a str, bool)> {
        self.at += 1; // "
        let start = self.at;
        let mut escaped = false;
        loop {
            self.at += plain_run(self.bytes.get(self.at..)?);
            match self.peek()? {
                b'"' => {
                    let inner = self.text.get(start..self.at)?;
                    self.at += 1;
                    return Some((inner, escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.at += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'b' | b't' | b'n' | b'f' | b'r' => self.at += 1,
                        b'u' => {
                            // `\u00` and two lowercase hex digits, the first 0 or 1.
                            let (high, low) = match self.bytes.get(self.at + 1..self.at + 5)? {
                                [b'0', b'0', high @ (b'0' | b'1'), low] => (*high - b'0', *low),
                                _ => return None,
                            };
                            let low = match low {
                                b'0'..=b'9' => low - b'0',
                                b'a'..=b'f' => low - b'a' + 10,
                                _ => return None,
                            };
                            let code = high * 16 + low;
                            // These have a short form, which `write_string` uses.
                            if matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                                return None;
                            }
                            self.at += 5;
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a raw control character
            }
        }
    }

    /// Integers of up to 15 digits (all below 2^53) are canonical as they are, `-0` aside; any other number is
    /// read and written back the way the full path would, and must come out the same.
    fn number(&mut self) -> Option<()> {
        let start = self.at;
        self.eat(b'-');
        let digits_from = self.at;
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let integer_digits = self.at - digits_from;
        let mut integral = true;
        if self.eat(b'.').is_some() {
            integral = false;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            integral = false;
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            self.digits();
        }
        let text = self.text.get(start..self.at)?;
        if integral && integer_digits <= 15 && text != "-0" {
            return Some(());
        }
        let n = match parse_strict(text.as_bytes()) {
            Ok(Value::Number(n)) => n,
            _ => return None,
        };
        let mut written = String::new();
        write_number(&n, &mut written);
        if written == text {
            Some(())
        } else {
            None
        }
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::canonical;

    fn whole(text: &str) -> bool {
        canonical_end(text, 0, 0) == Some(text.len())
    }

    #[test]
    fn accepts_what_canonical_writes() {
        for text in [
            "{}",
            "[]",
            r#"{"a":1,"b":[true,false,null],"c":{"d":"x"}}"#,
            concat!(r#"{"m":"say \"hi\"\\ \n\t\b\f\r \u0000\u001f"#, "\u{7f}", r#"/é"}"#),
            r#"[0,-1,123456789012345,4.5,1e+21,1e-7,0.000001,9007199254740992,-9007199254740992]"#,
            "{\"1\":2,\"\u{80}\":3,\"\u{20ac}\":4,\"\u{1F600}\":5,\"\u{fb33}\":6}",
        ] {
            assert!(whole(text), "{}", text);
            let v = parse_strict(text.as_bytes()).unwrap();
            assert_eq!(canonical(&v), text);
        }
    }

    #[test]
    fn refuses_every_other_spelling() {
        for text in [
            "{ }",
            r#"{"b":1,"a":2}"#,
            r#"{"a":1,"a":1}"#,
            r#"{"\u0061":1}"#,
            r#"["\/"]"#,
            r#"["\u0041"]"#,
            r#"["\u000a"]"#,
            r#"["\u001F"]"#,
            r#"["\u007f"]"#,
            "[\"\u{1}\"]",
            "[1.0]",
            "[1E5]",
            "[-0]",
            "[0.10]",
            "[9007199254740993]",
            "[01]",
            "[1,]",
            "{\"a\":}",
            "[nul]",
            "\"open",
            "{\"\u{fb33}\":1,\"\u{1F600}\":2}",
        ] {
            assert!(!whole(text), "{}", text);
        }
        // Integers beyond 2^53 are canonical when written as JavaScript renders their nearest double.
        assert!(whole("[1152921504606847000]"));
    }

    #[test]
    fn plain_runs_stop_at_the_first_quote_backslash_or_control() {
        assert_eq!(plain_run(b""), 0);
        assert_eq!(plain_run(b"abcdefghijklmnopq"), 17);
        for stop in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
            for at in 0..20 {
                let mut text = vec![b'a'; 24];
                text[at] = stop;
                text[at + 2] = b'"';
                assert_eq!(plain_run(&text), at, "{:?} at {}", stop, at);
            }
        }
        // Bytes that look like stops in a carry-prone word are no stops.
        assert_eq!(plain_run("\u{7f}\u{80}é€😀 !#[]~".as_bytes()), "\u{7f}\u{80}é€😀 !#[]~".len());
        assert_eq!(plain_run(&[0x21, 0x23, 0x5b, 0x5d, 0x20, 0xff, 0x80, 0x01]), 7);
    }

    #[test]
    fn depth_counts_the_enclosing_containers() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(whole(&nested(MAX_DEPTH)));
        assert!(!whole(&nested(MAX_DEPTH + 1)));
        assert_eq!(canonical_end(&nested(MAX_DEPTH), 0, 1), None);
    }
}
