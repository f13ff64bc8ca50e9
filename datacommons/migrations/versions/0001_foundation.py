"""foundation: datasets, versions, policies, tokens

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import datacommons.db


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # datasets.current_version_id and dataset_versions.dataset_id refer to each other: SQLite takes the
    # foreign key inline (it checks references only when rows arrive); others get it once both exist.
    inline_fk = op.get_bind().dialect.name == "sqlite"
    current_fk = (
        [
            sa.ForeignKeyConstraint(
                ["current_version_id"], ["dataset_versions.id"], name="fk_datasets_current_version"
            )
        ]
        if inline_fk
        else []
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title_it", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("description_it", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("theme", sa.String(length=16), nullable=False),
        sa.Column("publisher", sa.String(length=200), nullable=False),
        sa.Column("access", sa.String(length=16), nullable=False),
        sa.Column("geography", sa.String(length=32), nullable=False),
        sa.Column("licence", sa.String(length=300), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("frequency", sa.String(length=32), nullable=False),
        sa.Column("created_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        *current_fk,
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    op.create_table(
        "access_policies",
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("privacy_unit", sa.String(length=100), nullable=False),
        sa.Column("max_rows_per_unit", sa.Integer(), nullable=False),
        sa.Column("public_dimensions", sa.JSON(), nullable=False),
        sa.Column("epsilon_total", sa.Double(), nullable=False),
        sa.Column("epsilon_per_organisation", sa.Double(), nullable=False),
        sa.Column("epsilon_per_query", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_access_policies_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_access_policies")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("donor_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", datacommons.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", datacommons.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_api_tokens_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_donor_id"), ["donor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_tokens_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("arrow_schema", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("created_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("status_changed_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_versions_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_versions")),
        sa.UniqueConstraint("dataset_id", "content_hash", name="uq_dataset_versions_hash"),
        sa.UniqueConstraint("dataset_id", "number", name="uq_dataset_versions_number"),
    )
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_versions_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_versions_status"), ["status"], unique=False)
    if not inline_fk:
        op.create_foreign_key(
            "fk_datasets_current_version", "datasets", "dataset_versions", ["current_version_id"], ["id"]
        )

    op.create_table(
        "version_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_version_transitions_version_id_dataset_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_version_transitions")),
    )
    with op.batch_alter_table("version_transitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_version_transitions_version_id"), ["version_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("version_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_version_transitions_version_id"))

    op.drop_table("version_transitions")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_datasets_current_version", "datasets", type_="foreignkey")
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_versions_status"))
        batch_op.drop_index(batch_op.f("ix_dataset_versions_dataset_id"))

    op.drop_table("dataset_versions")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_api_tokens_donor_id"))

    op.drop_table("api_tokens")
    op.drop_table("access_policies")
    op.drop_table("organisations")
    op.drop_table("datasets")
