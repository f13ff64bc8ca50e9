"""What the quality gate's admin routes answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class ExpectationResult(BaseModel):  # type: ignore[no-redef]  # a field named "kwargs" (mypy plugin)
    """One expectation of a run and its result."""

    name: str
    type: str
    columns: list[str]
    origin: str
    rule: str
    kwargs: dict[str, Any]
    success: bool
    skipped: bool
    exception: str | None
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    observed_value: Any
    examples: list[dict[str, Any]]
    examples_withheld: bool


class ReportPublic(BaseModel):
    """A stored validation report (administrators only)."""

    id: int
    dataset_id: str
    version: int
    access: str
    success: bool
    status_before: str
    status: str
    actor: str
    created_at: datetime
    rows: int
    duration_seconds: float
    error: str | None
    statistics: dict[str, int]
    failures: list[str]
    expectations: list[ExpectationResult]
    warnings: list[dict[str, Any]]
    compared_with: int | None
    great_expectations_version: str
    transitions: list[dict[str, Any]] = []
    links: dict[str, str] = {}


class TransitionPublic(BaseModel):
    """A recorded status change of a version: from, to, who, when, why."""

    from_status: str | None
    to_status: str
    actor: str
    at: datetime
    note: str


class PublicationPublic(BaseModel):
    """A version after a publish request: its status, whether it is current, and its history."""

    dataset_id: str
    number: int
    status: str
    current: bool
    transitions: list[TransitionPublic]
