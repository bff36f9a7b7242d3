//! A trace as a Merkle log: the leaf of event `i` is `leaf_hash` of its `event_hash` taken as 32 bytes, so the tree
//! commits to exactly what the chain commits to, and a proof names events by the hash every trace already carries.
//! Proofs are made only from a trace whose chain verifies: a proof about a broken log would prove nothing.

use std::borrow::Cow;

use serde_json::Value;

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::input::Obj;
use crate::runtime::trace_of;
use crate::sha256::lower_hex;
use crate::trace::{verify_item_slice, Item, Verdict};

use super::merkle::{leaf_hash, root, Hash};
use super::note::SignedNote;

/// The 32 bytes of 64 lowercase hex digits.
pub fn from_hex(hex: &str) -> Option<Hash> {
    let s = hex.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks(2).enumerate() {
        let hi = nibble(*pair.first()?)?;
        let lo = nibble(*pair.get(1)?)?;
        *out.get_mut(i)? = (hi << 4) | lo;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// The leaf hash of an event, from its `event_hash` (hex).
pub fn leaf_of(event_hash: &str) -> Option<Hash> {
    from_hex(event_hash).map(|h| leaf_hash(&h))
}

/// Hex of a hash.
pub fn hex(h: &Hash) -> String {
    lower_hex(h)
}

/// A verified trace as a log: its session, its events' hashes, their leaves, and the raw events (for receipts).
pub struct Log<'a> {
    pub session_id: String,
    pub event_hashes: Vec<String>,
    pub leaves: Vec<Hash>,
    items: Vec<Item<'a>>,
}

impl<'a> Log<'a> {
    /// The trace of `events` / `jsonl` in `o`, refused with `trace_invalid` (and the failing event's pointer) unless
    /// its chain verifies.
    pub fn read(o: Obj<'a>) -> CoreResult<Log<'a>> {
        let mut items = trace_of(o, |_| false)?;
        let hashes: Vec<String> = items.iter().map(|i| item_hash(i).unwrap_or_default()).collect();
        let session_id = items.first().and_then(item_session).unwrap_or_default();
        // The items are kept: the few events a receipt holds are read from them.
        let checked = verify_item_slice(&mut items, None, false, None);
        if let Verdict::Invalid { index, reason, message, .. } = checked.verdict {
            return Err(CoreError::at(
                ErrorCode::TraceInvalid,
                format!("/events/{}", index),
                format!("event {}: {}: {}", index, reason, message),
            ));
        }
        let leaves = hashes.iter().map(|h| leaf_of(h).ok_or_else(|| CoreError::internal("a verified event hash is not hex"))).collect::<CoreResult<Vec<_>>>()?;
        Ok(Log { session_id, event_hashes: hashes, leaves, items })
    }

    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// Event `i` as a JSON value.
    pub fn event(&self, i: usize) -> Option<Cow<'_, Value>> {
        self.items.get(i).and_then(Item::value)
    }

    /// The indexes of the events whose payload names `execution_id`.
    pub fn execution_events(&self, execution_id: &str) -> Vec<usize> {
        (0..self.items.len())
            .filter(|&i| match self.items.get(i) {
                // A directly read line keeps its payload as text: look for the id there before parsing the line.
                Some(Item::Read { event, .. }) if !event.payload.contains(execution_id) => false,
                Some(item) => item.value().map_or(false, |v| {
                    v.get("payload").and_then(|p| p.get("execution_id")).and_then(Value::as_str) == Some(execution_id)
                }),
                None => false,
            })
            .collect()
    }
}

fn item_hash(i: &Item) -> Option<String> {
    match i {
        Item::Read { event, .. } => Some(event.event_hash.to_string()),
        Item::Value(v) => v.get("event_hash").and_then(Value::as_str).map(str::to_string),
    }
}

fn item_session(i: &Item) -> Option<String> {
    match i {
        Item::Read { event, .. } => Some(event.session_id.to_string()),
        Item::Value(v) => v.get("session_id").and_then(Value::as_str).map(str::to_string),
    }
}

/// How many events a checkpoint covers of a log (`session_id`, its `leaves`), once it is of that session, covers no
/// more events than the log holds, and has the log's root at that size; refused at `path` otherwise, a wrong root
/// with `wrong_root` (a receipt's checkpoint is invalid, a held one brought back different is a rewritten history).
pub fn covered(note: &SignedNote, session_id: &str, leaves: &[Hash], path: &str, wrong_root: ErrorCode) -> CoreResult<usize> {
    let c = &note.checkpoint;
    if c.session_id() != Some(session_id) {
        return Err(CoreError::at(ErrorCode::CheckpointInvalid, path, format!("the checkpoint is of log {}, not of session {}", c.origin, session_id)));
    }
    let size = usize::try_from(c.size).ok().filter(|&n| n <= leaves.len()).ok_or_else(|| {
        CoreError::at(ErrorCode::CheckpointInvalid, path, format!("the checkpoint covers {} events; the trace has {}", c.size, leaves.len()))
    })?;
    if root(leaves.get(..size).unwrap_or_default()) != c.root {
        return Err(CoreError::at(wrong_root, path, format!("the checkpoint's root is not the root of this trace's first {} events", size)));
    }
    Ok(size)
}
