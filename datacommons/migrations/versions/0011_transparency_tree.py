"""consent: the transparency log becomes a Merkle tree (RFC 9162)

``transparency_nodes`` holds the hash of every complete subtree; it is filled here from the entries
already in the log, in order, with the leaf encoding of :mod:`consent.tlog`.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transparency_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_transparency_nodes")),
    )
    _fill()


def _fill() -> None:
    from sqlalchemy.orm import Session

    from consent import tlog
    from consent.models import TransparencyEntry

    session = Session(bind=op.get_bind())
    query = sa.select(TransparencyEntry).order_by(TransparencyEntry.id).execution_options(yield_per=1000)
    for entry in session.scalars(query):
        tlog.append(session, entry)
    session.flush()


def downgrade() -> None:
    op.drop_table("transparency_nodes")
