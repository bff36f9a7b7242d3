//! What the core asks of its host: fresh ids and time-zone offsets. Time itself is passed with every call.

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::ids::is_uuid;

pub trait Host {
    /// A fresh lowercase UUID (v7 preferred). The core never invents ids.
    fn new_id(&mut self) -> String;
    /// `n` fresh ids at once, in the order `n` calls of [`Host::new_id`] would give them (one crossing of the
    /// ABI instead of `n`).
    fn new_ids(&mut self, n: usize) -> Vec<String> {
        (0..n).map(|_| self.new_id()).collect()
    }
    /// UTC offset in minutes of an IANA zone at `epoch_secs`, or `None` for an unknown zone.
    fn tz_offset_minutes(&mut self, zone: &str, epoch_secs: i64) -> Option<i32>;
}

/// Takes an id from the host and refuses anything that is not a lowercase UUID (fail closed).
pub fn fresh_id(host: &mut dyn Host) -> CoreResult<String> {
    let id = host.new_id();
    if is_uuid(&id) {
        Ok(id)
    } else {
        Err(CoreError::new(ErrorCode::HostIdInvalid, "the host supplied an id that is not a lowercase UUID"))
    }
}

/// [`fresh_id`] for `n` ids at once.
pub fn fresh_ids(host: &mut dyn Host, n: usize) -> CoreResult<Vec<String>> {
    let ids = host.new_ids(n);
    if ids.len() == n && ids.iter().all(|id| is_uuid(id)) {
        Ok(ids)
    } else {
        Err(CoreError::new(ErrorCode::HostIdInvalid, "the host supplied an id that is not a lowercase UUID"))
    }
}

/// Deterministic host for tests and replays: ids count up from a seed, only fixed zones are known.
pub struct CountingHost {
    pub prefix: u32,
    pub next: u64,
    pub zones: Vec<(String, i32)>,
}

impl CountingHost {
    pub fn new(prefix: u32) -> Self {
        CountingHost { prefix, next: 1, zones: Vec::new() }
    }
}

impl Host for CountingHost {
    fn new_id(&mut self) -> String {
        let n = self.next;
        self.next += 1;
        format!("{:08x}-0000-7000-8000-{:012x}", self.prefix, n)
    }

    fn tz_offset_minutes(&mut self, zone: &str, _epoch_secs: i64) -> Option<i32> {
        self.zones.iter().find(|(z, _)| z == zone).map(|(_, o)| *o)
    }
}
