"""The catalog's HTTP routes under ``/api/v1``: search, dataset detail, versions, downloads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from catalog import downloads, search
from catalog.distributions import distributions_of
from catalog.schemas import DatasetDetail, DatasetPublic, SearchPage, VersionPublic
from datacommons import registry
from datacommons.deps import AnyRolePrincipal, PagingDep, SessionDep, commons_of
from datacommons.schemas import MAX_INT, ListOf, error_responses, file_response

router = APIRouter(tags=["catalog"], responses=error_responses(401, 403, 422))

MAX_LIMIT = 100


_OR_AND = (
    "Repeat the parameter to accept several values (OR within a facet); different facets "
    "must all match (AND across facets). Values are exact codes, as listed under `facets` "
    "in the response."
)


def _facet(what: str, example: str) -> Any:
    return Query(description=f"{what}, e.g. `{example}`. {_OR_AND}")


@router.get("/datasets", response_model=SearchPage)
def list_datasets(
    request: Request,
    session: SessionDep,
    _caller: AnyRolePrincipal,
    q: Annotated[
        str,
        Query(
            max_length=200,
            description=(
                "Words to find, in Italian or English, in titles, keywords, descriptions and publisher. "
                "Every word must match: case and accents are ignored, Italian elisions (`dell'`, `l'`) "
                "and common short words are dropped, a word also finds the other forms of its stem "
                "(`comune` finds `comuni`) and, from 3 letters, the words it begins (`lavor`). "
                "Empty: every dataset."
            ),
        ),
    ] = "",
    # (FastAPI reads the list defaults below and never mutates them: hence the noqa B006)
    theme: Annotated[list[str], _facet("Theme (EU data theme code)", "SOCI")] = [],  # noqa: B006
    publisher: Annotated[list[str], _facet("Publisher, its full name", "ISTAT")] = [],  # noqa: B006
    access: Annotated[
        list[str],
        _facet("Access: `open` (downloadable) or `private` (differentially-private queries only)", "open"),
    ] = [],  # noqa: B006
    format: Annotated[
        list[str], _facet("Format of the distributions: `CSV`, `PARQUET` or `DP-API`", "CSV")
    ] = [],  # noqa: B006
    geography: Annotated[list[str], _facet("Geography, a NUTS code", "ITC11")] = [],  # noqa: B006
    year: Annotated[list[str], _facet("A year the data covers", "2024")] = [],  # noqa: B006
    sort: Annotated[
        search.Sort | None,
        Query(
            description=(
                "Order of the results: `relevance` (best match first), `title`, `modified` (oldest "
                "first); a leading `-` reverses (`-title`, `-modified`: newest first). Default: "
                "`relevance` when `q` is given, else `title`."
            )
        ),
    ] = None,
    lang: Annotated[
        search.Lang,
        Query(
            description=(
                "Language of the titles that `sort=title` follows (and that break ties in relevance): "
                "`it` or `en`. Matching always uses both languages."
            )
        ),
    ] = "it",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=(f"Results per page (1-{MAX_LIMIT})."))] = 20,
    offset: Annotated[
        int,
        Query(
            ge=0,
            le=100_000,
            description=("Results to skip before this page: with `limit`, pages through `count` matches."),
        ),
    ] = 0,
) -> Any:
    """Search the catalog: ranked full-text search, facet filters and counts, paging, sorting.

    Each facet is counted over the matches of all the other filters but not its own, so the
    other values of a filtered facet stay visible with the number of datasets they would add.
    """
    filters = {
        "theme": theme,
        "publisher": publisher,
        "access": access,
        "format": format,
        "geography": geography,
        "year": year,
    }
    commons = commons_of(request)
    result = search.search(
        session,
        commons.store,
        indexes=search.indexes_of(commons),
        q=q,
        sort=sort,
        lang=lang,
        limit=limit,
        offset=offset,
        filters={k: v for k, v in filters.items() if v},
    )
    # The index holds ready JSON: answer it as is (the response model documents it; validating
    # twenty datasets again on every search would cost more than the search itself).
    return JSONResponse(
        {
            "data": result.items,
            "count": result.count,
            "facets": result.facets,
            "limit": limit,
            "offset": offset,
        }
    )


@router.get("/datasets/{dataset_id}", response_model=DatasetDetail, responses=error_responses(404))
def get_dataset(
    dataset_id: str, request: Request, session: SessionDep, _caller: AnyRolePrincipal
) -> DatasetDetail:
    """One dataset's description, current version and distributions."""
    dataset = registry.get_dataset(session, dataset_id)
    base = commons_of(request).settings.public_url
    return DatasetDetail(
        **DatasetPublic.of(dataset).model_dump(), distributions=distributions_of(dataset, base_url=base)
    )


@router.get(
    "/datasets/{dataset_id}/versions", response_model=ListOf[VersionPublic], responses=error_responses(404)
)
def list_versions(
    dataset_id: str, session: SessionDep, _caller: AnyRolePrincipal, page: PagingDep
) -> ListOf[VersionPublic]:
    """The versions of a dataset, newest first, with status and provenance (a page of them)."""
    items = [VersionPublic.model_validate(v) for v in registry.list_versions(session, dataset_id)]
    return page.of(items)


@router.get(
    "/datasets/{dataset_id}/download",
    response_class=Response,
    responses={
        **error_responses(404),
        304: {"description": "Not modified (If-None-Match matched)"},
        200: file_response(
            "The file of the version (Parquet, or CSV with a header row)",
            "application/vnd.apache.parquet",
            "text/csv",
            headers={
                "ETag": "The version's content hash and format: send it back in "
                "If-None-Match to get 304 when nothing changed",
                "Content-Length": "Size of the file in bytes",
                "Content-Disposition": "attachment; filename={dataset}-v{n}.{ext}",
            },
        ),
    },
)
def download(
    dataset_id: str,
    request: Request,
    session: SessionDep,
    _caller: AnyRolePrincipal,
    format: downloads.Format = "parquet",
    version: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> Response:
    """Stream an open dataset as Parquet or CSV (with ETag and Content-Length)."""
    found = downloads.download(
        session, commons_of(request).store, dataset_id=dataset_id, fmt=format, version=version
    )
    if _matches(request.headers.get("if-none-match"), found.etag):
        return Response(status_code=304, headers={"ETag": found.etag})
    return FileResponse(
        found.path,
        media_type=found.media_type,
        filename=found.filename,
        headers={"ETag": found.etag, "Cache-Control": "private, max-age=0"},
    )


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak or strong, in a list, or ``*``)."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags
