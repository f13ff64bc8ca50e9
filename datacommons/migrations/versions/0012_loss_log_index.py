"""consent: each release in a donor's history points at its leaf in the transparency log

``privacy_loss_nodes.log_index`` is the release's leaf index; it is filled here from the log entries
that name the release.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("privacy_loss_nodes", sa.Column("log_index", sa.BigInteger(), nullable=True))
    bind = op.get_bind()
    found = []
    for entry_id, details in bind.execute(sa.text("SELECT id, details FROM transparency_log")):
        data = json.loads(details) if isinstance(details, str) else (details or {})
        if data.get("release_id"):
            found.append({"release": data["release_id"], "index": entry_id - 1})
    if found:
        bind.execute(
            sa.text("UPDATE privacy_loss_nodes SET log_index = :index WHERE release_id = :release"), found
        )


def downgrade() -> None:
    with op.batch_alter_table("privacy_loss_nodes") as batch_op:
        batch_op.drop_column("log_index")
