//! Sync: a runtime that holds part of a session's log (a server) takes more of it from the runtime that governs the
//! session (a browser tab). What it holds is never rewritten: the upload must agree, event for event, with every
//! event held, extend the chain from the held head, and every checkpoint it brings must be the root of the
//! combined log at its size — with the last checkpoint held consistent with the newest one brought (RFC 9162
//! consistency, proved over the combined log and checked as a verifier holding only the two checkpoints would).
//! Anything else is refused whole, so a refused upload changes nothing.

use std::borrow::Cow;

use serde_json::Value;

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::input::Obj;
use crate::obj;
use crate::trace::{verify_items, Item, Verdict};

use super::merkle::{consistency_proof, root, verify_consistency};
use super::note::SignedNote;
use super::tree::{covered, hex, leaf_of, Log};

const CODE: ErrorCode = ErrorCode::InvalidRequest;

/// `trace.sync`: `events`/`jsonl` (the trace held, maybe empty), `incoming` (events from any sequence up to the
/// held length, in order), `checkpoints` (signed notes brought with them) and `held_checkpoint` (the last note
/// held). Answers what to append.
pub fn sync(o: Obj) -> CoreResult<Value> {
    o.deny_unknown(&["events", "jsonl", "incoming", "checkpoints", "held_checkpoint"], CODE)?;
    let held = Log::read(o)?;
    let incoming = o.opt_array("incoming", CODE)?.ok_or_else(|| o.err(CODE, "incoming", "`incoming` (an array of events) is required"))?;
    let notes = notes(o, "checkpoints")?;
    let held_note = match o.opt_str("held_checkpoint", CODE)? {
        Some(t) => Some(SignedNote::parse(t).map_err(|m| CoreError::at(ErrorCode::CheckpointInvalid, "/held_checkpoint", m))?),
        None => None,
    };
    let n = held.len();
    // Where the upload starts: an event it repeats must be the one held, the rest must follow the held head.
    let mut fresh: Vec<&Value> = Vec::new();
    for (i, e) in incoming.iter().enumerate() {
        let sequence = e.get("sequence").and_then(Value::as_u64).ok_or_else(|| {
            CoreError::at(ErrorCode::TraceInvalid, format!("/incoming/{}/sequence", i), "an event's `sequence` is a non-negative integer")
        })?;
        let position = usize::try_from(sequence).unwrap_or(usize::MAX);
        if position < n {
            let hash = e.get("event_hash").and_then(Value::as_str);
            if hash != held.event_hashes.get(position).map(String::as_str) {
                return Err(rewritten(i, position));
            }
            // The same hash over other contents is not the event held: the upload rewrote it.
            let intact = crate::trace::Event::from_json(e).ok().and_then(|ev| ev.compute_hash()).map_or(false, |h| Some(h.as_str()) == hash);
            if !intact {
                return Err(CoreError::at(
                    ErrorCode::HistoryRewritten,
                    format!("/incoming/{}", i),
                    format!("event {} does not hash to its event_hash: it is not the event {} held for this session", i, position),
                ));
            }
        } else if position != n + fresh.len() {
            return Err(CoreError::at(
                ErrorCode::TraceInvalid,
                format!("/incoming/{}/sequence", i),
                format!("event {} follows event {}: the events between are missing", sequence, n + fresh.len()),
            ));
        } else {
            fresh.push(e);
        }
    }
    if n > 0 {
        if let Some(first) = fresh.first() {
            if first.get("previous_event_hash").and_then(Value::as_str) != held.event_hashes.last().map(String::as_str) {
                return Err(CoreError::at(
                    ErrorCode::HistoryRewritten,
                    format!("/incoming/{}", incoming.len() - fresh.len()),
                    format!("event {} does not follow the last event held (sequence {}): the history was rewritten", n, n - 1),
                ));
            }
        }
    }
    // The combined chain verifies as one trace (the held part did already: its hashes are taken as they are).
    let mut leaves = held.leaves.clone();
    let mut head = held.event_hashes.last().cloned();
    if !fresh.is_empty() {
        let items: Vec<Item> = (0..n).filter_map(|i| held.event(i)).map(|v| Item::Value(Cow::Owned(v.into_owned()))).chain(fresh.iter().map(|v| Item::Value(Cow::Borrowed(*v)))).collect();
        if let Verdict::Invalid { index, reason, message, .. } = verify_items(items, None, false, None).verdict {
            let at = incoming.len() - fresh.len() + index.saturating_sub(n);
            return Err(CoreError::at(ErrorCode::TraceInvalid, format!("/incoming/{}", at), format!("event {}: {}: {}", index, reason, message)));
        }
        for e in &fresh {
            let h = e.get("event_hash").and_then(Value::as_str).unwrap_or_default();
            leaves.push(leaf_of(h).ok_or_else(|| CoreError::internal("a verified event hash is not hex"))?);
            head = Some(h.to_string());
        }
    }
    let session_id = if held.is_empty() {
        fresh.first().and_then(|e| e.get("session_id")).and_then(Value::as_str).unwrap_or_default().to_string()
    } else {
        held.session_id
    };
    // Every checkpoint brought is of this log, and its root is the combined log's at its size.
    for (j, note) in notes.iter().enumerate() {
        covered(note, &session_id, &leaves, &format!("/checkpoints/{}", j), ErrorCode::CheckpointInvalid)?;
    }
    if let Some(h) = &held_note {
        covered(h, &session_id, &leaves, "/held_checkpoint", ErrorCode::HistoryRewritten)?;
        if let Some(newest) = notes.iter().max_by_key(|x| x.checkpoint.size) {
            let (a, b) = (&h.checkpoint, &newest.checkpoint);
            if b.size < a.size {
                return Err(CoreError::at(ErrorCode::CheckpointInvalid, "/checkpoints", "the newest checkpoint brought covers fewer events than the one held: bring one that covers the whole log"));
            }
            let upto = usize::try_from(b.size).unwrap_or(usize::MAX);
            let proof = consistency_proof(leaves.get(..upto).unwrap_or_default(), usize::try_from(a.size).unwrap_or(usize::MAX))
                .ok_or_else(|| CoreError::internal("no consistency proof inside the tree"))?;
            verify_consistency(a.size, b.size, &a.root, &b.root, &proof).map_err(|r| {
                CoreError::at(ErrorCode::HistoryRewritten, "/checkpoints", format!("the checkpoints held and brought are not consistent ({})", r.as_str()))
            })?;
        }
    }
    Ok(obj!(
        "session_id": session_id,
        "held": n,
        "append_from": incoming.len() - fresh.len(),
        "appended": fresh.len(),
        "length": leaves.len(),
        "head_hash": head.unwrap_or_else(|| crate::trace::GENESIS_HASH.to_string()),
        "root": hex(&root(&leaves)),
    ))
}

fn rewritten(i: usize, position: usize) -> CoreError {
    CoreError::at(
        ErrorCode::HistoryRewritten,
        format!("/incoming/{}", i),
        format!("event {} (its sequence) is not the one held for this session: the history was rewritten", position),
    )
}

/// The signed notes at `key` (an array of texts), read.
pub fn notes(o: Obj, key: &str) -> CoreResult<Vec<SignedNote>> {
    let list = o.opt_array(key, CODE)?.map(Vec::as_slice).unwrap_or_default();
    if list.len() > 1024 {
        return Err(o.err(CODE, key, format!("at most 1024 `{}`", key)));
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let path = format!("{}/{}", o.field_path(key), i);
            let t = v.as_str().ok_or_else(|| CoreError::at(CODE, path.clone(), "a checkpoint is the text of a signed note"))?;
            SignedNote::parse(t).map_err(|m| CoreError::at(ErrorCode::CheckpointInvalid, path, m))
        })
        .collect()
}
