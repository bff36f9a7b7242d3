//! Usage counters for rate limits and budgets. Only *executions* count (SPEC §9: the reference counted
//! resolutions): an execution is recorded when it is approved, at the host time of the approval.
//!
//! Whose counters. A host serving several tenants creates each session for an *owner* (`session.create`'s
//! `owner`), and one tenant must never spend another's limits, whatever agent id it claims:
//! - a rate-limit window of scope `session` belongs to one session;
//! - of scope `agent`, to one (owner, agent id): two owners' sessions never share it, even under the same agent id;
//! - of scope `global`, to one owner: a "global" limit is global within an owner;
//! - budgets belong to one session.
//!
//! Sessions without an owner share the owner "" (embedded use: one tenant, as before owners existed). The owner of
//! a session is bound when the runtime takes the session in ([`Ledger::bind`], at creation and at the end of a
//! restore). A restore charges the recorded approvals before that: those land in the session's own interim windows
//! and move to its owner's windows when it is bound, so a restored session keeps its counters.

use std::collections::{HashMap, VecDeque};

use crate::atlas::{Atlas, BudgetParams, LimitScope, Policy};
use crate::time::Micros;

/// Who an execution is charged to (the session's owner is the one bound to `session_id`).
pub struct Who<'a> {
    pub session_id: &'a str,
    pub agent_id: &'a str,
}

/// The holder of one rate-limit window. Keys are structured (not joined strings), so that no owner, agent or
/// session id can spell another holder's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Holder {
    /// Scope `session`.
    Session(String),
    /// Scope `agent` (`Some` agent id) or `global` (`None`) within one owner.
    Owner { owner: String, agent: Option<String> },
    /// Charged by a session whose owner is not bound yet (a restore under way); moved on [`Ledger::bind`].
    Interim { session: String, agent: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RateKey {
    atlas_id: String,
    policy_id: String,
    action_id: String,
    holder: Holder,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct BudgetKey {
    atlas_id: String,
    policy_id: String,
    session_id: String,
}

#[derive(Debug, Default, Clone)]
pub struct Ledger {
    /// Approval times per (policy, action, holder), oldest first; never longer than the limit's max_calls.
    windows: HashMap<RateKey, VecDeque<Micros>>,
    /// Calls and cost per (policy, session).
    budgets: HashMap<BudgetKey, (u64, f64)>,
    /// The owner of each session taken in ("" for a session without one).
    owners: HashMap<String, String>,
}

fn key(atlas: &Atlas, p: &Policy, action_id: &str, holder: Holder) -> RateKey {
    RateKey { atlas_id: atlas.atlas_id.clone(), policy_id: p.policy_id.clone(), action_id: action_id.to_string(), holder }
}

fn budget_key(atlas: &Atlas, p: &Policy, who: &Who) -> BudgetKey {
    BudgetKey { atlas_id: atlas.atlas_id.clone(), policy_id: p.policy_id.clone(), session_id: who.session_id.to_string() }
}

impl Ledger {
    /// Binds a session to its owner ("" for none) and moves what it was charged before (a restore) to the
    /// owner's windows.
    pub fn bind(&mut self, session_id: &str, owner: &str) {
        self.owners.insert(session_id.to_string(), owner.to_string());
        let interim: Vec<RateKey> = self
            .windows
            .keys()
            .filter(|k| matches!(&k.holder, Holder::Interim { session, .. } if session == session_id))
            .cloned()
            .collect();
        for k in interim {
            let times = self.windows.remove(&k).unwrap_or_default();
            let agent = match k.holder {
                Holder::Interim { agent, .. } => agent,
                _ => None,
            };
            let to = RateKey { holder: Holder::Owner { owner: owner.to_string(), agent }, ..k };
            let q = self.windows.entry(to).or_default();
            q.extend(times);
            q.make_contiguous().sort_unstable();
        }
    }

    /// The window an execution of `who` is charged to.
    fn charged(&self, scope: LimitScope, who: &Who) -> Holder {
        let agent = (scope == LimitScope::Agent).then(|| who.agent_id.to_string());
        match (scope, self.owners.get(who.session_id)) {
            (LimitScope::Session, _) => Holder::Session(who.session_id.to_string()),
            (_, Some(owner)) => Holder::Owner { owner: owner.clone(), agent },
            (_, None) => Holder::Interim { session: who.session_id.to_string(), agent },
        }
    }

    /// The windows that limit `who`: the one it is charged to, and while its owner is not bound (a restore
    /// recomputing its resolutions) also the owner-less one, as before owners existed.
    fn limiting(&self, scope: LimitScope, who: &Who) -> [Option<Holder>; 2] {
        let own = self.charged(scope, who);
        let shared = match &own {
            Holder::Interim { agent, .. } => Some(Holder::Owner { owner: String::new(), agent: agent.clone() }),
            _ => None,
        };
        [Some(own), shared]
    }

    /// Approval times of `who`'s windows for `p` inside `(now - window, now]`, oldest first.
    fn inside(&self, atlas: &Atlas, p: &Policy, action_id: &str, who: &Who, now: Micros) -> Vec<Micros> {
        let r = match &p.rate {
            Some(r) => r,
            None => return Vec::new(),
        };
        let start = now.saturating_sub((r.window_seconds as i64).saturating_mul(1_000_000));
        let mut times = Vec::new();
        for holder in self.limiting(r.scope, who).into_iter().flatten() {
            if let Some(q) = self.windows.get(&key(atlas, p, action_id, holder)) {
                times.extend(q.iter().copied().filter(|t| *t > start && *t <= now));
            }
        }
        times.sort_unstable();
        times
    }

    /// For an exhausted rate limit, the whole seconds until a call is possible again.
    pub fn rate_retry_after(&self, atlas: &Atlas, p: &Policy, action_id: &str, who: &Who, now: Micros) -> Option<u64> {
        let r = p.rate.as_ref()?;
        let window = (r.window_seconds as i64).saturating_mul(1_000_000);
        let inside = self.inside(atlas, p, action_id, who, now);
        if (inside.len() as u64) < r.max_calls {
            return None;
        }
        // The call that frees a slot is the max_calls-th newest.
        let freeing = inside.len().saturating_sub(r.max_calls as usize);
        let oldest = inside.get(freeing).copied().unwrap_or(now);
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
        self.inside(atlas, p, action_id, who, now).len() as u64
    }

    /// Charges one approved execution to a rate-limit or budget policy.
    pub fn record(&mut self, atlas: &Atlas, p: &Policy, action_id: &str, who: &Who, now: Micros, cost: f64) {
        if let Some(r) = &p.rate {
            let start = now.saturating_sub((r.window_seconds as i64).saturating_mul(1_000_000));
            let holder = self.charged(r.scope, who);
            let q = self.windows.entry(key(atlas, p, action_id, holder)).or_default();
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

    /// Forgets a session: its budgets, its session windows and its binding (its owner's windows stay: other
    /// sessions share them).
    pub fn forget_session(&mut self, session_id: &str) {
        self.budgets.retain(|k, _| k.session_id != session_id);
        self.windows.retain(|k, _| match &k.holder {
            Holder::Session(s) | Holder::Interim { session: s, .. } => s != session_id,
            Holder::Owner { .. } => true,
        });
        self.owners.remove(session_id);
    }
}
