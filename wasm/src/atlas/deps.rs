//! Dependency version ranges: `*`, `1.2.3` / `=1.2.3`, `^1.2.3`, `~1.2.3`, and comparator sets such as
//! `>=1.0.0 <2.0.0` (space-separated, all must hold). Pre-release tags compare per semver 2.0.0.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    nums: [u64; 3],
    pre: Vec<String>,
}

pub fn parse_version(s: &str) -> Option<Version> {
    let core_pre = s.split('+').next()?;
    let (core, pre) = match core_pre.split_once('-') {
        Some((c, p)) => (c, p.split('.').map(str::to_string).collect()),
        None => (core_pre, Vec::new()),
    };
    let number = |p: &str| -> Option<u64> {
        if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let mut parts = core.split('.');
    let nums = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(major), Some(minor), Some(patch), None) => [number(major)?, number(minor)?, number(patch)?],
        _ => return None,
    };
    Some(Version { nums, pre })
}

fn cmp_versions(a: &Version, b: &Version) -> Ordering {
    a.nums.cmp(&b.nums).then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => {
            for (x, y) in a.pre.iter().zip(b.pre.iter()) {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.pre.len().cmp(&b.pre.len())
        }
    })
}

#[derive(Debug, Clone)]
enum Comparator {
    Any,
    Op(&'static str, Version),
    Range(Version, Version),
}

pub struct Range(Vec<Comparator>);

pub fn parse_range(s: &str) -> Option<Range> {
    let mut out = Vec::new();
    for tok in s.split_whitespace() {
        let c = if tok == "*" || tok == "x" {
            Comparator::Any
        } else if let Some(v) = tok.strip_prefix('^') {
            let v = parse_version(v)?;
            let upper = if v.nums[0] > 0 {
                [v.nums[0] + 1, 0, 0]
            } else if v.nums[1] > 0 {
                [0, v.nums[1] + 1, 0]
            } else {
                [0, 0, v.nums[2] + 1]
            };
            Comparator::Range(v, Version { nums: upper, pre: vec!["0".into()] })
        } else if let Some(v) = tok.strip_prefix('~') {
            let v = parse_version(v)?;
            let upper = [v.nums[0], v.nums[1] + 1, 0];
            Comparator::Range(v, Version { nums: upper, pre: vec!["0".into()] })
        } else {
            let ops = [">=", "<=", ">", "<", "="];
            let op = ops.iter().find(|o| tok.starts_with(**o)).copied().unwrap_or("=");
            let rest = tok.strip_prefix(op).unwrap_or(tok);
            Comparator::Op(op, parse_version(rest)?)
        };
        out.push(c);
    }
    if out.is_empty() {
        None
    } else {
        Some(Range(out))
    }
}

impl Range {
    pub fn satisfied_by(&self, version: &str) -> bool {
        let v = match parse_version(version) {
            Some(v) => v,
            None => return false,
        };
        self.0.iter().all(|c| match c {
            Comparator::Any => true,
            Comparator::Range(lo, hi) => cmp_versions(&v, lo) != Ordering::Less && cmp_versions(&v, hi) == Ordering::Less,
            Comparator::Op(op, w) => {
                let o = cmp_versions(&v, w);
                match *op {
                    ">=" => o != Ordering::Less,
                    "<=" => o != Ordering::Greater,
                    ">" => o == Ordering::Greater,
                    "<" => o == Ordering::Less,
                    _ => o == Ordering::Equal,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sat(r: &str, v: &str) -> bool {
        parse_range(r).expect(r).satisfied_by(v)
    }

    #[test]
    fn ranges() {
        assert!(sat("*", "3.1.4"));
        assert!(sat("^1.2.0", "1.9.9") && !sat("^1.2.0", "2.0.0") && !sat("^1.2.0", "1.1.0"));
        assert!(sat("^0.2.1", "0.2.5") && !sat("^0.2.1", "0.3.0"));
        assert!(sat("~1.2.0", "1.2.7") && !sat("~1.2.0", "1.3.0"));
        assert!(sat(">=1.0.0 <2.0.0", "1.5.0") && !sat(">=1.0.0 <2.0.0", "2.0.0"));
        assert!(sat("1.0.0", "1.0.0") && !sat("=1.0.0", "1.0.1"));
        assert!(!sat("^1.0.0", "2.0.0-alpha"));
        assert!(sat(">1.0.0-alpha", "1.0.0"));
        assert!(parse_range("banana").is_none() && parse_range("").is_none());
    }
}
