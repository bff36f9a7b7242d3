"""The one error type of the client.

Every failure surfaces as a :class:`CraError` with the same stable ``code`` the server, the TypeScript SDK and the
core use (the codes are those of ``wasm/abi.json``), so a Python caller branches on ``err.code`` exactly as a
TypeScript caller does. An error answered by the server is rebuilt from its typed body
``{"error": {"code", "message", "path", "details"?}}``; the few the client raises itself (a value that is not JSON,
an unreachable server, a closed client) use the codes the TypeScript HTTP client uses for the same failures.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = ["CraError"]


class CraError(Exception):
    """A failed CRA operation. When the server refused a request, nothing was recorded and no state changed.

    Attributes:
        code: stable, machine-readable code (``invalid_request``, ``session_not_found``, ``unauthorized``, ...).
        message: what went wrong, for people.
        path: JSON pointer of the request field to blame (``""`` = the whole body), or ``None``.
        status: the HTTP status the server answered (or the status of the client-side equivalent).
        details: structured details when the code has any (e.g. the refusal details of an execution).
        retry_after: seconds to wait, from the server's ``Retry-After`` header (``rate_limited``), else ``None``.
    """

    code: str
    message: str
    path: Optional[str]
    status: int
    details: Any
    retry_after: Optional[float]

    def __init__(
        self,
        code: str,
        message: str,
        path: Optional[str] = None,
        status: int = 500,
        details: Any = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path
        self.status = status
        self.details = details
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.code}{where}: {self.message}"

    def __repr__(self) -> str:
        return f"CraError(code={self.code!r}, message={self.message!r}, path={self.path!r}, status={self.status})"

    def to_dict(self) -> dict:
        """The server's wire form of the error: ``{"error": {"code", "message", "path"}}``."""
        return {"error": {"code": self.code, "message": self.message, "path": self.path}}
