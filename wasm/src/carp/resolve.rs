//! Resolution (SPEC §2–§3): which actions of the atlases in scope are allowed, gated or denied for a request,
//! which context goes with them, the decision type, and the events a resolve emits. Computing and emitting are
//! separate so that `validate` (a dry run), replay and restore share the exact computation.

use crate::obj;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Map, Value};

use crate::atlas::{Action, Atlas, BudgetParams, Facts, PackBlock, PolicyKind, RiskTier};
use crate::error::CoreResult;
use crate::host::{fresh_id, Host};
use crate::time::{format_micros, Micros};
use crate::input::payload_safe_map;
use crate::json::{parse_strict, write_canonical_map, JsonOut, Payload};
use crate::trace::Emitter;

use super::context::select;
use super::handles::Interner;
use super::ledger::{Ledger, Who};
use super::policy::{evaluate, PolicyResult, Verdict};
use super::request::Request;

/// The request's facts, kept with the resolution so that execute-time checks evaluate the same conditions.
#[derive(Debug, Clone)]
pub struct RequestFacts {
    pub risk_tier: RiskTier,
    pub agent_id: String,
    pub capabilities: Vec<String>,
    pub context: Map<String, Value>,
}

impl RequestFacts {
    pub fn at(&self, now: Micros) -> Facts<'_> {
        Facts {
            risk_tier: self.risk_tier,
            agent_id: &self.agent_id,
            capabilities: &self.capabilities,
            context: &self.context,
            now,
        }
    }
}

/// The verdict on one action of one atlas.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub atlas: Rc<Atlas>,
    /// Index of the action in `atlas.actions`: in bounds, checked by [`Outcome::new`] (an atlas never changes
    /// behind its `Rc`).
    action_index: usize,
    pub handle: u32,
    pub verdict: Verdict,
}

impl Outcome {
    /// `None` when `action_index` is not an action of `atlas`.
    pub fn new(atlas: Rc<Atlas>, action_index: usize, handle: u32, verdict: Verdict) -> Option<Outcome> {
        atlas.actions.get(action_index)?;
        Some(Outcome { atlas, action_index, handle, verdict })
    }

    #[allow(clippy::indexing_slicing)] // in bounds: `new` checked the index, and the atlas is immutable
    pub fn action(&self) -> &crate::atlas::Action {
        &self.atlas.actions[self.action_index]
    }
}

#[derive(Debug, Clone)]
pub struct Resolution {
    pub resolution_id: String,
    pub request_id: String,
    pub timestamp: Micros,
    pub ttl_seconds: u64,
    pub decision: &'static str,
    pub reason: Option<String>,
    pub approval_id: Option<String>,
    pub blocks: Vec<Rc<PackBlock>>,
    pub outcomes: Vec<Outcome>,
    /// Outcome index by action handle: the lookup behind `cra_check`.
    pub by_handle: HashMap<u32, usize>,
    pub atlas_ids: Vec<String>,
    pub trace_id: String,
    pub facts: RequestFacts,
    /// Span of this request's `carp.request.received`.
    pub request_span: String,
    /// Rebuilt from a trace whose recorded outcome this runtime no longer reproduces: nothing may run on it.
    pub stale: bool,
    /// The runtime's default decision when this resolution was made; re-evaluations (time windows, limits) at
    /// check and execute time use it too, so that a lapsed allow window falls back to the same default.
    pub default_allow: bool,
}

/// What a resolve needs from the runtime.
pub struct Env<'a> {
    pub atlases: Vec<Rc<Atlas>>,
    pub ledger: &'a Ledger,
    pub handles: &'a Interner,
    pub default_allow: bool,
    pub max_context_tokens: u64,
    pub ttl_seconds: u64,
    /// A restore's recorded limit denials by action id (its trace's `policy.evaluated`), which stand for the
    /// ledger of the past: the ledger keeps only what can still count, the trace what counted then.
    pub recorded_limits: Option<&'a HashMap<String, Verdict>>,
}

impl Resolution {
    pub fn expires_at(&self) -> Micros {
        self.timestamp.saturating_add((self.ttl_seconds as i64).saturating_mul(1_000_000))
    }

    pub fn expired(&self, now: Micros) -> bool {
        now >= self.expires_at()
    }

    /// The verdict that holds now for one of this resolution's outcomes: a stored denial stands; an allowed action
    /// whose policies depend on time or counters is evaluated again with the request's facts (keeping the gate).
    /// `cra_check` and `action.request` both answer from this, so they always agree.
    pub fn verdict_now(&self, o: &Outcome, ledger: &Ledger, who: &Who, now: Micros, host: &mut dyn Host) -> Verdict {
        if o.atlas.unloaded.get() {
            return Verdict::Denied {
                policy_id: "unloaded".into(),
                reason: format!("atlas {} was unloaded; resolve again", o.atlas.atlas_id),
                result: PolicyResult::Unloaded,
                retry_after_seconds: None,
            };
        }
        let stored_gate = match &o.verdict {
            Verdict::Allowed { gate, .. } if o.action().dynamic => *gate,
            stored => return stored.clone(),
        };
        match evaluate(&o.atlas, o.action(), &self.facts.at(now), host, ledger, who, self.default_allow) {
            Verdict::Allowed { gate, restrictors } => Verdict::Allowed { gate: gate.or(stored_gate), restrictors },
            denied => denied,
        }
    }

    /// The outcome for an action id (execution requests name actions by id; checks use `by_handle`).
    pub fn outcome(&self, action_id: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.action().action_id == action_id)
    }

    pub fn allowed_count(&self) -> usize {
        self.outcomes.iter().filter(|o| o.verdict.is_allowed()).count()
    }

    pub fn denied_count(&self) -> usize {
        self.outcomes.len() - self.allowed_count()
    }

    /// Writes the resolution (SPEC §2). With `compact_actions`, each allowed action carries only what this
    /// resolution decided (`action_id`, `requires_confirmation`, `rate_limit`); the host holds the rest from the
    /// descriptors that `atlas.load` answered. Constraints (with the limits' remaining counts) are derived here
    /// from `ledger`, which must be the one the resolution was computed with: they are answered, never kept.
    pub fn write_json(&self, out: &mut JsonOut, compact_actions: bool, ledger: &Ledger, session_id: &str) {
        let who = Who { session_id, agent_id: &self.facts.agent_id };
        let constraints = constraints(&self.outcomes, ledger, &who, self.timestamp);
        out.begin_object();
        out.key("carp_version").str("1.0");
        out.key("resolution_id").str(&self.resolution_id);
        out.key("request_id").str(&self.request_id);
        out.key("timestamp").opt_str(format_micros(self.timestamp).as_deref());
        out.key("decision").begin_object();
        out.key("type").str(self.decision);
        out.key("reason").opt_str(self.reason.as_deref());
        out.key("approval_id").opt_str(self.approval_id.as_deref());
        let expires = if self.approval_id.is_some() { format_micros(self.expires_at()) } else { None };
        out.key("expires_at").opt_str(expires.as_deref());
        out.end_object();
        out.key("context_blocks").begin_array();
        for b in &self.blocks {
            out.raw(&b.json);
        }
        out.end_array();
        out.key("allowed_actions").begin_array();
        for o in &self.outcomes {
            if let Verdict::Allowed { gate, restrictors } = &o.verdict {
                let a = o.action();
                out.begin_object();
                if compact_actions {
                    out.key("action_id").str(&a.action_id);
                } else {
                    out.raw_members(&a.descriptor);
                }
                out.key("requires_confirmation").bool(gate.is_some());
                let rate = restrictors.iter().filter_map(|i| o.atlas.policies.get(*i)).find_map(|p| p.rate.as_ref());
                if let Some(r) = rate {
                    out.key("rate_limit").begin_object();
                    out.key("max_calls").u64(r.max_calls);
                    out.key("window_seconds").u64(r.window_seconds);
                    out.end_object();
                }
                out.end_object();
            }
        }
        out.end_array();
        out.key("denied_actions").begin_array();
        for o in &self.outcomes {
            if let Verdict::Denied { policy_id, reason, .. } = &o.verdict {
                out.begin_object();
                out.key("action_id").str(&o.action().action_id);
                out.key("reason").str(reason);
                out.key("policy_id").str(policy_id);
                out.end_object();
            }
        }
        out.end_array();
        out.key("constraints").begin_array();
        for c in &constraints {
            out.value(c);
        }
        out.end_array();
        out.key("ttl_seconds").u64(self.ttl_seconds);
        out.key("trace_id").str(&self.trace_id);
        out.end_object();
    }

    /// The resolve events (SPEC §4): request received, context injected, restricted actions, completion.
    pub fn emit(&self, req: &Request, root_span: &str, em: &mut Emitter, host: &mut dyn Host) -> CoreResult<String> {
        let restricted = self.outcomes.iter().filter(|o| !o.verdict.is_allowed() || o.verdict.gated()).count();
        em.reserve(host, 2 + self.blocks.len() + restricted)?;
        let span = em.emit(host, "carp.request.received", Some(root_span), request_payload(req, &self.atlas_ids))?;
        for b in &self.blocks {
            em.emit(host, "context.injected", Some(&span), b.injected.clone())?;
        }
        for o in &self.outcomes {
            if let Some(p) = evaluated_payload(o) {
                em.emit(host, "policy.evaluated", Some(&span), p)?;
            }
        }
        let p = Payload::new()
            .str("resolution_id", &self.resolution_id)
            .str("request_id", &self.request_id)
            .str("decision_type", self.decision)
            .u64("allowed_count", self.allowed_count() as u64)
            .u64("denied_count", self.denied_count() as u64)
            .u64("context_block_count", self.blocks.len() as u64)
            .u64("ttl_seconds", self.ttl_seconds)
            .opt_str("approval_id", self.approval_id.as_deref());
        em.emit(host, "carp.resolution.completed", Some(&span), p.finish())?;
        Ok(span)
    }
}

/// `carp.request.received`: the protocol's four fields, plus the request's other inputs when they are not the
/// defaults, so that replay can re-run the request from the trace alone.
pub fn request_payload(req: &Request, atlas_ids: &[String]) -> String {
    let mut p = Payload::new()
        .str("request_id", &req.request_id)
        .str("operation", req.operation.as_str())
        .str("goal", &req.goal)
        .strs("atlas_ids", atlas_ids);
    if req.tier() != RiskTier::Low {
        p = p.str("risk_tier", req.tier().as_str());
    }
    if let Some(caps) = &req.required_capabilities {
        p = p.strs("required_capabilities", caps);
    }
    if !req.context_hints.is_empty() {
        p = p.strs("context_hints", &req.context_hints);
    }
    if !req.context.is_empty() {
        p = recorded_map(p, "context", "context_json", &req.context);
    }
    p.finish()
}

/// Records a caller's object in a payload: as itself when it is within SPEC §4.1's safe subset (keys
/// `[a-z0-9_]+`, integer numbers), else as its canonical JSON text under `text_key`, so that every payload the
/// runtime emits stays in the subset on which all canonical-JSON readings agree, and nothing is lost for replay.
pub fn recorded_map(p: Payload, key: &'static str, text_key: &'static str, m: &Map<String, Value>) -> Payload {
    if payload_safe_map(m, "").is_ok() {
        p.map(key, m)
    } else {
        let mut text = String::new();
        write_canonical_map(m, &mut text);
        p.str(text_key, &text)
    }
}

/// The object recorded by [`recorded_map`], read back from a payload.
pub fn recorded_map_of(p: &Map<String, Value>, key: &str, text_key: &str) -> Option<Map<String, Value>> {
    if let Some(m) = p.get(key).and_then(Value::as_object) {
        return Some(m.clone());
    }
    match p.get(text_key).and_then(Value::as_str).map(|t| parse_strict(t.as_bytes())) {
        Some(Ok(Value::Object(m))) => Some(m),
        _ => None,
    }
}

fn evaluated_payload(o: &Outcome) -> Option<String> {
    let (policy_id, result, retry) = match &o.verdict {
        Verdict::Denied { policy_id, result, retry_after_seconds, .. } => (policy_id.as_str(), *result, *retry_after_seconds),
        Verdict::Allowed { gate: Some(g), .. } => (o.atlas.policies.get(*g)?.policy_id.as_str(), PolicyResult::RequireApproval, None),
        Verdict::Allowed { .. } => return None,
    };
    let p = Payload::new()
        .str("policy_id", policy_id)
        .str("result", result.as_str())
        .str("action_id", &o.action().action_id)
        .opt_u64("retry_after_seconds", retry);
    Some(p.finish())
}

/// Computes the resolution of `req` for session `session_id` at `now`.
pub fn compute(env: &mut Env, req: &Request, session_id: &str, trace_id: &str, now: Micros, host: &mut dyn Host) -> CoreResult<Resolution> {
    let facts = RequestFacts {
        risk_tier: req.tier(),
        agent_id: req.agent_id.clone(),
        capabilities: req.required_capabilities.clone().unwrap_or_default(),
        context: req.context.clone(),
    };
    let who = Who { session_id, agent_id: &req.agent_id };

    // Which actions are considered: the atlases' actions, narrowed to the required capabilities' actions.
    // Per atlas, the indices of the actions considered (ascending: atlas order); `None`: all of them.
    let mut unknown_caps = Vec::new();
    let mut narrowed: Option<Vec<Vec<usize>>> = None;
    if let Some(caps) = &req.required_capabilities {
        let mut per_atlas = vec![Vec::new(); env.atlases.len()];
        for cap in caps {
            let mut found = false;
            for (members, atlas) in per_atlas.iter_mut().zip(env.atlases.iter()) {
                if let Some(c) = atlas.capability(cap) {
                    found = true;
                    members.extend_from_slice(&c.members);
                }
            }
            if !found {
                unknown_caps.push(cap.clone());
            }
        }
        for members in &mut per_atlas {
            crate::atlas::sort_indices(members, &|a, b| a.cmp(&b));
        }
        narrowed = Some(per_atlas);
    }
    let mut outcomes = Vec::new();
    let mut by_handle = HashMap::new();
    for (ai, atlas) in env.atlases.iter().enumerate() {
        let every: Vec<usize>;
        let considered: &[usize] = match narrowed.as_ref().and_then(|n| n.get(ai)) {
            Some(members) => members,
            None => {
                every = (0..atlas.actions.len()).collect();
                &every
            }
        };
        for &idx in considered {
            let action = match atlas.actions.get(idx) {
                Some(a) => a,
                None => continue,
            };
            // Atlas actions are interned at load time; 0 (never a handle) only if that invariant broke.
            let handle = env.handles.get(&action.action_id).unwrap_or(0);
            if by_handle.contains_key(&handle) {
                continue;
            }
            let mut verdict = evaluate(atlas, action, &facts.at(now), host, env.ledger, &who, env.default_allow);
            if let Some(recorded) = env.recorded_limits.and_then(|r| r.get(&action.action_id)) {
                verdict = recorded_limit(atlas, action, verdict, recorded);
            }
            if let Some(o) = Outcome::new(atlas.clone(), idx, handle, verdict) {
                by_handle.insert(handle, outcomes.len());
                outcomes.push(o);
            }
        }
    }

    let outright = outcomes.iter().filter(|o| o.verdict.is_allowed() && !o.verdict.gated()).count();
    let gated = outcomes.iter().filter(|o| o.verdict.gated()).count();
    let denied = outcomes.len() - outright - gated;
    let decision = if req.required_capabilities.is_some() {
        if outright + gated == 0 {
            "deny"
        } else if outright == 0 {
            "requires_approval"
        } else if gated == 0 && denied == 0 && unknown_caps.is_empty() {
            "allow"
        } else {
            "partial"
        }
    } else if outright > 0 {
        "allow"
    } else if gated > 0 {
        "requires_approval"
    } else {
        "deny"
    };
    let reason = decision_reason(decision, &outcomes, &unknown_caps);

    let budget = req.max_context_tokens().unwrap_or(env.max_context_tokens);
    let scope_caps = req.required_capabilities.as_deref();
    let blocks = select(&env.atlases, scope_caps, &facts.at(now), host, budget);

    let resolution_id = fresh_id(host)?;
    let approval_id = if decision == "requires_approval" { Some(fresh_id(host)?) } else { None };
    Ok(Resolution {
        resolution_id,
        request_id: req.request_id.clone(),
        timestamp: now,
        ttl_seconds: env.ttl_seconds,
        decision,
        reason,
        approval_id,
        blocks,
        outcomes,
        by_handle,
        atlas_ids: env.atlases.iter().map(|a| a.atlas_id.clone()).collect(),
        trace_id: trace_id.to_string(),
        facts,
        request_span: String::new(),
        stale: false,
        default_allow: env.default_allow,
    })
}

/// A restore recomputes a resolution at its recorded time, but shared windows no longer hold approvals that have
/// aged out since (nor those pushed out by newer ones): where the trace recorded that a limit of the action denied
/// it, that denial stands — unless the action no longer has that limit (the atlas changed), or something other than
/// a limit denies it now. It only ever turns an allowance into a denial (fail closed).
fn recorded_limit(atlas: &Atlas, action: &Action, computed: Verdict, recorded: &Verdict) -> Verdict {
    let recorded_policy = match recorded {
        Verdict::Denied { policy_id, .. } => policy_id,
        Verdict::Allowed { .. } => return computed,
    };
    let has_limit = action
        .policies
        .iter()
        .filter_map(|i| atlas.policies.get(*i))
        .any(|p| &p.policy_id == recorded_policy && matches!(p.kind, PolicyKind::RateLimit | PolicyKind::Budget));
    let overridable = match &computed {
        Verdict::Allowed { .. } => true,
        Verdict::Denied { result, .. } => matches!(result, PolicyResult::RateLimited | PolicyResult::BudgetExhausted),
    };
    if has_limit && overridable {
        recorded.clone()
    } else {
        computed
    }
}

fn decision_reason(decision: &str, outcomes: &[Outcome], unknown_caps: &[String]) -> Option<String> {
    let denied: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.verdict.is_allowed())
        .map(|o| o.action().action_id.as_str())
        .collect();
    let mut parts = Vec::new();
    if !unknown_caps.is_empty() {
        parts.push(format!("unknown capabilities: {}", unknown_caps.join(", ")));
    }
    match decision {
        "allow" => return None,
        "deny" if outcomes.is_empty() => parts.insert(0, "no actions are in scope".to_string()),
        "deny" => parts.insert(0, "no action is allowed for this request".to_string()),
        "requires_approval" => {
            let gated: Vec<&str> =
                outcomes.iter().filter(|o| o.verdict.gated()).map(|o| o.action().action_id.as_str()).collect();
            parts.insert(0, format!("approval required for: {}", gated.join(", ")));
        }
        _ => {
            if !denied.is_empty() {
                parts.insert(0, format!("denied: {}", denied.join(", ")));
            }
            let gated: Vec<&str> =
                outcomes.iter().filter(|o| o.verdict.gated()).map(|o| o.action().action_id.as_str()).collect();
            if !gated.is_empty() {
                parts.push(format!("approval required for: {}", gated.join(", ")));
            }
        }
    }
    let mut s = parts.join("; ");
    if let Some(first) = s.get(0..1) {
        let upper = first.to_ascii_uppercase();
        s.replace_range(0..1, &upper);
    }
    Some(s)
}

/// One constraint per restricting policy in force on an allowed action, listing the actions it restricts.
fn constraints(outcomes: &[Outcome], ledger: &Ledger, who: &Who, now: Micros) -> Vec<Value> {
    let mut order: Vec<(String, usize, Rc<Atlas>)> = Vec::new();
    let mut actions: HashMap<(String, usize), Vec<String>> = HashMap::new();
    for o in outcomes {
        if let Verdict::Allowed { restrictors, .. } = &o.verdict {
            for &i in restrictors {
                let key = (o.atlas.atlas_id.clone(), i);
                if !actions.contains_key(&key) {
                    order.push((key.0.clone(), i, o.atlas.clone()));
                }
                actions.entry(key).or_default().push(o.action().action_id.clone());
            }
        }
    }
    let mut out = Vec::new();
    for (atlas_id, i, atlas) in order {
        let p = match atlas.policies.get(i) {
            Some(p) => p,
            None => continue,
        };
        let ids = actions.remove(&(atlas_id, i)).unwrap_or_default();
        let mut params = Map::new();
        match p.kind {
            PolicyKind::RateLimit => {
                if let Some(r) = &p.rate {
                    params.insert("max_calls".into(), Value::from(r.max_calls));
                    params.insert("window_seconds".into(), Value::from(r.window_seconds));
                    params.insert("scope".into(), Value::from(r.scope.as_str()));
                    let remaining: Map<String, Value> = ids
                        .iter()
                        .map(|a| (a.clone(), Value::from(r.max_calls.saturating_sub(ledger.calls_in_window(&atlas, p, a, who, now)))))
                        .collect();
                    params.insert("remaining".into(), Value::Object(remaining));
                }
            }
            PolicyKind::Budget => match &p.budget {
                Some(BudgetParams::Calls(n)) => {
                    params.insert("max_calls".into(), Value::from(*n));
                    params.insert("remaining".into(), Value::from(ledger.budget_left(&atlas, p, who).unwrap_or(0.0) as u64));
                }
                Some(BudgetParams::Cost { max_cost, cost_param }) => {
                    params.insert("max_cost".into(), Value::from(*max_cost));
                    params.insert("cost_param".into(), Value::String(cost_param.clone()));
                    params.insert("remaining".into(), Value::from(ledger.budget_left(&atlas, p, who).unwrap_or(0.0)));
                }
                None => {}
            },
            PolicyKind::Scope => {
                if let Some(s) = &p.scope {
                    if !s.allowed_values.is_empty() {
                        let m: Map<String, Value> =
                            s.allowed_values.iter().map(|(k, v)| (k.clone(), Value::Array(v.clone()))).collect();
                        params.insert("allowed_values".into(), Value::Object(m));
                    }
                    if !s.max.is_empty() {
                        let m: Map<String, Value> = s.max.iter().map(|(k, v)| (k.clone(), Value::from(*v))).collect();
                        params.insert("max".into(), Value::Object(m));
                    }
                }
            }
            PolicyKind::Allow => {
                if let Some(Value::Object(w)) = p.conditions.as_ref().and_then(|c| c.time_window.as_ref()).map(|w| &w.raw) {
                    params.extend(w.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            _ => {}
        }
        if let Some(r) = &p.reason {
            params.insert("reason".into(), Value::String(r.clone()));
        }
        params.insert("actions".into(), Value::Array(ids.into_iter().map(Value::String).collect()));
        let kind = if p.kind == PolicyKind::Allow { "time_window" } else { p.kind.as_str() };
        out.push(obj!("constraint_id": &p.policy_id, "type": kind, "parameters": params));
    }
    out
}
