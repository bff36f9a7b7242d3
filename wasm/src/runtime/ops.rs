//! Operation dispatch: op name → handler, plus the small stateless operations (trace tools, canonical hash,
//! configuration, stats).

use crate::obj;
use serde_json::Value;

use crate::error::{CoreError, CoreResult};
use crate::host::Host;
use crate::input::{as_object, Obj};
use crate::json::{canonical, sha256_hex, JsonOut};
use crate::time::Micros;
use crate::trace::diff::diff;
use crate::trace::jsonl::{from_jsonl, to_jsonl};
use crate::trace::{verify, Head};

use super::Runtime;

const CODE: &str = "invalid_request";

/// Runs one operation; answers the JSON text of its result.
pub fn dispatch(rt: &mut Runtime, op: &str, input: &Value, now: Micros, host: &mut dyn Host) -> CoreResult<String> {
    let o = as_object(input, "", CODE)?;
    let v = |r: CoreResult<Value>| r.map(|v| JsonOut::of_value(&v));
    match op {
        "runtime.configure" => v(configure(rt, o)),
        "runtime.stats" => v(Ok(obj!(
            "atlases": rt.atlases.len(),
            "sessions": rt.sessions.len(),
            "memory_bytes": memory_bytes(),
        ))),
        "atlas.validate" => v(rt.validate_atlas(o, now, host)),
        "atlas.load" => rt.load_atlas(o, now, host),
        "atlas.unload" => v(rt.unload_atlas(o)),
        "atlas.list" => v(Ok(rt.list_atlases())),
        "atlas.get" => v(rt.get_atlas(o)),
        "session.create" => rt.create_session(o, now, host),
        "session.get" => v(rt.get_session(o)),
        "session.list" => v(Ok(obj!("sessions": rt.session_order.iter().filter_map(|id| rt.sessions.get(id)).map(|s| s.to_json()).collect::<Vec<_>>()))),
        "session.end" => rt.end_session(o, now, host),
        "session.restore" => v(rt.restore(o, host)),
        "session.forget" => v(rt.forget_session(o)),
        "session.check" => v(rt.check_json(o, now, host)),
        "session.resolve" => rt.resolve_op(o, now, host, true),
        "carp.request" => rt.resolve_op(o, now, host, false),
        "action.handle" => {
            let id = o.req_str("action_id", CODE)?;
            if !crate::ids::is_action_id(id) {
                return Err(o.err(CODE, "action_id", format!("`{}` is not an action id", id)));
            }
            v(Ok(obj!("handle": rt.actions.intern(id))))
        }
        "action.get" => v(rt.get_execution(o)),
        "action.request" => rt.request_action(o, now, host),
        "action.approve" => rt.approve_action(o, now, host),
        "action.deny" => rt.deny_action(o, now, host),
        "action.complete" => rt.complete_action(o, now, host, true),
        "action.fail" => rt.complete_action(o, now, host, false),
        "trace.append" => rt.append(o, now, host),
        "trace.verify" => {
            o.deny_unknown(&["events", "expected_head"], CODE)?;
            let events = events_of(o, "events")?;
            let head = expected_head(o)?;
            v(Ok(verify(events, head.as_ref()).0.to_json()))
        }
        "trace.diff" => {
            o.deny_unknown(&["a", "b"], CODE)?;
            let d = diff(events_of(o, "a")?, events_of(o, "b")?);
            v(Ok(obj!("identical": d.is_empty(), "differences": d.iter().map(|x| x.to_json()).collect::<Vec<_>>())))
        }
        "trace.replay" => v(rt.replay(o, host)),
        "trace.from_jsonl" => v(Ok(obj!("events": from_jsonl(o.req_str("text", CODE)?)?))),
        "trace.to_jsonl" => v(Ok(obj!("text": to_jsonl(events_of(o, "events")?)?))),
        "canonical.hash" => {
            let value = o.get("value").ok_or_else(|| o.err(CODE, "value", "`value` is required"))?;
            let c = canonical(value);
            let h = sha256_hex(c.as_bytes());
            v(Ok(obj!("canonical": c, "sha256": h)))
        }
        _ => Err(CoreError::new("unknown_operation", format!("no operation `{}`", op))),
    }
}

pub fn events_of<'a>(o: Obj<'a>, key: &str) -> CoreResult<&'a [Value]> {
    match o.opt_array(key, CODE)? {
        Some(a) => Ok(a.as_slice()),
        None => Err(o.err(CODE, key, format!("`{}` is required (an array of events)", key))),
    }
}

pub fn expected_head(o: Obj) -> CoreResult<Option<Head>> {
    let m = match o.opt_object("expected_head", CODE)? {
        Some(m) => m,
        None => return Ok(None),
    };
    let path = o.field_path("expected_head");
    let h = Obj { map: m, path: &path };
    let length = h.opt_int("length", 0, i64::MAX, CODE)?.ok_or_else(|| h.err(CODE, "length", "`length` is required"))?;
    let head_hash = h.req_str("head_hash", CODE)?;
    if !crate::ids::is_hash(head_hash) {
        return Err(h.err(CODE, "head_hash", "`head_hash` must be 64 lowercase hex digits"));
    }
    Ok(Some(Head { length: length as usize, head_hash: head_hash.to_string() }))
}

fn configure(rt: &mut Runtime, o: Obj) -> CoreResult<Value> {
    o.deny_unknown(&["default_decision", "max_context_tokens", "clock_skew_seconds", "default_ttl_seconds"], CODE)?;
    let mut c = rt.config.clone();
    match o.opt_str("default_decision", CODE)? {
        Some("deny") => c.default_allow = false,
        Some("allow") => c.default_allow = true,
        Some(other) => return Err(o.err(CODE, "default_decision", format!("`{}` is not deny or allow", other))),
        None => {}
    }
    if let Some(n) = o.opt_int("max_context_tokens", 0, i64::MAX, CODE)? {
        c.max_context_tokens = n as u64;
    }
    if let Some(n) = o.opt_int("clock_skew_seconds", 0, 31_536_000, CODE)? {
        c.clock_skew_seconds = n as u64;
    }
    if let Some(n) = o.opt_int("default_ttl_seconds", 0, 86_400, CODE)? {
        c.default_ttl_seconds = n as u64;
    }
    rt.config = c;
    Ok(rt.config.to_json())
}

#[cfg(target_arch = "wasm32")]
fn memory_bytes() -> u64 {
    core::arch::wasm32::memory_size(0) as u64 * 65_536
}

#[cfg(not(target_arch = "wasm32"))]
fn memory_bytes() -> u64 {
    0
}
