//! Policy evaluation for one action and one request (SPEC §3). The action's applicable policies were sorted at
//! load time (type order, priority, declaration), so evaluation is one pass over a short list.
//!
//! Semantics, where SPEC leaves room:
//! - `deny` is final. `require_approval` gates the action but does not exempt it from limits, so an exhausted
//!   `rate_limit` or `budget` later in the order still denies it.
//! - A matching `require_approval`, `rate_limit`, `budget` or `allow` policy grants the action (subject to its
//!   restriction); an action's own `requires_confirmation` / `rate_limit` only restrict and never grant.
//! - `scope` never grants: it is checked at execute time. Nothing granted → default deny (or allow, when the
//!   runtime's `default_decision` says so).

use crate::atlas::{Action, Atlas, Facts, PolicyKind};
use crate::host::Host;

use super::ledger::{Ledger, Who};

/// The result of evaluating an action's policies, as the `policy.evaluated` event records it (`result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyResult {
    /// A `deny` policy.
    Deny,
    /// Allowed behind a `require_approval` gate (recorded for gated actions; never a denial).
    RequireApproval,
    /// A `rate_limit` policy is exhausted.
    RateLimited,
    /// A `budget` policy is spent.
    BudgetExhausted,
    /// No policy grants the action.
    DefaultDeny,
    /// The action's atlas was unloaded since the resolve: answered at check and execute time, never recorded.
    Unloaded,
}

impl PolicyResult {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyResult::Deny => "deny",
            PolicyResult::RequireApproval => "require_approval",
            PolicyResult::RateLimited => "rate_limited",
            PolicyResult::BudgetExhausted => "budget_exhausted",
            PolicyResult::DefaultDeny => "default_deny",
            PolicyResult::Unloaded => "unloaded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed {
        /// The `require_approval` policy that gates the action, if any.
        gate: Option<usize>,
        /// Restricting policies in force (require_approval, rate_limit, budget, scope, and allows bounded by a time
        /// window), for constraints and checks.
        restrictors: Vec<usize>,
    },
    Denied {
        policy_id: String,
        reason: String,
        /// Why: `Deny`, `RateLimited`, `BudgetExhausted`, `DefaultDeny` or `Unloaded` (never `RequireApproval`).
        result: PolicyResult,
        retry_after_seconds: Option<u64>,
    },
}

impl Verdict {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Verdict::Allowed { .. })
    }

    pub fn gated(&self) -> bool {
        matches!(self, Verdict::Allowed { gate: Some(_), .. })
    }
}

pub fn evaluate(
    atlas: &Atlas,
    action: &Action,
    facts: &Facts,
    host: &mut dyn Host,
    ledger: &Ledger,
    who: &Who,
    default_allow: bool,
) -> Verdict {
    let mut gate = None;
    let mut restrictors = Vec::new();
    let mut granted = false;
    for &idx in &action.policies {
        let p = match atlas.policies.get(idx) {
            Some(p) => p,
            None => continue,
        };
        if let Some(c) = &p.conditions {
            if !c.holds(facts, host, p.kind != PolicyKind::Allow) {
                continue;
            }
        }
        match p.kind {
            PolicyKind::Deny => {
                return Verdict::Denied {
                    policy_id: p.policy_id.clone(),
                    reason: p.reason.clone().unwrap_or_else(|| format!("Denied by policy {}", p.policy_id)),
                    result: PolicyResult::Deny,
                    retry_after_seconds: None,
                }
            }
            PolicyKind::RequireApproval => {
                gate.get_or_insert(idx);
                restrictors.push(idx);
            }
            PolicyKind::RateLimit => {
                if let Some(wait) = ledger.rate_retry_after(atlas, p, &action.action_id, who, facts.now) {
                    return Verdict::Denied {
                        policy_id: p.policy_id.clone(),
                        reason: "rate_limited".into(),
                        result: PolicyResult::RateLimited,
                        retry_after_seconds: Some(wait),
                    };
                }
                restrictors.push(idx);
            }
            PolicyKind::Budget => {
                if ledger.budget_left(atlas, p, who).map(|left| left <= 0.0).unwrap_or(false) {
                    return Verdict::Denied {
                        policy_id: p.policy_id.clone(),
                        reason: "budget_exhausted".into(),
                        result: PolicyResult::BudgetExhausted,
                        retry_after_seconds: None,
                    };
                }
                restrictors.push(idx);
            }
            // A grant that holds only inside a time window is answered as a `time_window` constraint.
            PolicyKind::Allow => {
                if p.conditions.as_ref().map_or(false, |c| c.time_window.is_some()) {
                    restrictors.push(idx);
                }
            }
            PolicyKind::Scope => restrictors.push(idx),
        }
        if !p.implicit && p.kind != PolicyKind::Scope {
            granted = true;
        }
    }
    if granted || default_allow {
        Verdict::Allowed { gate, restrictors }
    } else {
        Verdict::Denied {
            policy_id: "default".into(),
            reason: "No policy allows this action (default deny)".into(),
            result: PolicyResult::DefaultDeny,
            retry_after_seconds: None,
        }
    }
}
