"""The quality gate's admin routes under ``/api/v1/admin``: validate, publish, reports.

Every route needs an administrator's token (403 for any other role). A validation that fails answers
409 with the failing expectations named — after its report is stored and the version rejected.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from datacommons import registry
from datacommons.deps import AdminPrincipal, IntId, PagingDep, SessionDep, commons_of
from datacommons.quality.gate import failure_error, publish_version, validate_version
from datacommons.quality.models import get_report, latest_report, reports_of
from datacommons.quality.report import render_html, report_data
from datacommons.quality.schemas import PublicationPublic, ReportPublic, TransitionPublic
from datacommons.schemas import ListOf, error_responses

router = APIRouter(prefix="/admin", tags=["quality gate"], responses=error_responses(401, 403))

API = "/api/v1"


def _public(session: registry.Session, report_id: int) -> ReportPublic:
    data = report_data(session, get_report(session, report_id), api=API)
    return ReportPublic.model_validate(data)


@router.post(
    "/datasets/{dataset_id}/versions/{number}/validate",
    response_model=ReportPublic,
    responses=error_responses(404, 409, 422, 503),
)
def validate(dataset_id: str, number: IntId, request: Request, caller: AdminPrincipal) -> ReportPublic:
    """Validate a version now: 200 with the report if it passes, 409 naming what failed.

    Either way the report is stored and the version becomes validated or rejected.
    """
    commons = commons_of(request)
    with commons.transaction(immediate=True) as session:
        version = registry.get_version(session, dataset_id, number)
        report = validate_version(session, store=commons.store, version=version, actor=caller.actor)
        report_id, success = report.id, report.success
        error = None if success else failure_error(report)
    if error is not None:
        raise error
    with commons.sessions() as session:
        return _public(session, report_id)


@router.post(
    "/datasets/{dataset_id}/versions/{number}/publish",
    response_model=PublicationPublic,
    responses=error_responses(404, 409, 503),
)
def publish(dataset_id: str, number: IntId, request: Request, caller: AdminPrincipal) -> PublicationPublic:
    """Publish a validated version, or make an older published one current again (else 409)."""
    with commons_of(request).transaction(immediate=True) as session:
        version = publish_version(session, dataset_id=dataset_id, number=number, actor=caller.actor)
        dataset = registry.get_dataset(session, dataset_id)
        return PublicationPublic(
            dataset_id=dataset_id,
            number=version.number,
            status=version.status,
            current=dataset.current_version_id == version.id,
            transitions=[
                TransitionPublic.model_validate(t, from_attributes=True)
                for t in registry.transitions_of(session, version)
            ],
        )


@router.get(
    "/datasets/{dataset_id}/versions/{number}/report",
    response_model=ReportPublic,
    responses=error_responses(404),
)
def version_report(
    dataset_id: str, number: IntId, session: SessionDep, _caller: AdminPrincipal
) -> ReportPublic:
    """The newest validation report of a version."""
    return _public(session, latest_report(session, dataset_id, number).id)


@router.get(
    "/datasets/{dataset_id}/versions/{number}/reports",
    response_model=ListOf[ReportPublic],
    responses=error_responses(404),
)
def version_reports(
    dataset_id: str, number: IntId, session: SessionDep, _caller: AdminPrincipal, page: PagingDep
) -> ListOf[ReportPublic]:
    """The validation reports of a version, newest first, a page of them."""
    version = registry.get_version(session, dataset_id, number)
    reports = reports_of(session, version)
    return ListOf[ReportPublic](
        data=[_public(session, r.id) for r in page.window(reports)], count=len(reports)
    )


@router.get("/reports/{report_id}.html", response_class=HTMLResponse, responses=error_responses(404))
def report_page(report_id: IntId, session: SessionDep, _caller: AdminPrincipal) -> HTMLResponse:
    """The readable page of a validation report."""
    data = report_data(session, get_report(session, report_id), api=API)
    return HTMLResponse(render_html(data), headers={"Cache-Control": "no-store"})


@router.get("/reports/{report_id}", response_model=ReportPublic, responses=error_responses(404))
def report_json(report_id: IntId, session: SessionDep, _caller: AdminPrincipal) -> ReportPublic:
    """A validation report as JSON (the HTML page's twin)."""
    return _public(session, report_id)
