"""A session on the server: the same calls as a session of the TypeScript SDK (``HttpSession``), over the server's
session routes, with snake_case names. Bodies are sent in the protocol's own (snake_case) form, so a ``path`` in an
error names the keyword argument the caller wrote (``/parameters/amount``, ``/approval_hash``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Union

from ._http import _UNSET, segment
from .errors import CraError

if TYPE_CHECKING:  # pragma: no cover
    from .client import CraClient

JsonObject = Dict[str, Any]
#: An execution, or its id: approve / deny / complete / fail take either.
ExecutionRef = Union[str, Mapping[str, Any]]


def _compact(**members: Any) -> JsonObject:
    """A body of the given members, those left unset (``_UNSET``) or ``None`` left out."""
    return {k: v for k, v in members.items() if v is not _UNSET and v is not None}


def _execution_id(execution: ExecutionRef) -> str:
    if isinstance(execution, Mapping):
        execution = execution.get("execution_id")  # type: ignore[assignment]
    if not isinstance(execution, str):
        raise CraError("invalid_request", "the execution must be an execution id or an execution object", path="/execution_id", status=400)
    return execution


class Session:
    """One agent session: its resolutions, actions and hash-chained trace. Get one from
    :meth:`CraClient.create_session` or :meth:`CraClient.get_session`."""

    id: str
    agent_id: str
    goal: str
    client: "CraClient"

    def __init__(self, client: "CraClient", session_id: str, agent_id: str, goal: str) -> None:
        self.client = client
        self.id = session_id
        self.agent_id = agent_id
        self.goal = goal
        self._base = f"/v1/sessions/{segment(session_id, '/session_id')}"

    def __repr__(self) -> str:
        return f"Session(id={self.id!r}, agent_id={self.agent_id!r})"

    def info(self) -> JsonObject:
        """The session as it stands (status, counts, chain head)."""
        return self.client._call("GET", self._base)

    # --- resolution -----------------------------------------------------------------------------------------------

    def resolve(
        self,
        request: Optional[Mapping[str, Any]] = None,
        *,
        goal: Optional[str] = None,
        risk_tier: Optional[str] = None,
        context_hints: Optional[List[str]] = None,
        required_capabilities: Optional[List[str]] = None,
        atlas_ids: Optional[List[str]] = None,
        context: Optional[Mapping[str, Any]] = None,
        request_id: Optional[str] = None,
        timestamp: Optional[str] = None,
    ) -> JsonObject:
        """Resolves which context and actions the agent gets (traced); answers the ``Resolution``.

        Either keyword options (the session fills in requester, ids and time; ``goal`` defaults to the session's)
        or ``request``: a body as the route takes it, or a full CARP request for this session.
        """
        return self._resolve("resolve", request, locals())

    def validate(
        self,
        request: Optional[Mapping[str, Any]] = None,
        *,
        goal: Optional[str] = None,
        risk_tier: Optional[str] = None,
        context_hints: Optional[List[str]] = None,
        required_capabilities: Optional[List[str]] = None,
        atlas_ids: Optional[List[str]] = None,
        context: Optional[Mapping[str, Any]] = None,
        request_id: Optional[str] = None,
        timestamp: Optional[str] = None,
    ) -> JsonObject:
        """Computes a resolution exactly as :meth:`resolve` would, recording nothing."""
        return self._resolve("validate", request, locals())

    def _resolve(self, operation: str, request: Optional[Mapping[str, Any]], args: Dict[str, Any]) -> JsonObject:
        options = {k: v for k, v in args.items() if k not in ("self", "request") and v is not None}
        if request is not None:
            if options:
                raise CraError("invalid_request", "pass either a request or keyword options, not both", path="", status=400)
            if not isinstance(request, Mapping):
                raise CraError("invalid_request", f"the request must be an object, not {type(request).__name__}", path="", status=400)
            body: Any = dict(request)
        else:
            body = options
        return self.client._call("POST", f"{self._base}/{operation}", body)

    def check(self, action_id: str) -> JsonObject:
        """The hot path: may this session run ``action_id`` now? ``{result, code, allowed}``; records nothing."""
        return self.client._call("GET", f"{self._base}/check/{segment(action_id, '/action_id')}")

    # --- actions ------------------------------------------------------------------------------------------------

    def request_action(
        self,
        action_id: str,
        parameters: Optional[Mapping[str, Any]] = None,
        *,
        resolution_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> JsonObject:
        """Asks to execute an action; answers the ``Execution``, whose ``status`` says what to do:
        ``approved`` (run it, then :meth:`complete` or :meth:`fail`), ``pending_approval`` (a human decides:
        :meth:`approve` / :meth:`deny`), ``denied`` or ``violated`` (do not run it; ``reason`` and ``details`` say why).

        A refusal is an answer, not an error. With an ``idempotency_key``, repeating the same request (e.g. after a
        lost answer) answers the first execution instead of requesting the action again.
        """
        body = _compact(action_id=action_id, parameters=parameters, resolution_id=resolution_id, idempotency_key=idempotency_key)
        return self.client._call("POST", f"{self._base}/actions", body)

    def execution(self, execution_id: str) -> JsonObject:
        """One execution as it stands now (e.g. once a pending approval was decided)."""
        return self.client._call("GET", f"{self._base}/actions/{segment(execution_id, '/execution_id')}")

    def approve(self, execution: ExecutionRef, *, approver: Optional[str] = None, approval_hash: Optional[str] = None) -> JsonObject:
        """Grants a pending approval. ``approval_hash`` binds it to the exact call; by default the ``approval_hash``
        of ``execution`` when an execution object is passed."""
        if approval_hash is None and isinstance(execution, Mapping):
            approval_hash = execution.get("approval_hash")
        return self._step("approve", execution, _compact(approver=approver, approval_hash=approval_hash))

    def deny(self, execution: ExecutionRef, *, reason: Optional[str] = None, approver: Optional[str] = None) -> JsonObject:
        """Refuses a pending approval."""
        return self._step("deny", execution, _compact(reason=reason, approver=approver))

    def complete(self, execution: ExecutionRef, *, result: Any = _UNSET, duration_ms: Optional[int] = None) -> JsonObject:
        """Reports that an approved action ran. Only the hash of ``result`` is traced (``None`` is JSON ``null``)."""
        body = _compact(duration_ms=duration_ms)
        if result is not _UNSET:
            body["result"] = result
        return self._step("complete", execution, body)

    def fail(self, execution: ExecutionRef, error_code: str, error_message: str, *, duration_ms: Optional[int] = None) -> JsonObject:
        """Reports that an approved action failed."""
        return self._step("fail", execution, _compact(error_code=error_code, error_message=error_message, duration_ms=duration_ms))

    def _step(self, verb: str, execution: ExecutionRef, body: JsonObject) -> JsonObject:
        execution_id = segment(_execution_id(execution), "/execution_id")
        return self.client._call("POST", f"{self._base}/actions/{execution_id}/{verb}", body)

    # --- trace and end ------------------------------------------------------------------------------------------

    def record(self, event_type: str, payload: Mapping[str, Any]) -> List[JsonObject]:
        """Appends a host-emitted event (e.g. ``error.occurred``); answers the events recorded."""
        return self.client._call("POST", f"{self._base}/events", {"event_type": event_type, "payload": payload})

    def end(self, reason: Optional[str] = None) -> JsonObject:
        """Ends the session (``reason`` defaults to ``completed``); every later request on it is refused."""
        return self.client._call("POST", f"{self._base}/end", _compact(reason=reason))

    def trace(self) -> List[JsonObject]:
        """The session's trace events, in chain order."""
        return self.client.trace(self.id)

    def trace_jsonl(self) -> str:
        """The session's trace as JSONL: one hash-chained event per line, with a trailing newline."""
        return self.client.trace_jsonl(self.id)

    def verify(self) -> JsonObject:
        """Verifies the stored trace: ``{valid: True, length, head_hash}`` or ``{valid: False, index, reason}``."""
        return self.client.verify(self.id)

    # --- proofs -------------------------------------------------------------------------------------------------

    def checkpoints(self) -> List[JsonObject]:
        """The session's signed checkpoints, oldest first (see :meth:`CraClient.checkpoints`)."""
        return self.client.checkpoints(self.id)

    def checkpoint(self) -> JsonObject:
        """Signs and stores a checkpoint of the session's log now (see :meth:`CraClient.checkpoint`)."""
        return self.client.checkpoint(self.id)

    def prove(self, index: Optional[int] = None, size: Optional[int] = None, first: Optional[int] = None, second: Optional[int] = None) -> JsonObject:
        """An inclusion proof (``index``, ``size``) or a consistency proof (``first``, ``second``) over the
        session's log (see :meth:`CraClient.prove`)."""
        return self.client.prove(self.id, index=index, size=size, first=first, second=second)

    def receipt(self, execution: ExecutionRef) -> JsonObject:
        """The receipt of one of the session's executions (see :meth:`CraClient.receipt`)."""
        return self.client.receipt(self.id, execution)

    def events(self, since_sequence: Optional[int] = None, timeout: Optional[float] = None) -> Iterator[JsonObject]:
        """The session's live events (see :meth:`CraClient.events`)."""
        return self.client.events(self.id, since_sequence=since_sequence, timeout=timeout)
