"""A Python client for the CRA server (standard library only).

The same calls as the TypeScript HTTP client, in snake_case, with the same protocol objects (plain dicts) and the
same error codes: every failure is a :class:`CraError` with ``code``, ``message``, ``path`` (JSON pointer),
``status`` and ``details``.
"""

from .client import CraClient
from .errors import CraError
from .session import Session

__all__ = ["CraClient", "CraError", "Session", "__version__"]

__version__ = "0.1.0"
