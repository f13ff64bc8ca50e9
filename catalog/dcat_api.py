"""The DCAT-AP export's HTTP routes under ``/api/v1``: the catalog and each dataset as JSON-LD.

Mount it before :mod:`catalog.api`: Starlette tries routes in order and ``/datasets/{dataset_id}``
would otherwise take ``/datasets/x.jsonld`` (as a dataset named ``x.jsonld``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from catalog import dcat
from datacommons.deps import AnyRolePrincipal, SessionDep, commons_of
from datacommons.schemas import MAX_INT, error_responses

router = APIRouter(tags=["catalog"], responses=error_responses(401, 403, 422))

#: A dataset id (see :data:`datacommons.specs.SLUG`), as a path pattern.
DATASET_ID = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"

JSONLD_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {dcat.JSONLD_MEDIA_TYPE: {"schema": {"type": "object"}}},
        "description": "A DCAT-AP 3.0.1 / DCAT-AP_IT JSON-LD document",
    }
}


class JSONLDResponse(JSONResponse):
    """A JSON-LD answer."""

    media_type = dcat.JSONLD_MEDIA_TYPE


def base_url(request: Request) -> str:
    """The commons' public URL, which every IRI of the export starts with."""
    return str(commons_of(request).settings.public_url)


@router.get(
    "/catalog.jsonld", response_class=JSONLDResponse, responses={**JSONLD_RESPONSE, **error_responses(404)}
)
def catalog_jsonld(
    request: Request,
    session: SessionDep,
    _caller: AnyRolePrincipal,
    page: Annotated[int, Query(ge=1, le=MAX_INT, description="Page number, from 1")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=dcat.MAX_PAGE_SIZE, description="Datasets per page")
    ] = dcat.DEFAULT_PAGE_SIZE,
) -> JSONLDResponse:
    """The catalog as DCAT-AP JSON-LD, one page of datasets at a time, with Hydra paging links."""
    body = dcat.export_catalog(session=session, base_url=base_url(request), page=page, page_size=page_size)
    return JSONLDResponse(body)


@router.get(
    "/datasets/{dataset_id}.jsonld",
    response_class=JSONLDResponse,
    responses={**JSONLD_RESPONSE, **error_responses(404)},
)
def dataset_jsonld(
    request: Request,
    session: SessionDep,
    _caller: AnyRolePrincipal,
    dataset_id: Annotated[str, Path(pattern=DATASET_ID)],
) -> JSONLDResponse:
    """One dataset as DCAT-AP JSON-LD, with its distributions."""
    body = dcat.export_dataset(session=session, base_url=base_url(request), dataset_id=dataset_id)
    return JSONLDResponse(body)
