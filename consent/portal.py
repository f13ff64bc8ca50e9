"""The donor portal's data: one function assembles what a signed-in donor sees, beside the
``/donors/me`` API it shares :func:`consent.donors.profile` with; the web front only renders it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from consent import donors, ledger, programs


def portal(session: Session, *, donor_id: str, kek: bytes, epsilon_per_person: float) -> dict[str, Any]:
    """What a signed-in donor sees: their record, every program with its current text and the
    donor's consent to it, and every release that included their records."""
    consents = [
        donors.consent_public(session, c, with_events=False) for c in ledger.list_consents(session, donor_id)
    ]
    by_program = {c["program_id"]: c for c in consents}
    items = [
        {"program": programs.program_public(session, p), "consent": by_program.get(p.id)}
        for p in programs.list_programs(session)
    ]
    uses = donors.uses_of(session, donor_id)  # only the releases that included this donor
    return {
        "profile": donors.profile(session, donor_id=donor_id, kek=kek, epsilon_per_person=epsilon_per_person),
        "programs": items,
        "uses": uses,
    }
