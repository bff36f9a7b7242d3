//! Action patterns of SPEC §1: an exact id, `*`, `prefix.*` (any id under `prefix.`, at any depth) or `*.suffix`
//! (any id ending in `.suffix`). Nothing else is special: `a*b` is the literal id `a*b` and matches nothing real.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    Exact(String),
    Any,
    /// Stored with the trailing dot: `prefix.`.
    Prefix(String),
    /// Stored with the leading dot: `.suffix`.
    Suffix(String),
}

impl Pattern {
    pub fn parse(s: &str) -> Pattern {
        if s == "*" {
            return Pattern::Any;
        }
        if let Some(prefix) = s.strip_suffix(".*").filter(|p| !p.is_empty() && !p.contains('*')) {
            return Pattern::Prefix(format!("{}.", prefix));
        }
        if let Some(suffix) = s.strip_prefix("*.").filter(|x| !x.is_empty() && !x.contains('*')) {
            return Pattern::Suffix(format!(".{}", suffix));
        }
        Pattern::Exact(s.to_string())
    }

    pub fn matches(&self, id: &str) -> bool {
        match self {
            Pattern::Exact(x) => x == id,
            Pattern::Any => true,
            Pattern::Prefix(p) => id.len() > p.len() && id.starts_with(p.as_str()),
            Pattern::Suffix(s) => id.len() > s.len() && id.ends_with(s.as_str()),
        }
    }
}

/// Action ids ordered, with their index in the list they came from: an exact id is a binary search and `prefix.*` a
/// range, so that matching a pattern costs a log rather than a pass over the ids (only `*` and `*.suffix` pass).
pub struct SortedIds<'a> {
    ids: Vec<(&'a str, usize)>,
}

impl<'a> SortedIds<'a> {
    pub fn new(ids: &[&'a str]) -> Self {
        let mut order: Vec<usize> = (0..ids.len()).collect();
        let id = |i: usize| ids.get(i).copied().unwrap_or("");
        super::sort_indices(&mut order, &|a, b| id(a).cmp(id(b)));
        SortedIds { ids: order.into_iter().map(|i| (id(i), i)).collect() }
    }

    /// Calls `found` with the index of each id `p` matches (in id order, not list order) until it answers false.
    pub fn matching(&self, p: &Pattern, found: &mut dyn FnMut(usize) -> bool) {
        let from = |key: &str| self.ids.get(self.ids.partition_point(|(id, _)| *id < key)..).unwrap_or_default();
        let candidates = match p {
            Pattern::Exact(x) => from(x),
            Pattern::Prefix(prefix) => from(prefix),
            Pattern::Any | Pattern::Suffix(_) => &self.ids[..],
        };
        for (id, i) in candidates {
            let past = match p {
                Pattern::Exact(x) => id != x,
                Pattern::Prefix(prefix) => !id.starts_with(prefix.as_str()),
                Pattern::Any | Pattern::Suffix(_) => false,
            };
            if past {
                break;
            }
            if p.matches(id) && !found(*i) {
                break;
            }
        }
    }

    /// Whether `p` matches one of the ids.
    pub fn any(&self, p: &Pattern) -> bool {
        let mut any = false;
        self.matching(p, &mut |_| {
            any = true;
            false
        });
        any
    }
}

/// Glob on agent ids (`*` any run of characters, `?` exactly one), iterative so that no input can blow the stack
/// or take exponential time.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&tc) = t.get(ti) {
        match p.get(pi) {
            Some(&pc) if pc == '?' || pc == tc => {
                pi += 1;
                ti += 1;
                continue;
            }
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p.get(pi..).map_or(true, |rest| rest.iter().all(|c| *c == '*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(Pattern::parse("ticket.lookup").matches("ticket.lookup"));
        assert!(!Pattern::parse("ticket.lookup").matches("ticket.lookups"));
        assert!(Pattern::parse("*").matches("a.b"));
        let p = Pattern::parse("ticket.*");
        assert!(p.matches("ticket.lookup") && p.matches("ticket.note.add"));
        assert!(!p.matches("ticket") && !p.matches("tickets.lookup"));
        let s = Pattern::parse("*.delete");
        assert!(s.matches("resource.delete") && s.matches("a.b.delete"));
        assert!(!s.matches("resource.undelete") && !s.matches("delete"));
        assert_eq!(Pattern::parse("res*"), Pattern::Exact("res*".into()));
        assert_eq!(Pattern::parse("*.*"), Pattern::Exact("*.*".into()));
        assert!(!Pattern::parse("a*b").matches("axb"));
        // The empty pattern is the exact id `""`, which no action has (action ids are checked non-empty).
        assert_eq!(Pattern::parse(""), Pattern::Exact(String::new()));
        assert!(!SortedIds::new(&["a.b", "c.d"]).any(&Pattern::parse("")));
    }

    #[test]
    fn globs() {
        assert!(glob_match("support-*", "support-bot-1"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*-bot-*", "x-bot-y"));
        assert!(!glob_match("support-*", "billing-bot"));
        assert!(glob_match("exact", "exact"));
        let long = "a".repeat(5000);
        assert!(!glob_match(&"*a".repeat(50).add_b(), &long));
    }

    trait AddB {
        fn add_b(self) -> String;
    }
    impl AddB for String {
        fn add_b(mut self) -> String {
            self.push('b');
            self
        }
    }
}
