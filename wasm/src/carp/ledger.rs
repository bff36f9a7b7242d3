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
//! a session is bound when the runtime takes the session in ([`Ledger::bind`] at creation, [`Ledger::begin_restore`]
//! before a restore charges anything).
//!
//! Restores. A host may forget a session and restore it from its trace as often as it likes (eviction). The owner's
//! windows outlive a forgotten session (its approvals still count for the owner's other sessions), so every entry
//! of a window names the session it was charged to, and a restore first takes that session's entries out of every
//! window before its trace charges them again: each approval counts exactly once. Entries are kept in time order
//! (a restore charges old approvals into windows that hold newer ones), and a window keeps its newest `max_calls`
//! entries within `window_seconds` of its newest one: the same entries whatever the order they were charged in.
//!
//! A restore is atomic without copying the ledger (which would cost every session's counters per restore): the
//! restored session is new to the ledger (its budgets and session windows start empty), and the first time the
//! restore touches a shared window its previous contents are kept aside, to be put back if the restore fails.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use crate::atlas::{Atlas, BudgetParams, LimitScope, Policy};
use crate::time::Micros;

/// Who an execution is charged to (the session's owner is the one bound to `session_id`).
pub struct Who<'a> {
    pub session_id: &'a str,
    pub agent_id: &'a str,
}

/// One charge of a window: when, and to which session (shared by the entries of one session).
type Entry = (Micros, Rc<str>);

/// The approvals of one window, oldest first.
type Window = VecDeque<Entry>;

/// A window shared by an owner's sessions: scope `agent` (`Some` agent id) or `global` (`None`). Keys are
/// structured (not joined strings), so that no owner or agent id can spell another holder's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RateKey {
    atlas_id: String,
    policy_id: String,
    action_id: String,
    owner: String,
    agent: Option<String>,
}

/// What one session is charged: its owner, its windows of scope `session` (by atlas, policy and action) and its
/// budgets (by atlas and policy: calls and cost).
#[derive(Debug, Clone)]
struct Usage {
    owner: String,
    tag: Rc<str>,
    windows: HashMap<(String, String, String), Window>,
    budgets: HashMap<(String, String), (u64, f64)>,
}

#[derive(Debug, Default, Clone)]
pub struct Ledger {
    /// Windows of scope agent and global.
    shared: HashMap<RateKey, Window>,
    /// Every session taken in, with its own counters.
    sessions: HashMap<String, Usage>,
    /// During a restore: the shared windows it changed, as they were before (`None`: absent).
    journal: Option<HashMap<RateKey, Option<Window>>>,
}

fn usage(session_id: &str, owner: &str) -> Usage {
    Usage { owner: owner.to_string(), tag: Rc::from(session_id), windows: HashMap::new(), budgets: HashMap::new() }
}

/// Charges `at` to `q` in time order, then keeps the newest `max_calls` entries within `window` of the newest.
fn charge(q: &mut Window, at: Micros, tag: &Rc<str>, max_calls: u64, window: Micros) {
    let i = q.partition_point(|(t, _)| *t <= at);
    q.insert(i, (at, tag.clone()));
    while q.len() as u64 > max_calls {
        q.pop_front();
    }
    let newest = q.back().map_or(at, |(t, _)| *t);
    let start = newest.saturating_sub(window);
    while q.front().map_or(false, |(t, _)| *t <= start) {
        q.pop_front();
    }
}

fn window_micros(seconds: u64) -> Micros {
    (seconds as i64).saturating_mul(1_000_000)
}

impl Ledger {
    /// Binds a session to its owner ("" for none).
    pub fn bind(&mut self, session_id: &str, owner: &str) {
        match self.sessions.get_mut(session_id) {
            Some(u) => u.owner = owner.to_string(),
            None => {
                self.sessions.insert(session_id.to_string(), usage(session_id, owner));
            }
        }
    }

    /// Before a restore of `session_id` (a session the ledger does not hold) charges its trace: binds it to
    /// `owner` and takes its earlier charges (before it was forgotten) out of the shared windows. Until
    /// [`Ledger::end_restore`], every change can be undone.
    pub fn begin_restore(&mut self, session_id: &str, owner: &str) {
        self.sessions.insert(session_id.to_string(), usage(session_id, owner));
        let mut journal = HashMap::new();
        for (k, q) in self.shared.iter_mut() {
            if q.iter().any(|(_, s)| &**s == session_id) {
                journal.insert(k.clone(), Some(q.clone()));
                q.retain(|(_, s)| &**s != session_id);
            }
        }
        self.shared.retain(|_, q| !q.is_empty());
        self.journal = Some(journal);
    }

    /// Ends a restore: keeps what it charged (`ok`), or puts every counter back as it was before it began.
    pub fn end_restore(&mut self, session_id: &str, ok: bool) {
        let journal = self.journal.take().unwrap_or_default();
        if ok {
            return;
        }
        self.sessions.remove(session_id);
        for (k, before) in journal {
            match before {
                Some(q) => {
                    self.shared.insert(k, q);
                }
                None => {
                    self.shared.remove(&k);
                }
            }
        }
    }

    /// The owner `who` is charged under ("" when not bound).
    fn owner_of(&self, who: &Who) -> &str {
        self.sessions.get(who.session_id).map_or("", |u| u.owner.as_str())
    }

    fn shared_key(&self, atlas: &Atlas, p: &Policy, action_id: &str, scope: LimitScope, who: &Who) -> RateKey {
        RateKey {
            atlas_id: atlas.atlas_id.clone(),
            policy_id: p.policy_id.clone(),
            action_id: action_id.to_string(),
            owner: self.owner_of(who).to_string(),
            agent: (scope == LimitScope::Agent).then(|| who.agent_id.to_string()),
        }
    }

    /// The window that limits `who` for `p` (none yet: `None`).
    fn window(&self, atlas: &Atlas, p: &Policy, action_id: &str, scope: LimitScope, who: &Who) -> Option<&Window> {
        if scope == LimitScope::Session {
            let k = (atlas.atlas_id.clone(), p.policy_id.clone(), action_id.to_string());
            self.sessions.get(who.session_id)?.windows.get(&k)
        } else {
            self.shared.get(&self.shared_key(atlas, p, action_id, scope, who))
        }
    }

    /// Approval times of `who`'s window for `p` inside `(now - window, now]`, oldest first.
    fn inside(&self, atlas: &Atlas, p: &Policy, action_id: &str, who: &Who, now: Micros) -> Vec<Micros> {
        let r = match &p.rate {
            Some(r) => r,
            None => return Vec::new(),
        };
        let start = now.saturating_sub(window_micros(r.window_seconds));
        match self.window(atlas, p, action_id, r.scope, who) {
            Some(q) => q.iter().map(|(t, _)| *t).filter(|t| *t > start && *t <= now).collect(),
            None => Vec::new(),
        }
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
        let k = (atlas.atlas_id.clone(), p.policy_id.clone());
        let (calls, cost) = self.sessions.get(who.session_id).and_then(|u| u.budgets.get(&k)).copied().unwrap_or((0, 0.0));
        Some(match b {
            BudgetParams::Calls(max) => max.saturating_sub(calls) as f64,
            BudgetParams::Cost { max_cost, .. } => (max_cost - cost).max(0.0),
        })
    }

    pub fn calls_in_window(&self, atlas: &Atlas, p: &Policy, action_id: &str, who: &Who, now: Micros) -> u64 {
        self.inside(atlas, p, action_id, who, now).len() as u64
    }

    /// Charges one approved execution to a rate-limit or budget policy (at `now`, which a restore may charge
    /// after newer approvals of other sessions).
    pub fn record(&mut self, atlas: &Atlas, p: &Policy, action_id: &str, who: &Who, now: Micros, cost: f64) {
        if !self.sessions.contains_key(who.session_id) {
            self.bind(who.session_id, "");
        }
        if let Some(r) = &p.rate {
            let window = window_micros(r.window_seconds);
            if r.scope == LimitScope::Session {
                if let Some(u) = self.sessions.get_mut(who.session_id) {
                    let k = (atlas.atlas_id.clone(), p.policy_id.clone(), action_id.to_string());
                    let tag = u.tag.clone();
                    charge(u.windows.entry(k).or_default(), now, &tag, r.max_calls, window);
                }
            } else {
                let k = self.shared_key(atlas, p, action_id, r.scope, who);
                let tag = self.sessions.get(who.session_id).map_or_else(|| Rc::from(who.session_id), |u| u.tag.clone());
                self.charge_shared(k, now, &tag, r.max_calls, window);
            }
        }
        if p.budget.is_some() {
            if let Some(u) = self.sessions.get_mut(who.session_id) {
                let e = u.budgets.entry((atlas.atlas_id.clone(), p.policy_id.clone())).or_insert((0, 0.0));
                e.0 = e.0.saturating_add(1);
                e.1 += cost;
            }
        }
    }

    /// Charges a shared window, keeping its previous contents aside the first time a restore changes it.
    fn charge_shared(&mut self, k: RateKey, at: Micros, tag: &Rc<str>, max_calls: u64, window: Micros) {
        if let Some(journal) = self.journal.as_mut() {
            if !journal.contains_key(&k) {
                journal.insert(k.clone(), self.shared.get(&k).cloned());
            }
        }
        charge(self.shared.entry(k).or_default(), at, tag, max_calls, window);
    }

    /// Forgets a session: its budgets, its session windows and its binding (its entries in its owner's windows
    /// stay: they count for the other sessions, until a restore of this one takes them out and charges them again).
    pub fn forget_session(&mut self, session_id: &str) {
        self.sessions.remove(session_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(q: &Window) -> Vec<Micros> {
        q.iter().map(|(t, _)| *t).collect()
    }

    #[test]
    fn a_window_keeps_the_newest_entries_in_time_order_whatever_the_order_of_charges() {
        let (a, b): (Rc<str>, Rc<str>) = (Rc::from("a"), Rc::from("b"));
        let mut q = Window::new();
        charge(&mut q, 50, &a, 3, 100);
        charge(&mut q, 60, &b, 3, 100);
        // An older charge lands before the newer ones.
        charge(&mut q, 20, &a, 3, 100);
        assert_eq!(times(&q), vec![20, 50, 60]);
        // More than max_calls: the oldest goes, even when the new charge is older than the newest.
        charge(&mut q, 55, &b, 3, 100);
        assert_eq!(times(&q), vec![50, 55, 60]);
        // Older than the window relative to the newest entry: dropped at once.
        charge(&mut q, 160, &a, 3, 100);
        assert_eq!(times(&q), vec![160]);
        charge(&mut q, 40, &b, 3, 100);
        assert_eq!(times(&q), vec![160]);
    }

    fn key(agent: &str) -> RateKey {
        RateKey { atlas_id: "a".into(), policy_id: "p".into(), action_id: "x.y".into(), owner: "o".into(), agent: Some(agent.into()) }
    }

    fn shared_times(l: &Ledger, agent: &str) -> Vec<Micros> {
        l.shared.get(&key(agent)).map(times).unwrap_or_default()
    }

    #[test]
    fn a_restore_takes_its_session_out_of_shared_windows_and_a_failed_one_changes_nothing() {
        let mut l = Ledger::default();
        l.bind("s1", "o");
        l.bind("s2", "o");
        let (s1, s2): (Rc<str>, Rc<str>) = (Rc::from("s1"), Rc::from("s2"));
        l.charge_shared(key("g"), 10, &s1, 5, 100);
        l.charge_shared(key("g"), 20, &s2, 5, 100);
        l.forget_session("s1");
        let before = l.clone();
        l.begin_restore("s1", "o");
        assert_eq!(shared_times(&l, "g"), vec![20], "s1's charge is out, s2's stays");
        l.charge_shared(key("g"), 10, &s1, 5, 100);
        l.charge_shared(key("h"), 15, &s1, 5, 100);
        l.end_restore("s1", false);
        assert_eq!(shared_times(&l, "g"), shared_times(&before, "g"));
        assert!(!l.shared.contains_key(&key("h")), "a window the failed restore created is gone");
        assert!(!l.sessions.contains_key("s1"), "and so is its binding");
        // A restore that succeeds charges s1 once.
        l.begin_restore("s1", "o");
        l.charge_shared(key("g"), 10, &s1, 5, 100);
        l.end_restore("s1", true);
        l.begin_restore("s1", "o");
        l.charge_shared(key("g"), 10, &s1, 5, 100);
        l.end_restore("s1", true);
        assert_eq!(shared_times(&l, "g"), vec![10, 20]);
    }
}
