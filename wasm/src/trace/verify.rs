//! Chain verification (SPEC §4.2): formats, genesis, sequence, links, hashes and one session, checked in that
//! order per event; the first failure is reported with its index and a typed reason.
//!
//! SPEC fixes the set of reasons, so what kind of sequence gap was found rides beside the reason as `detail`: a
//! store that lost a line and one that wrote a line twice are different repairs, and only the chain can tell them
//! apart — the host carries this answer rather than guessing from sequence numbers itself.

use std::borrow::Cow;

use crate::obj;
use serde_json::Value;

use super::event::{Event, GENESIS_HASH};
use super::read::{Item, ReadEvent};

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
    let items = events.iter().map(|v| Item::Value(Cow::Borrowed(v))).collect();
    let checked = verify_items(items, expected, true, None);
    (checked.verdict, checked.events)
}

/// What [`verify_items`] found.
pub struct Checked {
    pub verdict: Verdict,
    /// The events of a valid chain, when they were asked for.
    pub events: Vec<Event>,
    /// The number of events checked and the hash of event `hash_at`, for [`contains_head_at`].
    pub length: usize,
    pub hash_at: Option<String>,
}

/// [`verify`] of events as read from JSONL ([`super::read::read_trace`]) or given as values. The events are
/// built only when `keep` (a verdict alone needs none of them); `hash_at` asks for the hash of that event.
pub fn verify_items(mut items: Vec<Item>, expected: Option<&Head>, keep: bool, hash_at: Option<usize>) -> Checked {
    verify_item_slice(&mut items, expected, keep, hash_at)
}

/// [`verify_items`] on items the caller keeps: a receipt reads its events from them once the chain verified.
pub fn verify_item_slice(items: &mut [Item], expected: Option<&Head>, keep: bool, hash_at: Option<usize>) -> Checked {
    let mut events: Vec<Event> = Vec::with_capacity(if keep { items.len() } else { 0 });
    // The previous event's sequence and hash and the first one's session, kept apart from the events.
    let mut prev_sequence = 0u64;
    let mut prev_hash = String::from(GENESIS_HASH);
    let mut session = String::new();
    let mut at_hash = None;
    let failed = |verdict| Checked { verdict, events: Vec::new(), length: 0, hash_at: None };
    for index in 0..items.len() {
        let invalid = |reason: &'static str, message: String| Verdict::Invalid { index, reason, detail: None, message };
        let (read, owned) = match items.get_mut(index) {
            Some(Item::Read { event, payload, .. }) => {
                let owned = if keep { Some(event.to_event(payload.take().unwrap_or_default())) } else { None };
                (Some(*event), owned)
            }
            Some(Item::Value(raw)) => match Event::from_json(raw) {
                Ok(e) => (None, Some(e)),
                Err(m) => return failed(invalid("malformed_event", m)),
            },
            None => break,
        };
        let v = match (&read, &owned) {
            (Some(r), _) => View::of_read(r),
            (None, Some(e)) => View::of_event(e),
            (None, None) => break,
        };
        if index == 0 {
            if v.sequence != 0 || v.event_type != "session.started" || v.previous_event_hash != GENESIS_HASH {
                return failed(invalid(
                    "bad_genesis",
                    "the first event must be session.started with sequence 0 and a zero previous hash".into(),
                ));
            }
        } else {
            let want = prev_sequence + 1;
            if v.sequence != want {
                let repeats = match (items.get(index - 1).and_then(Item::value), items.get(index).and_then(Item::value)) {
                    (Some(previous), Some(raw)) => previous == raw,
                    _ => false,
                };
                return failed(sequence_gap(index, v.sequence, want, repeats));
            }
            if v.previous_event_hash != prev_hash {
                return failed(invalid("broken_link", "previous_event_hash is not the previous event's hash".into()));
            }
        }
        let hash = match (&read, &owned) {
            (Some(r), _) => r.compute_hash(),
            (None, Some(e)) => e.compute_hash(),
            (None, None) => None,
        };
        if hash.as_deref() != Some(v.event_hash) {
            return failed(invalid("hash_mismatch", "event_hash does not match the event's contents".into()));
        }
        if index == 0 {
            session.push_str(v.session_id);
        } else if session != v.session_id {
            return failed(invalid("session_mismatch", "the event belongs to another session".into()));
        }
        prev_sequence = v.sequence;
        prev_hash.clear();
        prev_hash.push_str(v.event_hash);
        if hash_at == Some(index) {
            at_hash = Some(prev_hash.clone());
        }
        if let Some(e) = owned.filter(|_| keep) {
            events.push(e);
        }
    }
    let length = items.len();
    if let Some(h) = expected {
        if h.length != length || h.head_hash != prev_hash {
            let index = if length < h.length { length } else { h.length.min(length.saturating_sub(1)) };
            let message = format!(
                "the chain has {} events ending in {}, but the runtime's head is {} events ending in {}",
                length, prev_hash, h.length, h.head_hash
            );
            return failed(Verdict::Invalid { index, reason: "head_mismatch", detail: None, message });
        }
    }
    Checked { verdict: Verdict::Valid { length, head_hash: prev_hash }, events, length, hash_at: at_hash }
}

/// The fields verification compares, of a read event or a parsed one.
struct View<'e> {
    sequence: u64,
    event_type: &'e str,
    session_id: &'e str,
    event_hash: &'e str,
    previous_event_hash: &'e str,
}

impl<'e> View<'e> {
    fn of_read(r: &ReadEvent<'e>) -> Self {
        View {
            sequence: r.sequence,
            event_type: r.event_type,
            session_id: r.session_id,
            event_hash: r.event_hash,
            previous_event_hash: r.previous_event_hash,
        }
    }

    fn of_event(e: &'e Event) -> Self {
        View {
            sequence: e.sequence,
            event_type: &e.event_type,
            session_id: &e.session_id,
            event_hash: &e.event_hash,
            previous_event_hash: &e.previous_event_hash,
        }
    }
}

/// A valid chain must also contain `synced` (a store's last durable head) as a prefix — it may hold more, never
/// less: else `head_mismatch` at the first event it lacks, or at the event whose hash is not the synced one.
pub fn contains_head(verdict: Verdict, parsed: &[Event], synced: Option<&Head>) -> Verdict {
    let at = synced.and_then(|h| h.length.checked_sub(1)).and_then(|i| parsed.get(i)).map(|e| e.event_hash.as_str());
    contains_head_at(verdict, parsed.len(), at, synced)
}

/// [`contains_head`] of a chain of `length` events whose event `synced.length - 1` has hash `synced_hash`.
pub fn contains_head_at(verdict: Verdict, length: usize, synced_hash: Option<&str>, synced: Option<&Head>) -> Verdict {
    let h = match (&verdict, synced) {
        (Verdict::Valid { .. }, Some(h)) if h.length > 0 => h,
        _ => return verdict,
    };
    match synced_hash.filter(|_| h.length <= length) {
        None => Verdict::Invalid {
            index: length,
            reason: "head_mismatch",
            detail: None,
            message: format!("the chain has {} events but {} were synced", length, h.length),
        },
        Some(hash) if hash != h.head_hash => Verdict::Invalid {
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
