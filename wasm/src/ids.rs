//! Identifier formats of SPEC. Checked strictly because some of them feed the hash by plain concatenation.

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lowercase hex only.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

/// Like [`is_uuid`] but case-insensitive, for ids clients send (normalised to lowercase before use).
pub fn normalize_uuid(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    if is_uuid(&lower) {
        Some(lower)
    } else {
        None
    }
}

/// Dotted segments: first `[a-z][a-z0-9]*`, then one or more `.seg` where seg matches `seg_first seg_rest*`.
fn dotted(s: &str, min_segments: usize, allow_dash_after_first: bool) -> bool {
    let mut count = 0;
    for (i, seg) in s.split('.').enumerate() {
        let mut chars = seg.chars();
        match chars.next() {
            Some(c) if c.is_ascii_lowercase() => {}
            _ => return false,
        }
        let dash_ok = allow_dash_after_first && i > 0;
        if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || (dash_ok && c == '-')) {
            return false;
        }
        count += 1;
    }
    count >= min_segments
}

/// Atlas ids are reverse-domain: `^[a-z][a-z0-9]*(\.[a-z][a-z0-9-]*)+$`.
pub fn is_atlas_id(s: &str) -> bool {
    dotted(s, 2, true)
}

/// Action ids: `^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)+$`.
pub fn is_action_id(s: &str) -> bool {
    dotted(s, 2, false)
}

/// Capability ids: `^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*$`.
pub fn is_capability_id(s: &str) -> bool {
    dotted(s, 1, false)
}

/// Semver 2.0.0 (the manifest schema's pattern).
pub fn is_semver(s: &str) -> bool {
    let (core_pre, build) = match s.split_once('+') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let (core, pre) = match core_pre.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (core_pre, None),
    };
    let numeric = |p: &str| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) && (p == "0" || !p.starts_with('0'));
    let ident = |p: &str| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-');
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 || !parts.iter().all(|p| numeric(p)) {
        return false;
    }
    if let Some(pre) = pre {
        let ok = pre.split('.').all(|p| {
            ident(p) && (!p.bytes().all(|c| c.is_ascii_digit()) || numeric(p))
        });
        if !ok {
            return false;
        }
    }
    if let Some(build) = build {
        if !build.split('.').all(ident) {
            return false;
        }
    }
    true
}

/// Lowercase 64-hex SHA-256 digest.
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_format() {
        assert!(is_uuid("01234567-89ab-cdef-0123-456789abcdef"));
        assert!(!is_uuid("01234567-89AB-cdef-0123-456789abcdef"));
        assert!(!is_uuid("0123456789ab-cdef-0123-456789abcdef0"));
        assert_eq!(normalize_uuid("01234567-89AB-cdef-0123-456789ABCDEF").as_deref(), Some("01234567-89ab-cdef-0123-456789abcdef"));
    }

    #[test]
    fn id_patterns() {
        assert!(is_atlas_id("com.example.customer-support"));
        assert!(!is_atlas_id("com"));
        assert!(!is_atlas_id("com-x.example"));
        assert!(is_action_id("ticket.lookup"));
        assert!(!is_action_id("ticket.look-up"));
        assert!(!is_action_id("Ticket.lookup"));
        assert!(!is_action_id("ticket."));
        assert!(is_capability_id("read"));
        assert!(is_capability_id("resource.read"));
    }

    #[test]
    fn semver() {
        for ok in ["1.0.0", "0.1.2-alpha.1", "1.2.3+build.5", "1.2.3-0.a-b+x"] {
            assert!(is_semver(ok), "{}", ok);
        }
        for bad in ["1.0", "01.0.0", "1.0.0-", "1.0.0-01", "v1.0.0", "1.0.0+"] {
            assert!(!is_semver(bad), "{}", bad);
        }
    }
}
