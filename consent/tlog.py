"""The transparency log as a Merkle tree (RFC 9162) with signed checkpoints (C2SP tlog-checkpoint).

Each entry of the log (:mod:`consent.transparency`) is a leaf. Its **canonical encoding**
(:func:`entry_bytes`) is the UTF-8 JSON object, keys sorted, no whitespace, of::

    {"format": "datacommons-transparency-entry/1", "index": …, "at": "…Z", "kind": …,
     "organisation": …, "purpose": …, "datasets": […], "fee_eur": …, "details": {…}}

It holds no personal data: not the actor (a token's name), not a pseudonym. The hashes of every
complete subtree (aligned, power-of-two sized) are kept in ``transparency_nodes``, written as each
leaf is appended (O(log n) rows, amortised two), so any subtree hash, root and proof is O(log n)
lookups.

A **checkpoint** is a C2SP signed note::

    <origin>
    <tree size>
    <base64 root hash>

    — <origin> <base64(key ID || Ed25519 signature)>

signed by every key of :class:`LogKeys` (stored and rotated by :mod:`consent.log_keys`); the newest
key's verifier key (C2SP vkey) is published at ``/api/v1/transparency/key``. Whoever keeps a
checkpoint can later prove that the log they see now extends it (a consistency proof), or that it
does not: rewriting history, even with every hash recomputed, changes the root.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from consent import merkle
from consent.models import TransparencyEntry, TransparencyHead, TransparencyNode
from datacommons.db import iso
from datacommons.errors import CheckFailed, InvalidInput

ENTRY_FORMAT = "datacommons-transparency-entry/1"
HEAD_ID = 1
LOG_KEY_INFO = b"datacommons/transparency-log/ed25519/v1"
ED25519 = b"\x01"
COSIGNATURE = b"\x04"
DASH = "\u2014"


def entry_bytes(entry: TransparencyEntry) -> bytes:
    """The canonical encoding of an entry (the leaf's input): documented in the module docstring."""
    fields: dict[str, Any] = {
        "format": ENTRY_FORMAT,
        "index": entry.id - 1,
        "at": iso(entry.at),
        "kind": entry.kind,
        "organisation": entry.organisation,
        "purpose": entry.purpose,
        "datasets": list(entry.datasets),
        "fee_eur": entry.fee_eur,
        "details": dict(entry.details),
    }
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def entry_public(entry: TransparencyEntry) -> dict[str, Any]:
    """An entry as the public sees it: exactly what its leaf encodes."""
    return dict(json.loads(entry_bytes(entry)))


# --- the tree ------------------------------------------------------------------------------------


def append(session: Session, entry: TransparencyEntry) -> None:
    """Add the entry's leaf and every subtree it completes (in the caller's transaction)."""
    index = entry.id - 1
    current = merkle.leaf_hash(entry_bytes(entry))
    level = 0
    session.add(TransparencyNode(level=0, idx=index, hash=current))
    while index & 1:
        left = session.get(TransparencyNode, (level, index - 1))
        if left is None:  # pragma: no cover - the log was appended out of order
            raise CheckFailed(f"the transparency tree lacks node {level}/{index - 1}")
        current = merkle.node_hash(bytes(left.hash), current)
        index, level = index >> 1, level + 1
        session.add(TransparencyNode(level=level, idx=index, hash=current))
    session.flush()


@lru_cache(maxsize=64)
def _nodes_query(levels: int) -> Select[int, int, bytes]:
    """The prefetch statement for nodes on ``levels`` tree levels, built once per count (building an
    OR of twenty clauses costs more than running it)."""
    wanted = [
        and_(
            TransparencyNode.level == bindparam(f"level{n}"),
            TransparencyNode.idx.in_(bindparam(f"idx{n}", expanding=True)),
        )
        for n in range(levels)
    ]
    return select(TransparencyNode.level, TransparencyNode.idx, TransparencyNode.hash).where(or_(*wanted))


class Tree:
    """Subtree hashes of the stored tree, read on demand and remembered for one request."""

    def __init__(self, session: Session, size: int) -> None:
        self.session = session
        self.size = size
        self._known: dict[tuple[int, int], bytes] = {}

    def _complete(self, level: int, idx: int) -> bytes:
        key = (level, idx)
        if key not in self._known:
            node = self.session.get(TransparencyNode, key)
            if node is None:
                raise CheckFailed(f"the transparency tree lacks node {level}/{idx}")
            self._known[key] = bytes(node.hash)
        return self._known[key]

    def prefetch(self, keys: list[tuple[int, int]]) -> None:
        """Read many complete-subtree nodes in one query: ``level = l AND idx IN (…)`` per level, OR-ed
        (each an index lookup; a row-value IN over both columns scanned every node on SQLite)."""
        by_level: dict[int, set[int]] = {}
        for level, idx in keys:
            if (level, idx) not in self._known:
                by_level.setdefault(level, set()).add(idx)
        if not by_level:
            return
        levels = sorted(by_level.items())
        params: dict[str, Any] = {f"level{n}": level for n, (level, _) in enumerate(levels)}
        params.update({f"idx{n}": sorted(ids) for n, (_, ids) in enumerate(levels)})
        query = _nodes_query(len(levels))
        for level, idx, value in self.session.execute(query, params):
            self._known[(int(level), int(idx))] = bytes(value)

    def complete_keys(self, start: int, end: int) -> list[tuple[int, int]]:
        """The stored nodes (level, index) that MTH(d[start:end]) is made of."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return [(n.bit_length() - 1, start // n)]
        k = merkle.split(n)
        return self.complete_keys(start, start + k) + self.complete_keys(start + k, end)

    def inclusion_proofs(self, indexes: list[int]) -> dict[int, list[bytes]]:
        """The inclusion proofs of these leaves in this tree, and its root, from one query."""
        wanted: list[tuple[int, int]] = self.complete_keys(0, self.size) if self.size else []

        def note(start: int, end: int) -> bytes:
            wanted.extend(self.complete_keys(start, end))
            return b""

        for index in indexes:
            merkle.inclusion_proof(index, self.size, note)
        self.prefetch(wanted)
        return {index: merkle.inclusion_proof(index, self.size, self.subtree) for index in indexes}

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(d[start:end]) for 0 <= start < end <= size."""
        if not 0 <= start < end <= self.size:
            raise InvalidInput(f"no subtree [{start}, {end}) in a tree of size {self.size}")
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return self._complete(n.bit_length() - 1, start // n)
        k = merkle.split(n)
        return merkle.node_hash(self.subtree(start, start + k), self.subtree(start + k, end))

    def root(self) -> bytes:
        """The root hash of the tree of this size."""
        return merkle.EMPTY_ROOT if self.size == 0 else self.subtree(0, self.size)


def tree_size(session: Session) -> int:
    """How many leaves the log has (the head row's count, moved by every append)."""
    return int(session.scalar(select(TransparencyHead.seq).where(TransparencyHead.id == HEAD_ID)) or 0)


# --- checkpoints ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogKey:
    """One Ed25519 key of the log, its name (the origin) and its C2SP verifier key."""

    origin: str
    private: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> bytes:
        return key_id(self.origin, ED25519, self.public_bytes)

    @property
    def verifier_key(self) -> str:
        """``<name>+<hex key ID>+<base64(0x01 || public key)>`` (C2SP signed-note vkey)."""
        return f"{self.origin}+{self.key_id.hex()}+{base64.b64encode(ED25519 + self.public_bytes).decode()}"

    def signature_line(self, text: str) -> str:
        """The signed note's signature line of ``text`` by this key."""
        signature = self.private.sign(text.encode())
        return f"{DASH} {self.origin} {base64.b64encode(self.key_id + signature).decode()}"


@dataclass(frozen=True)
class LogKeys:
    """The keys that sign the log's checkpoints, newest first. Each signs every checkpoint, so a
    witness that trusts an older key keeps verifying through a rotation until that key is retired;
    the newest is the one published as the log's key."""

    signing: tuple[LogKey, ...]

    @property
    def origin(self) -> str:
        return self.signing[0].origin

    @property
    def verifier_key(self) -> str:
        """The newest key's verifier key."""
        return self.signing[0].verifier_key

    def sign(self, text: str) -> str:
        """The signed note of ``text`` (which ends in a newline), one signature line per key."""
        return f"{text}\n" + "".join(key.signature_line(text) + "\n" for key in self.signing)


def derived_key(secret: bytes) -> Ed25519PrivateKey:
    """An instance's first log key, derived from its secret (stored, sealed, once it is made)."""
    seed = HKDF(algorithm=SHA256(), length=32, salt=None, info=LOG_KEY_INFO).derive(secret)
    return Ed25519PrivateKey.from_private_bytes(seed)


def origin_of(public_url: str) -> str:
    """The log's origin: the commons' public URL without its scheme, then ``/transparency``."""
    parts = urlsplit(public_url)
    return f"{parts.netloc}{parts.path.rstrip('/')}/transparency"


def key_id(name: str, kind: bytes, public: bytes) -> bytes:
    """SHA-256(name || 0x0A || type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + kind + public).digest()[:4]


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    """The body of a checkpoint."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def checkpoint(session: Session, key: LogKeys, size: int | None = None) -> str:
    """The log's checkpoint, signed: of its current size, or of an earlier ``size`` (Ed25519 is
    deterministic, so that is the very note the log signed then)."""
    size = tree_size(session) if size is None else size
    return key.sign(checkpoint_text(key.origin, size, Tree(session, size).root()))


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint whose signature verified."""

    origin: str
    size: int
    root: bytes
    text: str
    signatures: tuple[str, ...]


def parse_verifier_key(vkey: str, kind: bytes = ED25519) -> tuple[str, bytes, Ed25519PublicKey]:
    """(name, key ID, public key) of a C2SP verifier key of type Ed25519 (0x01), or of type ``kind``
    (0x04 for a witness's cosignature key)."""
    try:
        name, hex_id, encoded = vkey.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        kid = bytes.fromhex(hex_id)
    except ValueError as exc:
        raise InvalidInput(f"not a verifier key (name+keyid+key): {vkey.strip()[:80]!r}") from exc
    if raw[:1] != kind or len(raw) != 33 or len(kid) != 4:
        what = "an Ed25519 signed-note" if kind == ED25519 else "an Ed25519 cosignature (0x04)"
        raise InvalidInput(f"the verifier key is not {what} key")
    if key_id(name, kind, raw[1:]) != kid:
        raise InvalidInput("the verifier key's id does not match its name and key")
    return name, kid, Ed25519PublicKey.from_public_bytes(raw[1:])


def verify_checkpoint(note: str, vkey: str) -> Checkpoint:
    """Parse a signed checkpoint and check its signature by ``vkey``: :class:`InvalidInput` (exit 2)
    when it is not a checkpoint at all, :class:`CheckFailed` (exit 1) when its signature fails."""
    name, kid, public = parse_verifier_key(vkey)
    text, sep, signatures = note.partition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise InvalidInput("not a signed note: no blank line between the text and its signatures")
    text += "\n"
    lines = text.split("\n")[:-1]
    if len(lines) < 3:
        raise InvalidInput("not a checkpoint: it needs an origin, a size and a root hash")
    origin, size_line, root_line = lines[0], lines[1], lines[2]
    if not size_line.isdigit() or (size_line.startswith("0") and size_line != "0"):
        raise InvalidInput(f"not a checkpoint: tree size {size_line!r}")
    try:
        root = base64.b64decode(root_line, validate=True)
    except ValueError as exc:
        raise InvalidInput("not a checkpoint: the root hash is not base64") from exc
    if len(root) != 32:
        raise InvalidInput("not a checkpoint: the root hash is not 32 bytes")
    found = False
    signature_lines = tuple(line for line in signatures.split("\n") if line)
    for line in signature_lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise InvalidInput(f"not a signature line: {line[:60]!r}")
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except ValueError as exc:
            raise InvalidInput("a signature is not base64") from exc
        if parts[1] != name or blob[:4] != kid:
            continue  # another key's signature (a witness's cosignature, say)
        try:
            public.verify(blob[4:], text.encode())
        except InvalidSignature as exc:
            raise CheckFailed("the checkpoint's signature does not verify: it was altered or forged") from exc
        found = True
    if not found:
        raise CheckFailed(f"the checkpoint carries no signature by {name}")
    if origin != name:
        raise CheckFailed(f"the checkpoint is for {origin!r}, not for the log {name!r}")
    return Checkpoint(origin, int(size_line), root, text, signature_lines)


def verify_checkpoint_by_any(note: str, vkeys: list[str]) -> Checkpoint:
    """:func:`verify_checkpoint` by the first of ``vkeys`` that signed the note (the log's keys, old
    and new); the first key's failure when none did."""
    failure: CheckFailed | None = None
    for vkey in vkeys:
        try:
            return verify_checkpoint(note, vkey)
        except CheckFailed as exc:
            failure = failure or exc
    raise failure or CheckFailed("no key to verify the checkpoint with")


def cosignature_message(checkpoint_body: str, at: int) -> bytes:
    """What a C2SP tlog-cosignature/v1 signs: the header, the time and the checkpoint's body."""
    return f"cosignature/v1\ntime {at}\n{checkpoint_body}".encode()


def verify_cosignature(checkpoint: Checkpoint, line: str, vkey: str) -> int:
    """Check a cosignature line of ``checkpoint`` by the witness key ``vkey``; its POSIX time.
    :class:`CheckFailed` when it is not that witness's valid cosignature."""
    name, kid, public = parse_verifier_key(vkey, COSIGNATURE)
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != DASH or parts[1] != name:
        raise CheckFailed(f"not a cosignature line by {name}")
    try:
        blob = base64.b64decode(parts[2], validate=True)
    except ValueError as exc:
        raise CheckFailed("the cosignature is not base64") from exc
    if len(blob) != 4 + 8 + 64 or blob[:4] != kid:
        raise CheckFailed(f"the cosignature is not by the key {kid.hex()} of {name}")
    at = int.from_bytes(blob[4:12], "big")
    try:
        public.verify(blob[12:], cosignature_message(checkpoint.text, at))
    except InvalidSignature as exc:
        raise CheckFailed(f"the cosignature of {name} does not verify") from exc
    return at


def leaves_from_entries(session: Session, size: int) -> list[bytes]:
    """The leaf hashes of entries 1..size, recomputed from the entries' rows (not the stored tree)."""
    query = (
        select(TransparencyEntry)
        .where(TransparencyEntry.id <= size)
        .order_by(TransparencyEntry.id)
        .execution_options(yield_per=2000)
    )
    leaves = []
    for expected, entry in enumerate(session.scalars(query), start=1):
        if entry.id != expected:
            raise CheckFailed(f"entry {expected} is missing from the log (it goes on at {entry.id})")
        leaves.append(merkle.leaf_hash(entry_bytes(entry)))
    return leaves


def verify_against(session: Session, saved: Checkpoint) -> str:
    """Check that the log in the database extends ``saved`` (a checkpoint kept from before): the
    entries' own contents must hash to its root. :class:`CheckFailed` says how it does not."""
    size = tree_size(session)
    if size < saved.size:
        raise CheckFailed(
            f"the log has {size} entries, fewer than the {saved.size} of the saved checkpoint: "
            "it was truncated"
        )
    leaves = leaves_from_entries(session, size)
    if len(leaves) < size:
        raise CheckFailed(f"the log should have {size} entries and has {len(leaves)}: entries were deleted")
    if merkle.root_of(leaves[: saved.size]) != saved.root:
        raise CheckFailed(
            f"the first {saved.size} entries no longer hash to the saved checkpoint's root: "
            "history was altered, deleted, reordered or rewritten"
        )
    stored = Tree(session, size)
    if merkle.root_of(leaves) != stored.root():
        raise CheckFailed("the stored tree does not match the entries: the proofs it serves are false")
    return f"transparency log consistent with the checkpoint of {saved.size} entries (now {size})"
