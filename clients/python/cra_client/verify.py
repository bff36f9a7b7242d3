"""Offline verification of traces, checkpoints and receipts, with the standard library alone.

A second implementation of the protocol's checks, written from its text (docs/protocol.md: the hash, Verification,
Proofs) and from the RFCs it names (8785 canonical JSON, 9162 Merkle trees, 8032 Ed25519, the C2SP signed note),
with no CRA runtime: a Python program can check a receipt or a trace it was handed, and the runtime's own verifier
has an independent one to be compared with. The verdicts have the runtime's shapes and reason codes.

- :func:`verify_chain`: a trace's hash chain: ``{valid, length, head_hash}`` or ``{valid: False, index, reason}``.
- :func:`verify_checkpoint`: a signed checkpoint, with the verifier key(s) to accept.
- :func:`verify_trace`: the chain, and that every checkpoint given is signed and fixes this trace's tree.
- :func:`verify_receipt`: an execution's receipt: its events, their inclusion proofs and the signed checkpoint.

From a shell: ``python -m cra_client.verify <trace.jsonl> [--checkpoints file] [--key k]`` or
``python -m cra_client.verify --receipt r.json --key k`` prints a one-line verdict and exits 0 when valid, 1 when
not, 2 when the input cannot be read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import ed25519, merkle
from .errors import CraError
from .note import NoteError, SignedNote, Verifier, is_uuid, parse_keys, parse_note, parse_timestamp

__all__ = [
    "canonical_json",
    "event_hash",
    "read_jsonl",
    "verify_chain",
    "trace_root",
    "verify_checkpoint",
    "verify_trace",
    "verify_receipt",
    "main",
]

GENESIS_HASH = "0" * 64
TRACE_VERSION = "1.0"
EVENT_TYPES = frozenset(
    [
        "session.started",
        "session.ended",
        "carp.request.received",
        "carp.resolution.completed",
        "carp.resolution.cached",
        "context.injected",
        "context.redacted",
        "policy.evaluated",
        "policy.violated",
        "action.requested",
        "action.approved",
        "action.denied",
        "action.executed",
        "action.failed",
        "error.occurred",
    ]
)
FIELDS = frozenset(
    [
        "trace_version",
        "event_id",
        "trace_id",
        "span_id",
        "parent_span_id",
        "session_id",
        "sequence",
        "timestamp",
        "event_type",
        "payload",
        "event_hash",
        "previous_event_hash",
    ]
)
#: The most hashes a proof may hold (a tree of 2^64 leaves).
MAX_PROOF_HASHES = 64

Keys = Union[str, Sequence[str]]

# ---------------------------------------------------------------------------------------------------------------------
# RFC 8785 canonical JSON


def _canonical_string(s: str) -> str:
    """§3.2.2.2: only ``"``, ``\\`` and the controls are escaped (the five with short forms short), the rest is raw."""
    out = ['"']
    for c in s:
        o = ord(c)
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif o < 0x20:
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}.get(c, "\\u%04x" % o))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _es_number(x: float) -> str:
    """ECMAScript's Number::toString (ECMA-262 §6.1.6.1.20), which RFC 8785 §3.2.2.3 prescribes for numbers.

    Python's ``repr`` gives the shortest digits that read back to the same double, as ECMAScript does; only their
    layout (where the point goes, when an exponent is written) differs, and is redone here.
    """
    if math.isnan(x) or math.isinf(x):
        raise ValueError("NaN and infinities are not JSON numbers")
    if x == 0:
        return "0"
    if x < 0:
        return "-" + _es_number(-x)
    mantissa, _, exp = repr(x).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = whole + frac
    n = len(whole) + (int(exp) if exp else 0)  # value = 0.<digits> * 10^n
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    return (digits if k == 1 else digits[0] + "." + digits[1:]) + "e" + sign + str(abs(e))


def canonical_json(value: Any) -> str:
    """RFC 8785 (JCS) text of a JSON value: members sorted by UTF-16 code units, no whitespace, minimal escaping,
    numbers as ECMAScript writes them. Raises ``ValueError`` for what JSON cannot hold (NaN, a non-string key)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _es_number(value)
    if isinstance(value, str):
        return _canonical_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("object member names must be strings")
        members = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(_canonical_string(k) + ":" + canonical_json(v) for k, v in members) + "}"
    raise ValueError(f"{type(value).__name__} is not a JSON value")


# ---------------------------------------------------------------------------------------------------------------------
# Events and chains


def _hash_timestamp(stored: str) -> Optional[str]:
    """TS(timestamp): the seconds, the fraction trimmed to 0, 3, 6 or 9 digits, then ``+00:00``."""
    parsed = parse_timestamp(stored)
    if parsed is None:
        return None
    seconds, nanos = parsed
    if nanos == 0:
        fraction = ""
    elif nanos % 1_000_000 == 0:
        fraction = ".%03d" % (nanos // 1_000_000)
    elif nanos % 1000 == 0:
        fraction = ".%06d" % (nanos // 1000)
    else:
        fraction = ".%09d" % nanos
    return seconds + fraction + "+00:00"


def _is_hash(s: Any) -> bool:
    return isinstance(s, str) and len(s) == 64 and all(c in "0123456789abcdef" for c in s)


def check_event(event: Any) -> Optional[str]:
    """Why an event is malformed (a field of the wrong form), or None. Formats are checked strictly because the
    hash is a plain concatenation: a loose reading would let bytes move from one field to the next."""
    if not isinstance(event, dict):
        return "an event must be an object"
    unknown = sorted(set(event) - FIELDS)
    if unknown:
        return f"unknown field `{unknown[0]}`"
    if event.get("trace_version") != TRACE_VERSION:
        return '`trace_version` must be "1.0"'
    for key in ("event_id", "trace_id", "span_id", "session_id"):
        if not is_uuid(event.get(key)):
            return f"`{key}` must be a lowercase UUID"
    parent = event.get("parent_span_id")
    if parent is not None and not is_uuid(parent):
        return "`parent_span_id` must be null or a lowercase UUID"
    seq = event.get("sequence")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**64:
        return "`sequence` must be a non-negative integer"
    if not isinstance(event.get("timestamp"), str) or _hash_timestamp(event["timestamp"]) is None:
        return "`timestamp` must be UTC RFC 3339 with 0, 3, 6 or 9 fractional digits"
    if event.get("event_type") not in EVENT_TYPES:
        return f"unknown event type `{event.get('event_type')}`"
    if not isinstance(event.get("payload"), dict):
        return "`payload` must be an object"
    for key in ("event_hash", "previous_event_hash"):
        if not _is_hash(event.get(key)):
            return f"`{key}` must be 64 lowercase hex digits"
    return None


def event_hash(event: Dict[str, Any]) -> str:
    """The hash an event must carry (docs/protocol.md, The hash); the event must be well-formed (:func:`check_event`)."""
    text = "".join(
        [
            TRACE_VERSION,
            event["event_id"],
            event["trace_id"],
            event["span_id"],
            event.get("parent_span_id") or "",
            event["session_id"],
            str(event["sequence"]),
            _hash_timestamp(event["timestamp"]) or "",
            event["event_type"],
            canonical_json(event["payload"]),
            event["previous_event_hash"],
        ]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _no_duplicates(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate member `{k}`")
        out[k] = v
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_strings(value: Any) -> None:
    """Lone surrogates (``"\\ud800"``) parse in Python but are no Unicode text: refused."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            v.encode("utf-8")
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            for k, x in v.items():
                k.encode("utf-8")
                stack.append(x)


def parse_json(text: str) -> Any:
    """Strict JSON: no duplicate member names, no NaN or infinities, no lone surrogates."""
    value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    _check_strings(value)
    return value


def read_jsonl(text: str) -> List[Any]:
    """The values of JSONL text, one per line; every line ends with LF (a CR before it is tolerated). A last line
    without its newline is a write cut short and refused, as is a line that is not JSON (``CraError`` ``invalid_json``
    at ``/jsonl``, the line counted from 1)."""
    if text == "":
        return []
    if not text.endswith("\n"):
        raise CraError("invalid_json", f"line {text.count(chr(10)) + 1}: incomplete (no trailing newline): a torn write", path="/jsonl", status=400)
    values = []
    for i, line in enumerate(text[:-1].split("\n")):
        if line.endswith("\r"):
            line = line[:-1]
        try:
            values.append(parse_json(line))
        except (ValueError, UnicodeEncodeError) as err:
            raise CraError("invalid_json", f"line {i + 1}: invalid JSON: {err}", path="/jsonl", status=400) from None
    return values


def _events_of(trace: Union[str, Sequence[Any]]) -> List[Any]:
    return read_jsonl(trace) if isinstance(trace, str) else list(trace)


def _refusal(index: int, reason: str, message: str, detail: Optional[str] = None) -> Dict[str, Any]:
    out: Dict[str, Any] = {"valid": False, "index": index, "reason": reason}
    if detail:
        out["detail"] = detail
    out["message"] = message
    return out


def verify_chain(trace: Union[str, Sequence[Any]]) -> Dict[str, Any]:
    """Checks a trace's hash chain (docs/protocol.md, Verification), event by event: the field formats; the genesis
    rule; ``sequence`` = previous + 1; ``previous_event_hash`` = the previous ``event_hash``; the recomputed hash =
    ``event_hash``; one ``session_id``. ``trace`` is JSONL text or a list of events (dicts).

    Answers ``{valid: True, length, head_hash}`` or ``{valid: False, index, reason, message}`` (and ``detail`` for a
    ``sequence_gap``: ``missing_events``, ``duplicated_event`` or ``out_of_order``).
    """
    events = _events_of(trace)
    prev_hash, prev_seq, session = GENESIS_HASH, -1, None
    for i, e in enumerate(events):
        why = check_event(e)
        if why is not None:
            return _refusal(i, "malformed_event", why)
        if i == 0:
            if e["sequence"] != 0 or e["event_type"] != "session.started" or e["previous_event_hash"] != GENESIS_HASH:
                return _refusal(0, "bad_genesis", "the first event must be session.started with sequence 0 and a zero previous hash")
        else:
            want = prev_seq + 1
            if e["sequence"] != want:
                if e == events[i - 1]:
                    detail, message = "duplicated_event", f"a duplicate of the previous event (sequence {e['sequence']} again)"
                elif e["sequence"] > want:
                    detail, message = "missing_events", f"sequence {e['sequence']} where {want} was expected: events are missing"
                else:
                    detail, message = "out_of_order", f"out of order: sequence {e['sequence']} where {want} was expected"
                return _refusal(i, "sequence_gap", message, detail)
            if e["previous_event_hash"] != prev_hash:
                return _refusal(i, "broken_link", "previous_event_hash is not the previous event's hash")
        try:
            computed = event_hash(e)
        except ValueError as err:  # a payload JSON cannot hold (a NaN given in a list of dicts)
            return _refusal(i, "malformed_event", f"`payload`: {err}")
        if computed != e["event_hash"]:
            return _refusal(i, "hash_mismatch", "event_hash does not match the event's contents")
        if i == 0:
            session = e["session_id"]
        elif e["session_id"] != session:
            return _refusal(i, "session_mismatch", "the event belongs to another session")
        prev_hash, prev_seq = e["event_hash"], e["sequence"]
    return {"valid": True, "length": len(events), "head_hash": prev_hash}


def trace_root(events: Sequence[Dict[str, Any]], size: Optional[int] = None) -> str:
    """The Merkle root (hex) of the first ``size`` events (all by default) of a trace whose chain verified."""
    n = len(events) if size is None else size
    if not 0 <= n <= len(events):
        raise ValueError(f"the trace has {len(events)} events, not {n}")
    return merkle.root([merkle.event_leaf(e["event_hash"]) for e in events[:n]]).hex()


# ---------------------------------------------------------------------------------------------------------------------
# Checkpoints


def _signer(note: SignedNote, keys: List[Verifier]) -> Union[Verifier, Dict[str, Any]]:
    """The key whose signature over the note verifies, or the refusal."""
    candidates = note.signed_by(keys)
    if not candidates:
        return {
            "valid": False,
            "reason": "unknown_key",
            "message": f"none of the {len(note.signatures)} signature(s) of the checkpoint is by one of the given keys",
        }
    body = note.body.encode("utf-8")
    for sig, key in candidates:
        if ed25519.verify(key.public_key, sig.signature, body):
            return key
    return {"valid": False, "reason": "bad_signature", "message": "the checkpoint carries a signature line for the key, but the signature does not verify"}


def _open(note_text: Any, keys: List[Verifier]) -> Union[Tuple[SignedNote, Verifier], Dict[str, Any]]:
    try:
        note = parse_note(note_text)
    except NoteError as err:
        return {"valid": False, "reason": "malformed", "message": str(err)}
    by = _signer(note, keys)
    if isinstance(by, dict):
        return by
    return note, by


def verify_checkpoint(note: str, keys: Keys) -> Dict[str, Any]:
    """Checks a signed checkpoint with the verifier key(s) to accept: it reads as a checkpoint, and one signature by
    one of ``keys`` verifies over its body.

    Answers ``{valid: True, origin, session_id, size, root, time, key}`` (``root`` in hex, ``key`` the verifier key
    that signed) or ``{valid: False, reason, message}`` with reason ``malformed``, ``unknown_key`` or
    ``bad_signature``. A key that does not read raises ``CraError`` (``invalid_request`` at ``/keys/<i>``).
    """
    verifiers = parse_keys(keys)
    opened = _open(note, verifiers)
    if isinstance(opened, dict):
        return opened
    n, key = opened
    return {"valid": True, "origin": n.origin, "session_id": n.session_id, "size": n.size, "root": n.root.hex(), "time": n.time, "key": key.text}


def verify_trace(trace: Union[str, Sequence[Any]], checkpoints: Sequence[str] = (), keys: Keys = ()) -> Dict[str, Any]:
    """Checks a trace's chain and, for every signed checkpoint given, that one of ``keys`` signed it, that it is of
    this session, and that its root is the root of the trace's first ``size`` events: a checkpoint shows a tail cut
    after it was signed, which the chain alone cannot.

    Answers the chain's verdict with ``root`` (the whole trace's) and ``checkpoints`` (``[{size, root, time, key}]``),
    or a refusal: the chain's (``index``, ``reason``), or ``{valid: False, checkpoint: <position>, reason, message}``
    with reason ``checkpoint_malformed``, ``unknown_key``, ``bad_signature``, ``wrong_session`` or
    ``checkpoint_mismatch`` (a root that differs, or a size beyond the trace: its tail was cut).
    """
    events = _events_of(trace)
    verdict = verify_chain(events)
    if not verdict["valid"]:
        return verdict
    checkpoints = list(checkpoints)
    verifiers = parse_keys(keys) if checkpoints else []
    session = events[0]["session_id"] if events else None
    leaves = [merkle.event_leaf(e["event_hash"]) for e in events]
    seen = []
    for i, text in enumerate(checkpoints):
        opened = _open(text, verifiers)
        if isinstance(opened, dict):
            reason = "checkpoint_malformed" if opened["reason"] == "malformed" else opened["reason"]
            return {"valid": False, "checkpoint": i, "reason": reason, "message": opened["message"]}
        n, key = opened
        if n.session_id != session:
            return {"valid": False, "checkpoint": i, "reason": "wrong_session", "message": f"the checkpoint is of log {n.origin}, not of session {session}"}
        if n.size > len(events):
            return {
                "valid": False,
                "checkpoint": i,
                "reason": "checkpoint_mismatch",
                "message": f"the checkpoint covers {n.size} events; the trace has {len(events)}: its tail was cut",
            }
        if merkle.root(leaves[: n.size]) != n.root:
            return {
                "valid": False,
                "checkpoint": i,
                "reason": "checkpoint_mismatch",
                "message": f"the checkpoint's root is not the root of this trace's first {n.size} events",
            }
        seen.append({"size": n.size, "root": n.root.hex(), "time": n.time, "key": key.text})
    return {**verdict, "root": merkle.root(leaves).hex(), "checkpoints": seen}


# ---------------------------------------------------------------------------------------------------------------------
# Receipts


def _receipt_refusal(reason: str, path: str, message: str) -> Dict[str, Any]:
    return {"valid": False, "reason": reason, "message": message, "path": path}


def _hashes(value: Any) -> Optional[List[bytes]]:
    if not isinstance(value, list) or len(value) > MAX_PROOF_HASHES or not all(_is_hash(h) for h in value):
        return None
    return [bytes.fromhex(h) for h in value]


def verify_receipt(receipt: Any, keys: Keys) -> Dict[str, Any]:
    """Checks an execution's receipt offline: every event is well-formed and hashes to its ``event_hash``, belongs
    to the receipt's session and execution and sits at its ``sequence``; every inclusion proof leads from its event
    to the checkpoint's root; and one of ``keys`` signed the checkpoint.

    Answers ``{valid: True, session_id, execution_id, size, root, events, key}`` or ``{valid: False, reason, message,
    path}`` (``path`` a JSON pointer into the receipt) with reason ``malformed``, ``checkpoint_malformed``,
    ``wrong_session``, ``event_hash_mismatch``, ``wrong_execution``, ``wrong_index``, ``proof_invalid``,
    ``unknown_key`` or ``bad_signature``.
    """
    verifiers = parse_keys(keys)
    if not isinstance(receipt, dict):
        raise CraError("invalid_request", "the receipt must be an object", path="/receipt", status=400)
    if receipt.get("receipt_version") != "1":
        return _receipt_refusal("malformed", "/receipt_version", '`receipt_version` must be "1"')
    session_id, execution_id = receipt.get("session_id"), receipt.get("execution_id")
    if not isinstance(session_id, str) or not isinstance(execution_id, str):
        return _receipt_refusal("malformed", "/session_id", "`session_id` and `execution_id` are required strings")
    try:
        note = parse_note(receipt.get("checkpoint"))
    except NoteError as err:
        return _receipt_refusal("checkpoint_malformed", "/checkpoint", str(err))
    if note.session_id != session_id:
        return _receipt_refusal("wrong_session", "/checkpoint", f"the checkpoint is of log {note.origin}, not of session {session_id}")
    entries = receipt.get("entries")
    if not isinstance(entries, list) or not entries:
        return _receipt_refusal("malformed", "/entries", "`entries` must be a non-empty array")
    last = -1
    for n, entry in enumerate(entries):
        at = f"/entries/{n}"
        event = entry.get("event") if isinstance(entry, dict) else None
        why = check_event(event) if event is not None else "`event` is required"
        if why is not None:
            return _receipt_refusal("malformed", at + "/event", why)
        try:
            computed = event_hash(event)
        except ValueError as err:
            return _receipt_refusal("malformed", at + "/event/payload", str(err))
        if computed != event["event_hash"]:
            return _receipt_refusal("event_hash_mismatch", at + "/event", "the event's contents do not hash to its event_hash")
        if event["session_id"] != session_id:
            return _receipt_refusal("wrong_session", at + "/event/session_id", "the event is of another session")
        if event["payload"].get("execution_id") != execution_id:
            return _receipt_refusal("wrong_execution", at + "/event/payload/execution_id", "the event is of another execution")
        index = entry.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            return _receipt_refusal("malformed", at + "/index", "`index` must be a non-negative integer")
        if index != event["sequence"]:
            return _receipt_refusal("wrong_index", at + "/index", "an event's index in the log is its sequence")
        if index <= last:
            return _receipt_refusal("malformed", at + "/index", "entries are in log order, each event once")
        last = index
        proof = _hashes(entry.get("proof"))
        if proof is None:
            return _receipt_refusal("malformed", at + "/proof", f"`proof` must be an array of at most {MAX_PROOF_HASHES} hashes (64 lowercase hex digits)")
        if not merkle.verify_inclusion(merkle.event_leaf(event["event_hash"]), index, note.size, proof, note.root):
            return _receipt_refusal("proof_invalid", at + "/proof", "the event is not in the checkpoint's tree")
    by = _signer(note, verifiers)
    if isinstance(by, dict):
        return {**by, "path": "/checkpoint"}
    return {
        "valid": True,
        "session_id": session_id,
        "execution_id": execution_id,
        "size": note.size,
        "root": note.root.hex(),
        "events": len(entries),
        "key": by.text,
    }


# ---------------------------------------------------------------------------------------------------------------------
# Command line


def _read_key(arg: str) -> str:
    """A ``--key`` value: the verifier key itself, or a file holding it."""
    if "+" not in arg and os.path.isfile(arg):
        with open(arg, encoding="utf-8") as f:
            return f.read().strip()
    return arg


def read_checkpoints(text: str) -> List[str]:
    """Notes from a checkpoints file: the store's ``.checkpoints.jsonl`` (one JSON string per line), a JSON array of
    notes, or one note's own text."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        notes = parse_json(text)
    elif stripped.startswith('"'):
        notes = read_jsonl(text)
    else:
        return [text] if text else []
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise CraError("invalid_json", "a checkpoints file holds notes: JSON strings, one a line", path="/checkpoints", status=400)
    return notes


def _line(verdict: Dict[str, Any], what: str) -> str:
    if verdict["valid"]:
        if what == "receipt":
            return f"valid receipt: {verdict['events']} event(s) of execution {verdict['execution_id']} in session {verdict['session_id']}, checkpoint of {verdict['size']} signed by {verdict['key']}"
        cps = verdict.get("checkpoints") or []
        signed = f", {len(cps)} checkpoint(s) verified (up to {max(c['size'] for c in cps)} events)" if cps else ""
        return f"valid trace: {verdict['length']} events, head {verdict['head_hash']}{signed}"
    where = ""
    if "index" in verdict:
        where = f" at event {verdict['index']}"
    elif "checkpoint" in verdict:
        where = f" at checkpoint {verdict['checkpoint']}"
    elif verdict.get("path"):
        where = f" at {verdict['path']}"
    detail = f" ({verdict['detail']})" if verdict.get("detail") else ""
    return f"invalid {what}{where}: {verdict['reason']}{detail}: {verdict.get('message', '')}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cra_client.verify",
        description="Verify a CRA trace (JSONL) with its signed checkpoints, or a receipt, offline.",
    )
    parser.add_argument("trace", nargs="?", help="a trace file (.trace.jsonl)")
    parser.add_argument("--checkpoints", help="its checkpoints (.checkpoints.jsonl, or one note)")
    parser.add_argument("--receipt", help="a receipt (JSON) to verify instead of a trace")
    parser.add_argument("--key", action="append", default=[], help="a verifier key to accept, or a file holding one (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    args = parser.parse_args(argv)
    if bool(args.trace) == bool(args.receipt):
        parser.error("give a trace file or --receipt, not both")
    keys = [_read_key(k) for k in args.key]
    try:
        if args.receipt:
            if not keys:
                parser.error("--receipt needs --key")
            with open(args.receipt, encoding="utf-8") as f:
                receipt = parse_json(f.read())
            verdict, what = verify_receipt(receipt, keys), "receipt"
        else:
            with open(args.trace, encoding="utf-8", newline="") as f:
                text = f.read()
            notes: List[str] = []
            if args.checkpoints:
                with open(args.checkpoints, encoding="utf-8", newline="") as f:
                    notes = read_checkpoints(f.read())
                if notes and not keys:
                    parser.error("--checkpoints needs --key")
            verdict, what = verify_trace(text, notes, keys), "trace"
    except (OSError, ValueError, CraError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(verdict, ensure_ascii=False) if args.json else _line(verdict, what))
    return 0 if verdict["valid"] else 1


if __name__ == "__main__":
    sys.exit(main())
