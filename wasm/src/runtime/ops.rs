//! Operation dispatch: op name → handler, one table (the names are `wasm/abi.json`'s, checked by
//! `tests/abi_contract.rs`), plus the small stateless operations (trace tools, canonical hash, configuration,
//! stats).

use crate::obj;
use std::borrow::Cow;

use serde_json::Value;

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::host::Host;
use crate::input::{as_object, Obj};
use crate::json::{canonical, sha256_hex, JsonOut};
use crate::time::Micros;
use crate::trace::diff::diff;
use crate::trace::jsonl::{from_jsonl, to_jsonl};
use crate::atlas::LimitScope;
use crate::trace::{contains_head_at, read_trace, verify_items, Head, Item};

use crate::proof::ops as proof;

use super::Runtime;

const CODE: ErrorCode = ErrorCode::InvalidRequest;

/// An operation: the runtime, the input object, the host time and the host; answers the JSON text of its result.
type Handler = fn(&mut Runtime, Obj, Micros, &mut dyn Host) -> CoreResult<String>;

/// Declares the operations from one list: [`OPERATIONS`] (their names) and the table [`dispatch`] looks them up
/// in, so that an op name is dispatched if and only if it is listed.
macro_rules! operations {
    ($($name:literal => $handler:expr,)*) => {
        /// Every operation name of `cra_call`, in the order of `wasm/abi.json` (`operations`).
        pub const OPERATIONS: &[&str] = &[$($name,)*];
        const TABLE: &[(&str, Handler)] = &[$(($name, $handler),)*];
    };
}

operations! {
    "runtime.configure" => |rt, o, _, _| json(configure(rt, o)),
    "runtime.stats" => |rt, _, _, _| {
        let stats = obj!(
            "atlases": rt.atlases.len(),
            "sessions": rt.sessions.len(),
            "action_handles": rt.actions.len(),
            "memory_bytes": memory_bytes(),
            "shared_window_seconds": shared_window_seconds(rt),
        );
        json(Ok(stats))
    },
    "atlas.validate" => |rt, o, now, host| json(rt.validate_atlas(o, now, host)),
    "atlas.load" => |rt, o, now, host| rt.load_atlas(o, now, host),
    "atlas.unload" => |rt, o, _, _| json(rt.unload_atlas(o)),
    "atlas.list" => |rt, _, _, _| json(Ok(rt.list_atlases())),
    "atlas.get" => |rt, o, _, _| json(rt.get_atlas(o)),
    "session.create" => |rt, o, now, host| rt.create_session(o, now, host),
    "session.get" => |rt, o, _, _| json(rt.get_session(o)),
    "session.list" => |rt, _, _, _| {
        let list: Vec<Value> = rt.session_order.iter().filter_map(|id| rt.sessions.get(id)).map(|s| s.to_json()).collect();
        json(Ok(obj!("sessions": list)))
    },
    "session.end" => |rt, o, now, host| rt.end_session(o, now, host),
    "session.restore" => |rt, o, _, host| json(rt.restore(o, host)),
    "session.forget" => |rt, o, _, _| json(rt.forget_session(o)),
    "session.check" => |rt, o, now, host| json(rt.check_json(o, now, host)),
    "carp.request" => |rt, o, now, host| rt.resolve_op(o, now, host, false),
    "session.resolve" => |rt, o, now, host| rt.resolve_op(o, now, host, true),
    "action.handle" => |rt, o, _, _| {
        let id = o.req_str("action_id", CODE)?;
        if !crate::ids::is_action_id(id) {
            return Err(o.err(CODE, "action_id", format!("`{}` is not an action id", id)));
        }
        // Looked up, never interned: ids are interned when an atlas declaring them loads, so that no caller can
        // grow the table one made-up id at a time. 0 (no handle) answers `unknown_action` in `cra_check`.
        json(Ok(obj!("handle": rt.actions.get(id).unwrap_or(0))))
    },
    "action.get" => |rt, o, _, _| json(rt.get_execution(o)),
    "action.request" => |rt, o, now, host| rt.request_action(o, now, host),
    "action.approve" => |rt, o, now, host| rt.approve_action(o, now, host),
    "action.deny" => |rt, o, now, host| rt.deny_action(o, now, host),
    "action.complete" => |rt, o, now, host| rt.complete_action(o, now, host, true),
    "action.fail" => |rt, o, now, host| rt.complete_action(o, now, host, false),
    "trace.append" => |rt, o, now, host| rt.append(o, now, host),
    "trace.verify" => |_, o, _, _| {
        o.deny_unknown(&["events", "jsonl", "expected_head", "synced_head"], CODE)?;
        let events = trace_of(o, |_| false)?;
        let head = expected_head(o)?;
        let synced = head_field(o, "synced_head")?;
        let at = synced.as_ref().and_then(|h| h.length.checked_sub(1));
        let checked = verify_items(events, head.as_ref(), false, at);
        json(Ok(contains_head_at(checked.verdict, checked.length, checked.hash_at.as_deref(), synced.as_ref()).to_json()))
    },
    "trace.diff" => |_, o, _, _| {
        o.deny_unknown(&["a", "b"], CODE)?;
        let d = diff(events_of(o, "a")?, events_of(o, "b")?);
        json(Ok(obj!("identical": d.is_empty(), "differences": d.iter().map(|x| x.to_json()).collect::<Vec<_>>())))
    },
    "trace.replay" => |rt, o, _, host| json(rt.replay(o, host)),
    "trace.from_jsonl" => |_, o, _, _| json(Ok(obj!("events": from_jsonl(o.req_str("text", CODE)?)?))),
    "trace.to_jsonl" => |_, o, _, _| json(Ok(obj!("text": to_jsonl(events_of(o, "events")?)?))),
    "session.checkpoint" => |rt, o, now, _| json(rt.checkpoint_body(o, now)),
    "checkpoint.body" => |_, o, now, _| json(proof::body(o, now)),
    "checkpoint.open" => |_, o, _, _| json(proof::open(o)),
    "checkpoint.sign" => |_, o, _, _| json(proof::sign(o)),
    "key.parse" => |_, o, _, _| json(proof::parse_key(o)),
    "key.format" => |_, o, _, _| json(proof::format_key(o)),
    "trace.tree" => |_, o, _, _| json(proof::tree(o)),
    "trace.sync" => |_, o, _, _| json(crate::proof::sync::sync(o)),
    "proof.inclusion" => |_, o, _, _| json(proof::inclusion(o)),
    "proof.consistency" => |_, o, _, _| json(proof::consistency(o)),
    "proof.verify" => |_, o, _, _| json(proof::verify(o)),
    "receipt.build" => |_, o, _, _| json(proof::build_receipt(o)),
    "receipt.verify" => |_, o, _, _| json(proof::verify_receipt(o)),
    "canonical.hash" => |_, o, _, _| {
        let value = o.get("value").ok_or_else(|| o.err(CODE, "value", "`value` is required"))?;
        let c = canonical(value);
        let h = sha256_hex(c.as_bytes());
        json(Ok(obj!("canonical": c, "sha256": h)))
    },
}

/// Runs one operation; answers the JSON text of its result.
pub fn dispatch(rt: &mut Runtime, op: &str, input: &Value, now: Micros, host: &mut dyn Host) -> CoreResult<String> {
    let o = as_object(input, "", CODE)?;
    match TABLE.iter().find(|(name, _)| *name == op) {
        Some((_, handler)) => handler(rt, o, now, host),
        None => Err(CoreError::new(ErrorCode::UnknownOperation, format!("no operation `{}`", op))),
    }
}

/// The JSON text of a result built as a value.
fn json(r: CoreResult<Value>) -> CoreResult<String> {
    r.map(|v| JsonOut::of_value(&v))
}

pub fn events_of<'a>(o: Obj<'a>, key: &str) -> CoreResult<&'a [Value]> {
    match o.opt_array(key, CODE)? {
        Some(a) => Ok(a.as_slice()),
        None => Err(o.err(CODE, key, format!("`{}` is required (an array of events)", key))),
    }
}

/// The trace of `session.restore` and `trace.verify`: `events` (an array), or `jsonl` (the same events as JSONL
/// text, read as `trace.from_jsonl` reads it; one parse of one string is cheaper for a host than building an array
/// of a thousand objects). Exactly one of them. Event `i` is `/events/<i>` in later errors either way. Lines are
/// read directly into events where they can be ([`read_trace`]); `payloads` names the event types whose payload
/// the caller reads.
pub fn trace_of(o: Obj, payloads: fn(&str) -> bool) -> CoreResult<Vec<Item>> {
    match (o.get("events"), o.opt_str("jsonl", CODE)?) {
        (Some(_), None) => Ok(events_of(o, "events")?.iter().map(|v| Item::Value(Cow::Borrowed(v))).collect()),
        (None, Some(text)) => read_trace(text, &o.field_path("jsonl"), payloads),
        (Some(_), Some(_)) => Err(o.err(CODE, "events", "give the trace once: `events` or `jsonl`, not both")),
        (None, None) => Err(o.err(CODE, "events", "`events` (an array of events) or `jsonl` (their JSONL text) is required")),
    }
}

/// `expected_head`: the head the chain must end in exactly.
pub fn expected_head(o: Obj) -> CoreResult<Option<Head>> {
    head_field(o, "expected_head")
}

/// A chain head `{length, head_hash}` at `key`.
pub fn head_field(o: Obj, key: &str) -> CoreResult<Option<Head>> {
    let m = match o.opt_object(key, CODE)? {
        Some(m) => m,
        None => return Ok(None),
    };
    let path = o.field_path(key);
    let h = Obj::new(m, &path);
    let length = h.opt_int("length", 0, i64::MAX, CODE)?.ok_or_else(|| h.err(CODE, "length", "`length` is required"))?;
    let head_hash = h.req_str("head_hash", CODE)?;
    if !crate::ids::is_hash(head_hash) {
        return Err(h.err(CODE, "head_hash", "`head_hash` must be 64 lowercase hex digits"));
    }
    Ok(Some(Head { length: length as usize, head_hash: head_hash.to_string() }))
}

/// The longest window of a loaded rate limit shared across sessions (scope `agent` or `global`): how far back a
/// host must bring the approvals of sessions that left the core into a fresh one (0 when no such limit is loaded).
fn shared_window_seconds(rt: &Runtime) -> u64 {
    rt.atlases
        .iter()
        .filter(|a| !a.unloaded.get())
        .flat_map(|a| a.policies.iter())
        .filter_map(|p| p.rate.as_ref())
        .filter(|r| r.scope != LimitScope::Session)
        .map(|r| r.window_seconds)
        .max()
        .unwrap_or(0)
}

fn configure(rt: &mut Runtime, o: Obj) -> CoreResult<Value> {
    o.deny_unknown(&["default_decision", "max_context_tokens", "clock_skew_seconds", "default_ttl_seconds", "merkle_trees"], CODE)?;
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
    if let Some(b) = o.opt_bool("merkle_trees", CODE)? {
        c.merkle_trees = b;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::CountingHost;

    #[test]
    fn every_listed_operation_is_dispatched_and_nothing_else() {
        let mut rt = Runtime::new();
        let mut host = CountingHost::new(1);
        for op in OPERATIONS {
            // `{}` is invalid input for most of them: what matters is that the name is known.
            if let Err(e) = dispatch(&mut rt, op, &Value::Object(Default::default()), 0, &mut host) {
                assert_ne!(e.code, ErrorCode::UnknownOperation, "{} is listed but not dispatched", op);
            }
        }
        for op in ["session.create ", "Session.create", "action.list", "", "trace"] {
            let e = dispatch(&mut rt, op, &Value::Object(Default::default()), 0, &mut host).expect_err(op);
            assert_eq!(e.code, ErrorCode::UnknownOperation, "{:?}", op);
        }
        assert_eq!(OPERATIONS.len(), TABLE.len());
        for (i, op) in OPERATIONS.iter().enumerate() {
            assert!(!OPERATIONS.iter().skip(i + 1).any(|x| x == op), "{} is listed twice", op);
        }
    }
}
