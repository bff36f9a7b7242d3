//! Typed reading of JSON input with precise errors: every failure names the JSON pointer of the field to blame.
//! All operation inputs, requests and manifests are read through [`Obj`], so no input path can reach an `unwrap`.
//!
//! Two readings of `null`: in an operation input a host may send `null` for "not given", so it reads as absent;
//! in a protocol document (an atlas manifest, a CARP request) the JSON Schemas give each member a type, and `null`
//! is a value of the wrong type, refused like any other ([`as_document`]). Objects reached from a document keep
//! its reading; the few members whose schema allows `null` are read through [`Obj::lax`].

use serde_json::{Map, Value};

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::ids::normalize_uuid;
use crate::json::{pointer_index, pointer_push};

/// A JSON object being read, with the pointer at which it sits in the operation's input.
#[derive(Clone, Copy)]
pub struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    pub path: &'a str,
    /// True in a protocol document: a `null` member is present, of the wrong type.
    strict: bool,
}

/// Short names of JSON types for messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An operation input's object: a `null` member reads as absent.
pub fn as_object<'a>(v: &'a Value, path: &'a str, code: ErrorCode) -> CoreResult<Obj<'a>> {
    object_in(v, path, code, false)
}

/// A protocol document's object (atlas manifest, CARP request): a `null` member is a value of the wrong type.
pub fn as_document<'a>(v: &'a Value, path: &'a str, code: ErrorCode) -> CoreResult<Obj<'a>> {
    object_in(v, path, code, true)
}

fn object_in<'a>(v: &'a Value, path: &'a str, code: ErrorCode, strict: bool) -> CoreResult<Obj<'a>> {
    match v {
        Value::Object(map) => Ok(Obj { map, path, strict }),
        other => Err(CoreError::at(code, path, format!("expected an object, found {}", type_name(other)))),
    }
}

impl<'a> Obj<'a> {
    /// An operation input's object already known to be one ([`as_object`]'s reading of `null`).
    pub fn new(map: &'a Map<String, Value>, path: &'a str) -> Self {
        Obj { map, path, strict: false }
    }

    /// A member object of this one, read the same way.
    pub fn child<'b>(&self, map: &'b Map<String, Value>, path: &'b str) -> Obj<'b> {
        Obj { map, path, strict: self.strict }
    }

    /// `v` (at `path`, inside this object) as an object read the same way.
    pub fn object<'b>(&self, v: &'b Value, path: &'b str, code: ErrorCode) -> CoreResult<Obj<'b>> {
        object_in(v, path, code, self.strict)
    }

    /// This object with `null` members read as absent: for the members whose schema allows `null`.
    pub fn lax(self) -> Self {
        Obj { strict: false, ..self }
    }

    pub fn field_path(&self, key: &str) -> String {
        pointer_push(self.path, key)
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    /// A present value: in an operation input, a non-null one; in a document, any (`null` is then refused by
    /// the typed readers below as a value of the wrong type).
    pub fn present(&self, key: &str) -> Option<&'a Value> {
        match self.map.get(key) {
            Some(Value::Null) if !self.strict => None,
            v => v,
        }
    }

    pub fn err(&self, code: ErrorCode, key: &str, message: impl Into<String>) -> CoreError {
        CoreError::at(code, self.field_path(key), message)
    }

    /// Refuses members not in `allowed` (the schemas say `additionalProperties: false`).
    pub fn deny_unknown(&self, allowed: &[&str], code: ErrorCode) -> CoreResult<()> {
        for key in self.map.keys() {
            if !allowed.contains(&key.as_str()) {
                return Err(self.err(code, key, format!("unknown field `{}`", key)));
            }
        }
        Ok(())
    }

    pub fn opt_str(&self, key: &str, code: ErrorCode) -> CoreResult<Option<&'a str>> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.err(code, key, format!("expected a string, found {}", type_name(other)))),
        }
    }

    pub fn req_str(&self, key: &str, code: ErrorCode) -> CoreResult<&'a str> {
        match self.opt_str(key, code)? {
            Some(s) => Ok(s),
            None => Err(self.err(code, key, format!("`{}` is required", key))),
        }
    }

    /// A required string of `min..=max` characters.
    pub fn req_text(&self, key: &str, min: usize, max: usize, code: ErrorCode) -> CoreResult<&'a str> {
        let s = self.req_str(key, code)?;
        check_len(s, min, max).map_err(|m| self.err(code, key, m))?;
        Ok(s)
    }

    pub fn opt_text(&self, key: &str, min: usize, max: usize, code: ErrorCode) -> CoreResult<Option<&'a str>> {
        match self.opt_str(key, code)? {
            None => Ok(None),
            Some(s) => {
                check_len(s, min, max).map_err(|m| self.err(code, key, m))?;
                Ok(Some(s))
            }
        }
    }

    pub fn opt_uuid(&self, key: &str, code: ErrorCode) -> CoreResult<Option<String>> {
        match self.opt_str(key, code)? {
            None => Ok(None),
            Some(s) => match normalize_uuid(s) {
                Some(u) => Ok(Some(u)),
                None => Err(self.err(code, key, format!("`{}` must be a UUID", key))),
            },
        }
    }

    pub fn req_uuid(&self, key: &str, code: ErrorCode) -> CoreResult<String> {
        match self.opt_uuid(key, code)? {
            Some(u) => Ok(u),
            None => Err(self.err(code, key, format!("`{}` is required", key))),
        }
    }

    pub fn opt_bool(&self, key: &str, code: ErrorCode) -> CoreResult<Option<bool>> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.err(code, key, format!("expected a boolean, found {}", type_name(other)))),
        }
    }

    /// An integer in `min..=max`, both clamped to ±[`MAX_SAFE_INTEGER`]: beyond it, JSON readers disagree on the
    /// value (a JavaScript host reads 9007199254740993 as 9007199254740992), so it is refused rather than rounded.
    pub fn opt_int(&self, key: &str, min: i64, max: i64, code: ErrorCode) -> CoreResult<Option<i64>> {
        let (min, max) = (min.max(-MAX_SAFE_INTEGER), max.min(MAX_SAFE_INTEGER));
        match self.present(key) {
            None => Ok(None),
            Some(v) => match as_int(v) {
                Some(n) if n >= min && n <= max => Ok(Some(n)),
                Some(_) => Err(self.err(code, key, format!("`{}` must be between {} and {}", key, min, max))),
                None if is_integral(v) => Err(self.err(
                    code,
                    key,
                    format!("`{}` must be between {} and {}: integers beyond ±{} are not exact in every JSON reader", key, min, max, MAX_SAFE_INTEGER),
                )),
                None => {
                    let found = match v {
                        Value::Number(n) => n.to_string(),
                        other => type_name(other).to_string(),
                    };
                    Err(self.err(code, key, format!("`{}` must be an integer, found {}", key, found)))
                }
            },
        }
    }

    pub fn opt_object(&self, key: &str, code: ErrorCode) -> CoreResult<Option<&'a Map<String, Value>>> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(other) => Err(self.err(code, key, format!("expected an object, found {}", type_name(other)))),
        }
    }

    pub fn opt_array(&self, key: &str, code: ErrorCode) -> CoreResult<Option<&'a Vec<Value>>> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(other) => Err(self.err(code, key, format!("expected an array, found {}", type_name(other)))),
        }
    }

    /// An optional array of strings, each checked by `check` (which returns a message on failure).
    pub fn opt_str_list(
        &self,
        key: &str,
        code: ErrorCode,
        check: impl Fn(&str) -> Option<String>,
    ) -> CoreResult<Option<Vec<String>>> {
        self.str_list(key, code, &check)
    }

    // One body for every `check` (a generic one was compiled once per caller's closure).
    fn str_list(&self, key: &str, code: ErrorCode, check: &dyn Fn(&str) -> Option<String>) -> CoreResult<Option<Vec<String>>> {
        let arr = match self.opt_array(key, code)? {
            None => return Ok(None),
            Some(a) => a,
        };
        let base = self.field_path(key);
        let mut out = Vec::with_capacity(arr.len());
        for (i, v) in arr.iter().enumerate() {
            match v {
                Value::String(s) => {
                    if let Some(msg) = check(s) {
                        return Err(CoreError::at(code, pointer_index(&base, i), msg));
                    }
                    out.push(s.clone());
                }
                other => {
                    return Err(CoreError::at(
                        code,
                        pointer_index(&base, i),
                        format!("expected a string, found {}", type_name(other)),
                    ))
                }
            }
        }
        Ok(Some(out))
    }
}

/// 2^53 − 1: the largest integer every JSON reader holds exactly (JavaScript's `Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// An integral JSON number within ±[`MAX_SAFE_INTEGER`] as i64 (floats with no fractional part count, e.g. `3.0`).
pub fn as_int(v: &Value) -> Option<i64> {
    let n = match v {
        Value::Number(n) => n,
        _ => return None,
    };
    let i = if let Some(i) = n.as_i64() {
        i
    } else {
        match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64 => f as i64,
            _ => return None,
        }
    };
    // A range, not `abs()`: `i64::MIN` has no absolute value.
    if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i) {
        Some(i)
    } else {
        None
    }
}

/// A JSON number with no fractional part, of any size (`1e21` is one).
fn is_integral(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_i64() || n.is_u64() || n.as_f64().map_or(false, |f| f.is_finite() && f.fract() == 0.0),
        _ => false,
    }
}

fn check_len(s: &str, min: usize, max: usize) -> Result<(), String> {
    let n = s.chars().count();
    if n < min {
        Err(if min == 1 { "must not be empty".to_string() } else { format!("must be at least {} characters", min) })
    } else if n > max {
        Err(format!("must be at most {} characters", max))
    } else {
        Ok(())
    }
}

/// True when every key (at any depth) matches `[a-z0-9_]+` and every number is an integer: the payload rule of
/// SPEC §4.1 under which every canonical-JSON reading agrees. Returns the pointer of the first offender.
pub fn payload_safe(v: &Value, path: &str) -> Result<(), String> {
    match unsafe_member(v) {
        None => Ok(()),
        Some(rel) => Err(format!("{}{}", path, rel)),
    }
}

/// [`payload_safe`] for an object.
pub fn payload_safe_map(m: &Map<String, Value>, path: &str) -> Result<(), String> {
    match unsafe_in_map(m) {
        None => Ok(()),
        Some(rel) => Err(format!("{}{}", path, rel)),
    }
}

/// The pointer (relative to `v`) of the first member outside the safe subset; assembled only on failure.
fn unsafe_member(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => Some(String::new()),
        Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| unsafe_member(x).map(|rel| pointer_index("", i) + &rel)),
        Value::Object(m) => unsafe_in_map(m),
        _ => None,
    }
}

fn unsafe_in_map(m: &Map<String, Value>) -> Option<String> {
    m.iter().find_map(|(k, x)| {
        let key_ok = !k.is_empty() && k.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_');
        let rel = if key_ok { unsafe_member(x)? } else { String::new() };
        Some(pointer_push("", k) + &rel)
    })
}
