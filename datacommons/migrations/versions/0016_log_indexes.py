"""consent: indexes for the public log's filters (kind, organisation, period), newest first

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transparency_log_kind_id", "transparency_log", ["kind", "id"])
    op.create_index("ix_transparency_log_organisation_id", "transparency_log", ["organisation", "id"])
    op.create_index("ix_transparency_log_at", "transparency_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_transparency_log_at", table_name="transparency_log")
    op.drop_index("ix_transparency_log_organisation_id", table_name="transparency_log")
    op.drop_index("ix_transparency_log_kind_id", table_name="transparency_log")
