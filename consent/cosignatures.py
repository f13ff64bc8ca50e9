"""Witnesses' cosignatures of the log's checkpoints (C2SP tlog-cosignature).

A witness (``datacommons audit witness … --submit``) sends back the checkpoint it verified with its
cosignature line added. The commons keeps a cosignature only when the note is a checkpoint of this
log (its own signature verifies and the root is the one its tree has at that size) and the line is a
valid cosignature by one of the witnesses it is configured to know (``DATACOMMONS_WITNESS_KEYS``).
It then serves each checkpoint with the cosignatures it has, so whoever fetches it holds more than
the log's own word: a log that showed two different trees to two parties would need every witness
to have signed both.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent import tlog
from consent.models import TransparencyCosignature
from datacommons.errors import CheckFailed, Forbidden


def known_witnesses(vkeys: list[str]) -> dict[str, str]:
    """The configured witness verifier keys, by witness name (:class:`InvalidInput` if one is not a
    cosignature key)."""
    return {tlog.parse_verifier_key(vkey, tlog.COSIGNATURE)[0]: vkey.strip() for vkey in vkeys}


def accept(session: Session, note: str, key: tlog.LogKeys, witnesses: list[str]) -> tuple[int, list[str]]:
    """Keep the cosignatures of known witnesses in ``note``; the tree size and the witnesses kept.

    :class:`InvalidInput` when the note is not a checkpoint, :class:`CheckFailed` when it is not one
    of this log or a known witness's cosignature does not verify, :class:`Forbidden` when no known
    witness cosigned it."""
    checkpoint = tlog.verify_checkpoint(note, key.verifier_key)
    size = tlog.tree_size(session)
    if checkpoint.size > size:
        raise CheckFailed(f"the log has {size} entries: it never signed a tree of {checkpoint.size}")
    if tlog.Tree(session, checkpoint.size).root() != checkpoint.root:
        raise CheckFailed(f"the checkpoint's root is not this log's root at size {checkpoint.size}")
    known = known_witnesses(witnesses)
    kept = []
    for line in checkpoint.signatures:
        name = line.split(" ")[1]
        if name == key.origin or name not in known:
            continue
        at = tlog.verify_cosignature(checkpoint, line, known[name])
        if session.get(TransparencyCosignature, (name, checkpoint.size)) is None:
            session.add(
                TransparencyCosignature(
                    witness=name,
                    tree_size=checkpoint.size,
                    key_id=line_key_id(known[name]),
                    cosigned_at=at,
                    line=line,
                )
            )
        kept.append(name)
    if not kept:
        raise Forbidden(
            "the note carries no cosignature by a witness this log knows "
            "(the operator lists witness keys in DATACOMMONS_WITNESS_KEYS)"
        )
    session.flush()
    return checkpoint.size, kept


def line_key_id(vkey: str) -> str:
    """The hex key ID of a verifier key."""
    return vkey.split("+", 2)[1]


def lines_for(session: Session, size: int) -> list[str]:
    """The cosignature lines kept for the checkpoint of ``size``, by witness name."""
    query = (
        select(TransparencyCosignature.line)
        .where(TransparencyCosignature.tree_size == size)
        .order_by(TransparencyCosignature.witness)
    )
    return list(session.scalars(query))


def with_cosignatures(session: Session, key: tlog.LogKeys, size: int | None = None) -> str:
    """The signed checkpoint of ``size`` (the current one by default) with every cosignature kept
    for it."""
    size = tlog.tree_size(session) if size is None else size
    return tlog.checkpoint(session, key, size) + "".join(line + "\n" for line in lines_for(session, size))


def latest_cosigned_size(session: Session) -> int | None:
    """The largest tree size some witness cosigned, if any."""
    return session.scalar(select(func.max(TransparencyCosignature.tree_size)))
