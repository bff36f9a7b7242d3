//! JSONL import and export (SPEC §4.2): one event per line, UTF-8, LF, a trailing newline after the last event.
//! Import refuses a last line without its newline, even when it parses: a store writes a line and its newline
//! together, so a missing newline means the write did not complete (a torn write), and an event whose write did
//! not complete is not read. The TypeScript JSONL store applies the same rule to its files. (The reference
//! runtime's exports end without that newline, SPEC §9: append one before importing them.)

use serde_json::Value;

use crate::error::{CoreError, CoreResult, ErrorCode};
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

/// Parses JSONL text: every line, the last one included, ends with LF (a CR before it is tolerated). A last line
/// without its newline is a torn write and is refused, never read and never silently dropped.
pub fn from_jsonl(text: &str) -> CoreResult<Vec<Value>> {
    read_jsonl(text, "/text", true)
}

/// [`from_jsonl`] of the text at input member `path` (errors name it, with the line number in the message). With
/// `objects_only` false, a line that is JSON but no object is kept, for a verifier to refuse as the event it is.
pub fn read_jsonl(text: &str, path: &str, objects_only: bool) -> CoreResult<Vec<Value>> {
    let mut events = Vec::new();
    for (i, line) in lines(text, path)? {
        let v = parse_line(line, i, path)?;
        if objects_only && !v.is_object() {
            return Err(line_error(path, i, "an event must be a JSON object"));
        }
        events.push(v);
    }
    Ok(events)
}

/// The lines of JSONL text with their index (from 0), a CR before each LF removed; a torn last line is refused.
pub(crate) fn lines<'a>(text: &'a str, path: &str) -> CoreResult<impl Iterator<Item = (usize, &'a str)>> {
    let body = if text.is_empty() {
        None
    } else {
        match text.strip_suffix('\n') {
            Some(b) => Some(b),
            None => return Err(line_error(path, text.split('\n').count() - 1, "incomplete (no trailing newline): a torn write")),
        }
    };
    Ok(body.into_iter().flat_map(|b| b.split('\n')).map(|line| line.strip_suffix('\r').unwrap_or(line)).enumerate())
}

/// Line `i` (from 0) parsed strictly.
pub(crate) fn parse_line(line: &str, i: usize, path: &str) -> CoreResult<Value> {
    parse_strict(line.as_bytes()).map_err(|e| line_error(path, i, &e.message))
}

/// An `invalid_json` error about line `i` (from 0; messages count from 1).
fn line_error(path: &str, i: usize, message: &str) -> CoreError {
    CoreError::at(ErrorCode::InvalidJson, path, format!("line {}: {}", i + 1, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unterminated_last_line_is_refused_even_when_it_parses() {
        assert_eq!(from_jsonl("{\"a\":1}\n{\"b\":2}\n").map(|e| e.len()), Ok(2));
        for text in ["{\"a\":1}\n{\"b\":2}", "{\"a\":1}\n{\"b\":", "{\"a\":1}", "{\"a\":1}\r"] {
            let e = from_jsonl(text).expect_err(text);
            assert_eq!(e.code, ErrorCode::InvalidJson);
            assert_eq!(e.path.as_deref(), Some("/text"));
            let line = text.split('\n').count();
            assert!(e.message.starts_with(&format!("line {}: ", line)), "{}", e.message);
            assert!(e.message.contains("no trailing newline"), "{}", e.message);
        }
        assert_eq!(from_jsonl(""), Ok(Vec::new()));
        assert_eq!(from_jsonl("{}\r\n").map(|e| e.len()), Ok(1));
    }
}
