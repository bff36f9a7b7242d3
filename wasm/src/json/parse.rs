//! Strict JSON parsing into [`serde_json::Value`].
//!
//! Parsers disagree on duplicated object keys (serde_json keeps the last, others the first or fail), so two
//! verifiers could hash different values for the same bytes: this parser refuses them, naming the duplicated
//! member by its JSON pointer. It is a small recursive-descent reader of RFC 8259 — no extensions, whitespace of
//! the four kinds only, strings of valid UTF-8 with well-formed escapes, numbers in the strict grammar — that
//! builds `Value`s directly. The pointer of a duplicate is assembled only on failure: the member that detects it
//! records its key, and every enclosing container prepends its own segment while the error unwinds.

use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

use super::pointer::{pointer_index, pointer_push};
use super::scan::plain_run;
use crate::error::{CoreError, CoreResult, ErrorCode};

/// Deepest nesting of arrays and objects accepted.
/// The deepest nesting of containers the parser reads (`max_json_depth` of `wasm/abi.json`; hosts refuse deeper
/// values before they reach the core).
pub const MAX_DEPTH: usize = 128;

const CODE: ErrorCode = ErrorCode::InvalidJson;

/// Parses UTF-8 JSON text into a value, rejecting invalid UTF-8, trailing garbage, nesting deeper than
/// [`MAX_DEPTH`] and duplicate object keys. Member order is kept. Integers that fit `i64`/`u64` stay integers;
/// other numbers become correctly rounded `f64`s (numbers beyond the `f64` range are rejected).
///
/// Errors have code `invalid_json`; the path is the JSON pointer of the duplicated member for duplicate keys and
/// `""` (the whole input) otherwise.
pub fn parse_strict(bytes: &[u8]) -> CoreResult<Value> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        CoreError::at(CODE, "", format!("invalid JSON: not UTF-8 (invalid byte at offset {})", e.valid_up_to()))
    })?;
    let mut p = Parser { text, bytes, at: 0 };
    let result = p.value(0).and_then(|v| {
        p.skip_ws();
        if p.at == bytes.len() {
            Ok(v)
        } else {
            Err(p.fail("trailing characters after the value"))
        }
    });
    result.map_err(|e| {
        let path = match e.duplicate {
            Some(segments) => segments.iter().rev().fold(String::new(), |base, segment| match segment {
                Segment::Key(key) => pointer_push(&base, key),
                Segment::Index(i) => pointer_index(&base, *i),
            }),
            None => String::new(),
        };
        CoreError::at(CODE, path, format!("invalid JSON: {}", e.message))
    })
}

/// A step of the path to a duplicated member.
enum Segment {
    Key(String),
    Index(usize),
}

struct Failure {
    message: String,
    /// Set for a duplicate key: the path to it, innermost segment first.
    duplicate: Option<Vec<Segment>>,
}

type Parsed<T> = Result<T, Failure>;

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn fail(&self, what: &str) -> Failure {
        let message = if self.at < self.bytes.len() {
            format!("{} at offset {}", what, self.at)
        } else {
            format!("{} at the end of the input", what)
        };
        Failure { message, duplicate: None }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn expect(&mut self, b: u8, what: &str) -> Parsed<()> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.fail(what))
        }
    }

    /// The bytes from the cursor on.
    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.at..).unwrap_or_default()
    }

    /// The text from `start` to the cursor; both are character boundaries wherever this is called.
    fn text_from(&self, start: usize) -> Parsed<&'a str> {
        self.text.get(start..self.at).ok_or_else(|| self.fail("a cut character"))
    }

    fn literal(&mut self, word: &str, v: Value) -> Parsed<Value> {
        if self.rest().starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(v)
        } else {
            Err(self.fail("invalid literal"))
        }
    }

    /// `depth`: containers enclosing this value.
    fn value(&mut self, depth: usize) -> Parsed<Value> {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.fail("expected a value")),
            None => Err(self.fail("expected a value")),
        }
    }

    fn nest(&self, depth: usize) -> Parsed<()> {
        if depth > MAX_DEPTH {
            Err(self.fail(&format!("nesting deeper than {} levels", MAX_DEPTH)))
        } else {
            Ok(())
        }
    }

    fn array(&mut self, depth: usize) -> Parsed<Value> {
        self.nest(depth)?;
        self.at += 1; // [
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::Array(items));
        }
        loop {
            match self.value(depth) {
                Ok(v) => items.push(v),
                Err(mut e) => {
                    if let Some(d) = e.duplicate.as_mut() {
                        d.push(Segment::Index(items.len()));
                    }
                    return Err(e);
                }
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.fail("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Parsed<Value> {
        self.nest(depth)?;
        self.at += 1; // {
        let mut members = Map::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.fail("expected a member name"));
            }
            let key = self.string()?;
            // One lookup per member: the vacant entry takes the value once it is read.
            let slot = match members.entry(key) {
                Entry::Vacant(slot) => slot,
                Entry::Occupied(taken) => {
                    let key = taken.key().clone();
                    let message = format!("duplicate object key {:?}", key);
                    return Err(Failure { message, duplicate: Some(vec![Segment::Key(key)]) });
                }
            };
            self.expect(b':', "expected `:`")?;
            match self.value(depth) {
                Ok(v) => {
                    slot.insert(v);
                }
                Err(mut e) => {
                    if let Some(d) = e.duplicate.as_mut() {
                        d.push(Segment::Key(slot.key().clone()));
                    }
                    return Err(e);
                }
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.fail("expected `,` or `}`")),
            }
        }
    }

    /// A string at the opening quote. Runs without escapes are found by one scan each and copied whole; a string
    /// without any (most of them) is allocated once, at its size.
    fn string(&mut self) -> Parsed<String> {
        self.at += 1; // "
        let mut out: Option<String> = None;
        loop {
            let start = self.at;
            self.at = start + plain_run(self.rest());
            if self.at >= self.bytes.len() {
                return Err(self.fail("unterminated string"));
            }
            // Multi-byte characters are whole in valid UTF-8 and the stop is ASCII: `start..at` is a character range.
            let run = self.text_from(start)?;
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(match out {
                        Some(mut s) => {
                            s.push_str(run);
                            s
                        }
                        None => run.to_string(),
                    });
                }
                Some(b'\\') => {
                    let s = out.get_or_insert_with(String::new);
                    s.push_str(run);
                    self.at += 1;
                    self.escape(s)?;
                }
                _ => return Err(self.fail("control character in a string")),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Parsed<()> {
        let c = match self.peek() {
            Some(c) => c,
            None => return Err(self.fail("unterminated escape")),
        };
        self.at += 1;
        match c {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let first = self.hex4()?;
                let code = match first {
                    0xd800..=0xdbff => {
                        if !self.rest().starts_with(b"\\u") {
                            return Err(self.fail("unpaired surrogate"));
                        }
                        self.at += 2;
                        let second = self.hex4()?;
                        if !(0xdc00..=0xdfff).contains(&second) {
                            return Err(self.fail("unpaired surrogate"));
                        }
                        0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
                    }
                    0xdc00..=0xdfff => return Err(self.fail("unpaired surrogate")),
                    c => c,
                };
                match char::from_u32(code) {
                    Some(ch) => out.push(ch),
                    None => return Err(self.fail("invalid escape")),
                }
            }
            _ => {
                self.at -= 1;
                return Err(self.fail("invalid escape"));
            }
        }
        Ok(())
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let digits = match self.bytes.get(self.at..self.at + 4) {
            Some(d) => d,
            None => return Err(self.fail("short \\u escape")),
        };
        let mut n = 0u32;
        for &d in digits {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(self.fail("invalid \\u escape")),
            };
            n = n * 16 + v as u32;
        }
        self.at += 4;
        Ok(n)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Parsed<Value> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.fail("invalid number")),
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.fail("invalid number"));
            }
            self.digits();
            integral = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.fail("invalid number"));
            }
            self.digits();
            integral = false;
        }
        let text = self.text_from(start)?;
        // `-0` is a float, as it is for serde_json: no integer holds its sign.
        if integral && text != "-0" {
            if negative {
                if let Ok(i) = text.parse::<i64>() {
                    return Ok(Value::Number(i.into()));
                }
            } else if let Ok(u) = text.parse::<u64>() {
                return Ok(Value::Number(u.into()));
            }
        }
        match text.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) => Ok(Value::Number(n)),
            None => {
                self.at = start;
                Err(self.fail("number out of range"))
            }
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
    use serde_json::json;

    fn err(input: &str) -> CoreError {
        parse_strict(input.as_bytes()).expect_err(input)
    }

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn parses_plain_json() {
        assert_eq!(parse_strict(b"null").unwrap(), Value::Null);
        assert_eq!(parse_strict(b" true ").unwrap(), json!(true));
        assert_eq!(parse_strict(b"\"a\\u00e9\\n\"").unwrap(), json!("a\u{e9}\n"));
        assert_eq!(parse_strict(b"[1, -2, 2.5, {}, []]").unwrap(), json!([1, -2, 2.5, {}, []]));
        assert_eq!(
            parse_strict("{\"a\": {\"b\": [null, \"\u{1F600}\"]}}".as_bytes()).unwrap(),
            json!({"a": {"b": [null, "\u{1F600}"]}})
        );
    }

    #[test]
    fn keeps_member_order() {
        let v = parse_strict(br#"{"z": 1, "a": 2, "m": {"y": 1, "b": 2}}"#).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["z", "a", "m"]);
        let inner: Vec<&str> = v["m"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(inner, ["y", "b"]);
    }

    #[test]
    fn numbers_keep_their_kind() {
        let v = parse_strict(
            b"[0, 9223372036854775807, 18446744073709551615, -9223372036854775808, 18446744073709551616, 1.0, 1e2, -0]",
        )
        .unwrap();
        assert_eq!(v[0].as_u64(), Some(0));
        assert_eq!(v[1].as_i64(), Some(i64::MAX));
        assert_eq!(v[2].as_u64(), Some(u64::MAX));
        assert_eq!(v[3].as_i64(), Some(i64::MIN));
        assert!(v[4].is_f64());
        assert_eq!(v[4].as_f64(), Some(18446744073709551616.0));
        assert!(v[5].is_f64());
        assert!(v[6].is_f64());
        assert!(v[7].is_f64());
    }

    #[test]
    fn floats_are_correctly_rounded() {
        // Bit patterns computed outside this crate (Python's `float`, David Gay's correctly rounded strtod, as
        // JavaScript's `JSON.parse` rounds): hard cases of decimal-to-binary rounding, subnormals, the largest
        // double, ties to even, and an integer too large for `u64`. A parser one ulp off would change canonical
        // forms, and so hashes, relative to the SDK.
        let cases: &[(&str, u64)] = &[
            ("0.1", 0x3fb9_9999_9999_999a),
            ("0.30000000000000004", 0x3fd3_3333_3333_3334),
            ("1.0000000000000002", 0x3ff0_0000_0000_0001),
            ("333333333.33333329", 0x41b3_de43_5555_5555),
            ("6.9929312217683788732790e-254", 0x0b60_67f6_c292_02bd),
            ("9.618777898017517133899e-253", 0x0b9c_3550_4e43_2f84),
            ("1e23", 0x44b5_2d02_c7e1_4af6),
            ("8.41e21", 0x447c_7e83_209e_90b2),
            ("7.038531e-26", 0x3ab5_c87f_b000_0000),
            ("-1.5e-10", 0xbde4_9da7_e361_ce4c),
            ("2.5e15", 0x4321_c379_37e0_8000),
            ("2.2250738585072011e-308", 0x000f_ffff_ffff_ffff),
            ("2.2250738585072012e-308", 0x0010_0000_0000_0000),
            ("1.7976931348623157e308", 0x7fef_ffff_ffff_ffff),
            ("5e-324", 0x0000_0000_0000_0001),
            ("4.9406564584124654e-324", 0x0000_0000_0000_0001),
            ("9007199254740993.0", 0x4340_0000_0000_0000),
            ("123456789012345678901234567890", 0x45f8_ee90_ff6c_373e),
            ("-0", 0x8000_0000_0000_0000),
        ];
        for (text, bits) in cases {
            let parsed = parse_strict(text.as_bytes()).unwrap().as_f64().unwrap();
            assert_eq!(parsed.to_bits(), *bits, "{}: {:e}", text, parsed);
            let in_array = parse_strict(format!("[ {} ]", text).as_bytes()).unwrap();
            assert_eq!(in_array[0].as_f64().map(f64::to_bits), Some(*bits), "{} in an array", text);
        }
    }

    #[test]
    fn rejects_duplicate_keys_with_their_pointer() {
        let e = err(r#"{"a": 1, "a": 2}"#);
        assert_eq!(e.code, ErrorCode::InvalidJson);
        assert_eq!(e.path.as_deref(), Some("/a"));
        assert!(e.message.contains("duplicate object key \"a\""), "{}", e.message);

        assert_eq!(err(r#"{"a": {"b": 1, "c": 2, "b": 3}}"#).path.as_deref(), Some("/a/b"));
        assert_eq!(err(r#"{"x": 0, "a": [1, {"k": 1}, {"k": 1, "k": 2}]}"#).path.as_deref(), Some("/a/2/k"));
        assert_eq!(err(r#"[[], [{"a/b": {"m~n": 1, "m~n": 1}}]]"#).path.as_deref(), Some("/1/0/a~1b/m~0n"));
        assert_eq!(err(r#"{"": 1, "": 2}"#).path.as_deref(), Some("/"));
        // Keys are compared after unescaping.
        assert_eq!(err(r#"{"é": 1, "\u00e9": 2}"#).path.as_deref(), Some("/é"));
    }

    #[test]
    fn same_key_in_different_objects_is_fine() {
        let v = parse_strict(br#"{"a": {"a": 1}, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}"#).unwrap();
        assert_eq!(v["c"][1]["a"], json!(4));
    }

    #[test]
    fn syntax_errors_blame_the_whole_input() {
        for input in [
            "",
            "   ",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "{'a':1}",
            "[1] x",
            "{} {}",
            "nul",
            "NaN",
            "1e400",
            "-",
            "01",
            "\"\\ud800\"",
            "\"tab\there\"",
            "\u{feff}{}",
            "[1, {\"a\": }]",
        ] {
            let e = err(input);
            assert_eq!(e.code, ErrorCode::InvalidJson, "{:?}", input);
            assert_eq!(e.path.as_deref(), Some(""), "{:?}", input);
            assert!(e.message.starts_with("invalid JSON: "), "{}", e.message);
        }
    }

    #[test]
    fn rejects_invalid_utf8() {
        let e = parse_strict(b"{\"a\": \"\xff\"}").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidJson);
        assert_eq!(e.path.as_deref(), Some(""));
        assert!(e.message.contains("UTF-8"), "{}", e.message);
        assert!(parse_strict(b"\"\xed\xa0\x80\"").is_err()); // an encoded surrogate
    }

    #[test]
    fn limits_nesting_without_overflowing_the_stack() {
        assert!(parse_strict(nested(100).as_bytes()).is_ok());
        assert!(parse_strict(nested(127).as_bytes()).is_ok());
        for depth in [MAX_DEPTH + 1, 1_000, 100_000] {
            let e = parse_strict(nested(depth).as_bytes()).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidJson);
            assert_eq!(e.path.as_deref(), Some(""));
        }
        let objects = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
        assert_eq!(err(&objects).code, ErrorCode::InvalidJson);
        // Unbalanced deep input fails on depth, not on a missing bracket.
        assert_eq!(err(&"[".repeat(1_000_000)).code, ErrorCode::InvalidJson);
    }

    #[test]
    fn depth_limit_is_exact() {
        assert!(parse_strict(nested(MAX_DEPTH).as_bytes()).is_ok());
        let e = err(&nested(MAX_DEPTH + 1));
        assert!(e.message.contains("nesting deeper than 128 levels"), "{}", e.message);
        let mixed = format!("{}1{}", "[{\"a\":".repeat(64), "}]".repeat(64));
        assert!(parse_strict(mixed.as_bytes()).is_ok());
        let deeper = format!("[{}1{}]", "[{\"a\":".repeat(64), "}]".repeat(64));
        assert_eq!(err(&deeper).code, ErrorCode::InvalidJson);
    }

    #[test]
    fn escapes_and_surrogate_pairs() {
        assert_eq!(parse_strict(br#""\"\\\/\b\f\n\r\t""#).unwrap(), json!("\"\\/\u{8}\u{c}\n\r\t"));
        assert_eq!(parse_strict(br#""\ud83d\ude00x""#).unwrap(), json!("\u{1F600}x"));
        assert_eq!(parse_strict(br#""\u00E9""#).unwrap(), json!("\u{e9}"));
        for bad in [r#""\udc00""#, r#""\ud83dx""#, r#""\ud83d\u0041""#, r#""\x""#, r#""\u12""#, r#""\u12g4""#, "\"a"] {
            assert_eq!(err(bad).code, ErrorCode::InvalidJson, "{}", bad);
        }
    }

    #[test]
    fn number_grammar_is_strict() {
        for bad in ["+1", ".5", "1.", "1.e5", "1e", "1e+", "--1", "0x10", "1_000", "Infinity", "-Infinity", "00"] {
            assert_eq!(err(bad).code, ErrorCode::InvalidJson, "{}", bad);
        }
        for good in ["0", "-0.0", "0.5", "1E5", "1e-5", "-1.25e+3", "123456789012345678901234567890"] {
            assert!(parse_strict(good.as_bytes()).is_ok(), "{}", good);
        }
        assert!(parse_strict(b"123456789012345678901234567890").unwrap().is_f64());
        assert_eq!(parse_strict(b"-9223372036854775809").unwrap().as_f64(), Some(-9223372036854775809.0));
    }
}
