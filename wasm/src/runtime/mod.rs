//! The runtime: loaded atlases, live sessions, usage counters, and one entry point per operation of
//! `wasm/ABI.md`. Every operation validates its whole input before it changes anything.

mod atlases;
mod ops;
mod rebuild;
mod sessions;

pub use ops::{head_field, trace_of, OPERATIONS};
pub use sessions::{check_name, CheckCode, CHECK_CODES, HOST_EVENTS};

use crate::obj;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value;

use crate::atlas::Atlas;
use crate::carp::handles::Interner;
use crate::carp::ledger::Ledger;
use crate::carp::Session;
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::host::Host;
use crate::json::{parse_strict, JsonOut};
use crate::time::{format_micros, Micros};

/// Largest accepted host time: 9999-12-31T23:59:59.999999Z.
const MAX_MICROS: f64 = 253_402_300_799_999_999.0;

#[derive(Debug, Clone)]
pub struct Config {
    /// SPEC §3's `defaultDecision`: deny (the protocol's rule) unless set to allow.
    pub default_allow: bool,
    pub max_context_tokens: u64,
    pub clock_skew_seconds: u64,
    pub default_ttl_seconds: u64,
    /// Whether each session keeps the Merkle tree of its events beside its chain head (what `session.checkpoint`
    /// reads). Off by default: it costs two small hashes per event, and only a host that signs checkpoints needs it.
    pub merkle_trees: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config { default_allow: false, max_context_tokens: 8000, clock_skew_seconds: 300, default_ttl_seconds: 3600, merkle_trees: false }
    }
}

impl Config {
    pub fn to_json(&self) -> Value {
        obj!(
            "default_decision": if self.default_allow { "allow" } else { "deny" },
            "max_context_tokens": &self.max_context_tokens,
            "clock_skew_seconds": &self.clock_skew_seconds,
            "default_ttl_seconds": &self.default_ttl_seconds,
            "merkle_trees": self.merkle_trees,
        )
    }
}

#[derive(Default)]
pub struct Runtime {
    pub config: Config,
    /// In load order: the order of atlases everywhere (SPEC §9: never hash-map order).
    atlases: Vec<Rc<Atlas>>,
    sessions: HashMap<String, Session>,
    /// Session ids in creation order, for listing.
    session_order: Vec<String>,
    session_handles: HashMap<u32, String>,
    next_session_handle: u32,
    actions: Interner,
    ledger: Ledger,
}

/// Host time as passed over the ABI: integral microseconds within years 1970–9999.
pub fn checked_now(now_us: f64) -> CoreResult<Micros> {
    if (0.0..=MAX_MICROS).contains(&now_us) && now_us.fract() == 0.0 {
        Ok(now_us as Micros)
    } else {
        Err(CoreError::new(ErrorCode::InvalidRequest, "the host time must be integral microseconds since 1970 (before year 10000)"))
    }
}

/// Operations that take their trace's JSONL as an attachment (ABI.md, "Attachments").
pub const ATTACHMENT_OPS: &[&str] = &["session.restore", "trace.verify", "trace.tree", "trace.sync", "proof.inclusion", "proof.consistency", "receipt.build"];

/// Parses an operation's input: JSON, then optionally a NUL byte (which JSON text never contains) and the raw
/// UTF-8 JSONL text of a trace, read as the input's `jsonl` member.
/// For any other operation a NUL byte is just what it is in JSON text: invalid.
fn with_attachment(op: &str, input: &[u8]) -> CoreResult<Value> {
    let nul = match input.iter().position(|&b| b == 0) {
        Some(i) if ATTACHMENT_OPS.contains(&op) => i,
        _ => return parse_strict(input),
    };
    let (json, rest) = input.split_at(nul);
    let mut v = parse_strict(json)?;
    let text = std::str::from_utf8(rest.get(1..).unwrap_or_default())
        .map_err(|_| CoreError::at(ErrorCode::InvalidJson, "/jsonl", "the attached JSONL is not UTF-8"))?;
    if let Value::Object(m) = &mut v {
        if m.contains_key("jsonl") {
            return Err(CoreError::at(ErrorCode::InvalidRequest, "/jsonl", "the JSONL is given twice: attached and as `jsonl`"));
        }
        m.insert("jsonl".to_string(), Value::String(text.to_string()));
    }
    Ok(v)
}

pub fn timestamp(now: Micros) -> CoreResult<String> {
    format_micros(now).ok_or_else(|| CoreError::new(ErrorCode::InvalidRequest, "the host time is out of range"))
}

impl Runtime {
    pub fn new() -> Self {
        Runtime { next_session_handle: 1, ..Default::default() }
    }

    /// Runs one operation on raw input bytes and answers the JSON envelope (`{"ok":…}` or `{"error":…}`).
    /// The input is JSON, optionally followed by a NUL byte and an attachment: the JSONL text of a trace for the
    /// operations that read one (`jsonl`), passed as raw bytes rather than as an escaped JSON string.
    pub fn call(&mut self, op: &str, input: &[u8], now_us: f64, host: &mut dyn Host) -> String {
        let result = checked_now(now_us)
            .and_then(|now| with_attachment(op, input).map(|v| (now, v)))
            .and_then(|(now, v)| self.dispatch(op, &v, now, host));
        match result {
            Ok(text) => {
                let mut out = String::with_capacity(text.len() + 7);
                out.push_str("{\"ok\":");
                out.push_str(&text);
                out.push('}');
                out
            }
            Err(e) => {
                let mut out = JsonOut::with_capacity(256);
                out.begin_object();
                out.key("error").value(&e.to_json());
                out.end_object();
                out.into_string()
            }
        }
    }

    /// Runs one operation on parsed input; answers the JSON text of its result.
    pub fn dispatch(&mut self, op: &str, input: &Value, now: Micros, host: &mut dyn Host) -> CoreResult<String> {
        ops::dispatch(self, op, input, now, host)
    }

    pub fn session(&self, session_id: &str) -> Option<&Session> {
        self.sessions.get(session_id)
    }

    /// The hot path: may this session run this action now? (codes in `wasm/ABI.md`). Records nothing.
    pub fn check(&self, session_handle: u32, action_handle: u32, now_us: f64, host: &mut dyn Host) -> i32 {
        let now = match checked_now(now_us) {
            Ok(n) => n,
            Err(_) => return CheckCode::Deny.code(),
        };
        let session = match self.session_handles.get(&session_handle).and_then(|id| self.sessions.get(id)) {
            Some(s) => s,
            None => return CheckCode::UnknownSession.code(),
        };
        self.check_session(session, action_handle, now, host).code()
    }
}
