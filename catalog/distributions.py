"""The distributions of a dataset: the ways its data can be obtained.

One pure function, :func:`distributions_of`, says what a dataset offers so that the JSON API, the web
pages and the DCAT-AP export all show the same list:

- an *open* dataset with a current version: its Parquet file (as stored, with size and SHA-256) and a
  CSV rendering of it;
- an open dataset without a current version: nothing yet;
- a *private* dataset: no file at all, only the differentially-private query endpoint (microdata never
  leave the commons row by row).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from datacommons.datasets import Dataset

DistributionFormat = Literal["parquet", "csv", "dp-queries"]

#: IANA media type of each format (Parquet's was registered in 2024).
MEDIA_TYPES: dict[str, str] = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv",
    "dp-queries": "application/json",
}

#: Code of each format in the EU file-type vocabulary
#: (http://publications.europa.eu/resource/authority/file-type).
FILE_TYPES: dict[str, str] = {"parquet": "PARQUET", "csv": "CSV", "dp-queries": "JSON"}


class Distribution(BaseModel):
    """One way to obtain a dataset's data: a download or, for private data, the DP query endpoint."""

    id: str = Field(description="Stable id of the distribution within its dataset: parquet, csv, dp-queries")
    format: DistributionFormat
    title_it: str
    title_en: str
    access: Literal["open", "private"]
    access_url: str = Field(description="Where the data can be obtained (a download or an API endpoint)")
    download_url: str | None = Field(default=None, description="Direct download link; none for an API")
    media_type: str
    file_type: str = Field(description="Code in the EU file-type vocabulary (PARQUET, CSV, JSON)")
    byte_size: int | None = Field(default=None, description="Size in bytes, when known before download")
    checksum_sha256: str | None = Field(default=None, description="SHA-256 of the file, if stored as is")
    licence: str
    version: int | None = Field(default=None, description="The dataset version this distribution serves")


def dataset_url(base_url: str, dataset_id: str) -> str:
    """The API URL of a dataset (also its IRI in the DCAT-AP export)."""
    return f"{base_url.rstrip('/')}/api/v1/datasets/{dataset_id}"


def distributions_of(dataset: Dataset, *, base_url: str) -> list[Distribution]:
    """The distributions ``dataset`` offers, as seen from ``base_url`` (the commons' public URL)."""
    url = dataset_url(base_url, dataset.id)
    if dataset.access == "private":
        endpoint = f"{url}/queries"
        return [
            Distribution(
                id="dp-queries",
                format="dp-queries",
                title_it="Interrogazioni con privacy differenziale (solo aggregati)",
                title_en="Differentially-private queries (aggregates only)",
                access="private",
                access_url=endpoint,
                media_type=MEDIA_TYPES["dp-queries"],
                file_type=FILE_TYPES["dp-queries"],
                licence=dataset.licence,
                version=dataset.current_version.number if dataset.current_version else None,
            )
        ]
    version = dataset.current_version
    if version is None:
        return []
    parquet = f"{url}/download?format=parquet"
    csv = f"{url}/download?format=csv"
    return [
        Distribution(
            id="parquet",
            format="parquet",
            title_it=f"{dataset.title_it} (Parquet, versione {version.number})",
            title_en=f"{dataset.title_en} (Parquet, version {version.number})",
            access="open",
            access_url=parquet,
            download_url=parquet,
            media_type=MEDIA_TYPES["parquet"],
            file_type=FILE_TYPES["parquet"],
            byte_size=version.size_bytes,
            checksum_sha256=version.content_hash,
            licence=dataset.licence,
            version=version.number,
        ),
        Distribution(
            id="csv",
            format="csv",
            title_it=f"{dataset.title_it} (CSV, versione {version.number})",
            title_en=f"{dataset.title_en} (CSV, version {version.number})",
            access="open",
            access_url=csv,
            download_url=csv,
            media_type=MEDIA_TYPES["csv"],
            file_type=FILE_TYPES["csv"],
            licence=dataset.licence,
            version=version.number,
        ),
    ]
