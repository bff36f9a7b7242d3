//! Rebuilding sessions from their traces. `restore` brings a stored session back to life after a restart
//! (verify, then reconstruct its state: resolutions are recomputed at their recorded times and must reproduce
//! the recorded outcome, else they are kept as stale and nothing may run on them — fail closed). `replay`
//! re-runs a trace's requests in a scratch runtime and reports every divergence (SPEC §4.2).

use crate::proof::merkle::Frontier;
use crate::proof::tree::leaf_of;
use crate::obj;
use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::atlas::{Facts, PolicyKind, RiskTier};
use crate::carp::execute::{approval_hash, recorded_cost};
use crate::carp::ledger::{Ledger, Who};
use crate::carp::request::{Operation, Request};
use crate::carp::resolve::{compute, recorded_map_of, Env, Outcome};
use crate::carp::policy::{PolicyResult, Verdict as PolicyVerdict};
use crate::carp::refusal::{self, Details};
use crate::carp::{ExecStatus, Execution, Session};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::host::Host;
use crate::input::Obj;
use crate::json::write_canonical_map;
use crate::time::{parse_stored, Micros};
use crate::trace::diff::diff;
use crate::trace::{verify_items, ChainHead, Emitter, Event, Head, Verdict, GENESIS_HASH};

use super::ops::{events_of, expected_head, head_field, trace_of};
use super::sessions::{new_session, MAX_OWNER};
use super::{timestamp, Runtime};

const CODE: ErrorCode = ErrorCode::InvalidRequest;

/// Ids for recomputations whose ids are discarded; time zones still come from the real host.
struct ScratchHost<'a> {
    inner: &'a mut dyn Host,
    next: u64,
}

impl<'a> Host for ScratchHost<'a> {
    fn new_id(&mut self) -> String {
        self.next += 1;
        format!("00000000-0000-7000-8000-{:012x}", self.next)
    }

    fn tz_offset_minutes(&mut self, zone: &str, epoch_secs: i64) -> Option<i32> {
        self.inner.tz_offset_minutes(zone, epoch_secs)
    }
}

pub fn micros_of(stored: &str) -> Micros {
    parse_stored(stored).map(|t| t.secs.saturating_mul(1_000_000).saturating_add((t.nanos / 1000) as i64)).unwrap_or(0)
}

/// The event types whose payload a rebuild reads (`session_of`, `rebuild`, `apply_execution_event`); the
/// payloads of the others are hashed from their text and never parsed.
fn reads_payload(event_type: &str) -> bool {
    !matches!(event_type, "session.ended" | "carp.resolution.cached" | "context.injected" | "context.redacted" | "error.occurred")
}

/// The verified events of `events` (against `expected_head` when given), as a non-empty list: the first event
/// (`session.started`) and the rest. A chain that does not verify is `trace_invalid` at its first bad event.
fn verified(o: Obj) -> CoreResult<(Event, Vec<Event>)> {
    let events = trace_of(o, reads_payload)?;
    if events.is_empty() {
        return Err(CoreError::invalid("/events", "a session trace starts with session.started; this one is empty"));
    }
    let head = expected_head(o)?;
    let checked = verify_items(events, head.as_ref(), true, None);
    match (checked.verdict, checked.events) {
        (Verdict::Valid { .. }, parsed) => {
            let mut parsed = parsed.into_iter();
            let first = parsed.next().ok_or_else(|| CoreError::internal("a verified chain without events"))?;
            Ok((first, parsed.collect()))
        }
        // `message` says in words what `reason` (and a sequence gap's `detail`) names: a missing or repeated event.
        (Verdict::Invalid { index, reason, message, .. }, _) => Err(CoreError::at(
            ErrorCode::TraceInvalid,
            format!("/events/{}", index),
            format!("event {}: {}: {}", index, reason, message),
        )),
    }
}

/// `synced_head`: the head a store last made durable. The trace must contain it as a prefix (a store may hold
/// more than it synced, never less): its event `length - 1` has `head_hash` (a head of 0 events is the genesis).
fn check_synced(first: &Event, rest: &[Event], synced: &Head) -> CoreResult<()> {
    let total = rest.len() + 1;
    let at = match synced.length.checked_sub(1) {
        None => Some(GENESIS_HASH),
        Some(0) => Some(first.event_hash.as_str()),
        Some(i) => rest.get(i - 1).map(|e| e.event_hash.as_str()),
    };
    match at {
        None => Err(CoreError::at(
            ErrorCode::TraceInvalid,
            "/synced_head",
            format!("the trace has {} events but {} were synced", total, synced.length),
        )),
        Some(hash) if hash != synced.head_hash => Err(CoreError::at(
            ErrorCode::TraceInvalid,
            "/synced_head",
            format!(
                "the trace does not contain its synced head: its first {} events end in {}, the synced head in {}",
                synced.length, hash, synced.head_hash
            ),
        )),
        Some(_) => Ok(()),
    }
}

fn text(p: &Map<String, Value>, key: &str) -> String {
    p.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

fn strings(p: &Map<String, Value>, key: &str) -> Option<Vec<String>> {
    p.get(key).and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
}

/// The request a `carp.request.received` event records (it records every non-default input).
fn request_of(e: &Event, s: &Session) -> Request {
    let p = &e.payload;
    Request {
        request_id: text(p, "request_id"),
        timestamp: None,
        operation: Operation::Resolve,
        agent_id: s.agent_id.clone(),
        session_id: s.session_id.clone(),
        parent_session_id: s.parent_session_id.clone(),
        goal: text(p, "goal"),
        risk_tier: p.get("risk_tier").and_then(Value::as_str).and_then(RiskTier::parse),
        context_hints: strings(p, "context_hints").unwrap_or_default(),
        required_capabilities: strings(p, "required_capabilities"),
        atlas_ids: strings(p, "atlas_ids"),
        context: recorded_map_of(p, "context", "context_json").unwrap_or_default(),
        execution: None,
        requester_path: "/",
    }
}

/// The session `session.started` (`e`) began, for `owner` (host data: the trace never records it).
fn session_of(e: &Event, owner: Option<String>) -> Session {
    let p = &e.payload;
    let mut s = new_session(
        e.session_id.clone(),
        text(p, "agent_id"),
        owner,
        text(p, "goal"),
        p.get("parent_session_id").and_then(Value::as_str).map(str::to_string),
        recorded_map_of(p, "metadata", "metadata_json"),
        e.trace_id.clone(),
        micros_of(&e.timestamp),
    );
    s.root_span = e.span_id.clone();
    s
}

/// A limit's denial that a `policy.evaluated` records (action id and verdict); `None` for any other result.
fn recorded_limit_denial(p: &Map<String, Value>) -> Option<(String, PolicyVerdict)> {
    let result = match p.get("result").and_then(Value::as_str)? {
        "rate_limited" => PolicyResult::RateLimited,
        "budget_exhausted" => PolicyResult::BudgetExhausted,
        _ => return None,
    };
    let verdict = PolicyVerdict::Denied {
        policy_id: p.get("policy_id").and_then(Value::as_str)?.to_string(),
        reason: result.as_str().to_string(),
        result,
        retry_after_seconds: p.get("retry_after_seconds").and_then(Value::as_u64),
    };
    Some((text(p, "action_id"), verdict))
}

/// Rate-limit and budget policies in force for an outcome at `now` (what an approval is charged to).
fn limit_policies(o: &Outcome, facts: &Facts, host: &mut dyn Host) -> Vec<usize> {
    o.action()
        .policies
        .iter()
        .copied()
        .filter(|i| {
            o.atlas.policies.get(*i).map_or(false, |p| {
                matches!(p.kind, PolicyKind::RateLimit | PolicyKind::Budget)
                    && p.conditions.as_ref().map_or(true, |c| c.holds(facts, host, true))
            })
        })
        .collect()
}

/// Applies a recorded execution event to a session's state (and its approvals to the usage counters).
fn apply_execution_event(s: &mut Session, ledger: &mut Ledger, e: &Event, host: &mut dyn Host) {
    let p = &e.payload;
    let now = micros_of(&e.timestamp);
    let exec_id = text(p, "execution_id");
    match e.event_type.as_str() {
        "action.requested" => {
            let resolution_id = text(p, "resolution_id");
            let action_id = text(p, "action_id");
            let parameters_hash = text(p, "parameters_hash");
            let gate = s.resolutions.get(&resolution_id).and_then(|r| {
                let o = r.outcome(&action_id)?;
                match &o.verdict {
                    PolicyVerdict::Allowed { gate: Some(g), .. } => o.atlas.policies.get(*g).map(|p| p.policy_id.clone()),
                    _ => None,
                }
            });
            let approval_hash = approval_hash(&s.session_id, &resolution_id, &action_id, &parameters_hash);
            let key = p.get("idempotency_key").and_then(Value::as_str).map(str::to_string);
            if let Some(k) = &key {
                s.idempotency.insert(k.clone(), exec_id.clone());
            }
            s.action_count += 1;
            s.executions.insert(
                exec_id.clone(),
                Execution {
                    execution_id: exec_id,
                    resolution_id,
                    action_id,
                    status: ExecStatus::PendingApproval,
                    parameters_hash,
                    approval_hash,
                    reason: Some("approval required".into()),
                    policy_id: gate,
                    created_at: now,
                    span_id: e.span_id.clone(),
                    idempotency_key: key,
                    // Recorded when the execution waits for approval with a cost, which its approval charges.
                    cost: recorded_cost(p),
                    details: None,
                },
            );
        }
        "action.approved" => {
            let cost = recorded_cost(p);
            let (session_id, agent_id) = (s.session_id.clone(), s.agent_id.clone());
            if let Some(x) = s.executions.get_mut(&exec_id) {
                x.status = ExecStatus::Approved;
                x.reason = None;
                x.cost = cost;
                if let Some(r) = s.resolutions.get(&x.resolution_id) {
                    if let Some(o) = r.outcome(&x.action_id) {
                        let who = Who { session_id: &session_id, agent_id: &agent_id };
                        for i in limit_policies(o, &r.facts.at(now), host) {
                            if let Some(pol) = o.atlas.policies.get(i) {
                                ledger.record(&o.atlas, pol, &x.action_id, &who, now, cost);
                            }
                        }
                    }
                }
            }
        }
        // One execution may have several `policy.violated` (one per violated policy): all are folded into its
        // details; its policy is the first one's, and its reason is derived from the details as the live answer's.
        "policy.violated" => {
            if let Some(x) = s.executions.get_mut(&exec_id) {
                if x.status != ExecStatus::Violated {
                    x.status = ExecStatus::Violated;
                    x.policy_id = p.get("policy_id").and_then(Value::as_str).map(str::to_string);
                    x.details = Some(Details::new(refusal::SCOPE_VIOLATION));
                }
                if let Some(d) = x.details.as_mut() {
                    refusal::fold_violated(d, p);
                }
                x.reason = x.details.as_ref().and_then(Details::reason);
            }
        }
        "action.denied" | "action.executed" | "action.failed" => {
            if let Some(x) = s.executions.get_mut(&exec_id) {
                x.status = match e.event_type.as_str() {
                    "action.denied" => ExecStatus::Denied,
                    "action.executed" => ExecStatus::Executed,
                    _ => ExecStatus::Failed,
                };
                x.reason = p.get("reason").or_else(|| p.get("error_message")).and_then(Value::as_str).map(str::to_string);
                if let Some(pid) = p.get("policy_id").and_then(Value::as_str) {
                    x.policy_id = Some(pid.to_string());
                }
                x.details = if x.status == ExecStatus::Denied { Some(refusal::from_denied(p, &x.action_id)) } else { None };
            }
        }
        _ => {}
    }
}

impl Runtime {
    /// `session.restore`: verifies a stored trace (against `expected_head`, `synced_head` and `session_id` when
    /// given), then rebuilds the session from it.
    pub fn restore(&mut self, o: Obj, host: &mut dyn Host) -> CoreResult<Value> {
        o.deny_unknown(&["events", "jsonl", "expected_head", "synced_head", "session_id", "owner"], CODE)?;
        let session_id = o.opt_uuid("session_id", CODE)?;
        let owner = o.opt_text("owner", 1, MAX_OWNER, CODE)?.map(str::to_string);
        let synced = head_field(o, "synced_head")?;
        let (first, rest) = verified(o)?;
        if let Some(id) = &session_id {
            if *id != first.session_id {
                return Err(CoreError::at(
                    ErrorCode::TraceInvalid,
                    "/session_id",
                    format!("the trace belongs to session {}, not {}", first.session_id, id),
                ));
            }
        }
        if let Some(h) = &synced {
            check_synced(&first, &rest, h)?;
        }
        if self.sessions.contains_key(&first.session_id) {
            return Err(CoreError::at(ErrorCode::SessionExists, "/events/0/session_id", format!("session {} is live", first.session_id)));
        }
        let mut s = session_of(&first, owner);
        // The ledger is moved out for the rebuild (which reads the runtime's atlases alongside) and put back
        // whatever happens; `end_restore` undoes the restore's charges when it fails.
        let mut ledger = std::mem::take(&mut self.ledger);
        ledger.begin_restore(&s.session_id, s.ledger_owner());
        let rebuilt = self.rebuild(&mut s, &first, &rest, &mut ledger, host);
        ledger.end_restore(&s.session_id, rebuilt.is_ok());
        self.ledger = ledger;
        let stale = rebuilt?;
        let view = s.to_json();
        let last_resolution = s.current.clone();
        let handle = self.insert_session(s);
        Ok(obj!("session": view, "handle": handle, "stale_resolutions": stale, "last_resolution_id": last_resolution))
    }

    /// Rebuilds `s` from its verified events, charging its approvals to `ledger`; answers its stale resolutions.
    fn rebuild(&self, s: &mut Session, first: &Event, rest: &[Event], ledger: &mut Ledger, host: &mut dyn Host) -> CoreResult<Vec<String>> {
        let mut scratch = ScratchHost { inner: host, next: 0 };
        // The request under way: its request, time, span, and the limit denials its resolve recorded.
        let mut pending: Option<(Request, Micros, String, HashMap<String, PolicyVerdict>)> = None;
        let mut stale = Vec::new();
        for e in rest {
            let now = micros_of(&e.timestamp);
            match e.event_type.as_str() {
                "carp.request.received" => {
                    let req = request_of(e, s);
                    s.request_ids.insert(req.request_id.clone());
                    pending = Some((req, now, e.span_id.clone(), HashMap::new()));
                }
                "policy.evaluated" => {
                    if let (Some((_, _, _, limits)), Some((action_id, v))) = (pending.as_mut(), recorded_limit_denial(&e.payload)) {
                        limits.insert(action_id, v);
                    }
                }
                "carp.resolution.completed" => {
                    let (req, at, span, limits) = match pending.take() {
                        Some(x) => x,
                        None => continue,
                    };
                    let p = &e.payload;
                    let ttl = p.get("ttl_seconds").and_then(Value::as_u64).unwrap_or(self.config.default_ttl_seconds);
                    let computed = self.atlases_in_scope(req.atlas_ids.as_deref(), "/events").and_then(|atlases| {
                        let mut env = Env {
                            atlases,
                            ledger,
                            handles: &self.actions,
                            default_allow: self.config.default_allow,
                            max_context_tokens: self.config.max_context_tokens,
                            ttl_seconds: ttl,
                            recorded_limits: Some(&limits),
                        };
                        compute(&mut env, &req, &s.session_id, &s.chain.trace_id, at, &mut scratch)
                    });
                    let mut res = match computed {
                        Ok(r) => r,
                        Err(_) => {
                            // The atlas is gone: keep an empty, stale resolution so that its id stays known.
                            let mut env = Env {
                                atlases: Vec::new(),
                                ledger,
                                handles: &self.actions,
                                default_allow: false,
                                max_context_tokens: 0,
                                ttl_seconds: ttl,
                                recorded_limits: None,
                            };
                            let mut r = compute(&mut env, &req, &s.session_id, &s.chain.trace_id, at, &mut scratch)?;
                            r.stale = true;
                            r
                        }
                    };
                    let same = p.get("decision_type").and_then(Value::as_str) == Some(res.decision)
                        && p.get("allowed_count").and_then(Value::as_u64) == Some(res.allowed_count() as u64)
                        && p.get("denied_count").and_then(Value::as_u64) == Some(res.denied_count() as u64)
                        && p.get("context_block_count").and_then(Value::as_u64) == Some(res.blocks.len() as u64);
                    res.resolution_id = text(p, "resolution_id");
                    res.approval_id = p.get("approval_id").and_then(Value::as_str).map(str::to_string);
                    res.request_span = span;
                    if !same {
                        res.stale = true;
                    }
                    if res.stale {
                        stale.push(res.resolution_id.clone());
                    }
                    s.resolution_count += 1;
                    s.current = Some(res.resolution_id.clone());
                    s.resolutions.insert(res.resolution_id.clone(), res);
                }
                "session.ended" => {
                    s.ended = true;
                    s.ended_at = Some(now);
                }
                _ => apply_execution_event(s, ledger, e, &mut scratch),
            }
        }
        let last = rest.last().unwrap_or(first);
        let tree = if self.config.merkle_trees {
            let mut tree = Frontier::new();
            for e in std::iter::once(first).chain(rest) {
                tree.push(leaf_of(&e.event_hash).ok_or_else(|| CoreError::internal("a verified event hash is not hex"))?);
            }
            Some(tree)
        } else {
            None
        };
        s.chain = ChainHead {
            session_id: s.session_id.clone(),
            trace_id: first.trace_id.clone(),
            next_sequence: rest.len() as u64 + 1,
            head_hash: last.event_hash.clone(),
            tree,
        };
        Ok(stale)
    }

    pub fn replay(&self, o: Obj, host: &mut dyn Host) -> CoreResult<Value> {
        o.deny_unknown(&["events", "expected_head"], CODE)?;
        // Events only (no `jsonl`): replay answers them back, with the replayed ones.
        events_of(o, "events")?;
        let (first, rest) = verified(o)?;
        let sid = first.session_id.clone();
        let events: Vec<Event> = std::iter::once(first).chain(rest).collect();
        let originals: Vec<Value> = events.iter().map(Event::to_json).collect();
        let mut r = Runtime {
            config: self.config.clone(),
            atlases: self.atlases.clone(),
            actions: self.actions.clone(),
            next_session_handle: 1,
            ..Default::default()
        };
        let mut h = ScratchHost { inner: host, next: 0 };
        let mut replayed: Vec<Value> = Vec::new();
        let mut errors: Vec<Value> = Vec::new();
        let mut resolution_ids: HashMap<String, String> = HashMap::new();
        let mut last_resolution: Option<String> = None;
        for (index, e) in events.iter().enumerate() {
            let now = micros_of(&e.timestamp);
            let outcome: CoreResult<Option<Vec<Value>>> = match e.event_type.as_str() {
                "session.started" => {
                    let mut input = e.payload.clone();
                    input.insert("session_id".into(), Value::String(e.session_id.clone()));
                    if let Some(m) = input.remove("metadata_json").and_then(|_| recorded_map_of(&e.payload, "metadata", "metadata_json")) {
                        input.insert("metadata".into(), Value::Object(m));
                    }
                    let v = Value::Object(input);
                    crate::input::as_object(&v, "", CODE)
                        .and_then(|o| r.start_session(o, now, &mut h))
                        .map(|(_, em)| Some(em.event_values()))
                }
                "carp.request.received" => match r.sessions.get(&sid) {
                    Some(s) => {
                        let req = request_of(e, s);
                        r.admit(&req, now, false).and_then(|_| r.resolve(&req, now, &mut h)).map(|em| {
                            last_resolution = r.sessions.get(&sid).and_then(|s| s.current.clone());
                            Some(em.event_values())
                        })
                    }
                    None => Err(CoreError::new(ErrorCode::SessionNotFound, "the replayed session is missing")),
                },
                "carp.resolution.completed" => {
                    if let Some(new_id) = last_resolution.take() {
                        resolution_ids.insert(text(&e.payload, "resolution_id"), new_id);
                    }
                    Ok(None)
                }
                "context.injected" | "policy.evaluated" => Ok(None),
                "session.ended" => {
                    let input = obj!("session_id": &sid, "reason": text(&e.payload, "reason"));
                    crate::input::as_object(&input, "", CODE)
                        .and_then(|o| r.finish_session(o, now, &mut h))
                        .map(|em| Some(em.event_values()))
                }
                _ => r.copy_event(&sid, e, &resolution_ids, now, &mut h).map(Some),
            };
            match outcome {
                Ok(Some(evs)) => replayed.extend(evs),
                Ok(None) => {}
                Err(err) => errors.push(obj!("index": index, "event_type": &e.event_type, "error": err.to_json(), "kind": "error")),
            }
        }
        let differences = diff(&originals, &replayed);
        let mut divergences: Vec<Value> = differences.iter().map(|d| d.to_json()).collect();
        divergences.extend(errors);
        Ok(obj!(
            "identical": divergences.is_empty(),
            "divergences": divergences,
            "original_length": originals.len(),
            "replayed_length": replayed.len(),
            "events": replayed,
        ))
    }

    /// Replays an event that records the host's part (executions, outcomes, host events): copied into the
    /// replayed chain with resolution ids mapped, and applied to the replayed state.
    fn copy_event(&mut self, sid: &str, e: &Event, ids: &HashMap<String, String>, now: Micros, host: &mut dyn Host) -> CoreResult<Vec<Value>> {
        let ts = timestamp(now)?;
        let s = self.sessions.get_mut(sid).ok_or_else(|| CoreError::new(ErrorCode::SessionNotFound, "the replayed session is missing"))?;
        let mut payload = e.payload.clone();
        if let Some(Value::String(rid)) = payload.get("resolution_id") {
            if let Some(mapped) = ids.get(rid) {
                payload.insert("resolution_id".into(), Value::String(mapped.clone()));
            }
        }
        let mut text = String::new();
        write_canonical_map(&payload, &mut text);
        let mut em = Emitter::new(&s.chain, ts);
        let root = s.root_span.clone();
        em.emit(host, &e.event_type, Some(&root), text)?;
        s.chain = em.head.clone();
        if let Some(copy) = em.event(0, payload) {
            apply_execution_event(s, &mut self.ledger, &copy, host);
        }
        Ok(em.event_values())
    }
}
