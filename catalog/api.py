"""The catalog's HTTP routes under ``/api/v1``: datasets and their versions."""

from __future__ import annotations

from fastapi import APIRouter

from catalog.schemas import DatasetPublic, VersionPublic
from datacommons import registry
from datacommons.auth import AnyRolePrincipal
from datacommons.db import SessionDep
from datacommons.schemas import ListOf, error_responses

router = APIRouter(tags=["catalog"], responses=error_responses(401, 403, 422))


@router.get("/datasets", response_model=ListOf[DatasetPublic])
def list_datasets(session: SessionDep, _caller: AnyRolePrincipal) -> ListOf[DatasetPublic]:
    """Every dataset of the catalog with its current version."""
    items = [DatasetPublic.of(d) for d in registry.list_datasets(session)]
    return ListOf[DatasetPublic](data=items, count=len(items))


@router.get("/datasets/{dataset_id}", response_model=DatasetPublic,
            responses=error_responses(404))
def get_dataset(dataset_id: str, session: SessionDep, _caller: AnyRolePrincipal) -> DatasetPublic:
    """One dataset's description and current version."""
    return DatasetPublic.of(registry.get_dataset(session, dataset_id))


@router.get("/datasets/{dataset_id}/versions", response_model=ListOf[VersionPublic],
            responses=error_responses(404))
def list_versions(
    dataset_id: str, session: SessionDep, _caller: AnyRolePrincipal
) -> ListOf[VersionPublic]:
    """Every version of a dataset, newest first, with status and provenance."""
    items = [VersionPublic.model_validate(v) for v in registry.list_versions(session, dataset_id)]
    return ListOf[VersionPublic](data=items, count=len(items))
