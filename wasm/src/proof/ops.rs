//! The proof operations of `cra_call` (listed in `runtime/ops.rs` with the others): stateless, each on the trace,
//! proof, note or key it is given. Verifications answer a verdict (`valid`, and a `reason` when not) for anything
//! wrong in what they check; only input of the wrong shape is an error.

use serde_json::Value;

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::input::Obj;
use crate::obj;
use crate::trace::Event;

use super::base64;
use super::keys::{Signer, Verifier};
use super::merkle::{consistency_proof, inclusion_proof, root, verify_consistency, verify_inclusion, Frontier, Hash};
use super::note::SignedNote;
use super::receipt::{self, hashes};
use super::tree::{from_hex, hex, leaf_of, Log};

const CODE: ErrorCode = ErrorCode::InvalidRequest;

/// A size within the log: `key` when given (0 ..= the log's length), else the whole log.
fn size_in(o: Obj, key: &str, log: &Log) -> CoreResult<usize> {
    match o.opt_int(key, 0, i64::MAX, CODE)? {
        Some(n) if n as u64 > log.len() as u64 => Err(o.err(CODE, key, format!("the trace has {} events", log.len()))),
        Some(n) => Ok(n as usize),
        None => Ok(log.len()),
    }
}

/// `trace.tree`: the Merkle root of a trace (of its first `size` events), and with `sizes` the roots of its first
/// events at each of those sizes, in one pass over the leaves (what checking a trace's checkpoints needs).
pub fn tree(o: Obj) -> CoreResult<Value> {
    o.deny_unknown(&["events", "jsonl", "size", "sizes"], CODE)?;
    let log = Log::read(o)?;
    let size = size_in(o, "size", &log)?;
    let head = if size == 0 { crate::trace::GENESIS_HASH.to_string() } else { log.event_hashes.get(size - 1).cloned().unwrap_or_default() };
    let mut answer = obj!("session_id": &log.session_id, "length": log.len(), "size": size, "root": hex(&root(log.leaves.get(..size).unwrap_or_default())), "head_hash": head);
    if let Some(list) = o.opt_array("sizes", CODE)? {
        if list.len() > 100_000 {
            return Err(o.err(CODE, "sizes", "at most 100 000 sizes"));
        }
        let mut wanted = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            match v.as_u64() {
                Some(n) if n <= log.len() as u64 => wanted.push(n),
                _ => return Err(CoreError::at(CODE, format!("{}/{}", o.field_path("sizes"), i), format!("a size is an integer from 0 to {}", log.len()))),
            }
        }
        let mut order: Vec<usize> = (0..wanted.len()).collect();
        order.sort_by_key(|&i| wanted.get(i).copied().unwrap_or(0));
        let mut roots = vec![String::new(); wanted.len()];
        let mut frontier = Frontier::new();
        let mut leaves = log.leaves.iter();
        for i in order {
            let n = wanted.get(i).copied().unwrap_or(0);
            while frontier.size() < n {
                match leaves.next() {
                    Some(l) => frontier.push(*l),
                    None => break,
                }
            }
            if let Some(slot) = roots.get_mut(i) {
                *slot = hex(&frontier.root());
            }
        }
        if let Some(m) = answer.as_object_mut() {
            m.insert("roots".into(), Value::Array(roots.into_iter().map(Value::String).collect()));
        }
    }
    Ok(answer)
}

/// `proof.inclusion`: the proof that event `index` is in the tree of the first `size` events.
pub fn inclusion(o: Obj) -> CoreResult<Value> {
    o.deny_unknown(&["events", "jsonl", "index", "size"], CODE)?;
    let log = Log::read(o)?;
    let size = size_in(o, "size", &log)?;
    let index = o.opt_int("index", 0, i64::MAX, CODE)?.ok_or_else(|| o.err(CODE, "index", "`index` is required"))? as usize;
    let leaves = log.leaves.get(..size).unwrap_or_default();
    let proof = inclusion_proof(leaves, index).ok_or_else(|| o.err(CODE, "index", format!("the tree has {} events: no event {}", size, index)))?;
    Ok(obj!(
        "type": "inclusion",
        "session_id": &log.session_id,
        "index": index,
        "size": size,
        "event_hash": log.event_hashes.get(index).cloned().unwrap_or_default(),
        "root": hex(&root(leaves)),
        "proof": proof.iter().map(hex).collect::<Vec<_>>(),
    ))
}

/// `proof.consistency`: the proof that the tree of the first `first` events is a prefix of that of `second`.
pub fn consistency(o: Obj) -> CoreResult<Value> {
    o.deny_unknown(&["events", "jsonl", "first", "second"], CODE)?;
    let log = Log::read(o)?;
    let second = size_in(o, "second", &log)?;
    let first = o.opt_int("first", 0, i64::MAX, CODE)?.ok_or_else(|| o.err(CODE, "first", "`first` is required"))? as usize;
    let leaves = log.leaves.get(..second).unwrap_or_default();
    let proof = consistency_proof(leaves, first).ok_or_else(|| o.err(CODE, "first", format!("`first` ({}) is after `second` ({})", first, second)))?;
    Ok(obj!(
        "type": "consistency",
        "session_id": &log.session_id,
        "first": first,
        "second": second,
        "first_root": hex(&root(leaves.get(..first).unwrap_or_default())),
        "second_root": hex(&root(leaves)),
        "proof": proof.iter().map(hex).collect::<Vec<_>>(),
    ))
}

fn verdict(r: Result<Value, (&'static str, String, String)>) -> Value {
    match r {
        Ok(v) => v,
        Err((reason, path, message)) => obj!("valid": false, "reason": reason, "message": message, "path": path),
    }
}

fn hash_at(p: Obj, key: &str) -> Result<Hash, (&'static str, String, String)> {
    p.get(key).and_then(Value::as_str).and_then(from_hex).ok_or_else(|| ("malformed", p.field_path(key), format!("`{}` must be 64 lowercase hex digits", key)))
}

fn count_at(p: Obj, key: &str) -> Result<u64, (&'static str, String, String)> {
    p.get(key).and_then(Value::as_u64).ok_or_else(|| ("malformed", p.field_path(key), format!("`{}` must be a non-negative integer", key)))
}

/// `proof.verify`: checks a proof from `proof.inclusion` or `proof.consistency` on its own, and against what is
/// given beside it: `event` (the event an inclusion proof is about: its contents must hash to the proof's
/// `event_hash`), `checkpoint` (`{size, root}` of a checkpoint whose signature the host checked: the proof must
/// end in it) and, for consistency, `first_checkpoint` (the same for the older tree).
pub fn verify(o: Obj) -> CoreResult<Value> {
    o.deny_unknown(&["proof", "event", "checkpoint", "first_checkpoint"], CODE)?;
    let p = o.opt_object("proof", CODE)?.ok_or_else(|| o.err(CODE, "proof", "`proof` is required"))?;
    let path = o.field_path("proof");
    let p = Obj::new(p, &path);
    let tree_of = |key: &str| -> CoreResult<Option<(u64, Hash)>> {
        match o.opt_object(key, CODE)? {
            None => Ok(None),
            Some(m) => {
                let kp = o.field_path(key);
                let c = Obj::new(m, &kp);
                let size = c.opt_int("size", 0, i64::MAX, CODE)?.ok_or_else(|| c.err(CODE, "size", "`size` is required"))? as u64;
                let root = from_hex(c.req_str("root", CODE)?).ok_or_else(|| c.err(CODE, "root", "`root` must be 64 lowercase hex digits"))?;
                Ok(Some((size, root)))
            }
        }
    };
    let (checkpoint, first_checkpoint) = (tree_of("checkpoint")?, tree_of("first_checkpoint")?);
    let event = match o.get("event") {
        Some(v) => Some(Event::from_json(v).map_err(|m| o.err(CODE, "event", m))?),
        None => None,
    };
    let proof_hashes = |p: Obj| hashes(p.get("proof")).ok_or_else(|| ("malformed", p.field_path("proof"), "`proof` must be an array of at most 64 hashes".to_string()));
    let kind = p.get("type").and_then(Value::as_str);
    Ok(verdict((|| match kind {
        Some("inclusion") => {
            let (index, size) = (count_at(p, "index")?, count_at(p, "size")?);
            let (event_hash, root) = (hash_at(p, "event_hash")?, hash_at(p, "root")?);
            let proof = proof_hashes(p)?;
            if let Some(e) = &event {
                if e.compute_hash().as_deref() != Some(e.event_hash.as_str()) {
                    return Err(("event_hash_mismatch", "/event".to_string(), "the event's contents do not hash to its event_hash".to_string()));
                }
                if from_hex(&e.event_hash) != Some(event_hash) || e.sequence != index {
                    return Err(("wrong_event", "/event".to_string(), "the proof is about another event".to_string()));
                }
            }
            if let Some((s, r)) = checkpoint {
                if (s, r) != (size, root) {
                    return Err(("checkpoint_mismatch", "/checkpoint".to_string(), format!("the proof is for a tree of {} events, not the checkpoint's {}", size, s)));
                }
            }
            let leaf = leaf_of(&hex(&event_hash)).unwrap_or_default();
            verify_inclusion(&leaf, index, size, &proof, &root).map_err(|r| ("proof_invalid", p.field_path("proof"), format!("the proof does not hold ({})", r.as_str())))?;
            Ok(obj!("valid": true, "type": "inclusion", "index": index, "size": size, "root": hex(&root)))
        }
        Some("consistency") => {
            let (first, second) = (count_at(p, "first")?, count_at(p, "second")?);
            let (first_root, second_root) = (hash_at(p, "first_root")?, hash_at(p, "second_root")?);
            let proof = proof_hashes(p)?;
            for (given, want, what) in [(checkpoint, (second, second_root), "checkpoint"), (first_checkpoint, (first, first_root), "first_checkpoint")] {
                if given.map_or(false, |g| g != want) {
                    return Err(("checkpoint_mismatch", format!("/{}", what), format!("the proof is not about the tree of `{}`", what)));
                }
            }
            verify_consistency(first, second, &first_root, &second_root, &proof)
                .map_err(|r| ("proof_invalid", p.field_path("proof"), format!("the proof does not hold ({})", r.as_str())))?;
            Ok(obj!("valid": true, "type": "consistency", "first": first, "second": second, "size": second, "root": hex(&second_root)))
        }
        _ => Err(("malformed", p.field_path("type"), "`type` must be \"inclusion\" or \"consistency\"".to_string())),
    })()))
}

/// The verifier keys at `keys` (strings).
fn verifiers(o: Obj) -> CoreResult<Vec<Verifier>> {
    let list = o.opt_array("keys", CODE)?.map(Vec::as_slice).unwrap_or_default();
    if list.len() > 64 {
        return Err(o.err(CODE, "keys", "at most 64 keys"));
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let path = format!("{}/{}", o.field_path("keys"), i);
            v.as_str().ok_or_else(|| CoreError::at(CODE, path.clone(), "a key is a verifier key string")).and_then(|t| Verifier::parse(t).map_err(|m| CoreError::at(CODE, path, m)))
        })
        .collect()
}

/// The parts of a signed checkpoint, and the signatures in it made by one of `keys`: `{public_key, signature}`
/// pairs (base64) over `body`, for the host to check.
pub fn open_note(note: &SignedNote, keys: &[Verifier]) -> Value {
    let c = &note.checkpoint;
    let signed: Vec<Value> = note
        .by(keys)
        .into_iter()
        .map(|(s, k)| obj!("key": k.text(), "key_name": &k.name, "public_key": base64::encode(&k.public_key), "signature": base64::encode(&s.signature)))
        .collect();
    obj!(
        "origin": &c.origin,
        "session_id": c.session_id(),
        "size": c.size,
        "root": hex(&c.root),
        "time": c.time.as_deref(),
        "body": &note.body,
        "signatures": signed,
        "signature_lines": note.signatures.len(),
    )
}

/// `checkpoint.open`: reads a signed checkpoint.
pub fn open(o: Obj) -> CoreResult<Value> {
    o.deny_unknown(&["note", "keys"], CODE)?;
    let note = SignedNote::parse(o.req_str("note", CODE)?).map_err(|m| o.err(ErrorCode::CheckpointInvalid, "note", m))?;
    Ok(open_note(&note, &verifiers(o)?))
}

/// `checkpoint.body`: the body of a checkpoint of a tree given by size and root (from `trace.tree`), made now: for a
/// host signing a trace it holds outside a runtime.
pub fn body(o: Obj, now: crate::time::Micros) -> CoreResult<Value> {
    o.deny_unknown(&["name", "session_id", "size", "root"], CODE)?;
    let name = o.req_str("name", CODE)?;
    if !super::keys::valid_name(name) {
        return Err(o.err(CODE, "name", "a log name is 1 to 128 printable ASCII characters, without + or spaces"));
    }
    let session_id = o.req_uuid("session_id", CODE)?;
    let size = o.opt_int("size", 0, i64::MAX, CODE)?.ok_or_else(|| o.err(CODE, "size", "`size` is required"))? as u64;
    let root = from_hex(o.req_str("root", CODE)?).ok_or_else(|| o.err(CODE, "root", "`root` must be 64 lowercase hex digits"))?;
    let time = crate::runtime::timestamp(now)?;
    let c = super::note::Checkpoint { origin: super::note::origin_of(name, &session_id), size, root, time: Some(time) };
    Ok(obj!("body": c.body()))
}

/// `checkpoint.sign`: a checkpoint's note from its body and the host's signature of it.
pub fn sign(o: Obj) -> CoreResult<Value> {
    o.deny_unknown(&["body", "key", "signature"], CODE)?;
    let body = o.req_str("body", CODE)?;
    let key = Verifier::parse(o.req_str("key", CODE)?).map_err(|m| o.err(CODE, "key", m))?;
    let signature = base64::decode(o.req_str("signature", CODE)?).filter(|s| s.len() == 64).ok_or_else(|| o.err(CODE, "signature", "an Ed25519 signature is 64 bytes, base64"))?;
    let mut text = body.to_string();
    text.push('\n');
    text.push_str(&super::note::Signature { name: key.name.clone(), key_id: key.key_id, signature }.line());
    // What is handed out must read back: the body is a checkpoint.
    SignedNote::parse(&text).map_err(|m| o.err(CODE, "body", m))?;
    Ok(obj!("note": text))
}

/// `key.parse`: a verifier or signer key string, read.
pub fn parse_key(o: Obj) -> CoreResult<Value> {
    o.deny_unknown(&["key"], CODE)?;
    let text = o.req_str("key", CODE)?;
    if text.starts_with("PRIVATE+") {
        let s = Signer::parse(text).map_err(|m| o.err(CODE, "key", m))?;
        Ok(obj!("kind": "signer", "name": &s.name, "key_id": crate::sha256::lower_hex(&s.key_id), "seed": base64::encode(&s.seed)))
    } else {
        let v = Verifier::parse(text).map_err(|m| o.err(CODE, "key", m))?;
        Ok(obj!("kind": "verifier", "name": &v.name, "key_id": crate::sha256::lower_hex(&v.key_id), "public_key": base64::encode(&v.public_key)))
    }
}

/// `key.format`: the key strings of a name and an Ed25519 public key (and seed). With `key_id`, the derived id
/// must equal it: how a host checks a signer key string against the public key it derived from the seed.
pub fn format_key(o: Obj) -> CoreResult<Value> {
    o.deny_unknown(&["name", "public_key", "seed", "key_id"], CODE)?;
    let bytes = |key: &str| -> CoreResult<Option<[u8; 32]>> {
        match o.opt_str(key, CODE)? {
            None => Ok(None),
            Some(t) => base64::decode(t).and_then(|b| b.try_into().ok()).map(Some).ok_or_else(|| o.err(CODE, key, format!("`{}` must be 32 bytes, base64", key))),
        }
    };
    let public_key = bytes("public_key")?.ok_or_else(|| o.err(CODE, "public_key", "`public_key` is required"))?;
    let name = o.req_str("name", CODE)?;
    let v = Verifier::new(name, public_key).ok_or_else(|| o.err(CODE, "name", "a key name is 1 to 128 printable ASCII characters, without + or spaces"))?;
    if let Some(id) = o.opt_str("key_id", CODE)? {
        if super::keys::parse_id(id).map_err(|m| o.err(CODE, "key_id", m))? != v.key_id {
            return Err(o.err(CODE, "key_id", "the key id does not match the name and the key: the key string is damaged"));
        }
    }
    let signer = bytes("seed")?.map(|seed| Signer { name: v.name.clone(), key_id: v.key_id, seed }.text());
    Ok(obj!("name": &v.name, "key_id": crate::sha256::lower_hex(&v.key_id), "verifier": v.text(), "signer": signer))
}

/// `receipt.build`.
pub fn build_receipt(o: Obj) -> CoreResult<Value> {
    o.deny_unknown(&["events", "jsonl", "execution_id", "checkpoint"], CODE)?;
    let execution_id = o.req_uuid("execution_id", CODE)?;
    let note = o.req_str("checkpoint", CODE)?;
    let log = Log::read(o)?;
    receipt::build(&log, &execution_id, note)
}

/// `receipt.verify`: everything but the signatures, which it hands the host as `checkpoint.open` does.
pub fn verify_receipt(o: Obj) -> CoreResult<Value> {
    o.deny_unknown(&["receipt", "keys"], CODE)?;
    let keys = verifiers(o)?;
    let r = o.opt_object("receipt", CODE)?.ok_or_else(|| o.err(CODE, "receipt", "`receipt` is required"))?;
    let path = o.field_path("receipt");
    Ok(match receipt::verify(Obj::new(r, &path)) {
        Ok((note, mut answer)) => {
            if let Some(m) = answer.as_object_mut() {
                m.insert("valid".into(), Value::Bool(true));
                m.insert("checkpoint".into(), open_note(&note, &keys));
            }
            answer
        }
        Err(r) => obj!("valid": false, "reason": r.reason, "message": r.message, "path": format!("{}{}", path, r.path)),
    })
}
