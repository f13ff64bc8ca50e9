"""Which donors' records a query may use: :func:`eligible_donors`, on the hot path of every query.

A donor is eligible for (dataset, purpose) at instant t when they are not erased, their organisation
linked them to the dataset's records, and one of their consent periods, for a text version that
covers the dataset in a program with that purpose, is in force at t: ``valid_from <= t < ended_at``
and ``t < valid_until`` (a withdrawal or an expiry at t already excludes them). A query also names
its program and its recipient: then only text versions of that program naming that recipient count.

Answers are cached per process. Every change eligibility depends on (a consent event, an erasure, a
link) moves the counter row of ``consent_counter`` in the same transaction, so a cached answer is
reused only while the counter is unchanged — correct across processes — and only for instants inside
the window between the neighbouring period boundaries, where the answer cannot differ.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from consent.agreements import Recipient
from consent.models import ConsentCounter, ConsentPeriod, ConsentText, Program, TextDataset
from datacommons.errors import InvalidInput

COUNTER_ID = 1
_CACHE_SIZE = 64


@dataclass(frozen=True)
class Eligible:
    """The donors a query may include, and the pseudonyms their records carry in the dataset.

    ``donors`` are the commons' ids of the persons (the units of the per-person ledger);
    ``records`` are the values of the dataset's privacy-unit column that belong to them.
    """

    pseudonyms: Mapping[str, str]  # donor id -> pseudonym in the dataset
    donors: frozenset[str] = field(init=False)
    records: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "donors", frozenset(self.pseudonyms))
        object.__setattr__(self, "records", frozenset(self.pseudonyms.values()))

    def records_of(self, donors: frozenset[str]) -> frozenset[str]:
        """The pseudonyms of ``donors`` (a subset of :attr:`donors`), the same object for all of them."""
        if donors is self.donors or donors == self.donors:
            return self.records
        return frozenset(self.pseudonyms[d] for d in donors)


@dataclass(frozen=True)
class _Cached:
    counter: int
    window_from: datetime | None  # the answer holds for window_from <= t < window_to
    window_to: datetime | None
    eligible: Eligible


_cache: dict[tuple[str, str, str, str | None, tuple[str, ...] | None], _Cached] = {}
_lock = threading.Lock()


def bump(session: Session) -> None:
    """Record that eligibility may have changed (call in the transaction that changes it).

    The UPDATE also takes the row's write lock, so concurrent changes are serialised.
    """
    session.execute(
        update(ConsentCounter)
        .where(ConsentCounter.id == COUNTER_ID)
        .values(counter=ConsentCounter.counter + 1)
    )


def counter(session: Session) -> int:
    """The current value of the change counter."""
    return int(session.scalar(select(ConsentCounter.counter).where(ConsentCounter.id == COUNTER_ID)) or 0)


def _text_ids(
    session: Session, dataset_id: str, purpose: str, program: str | None, recipient: Recipient | None
) -> list[int]:
    """The text versions that cover ``dataset_id`` in a program for ``purpose`` (that program only,
    if given) and, with ``recipient``, name it as a recipient."""
    query = (
        select(TextDataset.text_id, ConsentText.recipients)
        .join(ConsentText, ConsentText.id == TextDataset.text_id)
        .join(Program, Program.id == ConsentText.program_id)
        .where(TextDataset.dataset_id == dataset_id, Program.purpose == purpose)
    )
    if program is not None:
        query = query.where(Program.id == program)
    return [
        int(text_id)
        for text_id, recipients in session.execute(query)
        if recipient is None or recipient.named_by(list(recipients or []))
    ]


def _query_donors(session: Session, dataset_id: str, text_ids: list[int], at: datetime) -> Eligible:
    """The donors linked to ``dataset_id``'s records with a period in force at ``at`` for one of
    ``text_ids``, with the pseudonyms of their records there.

    The link (``donor_datasets``, made by the donating organisation) is what binds a donor to the
    records of the dataset: consent alone never releases anyone's records, for the same pseudonym in
    another dataset may be another person's.

    Half a million pseudonyms must load well under a second, so this goes to the driver's cursor
    directly (SQLAlchemy's per-row result processing would double the time). The instant is bound
    in the column type's own storage format, so comparisons match what the ORM wrote.
    """
    if not text_ids:
        return Eligible({})
    connection = session.connection()
    dialect = connection.dialect
    column_type = ConsentPeriod.__table__.c.valid_from.type
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    instant = process(at) if process else at
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        "SELECT l.donor_id, l.pseudonym FROM donor_datasets l"
        f" WHERE l.dataset_id = {mark} AND l.donor_id IN (SELECT p.donor_id FROM consent_periods p"
        f" WHERE p.text_id IN ({', '.join(str(i) for i in text_ids)}) AND p.void = {mark}"
        f" AND p.valid_from <= {mark} AND (p.ended_at IS NULL OR p.ended_at > {mark})"
        f" AND (p.valid_until IS NULL OR p.valid_until > {mark}))"
    )
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, (dataset_id, False, instant, instant, instant))
        return Eligible(dict(cursor.fetchall()))
    finally:
        cursor.close()


def _window(session: Session, text_ids: list[int], at: datetime) -> tuple[datetime | None, datetime | None]:
    """The nearest period boundaries at or before ``at`` and after it: the answer is constant between.

    Each bound is one index lookup per text version and boundary column.
    """
    before: datetime | None = None
    after: datetime | None = None
    for text_id in text_ids:
        for col in (ConsentPeriod.valid_from, ConsentPeriod.valid_until, ConsentPeriod.ended_at):
            live = (ConsentPeriod.text_id == text_id, ConsentPeriod.void.is_(False))
            low = session.scalar(select(func.max(col)).where(*live, col <= at))
            high = session.scalar(select(func.min(col)).where(*live, col > at))
            if low is not None and (before is None or low > before):
                before = low
            if high is not None and (after is None or high < after):
                after = high
    return before, after


def eligible_donors(session: Session, *, dataset_id: str, purpose: str, at: datetime) -> frozenset[str]:
    """The ids of the non-erased donors whose consent for ``purpose`` covers their records in
    ``dataset_id`` at ``at`` (whoever the recipients; a query also names its recipient)."""
    return eligible(session, dataset_id=dataset_id, purpose=purpose, at=at).donors


def eligible(
    session: Session,
    *,
    dataset_id: str,
    purpose: str,
    at: datetime,
    program: str | None = None,
    recipient: Recipient | None = None,
) -> Eligible:
    """The donors whose consent for ``purpose`` covers their records in ``dataset_id`` at ``at``,
    with the pseudonyms of those records (the values of the dataset's privacy-unit column).

    With ``program``, only consents to that program count; with ``recipient``, only consents to
    text versions that name the recipient (the data-use agreement, :mod:`consent.agreements`).
    """
    if at.tzinfo is None:
        raise InvalidInput("eligible_donors needs a timezone-aware instant")
    url = session.get_bind().engine.url
    names = tuple(sorted(recipient.names)) if recipient is not None else None
    key = (url.render_as_string(hide_password=True), dataset_id, purpose, program, names)
    current = counter(session)
    with _lock:
        hit = _cache.get(key)
    if (
        hit is not None
        and hit.counter == current
        and (hit.window_from is None or hit.window_from <= at)
        and (hit.window_to is None or at < hit.window_to)
    ):
        return hit.eligible
    text_ids = _text_ids(session, dataset_id, purpose, program, recipient)
    donors = _query_donors(session, dataset_id, text_ids, at)
    window_from, window_to = _window(session, text_ids, at)
    with _lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = _Cached(current, window_from, window_to, donors)
    return donors


def clear_cache() -> None:
    """Forget every cached answer (benchmarks measure cold calls with it)."""
    with _lock:
        _cache.clear()
