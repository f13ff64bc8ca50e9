"""consent: the per-person privacy-loss ledger (every donor's lifetime epsilon)

The releases made before this ledger existed are replayed into it by revision 0014, which runs with
the schema today's ledger code writes (it replayed here at first; a database that went through that
keeps its ledger, and 0014 leaves it alone).

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from datacommons.db import UTCDateTime

revision = "0007"
down_revision = "0003"
branch_labels = None
depends_on = "0005"


def upgrade() -> None:
    op.create_table(
        "privacy_loss_nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("release_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("purpose", sa.String(length=100), nullable=False),
        sa.Column("epsilon_nano", sa.BigInteger(), nullable=False),
        sa.Column("spent_nano", sa.BigInteger(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["privacy_loss_nodes.id"],
            name=op.f("fk_privacy_loss_nodes_parent_id_privacy_loss_nodes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_loss_nodes")),
    )
    with op.batch_alter_table("privacy_loss_nodes") as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_loss_nodes_release_id"), ["release_id"])
    op.create_table(
        "privacy_loss_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["privacy_loss_nodes.id"],
            name=op.f("fk_privacy_loss_groups_node_id_privacy_loss_nodes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_loss_groups")),
    )
    op.create_table(
        "privacy_loss_members",
        sa.Column("donor_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("moved", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("donor_id", name=op.f("pk_privacy_loss_members")),
    )
    with op.batch_alter_table("privacy_loss_members") as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_loss_members_group_id"), ["group_id"])
        batch_op.create_index(batch_op.f("ix_privacy_loss_members_moved"), ["moved"])
    op.create_table(
        "privacy_loss_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_loss_state")),
    )
    op.bulk_insert(
        sa.table(
            "privacy_loss_state",
            sa.column("id", sa.Integer()),
            sa.column("membership", sa.BigInteger()),
            sa.column("nonce", sa.String()),
        ),
        # the same seed in every new database (a backup's restore checks that the
        # target holds only what migrations seed); each move writes a random nonce
        [{"id": 1, "membership": 0, "nonce": ""}],
    )


def downgrade() -> None:
    op.drop_table("privacy_loss_state")
    op.drop_table("privacy_loss_members")
    op.drop_table("privacy_loss_groups")
    op.drop_table("privacy_loss_nodes")
