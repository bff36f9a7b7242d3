//! Chain verification (SPEC §4.2): formats, genesis, sequence, links, hashes and one session, checked in that
//! order per event; the first failure is reported with its index and a typed reason.

use crate::obj;
use serde_json::Value;

use super::event::{Event, GENESIS_HASH};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid { length: usize, head_hash: String },
    Invalid { index: usize, reason: &'static str, message: String },
}

impl Verdict {
    pub fn to_json(&self) -> Value {
        match self {
            Verdict::Valid { length, head_hash } => obj!("valid": true, "length": length, "head_hash": head_hash),
            Verdict::Invalid { index, reason, .. } => obj!("valid": false, "index": index, "reason": reason),
        }
    }
}

/// The head a runtime remembers for a session, so that a cut tail is noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub length: usize,
    pub head_hash: String,
}

/// Verifies `events`, returning the parsed events alongside a valid verdict.
pub fn verify(events: &[Value], expected: Option<&Head>) -> (Verdict, Vec<Event>) {
    let mut parsed: Vec<Event> = Vec::with_capacity(events.len());
    let mut prev_hash = GENESIS_HASH.to_string();
    for (index, raw) in events.iter().enumerate() {
        let invalid = |reason: &'static str, message: String| Verdict::Invalid { index, reason, message };
        let e = match Event::from_json(raw) {
            Ok(e) => e,
            Err(m) => return (invalid("malformed_event", m), Vec::new()),
        };
        if index == 0 {
            if e.sequence != 0 || e.event_type != "session.started" || e.previous_event_hash != GENESIS_HASH {
                return (
                    invalid("bad_genesis", "the first event must be session.started with sequence 0 and a zero previous hash".into()),
                    Vec::new(),
                );
            }
        } else {
            let want = parsed.last().map_or(0, |p| p.sequence + 1);
            if e.sequence != want {
                return (invalid("sequence_gap", format!("sequence {} where {} was expected", e.sequence, want)), Vec::new());
            }
            if e.previous_event_hash != prev_hash {
                return (invalid("broken_link", "previous_event_hash is not the previous event's hash".into()), Vec::new());
            }
        }
        match e.compute_hash() {
            Some(h) if h == e.event_hash => {}
            _ => return (invalid("hash_mismatch", "event_hash does not match the event's contents".into()), Vec::new()),
        }
        if parsed.first().map_or(false, |first| first.session_id != e.session_id) {
            return (invalid("session_mismatch", "the event belongs to another session".into()), Vec::new());
        }
        prev_hash = e.event_hash.clone();
        parsed.push(e);
    }
    if let Some(h) = expected {
        if h.length != parsed.len() || h.head_hash != prev_hash {
            let index = if parsed.len() < h.length { parsed.len() } else { h.length.min(parsed.len().saturating_sub(1)) };
            let message = format!(
                "the chain has {} events ending in {}, but the runtime's head is {} events ending in {}",
                parsed.len(),
                prev_hash,
                h.length,
                h.head_hash
            );
            return (Verdict::Invalid { index, reason: "head_mismatch", message }, Vec::new());
        }
    }
    (Verdict::Valid { length: parsed.len(), head_hash: prev_hash }, parsed)
}
