//! Reading a stored JSONL trace straight into events, for `session.restore` and `trace.verify`.
//!
//! A line this runtime wrote has one shape: the schema's fields in the schema's order, no whitespace, plain
//! strings and a canonical payload. Such a line is read field by field into an [`Event`] — no value tree, no map
//! per object — and its payload is kept as the slice of the line that the hash takes as it is. Any other line
//! (another order, whitespace, escapes, a missing `parent_span_id`, a malformed field, a payload in another
//! spelling) is read the full way, `parse_strict` then `Event::from_json`, which also makes every error the one
//! that way has always given: the direct reading only ever accepts lines the full way accepts identically.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::error::CoreResult;
use crate::ids::{is_hash, is_uuid};
use crate::json::{canonical_end, parse_strict, plain_run};
use crate::time::{hash_rendering, parse_stored};

use super::event::{chain_hash, Event, EVENT_TYPES};
use super::jsonl::{lines, parse_line};

/// One event of a trace, as verification takes it.
pub enum Item<'a> {
    /// A line read directly: its fields, borrowed from the line, and its payload map when it was asked for.
    Read { line: &'a str, event: ReadEvent<'a>, payload: Option<Map<String, Value>> },
    /// A JSON value for `Event::from_json`: an element of `events`, or a line in any other shape.
    Value(Cow<'a, Value>),
}

impl<'a> Item<'a> {
    /// The item as the JSON value it was read from (a line is parsed again: this is for the rare comparisons of
    /// two raw events).
    pub fn value(&self) -> Option<Cow<'_, Value>> {
        match self {
            Item::Read { line, .. } => parse_strict(line.as_bytes()).ok().map(Cow::Owned),
            Item::Value(v) => Some(Cow::Borrowed(v.as_ref())),
        }
    }
}

/// The fields of an event read from its line, checked to their formats; `payload` is the payload's canonical text.
#[derive(Debug, Clone, Copy)]
pub struct ReadEvent<'a> {
    pub event_id: &'a str,
    pub trace_id: &'a str,
    pub span_id: &'a str,
    pub parent_span_id: Option<&'a str>,
    pub session_id: &'a str,
    pub sequence: u64,
    pub timestamp: &'a str,
    pub event_type: &'a str,
    pub payload: &'a str,
    pub event_hash: &'a str,
    pub previous_event_hash: &'a str,
}

impl<'a> ReadEvent<'a> {
    /// The event's hash (SPEC §4.1), the payload taken as written (it is canonical).
    pub fn compute_hash(&self) -> Option<String> {
        let ts = hash_rendering(self.timestamp)?;
        Some(chain_hash(
            self.event_id,
            self.trace_id,
            self.span_id,
            self.parent_span_id,
            self.session_id,
            self.sequence,
            &ts,
            self.event_type,
            self.payload,
            self.previous_event_hash,
        ))
    }

    /// The event as an [`Event`], with `payload` as its payload map.
    pub fn to_event(&self, payload: Map<String, Value>) -> Event {
        Event {
            event_id: self.event_id.to_string(),
            trace_id: self.trace_id.to_string(),
            span_id: self.span_id.to_string(),
            parent_span_id: self.parent_span_id.map(str::to_string),
            session_id: self.session_id.to_string(),
            sequence: self.sequence,
            timestamp: self.timestamp.to_string(),
            event_type: self.event_type.to_string(),
            payload,
            event_hash: self.event_hash.to_string(),
            previous_event_hash: self.previous_event_hash.to_string(),
        }
    }
}

/// The events of JSONL `text` (at input member `path`), read as `read_jsonl` reads them — same lines, same
/// errors — with `payloads` naming the event types whose payload map is wanted.
pub fn read_trace<'a>(text: &'a str, path: &str, payloads: fn(&str) -> bool) -> CoreResult<Vec<Item<'a>>> {
    let mut items = Vec::with_capacity(text.len() / 512 + 1);
    for (i, line) in lines(text, path)? {
        let item = match read_line(line, payloads) {
            Some(item) => item,
            None => Item::Value(Cow::Owned(parse_line(line, i, path)?)),
        };
        items.push(item);
    }
    Ok(items)
}

/// `line` read directly, when it has the shape this runtime writes and every field its format.
fn read_line(line: &str, payloads: fn(&str) -> bool) -> Option<Item<'_>> {
    let mut c = Cursor { line, at: 0 };
    c.word("{\"trace_version\":\"1.0\",\"event_id\":")?;
    let event_id = c.uuid()?;
    c.word(",\"trace_id\":")?;
    let trace_id = c.uuid()?;
    c.word(",\"span_id\":")?;
    let span_id = c.uuid()?;
    c.word(",\"parent_span_id\":")?;
    let parent_span_id = if c.word("null").is_some() { None } else { Some(c.uuid()?) };
    c.word(",\"session_id\":")?;
    let session_id = c.uuid()?;
    c.word(",\"sequence\":")?;
    let sequence = c.sequence()?;
    c.word(",\"timestamp\":")?;
    let timestamp = c.plain()?;
    parse_stored(timestamp)?;
    c.word(",\"event_type\":")?;
    let event_type = c.plain()?;
    if !EVENT_TYPES.contains(&event_type) {
        return None;
    }
    c.word(",\"payload\":")?;
    if !line.get(c.at..)?.starts_with('{') {
        return None;
    }
    // The payload sits inside the event's object.
    let end = canonical_end(line, c.at, 1)?;
    let payload = line.get(c.at..end)?;
    c.at = end;
    c.word(",\"event_hash\":")?;
    let event_hash = c.hash()?;
    c.word(",\"previous_event_hash\":")?;
    let previous_event_hash = c.hash()?;
    c.word("}")?;
    if c.at != line.len() {
        return None;
    }
    let payload_map = if payloads(event_type) {
        match parse_strict(payload.as_bytes()) {
            Ok(Value::Object(m)) => Some(m),
            _ => return None,
        }
    } else {
        None
    };
    let event = ReadEvent {
        event_id,
        trace_id,
        span_id,
        parent_span_id,
        session_id,
        sequence,
        timestamp,
        event_type,
        payload,
        event_hash,
        previous_event_hash,
    };
    Some(Item::Read { line, event, payload: payload_map })
}

struct Cursor<'a> {
    line: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn word(&mut self, w: &str) -> Option<()> {
        if self.line.get(self.at..)?.starts_with(w) {
            self.at += w.len();
            Some(())
        } else {
            None
        }
    }

    /// A string without escapes or control characters: its text is its value.
    fn plain(&mut self) -> Option<&'a str> {
        self.word("\"")?;
        let rest = self.line.as_bytes().get(self.at..)?;
        let n = plain_run(rest);
        if rest.get(n) != Some(&b'"') {
            return None;
        }
        let s = self.line.get(self.at..self.at + n)?;
        self.at += n + 1;
        Some(s)
    }

    fn uuid(&mut self) -> Option<&'a str> {
        self.plain().filter(|s| is_uuid(s))
    }

    fn hash(&mut self) -> Option<&'a str> {
        self.plain().filter(|s| is_hash(s))
    }

    /// `0` or `[1-9][0-9]*` within `u64` (the full reading makes anything else a float or an error).
    fn sequence(&mut self) -> Option<u64> {
        let rest = self.line.as_bytes().get(self.at..)?;
        let n = rest.iter().position(|b| !b.is_ascii_digit()).unwrap_or(rest.len());
        let digits = self.line.get(self.at..self.at + n)?;
        if n == 0 || (n > 1 && digits.starts_with('0')) {
            return None;
        }
        let v = digits.parse::<u64>().ok()?;
        self.at += n;
        Some(v)
    }
}
