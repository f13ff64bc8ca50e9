"""The privacy engine's HTTP routes: previews, releases, budgets and extracts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi import Query as QueryParam
from fastapi.responses import Response

from datacommons import registry
from datacommons.auth import Principal
from datacommons.deps import CommonsDep, SessionDep, commons_of, require_role
from datacommons.guards import Guard, Rate
from datacommons.schemas import ListOf, error_responses, file_response
from privacy import extracts, ledger, service
from privacy.query import Query
from privacy.schemas import DatasetBudget, ExtractAnswer, ExtractMetadata, Preview, QueryAnswer

router = APIRouter(tags=["privacy"], responses=error_responses(401, 403, 422))

#: The roles that may query private datasets (the query builder page uses the same list).
QUERY_ROLES = ("analyst", "researcher", "admin")
Querier = Annotated[Principal, Depends(require_role(*QUERY_ROLES))]
Researcher = Annotated[Principal, Depends(require_role("researcher", "admin"))]
#: What spends budget or compute is rate-limited per token.
GUARDS = (
    Guard("/datasets/{dataset_id}/queries", rate=Rate.QUERY),
    Guard("/datasets/{dataset_id}/queries/preview", rate=Rate.QUERY),
    Guard("/extracts", rate=Rate.QUERY),
)


@router.post(
    "/datasets/{dataset_id}/queries/preview", response_model=Preview, responses=error_responses(400, 404, 409)
)
def preview_query(
    dataset_id: str, query: Query, request: Request, session: SessionDep, caller: Querier
) -> Any:
    """The epsilon a query would spend and the accuracy of each measure; spends nothing."""
    return service.preview(
        session,
        dataset_id=dataset_id,
        query=query,
        principal=caller,
        epsilon_per_person=commons_of(request).settings.privacy_epsilon_per_person,
    )


@router.post(
    "/datasets/{dataset_id}/queries",
    response_model=QueryAnswer,
    responses=error_responses(400, 404, 409, 429, 503),
)
def run_query(dataset_id: str, query: Query, commons: CommonsDep, caller: Querier) -> QueryAnswer:
    """Release a differentially-private answer over consenting donors (a repeat spends nothing)."""
    return service.release(
        commons.sessions,
        store=commons.store,
        dataset_id=dataset_id,
        query=query,
        principal=caller,
        epsilon_per_person=commons.settings.privacy_epsilon_per_person,
    )


@router.get("/budget", response_model=ListOf[DatasetBudget])
def my_budget(session: SessionDep, caller: Querier) -> Any:
    """The caller's remaining budgets on every private dataset's current version."""
    org = service.organisation_of(caller)
    items = []
    for dataset in registry.list_datasets(session):
        if dataset.access != "private" or dataset.current_version is None or dataset.policy is None:
            continue
        current = ledger.budgets(session, dataset_id=dataset.id, organisation_id=org, policy=dataset.policy)
        items.append(
            {
                "dataset": dataset.id,
                "version": dataset.current_version.number,
                "budget": {k: b.as_dict() for k, b in current.items()},
            }
        )
    return {"data": items, "count": len(items)}


@router.post(
    "/extracts",
    response_model=ExtractAnswer,
    status_code=201,
    responses=error_responses(400, 404, 409, 429, 503),
)
def create_extract(body: extracts.ExtractRequest, commons: CommonsDep, caller: Researcher) -> ExtractAnswer:
    """Release a set of marginal tables together under one epsilon."""
    return extracts.create_extract(
        commons.sessions,
        store=commons.store,
        request=body,
        principal=caller,
        epsilon_per_person=commons.settings.privacy_epsilon_per_person,
    )


@router.get(
    "/extracts/{extract_id}",
    response_model=ExtractMetadata,
    response_model_by_alias=True,
    responses=error_responses(404),
)
def get_extract(extract_id: str, request: Request, session: SessionDep, caller: Researcher) -> dict[str, Any]:
    """The extract's metadata: DCAT distribution, DP parameters, accuracy per table."""
    found = service.get_release(session, release_id=extract_id, kind="extract", principal=caller)
    return extracts.metadata(found, base_url=commons_of(request).settings.public_url)


@router.get(
    "/extracts/{extract_id}/download",
    response_class=Response,
    responses={
        **error_responses(404),
        200: file_response(
            "A ZIP of the tables and metadata.json",
            "application/zip",
            headers={"Content-Disposition": "attachment; filename=extract-{id}-{format}.zip"},
        ),
    },
)
def download_extract(
    extract_id: str,
    request: Request,
    session: SessionDep,
    caller: Researcher,
    format: Annotated[Literal["parquet", "csv"], QueryParam()] = "parquet",
) -> Response:
    """The extract's tables (Parquet or CSV) with ``metadata.json``, as one ZIP."""
    found = service.get_release(session, release_id=extract_id, kind="extract", principal=caller)
    data = extracts.bundle(found, fmt=format, base_url=commons_of(request).settings.public_url)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="extract-{extract_id}-{format}.zip"'},
    )
