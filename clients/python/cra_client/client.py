"""The client of a CRA server: the calls of the TypeScript HTTP client (``createClient`` of the SDK), with the same
protocol objects (plain dicts, as the server sends them), the same error codes and pointers, and snake_case names.

    client = CraClient("http://127.0.0.1:8420", api_key=os.environ["CRA_API_KEY"])
    session = client.create_session(agent_id="support-bot", goal="Handle ticket T-10042")
    resolution = session.resolve(required_capabilities=["tickets.read"])

The client holds no state beyond its settings: every answer was stored by the server before it was sent, so the
client has nothing to flush, and any number of clients may share a server.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

from ._http import _UNSET, Transport, segment
from .errors import CraError
from .session import ExecutionRef, JsonObject, Session, _compact, _execution_id

#: One verifier key string (``<name>+<key id>+<base64>``) or several.
Keys = Union[str, Sequence[str]]
#: A signed checkpoint: its note's text, or a checkpoint object (``{note, …}``) as listed.
Note = Union[str, Mapping[str, Any]]

#: ``Accept`` type of a trace as JSONL.
JSONL = "application/x-ndjson"


class CraClient:
    """A client of the CRA server at ``base_url``.

    Args:
        base_url: the server, e.g. ``http://127.0.0.1:8420``.
        api_key: sent as ``Authorization: Bearer <api_key>``; never logged, never part of ``repr``.
        timeout: seconds to wait for each answer (``None``: no limit).
        headers: extra headers on every request.

    Nothing is retried: a request that may have reached the server is the caller's to repeat (an action request
    safely so with its ``idempotency_key``).
    """

    def __init__(self, base_url: str, api_key: Optional[str] = None, timeout: Optional[float] = 30.0, headers: Optional[Mapping[str, str]] = None) -> None:
        self._transport = Transport(base_url, api_key, timeout, headers)
        self._closed = False

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    def __repr__(self) -> str:
        return f"CraClient(base_url={self.base_url!r})"

    def __enter__(self) -> "CraClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Refuses further calls (the server and its sessions are not affected)."""
        self._closed = True

    def _call(self, method: str, path: str, body: Any = _UNSET) -> Any:
        if self._closed:
            raise CraError("closed", "the client is closed", status=503)
        return self._transport.request(method, path, body)

    # --- server ---------------------------------------------------------------------------------------------------

    def health(self) -> JsonObject:
        """``{status, version, mode, uptime_seconds}`` (needs no key)."""
        return self._call("GET", "/health")

    def stats(self) -> JsonObject:
        """Runtime-wide counters (admin keys only)."""
        return self._call("GET", "/v1/stats")

    # --- atlases --------------------------------------------------------------------------------------------------

    def list_atlases(self) -> List[JsonObject]:
        """The loaded atlases (``AtlasSummary`` objects)."""
        return self._call("GET", "/v1/atlases")["items"]

    def get_atlas(self, atlas_id: str) -> JsonObject:
        """An atlas's manifest."""
        return self._call("GET", f"/v1/atlases/{segment(atlas_id, '/atlas_id')}")

    def load_atlas(self, manifest: Mapping[str, Any], files: Optional[Mapping[str, str]] = None, replace: bool = False) -> JsonObject:
        """Loads (or with ``replace`` replaces) an atlas; ``files``: text of its context-pack files by manifest path.
        Needs an admin key unless the server lets every key change atlases."""
        return self._call("POST", "/v1/atlases", _compact(manifest=manifest, files=files, replace=replace))

    def validate_atlas(self, manifest: Mapping[str, Any], files: Optional[Mapping[str, str]] = None) -> JsonObject:
        """Validates an atlas without loading it: ``{valid, errors, warnings}``."""
        return self._call("POST", "/v1/atlases/validate", _compact(manifest=manifest, files=files))

    def unload_atlas(self, atlas_id: str) -> None:
        """Unloads an atlas (admin keys)."""
        self._call("DELETE", f"/v1/atlases/{segment(atlas_id, '/atlas_id')}")

    # --- sessions -------------------------------------------------------------------------------------------------

    def create_session(
        self,
        agent_id: str,
        goal: str,
        *,
        session_id: Optional[str] = None,
        parent_session_id: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> Session:
        """Starts a session for an agent and its goal; the session belongs to this client's key."""
        body = _compact(agent_id=agent_id, goal=goal, session_id=session_id, parent_session_id=parent_session_id, metadata=metadata)
        s = self._call("POST", "/v1/sessions", body)
        return Session(self, s["session_id"], s["agent_id"], s["goal"])

    def get_session(self, session_id: str) -> Session:
        """A handle on an existing session of this key (``session_not_found`` otherwise)."""
        ref = self._call("GET", f"/v1/sessions/{segment(session_id, '/session_id')}/ref")
        return Session(self, ref["session_id"], ref["agent_id"], ref["goal"])

    def list_sessions(
        self,
        *,
        status: Optional[str] = None,
        agent_id: Optional[str] = None,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        order: Optional[str] = None,
    ) -> JsonObject:
        """A page of this key's sessions: ``{items, total}`` (``status``: active, ended or all; ``order``: oldest
        or newest)."""
        query = _compact(status=status, agent_id=agent_id, limit=limit, offset=offset, order=order)
        q = urllib.parse.urlencode({k: str(v) for k, v in query.items()})
        return self._call("GET", f"/v1/sessions?{q}" if q else "/v1/sessions")

    # --- CARP -----------------------------------------------------------------------------------------------------

    def carp(self, request: Mapping[str, Any]) -> JsonObject:
        """Runs a raw CARP/1.0 request (any operation): ``{resolution}`` or ``{execution}``."""
        if not isinstance(request, Mapping):
            raise CraError("invalid_request", f"the request must be an object, not {type(request).__name__}", path="", status=400)
        return self._call("POST", "/v1/carp", dict(request))

    # --- traces ---------------------------------------------------------------------------------------------------

    def trace(self, session_id: str) -> List[JsonObject]:
        """A session's trace events, in chain order."""
        return self._call("GET", f"/v1/traces/{segment(session_id, '/session_id')}")

    def trace_jsonl(self, session_id: str) -> str:
        """A session's trace as JSONL text (one event a line, trailing newline), as it is stored."""
        if self._closed:
            raise CraError("closed", "the client is closed", status=503)
        return self._transport.text("GET", f"/v1/traces/{segment(session_id, '/session_id')}", JSONL)

    def verify(self, session_id: str) -> JsonObject:
        """Verifies a session's stored trace against the head the server holds for it."""
        return self._call("GET", f"/v1/traces/{segment(session_id, '/session_id')}/verify")

    def replay(self, session_id: str) -> JsonObject:
        """Replays a session's trace against the loaded atlases and reports divergences."""
        return self._call("POST", f"/v1/traces/{segment(session_id, '/session_id')}/replay")

    def diff(self, a: List[Mapping[str, Any]], b: List[Mapping[str, Any]]) -> JsonObject:
        """Compares two traces, ignoring ids, timestamps and hashes."""
        return self._call("POST", "/v1/traces/diff", {"a": a, "b": b})

    # --- proofs (docs/protocol.md, Proofs) ----------------------------------------------------------------------

    def checkpoints(self, session_id: str) -> List[JsonObject]:
        """A session's signed checkpoints, oldest first: ``[{note, session_id, size, root, time}]``."""
        return self._call("GET", f"/v1/sessions/{segment(session_id, '/session_id')}/checkpoints")["items"]

    def checkpoint(self, session_id: str) -> JsonObject:
        """Signs and stores a checkpoint of a session's log now (``no_signing_key``, 409, when the server has no
        ``CRA_SIGNING_KEY``)."""
        return self._call("POST", f"/v1/sessions/{segment(session_id, '/session_id')}/checkpoints")

    def prove(self, session_id: str, index: Optional[int] = None, size: Optional[int] = None, first: Optional[int] = None, second: Optional[int] = None) -> JsonObject:
        """An inclusion proof of the event at ``index`` in the tree of ``size`` events (default: the whole log), or
        a consistency proof from the tree of ``first`` events to that of ``second`` (default: the whole log)."""
        query = {}
        for name, value in (("index", index), ("size", size), ("first", first), ("second", second)):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise CraError("invalid_request", f"{name} must be a non-negative integer", path=f"/{name}", status=400)
            query[name] = str(value)
        if not query:
            raise CraError("invalid_request", "say what to prove: index (and size) or first (and second)", path="", status=400)
        return self._call("GET", f"/v1/sessions/{segment(session_id, '/session_id')}/proof?{urllib.parse.urlencode(query)}")

    def receipt(self, session_id: str, execution: ExecutionRef) -> JsonObject:
        """The receipt of an execution (an execution dict or its id): its events, their inclusion proofs and a signed
        checkpoint, to hand to whoever must check it offline (:func:`cra_client.verify.verify_receipt`)."""
        execution_id = segment(_execution_id(execution), "/execution_id")
        return self._call("GET", f"/v1/sessions/{segment(session_id, '/session_id')}/receipts/{execution_id}")

    def sync_state(self, session_id: str) -> JsonObject:
        """What the server holds of a session governed elsewhere: ``{session_id, length, head_hash, checkpoint}``
        (``length`` 0 for one it never held): where the next :meth:`sync` starts."""
        return self._call("GET", f"/v1/sessions/{segment(session_id, '/session_id')}/sync")

    def sync(self, upload: Mapping[str, Any]) -> JsonObject:
        """Hands the server the events and signed checkpoints of a session another runtime governs
        (``{events, checkpoints, key?}``); answers what it now holds (``{…, appended, root}``). A rewritten history
        is ``history_rewritten`` (409)."""
        events = upload.get("events") if isinstance(upload, Mapping) else None
        first = events[0] if isinstance(events, list) and events else None
        session_id = first.get("session_id") if isinstance(first, Mapping) else None
        if not isinstance(session_id, str):
            raise CraError("invalid_request", "the first event must name its session (`session_id`)", path="/events/0/session_id", status=400)
        return self._call("POST", f"/v1/sessions/{segment(session_id, '/events/0/session_id')}/sync", dict(upload))

    def verify_checkpoint(self, note: Note, keys: Keys) -> JsonObject:
        """The server's verdict on a signed checkpoint (its note, or a checkpoint as :meth:`checkpoints` lists it)
        with the verifier key(s) to accept. Offline: :func:`cra_client.verify.verify_checkpoint`."""
        return self._call("POST", "/v1/checkpoints/verify", {"note": _note_text(note, "/note"), "keys": _keys(keys)})

    def verify_proof(
        self,
        proof: Mapping[str, Any],
        event: Optional[Mapping[str, Any]] = None,
        checkpoint: Optional[Note] = None,
        first_checkpoint: Optional[Note] = None,
        keys: Optional[Keys] = None,
    ) -> JsonObject:
        """The server's verdict on an inclusion or consistency proof: against ``event`` (the event it proves),
        ``checkpoint`` (the signed tree it ends in) and ``first_checkpoint`` (a consistency proof's older tree), the
        checkpoints checked with ``keys``. With no checkpoint, the verdict only shows that the proof's hashes lead to
        its own root (it has no ``key``)."""
        body: JsonObject = {"proof": proof}
        if event is not None:
            body["event"] = event
        if checkpoint is not None:
            body["checkpoint"] = _note_text(checkpoint, "/checkpoint")
        if first_checkpoint is not None:
            body["first_checkpoint"] = _note_text(first_checkpoint, "/first_checkpoint")
        if keys is not None:
            body["keys"] = _keys(keys)
        return self._call("POST", "/v1/proofs/verify", body)

    def verify_receipt(self, receipt: Mapping[str, Any], keys: Keys) -> JsonObject:
        """The server's verdict on a receipt with the verifier key(s) to accept. Whoever must not trust the server
        checks it offline instead: :func:`cra_client.verify.verify_receipt`."""
        return self._call("POST", "/v1/receipts/verify", {"receipt": receipt, "keys": _keys(keys)})

    def checkpoint_key(self) -> Optional[str]:
        """The verifier key of the server's checkpoints (``None`` when it signs none); needs no API key."""
        return self._call("GET", "/v1/checkpoint-key")["key"]

    def events(self, session_id: str, since_sequence: Optional[int] = None, timeout: Optional[float] = 60.0) -> Iterator[JsonObject]:
        """The live events of a session (Server-Sent Events): its past events (after ``since_sequence``), then each
        new one as it is recorded. Ends after ``session.ended`` or when the server stops; stop early by leaving the
        loop (the connection is closed). ``timeout``: longest silence before ``unavailable`` (the server sends a
        keep-alive every 15 s while nothing happens); ``None`` waits forever.
        """
        if self._closed:
            raise CraError("closed", "the client is closed", status=503)
        if since_sequence is not None and (isinstance(since_sequence, bool) or not isinstance(since_sequence, int) or since_sequence < 0):
            raise CraError("invalid_request", "since_sequence must be a non-negative integer", path="/since_sequence", status=400)
        query = f"?since_sequence={since_sequence}" if since_sequence is not None else ""
        path = f"/v1/traces/{segment(session_id, '/session_id')}/stream{query}"
        res = self._transport.send("GET", path, accept="text/event-stream", timeout=timeout)
        return _sse_events(res, path)


def _keys(keys: Any) -> List[str]:
    """One verifier key string or several, as the routes take them (a list)."""
    if isinstance(keys, str):
        return [keys]
    if isinstance(keys, (list, tuple)) and keys and all(isinstance(k, str) for k in keys):
        return list(keys)
    raise CraError("invalid_request", "keys must be a verifier key string or a non-empty list of them", path="/keys", status=400)


def _note_text(note: Any, path: str) -> str:
    """A signed note's text: given as such, or inside a checkpoint as :meth:`CraClient.checkpoints` lists it."""
    if isinstance(note, Mapping):
        note = note.get("note")
    if not isinstance(note, str):
        raise CraError("invalid_request", "a checkpoint is its signed note's text, or a checkpoint object with `note`", path=path, status=400)
    return note


def _sse_events(res: Any, path: str) -> Iterator[JsonObject]:
    """Trace events of an SSE response, in order; stops at ``event: end``, closes the response however it stops."""
    try:
        event: str = "message"
        data: List[str] = []
        while True:
            try:
                raw = res.readline()
            except (OSError, http.client.HTTPException) as err:
                raise CraError("unavailable", f"GET {path}: the event stream stopped: {err!r}", status=503) from None
            if not raw:
                return
            line = raw.decode("utf-8").rstrip("\r\n")
            if line == "":
                if event == "end":
                    return
                if event == "message" and data:
                    yield _sse_event("\n".join(data))
                event, data = "message", []
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(" ") else value)
            # comments (": keep-alive"), ids and retry fields carry nothing the caller needs
    finally:
        res.close()


def _sse_event(data: str) -> JsonObject:
    try:
        return json.loads(data)
    except ValueError:
        raise CraError("invalid_json", "the event stream sent an event that is not JSON", status=502) from None
