"""A witness on another machine: `datacommons audit witness` against the running server verifies each
checkpoint and its consistency with the last one it saw, cosigns it, and fails when the log is
rewritten behind its back — even with every hash recomputed."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from datacommons.config import Settings
from tests.reliability.server import Server
from tests.support.cli import run_cli
from tests.transparency.test_tamper import append, raw, rewrite_history


@pytest.fixture
def server(settings: Settings):  # type: ignore[no-untyped-def]
    running = Server(settings).start()
    try:
        yield running
    finally:
        running.stop()


def witness(settings: Settings, url: str, state: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli(
        settings, "audit", "witness", url, "--state", str(state), "--name", "uni.example/w1", *extra
    )


def check_cosignature(note: str, state: Path) -> None:
    """Verify the witness's cosignature line from its published verifier key alone (C2SP
    tlog-cosignature: key ID || big-endian u64 time || Ed25519 over "cosignature/v1", the time and the
    checkpoint body)."""
    name, kid_hex, encoded = (state / "witness.vkey").read_text().strip().split("+", 2)
    raw_key = base64.b64decode(encoded)
    assert (
        raw_key[0] == 0x04 and hashlib.sha256(name.encode() + b"\n" + raw_key).digest()[:4].hex() == kid_hex
    )
    body, signatures = note.split("\n\n", 1)
    mine = [line for line in signatures.strip().split("\n") if line.split(" ")[1] == name]
    assert len(mine) == 1
    blob = base64.b64decode(mine[0].split(" ")[2])
    assert blob[:4].hex() == kid_hex
    at = int.from_bytes(blob[4:12], "big")
    message = f"cosignature/v1\ntime {at}\n{body}\n".encode()
    Ed25519PublicKey.from_public_bytes(raw_key[1:]).verify(blob[12:], message)


def test_a_witness_follows_the_log_and_catches_a_rewrite(  # type: ignore[no-untyped-def]
    settings: Settings, sessions, server, tmp_path: Path
) -> None:
    state = tmp_path / "witness"
    append(sessions, 3)
    first = witness(settings, server.url, state)
    assert first.returncode == 2 and "first run: give the log's verifier key with --key" in first.stderr
    vkey = httpx.get(f"{server.url}/api/v1/transparency/key").text.strip()
    seen = witness(settings, server.url, state, "--key", vkey)
    assert seen.returncode == 0, seen.stderr
    assert "3 entries, first checkpoint" in seen.stderr
    check_cosignature(seen.stdout, state)
    assert (state / "witness.key").stat().st_mode & 0o777 == 0o600

    append(sessions, 4, start=3)
    again = witness(settings, server.url, state)
    assert again.returncode == 0, again.stderr
    assert "7 entries, consistent with 3" in again.stderr
    check_cosignature(again.stdout, state)

    rewrite_history(sessions)  # every chain hash and tree node recomputed
    append(sessions, 1, start=7)
    caught = witness(settings, server.url, state)
    assert caught.returncode == 1
    assert "does not extend the one of 7 this witness saw: history was rewritten" in caught.stderr

    raw(settings, "DELETE FROM transparency_log WHERE id > 2", "UPDATE transparency_head SET seq = 2")
    shrunk = witness(settings, server.url, state)
    assert shrunk.returncode == 1 and "the log shrank from 7 to 2 entries" in shrunk.stderr
