"""A Python client for the CRA server (standard library only).

The same calls as the TypeScript HTTP client, in snake_case, with the same protocol objects (plain dicts) and the
same error codes: every failure is a :class:`CraError` with ``code``, ``message``, ``path`` (JSON pointer),
``status`` and ``details``. :mod:`cra_client.verify` checks traces, checkpoints and receipts offline, with no server.
"""

from .client import CraClient
from .errors import CraError
from .session import Session

__all__ = ["CraClient", "CraError", "Session", "verify_chain", "verify_checkpoint", "verify_receipt", "verify_trace", "__version__"]

_VERIFIERS = ("verify_chain", "verify_checkpoint", "verify_receipt", "verify_trace")


def __getattr__(name: str):
    # Loaded on first use, not here: `python -m cra_client.verify` must find the module not yet imported.
    if name in _VERIFIERS:
        from . import verify

        return getattr(verify, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__version__ = "0.1.0"
