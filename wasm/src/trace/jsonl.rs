//! JSONL import and export (SPEC §4.2): one event per line, UTF-8, LF, a trailing newline after the last event.
//! Import also takes the reference runtime's exports, which end without that newline (SPEC §9): a last line
//! without LF is accepted when it is a whole JSON object, and refused as a torn write when it is not.

use serde_json::Value;

use crate::error::{CoreError, CoreResult};
use crate::json::parse_strict;

pub fn to_jsonl(events: &[Value]) -> CoreResult<String> {
    let mut out = String::new();
    for (i, e) in events.iter().enumerate() {
        if !e.is_object() {
            return Err(CoreError::invalid(format!("/events/{}", i), "an event must be an object"));
        }
        out.push_str(&e.to_string());
        out.push('\n');
    }
    Ok(out)
}

/// Parses JSONL text. A last line without its newline must be a whole event: a cut one is a torn write and is
/// refused, never silently dropped.
pub fn from_jsonl(text: &str) -> CoreResult<Vec<Value>> {
    let mut events = Vec::new();
    if text.is_empty() {
        return Ok(events);
    }
    let (body, unterminated) = match text.strip_suffix('\n') {
        Some(b) => (b, false),
        None => (text, true),
    };
    let lines = body.split('\n').count();
    for (i, line) in body.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let v = parse_strict(line.as_bytes()).map_err(|e| {
            let torn = if unterminated && i + 1 == lines { " (a torn write: the line has no newline)" } else { "" };
            CoreError::at("invalid_json", "/text", format!("line {}: {}{}", i + 1, e.message, torn))
        })?;
        if !v.is_object() {
            return Err(CoreError::at("invalid_json", "/text", format!("line {}: an event must be a JSON object", i + 1)));
        }
        events.push(v);
    }
    Ok(events)
}
