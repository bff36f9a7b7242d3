//! Appending to a session's chain. The core keeps only each chain's head; emitted events go back to the host.
//! An [`Emitter`] works on a copy of the head and is committed only when the whole operation succeeded, so a
//! failing operation leaves the chain untouched.

use serde_json::{Map, Value};

use crate::error::{CoreError, CoreResult};
use crate::host::{fresh_id, Host};

use super::event::{Event, GENESIS_HASH};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub session_id: String,
    pub trace_id: String,
    /// Sequence number of the next event (= number of events so far).
    pub next_sequence: u64,
    pub head_hash: String,
}

impl ChainHead {
    pub fn new(session_id: String, trace_id: String) -> Self {
        ChainHead { session_id, trace_id, next_sequence: 0, head_hash: GENESIS_HASH.to_string() }
    }
}

pub struct Emitter {
    pub head: ChainHead,
    pub timestamp: String,
    pub events: Vec<Event>,
}

impl Emitter {
    pub fn new(head: &ChainHead, timestamp: String) -> Self {
        Emitter { head: head.clone(), timestamp, events: Vec::new() }
    }

    /// Appends one event with a fresh event id and span id; returns the span id (to parent later events on it).
    pub fn emit(
        &mut self,
        host: &mut dyn Host,
        event_type: &str,
        parent_span_id: Option<&str>,
        payload: Map<String, Value>,
    ) -> CoreResult<String> {
        let event_id = fresh_id(host)?;
        let span_id = fresh_id(host)?;
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
        payload: Map<String, Value>,
    ) -> CoreResult<()> {
        let mut e = Event {
            event_id,
            trace_id: self.head.trace_id.clone(),
            span_id,
            parent_span_id,
            session_id: self.head.session_id.clone(),
            sequence: self.head.next_sequence,
            timestamp: self.timestamp.clone(),
            event_type: event_type.to_string(),
            payload,
            event_hash: String::new(),
            previous_event_hash: self.head.head_hash.clone(),
        };
        e.event_hash = e
            .compute_hash()
            .ok_or_else(|| CoreError::new("internal", "the event timestamp cannot be rendered for hashing"))?;
        self.head.next_sequence += 1;
        self.head.head_hash = e.event_hash.clone();
        self.events.push(e);
        Ok(())
    }

    /// The emitted events as JSON (the emitter is spent: take the head first).
    pub fn into_events_json(self) -> Value {
        Value::Array(self.events.into_iter().map(Event::into_json).collect())
    }
}
