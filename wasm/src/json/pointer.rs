//! Building RFC 6901 JSON pointers, used as the `path` of every error.

use std::fmt::Write;

/// `base` extended by the member name `key`, escaped as a reference token (`~` → `~0`, `/` → `~1`).
pub fn pointer_push(base: &str, key: &str) -> String {
    let mut out = String::with_capacity(base.len() + key.len() + 1);
    out.push_str(base);
    out.push('/');
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// `base` extended by the array index `i`.
pub fn pointer_index(base: &str, i: usize) -> String {
    let mut out = String::with_capacity(base.len() + 4);
    out.push_str(base);
    let _ = write!(out, "/{}", i);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_escaped_tokens() {
        assert_eq!(pointer_push("", "a"), "/a");
        assert_eq!(pointer_push("/a", "b"), "/a/b");
        assert_eq!(pointer_push("", ""), "/");
        assert_eq!(pointer_push("/x", "a/b"), "/x/a~1b");
        assert_eq!(pointer_push("/x", "m~n"), "/x/m~0n");
        assert_eq!(pointer_push("", "~/~1"), "/~0~1~01");
        assert_eq!(pointer_push("", "é €"), "/é €");
    }

    #[test]
    fn pushes_indices() {
        assert_eq!(pointer_index("", 0), "/0");
        assert_eq!(pointer_index("/actions", 12), "/actions/12");
        assert_eq!(pointer_push(&pointer_index("/a", 3), "action_id"), "/a/3/action_id");
    }

    #[test]
    fn pointers_resolve_with_serde_json() {
        let v = serde_json::json!({"a/b": {"m~n": [10, 20]}});
        let p = pointer_index(&pointer_push(&pointer_push("", "a/b"), "m~n"), 1);
        assert_eq!(v.pointer(&p), Some(&serde_json::json!(20)));
    }
}
