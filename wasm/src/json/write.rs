//! Writing JSON text directly, without building `serde_json::Value` trees first.
//!
//! Every answer of the core and every trace event is written through [`JsonOut`]: one growing buffer, a comma
//! flag, and the minimal string escaping of RFC 8785 (what `JSON.stringify` writes); numbers as parsed. The
//! hot operations write their results field by field and splice in fragments that atlases pre-serialise at load
//! time; cold ones hand over a `Value` ([`JsonOut::value`]). Trace payloads are built with [`Payload`], which
//! produces their canonical form directly: the bytes that are hashed are the bytes that are stored.

use serde_json::{Map, Value};

use super::canonical::{write_canonical, write_canonical_map, write_string};

/// A JSON text under construction. Values written after [`JsonOut::key`] belong to that key; values written
/// directly inside an array are separated with commas automatically.
#[derive(Debug, Default)]
pub struct JsonOut {
    buf: String,
    /// A value was just completed at this level: the next key or array element needs a comma first.
    comma: bool,
}

impl JsonOut {
    pub fn new() -> Self {
        JsonOut::with_capacity(256)
    }

    pub fn with_capacity(n: usize) -> Self {
        JsonOut { buf: String::with_capacity(n), comma: false }
    }

    /// The text of one value.
    pub fn of_value(v: &Value) -> String {
        let mut out = JsonOut::new();
        out.value(v);
        out.into_string()
    }

    pub fn into_string(self) -> String {
        self.buf
    }

    pub fn as_str(&self) -> &str {
        &self.buf
    }

    fn sep(&mut self) {
        if self.comma {
            self.buf.push(',');
        }
        self.comma = true;
    }

    pub fn begin_object(&mut self) -> &mut Self {
        self.sep();
        self.buf.push('{');
        self.comma = false;
        self
    }

    pub fn end_object(&mut self) -> &mut Self {
        self.buf.push('}');
        self.comma = true;
        self
    }

    pub fn begin_array(&mut self) -> &mut Self {
        self.sep();
        self.buf.push('[');
        self.comma = false;
        self
    }

    pub fn end_array(&mut self) -> &mut Self {
        self.buf.push(']');
        self.comma = true;
        self
    }

    /// A member name; the next value written is its value.
    pub fn key(&mut self, k: &str) -> &mut Self {
        self.sep();
        write_string(k, &mut self.buf);
        self.buf.push(':');
        self.comma = false;
        self
    }

    pub fn str(&mut self, s: &str) -> &mut Self {
        self.sep();
        write_string(s, &mut self.buf);
        self
    }

    /// A string, or `null` for `None`.
    pub fn opt_str(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    pub fn u64(&mut self, n: u64) -> &mut Self {
        self.sep();
        self.buf.push_str(itoa::Buffer::new().format(n));
        self
    }

    pub fn i64(&mut self, n: i64) -> &mut Self {
        self.sep();
        self.buf.push_str(itoa::Buffer::new().format(n));
        self
    }

    pub fn bool(&mut self, b: bool) -> &mut Self {
        self.sep();
        self.buf.push_str(if b { "true" } else { "false" });
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.push_str("null");
        self
    }

    /// An array of strings.
    pub fn strs(&mut self, items: &[String]) -> &mut Self {
        self.begin_array();
        for s in items {
            self.str(s);
        }
        self.end_array()
    }

    /// The text of a complete JSON value, written as is (pre-serialised fragments).
    pub fn raw(&mut self, json: &str) -> &mut Self {
        self.sep();
        self.buf.push_str(json);
        self
    }

    /// The members of a pre-serialised object, `"a":1,"b":2` (no braces), inside the object being written.
    pub fn raw_members(&mut self, members: &str) -> &mut Self {
        if !members.is_empty() {
            self.sep();
            self.buf.push_str(members);
        }
        self
    }

    /// A value in its member order.
    pub fn value(&mut self, v: &Value) -> &mut Self {
        match v {
            Value::Null => self.null(),
            Value::Bool(b) => self.bool(*b),
            Value::Number(n) => {
                self.sep();
                // As parsed: integers stay integers and a float keeps its fraction (`1.0`), so that a reader
                // other than JavaScript sees the number it would have read from the input.
                if let Some(u) = n.as_u64() {
                    self.buf.push_str(itoa::Buffer::new().format(u));
                } else if let Some(i) = n.as_i64() {
                    self.buf.push_str(itoa::Buffer::new().format(i));
                } else {
                    self.buf.push_str(ryu::Buffer::new().format_finite(n.as_f64().unwrap_or(0.0)));
                }
                self
            }
            Value::String(s) => self.str(s),
            Value::Array(items) => {
                self.begin_array();
                for item in items {
                    self.value(item);
                }
                self.end_array()
            }
            Value::Object(m) => self.map(m),
        }
    }

    /// An object in its member order.
    pub fn map(&mut self, m: &Map<String, Value>) -> &mut Self {
        self.begin_object();
        for (k, v) in m {
            self.key(k).value(v);
        }
        self.end_object()
    }

    /// A value in its canonical (RFC 8785) form.
    pub fn canonical(&mut self, v: &Value) -> &mut Self {
        self.sep();
        write_canonical(v, &mut self.buf);
        self
    }
}

/// A trace payload in canonical form (RFC 8785), built member by member. Keys are the runtime's own
/// (`[a-z0-9_]+`, for which byte order is the UTF-16 order JCS sorts by); members are sorted when the payload is
/// finished, so callers add them in whatever order reads best.
#[derive(Debug, Default)]
pub struct Payload {
    text: String,
    /// (key, start, end) of each member's canonical value text in `text`.
    members: Vec<(&'static str, usize, usize)>,
}

impl Payload {
    pub fn new() -> Self {
        Payload { text: String::with_capacity(192), members: Vec::with_capacity(8) }
    }

    fn member(mut self, key: &'static str, write: impl FnOnce(&mut String)) -> Self {
        debug_assert!(key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
        debug_assert!(self.members.iter().all(|(k, _, _)| *k != key), "duplicate payload key {}", key);
        let start = self.text.len();
        write(&mut self.text);
        self.members.push((key, start, self.text.len()));
        self
    }

    pub fn str(self, key: &'static str, v: &str) -> Self {
        self.member(key, |t| write_string(v, t))
    }

    /// The member only when `v` is `Some`.
    pub fn opt_str(self, key: &'static str, v: Option<&str>) -> Self {
        match v {
            Some(s) => self.str(key, s),
            None => self,
        }
    }

    pub fn u64(self, key: &'static str, n: u64) -> Self {
        self.member(key, |t| t.push_str(itoa::Buffer::new().format(n)))
    }

    pub fn opt_u64(self, key: &'static str, n: Option<u64>) -> Self {
        match n {
            Some(n) => self.u64(key, n),
            None => self,
        }
    }

    pub fn i64(self, key: &'static str, n: i64) -> Self {
        self.member(key, |t| t.push_str(itoa::Buffer::new().format(n)))
    }

    pub fn bool(self, key: &'static str, b: bool) -> Self {
        self.member(key, |t| t.push_str(if b { "true" } else { "false" }))
    }

    pub fn strs(self, key: &'static str, items: &[String]) -> Self {
        self.member(key, |t| {
            t.push('[');
            for (i, s) in items.iter().enumerate() {
                if i > 0 {
                    t.push(',');
                }
                write_string(s, t);
            }
            t.push(']');
        })
    }

    /// Any JSON value, canonicalised.
    pub fn value(self, key: &'static str, v: &Value) -> Self {
        self.member(key, |t| write_canonical(v, t))
    }

    pub fn map(self, key: &'static str, m: &Map<String, Value>) -> Self {
        self.member(key, |t| write_canonical_map(m, t))
    }

    /// The canonical text of the payload.
    pub fn finish(mut self) -> String {
        self.members.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = String::with_capacity(self.text.len() + self.members.iter().map(|m| m.0.len() + 4).sum::<usize>() + 2);
        out.push('{');
        for (i, (key, start, end)) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(key);
            out.push_str("\":");
            // `member` recorded the range of what it wrote: `get` never misses.
            out.push_str(self.text.get(*start..*end).unwrap_or_default());
        }
        out.push('}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{canonical, parse_strict};
    use serde_json::json;

    #[test]
    fn writes_nested_structures_with_commas() {
        let mut o = JsonOut::new();
        o.begin_object();
        o.key("a").u64(1);
        o.key("b").begin_array().str("x").null().bool(true).i64(-3).end_array();
        o.key("c").begin_object().end_object();
        o.key("d").opt_str(None);
        o.key("e").raw("[1,2]");
        o.key("f").begin_object().raw_members("\"g\":1,\"h\":2").key("i").u64(3).end_object();
        o.key("j").begin_object().raw_members("").key("k").u64(4).end_object();
        o.end_object();
        let s = o.into_string();
        assert_eq!(s, r#"{"a":1,"b":["x",null,true,-3],"c":{},"d":null,"e":[1,2],"f":{"g":1,"h":2,"i":3},"j":{"k":4}}"#);
        assert!(parse_strict(s.as_bytes()).is_ok());
    }

    #[test]
    fn values_keep_member_order_numbers_and_escape_like_canonical() {
        let v = parse_strict(br#"{"z":"q\"\n\u0001","a":[1.5,-0.0,1e21,2.0,-3,18446744073709551615,{"y":null}]}"#).unwrap();
        assert_eq!(
            JsonOut::of_value(&v),
            "{\"z\":\"q\\\"\\n\\u0001\",\"a\":[1.5,-0.0,1e21,2.0,-3,18446744073709551615,{\"y\":null}]}"
        );
    }

    #[test]
    fn payloads_are_canonical_whatever_the_insertion_order() {
        let p = Payload::new()
            .str("goal", "é \"x\"")
            .u64("allowed_count", 3)
            .value("context", &json!({"b": 1, "a": [true]}))
            .strs("atlas_ids", &["com.example.a".to_string()])
            .opt_str("absent", None)
            .bool("cache_hit", false)
            .finish();
        let same = json!({
            "goal": "é \"x\"", "allowed_count": 3, "context": {"a": [true], "b": 1},
            "atlas_ids": ["com.example.a"], "cache_hit": false
        });
        assert_eq!(p, canonical(&same));
        assert_eq!(Payload::new().finish(), "{}");
    }
}
