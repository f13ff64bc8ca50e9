"""The query builder page: purpose, dimensions, measures and epsilon over a private dataset.

The page only offers the choices; ``static/app.js`` asks the JSON API for the preview, the release and
the extract (with the session cookie and the CSRF header), so the privacy rules live in one place.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from consent import programs
from consent.agreements import Recipient
from datacommons import datasets, registry, specs
from datacommons.deps import SessionDep
from datacommons.errors import InvalidInput
from privacy.api import QUERY_ROLES
from privacy.service import recipient_of
from web.pages import forbidden_page, render, require_page_user

router = APIRouter(include_in_schema=False)


def query_choices(session: Session, dataset: datasets.Dataset, recipient: Recipient) -> dict[str, Any]:
    """What the builder offers: the purposes of the programs covering the dataset whose consent text
    names the caller as a recipient (each with the programs' Italian and English labels), its public
    dimensions, its bounded numeric columns and its per-query epsilon cap."""
    if dataset.access != "private" or dataset.policy is None:
        raise InvalidInput(f"dataset {dataset.id} is open: download it instead of querying it")
    found: dict[str, dict[str, str]] = {}
    for program in programs.list_programs(session):
        public = programs.program_public(session, program)
        text = public["current_text"]
        if dataset.id in text["datasets"] and recipient.named_by(text["recipients"]):
            found.setdefault(
                public["purpose"],
                {
                    "id": public["purpose"],
                    "label_it": public["purpose_label_it"],
                    "label_en": public["purpose_label_en"],
                },
            )
    purposes = [found[key] for key in sorted(found)]
    schema = specs.SchemaSpec.model_validate(dataset.schema_spec or {"columns": []})
    numeric = [
        {"name": c.name, "min": c.min, "max": c.max}
        for c in schema.columns
        if c.type in ("integer", "float")
        and c.min is not None
        and c.max is not None
        and c.role in ("measure", "attribute")
    ]
    return {
        "purposes": purposes,
        "dimensions": dict(dataset.policy.public_dimensions),
        "numeric": numeric,
        "epsilon_per_query": dataset.policy.epsilon_per_query,
    }


@router.get("/query/{dataset_id}", response_class=HTMLResponse)
def query_page(dataset_id: str, request: Request, session: SessionDep) -> HTMLResponse:
    """The query builder of a private dataset."""
    principal = require_page_user(request, session)
    if principal.role not in QUERY_ROLES:
        return forbidden_page(request, principal, "forbidden_query")
    dataset = registry.get_dataset(session, dataset_id)
    recipient = recipient_of(session, principal, principal.organisation_id or 0)
    return render(
        request,
        "query.html",
        {
            "dataset": dataset,
            "choices": query_choices(session, dataset, recipient),
            "can_extract": principal.role in ("researcher", "admin"),
            "json_url": "/api/v1/budget",
        },
        principal=principal,
    )
