"""The log's Merkle tree, proofs and checkpoints, checked by an RFC 9162 verifier written here from
the RFC's definitions (not the project's code) and by `cryptography` from the published key alone."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient

from consent.transparency import record_use
from datacommons.db import transaction

# --- an independent RFC 9162 verifier ------------------------------------------------------------


def h_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def h_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    """MTH (RFC 9162 2.1.1) over leaf *hashes*."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = largest_power_below(len(leaves))
    return h_node(mth(leaves[:k]), mth(leaves[k:]))


def root_from_path(m: int, n: int, leaf: bytes, path: list[bytes]) -> bytes:
    """The root PATH(m, D[n]) leads to: PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) for m < k,
    PATH(m - k, D[k:n]) : MTH(D[0:k]) otherwise; the top sibling is the path's last element."""
    if n == 1:
        assert not path
        return leaf
    assert path, "the path is too short"
    k = largest_power_below(n)
    top, rest = path[-1], path[:-1]
    if m < k:
        return h_node(root_from_path(m, k, leaf, rest), top)
    return h_node(top, root_from_path(m - k, n - k, leaf, rest))


def roots_from_consistency(
    m: int, n: int, proof: list[bytes], old_root: bytes, whole: bool = True
) -> tuple[bytes, bytes]:
    """(old root, new root) that SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1 leads to."""
    if m == n:
        if whole:
            assert not proof
            return old_root, old_root
        [node] = proof
        return node, node
    k = largest_power_below(n)
    top, rest = proof[-1], proof[:-1]
    if m <= k:
        old, new = roots_from_consistency(m, k, rest, old_root, whole)
        return old, h_node(new, top)
    old, new = roots_from_consistency(m - k, n - k, rest, old_root, False)
    return h_node(top, old), h_node(top, new)


def decode(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


def fill(sessions, n: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions, immediate=True) as session:
        for i in range(n):
            record_use(
                session,
                kind="release",
                actor="analyst:Mario Rossi",
                purpose="dpv:ScientificResearch",
                datasets=[f"ds-{i % 3}"],
                organisation="Coop",
                details={"n": i},
            )


def test_proofs_verify_independently_for_every_size(client: TestClient, sessions) -> None:  # type: ignore[no-untyped-def]
    fill(sessions, 23)
    page = client.get("/api/v1/transparency/entries").json()  # no token
    assert page["tree_size"] == 23 and len(page["entries"]) == 23
    leaves = decode([e["leaf_hash"] for e in page["entries"]])
    # the leaf hash is SHA-256(0x00 || the canonical encoding of the entry as published)
    for item, leaf in zip(page["entries"], leaves, strict=True):
        canonical = __import__("json").dumps(
            item["entry"], ensure_ascii=False, sort_keys=True, separators=(",", ":")
        )
        assert h_leaf(canonical.encode()) == leaf
        assert "actor" not in item["entry"] and "Mario Rossi" not in canonical
    for size in range(1, 24):
        root = mth(leaves[:size])
        for index in range(size):
            got = client.get(
                "/api/v1/transparency/proof/inclusion", params={"index": index, "tree_size": size}
            ).json()
            assert base64.b64decode(got["root_hash"]) == root
            assert root_from_path(index, size, leaves[index], decode(got["proof"])) == root
        for first in range(1, size + 1):
            got = client.get(
                "/api/v1/transparency/proof/consistency", params={"first": first, "second": size}
            ).json()
            old = mth(leaves[:first])
            assert roots_from_consistency(first, size, decode(got["proof"]), old) == (old, root)


def test_the_checkpoint_verifies_with_the_published_key_alone(client: TestClient, sessions) -> None:  # type: ignore[no-untyped-def]
    fill(sessions, 5)
    note = client.get("/api/v1/transparency/checkpoint").text
    vkey = client.get("/api/v1/transparency/key").text.strip()
    name, key_id_hex, encoded = vkey.split("+", 2)
    raw = base64.b64decode(encoded)
    assert raw[0] == 0x01 and len(raw) == 33
    assert hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == key_id_hex
    text, signatures = note.split("\n\n", 1)
    origin, size, root = text.split("\n")
    assert origin == name and size == "5"
    page = client.get("/api/v1/transparency/entries").json()
    assert base64.b64decode(root) == mth(decode([e["leaf_hash"] for e in page["entries"]]))
    [line] = signatures.strip().split("\n")
    dash, signer, blob = line.split(" ")
    assert dash == "\u2014" and signer == name
    sig = base64.b64decode(blob)
    assert sig[:4].hex() == key_id_hex
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(sig[4:], (text + "\n").encode())  # raises if not
