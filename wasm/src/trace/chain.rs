//! Appending to a session's chain. The core keeps only each chain's head and, when the runtime keeps trees, the
//! right edge of its Merkle tree ([`Frontier`]: O(log n) hashes, so a checkpoint of a live session costs no read of
//! its trace); emitted events go back to the host.
//! An [`Emitter`] works on a copy of the head and is committed only when the whole operation succeeded, so a
//! failing operation leaves the chain untouched.
//!
//! Payloads arrive in canonical form ([`crate::json::Payload`]): they are hashed and written out as the same
//! bytes, so an emitted event costs one canonicalisation, one hash and one write.

use serde_json::{Map, Value};

use crate::error::{CoreError, CoreResult};
use crate::host::{fresh_ids, Host};
use crate::json::{parse_strict, JsonOut};
use crate::time::hash_rendering;

use crate::proof::merkle::Frontier;
use crate::proof::tree::leaf_of;

use super::event::{chain_hash, Event, GENESIS_HASH, TRACE_VERSION};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub session_id: String,
    pub trace_id: String,
    /// Sequence number of the next event (= number of events so far).
    pub next_sequence: u64,
    pub head_hash: String,
    /// The Merkle tree of the events so far (its leaves are their hashes), when the runtime keeps trees
    /// (`merkle_trees`).
    pub tree: Option<Frontier>,
}

impl ChainHead {
    pub fn new(session_id: String, trace_id: String) -> Self {
        ChainHead { session_id, trace_id, next_sequence: 0, head_hash: GENESIS_HASH.to_string(), tree: None }
    }
}

/// An event emitted by this runtime; session, trace and timestamp are its emitter's.
#[derive(Debug, Clone)]
pub struct Emitted {
    pub event_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub sequence: u64,
    pub event_type: String,
    /// Canonical JSON text.
    pub payload: String,
    pub event_hash: String,
    pub previous_event_hash: String,
}

pub struct Emitter {
    pub head: ChainHead,
    pub timestamp: String,
    /// The timestamp as the hash renders it (every event of one operation shares it).
    ts_hash: Option<String>,
    pub events: Vec<Emitted>,
    /// Ids taken from the host ahead of the events that use them, next one last.
    ids: Vec<String>,
}

impl Emitter {
    pub fn new(head: &ChainHead, timestamp: String) -> Self {
        let ts_hash = hash_rendering(&timestamp);
        Emitter { head: head.clone(), timestamp, ts_hash, events: Vec::new(), ids: Vec::new() }
    }

    /// Takes the ids of the next `events` events from the host in one call. Ids are used in the order single
    /// calls would have taken them, so a deterministic host gives the same trace either way.
    pub fn reserve(&mut self, host: &mut dyn Host, events: usize) -> CoreResult<()> {
        let mut ids = fresh_ids(host, 2 * events)?;
        ids.reverse();
        ids.append(&mut self.ids);
        self.ids = ids;
        Ok(())
    }

    /// Takes `first` ids for the caller and the ids of the next `events` events in one call to the host, in the
    /// order taking the caller's first and reserving after would give them (the emitter must hold none yet).
    pub fn take_with(&mut self, host: &mut dyn Host, first: usize, events: usize) -> CoreResult<Vec<String>> {
        let mut ids = fresh_ids(host, first + 2 * events)?;
        let mut reserved = ids.split_off(first);
        reserved.reverse();
        reserved.append(&mut self.ids);
        self.ids = reserved;
        Ok(ids)
    }

    /// Appends one event with a fresh event id and span id; returns the span id (to parent later events on it).
    /// `payload` is canonical JSON text.
    pub fn emit(&mut self, host: &mut dyn Host, event_type: &str, parent_span_id: Option<&str>, payload: String) -> CoreResult<String> {
        if self.ids.len() < 2 {
            self.reserve(host, 1)?;
        }
        let (event_id, span_id) = match (self.ids.pop(), self.ids.pop()) {
            (Some(e), Some(s)) => (e, s),
            _ => return Err(CoreError::internal("no ids reserved")),
        };
        self.push(event_id, span_id.clone(), parent_span_id.map(str::to_string), event_type, payload)?;
        Ok(span_id)
    }

    /// Appends with given ids (replay and restore keep recorded ids).
    pub fn push(
        &mut self,
        event_id: String,
        span_id: String,
        parent_span_id: Option<String>,
        event_type: &str,
        payload: String,
    ) -> CoreResult<()> {
        let ts = self
            .ts_hash
            .as_deref()
            .ok_or_else(|| CoreError::internal("the event timestamp cannot be rendered for hashing"))?;
        let sequence = self.head.next_sequence;
        let event_hash = chain_hash(
            &event_id,
            &self.head.trace_id,
            &span_id,
            parent_span_id.as_deref(),
            &self.head.session_id,
            sequence,
            ts,
            event_type,
            &payload,
            &self.head.head_hash,
        );
        if let Some(tree) = self.head.tree.as_mut() {
            tree.push(leaf_of(&event_hash).ok_or_else(|| CoreError::internal("an event hash is not hex"))?);
        }
        let previous_event_hash = std::mem::replace(&mut self.head.head_hash, event_hash.clone());
        self.head.next_sequence += 1;
        self.events.push(Emitted {
            event_id,
            span_id,
            parent_span_id,
            sequence,
            event_type: event_type.to_string(),
            payload,
            event_hash,
            previous_event_hash,
        });
        Ok(())
    }

    /// Writes the emitted events as a JSON array, each in the schema's field order.
    pub fn write_events(&self, out: &mut JsonOut) {
        out.begin_array();
        for e in &self.events {
            out.begin_object();
            out.key("trace_version").str(TRACE_VERSION);
            out.key("event_id").str(&e.event_id);
            out.key("trace_id").str(&self.head.trace_id);
            out.key("span_id").str(&e.span_id);
            out.key("parent_span_id").opt_str(e.parent_span_id.as_deref());
            out.key("session_id").str(&self.head.session_id);
            out.key("sequence").u64(e.sequence);
            out.key("timestamp").str(&self.timestamp);
            out.key("event_type").str(&e.event_type);
            out.key("payload").raw(&e.payload);
            out.key("event_hash").str(&e.event_hash);
            out.key("previous_event_hash").str(&e.previous_event_hash);
            out.end_object();
        }
        out.end_array();
    }

    /// The emitted events as values (replay compares them with recorded ones).
    pub fn event_values(&self) -> Vec<Value> {
        let mut out = JsonOut::new();
        self.write_events(&mut out);
        match parse_strict(out.as_str().as_bytes()) {
            Ok(Value::Array(items)) => items,
            _ => Vec::new(),
        }
    }

    /// Emitted event `i` as a parsed [`Event`] with its payload given as a map.
    pub fn event(&self, i: usize, payload: Map<String, Value>) -> Option<Event> {
        let e = self.events.get(i)?;
        Some(Event {
            event_id: e.event_id.clone(),
            trace_id: self.head.trace_id.clone(),
            span_id: e.span_id.clone(),
            parent_span_id: e.parent_span_id.clone(),
            session_id: self.head.session_id.clone(),
            sequence: e.sequence,
            timestamp: self.timestamp.clone(),
            event_type: e.event_type.clone(),
            payload,
            event_hash: e.event_hash.clone(),
            previous_event_hash: e.previous_event_hash.clone(),
        })
    }
}
