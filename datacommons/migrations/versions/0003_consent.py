"""consent registry: donors, programs and texts, consents and events, signing keys, transparency log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import datacommons.db

revision = "0003"
down_revision = "0002"
branch_labels = ("consent",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_counter")),
    )
    op.create_table(
        "consent_programs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title_it", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("purpose", sa.String(length=100), nullable=False),
        sa.Column("controller", sa.String(length=300), nullable=False),
        sa.Column("controller_contact", sa.String(length=300), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("created_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("current_text_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_programs")),
    )
    with op.batch_alter_table("consent_programs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_programs_purpose"), ["purpose"], unique=False)

    op.create_table(
        "consent_signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("private_ct", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", datacommons.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_consent_signing_keys")),
    )
    op.create_table(
        "transparency_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transparency_head")),
    )
    op.create_table(
        "transparency_log",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("purpose", sa.String(length=100), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("fee_eur", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transparency_log")),
    )
    op.create_table(
        "consent_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text_it", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("data_categories", sa.JSON(), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["consent_programs.id"], name=op.f("fk_consent_texts_program_id_consent_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_texts")),
        sa.UniqueConstraint("program_id", "version", name="uq_consent_texts_version"),
    )
    with op.batch_alter_table("consent_texts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_texts_program_id"), ["program_id"], unique=False)

    op.create_table(
        "donors",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("name_ct", sa.LargeBinary(), nullable=True),
        sa.Column("email_ct", sa.LargeBinary(), nullable=True),
        sa.Column("claim_code_hash", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", datacommons.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("erased_at", datacommons.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_donors_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donors")),
    )
    with op.batch_alter_table("donors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_donors_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "consent_text_datasets",
        sa.Column("text_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["text_id"], ["consent_texts.id"], name=op.f("fk_consent_text_datasets_text_id_consent_texts")
        ),
        sa.PrimaryKeyConstraint("text_id", "dataset_id", name=op.f("pk_consent_text_datasets")),
    )
    with op.batch_alter_table("consent_text_datasets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_text_datasets_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("donor_id", sa.String(length=64), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["donor_id"], ["donors.id"], name=op.f("fk_consents_donor_id_donors")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["consent_programs.id"], name=op.f("fk_consents_program_id_consent_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
        sa.UniqueConstraint("donor_id", "program_id", name="uq_consents_donor_program"),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_donor_id"), ["donor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consents_program_id"), ["program_id"], unique=False)

    op.create_table(
        "donor_datasets",
        sa.Column("donor_id", sa.String(length=64), nullable=False),
        sa.Column("dataset_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["donor_id"], ["donors.id"], name=op.f("fk_donor_datasets_donor_id_donors")),
        sa.PrimaryKeyConstraint("donor_id", "dataset_id", name=op.f("pk_donor_datasets")),
    )
    with op.batch_alter_table("donor_datasets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_donor_datasets_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "donor_keys",
        sa.Column("donor_id", sa.String(length=64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["donor_id"], ["donors.id"], name=op.f("fk_donor_keys_donor_id_donors")),
        sa.PrimaryKeyConstraint("donor_id", name=op.f("pk_donor_keys")),
    )
    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("consent_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("at", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("text_id", sa.Integer(), nullable=False),
        sa.Column("valid_until", datacommons.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name=op.f("fk_consent_events_consent_id_consents")
        ),
        sa.ForeignKeyConstraint(
            ["text_id"], ["consent_texts.id"], name=op.f("fk_consent_events_text_id_consent_texts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
        sa.UniqueConstraint("record_id", name=op.f("uq_consent_events_record_id")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_events_consent_id"), ["consent_id"], unique=False)

    op.create_table(
        "consent_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.String(length=36), nullable=False),
        sa.Column("donor_id", sa.String(length=64), nullable=False),
        sa.Column("text_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", datacommons.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", datacommons.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", datacommons.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("void", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name=op.f("fk_consent_periods_consent_id_consents")
        ),
        sa.ForeignKeyConstraint(
            ["text_id"], ["consent_texts.id"], name=op.f("fk_consent_periods_text_id_consent_texts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_periods")),
    )
    with op.batch_alter_table("consent_periods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_periods_consent_id"), ["consent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_periods_donor_id"), ["donor_id"], unique=False)
        batch_op.create_index(
            "ix_consent_periods_text_active", ["text_id", "void", "valid_from"], unique=False
        )
        batch_op.create_index(
            "ix_consent_periods_text_until", ["text_id", "void", "valid_until"], unique=False
        )
        batch_op.create_index("ix_consent_periods_text_ended", ["text_id", "void", "ended_at"], unique=False)

    # The single rows that serialise writers: the eligibility change counter and the log's head.
    op.bulk_insert(
        sa.table("consent_counter", sa.column("id", sa.Integer()), sa.column("counter", sa.BigInteger())),
        [{"id": 1, "counter": 0}],
    )
    op.bulk_insert(
        sa.table(
            "transparency_head",
            sa.column("id", sa.Integer()),
            sa.column("seq", sa.BigInteger()),
            sa.column("entry_hash", sa.String()),
        ),
        [{"id": 1, "seq": 0, "entry_hash": "0" * 64}],
    )


def downgrade() -> None:
    with op.batch_alter_table("consent_periods", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_periods_text_ended")
        batch_op.drop_index("ix_consent_periods_text_until")
        batch_op.drop_index("ix_consent_periods_text_active")
        batch_op.drop_index(batch_op.f("ix_consent_periods_donor_id"))
        batch_op.drop_index(batch_op.f("ix_consent_periods_consent_id"))

    op.drop_table("consent_periods")
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_events_consent_id"))

    op.drop_table("consent_events")
    op.drop_table("donor_keys")
    with op.batch_alter_table("donor_datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_donor_datasets_dataset_id"))

    op.drop_table("donor_datasets")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_program_id"))
        batch_op.drop_index(batch_op.f("ix_consents_donor_id"))

    op.drop_table("consents")
    with op.batch_alter_table("consent_text_datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_text_datasets_dataset_id"))

    op.drop_table("consent_text_datasets")
    with op.batch_alter_table("donors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_donors_organisation_id"))

    op.drop_table("donors")
    with op.batch_alter_table("consent_texts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_texts_program_id"))

    op.drop_table("consent_texts")
    op.drop_table("transparency_log")
    op.drop_table("transparency_head")
    op.drop_table("consent_signing_keys")
    with op.batch_alter_table("consent_programs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_programs_purpose"))

    op.drop_table("consent_programs")
    op.drop_table("consent_counter")
