"""consent: who collected each consent and how, recipients, special categories, controller address

Every consent event now records its actor and collection method, and a withdrawal or expiry the
record it ends. Text versions name their recipients (the organisations, or classes of them, that may
use the data: the data-use agreement) and the special categories of data their datasets hold.

Events from before this revision are marked ``unrecorded`` (their actor was never stored); their
``ends_record_id`` is filled from the event they followed. Text versions from before it name no
recipients, so no organisation may query under them until a new version naming recipients is
published and donors consent to it: consent never stretches to recipients nobody was told of.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN with server defaults only: other tables' foreign keys point at these tables
    op.add_column(
        "consent_programs",
        sa.Column("controller_address", sa.String(length=300), nullable=False, server_default=""),
    )
    op.add_column("consent_texts", sa.Column("recipients", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column(
        "consent_texts", sa.Column("special_categories", sa.JSON(), nullable=False, server_default="[]")
    )
    op.add_column(
        "consent_events", sa.Column("actor", sa.String(length=200), nullable=False, server_default="")
    )
    op.add_column(
        "consent_events",
        sa.Column("method", sa.String(length=32), nullable=False, server_default="unrecorded"),
    )
    op.add_column("consent_events", sa.Column("ends_record_id", sa.String(length=36), nullable=True))
    _fill_ends()


def _fill_ends() -> None:
    """Each withdrawal or expiry ends the latest given or renewed event of its consent before it."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, consent_id, event, record_id FROM consent_events ORDER BY consent_id, at, id")
    ).all()
    last: dict[str, str] = {}
    ends = []
    for event_id, consent_id, event, record_id in rows:
        if event in ("given", "renewed"):
            last[consent_id] = record_id
        elif consent_id in last:
            ends.append({"id": event_id, "ends": last[consent_id]})
    if ends:
        bind.execute(sa.text("UPDATE consent_events SET ends_record_id = :ends WHERE id = :id"), ends)


def downgrade() -> None:
    for table, column in (
        ("consent_events", "ends_record_id"),
        ("consent_events", "method"),
        ("consent_events", "actor"),
        ("consent_texts", "special_categories"),
        ("consent_texts", "recipients"),
        ("consent_programs", "controller_address"),
    ):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column(column)
