//! Session state held by the core: identity, the chain head, resolutions and executions. Everything here can be
//! rebuilt from the session's trace (see `runtime::restore`).

use crate::obj;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::json::JsonOut;
use crate::time::{format_micros, Micros};
use crate::trace::ChainHead;

use super::refusal::Details;
use super::resolve::Resolution;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecStatus {
    PendingApproval,
    Approved,
    Denied,
    Violated,
    Executed,
    Failed,
}

impl ExecStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecStatus::PendingApproval => "pending_approval",
            ExecStatus::Approved => "approved",
            ExecStatus::Denied => "denied",
            ExecStatus::Violated => "violated",
            ExecStatus::Executed => "executed",
            ExecStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Execution {
    pub execution_id: String,
    pub resolution_id: String,
    pub action_id: String,
    pub status: ExecStatus,
    pub parameters_hash: String,
    /// SHA-256 of the canonical `{action_id, parameters_hash, resolution_id, session_id}`: what an approval is
    /// bound to (the parameters through their hash, so that a restored session can still check approvals).
    pub approval_hash: String,
    pub reason: Option<String>,
    pub policy_id: Option<String>,
    pub created_at: Micros,
    /// The span of `action.requested`; later events of this execution are its children.
    pub span_id: String,
    pub idempotency_key: Option<String>,
    /// Cost charged to cost budgets on approval (from the budget's `cost_param`).
    pub cost: f64,
    /// Why a denied or violated execution was refused, as data (`None` for every other status).
    pub details: Option<Details>,
}

impl Execution {
    /// The ABI's `Execution`; `retry_after_seconds` only on a rate-limited denial; `details` null unless the
    /// execution was denied or violated.
    pub fn to_json(&self, session_id: &str) -> Value {
        let mut v = obj!(
            "execution_id": &self.execution_id,
            "session_id": session_id,
            "resolution_id": &self.resolution_id,
            "action_id": &self.action_id,
            "status": self.status.as_str(),
            "parameters_hash": &self.parameters_hash,
            "approval_hash": &self.approval_hash,
            "reason": &self.reason,
            "policy_id": &self.policy_id,
            "created_at": format_micros(self.created_at),
        );
        if let Value::Object(m) = &mut v {
            // A rate-limited denial also says how long to wait at the top level (what HTTP's Retry-After reads).
            if let Some(r) = self.details.as_ref().and_then(|d| d.retry_after_seconds) {
                m.insert("retry_after_seconds".into(), Value::from(r));
            }
            let refused = matches!(self.status, ExecStatus::Denied | ExecStatus::Violated);
            m.insert("details".into(), self.details.as_ref().filter(|_| refused).map_or(Value::Null, Details::to_json));
        }
        v
    }

    /// Writes what [`Execution::to_json`] answers, member for member, without building the value first (the
    /// answer of every request and outcome).
    pub fn write_json(&self, session_id: &str, out: &mut JsonOut) {
        out.begin_object();
        out.key("execution_id").str(&self.execution_id);
        out.key("session_id").str(session_id);
        out.key("resolution_id").str(&self.resolution_id);
        out.key("action_id").str(&self.action_id);
        out.key("status").str(self.status.as_str());
        out.key("parameters_hash").str(&self.parameters_hash);
        out.key("approval_hash").str(&self.approval_hash);
        out.key("reason").opt_str(self.reason.as_deref());
        out.key("policy_id").opt_str(self.policy_id.as_deref());
        out.key("created_at").opt_str(format_micros(self.created_at).as_deref());
        if let Some(r) = self.details.as_ref().and_then(|d| d.retry_after_seconds) {
            out.key("retry_after_seconds").u64(r);
        }
        let refused = matches!(self.status, ExecStatus::Denied | ExecStatus::Violated);
        match self.details.as_ref().filter(|_| refused) {
            Some(d) => out.key("details").value(&d.to_json()),
            None => out.key("details").null(),
        };
        out.end_object();
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub session_id: String,
    pub agent_id: String,
    /// The tenant the host created the session for: whose rate-limit windows of scope agent and global it uses
    /// (see `ledger`); `None` shares the owner "".
    pub owner: Option<String>,
    pub goal: String,
    pub parent_session_id: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    pub ended: bool,
    pub created_at: Micros,
    pub ended_at: Option<Micros>,
    pub chain: ChainHead,
    /// Span of `session.started`: the root of the session's span tree.
    pub root_span: String,
    pub handle: u32,
    pub resolutions: HashMap<String, Resolution>,
    /// The latest resolution: what `cra_check` answers from.
    pub current: Option<String>,
    pub executions: HashMap<String, Execution>,
    pub request_ids: HashSet<String>,
    pub idempotency: HashMap<String, String>,
    pub resolution_count: u64,
    pub action_count: u64,
}

impl Session {
    /// The ABI's `Session`, with `owner` only when the session has one.
    pub fn to_json(&self) -> Value {
        let mut v = obj!(
            "session_id": &self.session_id,
            "agent_id": &self.agent_id,
            "goal": &self.goal,
            "status": if self.ended { "ended" } else { "active" },
            "created_at": format_micros(self.created_at),
            "ended_at": self.ended_at.and_then(format_micros),
            "event_count": &self.chain.next_sequence,
            "head_hash": &self.chain.head_hash,
            "resolution_count": &self.resolution_count,
            "action_count": &self.action_count,
            "trace_id": &self.chain.trace_id,
            "parent_session_id": &self.parent_session_id,
            "metadata": &self.metadata,
        );
        if let (Value::Object(m), Some(owner)) = (&mut v, &self.owner) {
            m.insert("owner".into(), Value::String(owner.clone()));
        }
        v
    }

    /// The owner the ledger binds the session to ("" for none).
    pub fn ledger_owner(&self) -> &str {
        self.owner.as_deref().unwrap_or("")
    }

    pub fn current_resolution(&self) -> Option<&Resolution> {
        self.current.as_ref().and_then(|id| self.resolutions.get(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn execution(status: ExecStatus, details: Option<Details>) -> Execution {
        Execution {
            execution_id: "01234567-89ab-7def-8123-456789abcdef".into(),
            resolution_id: "11111111-1111-7111-8111-111111111111".into(),
            action_id: "doc.read".into(),
            status,
            parameters_hash: "a".repeat(64),
            approval_hash: "b".repeat(64),
            reason: Some("a \"quoted\" reason".into()),
            policy_id: None,
            created_at: 1_700_000_000_123_456,
            span_id: String::new(),
            idempotency_key: None,
            cost: 0.0,
            details,
        }
    }

    #[test]
    fn write_json_writes_what_to_json_answers() {
        let mut limited = Details::by_policy("rate_limited", "limits");
        limited.retry_after_seconds = Some(7);
        limited.errors.push(("/a".into(), "is wrong".into()));
        let cases = [
            execution(ExecStatus::Approved, None),
            execution(ExecStatus::Denied, Some(limited.clone())),
            execution(ExecStatus::Violated, Some(Details::new("schema_invalid"))),
            execution(ExecStatus::Executed, Some(limited)),
            execution(ExecStatus::PendingApproval, None),
        ];
        for e in &cases {
            let mut out = JsonOut::new();
            e.write_json("22222222-2222-7222-8222-222222222222", &mut out);
            assert_eq!(out.as_str(), JsonOut::of_value(&e.to_json("22222222-2222-7222-8222-222222222222")));
        }
    }
}
