//! Chain verification (SPEC §4.2): formats, genesis, sequence, links, hashes and one session, checked in that
//! order per event; the first failure is reported with its index and a typed reason.
//!
//! SPEC fixes the set of reasons, so what kind of sequence gap was found rides beside the reason as `detail`: a
//! store that lost a line and one that wrote a line twice are different repairs, and only the chain can tell them
//! apart — the host carries this answer rather than guessing from sequence numbers itself.

use crate::obj;
use serde_json::Value;

use super::event::{Event, GENESIS_HASH};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Valid { length: usize, head_hash: String },
    /// `detail` refines a `sequence_gap`: `missing_events` (the sequence jumps forward: events are missing before
    /// `index`), `duplicated_event` (event `index` repeats the previous one), `out_of_order` (any other sequence).
    Invalid { index: usize, reason: &'static str, detail: Option<&'static str>, message: String },
}

impl Verdict {
    pub fn to_json(&self) -> Value {
        match self {
            Verdict::Valid { length, head_hash } => obj!("valid": true, "length": length, "head_hash": head_hash),
            Verdict::Invalid { index, reason, detail: None, .. } => obj!("valid": false, "index": index, "reason": reason),
            Verdict::Invalid { index, reason, detail: Some(detail), .. } => {
                obj!("valid": false, "index": index, "reason": reason, "detail": detail)
            }
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
        let invalid = |reason: &'static str, message: String| Verdict::Invalid { index, reason, detail: None, message };
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
                let previous = index.checked_sub(1).and_then(|i| events.get(i));
                return (sequence_gap(index, e.sequence, want, previous == Some(raw)), Vec::new());
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
            return (Verdict::Invalid { index, reason: "head_mismatch", detail: None, message }, Vec::new());
        }
    }
    (Verdict::Valid { length: parsed.len(), head_hash: prev_hash }, parsed)
}

/// A valid chain must also contain `synced` (a store's last durable head) as a prefix — it may hold more, never
/// less: else `head_mismatch` at the first event it lacks, or at the event whose hash is not the synced one.
pub fn contains_head(verdict: Verdict, parsed: &[Event], synced: Option<&Head>) -> Verdict {
    let h = match (&verdict, synced) {
        (Verdict::Valid { .. }, Some(h)) if h.length > 0 => h,
        _ => return verdict,
    };
    match parsed.get(h.length - 1) {
        None => Verdict::Invalid {
            index: parsed.len(),
            reason: "head_mismatch",
            detail: None,
            message: format!("the chain has {} events but {} were synced", parsed.len(), h.length),
        },
        Some(e) if e.event_hash != h.head_hash => Verdict::Invalid {
            index: h.length - 1,
            reason: "head_mismatch",
            detail: None,
            message: format!("event {} is not the synced head {}", h.length - 1, h.head_hash),
        },
        Some(_) => verdict,
    }
}

/// A `sequence_gap` at `index` (sequence `got` where `want` was expected), with what kind of gap it is.
fn sequence_gap(index: usize, got: u64, want: u64, repeats_previous: bool) -> Verdict {
    let (detail, message) = if repeats_previous {
        ("duplicated_event", format!("a duplicate of the previous event (sequence {} again)", got))
    } else if got > want {
        let missing = if got - want == 1 { format!("the event of sequence {} is", want) } else { format!("the events of sequences {} to {} are", want, got - 1) };
        ("missing_events", format!("{} missing before it (sequence {} where {} was expected)", missing, got, want))
    } else {
        ("out_of_order", format!("out of order: sequence {} where {} was expected", got, want))
    };
    Verdict::Invalid { index, reason: "sequence_gap", detail: Some(detail), message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A valid chain of `n` events of one session.
    fn chain(n: u64) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        let mut prev = GENESIS_HASH.to_string();
        for seq in 0..n {
            let mut v = json!({
                "trace_version": "1.0", "event_id": format!("01234567-89ab-cdef-0123-{:012x}", seq),
                "trace_id": "11111111-1111-1111-1111-111111111111", "span_id": "22222222-2222-2222-2222-222222222222",
                "parent_span_id": null, "session_id": "33333333-3333-3333-3333-333333333333", "sequence": seq,
                "timestamp": "2024-12-28T12:00:00.000000Z",
                "event_type": if seq == 0 { "session.started" } else { "error.occurred" },
                "payload": {"n": seq}, "event_hash": GENESIS_HASH, "previous_event_hash": prev,
            });
            let hash = Event::from_json(&v).ok().and_then(|e| e.compute_hash()).unwrap_or_default();
            v["event_hash"] = json!(hash);
            prev = hash;
            out.push(v);
        }
        out
    }

    fn verdict(events: &[Value]) -> Value {
        verify(events, None).0.to_json()
    }

    #[test]
    fn a_valid_chain_has_no_detail() {
        assert_eq!(verdict(&chain(4))["valid"], json!(true));
    }

    #[test]
    fn a_removed_event_is_missing_events_at_the_next_one() {
        let mut ev = chain(6);
        ev.remove(2);
        assert_eq!(verdict(&ev), json!({"valid": false, "index": 2, "reason": "sequence_gap", "detail": "missing_events"}));
        ev.remove(2);
        match verify(&ev, None).0 {
            Verdict::Invalid { message, .. } => assert!(message.contains("sequences 2 to 3 are missing"), "{}", message),
            other => panic!("verify() said {:?}", other),
        }
    }

    #[test]
    fn a_repeated_line_is_a_duplicated_event_at_the_copy() {
        let mut ev = chain(5);
        let copy = ev[2].clone();
        ev.insert(3, copy);
        assert_eq!(verdict(&ev), json!({"valid": false, "index": 3, "reason": "sequence_gap", "detail": "duplicated_event"}));
    }

    #[test]
    fn an_earlier_sequence_that_is_no_copy_is_out_of_order() {
        let mut ev = chain(5);
        let older = ev[1].clone();
        ev.insert(3, older);
        assert_eq!(verdict(&ev), json!({"valid": false, "index": 3, "reason": "sequence_gap", "detail": "out_of_order"}));
    }

    #[test]
    fn other_failures_have_no_detail() {
        let mut ev = chain(3);
        ev[1]["payload"] = json!({"n": 9});
        assert_eq!(verdict(&ev), json!({"valid": false, "index": 1, "reason": "hash_mismatch"}));
    }
}
