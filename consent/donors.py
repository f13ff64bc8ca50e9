"""Donors: self-registration, registration by an organisation with one-time claim codes, the donor's
own view and export, and erasure by crypto-shredding.

A donor is known by the commons' own opaque id. A donor registered by an organisation also has that
organisation's pseudonym (unique within it only) and a link to their records in each dataset, which
is what binds their consent to those records and to no one else's. Name and e-mail, when given, are
stored only encrypted under the donor's own data key (:mod:`consent.crypto`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from consent import eligibility, ledger, privacy_loss, programs, receipts, tlog
from consent.crypto import (
    InvalidTag,
    decrypt_field,
    encrypt_field,
    new_data_key,
    unwrap_key,
    wrap_key,
)
from consent.models import (
    Consent,
    ConsentPeriod,
    ConsentText,
    Donor,
    DonorDataset,
    DonorKey,
    Program,
    TextDataset,
)
from consent.receipts import Signer
from datacommons import auth, redaction
from datacommons.auth import ApiToken, Organisation
from datacommons.db import iso, utcnow
from datacommons.errors import Conflict, InvalidInput, NotFound

PSEUDONYM_MAX = 64


def new_donor_id() -> str:
    """A fresh donor id: the commons' own name for a person, opaque and never reused."""
    return "dn-" + secrets.token_hex(8)


def _hash_code(donor_id: str, code: str) -> str:
    return hashlib.sha256(f"{donor_id}:{code}".encode()).hexdigest()


def set_personal_data(
    session: Session, *, donor: Donor, kek: bytes, name: str | None, email: str | None
) -> None:
    """Store name and e-mail encrypted under the donor's data key (created if the donor has none)."""
    if name is None and email is None:
        return
    record = session.get(DonorKey, donor.id)
    if record is None:
        data_key = new_data_key()
        session.add(DonorKey(donor_id=donor.id, wrapped_key=wrap_key(kek, data_key, donor_id=donor.id)))
    else:
        data_key = unwrap_key(kek, record.wrapped_key, donor_id=donor.id)
    if name is not None:
        donor.name_ct = encrypt_field(data_key, name, donor_id=donor.id, field="name")
    if email is not None:
        donor.email_ct = encrypt_field(data_key, email, donor_id=donor.id, field="email")
    session.flush()


def personal_data(session: Session, *, donor: Donor, kek: bytes) -> dict[str, str | None]:
    """The donor's name and e-mail in clear (None where absent, or shredded by erasure)."""
    record = session.get(DonorKey, donor.id)
    if record is None:
        return {"name": None, "email": None}
    data_key = unwrap_key(kek, record.wrapped_key, donor_id=donor.id)
    out: dict[str, str | None] = {}
    for field in ("name", "email"):
        sealed = getattr(donor, f"{field}_ct")
        try:
            out[field] = decrypt_field(data_key, sealed, donor_id=donor.id, field=field) if sealed else None
        except InvalidTag:  # pragma: no cover - only if the database was tampered with
            out[field] = None
    return out


def _check_email(email: str | None) -> None:
    if email is not None and ("@" not in email or len(email) > 320 or " " in email.strip()):
        raise InvalidInput("that does not look like an e-mail address")


def register_self(
    session: Session, *, kek: bytes, name: str | None = None, email: str | None = None
) -> tuple[Donor, str]:
    """A donor registers themselves: a new donor id and a donor token (its value returned once)."""
    _check_email(email)
    donor = Donor(id=new_donor_id(), source="self")
    session.add(donor)
    session.flush()
    set_personal_data(session, donor=donor, kek=kek, name=name, email=email)
    _token, clear = auth.create_token(session, role="donor", name=f"donor {donor.id}", donor_id=donor.id)
    return donor, clear


def register_for_organisation(
    session: Session,
    *,
    organisation: str,
    donor_ids: list[str],
    dataset_ids: list[str],
    with_codes: bool = True,
) -> list[dict[str, Any]]:
    """An organisation registers the donors whose records it donates to ``dataset_ids``.

    ``donor_ids`` are the organisation's own pseudonyms, the values its records carry in the
    datasets' privacy-unit column; they are unique within the organisation only. Each person gets
    the commons' own donor id and, while not yet claimed, a fresh one-time claim code (returned here
    and never again) to give to the person, who claims their identity with it (:func:`claim`).
    Registering again adds datasets and replaces unclaimed codes. A pseudonym another donor already
    holds in one of the datasets is a :class:`Conflict`: it would bind one person's consent to
    another's records.
    """
    if not donor_ids:
        raise InvalidInput("give at least one donor id")
    for pseudonym in donor_ids:
        if not pseudonym or len(pseudonym) > PSEUDONYM_MAX or not pseudonym.isprintable():
            raise InvalidInput(f"invalid donor id {pseudonym!r}")
    if not dataset_ids:
        raise InvalidInput("give at least one dataset the donors' records are in")
    pseudonyms = list(dict.fromkeys(donor_ids))
    org = auth.get_or_create_organisation(session, organisation)
    existing = {
        d.pseudonym: d
        for d in session.scalars(
            select(Donor).where(Donor.organisation_id == org.id, Donor.pseudonym.in_(pseudonyms))
        )
    }
    out = []
    for pseudonym in pseudonyms:
        donor = existing.get(pseudonym)
        if donor is None:
            donor = Donor(
                id=new_donor_id(), source="organisation", organisation_id=org.id, pseudonym=pseudonym
            )
            session.add(donor)
            existing[pseudonym] = donor
        code = None
        if with_codes and donor.claimed_at is None:
            code = secrets.token_urlsafe(12)
            donor.claim_code_hash = _hash_code(donor.id, code)
        out.append({"donor_id": donor.id, "pseudonym": pseudonym, "claim_code": code})
    session.flush()
    ids = {existing[p].id: p for p in pseudonyms}
    held = {
        (r.dataset_id, r.pseudonym): r.donor_id
        for r in session.execute(
            select(DonorDataset.donor_id, DonorDataset.dataset_id, DonorDataset.pseudonym).where(
                DonorDataset.dataset_id.in_(dataset_ids), DonorDataset.pseudonym.in_(pseudonyms)
            )
        )
    }
    for donor_id, pseudonym in ids.items():
        for dataset_id in dict.fromkeys(dataset_ids):
            holder = held.get((dataset_id, pseudonym))
            if holder is None and redaction.is_erased(session, dataset_id, pseudonym):
                raise Conflict(
                    f"{pseudonym} in {dataset_id} belonged to a donor who was erased: "
                    "give this person a pseudonym of their own"
                )
            if holder is None:
                session.add(DonorDataset(donor_id=donor_id, dataset_id=dataset_id, pseudonym=pseudonym))
            elif holder != donor_id:
                raise Conflict(
                    f"the records of {pseudonym} in {dataset_id} belong to a donor another "
                    "organisation registered: use pseudonyms that name only your own donors"
                )
    eligibility.bump(session)  # a new link can make a consent cover records it did not before
    session.flush()
    return out


def claim(
    session: Session,
    *,
    donor_id: str,
    code: str,
    kek: bytes,
    name: str | None = None,
    email: str | None = None,
) -> tuple[Donor, str]:
    """A person claims the donor record their organisation registered, with its one-time code."""
    _check_email(email)
    donor = session.scalars(select(Donor).where(Donor.id == donor_id).with_for_update()).first()
    # One answer for every failure, so the endpoint does not reveal which donor ids exist.
    if (
        donor is None
        or donor.erased_at is not None
        or donor.claim_code_hash is None
        or not hmac.compare_digest(donor.claim_code_hash, _hash_code(donor_id, code))
    ):
        raise NotFound("unknown donor id or claim code (a code works only once)")
    donor.claim_code_hash = None
    donor.claimed_at = utcnow()
    set_personal_data(session, donor=donor, kek=kek, name=name, email=email)
    _token, clear = auth.create_token(session, role="donor", name=f"donor {donor.id}", donor_id=donor.id)
    return donor, clear


def get_donor(session: Session, donor_id: str) -> Donor:
    """A donor who has not been erased, or :class:`NotFound`."""
    donor = session.get(Donor, donor_id)
    if donor is None or donor.erased_at is not None:
        raise NotFound("no such donor (it may have been erased)")
    return donor


def contributed_datasets(session: Session, donor_id: str) -> set[str]:
    """The datasets a donor contributed to: registered for by their organisation, or covered by a
    text version they consented to."""
    registered = ledger.linked_datasets(session, donor_id)
    consented = set(
        session.scalars(
            select(TextDataset.dataset_id)
            .join(ConsentPeriod, ConsentPeriod.text_id == TextDataset.text_id)
            .where(ConsentPeriod.donor_id == donor_id)
        )
    )
    return registered | consented


def consent_public(
    session: Session,
    consent: Consent,
    *,
    at: datetime | None = None,
    with_events: bool = True,
    signer: Signer | None = None,
) -> dict[str, Any]:
    """A consent as its donor sees it: program, state derived from the events, and the events."""
    at = at or utcnow()
    events = ledger.events_of(session, consent.id)
    state = ledger.derive_state(events, at)
    program = session.get(Program, consent.program_id)
    assert program is not None
    text = session.get(ConsentText, state.text_id) if state.text_id else None
    out: dict[str, Any] = {
        "id": consent.id,
        "program_id": consent.program_id,
        "purpose": program.purpose,
        "status": state.status,
        "since": state.since,
        "valid_until": state.valid_until,
        "text_version": text.version if text else None,
        "text_sha256": text.sha256 if text else None,
        "created_at": consent.created_at,
    }
    if with_events:
        versions = {t.id: t.version for t in programs.list_texts(session, program)}
        out["events"] = [
            {
                "id": e.id,
                "record_id": e.record_id,
                "event": e.event,
                "at": e.at,
                "text_version": versions.get(e.text_id),
                "valid_until": e.valid_until,
                "reason": e.reason or None,
                "actor": e.actor or None,
                "method": e.method or "unrecorded",
                "ends_record_id": e.ends_record_id,
                "kid": e.kid,
                **({"receipt": receipts.render(session, event=e, signer=signer)} if signer else {}),
            }
            for e in events
        ]
    return out


#: How many of the releases that included a donor their profile lists (newest first).
PROFILE_RELEASES = 100


def privacy_loss_public(session: Session, *, donor_id: str, cap: float) -> dict[str, Any]:
    """The donor's lifetime privacy loss, the cap, and the newest releases that included them."""
    spent, count, releases = privacy_loss.history(session, donor_id, limit=PROFILE_RELEASES)
    return {
        "epsilon_spent": round(spent, 9),
        "epsilon_cap": cap,
        "epsilon_remaining": max(0.0, round(cap - spent, 9)),
        "releases": count,
        "recent": releases,
    }


def uses_of(session: Session, donor_id: str) -> list[dict[str, Any]]:
    """The releases and extracts that included the donor's records, newest first: the donor's own
    per-person ledger, never the datasets' whole log (which would show uses before the donor came,
    and uses of records that are not theirs)."""
    get_donor(session, donor_id)
    return with_proofs(session, privacy_loss.history(session, donor_id)[2])


def with_proofs(session: Session, uses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each use with the inclusion proof of its leaf against the log's latest tree, so the donor can
    check it against a checkpoint without trusting the commons."""
    size = tlog.tree_size(session)
    proofs = tlog.Tree(session, size).inclusion_proofs(
        sorted({u["log_index"] for u in uses if u.get("log_index") is not None and u["log_index"] < size})
    )
    out = []
    for use in uses:
        index = use.get("log_index")
        if isinstance(index, int) and index in proofs:
            proof = proofs[index]
            use = {**use, "tree_size": size, "inclusion_proof": [base64.b64encode(p).decode() for p in proof]}
        out.append(use)
    return out


def profile(session: Session, *, donor_id: str, kek: bytes, epsilon_per_person: float) -> dict[str, Any]:
    """What the donor sees on their page: pseudonym, personal data, datasets, consents and their
    privacy loss so far."""
    donor = get_donor(session, donor_id)
    org = session.get(Organisation, donor.organisation_id) if donor.organisation_id else None
    return {
        "donor_id": donor.id,
        "source": donor.source,
        "organisation": org.name if org else None,
        "registered_at": donor.created_at,
        "claimed_at": donor.claimed_at,
        **personal_data(session, donor=donor, kek=kek),
        "datasets": sorted(contributed_datasets(session, donor.id)),
        "linked": sorted(ledger.linked_datasets(session, donor.id)),
        "consents": [
            consent_public(session, c, with_events=False) for c in ledger.list_consents(session, donor.id)
        ],
        "privacy_loss": privacy_loss_public(session, donor_id=donor.id, cap=epsilon_per_person),
    }


def export(session: Session, *, donor_id: str, signer: Signer, epsilon_per_person: float) -> dict[str, Any]:
    """Everything held about the donor, as one JSON document (GDPR arts. 15 and 20)."""
    data = profile(session, donor_id=donor_id, kek=signer.kek, epsilon_per_person=epsilon_per_person)
    data["uses"] = data["privacy_loss"]["recent"] = with_proofs(
        session, privacy_loss.history(session, donor_id)[2]
    )
    data["consents"] = [
        consent_public(session, c, signer=signer) for c in ledger.list_consents(session, donor_id)
    ]
    tokens = session.scalars(select(ApiToken).where(ApiToken.donor_id == donor_id))
    data["tokens"] = [
        {"hint": t.hint, "created_at": t.created_at, "expires_at": t.expires_at, "revoked_at": t.revoked_at}
        for t in tokens
    ]
    data["exported_at"] = iso(utcnow())
    data["format"] = "datacommons-donor-export/1"
    return data


def erase(session: Session, *, donor_id: str, signer: Signer, at: datetime | None = None) -> dict[str, Any]:
    """Erase a donor: withdraw every consent in force, shred the data key, revoke their tokens.

    Returns the instant and the withdrawals' signed receipts: the donor's proof that their consents
    ended, given to them now, since their token no longer works afterwards; and ``records``, the
    pseudonym of their records in each dataset, for the caller to redact them
    (:func:`datacommons.redaction.redact`).

    From this instant no release or extract uses their records; earlier ones are left as they were.
    The pseudonymous consent events stay (DGA art. 21 records), with nothing left to re-identify.
    """
    ledger.lock_donor(session, donor_id)
    at = at or utcnow()
    receipts = []
    for consent in ledger.list_consents(session, donor_id):
        if ledger.state_of(session, consent, at).status == "active":
            ledger.withdraw(
                session,
                donor_id=donor_id,
                consent_id=consent.id,
                signer=signer,
                at=at,
                reason="erasure requested by the donor",
                collection=ledger.Collection.by_donor(donor_id, "erasure"),
            )
            event = ledger.events_of(session, consent.id)[-1]
            receipts.append(
                {
                    "consent_id": consent.id,
                    "program_id": consent.program_id,
                    "record_id": event.record_id,
                    "event": event.event,
                    "receipt": event.receipt,
                }
            )
    session.execute(update(ConsentPeriod).where(ConsentPeriod.donor_id == donor_id).values(void=True))
    session.execute(delete(DonorKey).where(DonorKey.donor_id == donor_id))
    privacy_loss.forget(session, donor_id)
    session.execute(
        update(ApiToken)
        .where(ApiToken.donor_id == donor_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    records = {
        link.dataset_id: link.pseudonym
        for link in session.scalars(select(DonorDataset).where(DonorDataset.donor_id == donor_id))
    }
    session.execute(delete(DonorDataset).where(DonorDataset.donor_id == donor_id))
    donor = session.get(Donor, donor_id)
    assert donor is not None
    donor.erased_at = at
    donor.claim_code_hash = None
    donor.pseudonym = None  # the organisation may give it to someone else
    eligibility.bump(session)
    session.flush()
    return {"donor_id": donor_id, "erased_at": at, "receipts": receipts, "records": records}
