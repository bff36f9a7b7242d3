"""Ed25519 (RFC 8032) in pure Python, so that a checkpoint's signature can be checked with nothing installed.

Written from the RFC's definitions (§5.1): the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19),
points in extended homogeneous coordinates (§5.1.4), the strict decoding of §5.1.3 (a y of p or more and a negative
zero x are refused, so every point has one encoding) and the verification of §5.1.7 with the cofactorless equation
``[S]B = R + [k]A``. Verification is what a verifier needs; key derivation and signing are here for the tests (to
reproduce the RFC's vectors) and for tools that sign with a seed they hold. Not constant time: never sign with a
secret an attacker can time.
"""

from __future__ import annotations

import hashlib
from typing import Optional, Tuple

__all__ = ["verify", "sign", "public_key", "decode_point", "encode_point"]

#: The field prime, the group order of the base point and the curve constant d = -121665/121666.
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
#: sqrt(-1) mod p, used when decoding (§5.1.3 step 3).
SQRT_M1 = pow(2, (P - 1) // 4, P)

Point = Tuple[int, int, int, int]  # (X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z

IDENTITY: Point = (0, 1, 1, 0)


def _add(p: Point, q: Point) -> Point:
    """Point addition, §5.1.4 (complete: also doubles, and handles the identity)."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = t1 * 2 * D * t2 % P
    dd = z1 * 2 * z2 % P
    e, f, g, h = b - a, dd - c, dd + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s: int, p: Point) -> Point:
    """[s]P by double and add."""
    q = IDENTITY
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _equal(p: Point, q: Point) -> bool:
    x1, y1, z1, _ = p
    x2, y2, z2, _ = q
    return (x1 * z2 - x2 * z1) % P == 0 and (y1 * z2 - y2 * z1) % P == 0


def _recover_x(y: int, sign: int) -> Optional[int]:
    """§5.1.3 steps 2-4: the x of the point with this y and sign bit, or None when there is none."""
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    vxx = v * x * x % P
    if vxx == u:
        pass
    elif vxx == (-u) % P:
        x = x * SQRT_M1 % P
    else:
        return None
    if x == 0 and sign == 1:
        return None  # a negative zero: not the canonical encoding of any point
    if x & 1 != sign:
        x = P - x
    return x


def decode_point(b: bytes) -> Optional[Point]:
    """A 32-byte encoding read as a curve point (§5.1.3), or None when it is not the canonical encoding of one."""
    if len(b) != 32:
        return None
    n = int.from_bytes(b, "little")
    sign = n >> 255
    y = n & ((1 << 255) - 1)
    if y >= P:
        return None
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def encode_point(p: Point) -> bytes:
    """§5.1.2: y in 255 bits little-endian, the low bit of x in the top bit."""
    x, y, z, _ = p
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


# The base point B (§5.1): y = 4/5, x positive (even).
_BY = 4 * pow(5, P - 2, P) % P
_BX = _recover_x(_BY, 0)
assert _BX is not None
B: Point = (_BX, _BY, 1, _BX * _BY % P)


def _sha512_int(*parts: bytes) -> int:
    h = hashlib.sha512()
    for part in parts:
        h.update(part)
    return int.from_bytes(h.digest(), "little")


def _expand(seed: bytes) -> Tuple[int, bytes]:
    """§5.1.5 steps 1-3: the secret scalar s and the prefix from a 32-byte seed."""
    if len(seed) != 32:
        raise ValueError("an Ed25519 seed is 32 bytes")
    h = hashlib.sha512(seed).digest()
    a = bytearray(h[:32])
    a[0] &= 248
    a[31] &= 127
    a[31] |= 64
    return int.from_bytes(bytes(a), "little"), h[32:]


def public_key(seed: bytes) -> bytes:
    """The public key of a seed (§5.1.5)."""
    s, _ = _expand(seed)
    return encode_point(_mul(s, B))


def sign(seed: bytes, message: bytes) -> bytes:
    """The 64-byte signature of ``message`` by ``seed`` (§5.1.6)."""
    s, prefix = _expand(seed)
    a = encode_point(_mul(s, B))
    r = _sha512_int(prefix, message) % L
    rb = encode_point(_mul(r, B))
    k = _sha512_int(rb, a, message) % L
    return rb + ((r + k * s) % L).to_bytes(32, "little")


def verify(public: bytes, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is ``public``'s signature of ``message`` (§5.1.7); False for anything else."""
    if not isinstance(public, (bytes, bytearray)) or not isinstance(signature, (bytes, bytearray)):
        return False
    if len(public) != 32 or len(signature) != 64:
        return False
    a = decode_point(bytes(public))
    r = decode_point(bytes(signature[:32]))
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False  # a non-canonical S: the same equation would hold for S + L (malleability)
    k = _sha512_int(bytes(signature[:32]), bytes(public), bytes(message)) % L
    return _equal(_mul(s, B), _add(r, _mul(k, a)))
