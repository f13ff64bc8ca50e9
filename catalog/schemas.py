"""What the catalog API answers: datasets and their versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from catalog.distributions import Distribution
from datacommons.datasets import Dataset, DatasetVersion
from datacommons.registry import access_of


class VersionPublic(BaseModel):
    """A dataset version as the API shows it.

    A private dataset's exact row count and file size are statistics of its microdata outside any
    privacy budget (and their change between versions tells who joined or left): they are withheld
    (``null``); only administrators see them, on their own pages and in the CLI.
    """

    model_config = ConfigDict(from_attributes=True)

    number: int
    status: str
    content_hash: str
    rows: int | None = Field(description="Number of rows; null for private microdata")
    size_bytes: int | None = Field(description="Size of the Parquet file; null for private microdata")
    arrow_schema: list[dict[str, Any]]
    provenance: dict[str, Any]
    created_at: datetime
    created_by: str
    status_changed_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _withhold_private_counts(cls, data: Any) -> Any:
        if isinstance(data, DatasetVersion) and access_of(data) == "private":
            fields = {name: getattr(data, name) for name in cls.model_fields}
            return fields | {"rows": None, "size_bytes": None}
        return data


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
