//! Trace diff (SPEC §4.2): two traces compared event by event, ignoring what legitimately differs between runs
//! (ids, timestamps, hashes, runtime-generated resolution and execution ids, measured durations). Events are
//! aligned by longest common subsequence so that one inserted event shows as one `added`, not as a cascade of
//! changes; between aligned events, same-type pairs are reported as `changed` with the payload paths that differ.

use crate::obj;
use serde_json::{Map, Value};

use crate::json::{pointer_index, pointer_push};

/// Payload members that differ between two honest runs of the same requests: ids the host generates.
const VOLATILE: &[&str] = &["resolution_id", "execution_id", "request_id", "approval_id"];
/// Above this many cell comparisons the alignment falls back to positional (keeps memory bounded).
const MAX_LCS_CELLS: usize = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub kind: &'static str,
    pub a_index: Option<usize>,
    pub b_index: Option<usize>,
    pub event_type: String,
    pub paths: Vec<String>,
}

impl Difference {
    pub fn to_json(&self) -> Value {
        obj!(
            "index": self.a_index.or(self.b_index),
            "kind": &self.kind,
            "event_type": &self.event_type,
            "paths": &self.paths,
        )
    }
}

/// The comparable part of an event: its type and its payload without volatile members.
fn essence(e: &Value) -> (String, Value) {
    let t = e.get("event_type").and_then(Value::as_str).unwrap_or("").to_string();
    let mut payload: Map<String, Value> = e.get("payload").and_then(Value::as_object).cloned().unwrap_or_default();
    for k in VOLATILE {
        payload.remove(*k);
    }
    if t == "session.ended" {
        payload.remove("duration_ms");
    }
    (t, Value::Object(payload))
}

pub fn diff(a: &[Value], b: &[Value]) -> Vec<Difference> {
    let ea: Vec<(String, Value)> = a.iter().map(essence).collect();
    let eb: Vec<(String, Value)> = b.iter().map(essence).collect();
    // Common prefix and suffix align positionally (as in any diff), so that an edit of one event among many
    // look-alikes is reported at its own index; only the middle is aligned by LCS.
    let pre = ea.iter().zip(&eb).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (ea.get(pre..).unwrap_or_default(), eb.get(pre..).unwrap_or_default());
    let suf = ra.iter().rev().zip(rb.iter().rev()).take_while(|(x, y)| x == y).count();
    let ma = ra.get(..ra.len() - suf).unwrap_or_default();
    let mb = rb.get(..rb.len() - suf).unwrap_or_default();
    let middle = if ma.len().saturating_mul(mb.len()) <= MAX_LCS_CELLS { lcs(ma, mb) } else { positional(ma, mb) };
    let pairs = (0..pre)
        .map(|k| (k, k))
        .chain(middle.into_iter().map(|(x, y)| (x + pre, y + pre)))
        .chain((0..suf).map(|k| (ea.len() - suf + k, eb.len() - suf + k)));
    let mut out = Vec::new();
    let (mut i, mut j) = (0usize, 0usize);
    for (pi, pj) in pairs.chain(std::iter::once((ea.len(), eb.len()))) {
        gap(ea.get(i..pi).unwrap_or_default(), eb.get(j..pj).unwrap_or_default(), i, j, &mut out);
        if let (Some(x), Some(y)) = (ea.get(pi), eb.get(pj)) {
            if x != y {
                out.push(changed(x, y, pi, pj));
            }
        }
        i = pi + 1;
        j = pj + 1;
    }
    out
}

fn positional(a: &[(String, Value)], b: &[(String, Value)]) -> Vec<(usize, usize)> {
    (0..a.len().min(b.len())).map(|k| (k, k)).collect()
}

/// Matched index pairs of a longest common subsequence of equal essences.
fn lcs(a: &[(String, Value)], b: &[(String, Value)]) -> Vec<(usize, usize)> {
    let w = b.len() + 1;
    // Cell (i, j) at `i * w + j`: the length of an LCS of `a[i..]` and `b[j..]` (0 on the last row and column).
    let mut t = vec![0u32; (a.len() + 1) * w];
    let cell = |t: &[u32], i: usize, j: usize| t.get(i * w + j).copied().unwrap_or(0);
    for (i, x) in a.iter().enumerate().rev() {
        for (j, y) in b.iter().enumerate().rev() {
            let v = if x == y { cell(&t, i + 1, j + 1) + 1 } else { cell(&t, i + 1, j).max(cell(&t, i, j + 1)) };
            if let Some(c) = t.get_mut(i * w + j) {
                *c = v;
            }
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        if x == y {
            out.push((i, j));
            i += 1;
            j += 1;
        } else if cell(&t, i + 1, j) >= cell(&t, i, j + 1) {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Unmatched runs: same-type events pair up as changes, the rest are removals (from a) and additions (in b).
fn gap(a: &[(String, Value)], b: &[(String, Value)], ai: usize, bj: usize, out: &mut Vec<Difference>) {
    let paired = a.iter().zip(b).take_while(|(x, y)| x.0 == y.0).count();
    for (k, (x, y)) in a.iter().zip(b).take(paired).enumerate() {
        out.push(changed(x, y, ai + k, bj + k));
    }
    for (k, x) in a.iter().enumerate().skip(paired) {
        out.push(Difference { kind: "removed", a_index: Some(ai + k), b_index: None, event_type: x.0.clone(), paths: vec![] });
    }
    for (k, y) in b.iter().enumerate().skip(paired) {
        out.push(Difference { kind: "added", a_index: None, b_index: Some(bj + k), event_type: y.0.clone(), paths: vec![] });
    }
}

fn changed(a: &(String, Value), b: &(String, Value), ai: usize, bj: usize) -> Difference {
    let mut paths = Vec::new();
    if a.0 != b.0 {
        paths.push("/event_type".to_string());
    }
    value_paths(&a.1, &b.1, "/payload", &mut paths);
    Difference { kind: "changed", a_index: Some(ai), b_index: Some(bj), event_type: a.0.clone(), paths }
}

fn value_paths(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => value_paths(v, w, &pointer_push(path, k), out),
                    None => out.push(pointer_push(path, k)),
                }
            }
            for k in y.keys() {
                if !x.contains_key(k) {
                    out.push(pointer_push(path, k));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for k in 0..x.len().max(y.len()) {
                match (x.get(k), y.get(k)) {
                    (Some(v), Some(w)) => value_paths(v, w, &pointer_index(path, k), out),
                    _ => out.push(pointer_index(path, k)),
                }
            }
        }
        _ => {
            if a != b {
                out.push(path.to_string());
            }
        }
    }
}
