//! The action lifecycle (SPEC §2–§4): request → (approve | deny) → executed | failed, each step checked against
//! the session's resolution. Every function here plans first (validating, taking ids, building events) and
//! returns a [`Change`] that the caller commits; nothing is mutated on error.

use std::rc::Rc;

use serde_json::{Map, Value};

use crate::atlas::{Atlas, BudgetParams, Policy, PolicyKind};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::host::Host;
use crate::json::{canonical_hash, canonical_map_hash, pointer_push, sha256_hex, Payload};
use crate::time::Micros;
use crate::trace::Emitter;

use super::ledger::{Ledger, Who};
use super::policy::Verdict;
use super::refusal::{self, Details, Violation};
use super::resolve::{Outcome, Resolution};
use super::session::{ExecStatus, Execution, Session};

/// A planned state change: the execution's new state, usage to charge, and the events to append.
pub struct Change {
    pub execution: Execution,
    pub charges: Vec<(Rc<Atlas>, usize)>,
    pub emitter: Emitter,
    /// False when an idempotency key returned an existing execution (nothing to commit but the answer).
    pub is_new: bool,
}

impl Change {
    pub fn commit(self, session: &mut Session, ledger: &mut Ledger, now: Micros) -> (Execution, Emitter) {
        let Change { execution, charges, emitter, is_new } = self;
        if !is_new {
            return (execution, emitter);
        }
        {
            let who = Who { session_id: &session.session_id, agent_id: &session.agent_id };
            for (atlas, idx) in &charges {
                if let Some(p) = atlas.policies.get(*idx) {
                    ledger.record(atlas, p, &execution.action_id, &who, now, execution.cost);
                }
            }
        }
        if !session.executions.contains_key(&execution.execution_id) {
            session.action_count += 1;
            if let Some(k) = &execution.idempotency_key {
                session.idempotency.insert(k.clone(), execution.execution_id.clone());
            }
        }
        session.chain = emitter.head.clone();
        session.executions.insert(execution.execution_id.clone(), execution.clone());
        (execution, emitter)
    }
}

pub struct ActionInput {
    /// The pointer, in the operation's input, of the object holding the members below: `` for `action.request`,
    /// `/request/execution` for a CARP execute request. Errors about a member point there.
    pub at: &'static str,
    pub resolution_id: String,
    pub action_id: String,
    pub parameters: Map<String, Value>,
    pub idempotency_key: Option<String>,
    /// JSON Schema errors of the parameters, computed by the host against the action's `parameters_schema`.
    pub schema_errors: Vec<(String, String)>,
    /// `Some(closest known ids)` when the action id is not an action of any loaded atlas: the runtime knows the
    /// atlases, the session does not.
    pub unknown: Option<Vec<String>>,
}

pub fn active(session: &Session) -> CoreResult<()> {
    if session.ended {
        Err(CoreError::new(ErrorCode::SessionEnded, format!("session {} has ended", session.session_id)))
    } else {
        Ok(())
    }
}

pub fn request(
    session: &Session,
    ledger: &Ledger,
    input: ActionInput,
    timestamp: String,
    now: Micros,
    host: &mut dyn Host,
) -> CoreResult<Change> {
    active(session)?;
    let resolution = session.resolutions.get(&input.resolution_id).ok_or_else(|| {
        CoreError::at(ErrorCode::ResolutionNotFound, format!("{}/resolution_id", input.at), format!("no resolution {} in this session", input.resolution_id))
    })?;
    let parameters_hash = canonical_map_hash(&input.parameters);
    if let Some(key) = &input.idempotency_key {
        if let Some(existing) = session.idempotency.get(key).and_then(|id| session.executions.get(id)) {
            if existing.parameters_hash == parameters_hash
                && existing.action_id == input.action_id
                && existing.resolution_id == input.resolution_id
            {
                return Ok(Change {
                    execution: existing.clone(),
                    charges: Vec::new(),
                    emitter: Emitter::new(&session.chain, timestamp),
                    is_new: false,
                });
            }
            return Err(CoreError::at(
                ErrorCode::IdempotencyConflict,
                format!("{}/idempotency_key", input.at),
                "this idempotency key was used for a different execution",
            ));
        }
    }
    let approval_hash = approval_hash(&session.session_id, &input.resolution_id, &input.action_id, &parameters_hash);
    let mut exec = Execution {
        // Taken with the ids of the events below, in one call to the host, once it is known how many they are.
        execution_id: String::new(),
        resolution_id: input.resolution_id.clone(),
        action_id: input.action_id.clone(),
        status: ExecStatus::Denied,
        parameters_hash,
        approval_hash,
        reason: None,
        policy_id: None,
        created_at: now,
        span_id: String::new(),
        idempotency_key: input.idempotency_key.clone(),
        cost: 0.0,
        details: None,
    };
    let who = Who { session_id: &session.session_id, agent_id: &session.agent_id };

    // Decided before anything is emitted: `action.requested` of an execution that waits for approval records its
    // cost (the trace keeps no parameters, and an approval after a restart must charge what this one would).
    let decision = match (resolution.outcome(&input.action_id), input.unknown) {
        // No resolution can ever allow an id that no loaded atlas declares: say so first, with what was meant.
        (None, Some(closest)) => {
            let mut d = Details::new(refusal::UNKNOWN_ACTION);
            d.action_id = Some(input.action_id.clone());
            d.closest = Some(closest);
            Decision::Refused(Denial::derived("default", d))
        }
        _ if resolution.stale => Decision::Refused(stale()),
        _ if resolution.expired(now) => Decision::Refused(expired()),
        (None, None) => Decision::Refused(not_in_resolution(&input.action_id)),
        (Some(o), _) => decide(o, resolution, ledger, &who, now, host),
    };
    let plan = match decision {
        Decision::Refused(denial) => Plan::Refused(denial),
        Decision::Allowed { outcome, gate, restrictors } => {
            let checked = check_parameters(&outcome.atlas, &restrictors, &input.schema_errors, &input.parameters);
            exec.cost = checked.cost;
            if !checked.events.is_empty() {
                Plan::Violated(checked)
            } else if let Some(policy_id) = overspent(&outcome.atlas, &restrictors, ledger, &who, exec.cost) {
                Plan::Refused(budget_exhausted(&policy_id))
            } else if let Some(g) = gate {
                Plan::Pending(outcome.atlas.policies.get(g).map(|p| p.policy_id.clone()))
            } else {
                Plan::Approved(charges(&outcome.atlas, &restrictors))
            }
        }
    };

    let mut em = Emitter::new(&session.chain, timestamp);
    // `action.requested`, then one event per plan (none while it waits for approval, one per violation): fewer
    // reserved than emitted only costs another call, more would skip ids.
    let events = 1 + match &plan {
        Plan::Refused(_) | Plan::Approved(_) => 1,
        Plan::Violated(c) => c.events.len(),
        Plan::Pending(_) => 0,
    };
    exec.execution_id = em.take_with(host, 1, events)?.pop().ok_or_else(|| CoreError::internal("no execution id"))?;
    let mut p = Payload::new()
        .str("action_id", &input.action_id)
        .str("resolution_id", &input.resolution_id)
        .str("execution_id", &exec.execution_id)
        .str("parameters_hash", &exec.parameters_hash)
        .opt_str("idempotency_key", input.idempotency_key.as_deref());
    if matches!(plan, Plan::Pending(_)) && exec.cost > 0.0 {
        p = p.value("cost", &cost_value(exec.cost));
    }
    let parent = if resolution.request_span.is_empty() { session.root_span.as_str() } else { resolution.request_span.as_str() };
    exec.span_id = em.emit(host, "action.requested", Some(parent), p.finish())?;

    let charges = match plan {
        Plan::Refused(denial) => {
            deny(&mut em, host, &mut exec, denial)?;
            Vec::new()
        }
        Plan::Violated(Checked { mut details, events, .. }) => {
            let span = exec.span_id.clone();
            for (policy_id, kind, payload_details) in &events {
                let p = Payload::new()
                    .str("policy_id", policy_id)
                    .str("violation_type", kind)
                    .map("details", payload_details)
                    .str("action_id", &exec.action_id)
                    .str("execution_id", &exec.execution_id);
                em.emit(host, "policy.violated", Some(&span), p.finish())?;
            }
            if !details.errors.is_empty() {
                details.code = refusal::INVALID_PARAMETERS.into();
            }
            exec.status = ExecStatus::Violated;
            exec.policy_id = events.into_iter().next().map(|(policy_id, _, _)| policy_id);
            exec.reason = details.reason();
            exec.details = Some(details);
            Vec::new()
        }
        Plan::Pending(policy_id) => {
            exec.status = ExecStatus::PendingApproval;
            exec.policy_id = policy_id;
            exec.reason = Some("approval required".into());
            Vec::new()
        }
        Plan::Approved(charges) => {
            approve_into(&mut em, host, &mut exec, None)?;
            charges
        }
    };
    Ok(Change { execution: exec, charges, emitter: em, is_new: true })
}

/// What a request comes to, decided before its first event is emitted.
enum Plan {
    Refused(Denial),
    Violated(Checked),
    /// Waits for the approval the gate policy (its id) asks for.
    Pending(Option<String>),
    /// Approved at once, charged to these limits.
    Approved(Vec<(Rc<Atlas>, usize)>),
}

/// The parameters checked against the policies in force: the execution's cost, and every problem found.
struct Checked {
    cost: f64,
    details: Details,
    /// One `policy.violated` per violated policy: (policy id, violation type, payload details).
    events: Vec<(String, &'static str, Map<String, Value>)>,
}

/// Parameters: the host's schema errors, then the atlas's scope policies and cost-budget parameters in policy
/// order. Every problem is collected (a model fixes all of them at once); each violated policy is one event.
fn check_parameters(atlas: &Atlas, restrictors: &[usize], schema_errors: &[(String, String)], parameters: &Map<String, Value>) -> Checked {
    let mut details = Details::new(refusal::SCOPE_VIOLATION);
    let mut events: Vec<(String, &'static str, Map<String, Value>)> = Vec::new();
    if !schema_errors.is_empty() {
        events.push(("parameters_schema".into(), "invalid_parameters", refusal::violation_payload(schema_errors, &[])));
        details.errors.extend(schema_errors.iter().cloned());
    }
    let mut cost = 0.0;
    for p in restrictors.iter().filter_map(|i| atlas.policies.get(*i)) {
        if let Some(s) = &p.scope {
            let found = scope_violations(&p.policy_id, s, parameters);
            if !found.is_empty() {
                events.push((p.policy_id.clone(), "scope", refusal::violation_payload(&[], &found)));
                details.violations.extend(found);
            }
        }
        if let Some(BudgetParams::Cost { cost_param, .. }) = &p.budget {
            match parameters.get(cost_param).and_then(Value::as_f64) {
                Some(c) if c >= 0.0 && c.is_finite() => cost += c,
                _ => {
                    let error = (pointer_push("", cost_param), "the budget's cost parameter must be a non-negative number".to_string());
                    events.push((p.policy_id.clone(), "invalid_parameters", refusal::violation_payload(std::slice::from_ref(&error), &[])));
                    details.errors.push(error);
                }
            }
        }
    }
    Checked { cost, details, events }
}

/// A host's approval of a pending execution: who approved, and the `approval_hash` the approval was granted for
/// (checked against the execution's when given).
pub struct Approval<'a> {
    pub execution_id: &'a str,
    pub approver: Option<String>,
    pub approval_hash: Option<&'a str>,
}

pub fn approve(
    session: &Session,
    ledger: &Ledger,
    approval: Approval,
    timestamp: String,
    now: Micros,
    host: &mut dyn Host,
) -> CoreResult<Change> {
    active(session)?;
    let Approval { execution_id, approver, approval_hash } = approval;
    let mut exec = pending(session, execution_id, "approve")?;
    if let Some(h) = approval_hash {
        if h != exec.approval_hash {
            return Err(CoreError::at(ErrorCode::ApprovalMismatch, "/approval_hash", "the approval was granted for a different execution"));
        }
    }
    let resolution = session.resolutions.get(&exec.resolution_id).ok_or_else(|| CoreError::internal("execution without resolution"))?;
    let who = Who { session_id: &session.session_id, agent_id: &session.agent_id };
    let mut em = Emitter::new(&session.chain, timestamp);
    let decision = match resolution.outcome(&exec.action_id) {
        // A restored resolution that no longer reproduces lets nothing run, approved or not (fail closed).
        _ if resolution.stale => Decision::Refused(stale()),
        _ if resolution.expired(now) => Decision::Refused(expired()),
        None => Decision::Refused(not_in_resolution(&exec.action_id)),
        Some(o) => decide(o, resolution, ledger, &who, now, host),
    };
    // Limits are checked again against this execution, in the call that charges it: approvals granted one after
    // the other never spend more than is left (rate limits and call budgets through the verdict, cost here).
    let decision = match decision {
        Decision::Allowed { outcome, restrictors, .. } => match overspent(&outcome.atlas, &restrictors, ledger, &who, exec.cost) {
            Some(policy_id) => Decision::Refused(budget_exhausted(&policy_id)),
            None => Decision::Allowed { outcome, gate: None, restrictors },
        },
        refused => refused,
    };
    match decision {
        Decision::Allowed { outcome, restrictors, .. } => {
            approve_into(&mut em, host, &mut exec, approver)?;
            let charges = charges(&outcome.atlas, &restrictors);
            Ok(Change { execution: exec, charges, emitter: em, is_new: true })
        }
        Decision::Refused(denial) => {
            deny(&mut em, host, &mut exec, denial)?;
            Ok(Change { execution: exec, charges: Vec::new(), emitter: em, is_new: true })
        }
    }
}

/// The host (a human, an approval service) refuses a pending execution.
pub fn refuse(
    session: &Session,
    execution_id: &str,
    reason: Option<String>,
    approver: Option<String>,
    timestamp: String,
    host: &mut dyn Host,
) -> CoreResult<Change> {
    active(session)?;
    let mut exec = pending(session, execution_id, "deny")?;
    let mut em = Emitter::new(&session.chain, timestamp);
    let policy = exec.policy_id.clone().unwrap_or_else(|| "approval".into());
    let reason = reason.unwrap_or_else(|| "approval denied".into());
    let mut details = Details::by_policy(refusal::APPROVAL_DENIED, &policy);
    details.approver = approver;
    deny(&mut em, host, &mut exec, Denial::new(&policy, &reason, details))?;
    Ok(Change { execution: exec, charges: Vec::new(), emitter: em, is_new: true })
}

/// What the host reports after running an approved action: an outcome either way (a failed tool is not an error
/// of the operation that records it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionOutcome {
    /// `action.complete`: the tool ran; its result is recorded by hash.
    Executed { result: Value, duration_ms: Option<u64> },
    /// `action.fail`: the tool failed with the host's code and message.
    Failed { error_code: String, error_message: String, duration_ms: Option<u64> },
}

/// The host reports the outcome of running an approved action.
pub fn outcome(
    session: &Session,
    execution_id: &str,
    report: ExecutionOutcome,
    timestamp: String,
    host: &mut dyn Host,
) -> CoreResult<Change> {
    active(session)?;
    let mut exec = find(session, execution_id)?;
    if exec.status != ExecStatus::Approved {
        return Err(CoreError::new(
            ErrorCode::InvalidState,
            format!("execution {} is {}; only an approved execution can report an outcome", exec.execution_id, exec.status.as_str()),
        ));
    }
    let mut em = Emitter::new(&session.chain, timestamp);
    let p = Payload::new().str("action_id", &exec.action_id).str("execution_id", &exec.execution_id);
    let span = exec.span_id.clone();
    match report {
        ExecutionOutcome::Executed { result, duration_ms } => {
            let p = p.u64("duration_ms", duration_ms.unwrap_or(0)).str("result_hash", &canonical_hash(&result));
            em.emit(host, "action.executed", Some(&span), p.finish())?;
            exec.status = ExecStatus::Executed;
        }
        ExecutionOutcome::Failed { error_code, error_message, duration_ms } => {
            let p = p.str("error_code", &error_code).str("error_message", &error_message).opt_u64("duration_ms", duration_ms);
            em.emit(host, "action.failed", Some(&span), p.finish())?;
            exec.status = ExecStatus::Failed;
            exec.reason = Some(error_message);
        }
    }
    Ok(Change { execution: exec, charges: Vec::new(), emitter: em, is_new: true })
}

fn find(session: &Session, execution_id: &str) -> CoreResult<Execution> {
    session.executions.get(execution_id).cloned().ok_or_else(|| {
        CoreError::at(ErrorCode::ExecutionNotFound, "/execution_id", format!("no execution {} in this session", execution_id))
    })
}

fn pending(session: &Session, execution_id: &str, what: &str) -> CoreResult<Execution> {
    let exec = find(session, execution_id)?;
    if exec.status != ExecStatus::PendingApproval {
        return Err(CoreError::new(
            ErrorCode::InvalidState,
            format!("cannot {} execution {}: it is {}, not pending_approval", what, exec.execution_id, exec.status.as_str()),
        ));
    }
    Ok(exec)
}

/// A refusal before the tool runs: the (pseudo-)policy that refused, the reason, and its details.
struct Denial {
    policy_id: String,
    reason: String,
    details: Details,
}

impl Denial {
    fn new(policy_id: &str, reason: &str, details: Details) -> Self {
        Denial { policy_id: policy_id.to_string(), reason: reason.to_string(), details }
    }

    /// A denial whose reason is made from its details (see [`Details::reason`]).
    fn derived(policy_id: &str, details: Details) -> Self {
        let reason = details.reason().unwrap_or_default();
        Denial { policy_id: policy_id.to_string(), reason, details }
    }
}

fn stale() -> Denial {
    let reason = "the resolution could not be re-established after a restart; resolve again";
    Denial::new("stale", reason, Details::new(refusal::RESOLUTION_STALE))
}

fn expired() -> Denial {
    Denial::new("ttl", "the resolution has expired; resolve again", Details::new(refusal::RESOLUTION_EXPIRED))
}

fn not_in_resolution(action_id: &str) -> Denial {
    let mut d = Details::new(refusal::NOT_IN_RESOLUTION);
    d.action_id = Some(action_id.to_string());
    Denial::new("default", "the action is not part of this resolution", d)
}

/// Whether an action may run now: both answers are outcomes (a refusal is traced and answered, not an error).
enum Decision<'r> {
    /// Allowed by `outcome`, behind `gate` if any, with the restricting policies in force.
    Allowed { outcome: &'r Outcome, gate: Option<usize>, restrictors: Vec<usize> },
    Refused(Denial),
}

/// The decision that holds now: a stored denial stands; an allowed action whose policies depend on time or
/// counters is evaluated again with the resolution's request facts.
fn decide<'r>(o: &'r Outcome, resolution: &Resolution, ledger: &Ledger, who: &Who, now: Micros, host: &mut dyn Host) -> Decision<'r> {
    match resolution.verdict_now(o, ledger, who, now, host) {
        Verdict::Allowed { gate, restrictors } => Decision::Allowed { outcome: o, gate, restrictors },
        Verdict::Denied { policy_id, reason, result, retry_after_seconds } => {
            let mut details = Details::by_policy(refusal::code_of_result(result), &policy_id);
            details.retry_after_seconds = retry_after_seconds;
            Decision::Refused(Denial { policy_id, reason, details })
        }
    }
}

/// Whether an execution costing `cost` would overspend the cost budget `p`: the one cost check, made when the
/// execution is requested (against what is left then) and again when it is approved (against what is left by
/// then, as approvals of other executions may have spent it meanwhile). The execution's cost is what its
/// approval charges to every cost budget in force.
fn over_budget(ledger: &Ledger, atlas: &Atlas, p: &Policy, who: &Who, cost: f64) -> bool {
    matches!(p.budget, Some(BudgetParams::Cost { .. })) && cost > ledger.budget_left(atlas, p, who).unwrap_or(0.0)
}

/// The first cost budget among `restrictors` (in policy order) that an execution costing `cost` would overspend.
fn overspent(atlas: &Atlas, restrictors: &[usize], ledger: &Ledger, who: &Who, cost: f64) -> Option<String> {
    restrictors.iter().filter_map(|i| atlas.policies.get(*i)).find(|p| over_budget(ledger, atlas, p, who, cost)).map(|p| p.policy_id.clone())
}

fn budget_exhausted(policy_id: &str) -> Denial {
    Denial::new(policy_id, "budget_exhausted", Details::by_policy(refusal::BUDGET_EXHAUSTED, policy_id))
}

fn charges(atlas: &Rc<Atlas>, restrictors: &[usize]) -> Vec<(Rc<Atlas>, usize)> {
    restrictors
        .iter()
        .filter(|i| atlas.policies.get(**i).map(|p| matches!(p.kind, PolicyKind::RateLimit | PolicyKind::Budget)).unwrap_or(false))
        .map(|i| (atlas.clone(), *i))
        .collect()
}

/// Emits `action.denied` (with the details' `code`, and what of them the trace may keep) and marks `exec` denied.
fn deny(em: &mut Emitter, host: &mut dyn Host, exec: &mut Execution, denial: Denial) -> CoreResult<()> {
    let Denial { policy_id, reason, details } = denial;
    let mut p = Payload::new()
        .str("action_id", &exec.action_id)
        .str("reason", &reason)
        .str("policy_id", &policy_id)
        .str("execution_id", &exec.execution_id)
        .str("code", &details.code)
        .opt_u64("retry_after_seconds", details.retry_after_seconds)
        .opt_str("approver", details.approver.as_deref());
    if let Some(c) = &details.closest {
        p = p.strs("closest", c);
    }
    em.emit(host, "action.denied", Some(&exec.span_id.clone()), p.finish())?;
    exec.status = ExecStatus::Denied;
    exec.policy_id = Some(policy_id);
    exec.reason = Some(reason);
    exec.details = Some(details);
    Ok(())
}

fn approve_into(em: &mut Emitter, host: &mut dyn Host, exec: &mut Execution, approver: Option<String>) -> CoreResult<()> {
    let mut p = Payload::new()
        .str("action_id", &exec.action_id)
        .str("resolution_id", &exec.resolution_id)
        .str("execution_id", &exec.execution_id)
        .opt_str("approver", approver.as_deref());
    if exec.cost > 0.0 {
        p = p.value("cost", &cost_value(exec.cost));
    }
    em.emit(host, "action.approved", Some(&exec.span_id.clone()), p.finish())?;
    exec.status = ExecStatus::Approved;
    exec.reason = None;
    Ok(())
}

/// Payload numbers must be integers (SPEC §4.1); a fractional cost is recorded as its decimal string.
fn cost_value(cost: f64) -> Value {
    match whole(cost) {
        Some(n) => Value::from(n),
        None => Value::String(ryu::Buffer::new().format_finite(cost).to_string()),
    }
}

/// The hash an approval is granted for: the canonical hash of the execution's session, resolution, action and
/// parameters (written canonically at once; a restore recomputes it for every recorded request).
pub fn approval_hash(session_id: &str, resolution_id: &str, action_id: &str, parameters_hash: &str) -> String {
    let text = Payload::new()
        .str("session_id", session_id)
        .str("resolution_id", resolution_id)
        .str("action_id", action_id)
        .str("parameters_hash", parameters_hash)
        .finish();
    sha256_hex(text.as_bytes())
}

/// The `cost` an event's payload records (`action.requested` of a pending execution, `action.approved`), as
/// [`cost_value`] wrote it; 0 when it records none. A cost the core cannot have written (negative, not finite,
/// not a number) fits no budget: it is read as infinite (fail closed).
pub fn recorded_cost(payload: &Map<String, Value>) -> f64 {
    let cost = match payload.get("cost") {
        None => return 0.0,
        Some(Value::String(c)) => c.parse::<f64>().ok(),
        Some(v) => v.as_f64(),
    };
    match cost {
        Some(c) if c >= 0.0 && c.is_finite() => c,
        _ => f64::INFINITY,
    }
}

/// `n` as an integer when it is one (and exactly representable as one).
fn whole(n: f64) -> Option<i64> {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Some(n as i64)
    } else {
        None
    }
}

/// Every parameter outside a scope policy's bounds (allowed values first, then maxima, in the policy's order).
fn scope_violations(policy_id: &str, s: &crate::atlas::model::ScopeParams, params: &Map<String, Value>) -> Vec<Violation> {
    let mut out = Vec::new();
    let violation = |name: &str, constraint: &str, value: &Value, message: String| Violation {
        policy_id: policy_id.to_string(),
        parameter: name.to_string(),
        constraint: constraint.to_string(),
        limit: None,
        allowed: None,
        value: Some(value.clone()),
        message,
    };
    for (name, allowed) in &s.allowed_values {
        if let Some(v) = params.get(name) {
            if !allowed.iter().any(|a| json_eq(a, v)) {
                let mut x = violation(name, "allowed_values", v, format!("`{}` is not one of the allowed values", name));
                x.allowed = Some(allowed.clone());
                out.push(x);
            }
        }
    }
    for (name, max) in &s.max {
        if let Some(v) = params.get(name) {
            let mut x = match v.as_f64() {
                Some(n) if n <= *max => continue,
                Some(_) => violation(name, "max", v, format!("`{}` exceeds the maximum {}", name, number_text(*max))),
                None => violation(name, "number", v, format!("`{}` must be a number", name)),
            };
            x.limit = Some(number_value(*max));
            out.push(x);
        }
    }
    out
}

/// A number as a person writes it: `500`, not `500.0`.
fn number_text(n: f64) -> String {
    match whole(n) {
        Some(i) => itoa::Buffer::new().format(i).to_string(),
        None => ryu::Buffer::new().format(n).to_string(),
    }
}

/// A number as JSON: integral ones as integers.
fn number_value(n: f64) -> Value {
    match whole(n) {
        Some(i) => Value::from(i),
        None => serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
    }
}

/// JSON equality with numbers compared by value (1 == 1.0).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obj;

    #[test]
    fn approval_hash_is_the_canonical_hash_of_its_four_members() {
        for (s, r, a, p) in [("s", "r", "a.b", "p"), ("", "é\"\\\n", "x\u{1F600}", "\u{7f}\u{1f}")] {
            let expected = canonical_hash(&obj!("session_id": s, "resolution_id": r, "action_id": a, "parameters_hash": p));
            assert_eq!(approval_hash(s, r, a, p), expected);
        }
    }
}
