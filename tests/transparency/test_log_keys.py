"""The log's key is published in the JWKS as well as a C2SP verifier key, and is rotated like the
receipt keys: a new key signs beside the old one until the old is retired, what an old key signed
still verifies, a secret rotation does not change the key, and a log key never passes for a receipt
key."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from jwcrypto import jwk, jws
from pydantic import SecretStr

from consent import tlog
from datacommons.app import create_app
from datacommons.config import Settings
from tests.support.cli import run_cli
from tests.transparency.test_tamper import append


def b64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return str(result.stdout)


def test_the_log_key_is_in_the_jwks_and_verifies_checkpoints(client: TestClient, sessions) -> None:  # type: ignore[no-untyped-def]
    append(sessions, 2)
    note = client.get("/api/v1/transparency/checkpoint").text
    [log_jwk] = [
        k for k in client.get("/.well-known/jwks.json").json()["keys"] if k["kid"].startswith("tlog-")
    ]
    assert (log_jwk["kty"], log_jwk["crv"], log_jwk["use"]) == ("OKP", "Ed25519", "sig")
    # the note's signature, checked with the JWK's public key alone (cryptography, not project code)
    body, signatures = note.split("\n\n", 1)
    blob = base64.b64decode(signatures.split("\n")[0].split(" ")[2])
    Ed25519PublicKey.from_public_bytes(b64url(log_jwk["x"])).verify(blob[4:], (body + "\n").encode())
    vkey = client.get("/api/v1/transparency/key").text.strip()
    assert base64.b64decode(vkey.split("+")[2])[1:] == b64url(log_jwk["x"])
    [listed] = client.get("/api/v1/transparency/keys").json()
    assert (listed["kid"], listed["verifier_key"], listed["signing"]) == (log_jwk["kid"], vkey, True)


def test_a_rotated_key_signs_beside_the_old_one_until_it_is_retired(  # type: ignore[no-untyped-def]
    client: TestClient, sessions, settings: Settings, tmp_path: Path
) -> None:
    append(sessions, 2)
    old_vkey = client.get("/api/v1/transparency/key").text.strip()
    old_kid = client.get("/api/v1/transparency/keys").json()[0]["kid"]
    before = tmp_path / "before"
    before.write_text(client.get("/api/v1/transparency/checkpoint").text)

    new_kid, new_vkey = ok(run_cli(settings, "audit", "rotate-key")).split()
    assert client.get("/api/v1/transparency/key").text.strip() == new_vkey
    both = client.get("/api/v1/transparency/checkpoint").text
    # a witness that trusts either key verifies the same checkpoint (the rotation is entry 3)
    assert tlog.verify_checkpoint(both, old_vkey).size == tlog.verify_checkpoint(both, new_vkey).size == 3
    kids = [k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]]
    assert old_kid in kids and new_kid in kids

    retired = run_cli(settings, "audit", "retire-key", old_kid)
    assert ok(retired).startswith(f"{old_kid} retired")
    now = client.get("/api/v1/transparency/checkpoint").text
    assert tlog.verify_checkpoint(now, new_vkey).size == 4
    (tmp_path / "now").write_text(now)
    refused = run_cli(settings, "audit", "verify", "--checkpoint", str(tmp_path / "now"), "--key", old_vkey)
    assert refused.returncode == 1 and "carries no signature by" in refused.stderr
    # a checkpoint the retired key signed still verifies, with no key given: the log keeps it listed
    assert "consistent with the checkpoint of 2 entries" in ok(
        run_cli(settings, "audit", "verify", "--checkpoint", str(before))
    )
    listed = {k["kid"]: k["signing"] for k in client.get("/api/v1/transparency/keys").json()}
    assert listed == {new_kid: True, old_kid: False}

    last = run_cli(settings, "audit", "retire-key", new_kid)
    assert last.returncode == 1 and "the log's only signing key" in last.stderr
    kinds = [e["entry"] for e in client.get("/api/v1/transparency/entries").json()["entries"]]
    assert [(e["kind"], e["purpose"]) for e in kinds if e["kind"] == "key"] == [
        ("key", "log key added"),
        ("key", "log key retired"),
    ]


def test_a_secret_rotation_keeps_the_log_key(  # type: ignore[no-untyped-def]
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    vkey = client.get("/api/v1/transparency/key").text.strip()
    secret = tmp_path / "new-secret"
    secret.write_text("a-brand-new-instance-secret-" + "q" * 40)
    ok(run_cli(settings, "consent", "rotate-secret", "--new-secret-file", str(secret)))
    rotated = settings.model_copy(update={"secret_key": SecretStr(secret.read_text())})
    out = ok(run_cli(rotated, "audit", "rotate-key")).split()[1]
    app = create_app(rotated)  # the servers restart with the new secret
    with TestClient(app) as restarted:
        keys = [k["verifier_key"] for k in restarted.get("/api/v1/transparency/keys").json()]
        note = restarted.get("/api/v1/transparency/checkpoint").text
    app.state.commons.engine.dispose()
    assert keys == [out, vkey]  # the old key opened under the new secret, and still listed
    assert tlog.verify_checkpoint(note, vkey) and tlog.verify_checkpoint(note, out)


def test_a_log_key_never_passes_for_a_receipt_key(client: TestClient, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    key_set = client.get("/.well-known/jwks.json").json()
    [log_jwk] = [k for k in key_set["keys"] if k["kid"].startswith("tlog-")]
    # forge a receipt signed by... anyone holding a key with the log key's kid in its header
    forger = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    token = jws.JWS(json.dumps({"program": {"id": "x"}}).encode())
    token.add_signature(forger, alg="EdDSA", protected={"alg": "EdDSA", "kid": log_jwk["kid"]})
    checked = run_cli(settings, "consent", "verify", token.serialize(compact=True))
    assert checked.returncode == 1 and "never a receipt" in checked.stderr
