"""The log accepts and serves witnesses' cosignatures: `audit witness --submit` sends the cosigned
checkpoint, the server keeps it only from a witness its operator listed, and serves it with the
checkpoint it signs; forged or foreign cosignatures are refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent import tlog, witness
from datacommons.config import Settings
from tests.reliability.server import Server
from tests.support.cli import run_cli
from tests.transparency.test_tamper import append
from tests.transparency.test_witness import check_cosignature

NAME = "uni.example/w1"


def run_witness(settings: Settings, url: str, state: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli(settings, "audit", "witness", url, "--state", str(state), "--name", NAME, *extra)


def test_a_listed_witness_cosignature_is_kept_and_served(  # type: ignore[no-untyped-def]
    settings: Settings, sessions, tmp_path: Path
) -> None:
    state = tmp_path / "witness"
    append(sessions, 3)
    server = Server(settings).start()
    try:
        vkey = httpx.get(f"{server.url}/api/v1/transparency/key").text.strip()
        refused = run_witness(settings, server.url, state, "--key", vkey, "--submit")
        # the witness verified and cosigned, but this log does not know it yet
        assert refused.returncode == 2, refused.stderr
        assert "the log refused the cosignature (403)" in refused.stderr
        assert httpx.get(f"{server.url}/api/v1/transparency/checkpoint/cosigned").status_code == 404
    finally:
        server.stop()
    witness_vkey = (state / "witness.vkey").read_text().strip()
    server = Server(settings, env={"DATACOMMONS_WITNESS_KEYS": json.dumps([witness_vkey])}).start()
    try:
        kept = run_witness(settings, server.url, state, "--submit")
        assert kept.returncode == 0, kept.stderr
        assert "cosignature of 3 entries kept by the log" in kept.stderr
        served = httpx.get(f"{server.url}/api/v1/transparency/checkpoint").text
        check_cosignature(served, state)  # verified from the witness's published key alone
        assert tlog.verify_checkpoint(served, vkey).size == 3  # and still the log's own signature

        append(sessions, 2, start=3)  # the log moves on; the cosigned checkpoint stays available
        latest = httpx.get(f"{server.url}/api/v1/transparency/checkpoint").text
        assert NAME not in latest and tlog.verify_checkpoint(latest, vkey).size == 5
        cosigned = httpx.get(f"{server.url}/api/v1/transparency/checkpoint/cosigned").text
        assert cosigned == served

        api = f"{server.url}/api/v1/transparency/cosignature"
        checkpoint = tlog.verify_checkpoint(latest, vkey)
        # a cosignature by another key under the listed witness's name
        impostor = witness.cosign(checkpoint, Ed25519PrivateKey.generate(), NAME, 1_800_000_000)
        answer = httpx.post(api, content=latest + impostor + "\n")
        assert answer.status_code == 409 and "is not by the key" in answer.json()["error"]
        # a checkpoint the log never signed: another root of the same size
        body = tlog.checkpoint_text(checkpoint.origin, 5, bytes(32))
        forged = body + "\n" + "".join(s + "\n" for s in checkpoint.signatures)
        answer = httpx.post(api, content=forged)
        assert answer.status_code == 409 and "does not verify" in answer.json()["error"]
        # an unlisted witness
        stranger = witness.cosign(checkpoint, Ed25519PrivateKey.generate(), "other.example/w", 1)
        answer = httpx.post(api, content=latest + stranger + "\n")
        assert answer.status_code == 403
        # not a note at all
        answer = httpx.post(api, content=base64.b64encode(b"x" * 64))
        assert answer.status_code == 422
        # nothing refused was kept
        assert httpx.get(f"{server.url}/api/v1/transparency/checkpoint/cosigned").text == served
    finally:
        server.stop()
