//! Conditions on policies and context packs (SPEC §1): every present clause must hold for the request.

use serde_json::{Map, Value};

use crate::host::Host;
use crate::json::canonical;
use crate::time::{local_parts, parse_fixed_zone, Micros};

use super::pattern::glob_match;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RiskTier {
    Low,
    Medium,
    High,
    Critical,
}

impl RiskTier {
    pub fn parse(s: &str) -> Option<RiskTier> {
        match s {
            "low" => Some(RiskTier::Low),
            "medium" => Some(RiskTier::Medium),
            "high" => Some(RiskTier::High),
            "critical" => Some(RiskTier::Critical),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RiskTier::Low => "low",
            RiskTier::Medium => "medium",
            RiskTier::High => "high",
            RiskTier::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    /// Minutes east of UTC, resolved in the core.
    Fixed(i32),
    /// An IANA zone, resolved by the host at evaluation time (offsets change with DST).
    Named(String),
}

#[derive(Debug, Clone)]
pub struct TimeWindow {
    /// Seconds since midnight, in the window's zone or, when the bound names one, in its own UTC offset (minutes);
    /// `None` = start/end of day.
    pub start: Option<(u32, Option<i32>)>,
    pub end: Option<(u32, Option<i32>)>,
    pub zone: Zone,
    /// Bit `n` set = weekday `n` allowed (0 = Monday); `None` = every day.
    pub days: Option<u8>,
    /// The clause as written, for constraints.
    pub raw: Value,
}

#[derive(Debug, Clone, Default)]
pub struct Conditions {
    pub risk_tiers: Option<Vec<RiskTier>>,
    pub agents: Option<Vec<String>>,
    pub capabilities: Option<Vec<String>>,
    pub context_matches: Option<Vec<(String, String)>>,
    pub time_window: Option<TimeWindow>,
}

/// What conditions are evaluated against: the request and the host time.
pub struct Facts<'a> {
    pub risk_tier: RiskTier,
    pub agent_id: &'a str,
    pub capabilities: &'a [String],
    pub context: &'a Map<String, Value>,
    pub now: Micros,
}

impl Conditions {
    /// Whether every present clause holds. `restrictive` says which way to fail when a time zone cannot be
    /// resolved at evaluation time: a restricting rule then applies, a granting one does not (fail closed).
    pub fn holds(&self, facts: &Facts, host: &mut dyn Host, restrictive: bool) -> bool {
        if let Some(tiers) = &self.risk_tiers {
            if !tiers.contains(&facts.risk_tier) {
                return false;
            }
        }
        if let Some(agents) = &self.agents {
            if !agents.iter().any(|g| glob_match(g, facts.agent_id)) {
                return false;
            }
        }
        if let Some(caps) = &self.capabilities {
            if !caps.iter().all(|c| facts.capabilities.iter().any(|r| r == c)) {
                return false;
            }
        }
        if let Some(matches) = &self.context_matches {
            for (key, want) in matches {
                let ok = match facts.context.get(key) {
                    Some(Value::String(s)) => s == want,
                    Some(Value::Null) | None => false,
                    Some(other) => &canonical(other) == want,
                };
                if !ok {
                    return false;
                }
            }
        }
        if let Some(tw) = &self.time_window {
            match tw.contains(facts.now, host) {
                Some(inside) => {
                    if !inside {
                        return false;
                    }
                }
                None => return restrictive,
            }
        }
        true
    }

    pub fn is_time_dependent(&self) -> bool {
        self.time_window.is_some()
    }
}

impl TimeWindow {
    /// `None` when the zone cannot be resolved.
    pub fn contains(&self, now: Micros, host: &mut dyn Host) -> Option<bool> {
        let offset = match &self.zone {
            Zone::Fixed(m) => *m,
            Zone::Named(name) => host.tz_offset_minutes(name, now.div_euclid(1_000_000))?,
        };
        let (weekday, secs) = local_parts(now, offset);
        if let Some(days) = self.days {
            if days & (1 << weekday) == 0 {
                return Some(false);
            }
        }
        // A bound written with its own offset is moved into the zone's local time of today.
        let local = |bound: (u32, Option<i32>)| match bound {
            (secs, Some(o)) if o != offset => (secs as i64 - o as i64 * 60 + offset as i64 * 60).rem_euclid(86_400) as u32,
            (secs, _) => secs,
        };
        let start = self.start.map(local).unwrap_or(0);
        let end = self.end.map(local).unwrap_or(86_400);
        Some(if start <= end { secs >= start && secs < end } else { secs >= start || secs < end })
    }
}

/// Resolves a zone name: fixed forms in the core, anything else is named (checked with the host at load time).
pub fn zone_of(name: &str) -> Zone {
    match parse_fixed_zone(name) {
        Some(m) => Zone::Fixed(m),
        None => Zone::Named(name.to_string()),
    }
}
