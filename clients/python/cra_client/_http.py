"""The transport: one JSON request at a time over ``urllib.request``, the API key as a bearer token, and every
failure as a :class:`CraError` — the server's typed error body rebuilt as it was raised there.

Redirects are not followed: ``urllib`` would resend the ``Authorization`` header to wherever a redirect points, so a
3xx answer is an error instead. Nothing here retries: a repeated POST could run an action twice (an action request
is safe to repeat only with its ``idempotency_key``, and then the caller decides).
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Mapping, Optional

from ._json import check_json_value
from .errors import CraError

_UNSET: Any = object()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Answers a redirect as the error it is here, instead of following it with the key."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        return None


def segment(value: str, path: str) -> str:
    """An id as one path segment (percent-encoded); a value that is not a string is refused at ``path``."""
    if not isinstance(value, str):
        raise CraError("invalid_request", f"{path.lstrip('/')} must be a string, not {type(value).__name__}", path=path, status=400)
    check_json_value(value, path)
    return "%20" if value == "" else urllib.parse.quote(value, safe="")


def _retry_after(headers: Any) -> Optional[float]:
    raw = headers.get("Retry-After") if headers is not None else None
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


class Transport:
    """Sends requests to one server. Holds the API key; never prints, logs or repeats it."""

    def __init__(self, base_url: str, api_key: Optional[str], timeout: Optional[float], headers: Optional[Mapping[str, str]]) -> None:
        if not isinstance(base_url, str) or not re.match(r"^https?://", base_url, re.IGNORECASE):
            raise CraError("invalid_request", "base_url must be an http(s) URL", path="/base_url", status=400)
        if api_key is not None and not isinstance(api_key, str):
            raise CraError("invalid_request", "api_key must be a string", path="/api_key", status=400)
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
            raise CraError("invalid_request", "timeout must be a positive number of seconds, or None", path="/timeout", status=400)
        extra: Dict[str, str] = {}
        for name, value in (headers or {}).items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise CraError("invalid_request", "headers must map names to strings", path="/headers", status=400)
            extra[name] = value
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._api_key = api_key
        self._headers = extra
        self._opener = urllib.request.build_opener(_NoRedirect())

    def request(self, method: str, path: str, body: Any = _UNSET, accept: str = "application/json") -> Any:
        """``path`` is already encoded. Answers the parsed JSON body (``None`` for 204)."""
        with self.send(method, path, body, accept) as res:
            if res.status == 204:
                return None
            text = self._read(res, method, path)
        try:
            return json.loads(text)
        except ValueError:
            raise CraError("invalid_json", f"{method} {path} answered a body that is not JSON", status=502) from None

    def text(self, method: str, path: str, accept: str) -> str:
        """The body of a successful answer as text (e.g. a JSONL trace)."""
        with self.send(method, path, _UNSET, accept) as res:
            return self._read(res, method, path).decode("utf-8")

    def _read(self, res: Any, method: str, path: str) -> bytes:
        """The whole body; a connection that drops or stalls mid-answer is ``unavailable``, as one that never answered."""
        try:
            return res.read()
        except (OSError, http.client.HTTPException) as err:
            raise CraError("unavailable", f"{method} {self.base_url}{path}: the answer was cut off: {err!r}", status=503) from None

    def send(self, method: str, path: str, body: Any = _UNSET, accept: str = "application/json", timeout: Any = _UNSET):
        """The open response of a successful request (the caller closes it); a non-2xx answer raises its error."""
        headers = {"Accept": accept, **self._headers}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key}"
        data: Optional[bytes] = None
        if body is not _UNSET:
            check_json_value(body)
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
        req = urllib.request.Request(f"{self.base_url}{path}", data=data, headers=headers, method=method)
        wait = self.timeout if timeout is _UNSET else timeout
        try:
            return self._opener.open(req, timeout=wait) if wait is not None else self._opener.open(req)
        except urllib.error.HTTPError as err:
            try:
                raise _error_of(err, method, path) from None
            finally:
                err.close()
        except (OSError, http.client.HTTPException) as err:
            reason = getattr(err, "reason", err)
            raise CraError("unavailable", f"{method} {self.base_url}{path} failed: {reason}", status=503) from None


def _error_of(err: urllib.error.HTTPError, method: str, path: str) -> CraError:
    """The server's typed error, or one described from the status when the body is not that."""
    status = err.code
    retry = _retry_after(err.headers)
    try:
        raw = err.read()
    except OSError:
        raw = b""
    text = raw.decode("utf-8", errors="replace")
    try:
        e = json.loads(text).get("error")
        if isinstance(e, dict) and isinstance(e.get("code"), str) and isinstance(e.get("message"), str):
            p = e.get("path")
            return CraError(e["code"], e["message"], path=p if isinstance(p, str) else None, status=status, details=e.get("details"), retry_after=retry)
    except (ValueError, AttributeError):
        pass  # not a typed error body: described below
    if 300 <= status < 400:
        code = "invalid_request"
        message = f"{method} {path} answered a redirect ({status}), which the client does not follow"
    else:
        code = "not_found" if status == 404 else "unauthorized" if status == 401 else "internal" if status >= 500 else "invalid_request"
        message = f"{method} {path} answered {status}" + (f": {text[:200]}" if text else "")
    return CraError(code, message, status=status, retry_after=retry)
