"""What counts as a JSON value, checked before anything is sent.

``json.dumps`` would silently send what the server then refuses or reads differently: ``NaN`` and infinities
(``allow_nan``), integer or tuple member names turned into strings, strings holding a lone surrogate, values nested
past the core's limit (or a recursion error on a cycle). Checking first refuses them here, as the TypeScript client
does, with ``invalid_json`` and the JSON pointer of the offending member. The walk keeps its own stack, so a deeply
nested or cyclic value cannot overflow Python's.
"""

from __future__ import annotations

import math
from typing import Any, List, Tuple

from .errors import CraError

#: The deepest nesting of containers the core parses (``max_json_depth`` of the ABI contract); ``[]`` is depth 1.
MAX_JSON_DEPTH = 128


def pointer_segment(key: str) -> str:
    """``~`` -> ``~0``, ``/`` -> ``~1`` (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


def _refuse(reason: str, message: str, path: str) -> CraError:
    return CraError("invalid_json", message, path=path, status=400, details={"reason": reason})


def _check_string(s: str, path: str) -> None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse("string", "the string holds a lone surrogate, which UTF-8 cannot carry", path) from None


def check_json_value(value: Any, path: str = "") -> None:
    """Raises ``invalid_json`` at the pointer of the first member (under ``path``) that is not a JSON value."""
    # (value, pointer, depth of the container holding it, ids of the containers above it)
    stack: List[Tuple[Any, str, int, frozenset]] = [(value, path, 0, frozenset())]
    while stack:
        v, at, depth, ancestors = stack.pop()
        if v is None or isinstance(v, bool):
            continue
        if isinstance(v, int):
            continue
        if isinstance(v, float):
            if math.isnan(v) or math.isinf(v):
                raise _refuse("number", f"{v!r} is not a JSON number", at)
            continue
        if isinstance(v, str):
            _check_string(v, at)
            continue
        if isinstance(v, (dict, list, tuple)):
            if id(v) in ancestors:
                raise _refuse("cycle", "the value contains a cycle", at)
            if depth + 1 > MAX_JSON_DEPTH:
                raise _refuse("depth", f"the value is nested deeper than {MAX_JSON_DEPTH} levels", at)
            inner = ancestors | {id(v)}
            if isinstance(v, dict):
                members = []
                for k, member in v.items():
                    if not isinstance(k, str):
                        raise _refuse("object", f"member names must be strings, not {type(k).__name__}", at)
                    _check_string(k, f"{at}/{pointer_segment(k)}")
                    members.append((member, f"{at}/{pointer_segment(k)}", depth + 1, inner))
            else:
                members = [(member, f"{at}/{i}", depth + 1, inner) for i, member in enumerate(v)]
            # Reversed, so that the first offending member in document order is the one reported.
            stack.extend(reversed(members))
            continue
        raise _refuse("type", f"a {type(v).__name__} is not a JSON value", at)
