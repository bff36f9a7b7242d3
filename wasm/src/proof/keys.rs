//! Key strings, in the form of C2SP signed notes (the Go `note` package's): a verifier key
//! `<name>+<key id>+<base64(0x01 ‖ public key)>` and a signer key `PRIVATE+KEY+<name>+<key id>+<base64(0x01 ‖
//! seed)>`, where 0x01 names Ed25519 and the key id is the first four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public
//! key), as 8 hex digits. A signature line names its key by name and id, so that a verifier picks the key without
//! trying every one, and a key string cannot be attached to another name.

use crate::sha256::{lower_hex, sha256};

use super::base64;

/// The algorithm byte of Ed25519 keys.
pub const ED25519: u8 = 0x01;

/// A key name: 1 to 128 printable ASCII characters, none of them `+` (the separator) or a space.
pub fn valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len()) && name.bytes().all(|b| (b'!'..=b'~').contains(&b) && b != b'+')
}

/// The key id of an Ed25519 public key under `name`.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut input = Vec::with_capacity(name.len() + 34);
    input.extend_from_slice(name.as_bytes());
    input.push(b'\n');
    input.push(ED25519);
    input.extend_from_slice(public_key);
    let h = sha256(&input);
    [h[0], h[1], h[2], h[3]]
}

/// A parsed verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    pub name: String,
    pub key_id: [u8; 4],
    pub public_key: [u8; 32],
}

impl Verifier {
    pub fn new(name: &str, public_key: [u8; 32]) -> Option<Verifier> {
        if !valid_name(name) {
            return None;
        }
        Some(Verifier { name: name.to_string(), key_id: key_id(name, &public_key), public_key })
    }

    /// The key string.
    pub fn text(&self) -> String {
        format!("{}+{}+{}", self.name, lower_hex(&self.key_id), base64::encode(&tagged(&self.public_key)))
    }

    /// Reads a verifier key string; the message says what is wrong with it.
    pub fn parse(text: &str) -> Result<Verifier, String> {
        // The name and id hold no `+`; the base64 after them may.
        let parts: Vec<&str> = text.splitn(3, '+').collect();
        match parts.as_slice() {
            [name, id, key] => {
                let public_key = key_bytes(key)?;
                let v = Verifier::new(name, public_key).ok_or("the key name must be 1 to 128 printable ASCII characters, without + or spaces")?;
                check_id(id, &v.key_id)?;
                Ok(v)
            }
            _ => Err("a verifier key is <name>+<key id>+<base64 key>".into()),
        }
    }
}

/// A parsed signer key: the verifier's name and id, and the Ed25519 seed. Its id can only be checked against the
/// public key, which the host derives from the seed (the core has no Ed25519): see `key.format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    pub name: String,
    pub key_id: [u8; 4],
    pub seed: [u8; 32],
}

impl Signer {
    pub fn text(&self) -> String {
        format!("PRIVATE+KEY+{}+{}+{}", self.name, lower_hex(&self.key_id), base64::encode(&tagged(&self.seed)))
    }

    pub fn parse(text: &str) -> Result<Signer, String> {
        let parts: Vec<&str> = text.strip_prefix("PRIVATE+KEY+").map(|rest| rest.splitn(3, '+').collect()).unwrap_or_default();
        match parts.as_slice() {
            [name, id, key] => {
                if !valid_name(name) {
                    return Err("the key name must be 1 to 128 printable ASCII characters, without + or spaces".into());
                }
                let key_id = parse_id(id)?;
                Ok(Signer { name: name.to_string(), key_id, seed: key_bytes(key)? })
            }
            _ => Err("a signer key is PRIVATE+KEY+<name>+<key id>+<base64 key>".into()),
        }
    }
}

fn tagged(key: &[u8; 32]) -> Vec<u8> {
    let mut v = Vec::with_capacity(33);
    v.push(ED25519);
    v.extend_from_slice(key);
    v
}

fn key_bytes(b64: &str) -> Result<[u8; 32], String> {
    let bytes = base64::decode(b64).ok_or("the key is not standard base64")?;
    match bytes.split_first() {
        Some((&ED25519, rest)) if rest.len() == 32 => {
            let mut k = [0u8; 32];
            k.copy_from_slice(rest);
            Ok(k)
        }
        Some((&ED25519, _)) => Err("an Ed25519 key is 32 bytes".into()),
        _ => Err("not an Ed25519 key (its first byte must be 0x01)".into()),
    }
}

pub fn parse_id(id: &str) -> Result<[u8; 4], String> {
    let b = id.as_bytes();
    if b.len() != 8 || !b.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)) {
        return Err("the key id must be 8 lowercase hex digits".into());
    }
    let n = u32::from_str_radix(id, 16).map_err(|_| "the key id must be 8 lowercase hex digits".to_string())?;
    Ok(n.to_be_bytes())
}

fn check_id(id: &str, want: &[u8; 4]) -> Result<(), String> {
    if parse_id(id)? != *want {
        return Err("the key id does not match the name and key".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_round_trips_and_binds_its_name() {
        let v = Verifier::new("example.com/log", [7u8; 32]).unwrap();
        let text = v.text();
        assert_eq!(Verifier::parse(&text), Ok(v.clone()));
        // Another name with the same id and key: refused.
        let renamed = text.replacen("example.com/log", "example.com/lag", 1);
        assert!(Verifier::parse(&renamed).unwrap_err().contains("does not match"));
        assert!(Verifier::parse("a+b").is_err());
        assert!(Verifier::parse(&format!("{}+", text)).is_err());
        // Base64 may hold `+`: only the first two separate.
        let plus = Verifier::new("n", [0xfb; 32]).unwrap();
        assert!(plus.text().matches('+').count() > 2);
        assert_eq!(Verifier::parse(&plus.text()), Ok(plus));
        assert!(Verifier::new("two words", [0; 32]).is_none());
        assert!(Verifier::new("", [0; 32]).is_none());
    }

    #[test]
    fn signer_round_trips() {
        let s = Signer { name: "n".into(), key_id: [1, 2, 3, 4], seed: [9; 32] };
        assert_eq!(Signer::parse(&s.text()), Ok(s.clone()));
        assert!(s.text().starts_with("PRIVATE+KEY+n+01020304+"));
        assert!(Signer::parse("PRIVATE+KEY+n+0102030G+AQ==").is_err());
        let plus = Signer { name: "n".into(), key_id: [1, 2, 3, 4], seed: [0xfb; 32] };
        assert_eq!(Signer::parse(&plus.text()), Ok(plus));
    }
}
