//! Receipts: what one execution did, provable offline. A receipt holds the execution's events, each with its
//! inclusion proof, and a signed checkpoint of the session's log that covers them. Whoever holds it and the log's
//! public key can check, with no access to the runtime or its store, that these exact events were recorded in that
//! order in that session's log of that size — and the checkpoint's signature ties the log to its key.
//!
//! An event's leaf index is its `sequence`: the receipt cannot move an event to another position of the log.
//! The core checks everything but the signature, and hands the host the signed body and the signatures to check.

use serde_json::Value;

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::input::Obj;
use crate::obj;
use crate::trace::Event;

use super::merkle::{inclusion_proof, verify_inclusion, Hash};
use super::note::SignedNote;
use super::tree::{covered, from_hex, hex, Log};

pub const RECEIPT_VERSION: &str = "1";

/// The receipt of `execution_id` in `log`, under the signed checkpoint `note` (its text).
pub fn build(log: &Log, execution_id: &str, note_text: &str) -> CoreResult<Value> {
    let note = SignedNote::parse(note_text).map_err(|m| CoreError::at(ErrorCode::CheckpointInvalid, "/checkpoint", m))?;
    let size = covered(&note, &log.session_id, &log.leaves, "/checkpoint", ErrorCode::CheckpointInvalid)?;
    let indexes = log.execution_events(execution_id);
    if indexes.is_empty() {
        return Err(CoreError::at(ErrorCode::ExecutionNotFound, "/execution_id", format!("no event of execution {} in this trace", execution_id)));
    }
    if let Some(i) = indexes.iter().find(|&&i| i >= size) {
        return Err(CoreError::at(
            ErrorCode::CheckpointInvalid,
            "/checkpoint",
            format!("the checkpoint covers {} events; event {} of the execution is after it: make a newer checkpoint", size, i),
        ));
    }
    let leaves = log.leaves.get(..size).unwrap_or_default();
    let mut entries = Vec::with_capacity(indexes.len());
    for i in indexes {
        let event = log.event(i).ok_or_else(|| CoreError::internal("an indexed event cannot be read"))?;
        let proof = inclusion_proof(leaves, i).ok_or_else(|| CoreError::internal("no proof for an event inside the tree"))?;
        entries.push(obj!("index": i, "event": event.into_owned(), "proof": proof.iter().map(hex).collect::<Vec<_>>()));
    }
    Ok(obj!(
        "receipt_version": RECEIPT_VERSION,
        "session_id": &log.session_id,
        "execution_id": execution_id,
        "entries": entries,
        "checkpoint": note_text,
    ))
}

/// A refusal: the reason code, what is wrong, and where in the receipt.
pub struct Refusal {
    pub reason: &'static str,
    pub message: String,
    pub path: String,
}

fn refuse(reason: &'static str, path: impl Into<String>, message: impl Into<String>) -> Refusal {
    Refusal { reason, message: message.into(), path: path.into() }
}

/// Checks a receipt but its signatures: answers its signed checkpoint, for the host to check the signatures.
pub fn verify(o: Obj) -> Result<(SignedNote, Value), Refusal> {
    let text = |key: &str| o.get(key).and_then(Value::as_str);
    if text("receipt_version") != Some(RECEIPT_VERSION) {
        return Err(refuse("malformed", "/receipt_version", format!("`receipt_version` must be \"{}\"", RECEIPT_VERSION)));
    }
    let (session_id, execution_id) = match (text("session_id"), text("execution_id")) {
        (Some(s), Some(e)) => (s, e),
        _ => return Err(refuse("malformed", "/session_id", "`session_id` and `execution_id` are required strings")),
    };
    let note = SignedNote::parse(text("checkpoint").unwrap_or_default()).map_err(|m| refuse("checkpoint_malformed", "/checkpoint", m))?;
    let c = &note.checkpoint;
    if c.session_id() != Some(session_id) {
        return Err(refuse("wrong_session", "/checkpoint", format!("the checkpoint is of log {}, not of session {}", c.origin, session_id)));
    }
    let entries = match o.get("entries").and_then(Value::as_array) {
        Some(e) if !e.is_empty() => e,
        _ => return Err(refuse("malformed", "/entries", "`entries` must be a non-empty array")),
    };
    let mut last: Option<u64> = None;
    for (n, entry) in entries.iter().enumerate() {
        let at = |member: &str| format!("/entries/{}{}", n, member);
        let event = entry.get("event").ok_or_else(|| refuse("malformed", at("/event"), "`event` is required"))?;
        let e = Event::from_json(event).map_err(|m| refuse("malformed", at("/event"), m))?;
        if e.compute_hash().as_deref() != Some(e.event_hash.as_str()) {
            return Err(refuse("event_hash_mismatch", at("/event"), "the event's contents do not hash to its event_hash"));
        }
        if e.session_id != session_id {
            return Err(refuse("wrong_session", at("/event/session_id"), "the event is of another session"));
        }
        if e.payload.get("execution_id").and_then(Value::as_str) != Some(execution_id) {
            return Err(refuse("wrong_execution", at("/event/payload/execution_id"), "the event is of another execution"));
        }
        let index = entry.get("index").and_then(Value::as_u64).ok_or_else(|| refuse("malformed", at("/index"), "`index` must be a non-negative integer"))?;
        if index != e.sequence {
            return Err(refuse("wrong_index", at("/index"), "an event's index in the log is its sequence"));
        }
        if last.map_or(false, |l| index <= l) {
            return Err(refuse("malformed", at("/index"), "entries are in log order, each event once"));
        }
        last = Some(index);
        let proof = hashes(entry.get("proof")).ok_or_else(|| refuse("malformed", at("/proof"), "`proof` must be an array of at most 64 hashes (64 lowercase hex digits)"))?;
        let leaf = super::tree::leaf_of(&e.event_hash).ok_or_else(|| refuse("malformed", at("/event/event_hash"), "not a hash"))?;
        verify_inclusion(&leaf, index, c.size, &proof, &c.root).map_err(|r| {
            refuse("proof_invalid", at("/proof"), format!("the event is not in the checkpoint's tree ({})", r.as_str()))
        })?;
    }
    let answer = obj!("session_id": session_id, "execution_id": execution_id, "size": c.size, "root": hex(&c.root), "events": entries.len());
    Ok((note, answer))
}

/// A proof's hashes: at most 64, each 64 lowercase hex digits.
pub fn hashes(v: Option<&Value>) -> Option<Vec<Hash>> {
    let a = v?.as_array()?;
    if a.len() > 64 {
        return None;
    }
    a.iter().map(|h| h.as_str().and_then(from_hex)).collect()
}
