"""The catalog's HTTP routes under ``/api/v1``: search, dataset detail, versions, downloads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from catalog import downloads, search
from catalog.distributions import distributions_of
from catalog.schemas import DatasetDetail, DatasetPublic, SearchPage, VersionPublic
from datacommons import registry
from datacommons.auth import AnyRolePrincipal
from datacommons.db import SessionDep
from datacommons.schemas import MAX_INT, ListOf, PagingDep, error_responses

router = APIRouter(tags=["catalog"], responses=error_responses(401, 403, 422))

MAX_LIMIT = 100


@router.get("/datasets", response_model=SearchPage)
def list_datasets(
    request: Request,
    session: SessionDep,
    _caller: AnyRolePrincipal,
    q: Annotated[str, Query(max_length=200, description="Words to find (Italian or English)")] = "",
    theme: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads these defaults
    publisher: Annotated[list[str], Query()] = [],  # noqa: B006
    access: Annotated[list[str], Query()] = [],  # noqa: B006
    format: Annotated[list[str], Query()] = [],  # noqa: B006
    geography: Annotated[list[str], Query()] = [],  # noqa: B006
    year: Annotated[list[str], Query()] = [],  # noqa: B006
    sort: search.Sort | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Any:
    """Search the catalog: ranked full-text search, facet filters and counts, paging, sorting."""
    filters = {"theme": theme, "publisher": publisher, "access": access, "format": format,
               "geography": geography, "year": year}
    result = search.search(session, request.app.state.store, q=q, sort=sort, limit=limit,
                           offset=offset, filters={k: v for k, v in filters.items() if v})
    # The index holds ready JSON: answer it as is (the response model documents it; validating
    # twenty datasets again on every search would cost more than the search itself).
    return JSONResponse({"data": result.items, "count": result.count, "facets": result.facets,
                         "limit": limit, "offset": offset})


@router.get("/datasets/{dataset_id}", response_model=DatasetDetail, responses=error_responses(404))
def get_dataset(dataset_id: str, request: Request, session: SessionDep,
                _caller: AnyRolePrincipal) -> DatasetDetail:
    """One dataset's description, current version and distributions."""
    dataset = registry.get_dataset(session, dataset_id)
    base = request.app.state.settings.public_url
    return DatasetDetail(**DatasetPublic.of(dataset).model_dump(),
                         distributions=distributions_of(dataset, base_url=base))


@router.get("/datasets/{dataset_id}/versions", response_model=ListOf[VersionPublic],
            responses=error_responses(404))
def list_versions(
    dataset_id: str, session: SessionDep, _caller: AnyRolePrincipal, page: PagingDep
) -> ListOf[VersionPublic]:
    """The versions of a dataset, newest first, with status and provenance (a page of them)."""
    items = [VersionPublic.model_validate(v) for v in registry.list_versions(session, dataset_id)]
    return page.of(items)


@router.get("/datasets/{dataset_id}/download", responses={
    **error_responses(404), 304: {"description": "Not modified (If-None-Match matched)"},
    200: {"description": "The file", "content": {"application/vnd.apache.parquet": {},
                                                  "text/csv": {}}}})
def download(
    dataset_id: str,
    request: Request,
    session: SessionDep,
    _caller: AnyRolePrincipal,
    format: downloads.Format = "parquet",
    version: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> Response:
    """Stream an open dataset as Parquet or CSV (with ETag and Content-Length)."""
    found = downloads.download(session, request.app.state.store, dataset_id=dataset_id, fmt=format,
                               version=version)
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers={"ETag": found.etag})
    return FileResponse(found.path, media_type=found.media_type, filename=found.filename,
                        headers={"ETag": found.etag, "Cache-Control": "private, max-age=0"})
