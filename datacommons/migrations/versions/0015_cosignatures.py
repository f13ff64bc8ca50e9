"""consent: the cosignatures witnesses send for the log's checkpoints

One row per witness and tree size: the C2SP tlog-cosignature line, its key ID and timestamp.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from datacommons.db import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transparency_cosignatures",
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("cosigned_at", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("witness", "tree_size", name=op.f("pk_transparency_cosignatures")),
    )


def downgrade() -> None:
    op.drop_table("transparency_cosignatures")
