"""Administrators' view and control of a private dataset's privacy budget (``/api/v1/admin/…/policy``).

The budget (ε in total per version, per organisation, per query) can be changed; the privacy unit, its
row bound and the public dimensions cannot, here: they are part of the dataset's declaration and
change with a new ingest. A total or organisation budget is never set below what is already spent on
the current version, so no answer ever given is retroactively "over budget".
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from datacommons import registry
from datacommons.datasets import Dataset
from datacommons.deps import AdminPrincipal, SessionDep, commons_of
from datacommons.errors import Conflict, InvalidInput
from datacommons.schemas import error_responses
from datacommons.specs import SLUG, PolicySpec
from privacy.ledger import NANO, TOTAL
from privacy.models import BudgetAccount

log = logging.getLogger(__name__)

router = APIRouter(prefix="/admin/datasets", tags=["admin"], responses=error_responses(401, 403, 404, 422))

DatasetId = Annotated[str, Path(pattern=SLUG.pattern)]


class BudgetChange(BaseModel):
    """A private dataset's new budget (epsilon)."""

    epsilon_total: float = Field(gt=0, le=1000, description="ε the current version may spend in all")
    epsilon_per_organisation: float = Field(gt=0, le=1000, description="ε one organisation may spend")
    epsilon_per_query: float = Field(gt=0, le=1000, description="ε one query may spend")

    @model_validator(mode="after")
    def _ordered(self) -> BudgetChange:
        if not self.epsilon_per_query <= self.epsilon_per_organisation <= self.epsilon_total:
            raise ValueError("expected epsilon_per_query <= epsilon_per_organisation <= epsilon_total")
        return self


class PolicyPublic(PolicySpec):
    """A private dataset's access policy, with what its current version has spent."""

    dataset: str
    version: int | None = Field(description="The current version, which the budgets apply to")
    spent_total: float
    spent_most_by_one_organisation: float


def _policy_public(session: Session, dataset: Dataset) -> PolicyPublic:
    if dataset.access != "private" or dataset.policy is None:
        raise InvalidInput(f"dataset {dataset.id} is open: only private datasets have a policy")
    version = dataset.current_version
    rows = session.execute(
        select(BudgetAccount.scope, BudgetAccount.spent_nano).where(BudgetAccount.dataset_id == dataset.id)
    ).all()
    total = next((spent for scope, spent in rows if scope == TOTAL), 0)
    most = max((spent for scope, spent in rows if scope != TOTAL), default=0)
    spec = PolicySpec.model_validate(dataset.policy, from_attributes=True)
    return PolicyPublic(
        **spec.model_dump(),
        dataset=dataset.id,
        version=version.number if version else None,
        spent_total=total / NANO,
        spent_most_by_one_organisation=most / NANO,
    )


@router.get("/{dataset_id}/policy", response_model=PolicyPublic)
def get_policy(dataset_id: DatasetId, session: SessionDep, _admin: AdminPrincipal) -> PolicyPublic:
    """A private dataset's policy and what has been spent on it (all its versions)."""
    return _policy_public(session, registry.get_dataset(session, dataset_id))


@router.put("/{dataset_id}/policy/budget", response_model=PolicyPublic, responses=error_responses(409))
def set_budget(
    dataset_id: DatasetId, body: BudgetChange, request: Request, admin: AdminPrincipal
) -> PolicyPublic:
    """Change a private dataset's budget; never below what has already been spent on it."""
    # A write transaction from its start (BEGIN IMMEDIATE on SQLite): no release can spend between
    # the check against what is spent and the change.
    with commons_of(request).transaction(immediate=True) as session:
        dataset = registry.get_dataset(session, dataset_id)
        current = _policy_public(session, dataset)
        if body.epsilon_total < current.spent_total:
            raise Conflict(
                f"epsilon_total {body.epsilon_total:g} is below the {current.spent_total:g} "
                "already spent on this dataset"
            )
        if body.epsilon_per_organisation < current.spent_most_by_one_organisation:
            raise Conflict(
                f"epsilon_per_organisation {body.epsilon_per_organisation:g} is below the "
                f"{current.spent_most_by_one_organisation:g} one organisation already spent"
            )
        spec = PolicySpec.model_validate(dataset.policy, from_attributes=True)
        registry.set_policy(
            session,
            dataset=dataset,
            spec=spec.model_copy(update=body.model_dump()),
            actor=admin.actor,
            kind="budget",
        )
        log.info("budget of %s set to %s by %s", dataset_id, body.model_dump(), admin.actor)
        return _policy_public(session, dataset)
