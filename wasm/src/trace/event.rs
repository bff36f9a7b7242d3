//! TRACE/1.0 events: the record, its strict reading and the hash of SPEC §4.1.

use serde_json::{Map, Value};

use crate::ids::{is_hash, is_uuid};
use crate::json::write_canonical_map;
use crate::sha256::lower_hex;
use sha2::{Digest, Sha256};
use crate::time::hash_rendering;

pub const TRACE_VERSION: &str = "1.0";
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub const EVENT_TYPES: &[&str] = &[
    "session.started",
    "session.ended",
    "carp.request.received",
    "carp.resolution.completed",
    "carp.resolution.cached",
    "context.injected",
    "context.redacted",
    "policy.evaluated",
    "policy.violated",
    "action.requested",
    "action.approved",
    "action.denied",
    "action.executed",
    "action.failed",
    "error.occurred",
];

/// Field order of a serialised event (the schema's order).
pub const FIELDS: &[&str] = &[
    "trace_version",
    "event_id",
    "trace_id",
    "span_id",
    "parent_span_id",
    "session_id",
    "sequence",
    "timestamp",
    "event_type",
    "payload",
    "event_hash",
    "previous_event_hash",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event_id: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub session_id: String,
    pub sequence: u64,
    /// As stored (`YYYY-MM-DDTHH:MM:SS.ffffffZ` for events this runtime writes).
    pub timestamp: String,
    pub event_type: String,
    pub payload: Map<String, Value>,
    pub event_hash: String,
    pub previous_event_hash: String,
}

/// SHA-256 over the plain concatenation of an event's fields (SPEC §4.1), fed to the hasher piece by piece.
/// `ts` is the timestamp in its hash rendering ([`hash_rendering`]) and `payload` the canonical payload text.
#[allow(clippy::too_many_arguments)]
pub fn chain_hash(
    event_id: &str,
    trace_id: &str,
    span_id: &str,
    parent_span_id: Option<&str>,
    session_id: &str,
    sequence: u64,
    ts: &str,
    event_type: &str,
    payload: &str,
    previous_event_hash: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(TRACE_VERSION.as_bytes());
    h.update(event_id.as_bytes());
    h.update(trace_id.as_bytes());
    h.update(span_id.as_bytes());
    h.update(parent_span_id.unwrap_or("").as_bytes());
    h.update(session_id.as_bytes());
    h.update(itoa::Buffer::new().format(sequence).as_bytes());
    h.update(ts.as_bytes());
    h.update(event_type.as_bytes());
    h.update(payload.as_bytes());
    h.update(previous_event_hash.as_bytes());
    lower_hex(&h.finalize())
}

impl Event {
    /// The event's hash as SPEC §4.1 defines it. `None` when the timestamp is not in a stored form (it cannot
    /// then be rendered the reference's way).
    pub fn compute_hash(&self) -> Option<String> {
        let ts = hash_rendering(&self.timestamp)?;
        let mut payload = String::with_capacity(128);
        write_canonical_map(&self.payload, &mut payload);
        Some(chain_hash(
            &self.event_id,
            &self.trace_id,
            &self.span_id,
            self.parent_span_id.as_deref(),
            &self.session_id,
            self.sequence,
            &ts,
            &self.event_type,
            &payload,
            &self.previous_event_hash,
        ))
    }

    pub fn to_json(&self) -> Value {
        self.clone().into_json()
    }

    /// The event as JSON, in the schema's field order, moving its fields.
    pub fn into_json(self) -> Value {
        let mut m = Map::new();
        m.insert("trace_version".into(), Value::String(TRACE_VERSION.into()));
        m.insert("event_id".into(), Value::String(self.event_id));
        m.insert("trace_id".into(), Value::String(self.trace_id));
        m.insert("span_id".into(), Value::String(self.span_id));
        m.insert("parent_span_id".into(), self.parent_span_id.map(Value::String).unwrap_or(Value::Null));
        m.insert("session_id".into(), Value::String(self.session_id));
        m.insert("sequence".into(), Value::from(self.sequence));
        m.insert("timestamp".into(), Value::String(self.timestamp));
        m.insert("event_type".into(), Value::String(self.event_type));
        m.insert("payload".into(), Value::Object(self.payload));
        m.insert("event_hash".into(), Value::String(self.event_hash));
        m.insert("previous_event_hash".into(), Value::String(self.previous_event_hash));
        Value::Object(m)
    }

    /// Strict reading: every field present with its exact format (a missing `parent_span_id` reads as null, as
    /// the reference runtime wrote it), no unknown fields. Errors name the offending field.
    pub fn from_json(v: &Value) -> Result<Event, String> {
        let m = v.as_object().ok_or_else(|| "an event must be an object".to_string())?;
        for k in m.keys() {
            if !FIELDS.contains(&k.as_str()) {
                return Err(format!("unknown field `{}`", k));
            }
        }
        let s = |key: &str| -> Result<&str, String> {
            m.get(key).and_then(Value::as_str).ok_or_else(|| format!("`{}` must be a string", key))
        };
        let uuid = |key: &str| -> Result<String, String> {
            let x = s(key)?;
            if is_uuid(x) {
                Ok(x.to_string())
            } else {
                Err(format!("`{}` must be a lowercase UUID", key))
            }
        };
        let hash = |key: &str| -> Result<String, String> {
            let x = s(key)?;
            if is_hash(x) {
                Ok(x.to_string())
            } else {
                Err(format!("`{}` must be 64 lowercase hex digits", key))
            }
        };
        if s("trace_version")? != TRACE_VERSION {
            return Err("`trace_version` must be \"1.0\"".into());
        }
        let parent_span_id = match m.get("parent_span_id") {
            None | Some(Value::Null) => None,
            Some(_) => Some(uuid("parent_span_id")?),
        };
        let sequence = m
            .get("sequence")
            .and_then(|n| if n.is_u64() { n.as_u64() } else { None })
            .ok_or_else(|| "`sequence` must be a non-negative integer".to_string())?;
        let timestamp = s("timestamp")?;
        if hash_rendering(timestamp).is_none() {
            return Err("`timestamp` must be UTC RFC 3339 with 0, 3, 6 or 9 fractional digits".into());
        }
        let event_type = s("event_type")?;
        if !EVENT_TYPES.contains(&event_type) {
            return Err(format!("unknown event type `{}`", event_type));
        }
        let payload = m
            .get("payload")
            .and_then(Value::as_object)
            .ok_or_else(|| "`payload` must be an object".to_string())?;
        Ok(Event {
            event_id: uuid("event_id")?,
            trace_id: uuid("trace_id")?,
            span_id: uuid("span_id")?,
            parent_span_id,
            session_id: uuid("session_id")?,
            sequence,
            timestamp: timestamp.to_string(),
            event_type: event_type.to_string(),
            payload: payload.clone(),
            event_hash: hash("event_hash")?,
            previous_event_hash: hash("previous_event_hash")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spec_vector() {
        let payload = json!({"agent_id": "test-agent", "goal": "Test session"});
        let e = Event {
            event_id: "01234567-89ab-cdef-0123-456789abcdef".into(),
            trace_id: "11111111-1111-1111-1111-111111111111".into(),
            span_id: "22222222-2222-2222-2222-222222222222".into(),
            parent_span_id: None,
            session_id: "33333333-3333-3333-3333-333333333333".into(),
            sequence: 0,
            timestamp: "2024-12-28T12:00:00.000000Z".into(),
            event_type: "session.started".into(),
            payload: payload.as_object().cloned().unwrap_or_default(),
            event_hash: String::new(),
            previous_event_hash: GENESIS_HASH.into(),
        };
        assert_eq!(e.compute_hash().as_deref(), Some("3d71a7b30f84fadf986955467af6cabdbd180a61de5b14f4582cd3cdfbe57d2e"));
    }

    #[test]
    fn strict_reading() {
        let mut v = json!({
            "trace_version": "1.0", "event_id": "01234567-89ab-cdef-0123-456789abcdef",
            "trace_id": "11111111-1111-1111-1111-111111111111", "span_id": "22222222-2222-2222-2222-222222222222",
            "parent_span_id": null, "session_id": "33333333-3333-3333-3333-333333333333", "sequence": 0,
            "timestamp": "2024-12-28T12:00:00.000000Z", "event_type": "session.started",
            "payload": {}, "event_hash": GENESIS_HASH, "previous_event_hash": GENESIS_HASH
        });
        assert!(Event::from_json(&v).is_ok());
        v["sequence"] = json!(1.5);
        assert!(Event::from_json(&v).is_err());
        v["sequence"] = json!(0);
        v["event_id"] = json!("01234567-89AB-cdef-0123-456789abcdef");
        assert!(Event::from_json(&v).is_err());
        v["event_id"] = json!("01234567-89ab-cdef-0123-456789abcdef");
        v["extra"] = json!(1);
        assert!(Event::from_json(&v).is_err());
    }
}
