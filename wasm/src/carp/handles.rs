//! Small integer handles for action ids, so that the hot path (`cra_check`) passes two integers instead of JSON.
//! A handle is interned once per action id and never reused. Only the ids of loaded atlases are interned (at
//! load): lookups on behalf of callers (`action.handle`, `session.check`) never insert, so the table is bounded by
//! what was loaded, not by what was asked.

use std::collections::HashMap;

#[derive(Debug, Default, Clone)]
pub struct Interner {
    map: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    /// The handle of `id`, interning it on first use. Handles start at 1 (0 is never valid).
    pub fn intern(&mut self, id: &str) -> u32 {
        if let Some(h) = self.map.get(id) {
            return *h;
        }
        self.names.push(id.to_string());
        let h = self.names.len() as u32;
        self.map.insert(id.to_string(), h);
        h
    }

    /// How many ids are interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<u32> {
        self.map.get(id).copied()
    }

    pub fn name(&self, handle: u32) -> Option<&str> {
        if handle == 0 {
            return None;
        }
        self.names.get(handle as usize - 1).map(String::as_str)
    }
}
