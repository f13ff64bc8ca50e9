"""consent: every consent event is logged as a salted commitment in the transparency log

``consent_events.log_index`` is the commitment's leaf, ``commitment_salt`` the salt that opens it
(its receipt carries both). Events from before this revision were not logged and have neither.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("consent_events", sa.Column("log_index", sa.BigInteger(), nullable=True))
    op.add_column("consent_events", sa.Column("commitment_salt", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_events") as batch_op:
        batch_op.drop_column("commitment_salt")
        batch_op.drop_column("log_index")
