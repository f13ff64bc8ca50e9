"""The transparency log (DGA art. 20): every use of data, hash-chained.

Each use — a differentially-private release, an extract, a publication — appends one entry with who
processed the data, when, the declared purpose, the datasets and any fee. Entry *n* carries the hash
of entry *n-1* and its own hash over all its fields, and the ``transparency_head`` row holds the
number and hash of the last entry, so any row altered, deleted or moved in the database breaks the
chain at a place :func:`verify_chain` names.

Appends start by updating the head row: that takes its write lock (a row lock on PostgreSQL, the
database write lock on SQLite) before the head is read, so concurrent writers append one after the
other and can never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from consent import tlog
from consent.models import TransparencyEntry, TransparencyHead
from datacommons.acts import Act
from datacommons.db import iso, utcnow
from datacommons.errors import InvalidInput

UseKind = Literal["release", "extract", "publication", "consent"]
#: Administrative acts, logged as they happen (:func:`record_act`): none is a use of personal data,
#: each is something an operator did that the public may check.
ActKind = Literal[
    "ingest", "validation", "rollback", "budget", "policy", "token", "program", "key", "backup", "restore"
]
KINDS: tuple[str, ...] = get_args(UseKind) + get_args(ActKind)
#: The uses of data (what the yearly report counts): consent commitments and other acts are not.
USES: tuple[str, ...] = ("release", "extract", "publication")
#: What :func:`log_act` records: a publication is both a use of data and an operator's act.
ACT_KINDS: tuple[str, ...] = ("publication", *get_args(ActKind))
GENESIS = "0" * 64
HEAD_ID = tlog.HEAD_ID


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking the chain: ok, entries checked, and the first bad entry and why."""

    ok: bool
    count: int
    first_bad_id: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON."""
        return {"ok": self.ok, "count": self.count, "first_bad_id": self.first_bad_id, "reason": self.reason}


def entry_hash(
    *,
    id: int,
    at: datetime,
    kind: str,
    actor: str,
    organisation: str | None,
    purpose: str,
    datasets: list[str],
    fee_eur: float | None,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 of an entry's fields and the previous entry's hash, canonically serialised."""
    fields = {
        "id": id,
        "at": iso(at),
        "kind": kind,
        "actor": actor,
        "organisation": organisation,
        "purpose": purpose,
        "datasets": datasets,
        "fee_eur": fee_eur,
        "details": details,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _hash_of(entry: TransparencyEntry) -> str:
    return entry_hash(
        id=entry.id,
        at=entry.at,
        kind=entry.kind,
        actor=entry.actor,
        organisation=entry.organisation,
        purpose=entry.purpose,
        datasets=list(entry.datasets),
        fee_eur=entry.fee_eur,
        details=dict(entry.details),
        prev_hash=entry.prev_hash,
    )


def record_use(
    session: Session,
    *,
    kind: UseKind,
    actor: str,
    purpose: str,
    datasets: list[str],
    organisation: str | None = None,
    fee_eur: float | None = None,
    details: dict[str, Any] | None = None,
) -> TransparencyEntry:
    """Append one use of data to the log, in the caller's transaction (the caller commits).

    On SQLite the caller's transaction should be opened with ``immediate=True`` if it read anything
    before calling this; otherwise a concurrent append makes it fail instead of wait.
    """
    if kind not in KINDS:
        raise InvalidInput(f"unknown use {kind!r}: choose one of {', '.join(KINDS)}")
    if not datasets:
        raise InvalidInput("a use names at least one dataset")
    if fee_eur is not None and fee_eur < 0:
        raise InvalidInput("a fee cannot be negative")
    if not purpose or not actor:
        raise InvalidInput("a use names its actor and its purpose")
    if kind == "consent":
        raise InvalidInput("consent events are logged as commitments (record_commitment)")
    return _append(
        session,
        kind=kind,
        actor=actor,
        purpose=purpose,
        datasets=datasets,
        organisation=organisation,
        fee_eur=fee_eur,
        details=details,
    )


def _append(
    session: Session,
    *,
    kind: str,
    actor: str,
    purpose: str,
    datasets: list[str],
    organisation: str | None,
    fee_eur: float | None,
    details: dict[str, Any] | None,
) -> TransparencyEntry:
    """Append an entry: chain link, head, and Merkle leaf, in the caller's transaction."""
    # Round-trip details through JSON now, so the hash covers exactly what the database returns.
    details = json.loads(json.dumps(details or {}, ensure_ascii=False, default=str))
    session.execute(
        update(TransparencyHead).where(TransparencyHead.id == HEAD_ID).values(seq=TransparencyHead.seq + 1)
    )
    seq, prev = session.execute(
        select(TransparencyHead.seq, TransparencyHead.entry_hash).where(TransparencyHead.id == HEAD_ID)
    ).one()
    at = utcnow()
    values: dict[str, Any] = {
        "id": int(seq),
        "at": at,
        "kind": kind,
        "actor": actor,
        "organisation": organisation,
        "purpose": purpose,
        "datasets": sorted(set(datasets)),
        "fee_eur": float(fee_eur) if fee_eur is not None else None,
        "details": details,
        "prev_hash": prev,
    }
    entry = TransparencyEntry(**values, entry_hash=entry_hash(**values))
    session.add(entry)
    session.flush()
    tlog.append(session, entry)
    session.execute(
        update(TransparencyHead).where(TransparencyHead.id == HEAD_ID).values(entry_hash=entry.entry_hash)
    )
    return entry


def verify_chain(session: Session) -> VerifyResult:
    """Check every entry, in order: numbering, link to the previous hash, own hash, and the head."""
    expected, prev, count = 1, GENESIS, 0
    query = select(TransparencyEntry).order_by(TransparencyEntry.id).execution_options(yield_per=1000)
    for entry in session.scalars(query):
        if entry.id != expected:
            return VerifyResult(
                False, count, expected, f"entry {expected} is missing (the log goes on at {entry.id})"
            )
        if entry.prev_hash != prev:
            return VerifyResult(
                False,
                count,
                entry.id,
                f"entry {entry.id} does not follow entry {entry.id - 1} (removed, replaced or moved)",
            )
        if _hash_of(entry) != entry.entry_hash:
            return VerifyResult(
                False, count, entry.id, f"entry {entry.id} was altered (its hash does not match its fields)"
            )
        prev, expected, count = entry.entry_hash, expected + 1, count + 1
    head = session.execute(
        select(TransparencyHead.seq, TransparencyHead.entry_hash).where(TransparencyHead.id == HEAD_ID)
    ).one()
    if head.seq != count or head.entry_hash != prev:
        return VerifyResult(
            False, count, count + 1, f"entry {count + 1} is missing: the log should end at entry {head.seq}"
        )
    return VerifyResult(True, count)


def entry_public(entry: TransparencyEntry) -> dict[str, Any]:
    """An entry as published."""
    return {
        "id": entry.id,
        "at": entry.at,
        "kind": entry.kind,
        "actor": entry.actor,
        "organisation": entry.organisation,
        "purpose": entry.purpose,
        "datasets": list(entry.datasets),
        "fee_eur": entry.fee_eur,
        "details": dict(entry.details),
        "prev_hash": entry.prev_hash,
        "entry_hash": entry.entry_hash,
    }


def list_entries(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> list[TransparencyEntry]:
    """Entries in order, optionally those with ``since <= at < until``."""
    query = select(TransparencyEntry).order_by(TransparencyEntry.id)
    if since is not None:
        query = query.where(TransparencyEntry.at >= since)
    if until is not None:
        query = query.where(TransparencyEntry.at < until)
    return list(session.scalars(query))


#: The purpose line of a consent commitment's entry.
CONSENT_RECORD = "consent record"


def commitment(salt: bytes, record_id: str) -> str:
    """The commitment to a consent event: SHA-256("datacommons-consent-commitment/1\n" || salt ||
    record id), hex. Only who holds the salt (the donor's receipt, the commons) can open it."""
    return hashlib.sha256(b"datacommons-consent-commitment/1\n" + salt + record_id.encode()).hexdigest()


def record_commitment(session: Session, value: str) -> TransparencyEntry:
    """Append a consent event to the log as its commitment alone: who consented, to what, stays out."""
    return _append(
        session,
        kind="consent",
        actor="system:consent",
        purpose=CONSENT_RECORD,
        datasets=[],
        organisation=None,
        fee_eur=None,
        details={"commitment": value},
    )


def log_act(session: Session, act: Act) -> None:
    """The recorder of administrative acts (installed as the ``datacommons.acts`` entry point, see
    :mod:`datacommons.acts`): each act is one entry, in the act's own transaction."""
    if act.kind not in ACT_KINDS:
        raise InvalidInput(f"{act.kind!r} is not an administrative act the log knows")
    _append(
        session,
        kind=act.kind,
        actor=act.actor,
        purpose=act.purpose,
        datasets=list(act.datasets),
        organisation=act.organisation,
        fee_eur=None,
        details=dict(act.details),
    )
