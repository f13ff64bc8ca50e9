"""consent: releases made before the per-person ledger are charged to the donors they included

Each release so far, oldest first, charges its epsilon to the donors whose consent covered it at the
time it was made (the eligibility the engine used then: consent for the purpose and a link to the
records), with no cap, so every donor's recorded loss is what they really spent. A database whose
ledger already holds releases (replayed by revision 0007 as it first was) is left alone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from datacommons.db import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _replay_releases()


def _replay_releases() -> None:
    """Charge every release made so far to the donors it included (their consent at the time)."""
    from sqlalchemy.orm import Session

    from consent.privacy_loss import Use, charge, inclusion

    bind = op.get_bind()
    releases = bind.execute(
        sa.text(
            "SELECT r.id, r.kind, r.dataset_id, v.number, o.name, r.purpose, r.epsilon, r.created_at "
            "FROM dp_releases r JOIN dataset_versions v ON v.id = r.version_id "
            "LEFT JOIN organisations o ON o.id = r.organisation_id "
            "ORDER BY r.created_at, r.id"
        ).columns(created_at=UTCDateTime(timezone=True))
    ).all()
    if not releases or bind.execute(sa.text("SELECT COUNT(*) FROM privacy_loss_nodes")).scalar():
        return  # nothing to replay, or replayed already (by revision 0007 as it first was)
    leaves = _leaves_of_releases(bind)
    session = Session(bind=bind)
    for release_id, kind, dataset_id, version, organisation, purpose, epsilon, at in releases:
        donors = _eligible_at(session, dataset_id, purpose, at)
        cap = 1e9  # no cap: the loss recorded is what was really spent
        chosen = inclusion(session, donors=donors, epsilon=epsilon, cap=cap)
        charge(
            session,
            eligible=donors,
            chosen=chosen,
            epsilon=epsilon,
            cap=cap,
            use=Use(
                release_id=release_id,
                kind="release" if kind == "query" else kind,
                dataset_id=dataset_id,
                version=version,
                organisation=organisation,
                purpose=purpose,
                epsilon=epsilon,
                at=at,
                log_index=leaves.get(release_id),
            ),
        )
    session.flush()


def _leaves_of_releases(bind) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The transparency-log leaf of each release, by release id."""
    found = {}
    for entry_id, details in bind.execute(sa.text("SELECT id, details FROM transparency_log")):
        data = json.loads(details) if isinstance(details, str) else (details or {})
        if data.get("release_id"):
            found[str(data["release_id"])] = int(entry_id) - 1
    return found


def _eligible_at(session, dataset_id: str, purpose: str, at) -> frozenset[str]:  # type: ignore[no-untyped-def]
    """Who eligibility included at ``at``, with only the columns it needs (the live
    :mod:`consent.eligibility` reads columns later revisions add)."""
    periods = sa.table(
        "consent_periods",
        sa.column("donor_id", sa.String()),
        sa.column("text_id", sa.Integer()),
        sa.column("void", sa.Boolean()),
        sa.column("valid_from", UTCDateTime(timezone=True)),
        sa.column("valid_until", UTCDateTime(timezone=True)),
        sa.column("ended_at", UTCDateTime(timezone=True)),
    )
    texts = sa.table("consent_text_datasets", sa.column("text_id"), sa.column("dataset_id"))
    consent_texts = sa.table("consent_texts", sa.column("id"), sa.column("program_id"))
    programs = sa.table("consent_programs", sa.column("id"), sa.column("purpose"))
    links = sa.table("donor_datasets", sa.column("donor_id"), sa.column("dataset_id"))
    scope = (
        sa.select(texts.c.text_id)
        .join(consent_texts, consent_texts.c.id == texts.c.text_id)
        .join(programs, programs.c.id == consent_texts.c.program_id)
        .where(texts.c.dataset_id == dataset_id, programs.c.purpose == purpose)
    )
    query = sa.select(periods.c.donor_id).where(
        periods.c.text_id.in_(scope),
        periods.c.void.is_(False),
        periods.c.valid_from <= at,
        sa.or_(periods.c.ended_at.is_(None), periods.c.ended_at > at),
        sa.or_(periods.c.valid_until.is_(None), periods.c.valid_until > at),
        periods.c.donor_id.in_(sa.select(links.c.donor_id).where(links.c.dataset_id == dataset_id)),
    )
    return frozenset(session.scalars(query))


def downgrade() -> None:
    """Nothing to undo: the ledger's tables go with revision 0007."""
