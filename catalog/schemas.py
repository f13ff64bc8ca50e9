"""What the catalog API answers: datasets and their versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from catalog.distributions import Distribution
from datacommons.registry import Dataset, DatasetVersion


class VersionPublic(BaseModel):
    """A dataset version as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    status: str
    content_hash: str
    rows: int
    size_bytes: int
    arrow_schema: list[dict[str, Any]]
    provenance: dict[str, Any]
    created_at: datetime
    created_by: str
    status_changed_at: datetime


class DatasetPublic(BaseModel):
    """A dataset as the API shows it, with its current version."""

    id: str
    title_it: str
    title_en: str
    description_it: str
    description_en: str
    theme: str
    publisher: str
    access: str
    geography: str
    licence: str
    keywords: list[str]
    frequency: str
    created_at: datetime
    modified_at: datetime
    current_version: VersionPublic | None

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetPublic:
        """The public view of a dataset record."""
        current: DatasetVersion | None = dataset.current_version
        return cls(
            id=dataset.id,
            title_it=dataset.title_it,
            title_en=dataset.title_en,
            description_it=dataset.description_it,
            description_en=dataset.description_en,
            theme=dataset.theme,
            publisher=dataset.publisher,
            access=dataset.access,
            geography=dataset.geography,
            licence=dataset.licence,
            keywords=list(dataset.keywords),
            frequency=dataset.frequency,
            created_at=dataset.created_at,
            modified_at=dataset.modified_at,
            current_version=VersionPublic.model_validate(current) if current else None,
        )


class DatasetHit(DatasetPublic):
    """A dataset in search results, with its relevance score."""

    score: float


class SearchPage(BaseModel):
    """One page of search results with the total and the facet counts over all matches."""

    data: list[DatasetHit]
    count: int
    facets: dict[str, dict[str, int]]
    limit: int
    offset: int


class DatasetDetail(DatasetPublic):
    """A dataset with the ways to get its data (downloads, or the DP query endpoint)."""

    distributions: list[Distribution]
