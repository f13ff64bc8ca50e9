"""The consent registry's tables: donors, programs and their text versions, consents and their events,
signing keys, the eligibility change counter and the transparency log.

A consent's current state is derived from its events (:mod:`consent.ledger`); :class:`ConsentPeriod`
is the projection of those events that eligibility queries read, written in the same transaction as
the events it mirrors.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from datacommons.db import Base, utcnow


class Donor(Base):
    """A data donor; name and e-mail only as ciphertext under the donor's key.

    ``id`` is the commons' own opaque identifier of the person. ``pseudonym`` is the one their
    organisation knows them by, unique within that organisation only (two cooperatives may both have
    a ``D0000001``, who are different people); it is cleared on erasure.
    """

    __tablename__ = "donors"
    __table_args__ = (Index("uq_donors_organisation_pseudonym", "organisation_id", "pseudonym", unique=True),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # "self" or "organisation"
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    pseudonym: Mapped[str | None] = mapped_column(String(64))
    name_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    claim_code_hash: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column()


class DonorKey(Base):
    """A donor's data key, wrapped under the instance key; deleting it shreds the donor's personal data."""

    __tablename__ = "donor_keys"

    donor_id: Mapped[str] = mapped_column(ForeignKey("donors.id"), primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DonorDataset(Base):
    """The link between a donor and their records in a dataset, made by the donating organisation.

    ``pseudonym`` is the value of the dataset's privacy-unit column on the donor's records; within a
    dataset it names one donor only. Erasure deletes the link.
    """

    __tablename__ = "donor_datasets"
    __table_args__ = (UniqueConstraint("dataset_id", "pseudonym", name="uq_donor_datasets_pseudonym"),)

    donor_id: Mapped[str] = mapped_column(ForeignKey("donors.id"), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    pseudonym: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Program(Base):
    """A data-altruism program: one purpose, a controller, a retention, and versioned consent texts."""

    __tablename__ = "consent_programs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title_it: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(String(100), index=True)
    controller: Mapped[str] = mapped_column(String(300))
    controller_contact: Mapped[str] = mapped_column(String(300), default="")
    controller_address: Mapped[str] = mapped_column(String(300), default="")
    retention_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    current_text_id: Mapped[int | None] = mapped_column(Integer)


class ConsentText(Base):
    """One version of a program's consent text and of the scope it asks consent for.

    The scope (datasets, data categories, duration) belongs to the version, so a new version never
    widens what donors who read an older one agreed to.
    """

    __tablename__ = "consent_texts"
    __table_args__ = (UniqueConstraint("program_id", "version", name="uq_consent_texts_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("consent_programs.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text_it: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    datasets: Mapped[list[str]] = mapped_column(JSON)
    data_categories: Mapped[list[str]] = mapped_column(JSON)
    #: Who may use the data under this version: organisation names, or classes (``class:…``).
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The special categories of personal data (GDPR arts. 9 and 10) the datasets hold.
    special_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    duration_days: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TextDataset(Base):
    """Which datasets a text version covers (the index eligibility queries join on)."""

    __tablename__ = "consent_text_datasets"

    text_id: Mapped[int] = mapped_column(ForeignKey("consent_texts.id"), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Consent(Base):
    """A donor's consent to one program (one record per donor and program; its events tell its story)."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("donor_id", "program_id", name="uq_consents_donor_program"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    donor_id: Mapped[str] = mapped_column(ForeignKey("donors.id"), index=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("consent_programs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentEvent(Base):
    """Something that happened to a consent: given, withdrawn, expired or renewed; with its receipt."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), unique=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id"), index=True)
    event: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column()
    text_id: Mapped[int] = mapped_column(ForeignKey("consent_texts.id"))
    valid_until: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str] = mapped_column(String(200), default="")
    #: Who acted (``donor:<id>``, ``system:expiry``…) and how the consent was collected.
    actor: Mapped[str] = mapped_column(String(200), default="")
    method: Mapped[str] = mapped_column(String(32), default="")
    #: For a withdrawal or an expiry: the record id of the event that gave the consent it ends.
    ends_record_id: Mapped[str | None] = mapped_column(String(36))
    #: The event's salted commitment in the transparency log: its leaf, and the salt that opens it.
    log_index: Mapped[int | None] = mapped_column(BigInteger)
    commitment_salt: Mapped[str | None] = mapped_column(String(32))
    kid: Mapped[str] = mapped_column(String(64))
    #: The signed receipt; None only for bulk-seeded events, whose receipt is signed when first asked
    #: for (Ed25519 signatures are deterministic, so it is the same receipt every time).
    receipt: Mapped[str | None] = mapped_column(Text)


class ConsentPeriod(Base):
    """A span during which a consent was in force: the projection eligibility reads.

    In force at instant t when ``valid_from <= t``, ``t < ended_at`` (withdrawn or superseded) and
    ``t < valid_until`` (expiry). ``void`` marks the periods of an erased donor, never used again.
    """

    __tablename__ = "consent_periods"
    # One index per boundary column: eligibility reads the periods of a text version in force at t,
    # and finds the boundaries nearest t by index lookups.
    __table_args__ = (
        Index("ix_consent_periods_text_active", "text_id", "void", "valid_from"),
        Index("ix_consent_periods_text_until", "text_id", "void", "valid_until"),
        Index("ix_consent_periods_text_ended", "text_id", "void", "ended_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id"), index=True)
    donor_id: Mapped[str] = mapped_column(String(64), index=True)
    text_id: Mapped[int] = mapped_column(ForeignKey("consent_texts.id"))
    valid_from: Mapped[datetime] = mapped_column()
    valid_until: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    void: Mapped[bool] = mapped_column(Boolean, default=False)


class ConsentCounter(Base):
    """One row whose counter moves in the same transaction as every change eligibility depends on."""

    __tablename__ = "consent_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)


class SigningKey(Base):
    """An Ed25519 receipt-signing key; the private half encrypted under the instance key."""

    __tablename__ = "consent_signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    private_ct: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


class TransparencyEntry(Base):
    """One use of data (a DP release, an extract, a publication), hash-chained to the one before."""

    __tablename__ = "transparency_log"
    #: The public page filters by kind, organisation and period, newest first, over millions of rows.
    __table_args__ = (
        Index("ix_transparency_log_kind_id", "kind", "id"),
        Index("ix_transparency_log_organisation_id", "organisation", "id"),
        Index("ix_transparency_log_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(100))
    datasets: Mapped[list[str]] = mapped_column(JSON)
    fee_eur: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class TransparencyNode(Base):
    """The hash of a complete subtree of the log's Merkle tree: leaves [idx·2^level, (idx+1)·2^level)."""

    __tablename__ = "transparency_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class TransparencyHead(Base):
    """The last entry of the log (its number and hash): appends lock it, verification checks it."""

    __tablename__ = "transparency_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_hash: Mapped[str] = mapped_column(String(64))


class LossNode(Base):
    """One release in a history of releases: what was released, and the history's total so far.

    Nodes are never changed. Donors whose histories are equal share one :class:`LossGroup`, which
    points at the newest node of that history; a node's parent is the release before it.
    """

    __tablename__ = "privacy_loss_nodes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("privacy_loss_nodes.id"))
    release_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    dataset_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    organisation: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(100))
    epsilon_nano: Mapped[int] = mapped_column(BigInteger)
    #: The privacy loss of the whole history up to and including this release (nano-epsilon).
    spent_nano: Mapped[int] = mapped_column(BigInteger)
    #: How many releases the history holds up to and including this one.
    uses: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column()
    #: The release's leaf index in the transparency log: a donor's proof points there.
    log_index: Mapped[int | None] = mapped_column(BigInteger)


class LossGroup(Base):
    """Donors who were included in exactly the same releases (so have the same privacy loss)."""

    __tablename__ = "privacy_loss_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("privacy_loss_nodes.id"))
    size: Mapped[int] = mapped_column(Integer)


class LossMember(Base):
    """Which group a donor's history is in (no group: never included, or erased)."""

    __tablename__ = "privacy_loss_members"

    donor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # No foreign key: SQLite's per-row check made a first release over 450,000 donors four times
    # slower, and only consent.privacy_loss writes these rows, always with a group it just made.
    group_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: The membership version at which this row last changed (processes reload only what changed).
    moved: Mapped[int] = mapped_column(BigInteger, index=True)


class LossState(Base):
    """One row: locked by every charge (so charges are serialised) and versioning the membership."""

    __tablename__ = "privacy_loss_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    membership: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Random, new with every move: a copy of the membership is current only at the same counter
    #: and nonce (a database restored or made anew under the same URL has another).
    nonce: Mapped[str] = mapped_column(String(32), default="")


class TransparencyCosignature(Base):
    """A witness's cosignature (C2SP tlog-cosignature) of the checkpoint of one tree size."""

    __tablename__ = "transparency_cosignatures"

    witness: Mapped[str] = mapped_column(String(200), primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key_id: Mapped[str] = mapped_column(String(8))
    cosigned_at: Mapped[int] = mapped_column(BigInteger)
    line: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
