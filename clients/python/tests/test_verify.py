"""The offline verifier (``cra_client.verify``): published vectors (RFC 8032 Ed25519, the RFC 6962/9162 Merkle tree,
the protocol's event hash), and agreement with the SDK's verifiers on real traces, checkpoints and receipts made by a
runtime that signs, as made and tampered with, and of the command line with ``cra verify`` on the same files. The
SDK's side runs in Node (``make_fixtures.mjs`` through ``tsx``); no server is needed.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
REPO = PACKAGE_ROOT.parent.parent
sys.path.insert(0, str(PACKAGE_ROOT))

from cra_client import ed25519, merkle  # noqa: E402
from cra_client.errors import CraError  # noqa: E402
from cra_client.note import NoteError, key_id, parse_note, parse_signer, parse_verifier, sign_note  # noqa: E402
from cra_client.verify import (  # noqa: E402
    canonical_json,
    event_hash,
    main,
    trace_root,
    verify_chain,
    verify_checkpoint,
    verify_receipt,
    verify_trace,
)

# RFC 8032 §7.1 TEST 1, 2, 3: secret key (seed), public key, message, signature.
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]

# The RFC 6962 test tree (also RFC 9162's): eight leaves and the root of each prefix.
MERKLE_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
MERKLE_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

L = ed25519.L


def leaves(n: int = 8):
    return [merkle.leaf_hash(bytes.fromhex(h)) for h in MERKLE_LEAVES[:n]]


class Ed25519Test(unittest.TestCase):
    def test_rfc8032_vectors(self):
        for seed, public, message, signature in RFC8032:
            with self.subTest(public=public[:8]):
                seed_b, msg = bytes.fromhex(seed), bytes.fromhex(message)
                self.assertEqual(ed25519.public_key(seed_b).hex(), public)
                self.assertEqual(ed25519.sign(seed_b, msg).hex(), signature)
                self.assertTrue(ed25519.verify(bytes.fromhex(public), bytes.fromhex(signature), msg))

    def test_refuses_what_is_not_the_signature(self):
        _, public, message, signature = RFC8032[2]
        pk, sig, msg = bytes.fromhex(public), bytes.fromhex(signature), bytes.fromhex(message)
        flip = lambda b, i: b[:i] + bytes([b[i] ^ 1]) + b[i + 1 :]  # noqa: E731
        self.assertFalse(ed25519.verify(pk, flip(sig, 0), msg))  # R
        self.assertFalse(ed25519.verify(pk, flip(sig, 40), msg))  # S
        self.assertFalse(ed25519.verify(pk, sig, flip(msg, 1)))
        self.assertFalse(ed25519.verify(pk, sig, msg + b"\x00"))
        self.assertFalse(ed25519.verify(bytes.fromhex(RFC8032[0][1]), sig, msg))  # another key
        self.assertFalse(ed25519.verify(pk, sig[:63], msg))
        self.assertFalse(ed25519.verify(pk[:31], sig, msg))
        # S + L satisfies the same equation; §5.1.7 refuses an S of L or more.
        s = int.from_bytes(sig[32:], "little") + L
        self.assertFalse(ed25519.verify(pk, sig[:32] + s.to_bytes(32, "little"), msg))

    def test_encodings_at_the_edge_of_the_rfc(self):
        # The identity point (x = 0, y = 1) and its trivial signature (R = identity, S = 0): the cofactorless
        # equation holds for any message; its non-canonical spellings (y = p + 1, a negative zero x) are refused.
        identity = bytes.fromhex("01" + "00" * 31)
        trivial = identity + bytes(32)
        self.assertTrue(ed25519.verify(identity, trivial, b"edge"))
        self.assertFalse(ed25519.verify(bytes.fromhex("ee" + "ff" * 30 + "7f"), trivial, b"edge"))
        self.assertFalse(ed25519.verify(bytes.fromhex("01" + "00" * 30 + "80"), trivial, b"edge"))
        self.assertFalse(ed25519.verify(bytes.fromhex("ec" + "ff" * 31), trivial, b"edge"))
        self.assertFalse(ed25519.verify(identity, bytes.fromhex("ee" + "ff" * 30 + "7f") + bytes(32), b"edge"))
        # (0, -1) has order 2: the trivial signature holds exactly when k is even, as it is for "edge 0".
        self.assertTrue(ed25519.verify(bytes.fromhex("ec" + "ff" * 30 + "7f"), trivial, b"edge 0"))
        # y = 2 is no curve point.
        self.assertIsNone(ed25519.decode_point(bytes([2]) + bytes(31)))


class MerkleTest(unittest.TestCase):
    def test_rfc_tree_roots(self):
        for n in range(1, 9):
            self.assertEqual(merkle.root(leaves(n)).hex(), MERKLE_ROOTS[n - 1])
        self.assertEqual(merkle.root([]).hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

    def test_rfc_proof_vectors(self):
        self.assertEqual(
            [h.hex() for h in merkle.inclusion_proof(leaves(), 0)],
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        )
        self.assertEqual(
            [h.hex() for h in merkle.consistency_proof(leaves(), 6)],
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        )
        self.assertEqual(
            [h.hex() for h in merkle.consistency_proof(leaves(5), 2)],
            ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e", "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
        )

    def test_every_inclusion_proof_verifies_and_no_altered_one_does(self):
        lv = leaves()
        for size in range(1, 9):
            r = merkle.root(lv[:size])
            for i in range(size):
                proof = merkle.inclusion_proof(lv[:size], i)
                self.assertTrue(merkle.verify_inclusion(lv[i], i, size, proof, r), (i, size))
                self.assertFalse(merkle.verify_inclusion(lv[(i + 1) % 8], i, size, proof, r) and size > 1)
                if i ^ 1 < size:  # the sibling's position: the same hashes in the other order
                    self.assertFalse(merkle.verify_inclusion(lv[i], i ^ 1, size, proof, r))
                self.assertFalse(merkle.verify_inclusion(lv[i], size, size, proof, r))
                self.assertFalse(merkle.verify_inclusion(lv[i], i, size, proof + [r], r))
                for j in range(len(proof)):
                    bad = list(proof)
                    bad[j] = bytes([bad[j][0] ^ 1]) + bad[j][1:]
                    self.assertFalse(merkle.verify_inclusion(lv[i], i, size, bad, r))

    def test_every_consistency_proof_verifies_and_no_altered_one_does(self):
        lv = leaves()
        for second in range(1, 9):
            r2 = merkle.root(lv[:second])
            for first in range(0, second + 1):
                r1 = merkle.root(lv[:first])
                proof = merkle.consistency_proof(lv[:second], first)
                self.assertTrue(merkle.verify_consistency(first, second, r1, r2, proof), (first, second))
                self.assertFalse(merkle.verify_consistency(second, first, r1, r2, proof) and first != second)
                if 0 < first < second:
                    self.assertFalse(merkle.verify_consistency(first, second, r2, r2, proof))
                    self.assertFalse(merkle.verify_consistency(first, second, r1, r1, proof))
                    for j in range(len(proof)):
                        bad = list(proof)
                        bad[j] = bytes([bad[j][0] ^ 1]) + bad[j][1:]
                        self.assertFalse(merkle.verify_consistency(first, second, r1, r2, bad), (first, second, j))
                    self.assertFalse(merkle.verify_consistency(first, second, r1, r2, proof[:-1]))


SPEC_EVENT = {
    "trace_version": "1.0",
    "event_id": "01234567-89ab-cdef-0123-456789abcdef",
    "trace_id": "11111111-1111-1111-1111-111111111111",
    "span_id": "22222222-2222-2222-2222-222222222222",
    "parent_span_id": None,
    "session_id": "33333333-3333-3333-3333-333333333333",
    "sequence": 0,
    "timestamp": "2024-12-28T12:00:00.000000Z",
    "event_type": "session.started",
    "payload": {"agent_id": "test-agent", "goal": "Test session"},
    "event_hash": "3d71a7b30f84fadf986955467af6cabdbd180a61de5b14f4582cd3cdfbe57d2e",
    "previous_event_hash": "0" * 64,
}


class CanonicalAndChainTest(unittest.TestCase):
    def test_protocol_vector(self):
        self.assertEqual(event_hash(SPEC_EVENT), SPEC_EVENT["event_hash"])
        self.assertEqual(verify_chain([SPEC_EVENT]), {"valid": True, "length": 1, "head_hash": SPEC_EVENT["event_hash"]})
        # The same instant stored with 0, 3 or 9 fraction digits, or +00:00, hashes alike.
        for ts in ("2024-12-28T12:00:00Z", "2024-12-28T12:00:00.000Z", "2024-12-28T12:00:00.000000000+00:00"):
            self.assertEqual(event_hash({**SPEC_EVENT, "timestamp": ts}), SPEC_EVENT["event_hash"], ts)
        for ts in ("2024-12-28T12:00:00.0Z", "2024-12-28 12:00:00Z", "2024-02-30T12:00:00Z", "2024-12-28T12:00:00+01:00"):
            self.assertEqual(verify_chain([{**SPEC_EVENT, "timestamp": ts}])["reason"], "malformed_event", ts)

    def test_reference_vectors_verify(self):
        for name, length in (("reference-simple-resolve", 5), ("reference-branch-simple-resolve", 8)):
            text = (REPO / "sdk" / "test" / "fixtures" / "vectors" / f"{name}.trace.jsonl").read_text(encoding="utf-8")
            text += "" if text.endswith("\n") else "\n"  # the reference runtime's exports end without it
            verdict = verify_chain(text)
            self.assertEqual((verdict["valid"], verdict["length"]), (True, length), name)

    def test_rfc8785(self):
        self.assertEqual(canonical_json({"b": [1, True, None], "a": "x", "c": {}}), '{"a":"x","b":[1,true,null],"c":{}}')
        self.assertEqual(canonical_json("\u20ac\"\\\n\x1f\x7f/"), '"\u20ac\\"\\\\\\n\\u001f\x7f/"')
        # Members sort by UTF-16 code units: U+1F600 (a surrogate pair, D83D) before U+FB33.
        self.assertEqual(canonical_json({"\ufb33": 1, "\U0001f600": 2, "\r": 3, "1": 4}), '{"\\r":3,"1":4,"\U0001f600":2,"\ufb33":1}')
        # RFC 8785 §3.2.2.3's number examples.
        for value, text in ((0.0, "0"), (-0.0, "0"), (1e21, "1e+21"), (1e-7, "1e-7"), (333333333.33333329, "333333333.3333333"),
                            (4.50, "4.5"), (2e-3, "0.002"), (0.000001, "0.000001"), (9007199254740992.0, "9007199254740992"),
                            (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308")):
            self.assertEqual(canonical_json(value), text, value)
        with self.assertRaises(ValueError):
            canonical_json(float("nan"))

    def test_chain_reasons(self):
        base = SPEC_EVENT
        self.assertEqual(verify_chain([{**base, "extra": 1}])["reason"], "malformed_event")
        self.assertEqual(verify_chain([{**base, "event_id": base["event_id"].upper()}])["reason"], "malformed_event")
        self.assertEqual(verify_chain([{**base, "sequence": True}])["reason"], "malformed_event")
        self.assertEqual(verify_chain([{**base, "event_type": "session.ended"}])["reason"], "bad_genesis")
        self.assertEqual(verify_chain([{**base, "payload": {"agent_id": "test-agent", "goal": "Test session!"}}])["reason"], "hash_mismatch")
        with self.assertRaises(CraError) as torn:
            verify_chain(json.dumps(base))
        self.assertEqual((torn.exception.code, torn.exception.path), ("invalid_json", "/jsonl"))
        with self.assertRaises(CraError):
            verify_chain('{"a":1,"a":2}\n')  # duplicate member names have no one meaning


def _run_node(args, stdin=None):
    return subprocess.run(
        ["node", "--import", "tsx", str(HERE / "make_fixtures.mjs"), *args],
        cwd=str(REPO),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout


def _flip_b64(text: str, byte: int) -> str:
    data = bytearray(base64.b64decode(text))
    data[byte] ^= 1
    return base64.b64encode(bytes(data)).decode()


def _sig_flipped(note: str, byte: int) -> str:
    head, _, line = note.rstrip("\n").rpartition("\n")
    prefix, _, blob = line.rpartition(" ")
    return f"{head}\n{prefix} {_flip_b64(blob, byte)}\n"


class AgreementWithTheSdkTest(unittest.TestCase):
    """Traces, checkpoints and receipts made by a signing runtime; the SDK's verdicts against this module's."""

    cases: dict = {}

    @classmethod
    def setUpClass(cls):
        if shutil.which("node") is None:
            raise unittest.SkipTest("node is not installed: the SDK side of the comparison cannot run")
        cls.tmp = tempfile.mkdtemp(prefix="cra-pyverify-")
        g = json.loads(_run_node(["generate", cls.tmp]))
        cls.g = g
        cls.text = Path(g["trace"]).read_text(encoding="utf-8")
        cls.lines = cls.text.splitlines(keepends=True)
        cls.events = [json.loads(line) for line in cls.lines]
        cls.notes = [json.loads(line) for line in Path(g["checkpoints"]).read_text(encoding="utf-8").splitlines()]
        cls.key, cls.other = g["verifier"], g["other_verifier"]
        seed = bytes(range(1, 33))
        public = ed25519.public_key(seed)
        cls.local_signer = f"PRIVATE+KEY+py.example+{key_id('py.example', public).hex()}+" + base64.b64encode(b"\x01" + seed).decode()
        cls.local_verifier = parse_signer(cls.local_signer)[0].text
        cls.build_cases()
        names = list(cls.cases)
        answers = json.loads(_run_node(["judge"], json.dumps([cls.cases[n] for n in names])))
        cls.sdk = dict(zip(names, answers))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(getattr(cls, "tmp", ""), ignore_errors=True)

    # ---- the cases, judged by the SDK in one run ----

    @classmethod
    def trace_variants(cls):
        ev, lines = cls.events, cls.lines
        dump = lambda events: "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in events)  # noqa: E731
        edited = copy.deepcopy(ev)
        edited[4]["payload"]["token_count"] = edited[4]["payload"].get("token_count", 0) + 1
        relinked = copy.deepcopy(ev)
        relinked[6]["previous_event_hash"] = "f" * 64
        other_session = copy.deepcopy(ev)
        other_session[3]["session_id"] = "00000000-0000-4000-8000-000000000000"
        upper = copy.deepcopy(ev)
        upper[2]["span_id"] = upper[2]["span_id"].upper()
        genesis = copy.deepcopy(ev)
        genesis[0]["event_type"] = "error.occurred"
        floaty = copy.deepcopy(ev)
        floaty[5]["payload"]["weight"] = 0.1
        # Payloads outside the runtime's own rule (floats, any keys, any text), the chain rehashed from there by
        # this module: the SDK accepts them only if its canonical JSON is byte for byte this module's.
        exotic = copy.deepcopy(ev)
        exotic[5]["payload"].update(
            {"weight": 0.1, "big": 1e21, "small": 1.5e-7, "whole": 2.0, "neg": -0.0, "huge": 1.7976931348623157e308,
             "text": "\u00e9\u20ac\U0001f600\u0001\u001f\"\\/\u2028", "Z": 1, "a b": [], "\u00e9": {}, "\U0001f600": 2, "\ufb33": 3}
        )
        for i in range(5, len(exotic)):
            if i > 5:
                exotic[i]["previous_event_hash"] = exotic[i - 1]["event_hash"]
            exotic[i]["event_hash"] = event_hash(exotic[i])
        return {
            "as stored": cls.text,
            "exotic payloads, rehashed": dump(exotic),
            "an edited payload": dump(edited),
            "a broken link": dump(relinked),
            "another session's event": dump(other_session),
            "an uppercase uuid": dump(upper),
            "a genesis of the wrong type": dump(genesis),
            "a float in a payload": dump(floaty),
            "a line deleted": "".join(lines[:7] + lines[8:]),
            "a line written twice": "".join(lines[:7] + [lines[6]] + lines[7:]),
            "two lines swapped": "".join(lines[:7] + [lines[8], lines[7]] + lines[9:]),
            "a cut tail": "".join(lines[:10]),
            "a torn last line": cls.text[:-1],
            "the first line missing": "".join(lines[1:]),
            "empty": "",
        }

    @classmethod
    def checkpoint_variants(cls):
        note = cls.notes[-1]
        return {
            "as stored": (note, [cls.key]),
            "a forged signature byte": (_sig_flipped(note, 20), [cls.key]),
            "a forged key id byte": (_sig_flipped(note, 0), [cls.key]),
            "a wrong key": (note, [cls.other]),
            "the right key among others": (note, [cls.other, cls.key]),
            "an edited size": (note.replace("\n15\n", "\n14\n", 1), [cls.key]),
            "an edited root": (note.replace(note.split("\n")[2], _flip_b64(note.split("\n")[2], 5), 1), [cls.key]),
            "no trailing newline": (note[:-1], [cls.key]),
            "an empty line after the signature": (note + "\n", [cls.key]),
            "no blank line": (note.replace("\n\n", "\n", 1), [cls.key]),
            "a size with a leading zero": (note.replace("\n15\n", "\n015\n", 1), [cls.key]),
            "a second time line": (note.replace("\n\n", "\ntime 2026-01-01T00:00:00.000000Z\n\n", 1), [cls.key]),
            "an extension line": (note.replace("\n\n", "\nx-ext something\n\n", 1), [cls.key]),
            "no signature": (note.split("\n\n")[0] + "\n\n", [cls.key]),
            "signed here with a key made here": (sign_note(note.split("\n\n")[0] + "\n", cls.local_signer), [cls.local_verifier]),
        }

    @classmethod
    def receipt_variants(cls):
        out = {}
        for n, (execution, receipt) in enumerate(cls.g["receipts"].items()):
            out[f"execution {n} as built"] = receipt
        receipt = cls.g["receipts"][cls.g["executions"][1]]
        flipped = copy.deepcopy(receipt)
        h = flipped["entries"][0]["proof"][0]
        flipped["entries"][0]["proof"][0] = ("0" if h[0] != "0" else "1") + h[1:]
        out["a proof hash flipped"] = flipped
        edited = copy.deepcopy(receipt)
        edited["entries"][1]["event"]["payload"]["approver"] = "mallory@example.com"
        out["an edited event"] = edited
        forged = copy.deepcopy(receipt)
        forged["checkpoint"] = _sig_flipped(forged["checkpoint"], 30)
        out["a forged signature byte"] = forged
        moved = copy.deepcopy(receipt)
        moved["entries"][0]["index"] += 1
        out["an index moved"] = moved
        other_exec = copy.deepcopy(receipt)
        other_exec["execution_id"] = cls.g["executions"][0]
        out["another execution's id"] = other_exec
        dropped = copy.deepcopy(receipt)
        dropped["entries"][0]["proof"] = dropped["entries"][0]["proof"][:-1]
        out["a proof hash dropped"] = dropped
        older = copy.deepcopy(receipt)
        older["checkpoint"] = cls.notes[0]  # an older tree: the proofs were made for another size
        out["an older checkpoint"] = older
        return out

    @classmethod
    def build_cases(cls):
        cls.traces, cls.checkpoint_cases, cls.receipts = cls.trace_variants(), cls.checkpoint_variants(), cls.receipt_variants()
        for name, text in cls.traces.items():
            cls.cases[f"trace: {name}"] = {"kind": "trace", "text": text}
        for name, (note, keys) in cls.checkpoint_cases.items():
            cls.cases[f"checkpoint: {name}"] = {"kind": "checkpoint", "note": note, "keys": keys}
        for name, receipt in cls.receipts.items():
            cls.cases[f"receipt: {name}"] = {"kind": "receipt", "receipt": receipt, "keys": [cls.key]}
            cls.cases[f"receipt, wrong key: {name}"] = {"kind": "receipt", "receipt": receipt, "keys": [cls.other]}
        for note in cls.notes:
            size = parse_note(note).size
            cls.cases[f"tree: {size}"] = {"kind": "tree", "text": cls.text, "size": size}
            cls.cases[f"cut tree: {size}"] = {"kind": "tree", "text": cls.traces["a cut tail"], "size": size}
        rng = random.Random(8785)
        doubles = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(3000)]
        doubles = [d for d in doubles if d == d and abs(d) != float("inf")]
        doubles += [rng.uniform(-1e6, 1e6) for _ in range(1000)] + [rng.randint(1, 10**6) / 10**rng.randint(1, 12) for _ in range(1000)]
        cls.doubles = doubles
        cls.cases["numbers"] = {"kind": "numbers", "values": doubles}
        cls.command_lines = cls.command_line_scenarios()
        for name, argv in cls.command_lines.items():
            cls.cases[f"cli: {name}"] = {"kind": "cli", "argv": ["verify", *argv]}
            cls.cases[f"cli json: {name}"] = {"kind": "cli", "argv": ["verify", *argv, "--json"]}

    @classmethod
    def command_line_scenarios(cls):
        """Files laid out as a data folder keeps them (``<id>.trace.jsonl``, ``<id>.checkpoints.jsonl`` beside it) or
        named by option, and the arguments of ``cra verify`` (the same as this module's command line)."""
        sid, root = cls.g["session_id"], Path(cls.tmp, "cli")
        stored = Path(cls.g["checkpoints"]).read_text(encoding="utf-8")
        as_lines = lambda notes: "".join(json.dumps(n, ensure_ascii=False) + "\n" for n in notes)  # noqa: E731
        body = cls.notes[0].split("\n\n")[0] + "\n"
        elsewhere = sign_note(body.replace(sid, "00000000-0000-4000-8000-000000000000", 1), cls.g["signer"])
        keyfile = Path(cls.tmp, "verifier.pub")
        keyfile.write_text(f"# the log's key\n\n{cls.key}\n", encoding="utf-8")

        def lay_out(name, trace, checkpoints=None, beside=True):
            d = root / name.replace(" ", "-").replace("'", "")
            d.mkdir(parents=True)
            trace_file = d / (f"{sid}.trace.jsonl" if beside else "trace.jsonl")
            trace_file.write_text(trace, encoding="utf-8")
            if checkpoints is None:
                return str(trace_file), None
            cp_file = d / (f"{sid}.checkpoints.jsonl" if beside else "checkpoints.jsonl")
            cp_file.write_text(checkpoints, encoding="utf-8")
            return str(trace_file), str(cp_file)

        out = {}
        for name, trace, checkpoints, keys in (
            ("beside, with the key", cls.text, stored, [cls.key]),
            ("beside, no key", cls.text, stored, []),
            ("beside, a key file", cls.text, stored, [str(keyfile)]),
            ("beside, the right key among others", cls.text, stored, [cls.other, cls.key]),
            ("a key, no checkpoint", cls.text, None, [cls.key]),
            ("a cut tail", cls.traces["a cut tail"], stored, [cls.key]),
            ("a cut tail, no key", cls.traces["a cut tail"], stored, []),
            ("a wrong key", cls.text, stored, [cls.other]),
            ("a forged signature", cls.text, as_lines([cls.notes[0], _sig_flipped(cls.notes[1], 9), *cls.notes[2:]]), [cls.key]),
            ("a malformed checkpoint", cls.text, as_lines([cls.notes[0], "not a note\n", *cls.notes[2:]]), [cls.key]),
            ("another session's checkpoint", cls.text, as_lines([elsewhere, *cls.notes]), [cls.key]),
            ("rewritten events", cls.traces["exotic payloads, rehashed"], stored, [cls.key]),
            ("an edited event", cls.traces["an edited payload"], stored, [cls.key]),
            ("a torn last checkpoint line", cls.text, stored + json.dumps(cls.notes[-1])[:40], [cls.key]),
            ("an empty trace", "", None, []),
        ):
            trace_file, _ = lay_out(name, trace, checkpoints)
            out[name] = [trace_file, *[a for k in keys for a in ("--key", k)]]
        trace_file, cp_file = lay_out("by option", cls.text, stored, beside=False)
        out["by option"] = [trace_file, "--checkpoint", cp_file, "--key", cls.key]
        trace_file, cp_file = lay_out("by option, one note", cls.traces["a cut tail"], cls.notes[0], beside=False)
        out["by option, one note"] = [trace_file, "--checkpoint", cp_file, "--key", cls.key]
        trace_file, _ = lay_out("by name, not beside", cls.text, stored, beside=False)
        out["a key, no checkpoint beside"] = [trace_file, "--key", cls.key]
        return out

    # ---- the comparisons ----

    def test_checkpoints_as_listed_and_notes_with_blank_lines_after_them(self):
        from cra_client.verify import read_checkpoints, verify_checkpoint, verify_trace

        newest = self.notes[-1]
        listed = [{"note": n, "session_id": "s", "size": 0} for n in self.notes]
        self.assertTrue(verify_checkpoint(listed[-1], self.key)["valid"])
        self.assertTrue(verify_trace(self.text, listed, [self.key])["valid"])
        # `jq -r … > file` (one newline more) and an editor's blank lines are not part of the note.
        for text in (newest + "\n", newest + "\n\n\n"):
            self.assertEqual(read_checkpoints(text), [newest])
        for text in (json.dumps(listed), json.dumps({"items": listed}), json.dumps(listed[-1])):
            self.assertEqual(read_checkpoints(text), self.notes if text.startswith("[") or '"items"' in text else [newest])

    def test_the_fixture_is_what_it_claims(self):
        self.assertGreaterEqual(len(self.events), 12)
        self.assertGreaterEqual(len(self.notes), 2)
        self.assertEqual(len(self.g["receipts"]), 3)

    def test_chain_verdicts_agree(self):
        for name, text in self.traces.items():
            with self.subTest(trace=name):
                sdk = self.sdk[f"trace: {name}"]
                try:
                    mine = verify_chain(text)
                except CraError as err:
                    self.assertEqual(sdk.get("error"), err.code, sdk)
                    continue
                keep = ("valid", "length", "head_hash", "index", "reason", "detail")
                self.assertEqual({k: mine[k] for k in keep if k in mine}, {k: sdk[k] for k in keep if k in sdk})
        self.assertTrue(self.sdk["trace: as stored"]["valid"])
        self.assertEqual(self.sdk["trace: an edited payload"]["reason"], "hash_mismatch")

    def test_checkpoint_verdicts_agree(self):
        for name, (note, keys) in self.checkpoint_cases.items():
            with self.subTest(checkpoint=name):
                sdk, mine = self.sdk[f"checkpoint: {name}"], verify_checkpoint(note, keys)
                if sdk["valid"]:
                    self.assertEqual(mine, {k: sdk[k] for k in ("valid", "origin", "session_id", "size", "root", "time", "key")})
                else:
                    self.assertEqual((mine["valid"], mine["reason"]), (False, sdk["reason"]), (mine, sdk))
        self.assertTrue(self.sdk["checkpoint: as stored"]["valid"])

    def test_every_stored_checkpoint_fixes_the_trace_tree(self):
        for note in self.notes:
            n = parse_note(note)
            sdk = self.sdk[f"tree: {n.size}"]
            self.assertEqual(trace_root(self.events, n.size), sdk["root"])
            self.assertEqual(n.root.hex(), sdk["root"])
            self.assertTrue(verify_checkpoint(note, self.key)["valid"])

    def test_signing_here_reproduces_the_runtime_signature(self):
        # Ed25519 is deterministic: the runtime's signer key, read and used here, signs each stored body to the
        # stored note byte for byte; the verifier key derived here is the runtime's.
        verifier, _ = parse_signer(self.g["signer"])
        self.assertEqual(verifier.text, self.key)
        for note in self.notes:
            self.assertEqual(sign_note(note.split("\n\n")[0] + "\n", self.g["signer"]), note)

    def test_trace_with_its_checkpoints(self):
        verdict = verify_trace(self.text, self.notes, [self.key])
        self.assertTrue(verdict["valid"], verdict)
        self.assertEqual([c["size"] for c in verdict["checkpoints"]], [parse_note(n).size for n in self.notes])
        self.assertEqual(verdict["root"], self.sdk[f"tree: {len(self.events)}"]["root"])
        # A cut tail still chains; its checkpoints show the cut. The SDK refuses the tree of the cut trace at the
        # checkpoint's size, so both call it invalid.
        cut = self.traces["a cut tail"]
        self.assertTrue(verify_chain(cut)["valid"])
        self.assertTrue(self.sdk["trace: a cut tail"]["valid"])
        refused = verify_trace(cut, self.notes, [self.key])
        first_beyond = next(i + 1 for i, n in enumerate(self.notes) if parse_note(n).size > 10)
        self.assertEqual((refused["valid"], refused["reason"], refused["checkpoint"]), (False, "trace_truncated", first_beyond))
        for note in self.notes:
            size = parse_note(note).size
            sdk = self.sdk[f"cut tree: {size}"]
            if size > 10:
                self.assertIn("error", sdk)
            else:
                self.assertEqual(sdk["root"], parse_note(note).root.hex())
        # An edited event breaks the chain before any checkpoint is read; a wrong key or a forged signature refuses.
        self.assertEqual(verify_trace(self.traces["an edited payload"], self.notes, [self.key])["reason"], "hash_mismatch")
        self.assertEqual(verify_trace(self.text, self.notes, [self.other])["reason"], "unknown_key")
        self.assertEqual(verify_trace(self.text, [_sig_flipped(self.notes[0], 9)], [self.key])["reason"], "bad_signature")
        # Events rewritten and rehashed from the sixth on still chain; the first checkpoint past them shows it.
        rewritten = verify_trace(self.traces["exotic payloads, rehashed"], self.notes, [self.key])
        first_after = next(i + 1 for i, n in enumerate(self.notes) if parse_note(n).size > 5)
        self.assertEqual((rewritten["reason"], rewritten["checkpoint"]), ("root_mismatch", first_after))
        # Without keys, everything but the signatures is checked, and the verdict says so.
        unsigned = verify_trace(self.text, self.notes, None)
        self.assertEqual((unsigned["valid"], unsigned["signatures_checked"], unsigned["newest"]["key"]), (True, False, None))
        self.assertEqual(verify_trace(cut, self.notes, None)["reason"], "trace_truncated")
        with self.assertRaises(CraError):
            verify_trace(self.text, self.notes, [])

    def test_receipt_verdicts_agree(self):
        for name, receipt in self.receipts.items():
            for label, keys in (("receipt", [self.key]), ("receipt, wrong key", [self.other])):
                with self.subTest(receipt=name, keys=label):
                    sdk, mine = self.sdk[f"{label}: {name}"], verify_receipt(receipt, keys)
                    if sdk["valid"]:
                        self.assertEqual(mine, {k: sdk[k] for k in mine})
                        self.assertEqual(set(mine), set(sdk))
                    else:
                        self.assertEqual((mine["valid"], mine["reason"], mine["path"]), (False, sdk["reason"], sdk.get("path")), (mine, sdk))
        self.assertEqual(self.sdk["receipt: a proof hash flipped"]["reason"], "proof_invalid")

    def test_numbers_format_as_ecmascript_does(self):
        self.assertEqual([canonical_json(d) for d in self.doubles], self.sdk["numbers"])

    def test_command_line_agrees_with_cra_verify(self):
        # The same files and arguments through `cra verify` and this module's command line: the same exit code,
        # verdict, reason, checkpoint number and counts; the same line where the message is not an implementation's own.
        self.assertGreaterEqual(len(self.command_lines), 15)
        for name, argv in self.command_lines.items():
            with self.subTest(scenario=name):
                sdk, sdk_json = self.sdk[f"cli: {name}"], self.sdk[f"cli json: {name}"]
                code, out, err = self._cli(argv, split=True)
                self.assertEqual(code, sdk["code"], (out, err, sdk))
                json_code, json_out, _ = self._cli([*argv, "--json"], split=True)
                self.assertEqual(json_code, sdk_json["code"])
                if not sdk_json["stdout"]:
                    self.assertEqual(json_out, "")
                    self.assertIn("--key is given but there is no checkpoint", err)
                    self.assertIn("--key is given but there is no checkpoint", sdk["stderr"])
                    continue
                mine, theirs = json.loads(json_out), json.loads(sdk_json["stdout"])
                keep = ("file", "valid", "index", "reason", "detail", "checkpoint", "size", "length", "head_hash")
                self.assertEqual({k: mine.get(k) for k in keep}, {k: theirs.get(k) for k in keep})
                if "checkpoints" in theirs:
                    self.assertEqual(mine["checkpoints"], theirs["checkpoints"])
                if theirs.get("valid"):
                    self.assertEqual(mine["warnings"], theirs["warnings"])
                self.assertEqual(out.count("\n"), 1)
                if sdk["stdout"] != out:  # the message is each implementation's own: the frame and the code agree
                    frame = re.compile(r"^(INVALID [^:]*):.* \(([a-z_, ]+)\)\n$", re.S)
                    a, b = frame.match(out), frame.match(sdk["stdout"])
                    self.assertTrue(a and b, (out, sdk["stdout"]))
                    self.assertEqual(a.groups(), b.groups())
                beside = re.search(r"checking the checkpoints in (\S+)", sdk["stderr"])
                self.assertEqual(re.search(r"checking the checkpoints in (\S+)", err).group(1) if beside else None, beside and beside.group(1))
        # What the scenarios are, as both read them.
        beyond = lambda n: next(i + 1 for i, note in enumerate(self.notes) if parse_note(note).size > n)  # noqa: E731
        expect = {
            "beside, with the key": (0, None, None),
            "beside, no key": (0, None, None),
            "a key, no checkpoint": (1, None, None),
            "a key, no checkpoint beside": (1, None, None),
            "a cut tail": (1, "trace_truncated", beyond(10)),
            "a cut tail, no key": (1, "trace_truncated", beyond(10)),
            "a wrong key": (1, "unknown_key", 1),
            "a forged signature": (1, "bad_signature", 2),
            "a malformed checkpoint": (1, "checkpoint_malformed", 2),
            "another session's checkpoint": (1, "wrong_session", 1),
            "rewritten events": (1, "root_mismatch", beyond(5)),
            "by option, one note": (0, None, None),
        }
        for name, (code, reason, number) in expect.items():
            verdict = json.loads(self.sdk[f"cli json: {name}"]["stdout"] or "{}")
            self.assertEqual((self.sdk[f"cli: {name}"]["code"], verdict.get("reason"), verdict.get("checkpoint")), (code, reason, number), name)
        self.assertIn("signatures not checked (no --key)", self.sdk["cli: beside, no key"]["stdout"])

    def test_command_line(self):
        key = self.key
        argv = self.command_lines["beside, with the key"]
        code, out, err = self._cli(argv, split=True)
        self.assertEqual(code, 0, out + err)
        self.assertEqual(out, f"valid: {len(self.events)} events, head {self.events[-1]['event_hash']}; checkpoints: {len(self.notes)} verified "
                         f"(newest: size {len(self.events)}, key {'+'.join(key.split('+')[:2])})\n")
        self.assertIn(f"checking the checkpoints in {argv[0][: -len('.trace.jsonl')]}.checkpoints.jsonl (beside the trace", err)
        code, out, err = self._cli(self.command_lines["a key, no checkpoint"], split=True)
        self.assertEqual((code, out), (1, ""))
        self.assertIn("--key is given but there is no checkpoint to check", err)
        code, out, _ = self._cli(self.command_lines["a cut tail"], split=True)
        self.assertEqual(code, 1, out)
        n = next(i for i, note in enumerate(self.notes) if parse_note(note).size > 10)
        self.assertRegex(out, rf"^INVALID checkpoint {n + 1} of {len(self.notes)} \(.*\): it covers {parse_note(self.notes[n]).size} events, the trace "
                              r"holds 10: events were cut from the trace's end \(trace_truncated\)\n$")
        with tempfile.TemporaryDirectory() as d:
            edited = Path(d, "edited.trace.jsonl")
            edited.write_text(self.traces["an edited payload"], encoding="utf-8")
            code, out = self._cli([str(edited)])
            self.assertEqual((code, out.startswith("INVALID at event 4: "), out.rstrip().endswith("(hash_mismatch)")), (1, True, True), out)
            code, out = self._cli([str(Path(d, "missing.trace.jsonl"))])
            self.assertEqual(code, 1, out)
            self.assertIn("cannot read", out)
            self.assertEqual(self._cli([str(edited), "--key", "nonsense"])[0], 2)
            self.assertEqual(self._cli([str(edited), "--key", self.g["signer"]])[0], 2)  # a signer key must stay secret
            receipt = Path(d, "r.json")
            receipt.write_text(json.dumps(self.receipts["execution 1 as built"]), encoding="utf-8")
            keyfile = Path(d, "key.pub")
            keyfile.write_text(key + "\n", encoding="utf-8")
            code, out = self._cli(["--receipt", str(receipt), "--key", str(keyfile)])
            self.assertEqual(code, 0, out)
            self.assertTrue(out.startswith(f"valid receipt: execution {self.g['executions'][1]}, 3 events, checkpoint size "), out)
            code, out = self._cli(["--receipt", str(receipt), "--key", self.other])
            self.assertEqual(code, 1, out)
            self.assertTrue(out.startswith("INVALID receipt: ") and out.rstrip().endswith("(unknown_key at /checkpoint)"), out)
            receipt.write_text(json.dumps(self.receipts["a proof hash flipped"]), encoding="utf-8")
            code, out = self._cli(["--receipt", str(receipt), "--key", key])
            self.assertEqual(code, 1, out)
            self.assertIn("(proof_invalid at /entries/0/proof)", out)
            self.assertEqual(self._cli(["--receipt", str(receipt)])[0], 2)
        # As a module, in a fresh interpreter.
        run = subprocess.run([sys.executable, "-m", "cra_client.verify", *argv], cwd=str(PACKAGE_ROOT), capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)

    def test_a_reader_that_goes_away_ends_nothing_in_a_traceback(self):
        # `… --json | head -c 1`: the reader is gone before the verdict is written; the run ends quietly, with the
        # verdict's exit code.
        for name, want in (("beside, with the key", 0), ("a cut tail", 1)):
            argv = self.command_lines[name]
            proc = subprocess.Popen([sys.executable, "-m", "cra_client.verify", *argv, "--json"], cwd=str(PACKAGE_ROOT),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            proc.stdout.close()  # no reader left: the verdict's write meets a broken pipe
            err = proc.stderr.read().decode()
            proc.stderr.close()
            code = proc.wait(timeout=120)
            self.assertNotIn("Traceback", err)
            self.assertNotIn("BrokenPipeError", err)
            self.assertEqual(code, want, err)

    def _cli(self, argv, split=False):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exit:  # a usage error
                code = exit.code
        return (code, out.getvalue(), err.getvalue()) if split else (code, out.getvalue() + err.getvalue())


class KeysAndNotesTest(unittest.TestCase):
    SEED = bytes(range(32))

    def signer(self, name="cra.example"):
        public = ed25519.public_key(self.SEED)
        kid = key_id(name, public)
        return f"PRIVATE+KEY+{name}+{kid.hex()}+" + base64.b64encode(b"\x01" + self.SEED).decode()

    def test_sign_and_verify_a_checkpoint(self):
        signer = self.signer()
        verifier, _ = parse_signer(signer)
        self.assertEqual(parse_verifier(verifier.text), verifier)
        body = "cra.example/01234567-89ab-cdef-0123-456789abcdef\n8\n" + base64.b64encode(bytes.fromhex(MERKLE_ROOTS[7])).decode() + "\ntime 2026-01-02T03:04:05.123456Z\n"
        note = sign_note(body, signer)
        verdict = verify_checkpoint(note, verifier.text)
        self.assertEqual(verdict["root"], MERKLE_ROOTS[7])
        self.assertEqual((verdict["valid"], verdict["size"], verdict["session_id"]), (True, 8, "01234567-89ab-cdef-0123-456789abcdef"))

    def test_key_strings_are_read_strictly(self):
        verifier, _ = parse_signer(self.signer())
        name, kid, blob = verifier.text.split("+", 2)
        with self.assertRaises(NoteError):
            parse_verifier(f"{name}+{'0' * 8}+{blob}")  # an id that is not the key's
        with self.assertRaises(NoteError):
            parse_verifier(f"{name}+{kid}+{blob[:-1]}")
        with self.assertRaises(NoteError):
            parse_verifier(f"a b+{kid}+{blob}")
        with self.assertRaises(CraError) as bad:
            verify_checkpoint("x\n", ["nonsense"])
        self.assertEqual((bad.exception.code, bad.exception.path), ("invalid_request", "/keys/0"))


if __name__ == "__main__":
    unittest.main()
