"""privacy: budgets over a dataset's whole lineage, not per version

The accounts were keyed on the version, so a new version (a re-ingest of the same rows, a rollback,
a re-publication) opened a fresh budget over the same people. They are now keyed on the dataset; what
every version of a dataset spent is carried over as the sum of its versions' spending.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("spent_nano", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_budgets_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_budgets")),
        sa.UniqueConstraint("dataset_id", "scope", name="uq_dataset_budgets_scope"),
    )
    op.execute(
        "INSERT INTO dataset_budgets (dataset_id, scope, spent_nano) "
        "SELECT v.dataset_id, b.scope, SUM(b.spent_nano) FROM budget_accounts b "
        "JOIN dataset_versions v ON v.id = b.version_id GROUP BY v.dataset_id, b.scope"
    )
    op.drop_table("budget_accounts")


def downgrade() -> None:
    # Per-version accounts cannot be told apart again: the whole spending goes to the current version.
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
    op.execute(
        "INSERT INTO budget_accounts (version_id, scope, spent_nano) "
        "SELECT d.current_version_id, b.scope, b.spent_nano FROM dataset_budgets b "
        "JOIN datasets d ON d.id = b.dataset_id WHERE d.current_version_id IS NOT NULL"
    )
    op.drop_table("dataset_budgets")
