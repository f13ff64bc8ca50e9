"""consent: pseudonyms belong to the donating organisation, and links to the dataset's records

A pseudonym was a donor's global primary key, so two cooperatives could not both have a
``D0000001``, and one person's consent was keyed on a string another dataset may use for someone
else. Now ``donors.id`` is the commons' opaque id of the person; ``donors.pseudonym`` is unique within
the organisation only; ``donor_datasets.pseudonym`` is the value the donor's records carry in that
dataset, unique within the dataset. Existing donors keep their ids, which were their pseudonyms.
An erased donor keeps no pseudonym and no link.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN and a unique index, not a batch rebuild: other tables' foreign keys point at donors
    op.add_column("donors", sa.Column("pseudonym", sa.String(length=64), nullable=True))
    op.execute("UPDATE donors SET pseudonym = id WHERE source = 'organisation' AND erased_at IS NULL")
    op.create_index(
        "uq_donors_organisation_pseudonym", "donors", ["organisation_id", "pseudonym"], unique=True
    )
    op.execute(
        "DELETE FROM donor_datasets WHERE donor_id IN (SELECT id FROM donors WHERE erased_at IS NOT NULL)"
    )
    with op.batch_alter_table("donor_datasets") as batch_op:
        batch_op.add_column(sa.Column("pseudonym", sa.String(length=64), nullable=True))
    op.execute("UPDATE donor_datasets SET pseudonym = donor_id")
    with op.batch_alter_table("donor_datasets") as batch_op:
        batch_op.alter_column("pseudonym", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_donor_datasets_pseudonym", ["dataset_id", "pseudonym"])


def downgrade() -> None:
    with op.batch_alter_table("donor_datasets") as batch_op:
        batch_op.drop_constraint("uq_donor_datasets_pseudonym", type_="unique")
        batch_op.drop_column("pseudonym")
    op.drop_index("uq_donors_organisation_pseudonym", table_name="donors")
    with op.batch_alter_table("donors") as batch_op:
        batch_op.drop_column("pseudonym")
