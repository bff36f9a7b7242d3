//! Session operations: create, get, end, forget; resolve (and the CARP request dispatcher); the action
//! lifecycle; host-appended events; and the check behind `cra_check`.

use crate::obj;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::carp::execute::{self, ActionInput, Approval, Change, ExecutionOutcome};
use crate::carp::ledger::{Ledger, Who};
use crate::carp::policy::{PolicyResult, Verdict};
use crate::carp::refusal;
use crate::carp::request::read_execution;
use crate::carp::resolve::{compute, recorded_map, Env, Resolution};
use crate::carp::{parse_request, Execution, Operation, Request, Session};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::host::{fresh_id, Host};
use crate::input::{as_object, payload_safe_map, Obj};
use crate::json::{pointer_push, write_canonical_map, JsonOut, Payload};
use crate::time::Micros;
use crate::trace::{ChainHead, Emitter};

use super::{timestamp, Runtime};

const CODE: ErrorCode = ErrorCode::InvalidRequest;
const END_REASONS: &[&str] = &["completed", "timeout", "error", "cancelled"];
/// Longest owner (in characters) `session.create` accepts.
pub(super) const MAX_OWNER: usize = 200;
/// Most events one `trace.append` batch may hold.
const MAX_APPEND: usize = 1000;
/// Event types the host may append itself, with the payload members each requires (present and not null);
/// everything else is emitted by the runtime's own operations. `emitted_by: host` in `wasm/abi.json`.
pub const HOST_EVENTS: &[(&str, &[&str])] = &[
    ("error.occurred", &["code", "message"]),
    ("context.redacted", &["block_id", "redaction_reason"]),
    ("carp.resolution.cached", &["resolution_id", "cache_hit"]),
];

impl Runtime {
    fn live(&self, o: Obj, key: &str) -> CoreResult<&Session> {
        let id = o.req_uuid(key, CODE)?;
        self.sessions
            .get(&id)
            .ok_or_else(|| CoreError::at(ErrorCode::SessionNotFound, o.field_path(key), format!("no session {}", id)))
    }

    pub(super) fn insert_session(&mut self, mut s: Session) -> u32 {
        let handle = self.next_session_handle;
        self.next_session_handle = self.next_session_handle.wrapping_add(1).max(1);
        s.handle = handle;
        self.ledger.bind(&s.session_id, s.ledger_owner());
        self.session_handles.insert(handle, s.session_id.clone());
        self.session_order.push(s.session_id.clone());
        self.sessions.insert(s.session_id.clone(), s);
        handle
    }

    pub fn create_session(&mut self, o: Obj, now: Micros, host: &mut dyn Host) -> CoreResult<String> {
        let (handle, em) = self.start_session(o, now, host)?;
        let s = self.sessions.get(&em.head.session_id).ok_or_else(|| CoreError::internal("session vanished"))?;
        let mut out = JsonOut::with_capacity(1024);
        out.begin_object();
        out.key("session").value(&s.to_json());
        out.key("handle").u64(handle as u64);
        out.key("last_resolution_id").opt_str(s.current.as_deref());
        out.key("events");
        em.write_events(&mut out);
        out.end_object();
        Ok(out.into_string())
    }

    /// Creates a session and emits its `session.started`; answers its handle and the emitter.
    pub(super) fn start_session(&mut self, o: Obj, now: Micros, host: &mut dyn Host) -> CoreResult<(u32, Emitter)> {
        o.deny_unknown(&["agent_id", "goal", "session_id", "parent_session_id", "metadata", "owner"], CODE)?;
        let agent_id = o.req_text("agent_id", 1, 255, CODE)?.to_string();
        let owner = o.opt_text("owner", 1, MAX_OWNER, CODE)?.map(str::to_string);
        let goal = o.req_text("goal", 1, 10_000, CODE)?.to_string();
        let requested = o.opt_uuid("session_id", CODE)?;
        let parent = o.opt_uuid("parent_session_id", CODE)?;
        let metadata = o.opt_object("metadata", CODE)?.cloned();
        if let Some(id) = &requested {
            if self.sessions.contains_key(id) {
                return Err(o.err(ErrorCode::SessionExists, "session_id", format!("session {} exists", id)));
            }
        }
        let session_id = match requested {
            Some(id) => id,
            None => fresh_id(host)?,
        };
        let trace_id = fresh_id(host)?;
        let mut s = new_session(session_id, agent_id, owner, goal, parent, metadata, trace_id, now);
        if self.config.merkle_trees {
            s.chain.tree = Some(crate::proof::merkle::Frontier::new());
        }
        let mut em = Emitter::new(&s.chain, timestamp(now)?);
        s.root_span = em.emit(host, "session.started", None, started_payload(&s))?;
        s.chain = em.head.clone();
        let handle = self.insert_session(s);
        Ok((handle, em))
    }

    pub fn get_session(&self, o: Obj) -> CoreResult<Value> {
        let s = self.live(o, "session_id")?;
        Ok(obj!("session": s.to_json(), "handle": &s.handle, "last_resolution_id": &s.current))
    }

    /// `session.checkpoint`: the checkpoint body of a session's log as it stands (its tree is kept with its chain
    /// head, so no trace is read), for the host to sign; `name` is the log name of its origin line.
    pub fn checkpoint_body(&self, o: Obj, now: Micros) -> CoreResult<Value> {
        o.deny_unknown(&["session_id", "name"], CODE)?;
        let s = self.live(o, "session_id")?;
        let name = o.req_str("name", CODE)?;
        if !crate::proof::keys::valid_name(name) {
            return Err(o.err(CODE, "name", "a log name is 1 to 128 printable ASCII characters, without + or spaces"));
        }
        let tree = s.chain.tree.as_ref().ok_or_else(|| {
            CoreError::new(ErrorCode::InvalidState, "this core keeps no Merkle tree of its sessions: configure `merkle_trees: true` before they start")
        })?;
        let c = crate::proof::note::Checkpoint {
            origin: crate::proof::note::origin_of(name, &s.session_id),
            size: tree.size(),
            root: tree.root(),
            time: Some(timestamp(now)?),
        };
        Ok(obj!(
            "session_id": &s.session_id,
            "size": c.size,
            "root": crate::proof::tree::hex(&c.root),
            "head_hash": &s.chain.head_hash,
            "time": c.time.as_deref(),
            "body": c.body(),
        ))
    }

    /// One execution of a session as it stands now (what an approval waiting elsewhere reads once decided).
    pub fn get_execution(&self, o: Obj) -> CoreResult<Value> {
        o.deny_unknown(&["session_id", "execution_id"], CODE)?;
        let s = self.live(o, "session_id")?;
        let id = o.req_uuid("execution_id", CODE)?;
        let exec = s.executions.get(&id).ok_or_else(|| {
            CoreError::at(ErrorCode::ExecutionNotFound, o.field_path("execution_id"), format!("no execution {} in this session", id))
        })?;
        Ok(obj!("execution": exec.to_json(&s.session_id)))
    }

    pub fn end_session(&mut self, o: Obj, now: Micros, host: &mut dyn Host) -> CoreResult<String> {
        let em = self.finish_session(o, now, host)?;
        let s = self.sessions.get(&em.head.session_id).ok_or_else(|| CoreError::internal("session vanished"))?;
        let mut out = JsonOut::with_capacity(1024);
        out.begin_object();
        out.key("session").value(&s.to_json());
        out.key("events");
        em.write_events(&mut out);
        out.end_object();
        Ok(out.into_string())
    }

    /// Ends a session with its `session.ended`; answers the emitter.
    pub(super) fn finish_session(&mut self, o: Obj, now: Micros, host: &mut dyn Host) -> CoreResult<Emitter> {
        o.deny_unknown(&["session_id", "reason"], CODE)?;
        let reason = o.opt_str("reason", CODE)?.unwrap_or("completed");
        if !END_REASONS.contains(&reason) {
            return Err(o.err(CODE, "reason", format!("`{}` is not an end reason (completed, timeout, error, cancelled)", reason)));
        }
        let s = self.live(o, "session_id")?;
        execute::active(s)?;
        let mut em = Emitter::new(&s.chain, timestamp(now)?);
        let p = Payload::new().str("reason", reason).i64("duration_ms", now.saturating_sub(s.created_at).max(0) / 1000);
        em.emit(host, "session.ended", Some(&s.root_span.clone()), p.finish())?;
        let id = s.session_id.clone();
        let s = self.sessions.get_mut(&id).ok_or_else(|| CoreError::internal("session vanished"))?;
        s.chain = em.head.clone();
        s.ended = true;
        s.ended_at = Some(now);
        Ok(em)
    }

    pub fn forget_session(&mut self, o: Obj) -> CoreResult<Value> {
        let id = self.live(o, "session_id")?.session_id.clone();
        if let Some(s) = self.sessions.remove(&id) {
            self.session_handles.remove(&s.handle);
            self.session_order.retain(|x| x != &id);
            self.ledger.forget_session(&id);
        }
        Ok(obj!("session_id": id))
    }

    /// `session.check`: the answer of `cra_check`, by ids; an `unknown_action` answer names the closest known ids
    /// as an `unknown_action` refusal of `action.request` does.
    pub fn check_json(&self, o: Obj, now: Micros, host: &mut dyn Host) -> CoreResult<Value> {
        let s = self.live(o, "session_id")?;
        let action_id = o.req_str("action_id", CODE)?;
        let code = self.check_session(s, self.actions.get(action_id).unwrap_or(0), now, host);
        if code != CheckCode::UnknownAction {
            return Ok(obj!("result": check_name(code.code()), "code": code.code()));
        }
        let closest = self.unknown_action(action_id).unwrap_or_default();
        Ok(obj!("result": check_name(code.code()), "code": code.code(), "action_id": action_id, "closest": closest))
    }

    /// The check of one live session: a handle that names no action (0: an id no loaded atlas declares), or an
    /// action that no loaded atlas declares any more (its atlas was unloaded; handles are never reused), is
    /// `unknown_action` once the session is active and resolved, as `action.request` refuses it.
    pub(super) fn check_session(&self, s: &Session, action_handle: u32, now: Micros, host: &mut dyn Host) -> CheckCode {
        let declared = || self.actions.name(action_handle).map_or(false, |name| self.declares(name));
        check_code(s, action_handle, &self.ledger, now, host, declared)
    }

    /// True when a loaded atlas declares `action_id`.
    fn declares(&self, action_id: &str) -> bool {
        self.atlases.iter().any(|a| a.action_index.contains_key(action_id))
    }

    /// `session.resolve` (resolve only) and `carp.request` (any operation).
    pub fn resolve_op(&mut self, o: Obj, now: Micros, host: &mut dyn Host, resolve_only: bool) -> CoreResult<String> {
        if resolve_only {
            o.deny_unknown(&["request", "compact_actions"], CODE)?;
        } else {
            o.deny_unknown(&["request", "schema_errors", "compact_actions"], CODE)?;
        }
        let compact = o.opt_bool("compact_actions", CODE)?.unwrap_or(false);
        let raw = o.get("request").ok_or_else(|| o.err(CODE, "request", "`request` is required"))?;
        let req = parse_request(raw, "/request", host)?;
        if resolve_only && req.operation != Operation::Resolve {
            return Err(CoreError::invalid("/request/operation", "session.resolve takes resolve requests; use carp.request"));
        }
        self.admit(&req, now, true)?;
        let mut out = JsonOut::with_capacity(8192);
        match req.operation {
            Operation::Validate => {
                let s = self.sessions.get(&req.session_id).ok_or_else(|| CoreError::internal("session vanished"))?;
                let res = self.compute_resolution(s, &req, now, host)?;
                out.begin_object();
                out.key("resolution");
                res.write_json(&mut out, compact, &self.ledger, &req.session_id);
                out.end_object();
            }
            Operation::Resolve => {
                let em = self.resolve(&req, now, host)?;
                let s = self.sessions.get(&req.session_id).ok_or_else(|| CoreError::internal("session vanished"))?;
                let res = s.current_resolution().ok_or_else(|| CoreError::internal("resolution vanished"))?;
                out.begin_object();
                out.key("resolution");
                res.write_json(&mut out, compact, &self.ledger, &req.session_id);
                out.key("events");
                em.write_events(&mut out);
                out.end_object();
            }
            Operation::Execute => {
                let block = req.execution.clone().ok_or_else(|| CoreError::invalid("/request/execution", "`execution` is required"))?;
                let schema_errors = schema_errors(o)?;
                let unknown = self.unknown_action(&block.action_id);
                let input = ActionInput {
                    at: "/request/execution",
                    resolution_id: block.resolution_id,
                    action_id: block.action_id,
                    parameters: block.parameters,
                    idempotency_key: block.idempotency_key,
                    schema_errors,
                    unknown,
                };
                let (exec, em) = self.run_change(&req.session_id, now, |s, ledger, ts, host| execute::request(s, ledger, input, ts, now, host), host)?;
                if let Some(s) = self.sessions.get_mut(&req.session_id) {
                    s.request_ids.insert(req.request_id.clone());
                }
                let mut view = exec.to_json(&req.session_id);
                if let Value::Object(m) = &mut view {
                    m.insert("request_id".into(), Value::String(req.request_id.clone()));
                }
                write_change(&mut out, &view, &em);
            }
        }
        Ok(out.into_string())
    }

    /// Request checks of SPEC §2 that do not depend on the operation.
    pub(super) fn admit(&self, req: &Request, now: Micros, check_clock: bool) -> CoreResult<()> {
        let s = self.sessions.get(&req.session_id).ok_or_else(|| {
            CoreError::at(
                ErrorCode::SessionNotFound,
                format!("/request{}session_id", req.requester_path),
                format!("no session {}; create it first", req.session_id),
            )
        })?;
        execute::active(s)?;
        if s.agent_id != req.agent_id {
            return Err(CoreError::at(
                ErrorCode::AgentMismatch,
                format!("/request{}agent_id", req.requester_path),
                "the request's agent is not the session's agent",
            ));
        }
        if s.request_ids.contains(&req.request_id) {
            return Err(CoreError::at(ErrorCode::DuplicateRequest, "/request/request_id", format!("request {} was already seen in this session", req.request_id)));
        }
        if check_clock {
            if let Some(ts) = req.timestamp {
                let skew = (self.config.clock_skew_seconds as i64).saturating_mul(1_000_000);
                if (ts - now).abs() > skew {
                    return Err(CoreError::at(
                        ErrorCode::ClockSkew,
                        "/request/timestamp",
                        format!("the request timestamp is more than {} s from the runtime's clock", self.config.clock_skew_seconds),
                    ));
                }
            }
        }
        Ok(())
    }

    pub(super) fn compute_resolution(&self, s: &Session, req: &Request, now: Micros, host: &mut dyn Host) -> CoreResult<Resolution> {
        let atlases = self.atlases_in_scope(req.atlas_ids.as_deref(), "/request/atlas_ids")?;
        let mut env = Env {
            atlases,
            ledger: &self.ledger,
            handles: &self.actions,
            default_allow: self.config.default_allow,
            max_context_tokens: self.config.max_context_tokens,
            ttl_seconds: self.config.default_ttl_seconds,
            recorded_limits: None,
        };
        compute(&mut env, req, &s.session_id, &s.chain.trace_id, now, host)
    }

    /// Resolves and records: emits the resolve events and makes the resolution the session's current one.
    pub(super) fn resolve(&mut self, req: &Request, now: Micros, host: &mut dyn Host) -> CoreResult<Emitter> {
        let s = self.sessions.get(&req.session_id).ok_or_else(|| CoreError::internal("session vanished"))?;
        let mut res = self.compute_resolution(s, req, now, host)?;
        let mut em = Emitter::new(&s.chain, timestamp(now)?);
        res.request_span = res.emit(req, &s.root_span, &mut em, host)?;
        let s = self.sessions.get_mut(&req.session_id).ok_or_else(|| CoreError::internal("session vanished"))?;
        s.chain = em.head.clone();
        s.request_ids.insert(req.request_id.clone());
        s.resolution_count += 1;
        s.current = Some(res.resolution_id.clone());
        s.resolutions.insert(res.resolution_id.clone(), res);
        Ok(em)
    }

    /// `None` when `action_id` is an action of a loaded atlas; else `Some` of the known ids nearest to it (for an
    /// `unknown_action` refusal that says what was probably meant).
    fn unknown_action(&self, action_id: &str) -> Option<Vec<String>> {
        if self.declares(action_id) {
            return None;
        }
        let known = self.atlases.iter().flat_map(|a| a.actions.iter().map(|x| x.action_id.as_str()));
        Some(refusal::closest(action_id, known))
    }

    /// Plans a change on a live session with `plan`, then commits it; answers the execution and its events.
    fn run_change(
        &mut self,
        session_id: &str,
        now: Micros,
        plan: impl FnOnce(&Session, &Ledger, String, &mut dyn Host) -> CoreResult<Change>,
        host: &mut dyn Host,
    ) -> CoreResult<(Execution, Emitter)> {
        let ts = timestamp(now)?;
        let s = self.sessions.get(session_id).ok_or_else(|| {
            CoreError::at(ErrorCode::SessionNotFound, "/session_id", format!("no session {}", session_id))
        })?;
        let change = plan(s, &self.ledger, ts, host)?;
        let s = self.sessions.get_mut(session_id).ok_or_else(|| CoreError::internal("session vanished"))?;
        Ok(change.commit(s, &mut self.ledger, now))
    }

    /// [`Runtime::run_change`], answered as `{execution, events}`.
    fn change_op(
        &mut self,
        session_id: &str,
        now: Micros,
        plan: impl FnOnce(&Session, &Ledger, String, &mut dyn Host) -> CoreResult<Change>,
        host: &mut dyn Host,
    ) -> CoreResult<String> {
        let (exec, em) = self.run_change(session_id, now, plan, host)?;
        let mut out = JsonOut::with_capacity(2048);
        out.begin_object();
        out.key("execution");
        exec.write_json(session_id, &mut out);
        out.key("events");
        em.write_events(&mut out);
        out.end_object();
        Ok(out.into_string())
    }

    pub fn request_action(&mut self, o: Obj, now: Micros, host: &mut dyn Host) -> CoreResult<String> {
        o.deny_unknown(&["session_id", "resolution_id", "action_id", "parameters", "idempotency_key", "schema_errors"], CODE)?;
        let session_id = self.live(o, "session_id")?.session_id.clone();
        let block = read_execution(o)?;
        let unknown = self.unknown_action(&block.action_id);
        let input = ActionInput {
            at: "",
            resolution_id: block.resolution_id,
            action_id: block.action_id,
            parameters: block.parameters,
            idempotency_key: block.idempotency_key,
            schema_errors: schema_errors(o)?,
            unknown,
        };
        self.change_op(&session_id, now, |s, ledger, ts, host| execute::request(s, ledger, input, ts, now, host), host)
    }

    pub fn approve_action(&mut self, o: Obj, now: Micros, host: &mut dyn Host) -> CoreResult<String> {
        o.deny_unknown(&["session_id", "execution_id", "approver", "approval_hash"], CODE)?;
        let session_id = self.live(o, "session_id")?.session_id.clone();
        let execution_id = o.req_uuid("execution_id", CODE)?;
        let approver = o.opt_text("approver", 1, 255, CODE)?.map(str::to_string);
        let hash = o.opt_str("approval_hash", CODE)?.map(str::to_string);
        self.change_op(
            &session_id,
            now,
            |s, ledger, ts, host| {
                let approval = Approval { execution_id: &execution_id, approver, approval_hash: hash.as_deref() };
                execute::approve(s, ledger, approval, ts, now, host)
            },
            host,
        )
    }

    pub fn deny_action(&mut self, o: Obj, now: Micros, host: &mut dyn Host) -> CoreResult<String> {
        o.deny_unknown(&["session_id", "execution_id", "reason", "approver"], CODE)?;
        let session_id = self.live(o, "session_id")?.session_id.clone();
        let execution_id = o.req_uuid("execution_id", CODE)?;
        let reason = o.opt_text("reason", 1, 1000, CODE)?.map(str::to_string);
        let approver = o.opt_text("approver", 1, 255, CODE)?.map(str::to_string);
        self.change_op(&session_id, now, |s, _, ts, host| execute::refuse(s, &execution_id, reason, approver, ts, host), host)
    }

    pub fn complete_action(&mut self, o: Obj, now: Micros, host: &mut dyn Host, success: bool) -> CoreResult<String> {
        let session_id = self.live(o, "session_id")?.session_id.clone();
        let execution_id = o.req_uuid("execution_id", CODE)?;
        // Durations measured with sub-millisecond clocks arrive fractional: recorded as whole milliseconds.
        let duration = match o.present("duration_ms") {
            None => None,
            Some(v) => match v.as_f64() {
                Some(d) if (0.0..9.0e15).contains(&d) => Some(d.round() as u64),
                _ => return Err(o.err(CODE, "duration_ms", "`duration_ms` must be a non-negative number of milliseconds")),
            },
        };
        let report = if success {
            o.deny_unknown(&["session_id", "execution_id", "result", "duration_ms"], CODE)?;
            ExecutionOutcome::Executed { result: o.get("result").cloned().unwrap_or(Value::Null), duration_ms: duration }
        } else {
            o.deny_unknown(&["session_id", "execution_id", "error_code", "error_message", "duration_ms"], CODE)?;
            let error_code = o.req_text("error_code", 1, 255, CODE)?.to_string();
            let error_message = o.req_text("error_message", 0, 10_000, CODE)?.to_string();
            ExecutionOutcome::Failed { error_code, error_message, duration_ms: duration }
        };
        self.change_op(&session_id, now, |s, _, ts, host| execute::outcome(s, &execution_id, report, ts, host), host)
    }

    /// Host events: one (`event_type`, `payload`) or a batch (`events`: up to [`MAX_APPEND`] of them), appended in
    /// order. A batch is validated whole before anything is appended.
    pub fn append(&mut self, o: Obj, now: Micros, host: &mut dyn Host) -> CoreResult<String> {
        o.deny_unknown(&["session_id", "event_type", "payload", "events"], CODE)?;
        let s = self.live(o, "session_id")?;
        execute::active(s)?;
        let items = match o.opt_array("events", CODE)? {
            Some(list) => {
                if o.get("event_type").is_some() || o.get("payload").is_some() {
                    return Err(o.err(CODE, "events", "give either `events` or `event_type` and `payload`"));
                }
                if list.is_empty() || list.len() > MAX_APPEND {
                    return Err(o.err(CODE, "events", format!("`events` must hold 1 to {} events", MAX_APPEND)));
                }
                let mut items = Vec::with_capacity(list.len());
                for (i, item) in list.iter().enumerate() {
                    let path = format!("/events/{}", i);
                    items.push(host_event(as_object(item, &path, CODE)?)?);
                }
                items
            }
            None => vec![host_event(o)?],
        };
        let mut em = Emitter::new(&s.chain, timestamp(now)?);
        em.reserve(host, items.len())?;
        let root = s.root_span.clone();
        for (event_type, payload) in items {
            em.emit(host, event_type, Some(&root), payload)?;
        }
        let id = s.session_id.clone();
        if let Some(s) = self.sessions.get_mut(&id) {
            s.chain = em.head.clone();
        }
        let mut out = JsonOut::with_capacity(640 * em.events.len());
        out.begin_object();
        out.key("events");
        em.write_events(&mut out);
        out.end_object();
        Ok(out.into_string())
    }
}

/// One host event (`event_type`, `payload`) of `trace.append`, checked; answers its type and canonical payload.
fn host_event(o: Obj) -> CoreResult<(&'static str, String)> {
    if !o.path.is_empty() {
        o.deny_unknown(&["event_type", "payload"], CODE)?;
    }
    let event_type = o.req_str("event_type", CODE)?;
    let (event_type, required) = HOST_EVENTS.iter().find(|(t, _)| *t == event_type).copied().ok_or_else(|| {
        let allowed: Vec<&str> = HOST_EVENTS.iter().map(|(t, _)| *t).collect();
        o.err(CODE, "event_type", format!("`{}` cannot be appended by the host (allowed: {})", event_type, allowed.join(", ")))
    })?;
    let payload = o.opt_object("payload", CODE)?.ok_or_else(|| o.err(CODE, "payload", "`payload` is required"))?;
    let path = o.field_path("payload");
    for key in required {
        if payload.get(*key).map(Value::is_null).unwrap_or(true) {
            return Err(CoreError::invalid(pointer_push(&path, key), format!("`{}` is required for {}", key, event_type)));
        }
    }
    payload_safe_map(payload, &path).map_err(|p| CoreError::invalid(p, "payload keys must match [a-z0-9_]+ and numbers must be integers"))?;
    let mut text = String::with_capacity(128);
    write_canonical_map(payload, &mut text);
    Ok((event_type, text))
}

/// `{execution, events}`.
fn write_change(out: &mut JsonOut, execution: &Value, em: &Emitter) {
    out.begin_object();
    out.key("execution").value(execution);
    out.key("events");
    em.write_events(out);
    out.end_object();
}

#[allow(clippy::too_many_arguments)]
pub(super) fn new_session(
    session_id: String,
    agent_id: String,
    owner: Option<String>,
    goal: String,
    parent_session_id: Option<String>,
    metadata: Option<Map<String, Value>>,
    trace_id: String,
    now: Micros,
) -> Session {
    Session {
        chain: ChainHead::new(session_id.clone(), trace_id),
        session_id,
        agent_id,
        owner,
        goal,
        parent_session_id,
        metadata,
        ended: false,
        created_at: now,
        ended_at: None,
        root_span: String::new(),
        handle: 0,
        resolutions: HashMap::new(),
        current: None,
        executions: HashMap::new(),
        request_ids: HashSet::new(),
        idempotency: HashMap::new(),
        resolution_count: 0,
        action_count: 0,
    }
}

pub(super) fn started_payload(s: &Session) -> String {
    let mut p = Payload::new()
        .str("agent_id", &s.agent_id)
        .str("goal", &s.goal)
        .opt_str("parent_session_id", s.parent_session_id.as_deref());
    if let Some(m) = &s.metadata {
        p = recorded_map(p, "metadata", "metadata_json", m);
    }
    p.finish()
}

fn schema_errors(o: Obj) -> CoreResult<Vec<(String, String)>> {
    let list = match o.opt_array("schema_errors", CODE)? {
        Some(l) => l,
        None => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let path = format!("/schema_errors/{}", i);
        let m = e.as_object().ok_or_else(|| CoreError::invalid(path.clone(), "expected {path, message}"))?;
        let eo = Obj::new(m, &path);
        out.push((eo.opt_str("path", CODE)?.unwrap_or("").to_string(), eo.req_str("message", CODE)?.to_string()));
    }
    Ok(out)
}

/// The answers of `cra_check` (and `session.check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckCode {
    Allow = 1,
    RequiresApproval = 2,
    Deny = 0,
    RateLimited = 3,
    BudgetExhausted = 4,
    Expired = 5,
    SessionEnded = 6,
    UnknownSession = 7,
    UnknownAction = 8,
    NoResolution = -1,
}

/// Every check code with its name, in the order of `wasm/abi.json` (`check_codes`).
pub const CHECK_CODES: &[(i32, &str)] = &[
    (CheckCode::Allow as i32, "allow"),
    (CheckCode::RequiresApproval as i32, "requires_approval"),
    (CheckCode::Deny as i32, "deny"),
    (CheckCode::RateLimited as i32, "rate_limited"),
    (CheckCode::BudgetExhausted as i32, "budget_exhausted"),
    (CheckCode::Expired as i32, "expired"),
    (CheckCode::SessionEnded as i32, "session_ended"),
    (CheckCode::UnknownSession as i32, "unknown_session"),
    (CheckCode::UnknownAction as i32, "unknown_action"),
    (CheckCode::NoResolution as i32, "no_resolution"),
];

impl CheckCode {
    /// The number `cra_check` answers.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// The name of a check code ([`CHECK_CODES`]); a number that is none of them reads as `deny` (fail closed).
pub fn check_name(code: i32) -> &'static str {
    CHECK_CODES.iter().find(|(c, _)| *c == code).map_or("deny", |(_, name)| name)
}

/// The `cra_check` answer for one session and action handle; agrees with what `action.request` would do now, in
/// the same order: an action outside the resolution that no loaded atlas declares (`declared` answers false) is
/// `unknown_action` before the resolution's staleness or expiry is considered. `declared` is asked only then, so
/// an action of the resolution costs one lookup, as before.
pub fn check_code(
    s: &Session,
    action_handle: u32,
    ledger: &Ledger,
    now: Micros,
    host: &mut dyn Host,
    declared: impl FnOnce() -> bool,
) -> CheckCode {
    if s.ended {
        return CheckCode::SessionEnded;
    }
    let res = match s.current_resolution() {
        Some(r) => r,
        None => return CheckCode::NoResolution,
    };
    let outcome = res.by_handle.get(&action_handle).and_then(|i| res.outcomes.get(*i));
    if outcome.is_none() && !declared() {
        return CheckCode::UnknownAction;
    }
    if res.stale {
        return CheckCode::Deny;
    }
    if res.expired(now) {
        return CheckCode::Expired;
    }
    let o = match outcome {
        Some(o) => o,
        None => return CheckCode::Deny,
    };
    let who = Who { session_id: &s.session_id, agent_id: &s.agent_id };
    match res.verdict_now(o, ledger, &who, now, host) {
        Verdict::Allowed { gate: Some(_), .. } => CheckCode::RequiresApproval,
        Verdict::Allowed { .. } => CheckCode::Allow,
        Verdict::Denied { result: PolicyResult::RateLimited, .. } => CheckCode::RateLimited,
        Verdict::Denied { result: PolicyResult::BudgetExhausted, .. } => CheckCode::BudgetExhausted,
        Verdict::Denied { .. } => CheckCode::Deny,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_codes_are_distinct_and_named() {
        let all = [
            CheckCode::Allow,
            CheckCode::RequiresApproval,
            CheckCode::Deny,
            CheckCode::RateLimited,
            CheckCode::BudgetExhausted,
            CheckCode::Expired,
            CheckCode::SessionEnded,
            CheckCode::UnknownSession,
            CheckCode::UnknownAction,
            CheckCode::NoResolution,
        ];
        assert_eq!(all.len(), CHECK_CODES.len());
        for c in all {
            assert_eq!(CHECK_CODES.iter().filter(|(n, _)| *n == c.code()).count(), 1, "{:?}", c);
        }
        assert_eq!(check_name(2), "requires_approval");
        assert_eq!(check_name(-1), "no_resolution");
        assert_eq!(check_name(42), "deny");
    }
}
