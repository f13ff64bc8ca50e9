"""Downloads of open datasets: the stored Parquet file, or its CSV rendering (made once, kept)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from datacommons import registry
from datacommons.errors import Forbidden, NotFound
from datacommons.storage import ParquetStore

Format = Literal["parquet", "csv"]
MEDIA_TYPES = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv; charset=utf-8"}
CSV_BATCH = 64 * 1024


@dataclass(frozen=True)
class Download:
    """A file to send: where it is, its ETag, media type and file name."""

    path: Path
    etag: str
    media_type: str
    filename: str


def _write_csv(source: Path, target: Path) -> None:
    parquet = pq.ParquetFile(source)
    with target.open("wb") as sink:
        writer = None
        for batch in parquet.iter_batches(batch_size=CSV_BATCH):
            if writer is None:
                writer = pacsv.CSVWriter(sink, batch.schema)
            writer.write_batch(batch)
        if writer is not None:
            writer.close()


def download(
    session: Session, store: ParquetStore, *, dataset_id: str, fmt: Format, version: int | None = None
) -> Download:
    """The file of an open dataset's current (or given published) version in ``fmt``.

    Private datasets are never downloadable: the answer points to the DP query endpoints.
    """
    dataset = registry.get_dataset(session, dataset_id)
    if dataset.access != "open":
        base = f"/api/v1/datasets/{dataset_id}"
        raise Forbidden(
            f"dataset {dataset_id} holds private microdata and cannot be downloaded: ask "
            f"differentially-private questions at POST {base}/queries (preview at {base}/queries/preview)",
            errors=[
                {
                    "queries": f"{base}/queries",
                    "preview": f"{base}/queries/preview",
                    "extracts": "/api/v1/extracts",
                }
            ],
        )
    if version is None:
        chosen = dataset.current_version
        if chosen is None:
            raise NotFound(f"dataset {dataset_id} has no published version yet")
    else:
        chosen = registry.get_version(session, dataset_id, version)
        if chosen.status != "published":
            raise NotFound(f"version {version} of {dataset_id} is not published")
    content_hash = chosen.content_hash
    if fmt == "parquet":
        path = store.path_for(content_hash)
        if not path.is_file():
            raise NotFound(f"the file of {dataset_id} version {chosen.number} is missing")
    else:
        path = store.derived(content_hash, "csv", lambda tmp: _write_csv(store.path_for(content_hash), tmp))
    return Download(
        path=path,
        etag=f'"{content_hash}.{fmt}"',
        media_type=MEDIA_TYPES[fmt],
        filename=f"{dataset_id}-v{chosen.number}.{fmt}",
    )
