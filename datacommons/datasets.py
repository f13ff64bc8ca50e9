"""The catalog's records: Dataset, DatasetVersion, VersionTransition and AccessPolicy.

A dataset is described once (bilingual titles, theme, publisher, access, geography, licence, keywords);
each load of its data is a :class:`DatasetVersion` that moves through::

    staged ──► validated ──► published
       │  ▲        │
       ▼  │        ▼
      rejected ◄───┘          (a rejected version may be validated again once its suite is fixed)

Published versions are immutable; the dataset's *current* version is the one served, and an older
published version can be made current again. Every status change is a :class:`VersionTransition`
recording who and when. The workflow that moves them is :mod:`datacommons.registry`; what describes
a dataset before it is stored is :mod:`datacommons.specs`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from datacommons.db import Base, utcnow

Status = Literal["staged", "validated", "rejected", "published"]
STATUSES: tuple[Status, ...] = ("staged", "validated", "rejected", "published")


class Dataset(Base):
    """A dataset of the catalog, described in Italian and English."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title_it: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description_it: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str] = mapped_column(String(16))
    publisher: Mapped[str] = mapped_column(String(200))
    access: Mapped[str] = mapped_column(String(16))
    geography: Mapped[str] = mapped_column(String(32))
    licence: Mapped[str] = mapped_column(String(300))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    frequency: Mapped[str] = mapped_column(String(32), default="IRREG")
    schema_spec: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", use_alter=True, name="fk_datasets_current_version")
    )

    current_version: Mapped[DatasetVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True, lazy="joined"
    )
    policy: Mapped[AccessPolicy | None] = relationship(back_populates="dataset", lazy="selectin")


class DatasetVersion(Base):
    """One immutable load of a dataset's data: a Parquet file in the store plus its provenance."""

    __tablename__ = "dataset_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "content_hash", name="uq_dataset_versions_hash"),
        UniqueConstraint("dataset_id", "number", name="uq_dataset_versions_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(BigInteger)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    arrow_schema: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="staged", index=True)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class VersionTransition(Base):
    """A recorded status change of a version: from, to, who, when, why."""

    __tablename__ = "version_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class AccessPolicy(Base):
    """How a private dataset may be queried: privacy unit, contribution bound, dimensions, budgets."""

    __tablename__ = "access_policies"

    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    privacy_unit: Mapped[str] = mapped_column(String(100))
    max_rows_per_unit: Mapped[int] = mapped_column(Integer)
    public_dimensions: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    epsilon_total: Mapped[float] = mapped_column(default=10.0)
    epsilon_per_organisation: Mapped[float] = mapped_column(default=3.0)
    epsilon_per_query: Mapped[float] = mapped_column(default=1.0)

    dataset: Mapped[Dataset] = relationship(back_populates="policy")
