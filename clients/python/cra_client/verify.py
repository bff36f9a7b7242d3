"""Offline verification of traces, checkpoints and receipts, with the standard library alone.

A second implementation of the protocol's checks, written from its text (docs/protocol.md: the hash, Verification,
Proofs) and from the RFCs it names (8785 canonical JSON, 9162 Merkle trees, 8032 Ed25519, the C2SP signed note),
with no CRA runtime: a Python program can check a receipt or a trace it was handed, and the runtime's own verifier
has an independent one to be compared with. The verdicts have the runtime's shapes and reason codes.

- :func:`verify_chain`: a trace's hash chain: ``{valid, length, head_hash}`` or ``{valid: False, index, reason}``.
- :func:`verify_checkpoint`: a signed checkpoint, with the verifier key(s) to accept.
- :func:`verify_trace`: the chain, and that every checkpoint given is signed and fixes this trace's tree.
- :func:`verify_receipt`: an execution's receipt: its events, their inclusion proofs and the signed checkpoint.

From a shell, ``python -m cra_client.verify <trace.jsonl> [--checkpoints file] [--key k]`` and
``python -m cra_client.verify --receipt r.json --key k`` take the inputs of ``cra verify`` and ``cra receipt verify``
and answer as they do: the same reason codes, checkpoints numbered from 1, the store's ``<id>.checkpoints.jsonl``
beside ``<id>.trace.jsonl`` checked when no file is named, the same one-line verdicts (or ``--json``) and exit codes
(0 valid; 1 invalid, unreadable, or ``--key`` with no checkpoint to check; 2 a usage error).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

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


def _note_text(checkpoint: Any) -> Any:
    """A checkpoint's note: its text, or the ``note`` of a checkpoint dict as ``session.checkpoints()`` lists it."""
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("note"), str):
        return checkpoint["note"]
    return checkpoint


def verify_checkpoint(note: Any, keys: Keys) -> Dict[str, Any]:
    """Checks a signed checkpoint (its note's text, or a checkpoint dict as listed) with the verifier key(s) to
    accept: it reads as a checkpoint, and one signature by one of ``keys`` verifies over its body.

    Answers ``{valid: True, origin, session_id, size, root, time, key}`` (``root`` in hex, ``key`` the verifier key
    that signed) or ``{valid: False, reason, message}`` with reason ``malformed``, ``unknown_key`` or
    ``bad_signature``. A key that does not read raises ``CraError`` (``invalid_request`` at ``/keys/<i>``).
    """
    verifiers = parse_keys(keys)
    opened = _open(_note_text(note), verifiers)
    if isinstance(opened, dict):
        return opened
    n, key = opened
    return {"valid": True, "origin": n.origin, "session_id": n.session_id, "size": n.size, "root": n.root.hex(), "time": n.time, "key": key.text}


def verify_trace(trace: Union[str, Sequence[Any]], checkpoints: Sequence[str] = (), keys: Optional[Keys] = ()) -> Dict[str, Any]:
    """Checks a trace's chain and every signed checkpoint given, as ``cra verify`` does: each checkpoint, in order,
    reads as one; is signed by one of ``keys``; is of this trace's session; covers no more events than the trace
    holds (more: events were cut from its end, which the chain alone cannot show); and fixes the Merkle root of that
    many of its events. ``keys=None`` checks all of that but the signatures (``signatures_checked: False``, each
    ``key`` None), as ``cra verify`` without ``--key``; an empty ``keys`` with checkpoints is an error.

    Answers the chain's verdict with ``root`` (the whole trace's), ``signatures_checked``, ``checkpoints``
    (``[{checkpoint, size, root, time, key}]``, numbered from 1 in the order given) and ``newest`` (the one of most
    events, the last of them; None without checkpoints); or a refusal: the chain's (``index``, ``reason``), or
    ``{valid: False, reason, message, checkpoint, size}`` for the first checkpoint that fails, ``checkpoint`` its
    number from 1, ``reason`` one of ``checkpoint_malformed``, ``unknown_key``, ``bad_signature``, ``wrong_session``,
    ``trace_truncated`` or ``root_mismatch`` (``size`` is absent when the note does not read).
    """
    checkpoints = [_note_text(c) for c in checkpoints]
    events = _events_of(trace)
    verdict = verify_chain(events)
    if not verdict["valid"]:
        return verdict
    return _check_checkpoints(events, verdict, checkpoints, keys)


def _check_checkpoints(events: List[Dict[str, Any]], verdict: Dict[str, Any], checkpoints: Sequence[str], keys: Optional[Keys]) -> Dict[str, Any]:
    """:func:`verify_trace` past the chain (``verdict``, valid): the checkpoints, in order; the first that fails is
    the answer."""
    checkpoints = list(checkpoints)
    verifiers = parse_keys(keys) if checkpoints and keys is not None else []
    session = events[0]["session_id"] if events else None
    leaves = [merkle.event_leaf(e["event_hash"]) for e in events]
    roots: Dict[int, bytes] = {}
    checked: List[Dict[str, Any]] = []
    for i, text in enumerate(checkpoints):
        n = i + 1
        try:
            note = parse_note(text)
        except NoteError as err:
            return _checkpoint_refusal(n, "checkpoint_malformed", f"it does not read as a signed checkpoint: {err}")
        key: Optional[str] = None
        if verifiers:
            by = _signer(note, verifiers)
            if isinstance(by, dict):
                return _checkpoint_refusal(n, by["reason"], by["message"], note.size)
            key = by.text
        if session is not None and note.session_id != session:
            return _checkpoint_refusal(n, "wrong_session", f"it is a checkpoint of session {note.session_id}, the trace is of session {session}", note.size)
        if note.size > len(events):
            return _checkpoint_refusal(
                n, "trace_truncated", f"it covers {note.size} events, the trace holds {len(events)}: events were cut from the trace's end", note.size
            )
        if note.size not in roots:
            roots[note.size] = merkle.root(leaves[: note.size])
        root = roots[note.size]
        if root != note.root:
            return _checkpoint_refusal(
                n,
                "root_mismatch",
                f"it fixes the root {note.root.hex()} of {note.size} events, the trace's first {note.size} events have the root {root.hex()}: "
                "they are not the events it covers",
                note.size,
            )
        checked.append({"checkpoint": n, "size": note.size, "root": root.hex(), "time": note.time, "key": key})
    newest: Optional[Dict[str, Any]] = None
    for c in checked:
        if newest is None or c["size"] >= newest["size"]:
            newest = c
    return {**verdict, "root": merkle.root(leaves).hex(), "signatures_checked": bool(verifiers), "checkpoints": checked, "newest": newest}


def _checkpoint_refusal(n: int, reason: str, message: str, size: Optional[int] = None) -> Dict[str, Any]:
    out: Dict[str, Any] = {"valid": False, "reason": reason, "message": message, "checkpoint": n}
    if size is not None:
        out["size"] = size
    return out


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
# Command line: the inputs, verdicts, words and exit codes of `cra verify` and `cra receipt verify`, so that a script
# may call either.

PROG = "python -m cra_client.verify"
#: Exit codes: valid; invalid, or not checkable (an unreadable file, --key with no checkpoint); a usage error.
EXIT_VALID, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _Failed(Exception):
    """The run cannot reach a verdict (a file that does not read): exit 1 with the message on stderr."""


def key_label(key: str) -> str:
    """``<name>+<key id>`` of a verifier key string (its base64 may hold ``+``: split on the first two only)."""
    parts = key.split("+", 2)
    return "+".join(parts[:2]) if len(parts) == 3 else key


def read_verifier_keys(values: Sequence[str]) -> List[str]:
    """The verifier keys of ``--key`` values: each a key string or a file of them (one a line; blank lines and
    lines starting with ``#`` skipped). Raises ``ValueError`` saying why a value is neither, or is a signer key."""
    keys: List[str] = []
    for value in values:
        from_file = os.path.isfile(value)
        if from_file:
            try:
                with open(value, encoding="utf-8") as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError) as err:
                raise ValueError(f"cannot read the key file {value}: {err}") from None
            lines = [(line.strip(), f"line {i + 1} of {value}") for i, line in enumerate(text.split("\n"))]
            lines = [(k, where) for k, where in lines if k and not k.startswith("#")]
            if not lines:
                raise ValueError(f"the key file {value} holds no key")
        else:
            lines = [(value.strip(), f"--key {json.dumps(value)}")]
        for key, where in lines:
            if key.startswith("PRIVATE+KEY+"):
                raise ValueError(f"{where} is a signer key, which must stay secret: --key takes its verifier key")
            try:
                parse_keys([key])
            except CraError as err:
                raise ValueError(
                    f"{where}: not a verifier key: {err.message}" if from_file else f"--key takes a verifier key (<name>+<key id>+<base64>) or a file of them: {where} is neither ({err.message})"
                ) from None
            keys.append(key)
    return keys


def checkpoints_beside(trace_file: str) -> Optional[str]:
    """The store's checkpoint file of a trace file ``<id>.trace.jsonl``: ``<id>.checkpoints.jsonl`` beside it, if it
    exists."""
    if not trace_file.endswith(".trace.jsonl"):
        return None
    path = trace_file[: -len(".trace.jsonl")] + ".checkpoints.jsonl"
    return path if os.path.isfile(path) else None


def read_checkpoints(text: str, name: str = "the checkpoints file", warnings: Optional[List[str]] = None) -> List[str]:
    """Notes from a checkpoints file: the store's ``.checkpoints.jsonl`` (one JSON string a line), a JSON array of
    notes, or one note's own text. A last line cut short (a write that did not finish) is left out, with a warning
    appended to ``warnings``, as the store reads it; any other line that is not a JSON string raises ``CraError``
    (``invalid_json``, naming the line)."""
    stripped = text.lstrip()
    if stripped.startswith("[") or stripped.startswith("{"):
        # Checkpoints as the server lists them: notes or {note} dicts, in an array or under "items".
        value = parse_json(text)
        items = value if isinstance(value, list) else value.get("items", [value]) if isinstance(value, dict) else None
        notes = [_note_text(n) for n in items] if isinstance(items, list) else None
        if notes is None or not all(isinstance(n, str) for n in notes):
            raise CraError("invalid_json", f"{name}: JSON checkpoints are notes (strings) or {{note}} objects", path="/checkpoints", status=400)
        return notes
    if not text.startswith('"'):
        # One note's text; blank lines after it (`jq -r … > file`, an editor) are not part of it.
        return [] if stripped == "" else [text.rstrip("\n") + "\n"]
    notes = []
    lines = text.split("\n")
    torn = not text.endswith("\n")
    for i, line in enumerate(lines):
        if line == "" and i == len(lines) - 1:
            break
        try:
            note = parse_json(line)
        except (ValueError, UnicodeEncodeError):
            note = None
        if isinstance(note, str):
            notes.append(note)
        elif torn and i == len(lines) - 1:
            if warnings is not None:
                warnings.append(f"{name}: line {i + 1} is cut short (a write that did not finish) and is left out")
        else:
            raise CraError("invalid_json", f"{name}: line {i + 1} is not a signed checkpoint as a JSON string", path="/checkpoints", status=400)
    return notes


def _summary(verdict: Dict[str, Any]) -> str:
    """``checkpoints: K verified (newest: size S, key …)``, or without keys what was checked and what was not."""
    newest = verdict["newest"]
    if newest is None:
        return "checkpoints: none in the file"
    after = verdict["length"] - newest["size"]
    uncovered = f"; the last {after} event(s) are after it" if after > 0 else ""
    count = len(verdict["checkpoints"])
    if not verdict["signatures_checked"]:
        return f"checkpoints: {count} checked, roots match (newest: size {newest['size']}{uncovered}); signatures not checked (no --key)"
    return f"checkpoints: {count} verified (newest: size {newest['size']}, key {key_label(newest['key'])}{uncovered})"


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as err:
        raise _Failed(f"cannot read {path}: {err}") from None


def _verify_trace_file(args: argparse.Namespace, keys: List[str], out: Callable[[str], None], err: Callable[[str], None]) -> int:
    file: str = args.trace
    text = _read_text(file)
    try:
        events = read_jsonl(text)
    except CraError as e:
        # A line that is not JSON: the trace is invalid from that event (its line, counted from 1).
        m = re.match(r"line (\d+): (.*)\Z", e.message, re.S)
        if m is None:
            raise _Failed(f"{file}: {e.message}") from None
        index = int(m.group(1)) - 1
        if args.json:
            out(json.dumps({"file": file, "valid": False, "index": index, "reason": "invalid_json", "message": m.group(2)}, ensure_ascii=False))
        else:
            out(f"INVALID at event {index}: line {m.group(1)}: {m.group(2)} (invalid_json)")
        return EXIT_INVALID
    chain = verify_chain(events)
    if not chain["valid"]:
        if args.json:
            out(json.dumps({"file": file, **chain}, ensure_ascii=False))
        else:
            code = chain["reason"] + (f", {chain['detail']}" if chain.get("detail") else "")
            out(f"INVALID at event {chain['index']}: {chain['message']} ({code})")
        return EXIT_INVALID

    # The checkpoints: those asked for, else the store's file beside the trace.
    source: Optional[Dict[str, str]] = None
    if args.checkpoints is not None:
        source = {"file": args.checkpoints, "source": "option"}
    else:
        beside = checkpoints_beside(file)
        if beside is not None:
            source = {"file": beside, "source": "beside"}
            err(f"{PROG}: checking the checkpoints in {beside} (beside the trace; --checkpoints <file> for others)")
    if source is None and keys:
        raise _Failed(f"--key is given but there is no checkpoint to check: no --checkpoints <file>, and no <id>.checkpoints.jsonl beside {file}")
    warnings = [f"{file} holds no event: a session's trace starts with session.started"] if not events else []
    verdict_checkpoints: Optional[Dict[str, Any]] = None
    verdict: Dict[str, Any] = {**chain, "root": merkle.root([merkle.event_leaf(e["event_hash"]) for e in events]).hex()}
    if source is not None:
        try:
            notes = read_checkpoints(_read_text(source["file"]), source["file"], warnings)
        except CraError as e:
            raise _Failed(e.message) from None
        except (ValueError, UnicodeEncodeError) as e:  # a JSON array that does not read
            raise _Failed(f"{source['file']}: invalid JSON: {e}") from None
        # A checkpoint file the store created holds at least one note; an empty one asked for is not a check.
        if not notes and source["source"] == "option":
            raise _Failed(f"{source['file']} holds no checkpoint")
        outcome = _check_checkpoints(events, chain, notes, keys or None)
        about = {**source, "count": len(notes), "signatures_checked": bool(keys), "keys": keys}
        if not outcome["valid"]:
            if args.json:
                out(json.dumps({"file": file, **outcome, "length": chain["length"], "head_hash": chain["head_hash"], "checkpoints": about}, ensure_ascii=False))
            else:
                out(f"INVALID checkpoint {outcome['checkpoint']} of {len(notes)} ({source['file']}): {outcome['message']} ({outcome['reason']})")
            return EXIT_INVALID
        verdict = outcome
        verdict_checkpoints = {**about, "newest": outcome["newest"], "checked": outcome["checkpoints"]}
    for w in warnings:
        err(f"{PROG}: warning: {w}")
    if args.json:
        shown = {k: verdict[k] for k in ("valid", "length", "head_hash", "root")}
        if verdict_checkpoints is not None:
            shown["checkpoints"] = verdict_checkpoints
        out(json.dumps({"file": file, **shown, "warnings": warnings}, ensure_ascii=False))
    else:
        out(f"valid: {verdict['length']} events, head {verdict['head_hash']}" + (f"; {_summary(verdict)}" if source is not None else ""))
    return EXIT_VALID


def _verify_receipt_file(args: argparse.Namespace, keys: List[str], out: Callable[[str], None]) -> int:
    file: str = args.receipt
    try:
        receipt = parse_json(_read_text(file))
    except (ValueError, UnicodeEncodeError) as e:
        raise _Failed(f"{file} is not a receipt (JSON): {e}") from None
    try:
        verdict = verify_receipt(receipt, keys)
    except CraError as e:
        raise _Failed(f"{file}: {e.message}" + (f" (at {e.path})" if e.path else "") + f" [{e.code}]") from None
    if args.json:
        out(json.dumps({"file": file, **verdict}, ensure_ascii=False))
    elif verdict["valid"]:
        out(f"valid receipt: execution {verdict['execution_id']}, {verdict['events']} events, checkpoint size {verdict['size']}, key {key_label(verdict['key'])}")
    else:
        out(f"INVALID receipt: {verdict['message']} ({verdict['reason']}" + (f" at {verdict['path']})" if verdict.get("path") else ")"))
    return EXIT_VALID if verdict["valid"] else EXIT_INVALID


def _writer(stream_name: str) -> Callable[[str], None]:
    """Writes a line to ``sys.stdout`` / ``sys.stderr`` (looked up at each call) at once. A reader that went away
    (``… | head``) wanted no more: the rest is dropped quietly instead of ending in a BrokenPipeError."""

    def write(line: str) -> None:
        stream = getattr(sys, stream_name)
        try:
            stream.write(line + "\n")
            stream.flush()
        except BrokenPipeError:
            # Point the descriptor at /dev/null, so that the interpreter's own flush at exit finds nothing to complain of.
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            except (OSError, ValueError, AttributeError):
                pass

    return write


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Verify a CRA trace (JSONL) and its signed checkpoints, or a receipt, offline, as `cra verify` and "
            "`cra receipt verify` do. Without --checkpoints, the store's <id>.checkpoints.jsonl beside "
            "<id>.trace.jsonl is checked when it is there. Exit: 0 valid, 1 invalid or unreadable (also --key with no "
            "checkpoint to check), 2 usage error."
        ),
    )
    parser.add_argument("trace", nargs="?", help="a trace file (.trace.jsonl)")
    parser.add_argument("--checkpoints", "--checkpoint", dest="checkpoints", help="its checkpoints (.checkpoints.jsonl, or one note)")
    parser.add_argument("--receipt", help="a receipt (JSON) to verify instead of a trace")
    parser.add_argument("--key", action="append", default=[], help="a verifier key to accept, or a file of them, one a line (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    args = parser.parse_args(argv)
    if bool(args.trace) == bool(args.receipt):
        parser.error("give a trace file or --receipt, not both")
    try:
        keys = read_verifier_keys(args.key)
    except ValueError as e:
        parser.error(str(e))
    if args.receipt and not keys:
        parser.error("--receipt needs --key: a receipt is only as good as its checkpoint's signature, checked with the log's verifier key")
    out, err = _writer("stdout"), _writer("stderr")
    try:
        if args.receipt:
            return _verify_receipt_file(args, keys, out)
        return _verify_trace_file(args, keys, out, err)
    except _Failed as e:
        err(f"{PROG}: {e}")
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
