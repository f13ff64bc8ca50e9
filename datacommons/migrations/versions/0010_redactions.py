"""redaction: erased donors' records leave every dataset version

``dataset_redactions`` records each version rewritten without an erased donor's rows;
``erased_units`` keeps a digest of each erased (dataset, pseudonym) so later donations drop them too.
Erasures made before this revision are not replayed: their donors' links were deleted with them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from datacommons.db import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_redactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("rows_removed", sa.Integer(), nullable=False),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dataset_redactions_version_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_redactions")),
    )
    with op.batch_alter_table("dataset_redactions") as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_redactions_version_id"), ["version_id"])
    op.create_table(
        "erased_units",
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("erased_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "digest", name=op.f("pk_erased_units")),
    )


def downgrade() -> None:
    op.drop_table("erased_units")
    op.drop_table("dataset_redactions")
