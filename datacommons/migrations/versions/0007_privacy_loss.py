"""consent: the per-person privacy-loss ledger (every donor's lifetime epsilon)

The releases made before this ledger existed are replayed into it, oldest first: each charges its
epsilon to the donors whose consent covered it at the time it was made (the eligibility the engine
used), with no cap, so every donor's recorded loss is what they really spent.

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from datacommons.db import UTCDateTime

revision = "0007"
down_revision = "0003"
branch_labels = None
depends_on = "0005"


def upgrade() -> None:
    op.create_table(
        "privacy_loss_nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("release_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("purpose", sa.String(length=100), nullable=False),
        sa.Column("epsilon_nano", sa.BigInteger(), nullable=False),
        sa.Column("spent_nano", sa.BigInteger(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["privacy_loss_nodes.id"],
            name=op.f("fk_privacy_loss_nodes_parent_id_privacy_loss_nodes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_loss_nodes")),
    )
    with op.batch_alter_table("privacy_loss_nodes") as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_loss_nodes_release_id"), ["release_id"])
    op.create_table(
        "privacy_loss_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["privacy_loss_nodes.id"],
            name=op.f("fk_privacy_loss_groups_node_id_privacy_loss_nodes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_loss_groups")),
    )
    op.create_table(
        "privacy_loss_members",
        sa.Column("donor_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("moved", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("donor_id", name=op.f("pk_privacy_loss_members")),
    )
    with op.batch_alter_table("privacy_loss_members") as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_loss_members_group_id"), ["group_id"])
        batch_op.create_index(batch_op.f("ix_privacy_loss_members_moved"), ["moved"])
    op.create_table(
        "privacy_loss_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_loss_state")),
    )
    op.bulk_insert(
        sa.table(
            "privacy_loss_state",
            sa.column("id", sa.Integer()),
            sa.column("membership", sa.BigInteger()),
            sa.column("nonce", sa.String()),
        ),
        # the same seed in every new database (a backup's restore checks that the
        # target holds only what migrations seed); each move writes a random nonce
        [{"id": 1, "membership": 0, "nonce": ""}],
    )
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
    if not releases:
        return
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
            ),
        )
    session.flush()


def _eligible_at(session, dataset_id: str, purpose: str, at) -> frozenset[str]:  # type: ignore[no-untyped-def]
    """Who eligibility included at ``at``, with the schema of this revision (the live
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
    op.drop_table("privacy_loss_state")
    op.drop_table("privacy_loss_members")
    op.drop_table("privacy_loss_groups")
    op.drop_table("privacy_loss_nodes")
