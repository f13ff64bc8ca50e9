"""A consent event is in the public log as a salted commitment: the donor's receipt opens it and
carries the checkpoint of the tree that first held it; the public entry tells nobody who consented."""

from __future__ import annotations

import base64
import hashlib
import json

from fastapi.testclient import TestClient

from consent import tlog
from tests.consent.conftest import PROGRAM, give, make_program, register
from tests.consent.test_receipts import jwcrypto_decode
from tests.transparency.test_tree import decode, h_leaf, root_from_path


def test_a_receipt_opens_its_commitment_in_the_log(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    make_program(client, tokens["admin"])
    donor_id, token = register(client, name="Lucia Bianchi")
    given = give(client, token, PROGRAM["id"])
    claims = jwcrypto_decode(given["receipt"], client.get("/.well-known/jwks.json").json())
    logged = claims["transparency"]
    index, salt = logged["leaf_index"], bytes.fromhex(logged["commitment_salt"])
    # the checkpoint in the receipt is signed by the published log key and covers the leaf
    vkey = client.get("/api/v1/transparency/key").text.strip()
    checkpoint = tlog.verify_checkpoint(logged["checkpoint"], vkey)
    assert checkpoint.size == index + 1
    entry = client.get("/api/v1/transparency/entries", params={"start": index, "end": index + 1}).json()
    public = entry["entries"][0]["entry"]
    expected = hashlib.sha256(b"datacommons-consent-commitment/1\n" + salt + claims["record_id"].encode())
    assert public["kind"] == "consent" and public["details"] == {"commitment": expected.hexdigest()}
    text = json.dumps(public, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for secret in (donor_id, "Lucia Bianchi", PROGRAM["id"], claims["record_id"]):
        assert secret not in text  # the public learns nothing of who consented to what
    proof = client.get(
        "/api/v1/transparency/proof/inclusion", params={"index": index, "tree_size": checkpoint.size}
    ).json()
    leaf = h_leaf(text.encode())
    assert root_from_path(index, checkpoint.size, leaf, decode(proof["proof"])) == checkpoint.root
    assert base64.b64decode(proof["root_hash"]) == checkpoint.root
