"""validation_reports: one stored report per run of the quality gate

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from datacommons.db import UTCDateTime

revision = "0004"
down_revision = "0002"
branch_labels = ("quality",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "validation_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_validation_reports_version_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_reports")),
    )
    with op.batch_alter_table("validation_reports") as batch_op:
        batch_op.create_index(batch_op.f("ix_validation_reports_version_id"), ["version_id"])
        batch_op.create_index(batch_op.f("ix_validation_reports_dataset_id"), ["dataset_id"])


def downgrade() -> None:
    with op.batch_alter_table("validation_reports") as batch_op:
        batch_op.drop_index(batch_op.f("ix_validation_reports_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_validation_reports_version_id"))
    op.drop_table("validation_reports")
