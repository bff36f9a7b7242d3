"""The Python client against a real CRA server (started by ``run_tests.mjs``).

Environment: ``CRA_URL``, ``CRA_API_KEY``; optionally ``CRA_API_KEY_2`` (a second key), ``CRA_ADMIN_KEY`` (an admin
key) and ``CRA_CHECKPOINT_KEY`` (the verifier key of a server that signs checkpoints); tests that need one of those
are skipped without it.
"""

from __future__ import annotations

import base64
import copy
import datetime
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import unittest
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
sys.path.insert(0, str(PACKAGE_ROOT))

from cra_client import CraClient, CraError, ed25519, merkle  # noqa: E402
from cra_client.note import key_id, parse_signer, sign_note  # noqa: E402
from cra_client.verify import event_hash, trace_root, verify_checkpoint, verify_receipt  # noqa: E402

URL = os.environ.get("CRA_URL", "")
KEY = os.environ.get("CRA_API_KEY", "")
KEY_2 = os.environ.get("CRA_API_KEY_2")
ADMIN_KEY = os.environ.get("CRA_ADMIN_KEY")
CHECKPOINT_KEY = os.environ.get("CRA_CHECKPOINT_KEY")

REFUND = {"customer_id": "C-7", "payment_id": "P-19", "amount": 25, "currency": "USD"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def setUpModule() -> None:
    if not URL or not KEY:
        raise unittest.SkipTest("CRA_URL and CRA_API_KEY are not set: run node clients/python/run_tests.mjs")


class ClientTest(unittest.TestCase):
    def setUp(self) -> None:
        self.client = CraClient(URL, api_key=KEY, timeout=30)

    def session(self, **kwargs):
        return self.client.create_session(agent_id=kwargs.pop("agent_id", "support-bot"), goal=kwargs.pop("goal", "Handle ticket T-10042"), **kwargs)

    def resolved(self):
        s = self.session()
        s.resolve(required_capabilities=["tickets.read", "billing.refund"])
        return s

    def assertCraError(self, err: CraError, code: str, status: int, path=None) -> None:
        self.assertEqual((err.code, err.status, err.path), (code, status, path), str(err))


class ServerTest(ClientTest):
    def test_health_needs_no_key(self):
        health = CraClient(URL).health()
        self.assertEqual(health["status"], "healthy")
        self.assertIn("version", health)

    def test_lists_the_loaded_atlases(self):
        atlases = self.client.list_atlases()
        self.assertIn("com.example.support", [a["atlas_id"] for a in atlases])
        manifest = self.client.get_atlas("com.example.support")
        self.assertIn("refund.issue", [a["action_id"] for a in manifest["actions"]])

    def test_unknown_atlas_is_atlas_not_found(self):
        with self.assertRaises(CraError) as caught:
            self.client.get_atlas("com.example.nothing")
        self.assertEqual((caught.exception.code, caught.exception.status), ("atlas_not_found", 404))


class SessionTest(ClientTest):
    def test_create_session(self):
        s = self.session(metadata={"ticket": "T-10042"})
        self.assertRegex(s.id, UUID)
        info = s.info()
        self.assertEqual((info["session_id"], info["agent_id"], info["status"]), (s.id, "support-bot", "active"))
        self.assertEqual(info["metadata"], {"ticket": "T-10042"})
        again = self.client.get_session(s.id.upper())
        self.assertEqual((again.id, again.goal), (s.id, "Handle ticket T-10042"))

    def test_list_sessions_filters_by_agent(self):
        s = self.session(agent_id="lister-bot")
        page = self.client.list_sessions(agent_id="lister-bot", order="newest", limit=5)
        self.assertGreaterEqual(page["total"], 1)
        self.assertEqual(page["items"][0]["session_id"], s.id)

    def test_unknown_session_is_session_not_found(self):
        with self.assertRaises(CraError) as caught:
            self.client.get_session("00000000-0000-4000-8000-000000000000")
        self.assertCraError(caught.exception, "session_not_found", 404, caught.exception.path)

    @unittest.skipUnless(KEY_2, "needs CRA_API_KEY_2")
    def test_another_keys_session_answers_as_missing(self):
        s = self.session()
        other = CraClient(URL, api_key=KEY_2)
        with self.assertRaises(CraError) as caught:
            other.get_session(s.id)
        self.assertEqual((caught.exception.code, caught.exception.status), ("session_not_found", 404))

    def test_end_refuses_later_requests(self):
        s = self.resolved()
        ended = s.end("completed")
        self.assertEqual(ended["status"], "ended")
        with self.assertRaises(CraError) as caught:
            s.request_action("ticket.lookup", {"ticket_id": "T-10042"})
        self.assertEqual((caught.exception.code, caught.exception.status), ("session_ended", 409))


class ResolveTest(ClientTest):
    def test_resolve_shows_the_refund_approval_gate(self):
        s = self.session()
        resolution = s.resolve(required_capabilities=["tickets.read", "billing.refund"])
        self.assertEqual(resolution["decision"]["type"], "partial")
        self.assertIn("refund.issue", resolution["decision"]["reason"])
        self.assertEqual(s.check("refund.issue"), {"result": "requires_approval", "code": 2, "allowed": False})
        self.assertEqual(s.check("ticket.lookup")["allowed"], True)
        self.assertEqual(s.check("customer.delete")["result"], "deny")

    def test_check_before_resolve_is_no_resolution(self):
        self.assertEqual(self.session().check("ticket.lookup")["result"], "no_resolution")

    def test_validate_records_nothing(self):
        s = self.session()
        before = s.info()["event_count"]
        resolution = s.validate(required_capabilities=["tickets.read"])
        self.assertIn("decision", resolution)
        self.assertEqual(s.info()["event_count"], before)

    def test_resolve_takes_a_body_as_the_route_does(self):
        s = self.session()
        resolution = s.resolve({"required_capabilities": ["tickets.read"], "risk_tier": "low"})
        self.assertEqual(resolution["decision"]["type"], "allow")


class CarpTest(ClientTest):
    def test_a_raw_carp_request(self):
        s = self.session()
        now = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
        request = {
            "carp_version": "1.0",
            "operation": "resolve",
            "request_id": str(uuid.uuid4()),
            "timestamp": now,
            "requester": {"agent_id": "support-bot", "session_id": s.id},
            "task": {"goal": "Handle ticket T-10042", "required_capabilities": ["tickets.read"]},
        }
        self.assertEqual(self.client.carp(request)["resolution"]["decision"]["type"], "allow")
        with self.assertRaises(CraError) as caught:
            self.client.carp(dict(request, carp_version="2.0"))
        self.assertCraError(caught.exception, "invalid_request", 400, "/carp_version")


class ActionTest(ClientTest):
    def test_allowed_action_then_complete(self):
        s = self.resolved()
        execution = s.request_action("ticket.lookup", {"ticket_id": "T-10042"})
        self.assertEqual(execution["status"], "approved")
        done = s.complete(execution, result={"status": "open"}, duration_ms=40)
        self.assertEqual(done["status"], "executed")
        self.assertEqual(s.execution(execution["execution_id"])["status"], "executed")

    def test_approved_action_then_fail(self):
        s = self.resolved()
        execution = s.request_action("ticket.lookup", {"ticket_id": "T-10042"})
        failed = s.fail(execution["execution_id"], "upstream_down", "the ticket system is unavailable", duration_ms=5)
        self.assertEqual(failed["status"], "failed")

    def test_denied_action_is_an_answer_with_its_reason(self):
        s = self.resolved()
        execution = s.request_action("customer.delete", {"customer_id": "C-7"})
        self.assertEqual(execution["status"], "denied")
        self.assertEqual(execution["details"]["code"], "not_in_resolution")
        with self.assertRaises(CraError) as caught:
            s.complete(execution)
        self.assertEqual((caught.exception.code, caught.exception.status), ("invalid_state", 409))

    def test_scope_violation_names_the_parameter(self):
        s = self.resolved()
        execution = s.request_action("refund.issue", dict(REFUND, amount=900))
        self.assertEqual(execution["status"], "violated")
        self.assertEqual(execution["details"]["code"], "scope_violation")
        self.assertEqual(execution["details"]["violations"][0]["path"], "/amount")

    def test_idempotency_key_answers_the_first_execution(self):
        s = self.resolved()
        first = s.request_action("refund.issue", REFUND, idempotency_key="refund-C-7-P-19")
        again = s.request_action("refund.issue", REFUND, idempotency_key="refund-C-7-P-19")
        self.assertEqual(again["execution_id"], first["execution_id"])
        requested = [e for e in s.trace() if e["event_type"] == "action.requested"]
        self.assertEqual(len(requested), 1)
        with self.assertRaises(CraError) as caught:
            s.request_action("refund.issue", dict(REFUND, amount=26), idempotency_key="refund-C-7-P-19")
        self.assertCraError(caught.exception, "idempotency_conflict", 409, "/idempotency_key")


class ApprovalTest(ClientTest):
    def test_approve_a_pending_refund_then_complete(self):
        s = self.resolved()
        pending = s.request_action("refund.issue", REFUND)
        self.assertEqual(pending["status"], "pending_approval")
        self.assertRegex(pending["approval_hash"], r"^[0-9a-f]{64}$")
        approved = s.approve(pending, approver="lead@example.com")
        self.assertEqual(approved["status"], "approved")
        self.assertEqual(s.execution(pending["execution_id"])["status"], "approved")
        self.assertEqual(s.complete(approved, result=None)["status"], "executed")
        types = [e["event_type"] for e in s.trace()]
        self.assertEqual(types[-3:], ["action.requested", "action.approved", "action.executed"])

    def test_deny_a_pending_refund(self):
        s = self.resolved()
        pending = s.request_action("refund.issue", REFUND)
        denied = s.deny(pending["execution_id"], reason="not this time", approver="lead@example.com")
        self.assertEqual(denied["status"], "denied")
        self.assertEqual(denied["details"]["code"], "approval_denied")

    def test_approval_bound_to_another_call_is_refused(self):
        s = self.resolved()
        pending = s.request_action("refund.issue", REFUND)
        with self.assertRaises(CraError) as caught:
            s.approve(pending["execution_id"], approval_hash="0" * 64)
        self.assertCraError(caught.exception, "approval_mismatch", 409, "/approval_hash")
        self.assertEqual(s.execution(pending["execution_id"])["status"], "pending_approval")


class TraceTest(ClientTest):
    def finished(self):
        s = self.resolved()
        execution = s.request_action("ticket.lookup", {"ticket_id": "T-10042"})
        s.complete(execution, result={"status": "open"})
        s.end()
        return s

    def test_trace_jsonl_and_verify(self):
        s = self.finished()
        events = s.trace()
        text = s.trace_jsonl()
        self.assertTrue(text.endswith("\n"))
        lines = [json.loads(line) for line in text.splitlines()]
        self.assertEqual(lines, events)
        self.assertEqual([e["sequence"] for e in lines], list(range(len(lines))))
        self.assertEqual((lines[0]["event_type"], lines[-1]["event_type"]), ("session.started", "session.ended"))
        for prev, event in zip(lines, lines[1:]):
            self.assertEqual(event["previous_event_hash"], prev["event_hash"])
        verdict = s.verify()
        self.assertEqual(verdict, {"valid": True, "length": len(lines), "head_hash": lines[-1]["event_hash"]})

    def test_event_stream_replays_and_ends(self):
        s = self.finished()
        streamed = list(s.events())
        self.assertEqual(streamed, s.trace())
        self.assertEqual([e["sequence"] for e in s.events(since_sequence=2)], list(range(3, len(streamed))))

    def test_event_stream_delivers_live_events(self):
        s = self.resolved()
        stream = s.events(since_sequence=s.info()["event_count"] - 1)
        seen = []
        ender = threading.Timer(0.3, s.end)
        ender.start()
        try:
            for event in stream:
                seen.append(event["event_type"])
        finally:
            ender.join()
        self.assertEqual(seen, ["session.ended"])

    def test_record_a_host_event(self):
        s = self.session()
        recorded = s.record("error.occurred", {"code": "tool_timeout", "message": "the CRM did not answer"})
        self.assertEqual(recorded[-1]["event_type"], "error.occurred")
        self.assertEqual(s.trace()[-1]["event_hash"], recorded[-1]["event_hash"])


class ErrorTest(ClientTest):
    def test_bad_key_is_unauthorized(self):
        for client in (CraClient(URL, api_key="not-a-key-of-this-server"), CraClient(URL)):
            with self.assertRaises(CraError) as caught:
                client.list_atlases()
            self.assertCraError(caught.exception, "unauthorized", 401, None)

    def test_bad_body_points_at_the_field(self):
        with self.assertRaises(CraError) as caught:
            self.client.create_session(agent_id=123, goal="g")  # type: ignore[arg-type]
        self.assertCraError(caught.exception, "invalid_request", 400, "/agent_id")
        s = self.resolved()
        execution = s.request_action("ticket.lookup", {"ticket_id": "T-10042"})
        with self.assertRaises(CraError) as caught:
            s.fail(execution, 5, "m")  # type: ignore[arg-type]
        self.assertCraError(caught.exception, "invalid_request", 400, "/error_code")

    def test_a_value_json_cannot_carry_is_refused_before_sending(self):
        s = self.resolved()
        before = s.info()["event_count"]
        for params, path in (
            ({"ticket_id": float("nan")}, "/parameters/ticket_id"),
            ({"ids": [1, float("inf")]}, "/parameters/ids/1"),
            ({1: "x"}, "/parameters"),
            ({"a/b": object()}, "/parameters/a~1b"),
            ({"t": "\ud800"}, "/parameters/t"),
        ):
            with self.assertRaises(CraError) as caught:
                s.request_action("ticket.lookup", params)
            self.assertCraError(caught.exception, "invalid_json", 400, path)
        deep: list = []
        for _ in range(200):
            deep = [deep]
        with self.assertRaises(CraError) as caught:
            s.request_action("ticket.lookup", {"deep": deep})
        self.assertEqual((caught.exception.code, caught.exception.details), ("invalid_json", {"reason": "depth"}))
        self.assertEqual(s.info()["event_count"], before)

    def test_unreachable_server_is_unavailable(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with self.assertRaises(CraError) as caught:
            CraClient(f"http://127.0.0.1:{port}", api_key=KEY, timeout=5).health()
        self.assertEqual((caught.exception.code, caught.exception.status), ("unavailable", 503))

    def test_an_answer_cut_off_is_unavailable(self):
        class Cut(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "100")
                self.end_headers()
                self.wfile.write(b'{"status": "hea')
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Cut)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with self.assertRaises(CraError) as caught:
                CraClient(f"http://127.0.0.1:{server.server_port}", timeout=5).health()
            self.assertEqual((caught.exception.code, caught.exception.status), ("unavailable", 503))
        finally:
            server.shutdown()
            server.server_close()

    def test_bad_options_are_refused(self):
        for kwargs, path in (({"base_url": "ftp://x"}, "/base_url"), ({"base_url": URL, "timeout": 0}, "/timeout"), ({"base_url": URL, "api_key": 5}, "/api_key")):
            with self.assertRaises(CraError) as caught:
                CraClient(**kwargs)
            self.assertCraError(caught.exception, "invalid_request", 400, path)

    def test_closed_client_refuses_calls(self):
        with CraClient(URL, api_key=KEY) as client:
            client.health()
        with self.assertRaises(CraError) as caught:
            client.health()
        self.assertEqual(caught.exception.code, "closed")

    def test_the_key_is_not_in_reprs_or_errors(self):
        client = CraClient(URL, api_key=KEY)
        self.assertNotIn(KEY, repr(client))
        self.assertNotIn(KEY, repr(vars(client)))
        s = client.create_session(agent_id="a", goal="g")
        self.assertNotIn(KEY, repr(s))
        with self.assertRaises(CraError) as caught:
            s.check("")
        self.assertNotIn(KEY, str(caught.exception) + repr(caught.exception))

    def test_redirects_are_not_followed_with_the_key(self):
        seen = []

        class Target(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                seen.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        target = http.server.HTTPServer(("127.0.0.1", 0), Target)

        class Redirect(Target):
            def do_GET(self):  # noqa: N802
                self.send_response(307)
                self.send_header("Location", f"http://127.0.0.1:{target.server_port}/health")
                self.send_header("Content-Length", "0")
                self.end_headers()

        redirect = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
        servers = [target, redirect]
        threads = [threading.Thread(target=srv.serve_forever, daemon=True) for srv in servers]
        for t in threads:
            t.start()
        try:
            with self.assertRaises(CraError) as caught:
                CraClient(f"http://127.0.0.1:{redirect.server_port}", api_key=KEY, timeout=5).health()
            self.assertEqual(caught.exception.status, 307)
            self.assertEqual(seen, [])
        finally:
            for srv in servers:
                srv.shutdown()
                srv.server_close()


@unittest.skipUnless(ADMIN_KEY, "needs CRA_ADMIN_KEY")
class AdminTest(ClientTest):
    MANIFEST = {
        "atlas_version": "1.0",
        "atlas_id": "com.example.python-client",
        "version": "1.0.0",
        "name": "Notes",
        "description": "One action to take notes",
        "capabilities": [{"capability_id": "notes.write", "name": "Notes", "description": "Take notes", "actions": ["note.add"]}],
        "policies": [{"policy_id": "notes-open", "name": "Notes are open", "type": "allow", "actions": ["note.add"]}],
        "actions": [{"action_id": "note.add", "name": "Add a note", "description": "Add a note", "risk_tier": "low", "parameters_schema": {"type": "object"}}],
    }

    def test_load_validate_and_unload_an_atlas(self):
        admin = CraClient(URL, api_key=ADMIN_KEY)
        self.assertEqual(admin.validate_atlas(self.MANIFEST)["valid"], True)
        with self.assertRaises(CraError) as caught:
            self.client.load_atlas(self.MANIFEST)
        self.assertEqual((caught.exception.code, caught.exception.status), ("forbidden", 403))
        loaded = admin.load_atlas(self.MANIFEST)
        self.assertEqual((loaded["atlas_id"], loaded["action_count"]), ("com.example.python-client", 1))
        try:
            with self.assertRaises(CraError) as caught:
                admin.load_atlas(self.MANIFEST)
            self.assertCraError(caught.exception, "atlas_exists", 409, "/atlas_id")
            self.assertEqual(admin.load_atlas(self.MANIFEST, replace=True)["atlas_id"], "com.example.python-client")
            self.assertGreaterEqual(admin.stats()["atlases"], 2)
        finally:
            admin.unload_atlas("com.example.python-client")
        self.assertNotIn("com.example.python-client", [a["atlas_id"] for a in self.client.list_atlases()])

    def test_stats_need_an_admin_key(self):
        with self.assertRaises(CraError) as caught:
            self.client.stats()
        self.assertEqual((caught.exception.code, caught.exception.status), ("forbidden", 403))


def _other_verifier() -> str:
    """A verifier key that did not sign the server's checkpoints (made here, from a fixed seed)."""
    seed = bytes(range(7, 39))
    public = ed25519.public_key(seed)
    signer = f"PRIVATE+KEY+elsewhere.example+{key_id('elsewhere.example', public).hex()}+" + base64.b64encode(b"\x01" + seed).decode()
    return parse_signer(signer)[0].text


class ProofTest(ClientTest):
    """Checkpoints, proofs and receipts of a server that signs (``run_tests.mjs`` starts it with a signing key and
    hands its verifier key over as ``CRA_CHECKPOINT_KEY``); what the server answers is also checked offline."""

    def setUp(self) -> None:
        super().setUp()
        if not CHECKPOINT_KEY:
            self.skipTest("CRA_CHECKPOINT_KEY is not set: the server signs no checkpoints")

    def recorded(self, end=True):
        s = self.resolved()
        lookup = s.request_action("ticket.lookup", {"ticket_id": "T-10042"})
        s.complete(lookup, result={"status": "open"})
        refund = s.request_action("refund.issue", REFUND)
        s.approve(refund, approver="lead@example.com")
        s.complete(refund, result={"refund_id": "R-1"})
        if end:
            s.end()
        return s, lookup, refund

    def test_the_checkpoint_key_is_public_and_the_servers(self):
        self.assertEqual(CraClient(URL).checkpoint_key(), CHECKPOINT_KEY)

    def test_sign_list_and_check_checkpoints(self):
        s, _, _ = self.recorded(end=False)
        self.assertEqual(s.checkpoints(), [])  # every 1000 events and at the end: none yet
        cp = s.checkpoint()
        events = s.trace()
        self.assertEqual((cp["session_id"], cp["size"]), (s.id, len(events)))
        self.assertEqual(cp["root"], trace_root(events))
        self.assertEqual(s.checkpoints(), [cp])
        offline = verify_checkpoint(cp["note"], CHECKPOINT_KEY)
        self.assertEqual((offline["valid"], offline["size"], offline["root"], offline["key"]), (True, cp["size"], cp["root"], CHECKPOINT_KEY))
        # The server's verdict, on the note or on the checkpoint as listed, and with a key that did not sign it.
        for note in (cp["note"], cp):
            self.assertEqual(self.client.verify_checkpoint(note, CHECKPOINT_KEY)["valid"], True)
        self.assertEqual(self.client.verify_checkpoint(cp, [_other_verifier()])["reason"], "unknown_key")
        self.assertEqual(verify_checkpoint(cp["note"], _other_verifier())["reason"], "unknown_key")
        s.end()
        final = s.checkpoints()
        self.assertEqual((len(final), final[0], final[-1]["size"]), (2, cp, len(s.trace())))

    def test_inclusion_and_consistency_proofs(self):
        s, _, _ = self.recorded(end=False)
        early = s.checkpoint()
        s.record("error.occurred", {"code": "tool_timeout", "message": "the ticket system did not answer"})
        s.end()
        events = s.trace()
        final = s.checkpoints()[-1]
        self.assertEqual(final["size"], len(events))
        inclusion = s.prove(index=2)
        self.assertEqual((inclusion["type"], inclusion["index"], inclusion["size"], inclusion["event_hash"]), ("inclusion", 2, len(events), events[2]["event_hash"]))
        verdict = self.client.verify_proof(inclusion, event=events[2], checkpoint=final, keys=CHECKPOINT_KEY)
        self.assertTrue(verdict["valid"], verdict)
        # The same proof checked here: its hashes lead from the event's leaf to the signed root.
        hashes = [bytes.fromhex(h) for h in inclusion["proof"]]
        self.assertTrue(merkle.verify_inclusion(merkle.event_leaf(events[2]["event_hash"]), 2, final["size"], hashes, bytes.fromhex(final["root"])))
        self.assertFalse(self.client.verify_proof(inclusion, event=events[3], checkpoint=final, keys=CHECKPOINT_KEY)["valid"])
        self.assertNotIn("key", self.client.verify_proof(inclusion))  # no checkpoint: only its own root is shown
        within = s.prove(index=1, size=early["size"])
        self.assertEqual(within["root"], early["root"])
        consistency = s.prove(first=early["size"])
        self.assertEqual((consistency["type"], consistency["first"], consistency["second"]), ("consistency", early["size"], len(events)))
        verdict = self.client.verify_proof(consistency, first_checkpoint=early, checkpoint=final, keys=[CHECKPOINT_KEY])
        self.assertTrue(verdict["valid"], verdict)
        hashes = [bytes.fromhex(h) for h in consistency["proof"]]
        self.assertTrue(merkle.verify_consistency(early["size"], final["size"], bytes.fromhex(early["root"]), bytes.fromhex(final["root"]), hashes))
        self.assertFalse(self.client.verify_proof(consistency, first_checkpoint=final, checkpoint=final, keys=CHECKPOINT_KEY)["valid"])

    def test_bad_proof_queries(self):
        s, _, _ = self.recorded()
        for kwargs, path in (({}, ""), ({"index": -1}, "/index"), ({"size": True}, "/size"), ({"first": "2"}, "/first")):
            with self.assertRaises(CraError) as caught:
                s.prove(**kwargs)
            self.assertCraError(caught.exception, "invalid_request", 400, path)
        with self.assertRaises(CraError) as caught:
            s.prove(index=1, first=0)  # one kind of proof at a time: the server's rule
        self.assertCraError(caught.exception, "invalid_request", 400, "/index")
        with self.assertRaises(CraError) as caught:
            s.prove(index=99)
        self.assertEqual(caught.exception.status, 400)
        with self.assertRaises(CraError) as caught:
            self.client.verify_receipt({}, [])
        self.assertCraError(caught.exception, "invalid_request", 400, "/keys")

    def test_a_receipt_fetched_over_http_verifies_offline_with_the_servers_key(self):
        s, _, refund = self.recorded()
        receipt = s.receipt(refund)
        self.assertEqual((receipt["receipt_version"], receipt["session_id"], receipt["execution_id"]), ("1", s.id, refund["execution_id"]))
        key = CraClient(URL).checkpoint_key()
        offline = verify_receipt(receipt, key)
        self.assertTrue(offline["valid"], offline)
        self.assertEqual((offline["execution_id"], offline["key"], offline["events"]), (refund["execution_id"], key, len(receipt["entries"])))
        self.assertEqual(self.client.verify_receipt(receipt, key), offline)
        self.assertEqual(s.receipt(refund["execution_id"]), receipt)
        # Tampered with, or checked with another key: refused alike here and by the server.
        edited = copy.deepcopy(receipt)
        edited["entries"][-1]["event"]["payload"]["approver"] = "mallory@example.com"
        for r, keys, reason in ((edited, key, "event_hash_mismatch"), (receipt, _other_verifier(), "unknown_key")):
            mine, theirs = verify_receipt(r, keys), self.client.verify_receipt(r, keys)
            self.assertEqual((mine["valid"], mine["reason"], mine["path"]), (False, reason, theirs.get("path")), (mine, theirs))
            self.assertEqual(theirs["reason"], reason)

    def test_a_receipt_of_no_such_execution(self):
        s, _, _ = self.recorded()
        with self.assertRaises(CraError) as caught:
            s.receipt(str(uuid.uuid4()))
        self.assertCraError(caught.exception, "execution_not_found", 404, "/execution_id")

    def test_another_keys_session_answers_as_missing(self):
        if not KEY_2:
            self.skipTest("CRA_API_KEY_2 is not set")
        s, _, refund = self.recorded()
        other = CraClient(URL, api_key=KEY_2)
        for call in (lambda: other.checkpoints(s.id), lambda: other.checkpoint(s.id), lambda: other.prove(s.id, index=0),
                     lambda: other.receipt(s.id, refund), lambda: other.sync_state(s.id)):
            with self.assertRaises(CraError) as caught:
                call()
            self.assertEqual((caught.exception.code, caught.exception.status), ("session_not_found", 404))

    def test_sync_a_session_governed_elsewhere(self):
        # A log recorded and signed here, as a runtime with no server would: its events and checkpoints.
        seed = bytes(range(40, 72))
        public = ed25519.public_key(seed)
        signer = f"PRIVATE+KEY+edge.example+{key_id('edge.example', public).hex()}+" + base64.b64encode(b"\x01" + seed).decode()
        verifier = parse_signer(signer)[0].text
        source, _, _ = self.recorded()
        events = [{**e, "session_id": e["session_id"]} for e in source.trace()]
        events = _rechained(events, str(uuid.uuid4()))
        sid = events[0]["session_id"]

        def signed(evs, size):
            root = base64.b64encode(bytes.fromhex(trace_root(evs, size))).decode()
            return sign_note(f"edge.example/{sid}\n{size}\n{root}\ntime 2026-01-02T03:04:05.000000Z\n", signer)

        self.assertEqual(self.client.sync_state(sid)["length"], 0)  # never held
        first = self.client.sync({"events": events[:4], "checkpoints": [signed(events, 4)], "key": verifier})
        self.assertEqual((first["session_id"], first["length"], first["appended"]), (sid, 4, 4))
        state = self.client.sync_state(sid)
        self.assertEqual((state["length"], state["head_hash"]), (4, events[3]["event_hash"]))
        rest = self.client.sync({"events": events[4:], "checkpoints": [signed(events, len(events))], "key": verifier})
        self.assertEqual((rest["length"], rest["appended"], rest["root"]), (len(events), len(events) - 4, trace_root(events)))
        self.assertEqual(self.client.trace(sid), events)
        # Another history of the same session, signed by the same key: refused.
        rewritten = copy.deepcopy(events)
        rewritten[2]["payload"]["note"] = "rewritten"
        rewritten = _rechained(rewritten, sid)
        with self.assertRaises(CraError) as caught:
            self.client.sync({"events": rewritten, "checkpoints": [signed(rewritten, len(rewritten))], "key": verifier})
        self.assertEqual((caught.exception.code, caught.exception.status), ("history_rewritten", 409))
        with self.assertRaises(CraError) as caught:
            self.client.sync({"events": []})
        self.assertCraError(caught.exception, "invalid_request", 400, "/events/0/session_id")


def _rechained(events, session_id):
    """The events as another session's (``session_id``), every hash recomputed: a valid chain recorded elsewhere."""
    out, previous = [], "0" * 64
    for e in events:
        e = {**e, "session_id": session_id, "previous_event_hash": previous}
        e["event_hash"] = event_hash(e)
        previous = e["event_hash"]
        out.append(e)
    return out


class ReadmeTest(unittest.TestCase):
    def test_quick_start_runs_as_written(self):
        readme = (PACKAGE_ROOT / "README.md").read_text(encoding="utf-8")
        blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
        self.assertTrue(blocks, "README.md has no python block")
        env = dict(os.environ, CRA_URL=URL, CRA_API_KEY=KEY, PYTHONPATH=str(PACKAGE_ROOT))
        run = subprocess.run([sys.executable, "-c", blocks[0]], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(
            run.stdout.splitlines(),
            [
                "partial",
                "executed",
                "pending_approval",
                "approved",
                "denied: the action is not part of this resolution",
                "session_ended 409",
                "trace valid: True",
            ],
        )


if __name__ == "__main__":
    unittest.main()
