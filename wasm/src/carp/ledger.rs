//! Usage counters for rate limits and budgets. Only *executions* count (SPEC §9: the reference counted
//! resolutions): an execution is recorded when it is approved, at the host time of the approval.

use std::collections::{HashMap, VecDeque};

use crate::atlas::{Atlas, BudgetParams, LimitScope, Policy};
use crate::time::Micros;

/// Who an execution is charged to.
pub struct Who<'a> {
    pub session_id: &'a str,
    pub agent_id: &'a str,
}

#[derive(Debug, Default, Clone)]
pub struct Ledger {
    /// Approval times per (policy, action, scope owner), oldest first; never longer than the limit's max_calls.
    windows: HashMap<String, VecDeque<Micros>>,
    /// Calls and cost per (policy, session).
    budgets: HashMap<String, (u64, f64)>,
}

fn rate_key(atlas: &Atlas, p: &Policy, action_id: &str, scope: LimitScope, who: &Who) -> String {
    let owner = match scope {
        LimitScope::Session => who.session_id,
        LimitScope::Agent => who.agent_id,
        LimitScope::Global => "",
    };
    format!("{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}", atlas.atlas_id, p.policy_id, action_id, scope.as_str(), owner)
}

fn budget_key(atlas: &Atlas, p: &Policy, who: &Who) -> String {
    format!("{}\u{0}{}\u{0}{}", atlas.atlas_id, p.policy_id, who.session_id)
}

impl Ledger {
    /// For an exhausted rate limit, the whole seconds until a call is possible again.
    pub fn rate_retry_after(&self, atlas: &Atlas, p: &Policy, action_id: &str, who: &Who, now: Micros) -> Option<u64> {
        let r = p.rate.as_ref()?;
        let window = (r.window_seconds as i64).saturating_mul(1_000_000);
        let q = self.windows.get(&rate_key(atlas, p, action_id, r.scope, who))?;
        let start = now.saturating_sub(window);
        let inside: Vec<Micros> = q.iter().copied().filter(|t| *t > start && *t <= now).collect();
        if (inside.len() as u64) < r.max_calls {
            return None;
        }
        let oldest = inside.first().copied().unwrap_or(now);
        let wait = oldest.saturating_add(window).saturating_sub(now);
        Some((wait.saturating_add(999_999) / 1_000_000).max(1) as u64)
    }

    /// Calls (or cost) left in a budget; `None` when the policy is not a budget.
    pub fn budget_left(&self, atlas: &Atlas, p: &Policy, who: &Who) -> Option<f64> {
        let b = p.budget.as_ref()?;
        let (calls, cost) = self.budgets.get(&budget_key(atlas, p, who)).copied().unwrap_or((0, 0.0));
        Some(match b {
            BudgetParams::Calls(max) => max.saturating_sub(calls) as f64,
            BudgetParams::Cost { max_cost, .. } => (max_cost - cost).max(0.0),
        })
    }

    pub fn calls_in_window(&self, atlas: &Atlas, p: &Policy, action_id: &str, who: &Who, now: Micros) -> u64 {
        match &p.rate {
            Some(r) => {
                let start = now.saturating_sub((r.window_seconds as i64).saturating_mul(1_000_000));
                self.windows
                    .get(&rate_key(atlas, p, action_id, r.scope, who))
                    .map(|q| q.iter().filter(|t| **t > start && **t <= now).count() as u64)
                    .unwrap_or(0)
            }
            None => 0,
        }
    }

    /// Charges one approved execution to a rate-limit or budget policy.
    pub fn record(&mut self, atlas: &Atlas, p: &Policy, action_id: &str, who: &Who, now: Micros, cost: f64) {
        if let Some(r) = &p.rate {
            let start = now.saturating_sub((r.window_seconds as i64).saturating_mul(1_000_000));
            let q = self.windows.entry(rate_key(atlas, p, action_id, r.scope, who)).or_default();
            while q.front().map(|t| *t <= start).unwrap_or(false) {
                q.pop_front();
            }
            q.push_back(now);
            while q.len() as u64 > r.max_calls {
                q.pop_front();
            }
        }
        if p.budget.is_some() {
            let e = self.budgets.entry(budget_key(atlas, p, who)).or_insert((0, 0.0));
            e.0 = e.0.saturating_add(1);
            e.1 += cost;
        }
    }

    /// Forgets a session's budgets (its windows of scope agent/global stay: other sessions share them).
    pub fn forget_session(&mut self, session_id: &str) {
        let tail = format!("\u{0}{}", session_id);
        self.budgets.retain(|k, _| !k.ends_with(&tail));
        let wtail = format!("\u{0}session\u{0}{}", session_id);
        self.windows.retain(|k, _| !k.ends_with(&wtail));
    }
}
