"""privacy: budget ledger and releases

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import datacommons.db


revision = "0005"
down_revision = "0002"
branch_labels = ("privacy",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budget_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("spent_nano", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_budget_accounts_version_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_accounts")),
        sa.UniqueConstraint("version_id", "scope", name="uq_budget_accounts_scope"),
    )
    op.create_table(
        "dp_releases",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=100), nullable=False),
        sa.Column("query_hash", sa.String(length=64), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("donors", sa.Integer(), nullable=False),
        sa.Column("created_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dp_releases_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_dp_releases_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dp_releases_version_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dp_releases")),
        sa.UniqueConstraint(
            "version_id", "organisation_id", "kind", "query_hash", name="uq_dp_releases_repeat"
        ),
    )
    with op.batch_alter_table("dp_releases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dp_releases_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dp_releases_organisation_id"), ["organisation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dp_releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dp_releases_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_dp_releases_dataset_id"))

    op.drop_table("dp_releases")
    op.drop_table("budget_accounts")
