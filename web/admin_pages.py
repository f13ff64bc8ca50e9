"""The administration page (``/admin``): versions and their validation reports, validate, publish and
roll back, programs, private datasets' budgets, the audit-chain check and the yearly report.

The page reads through the services; its buttons call the admin JSON API through ``static/app.js``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from consent import programs, transparency
from datacommons import registry
from datacommons.deps import SessionDep
from datacommons.quality.models import reports_of
from privacy import ledger
from web.pages import forbidden_page, render, require_page_user

router = APIRouter(include_in_schema=False)


def admin_data(session: Session) -> dict[str, Any]:
    """Every dataset with its versions (newest first, each with its newest report), the programs,
    each private dataset's policy and epsilon spent on its current version, and the chain check."""
    datasets = []
    budgets = []
    for dataset in registry.list_datasets(session):
        versions = []
        for version in sorted(registry.list_versions(session, dataset.id), key=lambda v: -v.number):
            reports = reports_of(session, version)
            current = dataset.current_version_id == version.id
            versions.append(
                {
                    "number": version.number,
                    "status": version.status,
                    "rows": version.rows,
                    "created_at": version.created_at,
                    "current": current,
                    "report": ({"id": reports[0].id, "success": reports[0].success} if reports else None),
                    "can_validate": version.status in ("staged", "rejected"),
                    "can_publish": (
                        version.status == "validated" or (version.status == "published" and not current)
                    ),
                }
            )
        datasets.append(
            {
                "id": dataset.id,
                "title_it": dataset.title_it,
                "title_en": dataset.title_en,
                "access": dataset.access,
                "versions": versions,
            }
        )
        if dataset.access == "private" and dataset.policy is not None:
            # The dataset's total budget does not depend on the organisation asked about.
            spent = ledger.budgets(session, dataset_id=dataset.id, organisation_id=0, policy=dataset.policy)[
                "dataset_total"
            ].spent
            policy = dataset.policy
            budgets.append(
                {
                    "dataset": dataset.id,
                    "privacy_unit": policy.privacy_unit,
                    "max_rows_per_unit": policy.max_rows_per_unit,
                    "epsilon_total": policy.epsilon_total,
                    "epsilon_per_organisation": policy.epsilon_per_organisation,
                    "epsilon_per_query": policy.epsilon_per_query,
                    "spent": spent,
                    "remaining": max(0.0, policy.epsilon_total - spent),
                }
            )
    return {
        "datasets": datasets,
        "budgets": budgets,
        "programs": [programs.program_public(session, p) for p in programs.list_programs(session)],
        "chain": transparency.verify_chain(session).as_dict(),
    }


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, session: SessionDep) -> HTMLResponse:
    """The administration page (administrators only)."""
    principal = require_page_user(request, session)
    if principal.role != "admin":
        return forbidden_page(request, principal, "forbidden_admin")
    return render(
        request,
        "admin.html",
        {"data": admin_data(session), "json_url": "/api/v1/admin/audit/verify"},
        principal=principal,
    )
