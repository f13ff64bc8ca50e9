"""The privacy engine's tables: the budget ledger and the stored releases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from datacommons.db import Base, utcnow


class BudgetAccount(Base):
    """Epsilon spent on one dataset over all its versions, in all (scope ``total``) or by one
    organisation.

    Amounts are in nano-epsilon (integers), so sums are exact and comparisons never drift.
    """

    __tablename__ = "dataset_budgets"
    __table_args__ = (UniqueConstraint("dataset_id", "scope", name="uq_dataset_budgets_scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(32))
    spent_nano: Mapped[int] = mapped_column(BigInteger, default=0)


class Release(Base):
    """A differentially-private answer that left the commons: a query result or an extract."""

    __tablename__ = "dp_releases"
    __table_args__ = (
        UniqueConstraint("version_id", "organisation_id", "kind", "query_hash", name="uq_dp_releases_repeat"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(100))
    query_hash: Mapped[str] = mapped_column(String(64))
    query: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    epsilon: Mapped[float] = mapped_column(Float)
    donors: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
