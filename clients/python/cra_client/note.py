"""Checkpoints as signed notes, and the key strings that sign and check them.

A checkpoint is a C2SP ``tlog-checkpoint`` inside a C2SP ``signed-note``::

    <log name>/<session id>
    <size>
    <base64 of the Merkle root>
    time <RFC 3339 UTC timestamp>

    — <key name> <base64(4-byte key id ‖ 64-byte Ed25519 signature)>

The signature is over the body: every byte before the blank line, its last newline included. Keys are written the
way Go's ``golang.org/x/mod/sumdb/note`` writes them: a verifier key ``<name>+<8 hex key id>+<base64(0x01 ‖ public
key)>``, a signer key ``PRIVATE+KEY+<name>+<id>+<base64(0x01 ‖ seed)>``, where the key id is the first 4 bytes of
``SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)``. Parsing is strict: a note has one spelling, so a text that does not read
exactly is refused with a message saying why, never read generously.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from . import ed25519
from .errors import CraError

__all__ = ["Verifier", "Signature", "SignedNote", "NoteError", "parse_verifier", "parse_signer", "parse_note", "key_id"]

#: The longest note read, and the most signature lines: a checkpoint is a few hundred bytes.
MAX_NOTE_BYTES = 16 * 1024
MAX_SIGNATURES = 16
#: The em dash (U+2014) and space that open a signature line.
SIGNATURE_PREFIX = "\u2014 "
#: The algorithm byte of an Ed25519 key in the note format.
ALG_ED25519 = 0x01

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}|\d{6}|\d{9}))?(Z|\+00:00)\Z")


class NoteError(ValueError):
    """A note or key that does not read; the message says why."""


def valid_name(name: str) -> bool:
    """A key (and log) name: 1 to 128 printable ASCII characters, no space and no ``+``."""
    return 0 < len(name) <= 128 and all(0x21 <= ord(c) <= 0x7E and c != "+" for c in name)


def is_uuid(s: str) -> bool:
    return isinstance(s, str) and _UUID.match(s) is not None


def parse_timestamp(s: str) -> Optional[Tuple[str, int]]:
    """A stored UTC timestamp (0, 3, 6 or 9 fraction digits, ``Z`` or ``+00:00``): its ``YYYY-MM-DDTHH:MM:SS`` and its
    nanoseconds; None when it is not one (including a date or time that does not exist)."""
    m = _TIMESTAMP.match(s) if isinstance(s, str) else None
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    fraction = m.group(7) or ""
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    return s[:19], nanos


def b64decode(text: str) -> Optional[bytes]:
    """Standard padded base64 in its one canonical spelling, or None."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    return data if base64.b64encode(data).decode("ascii") == text else None


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A verifier key, read: its name, key id and 32-byte Ed25519 public key, and its text."""

    name: str
    key_id: bytes
    public_key: bytes
    text: str


def _key_parts(text: str, what: str) -> Tuple[str, bytes, bytes]:
    # Split on the first two `+` only: the base64 may hold `+` itself.
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"a {what} key is <name>+<key id>+<base64 key>")
    name, hex_id, blob = parts
    if not valid_name(name):
        raise NoteError(f"the {what} key's name must be 1 to 128 printable ASCII characters without spaces or +")
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise NoteError(f"the {what} key's id must be 8 lowercase hex digits")
    data = b64decode(blob)
    if data is None or len(data) != 33 or data[0] != ALG_ED25519:
        raise NoteError(f"the {what} key must be the base64 of 0x01 and 32 key bytes (Ed25519)")
    return name, bytes.fromhex(hex_id), data[1:]


def parse_verifier(text: str) -> Verifier:
    """Reads a verifier key string; the key id must be the one its name and public key give."""
    if not isinstance(text, str):
        raise NoteError("a verifier key is a string")
    name, kid, public = _key_parts(text.strip(), "verifier")
    if ed25519.decode_point(public) is None:
        raise NoteError("the verifier key is not an Ed25519 public key (not a curve point)")
    if key_id(name, public) != kid:
        raise NoteError("the verifier key's id is not the one its name and public key give")
    return Verifier(name, kid, public, text.strip())


def parse_signer(text: str) -> Tuple[Verifier, bytes]:
    """Reads a signer key string: the verifier key it signs for, and the seed."""
    prefix = "PRIVATE+KEY+"
    if not isinstance(text, str) or not text.startswith(prefix):
        raise NoteError("a signer key starts with PRIVATE+KEY+")
    name, kid, seed = _key_parts(text.strip()[len(prefix):], "signer")
    public = ed25519.public_key(seed)
    if key_id(name, public) != kid:
        raise NoteError("the signer key's id is not the one its name and key give")
    verifier = f"{name}+{kid.hex()}+{base64.b64encode(bytes([ALG_ED25519]) + public).decode('ascii')}"
    return Verifier(name, kid, public, verifier), seed


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class SignedNote:
    """A checkpoint read from its note: the signed body, what it says, and its signature lines."""

    body: str
    origin: str
    session_id: str
    size: int
    root: bytes
    time: Optional[str]
    extensions: List[str] = field(default_factory=list)
    signatures: List[Signature] = field(default_factory=list)

    def signed_by(self, keys: Sequence[Verifier]) -> List[Tuple[Signature, Verifier]]:
        """The signature lines made by one of ``keys`` (same name and key id), each with its key."""
        return [(s, k) for s in self.signatures for k in keys if k.name == s.name and k.key_id == s.key_id]


def _parse_body(body: str) -> Tuple[str, str, int, bytes, Optional[str], List[str]]:
    lines = body[:-1].split("\n")  # the body ends with its newline
    if len(lines) < 3:
        raise NoteError("a checkpoint body is its origin, size and root lines")
    origin, size_line, root_line, *rest = lines
    name, slash, session_id = origin.rpartition("/")
    if not slash or not valid_name(name) or not is_uuid(session_id):
        raise NoteError("the origin line must be `<log name>/<session id>` in printable ASCII, without spaces or +")
    if not re.fullmatch(r"0|[1-9][0-9]*", size_line) or int(size_line) >= 2**64:
        raise NoteError("the size line must be a decimal number without leading zeros")
    root = b64decode(root_line)
    if root is None or len(root) != 32:
        raise NoteError("the root line must be the base64 of 32 bytes")
    time: Optional[str] = None
    extensions: List[str] = []
    for line in rest:
        if line == "":
            raise NoteError("the checkpoint body has an empty line")
        if line.startswith("time "):
            if time is not None or parse_timestamp(line[5:]) is None:
                raise NoteError("the time line must appear once, with an RFC 3339 UTC timestamp")
            time = line[5:]
        else:
            extensions.append(line)  # the log's own extension lines: signed, not read here
    return origin, session_id, int(size_line), root, time, extensions


def parse_note(text: str) -> SignedNote:
    """Reads a signed checkpoint; :class:`NoteError` says what is wrong."""
    if not isinstance(text, str):
        raise NoteError("a checkpoint is the text of its signed note")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise NoteError(f"a checkpoint is at most {MAX_NOTE_BYTES} bytes")
    # The newline after the last signature line is signed by nothing: a note without it (as a shell's `$(…)` leaves
    # it) is read as the same note. Any other spelling is refused.
    if not text.endswith("\n"):
        text += "\n"
    if text.endswith("\n\n"):
        raise NoteError("the note ends with an empty line: exactly one newline follows its last signature line")
    split = text.find("\n\n")
    if split < 0:
        raise NoteError("a signed note is its body, a blank line, then its signature lines")
    body, block = text[: split + 1], text[split + 2 :]
    origin, session_id, size, root, time, extensions = _parse_body(body)
    signatures: List[Signature] = []
    for line in block[:-1].split("\n") if block else [""]:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("a signature line starts with \u2014 and a space")
        name, space, blob = line[len(SIGNATURE_PREFIX):].partition(" ")
        if not space:
            raise NoteError("a signature line is \u2014 <key name> <base64 signature>")
        if not valid_name(name):
            raise NoteError("a signature line's key name is not a key name")
        data = b64decode(blob)
        if data is None:
            raise NoteError("a signature is not standard base64")
        if len(data) < 5:
            raise NoteError("a signature is its 4-byte key id and the signature itself")
        signatures.append(Signature(name, data[:4], data[4:]))
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError(f"a signed note has at most {MAX_SIGNATURES} signatures")
    return SignedNote(body, origin, session_id, size, root, time, extensions, signatures)


def parse_keys(keys, path: str = "/keys") -> List[Verifier]:
    """One verifier key string or several, read; a key that does not read is the caller's error (``CraError``)."""
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, (list, tuple)) or not keys:
        raise CraError("invalid_request", "`keys` must be a verifier key string or a non-empty list of them", path=path, status=400)
    out = []
    for i, k in enumerate(keys):
        try:
            out.append(parse_verifier(k))
        except NoteError as err:
            raise CraError("invalid_request", str(err), path=f"{path}/{i}", status=400) from None
    return out


def sign_note(body: str, signer: str) -> str:
    """The signed note of a checkpoint body, signed with a signer key string."""
    verifier, seed = parse_signer(signer)
    sig = ed25519.sign(seed, body.encode("utf-8"))
    blob = base64.b64encode(verifier.key_id + sig).decode("ascii")
    return f"{body}\n{SIGNATURE_PREFIX}{verifier.name} {blob}\n"
