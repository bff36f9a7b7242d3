//! Building `serde_json::Value`s without a serialization pass. `serde_json::json!` turns every interpolated
//! expression into a value through `serde::Serialize`, so interpolating an already-built `Value` (a resolution, a
//! list of events) deep-copies it through the serializer; on the hot paths that copy dominated the cost of a call.
//! [`obj!`](crate::obj) takes ownership or clones directly instead.

use serde_json::{Map, Value};

/// Conversion into a JSON value by move or plain clone.
pub trait IntoJson {
    fn into_json(self) -> Value;
}

impl IntoJson for Value {
    fn into_json(self) -> Value {
        self
    }
}
impl IntoJson for &Value {
    fn into_json(self) -> Value {
        self.clone()
    }
}
impl IntoJson for Map<String, Value> {
    fn into_json(self) -> Value {
        Value::Object(self)
    }
}
impl IntoJson for String {
    fn into_json(self) -> Value {
        Value::String(self)
    }
}
impl IntoJson for &String {
    fn into_json(self) -> Value {
        Value::String(self.clone())
    }
}
impl IntoJson for &str {
    fn into_json(self) -> Value {
        Value::String(self.to_string())
    }
}
impl IntoJson for bool {
    fn into_json(self) -> Value {
        Value::Bool(self)
    }
}
impl IntoJson for f64 {
    fn into_json(self) -> Value {
        Value::from(self)
    }
}
macro_rules! ints {
    ($($t:ty)*) => {$(
        impl IntoJson for $t {
            fn into_json(self) -> Value {
                Value::from(self)
            }
        }
    )*};
}
ints!(u64 i64 u32 i32 usize);
macro_rules! copied {
    ($($t:ty)*) => {$(
        impl IntoJson for &$t {
            fn into_json(self) -> Value {
                (*self).into_json()
            }
        }
    )*};
}
copied!(u64 i64 u32 i32 usize bool f64 &str);
impl<T: IntoJson> IntoJson for Option<T> {
    fn into_json(self) -> Value {
        match self {
            Some(t) => t.into_json(),
            None => Value::Null,
        }
    }
}
impl IntoJson for &Option<String> {
    fn into_json(self) -> Value {
        self.as_ref().into_json()
    }
}
impl<T: IntoJson> IntoJson for Vec<T> {
    fn into_json(self) -> Value {
        Value::Array(self.into_iter().map(IntoJson::into_json).collect())
    }
}
impl IntoJson for &Vec<String> {
    fn into_json(self) -> Value {
        Value::Array(self.iter().map(|s| Value::String(s.clone())).collect())
    }
}
impl IntoJson for &[String] {
    fn into_json(self) -> Value {
        Value::Array(self.iter().map(|s| Value::String(s.clone())).collect())
    }
}
impl IntoJson for &Map<String, Value> {
    fn into_json(self) -> Value {
        Value::Object(self.clone())
    }
}
impl IntoJson for &Option<Map<String, Value>> {
    fn into_json(self) -> Value {
        self.as_ref().map(|m| Value::Object(m.clone())).unwrap_or(Value::Null)
    }
}
impl IntoJson for &Vec<Value> {
    fn into_json(self) -> Value {
        Value::Array(self.clone())
    }
}

/// A JSON object from `"key": value` pairs, each value converted with [`IntoJson`] (no serialization pass).
#[macro_export]
macro_rules! obj {
    ($($k:literal : $v:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut m = serde_json::Map::new();
        $( m.insert(String::from($k), $crate::json::IntoJson::into_json($v)); )*
        serde_json::Value::Object(m)
    }};
}
