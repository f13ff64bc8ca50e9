"""Consent events and the state derived from them.

Each consent (one per donor and program) is a story of events — ``given``, ``renewed``, ``withdrawn``,
``expired`` — and its state at any instant is derived by replaying them (:func:`derive_state`). Every
event gets a signed receipt. The same transaction writes the :class:`ConsentPeriod` projection that
eligibility reads and moves the eligibility change counter.

Writes lock the donor's row first (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the caller opens
the transaction with ``immediate=True``), so two requests for the same donor and program are applied
one after the other and the second sees the first's result.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent import eligibility, keys, programs, transparency
from consent.models import (
    Consent,
    ConsentEvent,
    ConsentPeriod,
    ConsentText,
    Donor,
    DonorDataset,
    Program,
    TextDataset,
)
from consent.receipts import Signer, issue
from datacommons.db import utcnow
from datacommons.errors import Conflict, InvalidInput, NotFound

EventKind = Literal["given", "renewed", "withdrawn", "expired"]
Status = Literal["active", "withdrawn", "expired", "none"]

#: How a consent event was collected. Only the donor gives, renews or withdraws consent: through the
#: donor's own authenticated session (``donor-self-service``) or as part of erasing their account
#: (``erasure``); the commons itself records only expiries (``expiry``). Demo data says ``demo-seed``.
Method = Literal["donor-self-service", "erasure", "expiry", "demo-seed"]


@dataclass(frozen=True)
class Collection:
    """Who acted for a consent event, and how it was collected; recorded on the event and receipt."""

    actor: str
    method: Method

    @classmethod
    def by_donor(cls, donor_id: str, method: Method = "donor-self-service") -> Collection:
        """The donor acting themselves."""
        return cls(f"donor:{donor_id}", method)


EXPIRY = Collection("system:expiry", "expiry")


@dataclass(frozen=True)
class ConsentState:
    """The state of a consent at an instant, derived from its events."""

    status: Status
    text_id: int | None
    since: datetime | None
    valid_until: datetime | None


def derive_state(events: list[ConsentEvent], at: datetime) -> ConsentState:
    """Replay the events up to ``at``: active, withdrawn, expired, or none (nothing given yet)."""
    state = ConsentState("none", None, None, None)
    for event in sorted(events, key=lambda e: (e.at, e.id)):
        if event.at > at:
            break
        if event.event in ("given", "renewed"):
            state = ConsentState("active", event.text_id, event.at, event.valid_until)
        elif event.event in ("withdrawn", "expired"):
            state = ConsentState(event.event, state.text_id, event.at, None)  # type: ignore[arg-type]
    if state.status == "active" and state.valid_until is not None and state.valid_until <= at:
        state = ConsentState("expired", state.text_id, state.valid_until, None)
    return state


def lock_donor(session: Session, donor_id: str) -> Donor:
    """The donor's row, locked for this transaction; :class:`NotFound` if absent or erased."""
    donor = session.scalars(select(Donor).where(Donor.id == donor_id).with_for_update()).first()
    if donor is None or donor.erased_at is not None:
        raise NotFound(f"no donor {donor_id!r}")
    return donor


def events_of(session: Session, consent_id: str) -> list[ConsentEvent]:
    """The events of a consent, oldest first."""
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.consent_id == consent_id)
            .order_by(ConsentEvent.at, ConsentEvent.id)
        )
    )


def state_of(session: Session, consent: Consent, at: datetime | None = None) -> ConsentState:
    """The consent's state at ``at`` (now by default)."""
    return derive_state(events_of(session, consent.id), at or utcnow())


def get_consent(session: Session, *, donor_id: str, consent_id: str) -> Consent:
    """The donor's consent ``consent_id``; another donor's consent is :class:`NotFound` too."""
    consent = session.get(Consent, consent_id)
    if consent is None or consent.donor_id != donor_id:
        raise NotFound("no such consent among yours")
    return consent


def list_consents(session: Session, donor_id: str) -> list[Consent]:
    """The donor's consents, oldest first."""
    return list(
        session.scalars(
            select(Consent).where(Consent.donor_id == donor_id).order_by(Consent.created_at, Consent.id)
        )
    )


def _open_period(session: Session, consent: Consent) -> ConsentPeriod | None:
    return session.scalars(
        select(ConsentPeriod).where(
            ConsentPeriod.consent_id == consent.id,
            ConsentPeriod.ended_at.is_(None),
            ConsentPeriod.void.is_(False),
        )
    ).first()


def record_event(
    session: Session,
    *,
    consent: Consent,
    event: EventKind,
    at: datetime,
    text: ConsentText,
    signer: Signer,
    collection: Collection,
    valid_until: datetime | None = None,
    reason: str = "",
    sign_now: bool = True,
) -> ConsentEvent:
    """Append an event (with its receipt) and update the periods eligibility reads."""
    key = keys.active_key(session, secret=signer.secret)
    ends = None
    if event in ("withdrawn", "expired"):
        ends = session.scalar(
            select(ConsentEvent.record_id)
            .where(ConsentEvent.consent_id == consent.id, ConsentEvent.event.in_(("given", "renewed")))
            .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc())
            .limit(1)
        )
    row = ConsentEvent(
        record_id=str(uuid.uuid4()),
        consent_id=consent.id,
        event=event,
        at=at,
        text_id=text.id,
        valid_until=valid_until,
        reason=reason,
        actor=collection.actor,
        method=collection.method,
        ends_record_id=ends,
        kid=key.kid,
    )
    # The event goes into the public log as a salted commitment only the receipt's holder can open.
    salt = os.urandom(16)
    logged = transparency.record_commitment(session, transparency.commitment(salt, row.record_id))
    row.log_index, row.commitment_salt = logged.id - 1, salt.hex()
    session.add(row)
    period = _open_period(session, consent)
    if period is not None:
        # A renewal supersedes the running period; a withdrawal ends it; an expiry is recorded at
        # the instant the period already ran out.
        period.ended_at = period.valid_until if event == "expired" else at
    if event in ("given", "renewed"):
        session.add(
            ConsentPeriod(
                consent_id=consent.id,
                donor_id=consent.donor_id,
                text_id=text.id,
                valid_from=at,
                valid_until=valid_until,
                ended_at=None,
            )
        )
    session.flush()
    if sign_now:
        issue(session, event=row, signer=signer)
    if event != "expired":  # an expiry changes no answer: the period already stopped counting
        eligibility.bump(session)
    session.flush()
    return row


def _valid_until(text: ConsentText, at: datetime, duration_days: int | None) -> datetime | None:
    if duration_days is not None:
        if text.duration_days is not None and duration_days > text.duration_days:
            raise InvalidInput(f"this consent lasts at most {text.duration_days} days")
        return at + timedelta(days=duration_days)
    return at + timedelta(days=text.duration_days) if text.duration_days else None


def _check_version(program: Program, text: ConsentText, text_version: int) -> None:
    if text_version != text.version:
        raise Conflict(
            f"the consent text of {program.id!r} is now version {text.version} "
            f"(you read version {text_version}): read the current text and consent again"
        )


def grant(
    session: Session,
    *,
    donor_id: str,
    program_id: str,
    text_version: int,
    signer: Signer,
    duration_days: int | None = None,
    at: datetime | None = None,
    collection: Collection | None = None,
) -> tuple[Consent, bool]:
    """Give consent to a program on the text version the donor read.

    Returns the consent and whether anything changed: consent already in force on the same version
    changes nothing; in force on an older version it is ``renewed`` on the current one; withdrawn or
    expired it is ``given`` again. A text version other than the current one is a :class:`Conflict`.
    """
    lock_donor(session, donor_id)
    at = at or utcnow()  # read the clock once the lock is held: events of a donor stay in order
    by = collection or Collection.by_donor(donor_id)
    program = programs.get_program(session, program_id)
    text = programs.current_text(session, program)
    _check_version(program, text, text_version)
    check_covers(session, donor_id=donor_id, text=text)
    until = _valid_until(text, at, duration_days)
    consent = session.scalars(
        select(Consent).where(Consent.donor_id == donor_id, Consent.program_id == program_id)
    ).first()
    if consent is None:
        consent = Consent(id=str(uuid.uuid4()), donor_id=donor_id, program_id=program_id, created_at=at)
        try:
            with session.begin_nested():
                session.add(consent)
                session.flush()
        except IntegrityError as exc:  # only without the donor lock (a caller that skipped it)
            raise Conflict("consent to this program was given at the same time; try again") from exc
        record_event(
            session,
            consent=consent,
            event="given",
            at=at,
            text=text,
            signer=signer,
            valid_until=until,
            collection=by,
        )
        return consent, True
    state = state_of(session, consent, at)
    if state.status == "active" and state.text_id == text.id:
        return consent, False
    if state.status == "expired":
        expire_due(session, signer=signer, at=at, donor_id=donor_id)
    kind: EventKind = "renewed" if state.status == "active" else "given"
    record_event(
        session,
        consent=consent,
        event=kind,
        at=at,
        text=text,
        signer=signer,
        valid_until=until,
        collection=by,
    )
    return consent, True


def linked_datasets(session: Session, donor_id: str) -> set[str]:
    """The datasets holding the donor's records, as their organisation linked them."""
    return set(session.scalars(select(DonorDataset.dataset_id).where(DonorDataset.donor_id == donor_id)))


def check_covers(session: Session, *, donor_id: str, text: ConsentText) -> None:
    """Refuse consent to a text version that covers none of the datasets holding the donor's records:
    it could release nothing of theirs, only someone else's records under the same pseudonym."""
    covered = set(session.scalars(select(TextDataset.dataset_id).where(TextDataset.text_id == text.id)))
    held = linked_datasets(session, donor_id)
    if covered & held:
        return
    if held:
        raise InvalidInput(
            f"this program covers {', '.join(sorted(covered))}, and none of them holds your records "
            f"(they are in {', '.join(sorted(held))}): there is nothing of yours to consent to"
        )
    raise InvalidInput(
        "no dataset holds records of yours yet (the organisation that donates them links them to "
        "you when it registers you): there is nothing of yours to consent to"
    )


def renew(
    session: Session,
    *,
    donor_id: str,
    consent_id: str,
    text_version: int,
    signer: Signer,
    duration_days: int | None = None,
    at: datetime | None = None,
    collection: Collection | None = None,
) -> Consent:
    """Renew a consent that is in force or has expired, on the current text version."""
    lock_donor(session, donor_id)
    at = at or utcnow()  # read the clock once the lock is held: events of a donor stay in order
    consent = get_consent(session, donor_id=donor_id, consent_id=consent_id)
    state = state_of(session, consent, at)
    if state.status in ("withdrawn", "none"):
        raise Conflict("a withdrawn consent cannot be renewed: give it again with POST /consents")
    program = programs.get_program(session, consent.program_id)
    text = programs.current_text(session, program)
    _check_version(program, text, text_version)
    check_covers(session, donor_id=donor_id, text=text)
    if state.status == "expired":
        expire_due(session, signer=signer, at=at, donor_id=donor_id)
    record_event(
        session,
        consent=consent,
        event="renewed",
        at=at,
        text=text,
        signer=signer,
        valid_until=_valid_until(text, at, duration_days),
        collection=collection or Collection.by_donor(donor_id),
    )
    return consent


def withdraw(
    session: Session,
    *,
    donor_id: str,
    consent_id: str,
    signer: Signer,
    at: datetime | None = None,
    reason: str = "withdrawn by the donor",
    collection: Collection | None = None,
) -> Consent:
    """Withdraw a consent now: from this instant no query uses the donor's records for it."""
    lock_donor(session, donor_id)
    at = at or utcnow()  # read the clock once the lock is held: events of a donor stay in order
    consent = get_consent(session, donor_id=donor_id, consent_id=consent_id)
    state = state_of(session, consent, at)
    if state.status != "active":
        raise Conflict(f"this consent is not in force (it is {state.status})")
    text = session.get(ConsentText, state.text_id)
    assert text is not None
    record_event(
        session,
        consent=consent,
        event="withdrawn",
        at=at,
        text=text,
        signer=signer,
        reason=reason,
        collection=collection or Collection.by_donor(donor_id),
    )
    return consent


def expire_due(
    session: Session, *, signer: Signer, at: datetime | None = None, donor_id: str | None = None
) -> int:
    """Record an ``expired`` event (with receipt) for every period that ran out by ``at``.

    Eligibility never waits for this (an expired period stops counting at its expiry instant); the
    event makes the expiry part of the donor's record and gives them a receipt. Returns how many.
    """
    at = at or utcnow()
    query = select(ConsentPeriod).where(
        ConsentPeriod.ended_at.is_(None),
        ConsentPeriod.void.is_(False),
        ConsentPeriod.valid_until.is_not(None),
        ConsentPeriod.valid_until <= at,
    )
    if donor_id is not None:
        query = query.where(ConsentPeriod.donor_id == donor_id)
    count = 0
    for period in list(session.scalars(query)):
        consent = session.get(Consent, period.consent_id)
        text = session.get(ConsentText, period.text_id)
        assert consent is not None and text is not None and period.valid_until is not None
        record_event(
            session,
            consent=consent,
            event="expired",
            at=period.valid_until,
            text=text,
            signer=signer,
            reason="the consent's duration ended",
            collection=EXPIRY,
        )
        count += 1
    return count


def receipt_status(session: Session, record_id: str, at: datetime | None = None) -> dict[str, object]:
    """Whether the consent the receipt ``record_id`` records is in force at ``at`` (now by default)."""
    at = at or utcnow()
    event = session.scalars(select(ConsentEvent).where(ConsentEvent.record_id == record_id)).first()
    if event is None:
        raise NotFound("no consent record with this id")
    consent = session.get(Consent, event.consent_id)
    assert consent is not None
    events = events_of(session, consent.id)
    state = derive_state(events, at)
    return {
        "record_id": record_id,
        "event": event.event,
        "consent_status": state.status,
        "active": state.status == "active",
        "since": state.since,
        "valid_until": state.valid_until,
        "superseded": any((e.at, e.id) > (event.at, event.id) and e.at <= at for e in events),
        "checked_at": at,
    }


def find_event(session: Session, *, consent: Consent, event_id: int | None) -> ConsentEvent:
    """One event of a consent (its latest by default)."""
    events = events_of(session, consent.id)
    if event_id is None:
        if not events:  # pragma: no cover - a consent is created with its first event
            raise NotFound("this consent has no events")
        return events[-1]
    for event in events:
        if event.id == event_id:
            return event
    raise NotFound(f"no event {event_id} in this consent")
