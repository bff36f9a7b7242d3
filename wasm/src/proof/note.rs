//! Checkpoints as signed notes (C2SP `tlog-checkpoint` inside C2SP `signed-note`):
//!
//! ```text
//! <origin>\n                     cra-example/0b6c…-session id: the log (one per session)
//! <size>\n                       decimal, the number of events the tree covers
//! <root>\n                       base64 of the Merkle root over those events
//! time <timestamp>\n             an extension line: when the checkpoint was made (host time, as events write it)
//! \n
//! — <key name> <base64(key id ‖ Ed25519 signature)>\n      one line per signature, over the text above the blank line
//! ```
//!
//! The origin is `<log name>/<session id>`, so a checkpoint names its session and a signature over one session's
//! tree cannot be shown for another's. Parsing is strict (one text per checkpoint): a note is refused, with a
//! reason, rather than read generously.

use crate::time::parse_stored;

use super::base64;
use super::keys::{valid_name, Verifier};
use super::merkle::Hash;

/// The longest note read: a checkpoint is a few hundred bytes.
pub const MAX_NOTE_BYTES: usize = 16 * 1024;
/// At most this many signature lines.
pub const MAX_SIGNATURES: usize = 16;
/// The dash that opens a signature line (U+2014) and its space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// A checkpoint's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// The `time` extension line, when present.
    pub time: Option<String>,
}

impl Checkpoint {
    /// The body text: what is signed.
    pub fn body(&self) -> String {
        let mut s = format!("{}\n{}\n{}\n", self.origin, self.size, base64::encode(&self.root));
        if let Some(t) = &self.time {
            s.push_str("time ");
            s.push_str(t);
            s.push('\n');
        }
        s
    }

    /// The session of a checkpoint whose origin is `<log name>/<session id>`.
    pub fn session_id(&self) -> Option<&str> {
        let (_, id) = self.origin.rsplit_once('/')?;
        crate::ids::is_uuid(id).then(|| id)
    }

    fn parse_body(body: &str) -> Result<Checkpoint, String> {
        let text = body.strip_suffix('\n').ok_or("the checkpoint body must end with a newline")?;
        let mut lines = text.split('\n');
        let origin = lines.next().unwrap_or_default();
        if !valid_origin(origin) {
            return Err("the origin line must be `<log name>/<session id>` in printable ASCII, without spaces or +".into());
        }
        let size = lines.next().ok_or("the checkpoint has no size line")?;
        let size = parse_size(size).ok_or("the size line must be a decimal number without leading zeros")?;
        let root = lines.next().ok_or("the checkpoint has no root line")?;
        let root: Hash = base64::decode(root)
            .and_then(|b| b.try_into().ok())
            .ok_or("the root line must be the base64 of 32 bytes")?;
        let mut time = None;
        for line in lines {
            match line.strip_prefix("time ") {
                Some(t) if time.is_none() && parse_stored(t).is_some() => time = Some(t.to_string()),
                Some(_) => return Err("the time line must appear once, with an RFC 3339 UTC timestamp".into()),
                // Other extension lines are the log's own: kept in the signed body, not read here.
                None if line.is_empty() => return Err("the checkpoint body has an empty line".into()),
                None => {}
            }
        }
        Ok(Checkpoint { origin: origin.to_string(), size, root, time })
    }
}

/// The origin of a session's log: `<name>/<session id>`.
pub fn origin_of(name: &str, session_id: &str) -> String {
    format!("{}/{}", name, session_id)
}

fn valid_origin(origin: &str) -> bool {
    match origin.rsplit_once('/') {
        Some((name, id)) => valid_name(name) && crate::ids::is_uuid(id),
        None => false,
    }
}

fn parse_size(s: &str) -> Option<u64> {
    if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub name: String,
    pub key_id: [u8; 4],
    pub signature: Vec<u8>,
}

impl Signature {
    pub fn line(&self) -> String {
        let mut blob = self.key_id.to_vec();
        blob.extend_from_slice(&self.signature);
        format!("{}{} {}\n", SIGNATURE_PREFIX, self.name, base64::encode(&blob))
    }
}

/// A signed checkpoint, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// The signed text (the body, up to and including its last newline).
    pub body: String,
    pub checkpoint: Checkpoint,
    pub signatures: Vec<Signature>,
}

impl SignedNote {
    /// Reads a signed checkpoint; the message says what is wrong.
    pub fn parse(text: &str) -> Result<SignedNote, String> {
        if text.len() > MAX_NOTE_BYTES {
            return Err(format!("a checkpoint is at most {} bytes", MAX_NOTE_BYTES));
        }
        // The newline after the last signature line is signed by nothing: a note without it (as a shell's `$(…)`
        // leaves it) is read as the same note. Any other spelling is refused, saying where.
        let owned;
        let text = if text.ends_with('\n') {
            text
        } else {
            owned = format!("{}\n", text);
            owned.as_str()
        };
        if text.ends_with("\n\n") {
            return Err("the note ends with an empty line: exactly one newline follows its last signature line".into());
        }
        let split = text.rfind("\n\n").ok_or("a signed note is its body, a blank line, then its signature lines")?;
        let (body, rest) = (text.get(..split + 1).unwrap_or_default(), text.get(split + 2..).unwrap_or_default());
        let checkpoint = Checkpoint::parse_body(body)?;
        let mut signatures = Vec::new();
        for line in rest.strip_suffix('\n').unwrap_or(rest).split('\n') {
            let s = line.strip_prefix(SIGNATURE_PREFIX).ok_or("a signature line starts with \u{2014} and a space")?;
            let (name, blob) = s.split_once(' ').ok_or("a signature line is \u{2014} <key name> <base64 signature>")?;
            if !valid_name(name) {
                return Err("a signature line's key name is not a key name".into());
            }
            let blob = base64::decode(blob).ok_or("a signature is not standard base64")?;
            if blob.len() < 5 {
                return Err("a signature is its 4-byte key id and the signature itself".into());
            }
            let (id, sig) = blob.split_at(4);
            let key_id: [u8; 4] = id.try_into().map_err(|_| "a signature's key id is 4 bytes")?;
            signatures.push(Signature { name: name.to_string(), key_id, signature: sig.to_vec() });
        }
        if signatures.len() > MAX_SIGNATURES {
            return Err(format!("a signed note has at most {} signatures", MAX_SIGNATURES));
        }
        Ok(SignedNote { body: body.to_string(), checkpoint, signatures })
    }

    /// The note's text.
    pub fn text(&self) -> String {
        let mut s = self.body.clone();
        s.push('\n');
        for sig in &self.signatures {
            s.push_str(&sig.line());
        }
        s
    }

    /// The signatures made by one of `keys` (by name and key id), each with its key: what the host checks.
    pub fn by<'k>(&self, keys: &'k [Verifier]) -> Vec<(&Signature, &'k Verifier)> {
        self.signatures
            .iter()
            .filter_map(|s| keys.iter().find(|k| k.name == s.name && k.key_id == s.key_id).map(|k| (s, k)))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    const SESSION: &str = "0b6c5e1a-0000-4000-8000-000000000001";

    fn note() -> SignedNote {
        let checkpoint = Checkpoint { origin: origin_of("cra", SESSION), size: 3, root: [5; 32], time: Some("2026-01-02T03:04:05.000006Z".into()) };
        let sig = Signature { name: "cra".into(), key_id: [1, 2, 3, 4], signature: vec![9; 64] };
        SignedNote { body: checkpoint.body(), checkpoint, signatures: vec![sig] }
    }

    #[test]
    fn round_trips() {
        let n = note();
        let text = n.text();
        assert!(text.starts_with(&format!("cra/{}\n3\nBQUF", SESSION)));
        assert!(text.contains("\ntime 2026-01-02T03:04:05.000006Z\n\n\u{2014} cra "));
        assert_eq!(SignedNote::parse(&text), Ok(n.clone()));
        assert_eq!(n.checkpoint.session_id(), Some(SESSION));
    }

    #[test]
    fn other_spellings_are_refused() {
        let text = note().text();
        for bad in [
            text.replacen("\n3\n", "\n03\n", 1),
            text.replacen("\n3\n", "\n+3\n", 1),
            text.replacen("cra/", "cra x/", 1),
            text.replacen("\n\n", "\n", 1),
            text.replacen("\u{2014} ", "- ", 1),
            format!("{}\n", text),
            text.replacen("time 2026", "time 1026-13", 1),
            text.replacen("\ntime", "\n\ntime", 1),
            format!("{}x\n", text),
        ] {
            assert!(SignedNote::parse(&bad).is_err(), "{:?}", bad);
        }
        // Without its final newline (as `$(…)` leaves it): the same note.
        assert_eq!(SignedNote::parse(text.trim_end_matches('\n')), SignedNote::parse(&text));
        assert!(SignedNote::parse(&format!("{}\n", text)).unwrap_err().contains("ends with an empty line"));
    }
}
