//! RFC 3986 URIs (the `URI` production of appendix A), for the manifest's `homepage` and `repository`, which the
//! atlas schema gives the `uri` format. A JSON Schema validator checks that format against the RFC, so the core
//! checks the same grammar: a looser test (a scheme and a colon) accepted manifests that the schema refuses.
//!
//! ASCII only (an IRI's characters must be percent-encoded), `%` followed by two hex digits, an IP literal in
//! brackets (IPv6 in its nine forms, or IPvFuture), a port of digits. No normalisation and no scheme-specific
//! rules: `mailto:a@b.c` and `urn:isbn:0451450523` are URIs as much as `https://example.com/`.

/// True when `s` matches `URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]`.
pub fn is_uri(s: &str) -> bool {
    let b = s.as_bytes();
    let colon = match b.iter().position(|&c| c == b':') {
        Some(i) => i,
        None => return false,
    };
    let (scheme, rest) = b.split_at(colon);
    if !is_scheme(scheme) {
        return false;
    }
    let rest = rest.get(1..).unwrap_or_default();
    // The fragment runs from the first `#`; the query from the first `?` before it.
    let (rest, fragment) = split_at_byte(rest, b'#');
    let (hier, query) = split_at_byte(rest, b'?');
    if !query.map_or(true, is_query) || !fragment.map_or(true, is_query) {
        return false;
    }
    match hier.strip_prefix(b"//") {
        // "//" authority path-abempty: the authority ends at the first `/`.
        Some(after) => {
            let (authority, path) = match after.iter().position(|&c| c == b'/') {
                Some(i) => after.split_at(i),
                None => (after, &[][..]),
            };
            is_authority(authority) && is_path(path)
        }
        // path-absolute (not starting with "//", which the branch above took), path-rootless or path-empty.
        None => is_path(hier),
    }
}

/// `(before, Some(after))` around the first `byte`, or `(b, None)`.
fn split_at_byte(b: &[u8], byte: u8) -> (&[u8], Option<&[u8]>) {
    match b.iter().position(|&c| c == byte) {
        Some(i) => (b.get(..i).unwrap_or_default(), Some(b.get(i + 1..).unwrap_or_default())),
        None => (b, None),
    }
}

/// `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`
fn is_scheme(b: &[u8]) -> bool {
    match b.split_first() {
        Some((first, rest)) => {
            first.is_ascii_alphabetic() && rest.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        }
        None => false,
    }
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(c: u8) -> bool {
    matches!(c, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
}

/// True when every byte of `b` is in `allowed` or starts a `pct-encoded` triplet (`%` HEXDIG HEXDIG).
// One body for every character set (`dyn`: a generic one is compiled once per caller).
fn all_or_pct(b: &[u8], allowed: &dyn Fn(u8) -> bool) -> bool {
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = |j: usize| b.get(j).map_or(false, u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
        } else if allowed(c) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// `pchar = unreserved / pct-encoded / sub-delims / ":" / "@"`
fn is_pchar(c: u8) -> bool {
    is_unreserved(c) || is_sub_delim(c) || c == b':' || c == b'@'
}

/// Any path of `hier-part` once the `//` case is set apart: pchars and `/`.
fn is_path(b: &[u8]) -> bool {
    all_or_pct(b, &|c| is_pchar(c) || c == b'/')
}

/// `query = fragment = *( pchar / "/" / "?" )`
fn is_query(b: &[u8]) -> bool {
    all_or_pct(b, &|c| is_pchar(c) || c == b'/' || c == b'?')
}

/// `authority = [ userinfo "@" ] host [ ":" port ]`
fn is_authority(b: &[u8]) -> bool {
    // No part of host or port may hold `@`, so the first one ends the userinfo.
    let (userinfo, hostport) = match split_at_byte(b, b'@') {
        (u, Some(h)) => (Some(u), h),
        (h, None) => (None, h),
    };
    if !userinfo.map_or(true, |u| all_or_pct(u, &|c| is_unreserved(c) || is_sub_delim(c) || c == b':')) {
        return false;
    }
    let (host, port) = match hostport.first() {
        Some(b'[') => match hostport.iter().position(|&c| c == b']') {
            Some(close) => {
                let literal = hostport.get(1..close).unwrap_or_default();
                if !(is_ipv6(literal) || is_ipv_future(literal)) {
                    return false;
                }
                match hostport.get(close + 1..).unwrap_or_default() {
                    [] => (None, None),
                    [b':', port @ ..] => (None, Some(port)),
                    _ => return false,
                }
            }
            None => return false,
        },
        // reg-name (IPv4address is one too): no `:`, so the first one starts the port.
        _ => {
            let (host, port) = split_at_byte(hostport, b':');
            (Some(host), port)
        }
    };
    host.map_or(true, |h| all_or_pct(h, &|c| is_unreserved(c) || is_sub_delim(c)))
        && port.map_or(true, |p| p.iter().all(u8::is_ascii_digit))
}

/// `IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )` (ABNF strings match either case).
fn is_ipv_future(b: &[u8]) -> bool {
    let rest = match b {
        [b'v' | b'V', rest @ ..] => rest,
        _ => return false,
    };
    let version = rest.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    match rest.get(version..) {
        Some([b'.', tail @ ..]) if version > 0 && !tail.is_empty() => {
            tail.iter().all(|&c| is_unreserved(c) || is_sub_delim(c) || c == b':')
        }
        _ => false,
    }
}

/// `IPv6address` in its nine forms: eight 16-bit pieces (`h16`, the last two of which may be an IPv4 address),
/// or at most seven around one `::`, which stands for at least one zero piece.
fn is_ipv6(b: &[u8]) -> bool {
    let (left, right) = match find_double_colon(b) {
        Some(i) => (b.get(..i).unwrap_or_default(), Some(b.get(i + 2..).unwrap_or_default())),
        None => (b, None),
    };
    let left_pieces = match pieces(left, right.is_none()) {
        Some(n) => n,
        None => return false,
    };
    match right {
        None => left_pieces == 8,
        Some(r) => match pieces(r, true) {
            Some(n) => left_pieces + n <= 7,
            None => false,
        },
    }
}

fn find_double_colon(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"::")
}

/// The number of 16-bit pieces in `h16 *( ":" h16 )` (zero for an empty side of `::`); the last may be an IPv4
/// address (two pieces) when `ipv4_last`. `None` when the text is not such a list.
fn pieces(b: &[u8], ipv4_last: bool) -> Option<usize> {
    if b.is_empty() {
        return Some(0);
    }
    let groups: Vec<&[u8]> = b.split(|&c| c == b':').collect();
    let last = groups.len() - 1;
    let mut n = 0;
    for (i, g) in groups.iter().enumerate() {
        if (1..=4).contains(&g.len()) && g.iter().all(u8::is_ascii_hexdigit) {
            n += 1;
        } else if i == last && ipv4_last && is_ipv4(g) {
            n += 2;
        } else {
            return None;
        }
    }
    Some(n)
}

/// `IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet`, each 0–255 without leading zeros.
fn is_ipv4(b: &[u8]) -> bool {
    let octets: Vec<&[u8]> = b.split(|&c| c == b'.').collect();
    octets.len() == 4
        && octets.iter().all(|o| {
            let digits = (1..=3).contains(&o.len()) && o.iter().all(u8::is_ascii_digit);
            let no_leading_zero = o.len() == 1 || o.first() != Some(&b'0');
            digits && no_leading_zero && o.iter().fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0')) <= 255
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted() {
        for s in [
            "https://example.com",
            "https://example.com/",
            "https://example.com/a/b?c=d&e#f",
            "http://[::1]:8080/x?y#z",
            "http://[v1.x]",
            "http://[V1F.a:b]/",
            "file:///tmp/x",
            "mailto:a@b.c",
            "urn:isbn:0451450523",
            "urn:ietf:rfc:3986",
            "news:comp.infosystems.www.servers.unix",
            "tel:+1-816-555-1212",
            "ldap://[2001:db8::7]/c=GB?objectClass?one",
            "telnet://192.0.2.16:80/",
            "https://user:pa%20ss@example.com:/p",
            "https://example.com:443",
            "https://example.com/a%2Fb%c3%a9",
            "https://example.com/a//b",
            "https://example.com?",
            "https://example.com#",
            "https://example.com/?a?b/c#d?e/f",
            "git+ssh://git@github.com/org/repo.git",
            "a:",
            "a:/",
            "a:b/c",
            "x://",
            "http://999.999.999.999/",
            "http://[1:2:3:4:5:6:7:8]",
            "http://[1:2:3:4:5:6:1.2.3.4]",
            "http://[::]",
            "http://[1::]",
            "http://[::1.2.3.4]",
            "http://[1:2:3:4:5::1.2.3.4]",
            "http://[1:2:3:4:5:6:7::]",
            "http://[::2:3:4:5:6:7:8]",
            "http://[fe80::abcd:ef01]",
            "http://[ABCD:EF01::1]",
        ] {
            assert!(is_uri(s), "{:?} should be a URI", s);
        }
    }

    #[test]
    fn refused() {
        for s in [
            "",
            "https://ex ample.com/é",
            "https://example.com/é",
            "https://example.com/a%2",
            "https://example.com/a%zz",
            "https://example.com/%",
            "//example.com",
            "example.com",
            "/path/only",
            ":no-scheme",
            "1http://example.com",
            "ht_tp://example.com",
            "http://exa mple.com",
            "http://example.com/a b",
            "http://example.com/a\\b",
            "http://example.com/<x>",
            "http://example.com/a#b#c",
            "http://[::1",
            "http://[::1]x",
            "http://[::1]:8a",
            "http://[1:2:3:4:5:6:7:8:9]",
            "http://[1:2:3:4:5:6:7]",
            "http://[1::2::3]",
            "http://[:::]",
            "http://[:1::2]",
            "http://[1::2:]",
            "http://[12345::]",
            "http://[g::]",
            "http://[1:2:3:4:5:6:7::8]",
            "http://[::1.2.3.4:5]",
            "http://[1.2.3.4::]",
            "http://[1:2:3:4:5:6:7:1.2.3.4]",
            "http://[::1.2.3.256]",
            "http://[::01.2.3.4]",
            "http://[::1.2.3]",
            "http://[]",
            "http://[v.x]",
            "http://[v1.]",
            "http://[v1x]",
            "http://[w1.x]",
            "http://[v1.x/y]",
            "http://[%31::]",
            "http://example.com:80:80",
            "http://example.com:-1",
            "http://a@b@c",
            "http://exa[mple.com",
            "http://example.com/\u{7f}",
            "http://example.com/\t",
            "mailto:a b@c",
            "urn:isbn:０451",
        ] {
            assert!(!is_uri(s), "{:?} should not be a URI", s);
        }
    }
}
