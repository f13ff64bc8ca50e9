"""The stored validation reports: one row per run of the quality gate on a dataset version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from datacommons.datasets import DatasetVersion
from datacommons.db import Base, utcnow
from datacommons.errors import NotFound
from datacommons.registry import get_version


class ValidationReport(Base):
    """One validation run: who ran it, when, whether it passed, and the full report as JSON."""

    __tablename__ = "validation_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[str] = mapped_column(String(64), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    success: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)

    @property
    def failures(self) -> list[str]:
        """The failing expectations, named like ``expect_column_values_to_be_in_set(comune)``."""
        return list(self.report.get("failures", []))

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """The drift warnings of this run."""
        return list(self.report.get("warnings", []))


def get_report(session: Session, report_id: int) -> ValidationReport:
    """The report with this id, or :class:`NotFound`."""
    report = session.get(ValidationReport, report_id)
    if report is None:
        raise NotFound(f"no validation report {report_id}")
    return report


def reports_of(session: Session, version: DatasetVersion) -> list[ValidationReport]:
    """Every report of a version, newest first."""
    query = (
        select(ValidationReport)
        .where(ValidationReport.version_id == version.id)
        .order_by(ValidationReport.id.desc())
    )
    return list(session.scalars(query))


def latest_report(session: Session, dataset_id: str, number: int) -> ValidationReport:
    """The newest report of version ``number`` of a dataset, or :class:`NotFound`."""
    version = get_version(session, dataset_id, number)
    reports = reports_of(session, version)
    if not reports:
        raise NotFound(f"version {number} of {dataset_id} has not been validated yet")
    return reports[0]
