"""The readable page of a validation report, for administrators.

One function builds the data (:func:`report_data`: the stored JSON plus the version's transitions);
the JSON route returns it and :func:`render_html` renders the same data with the package's Jinja2
template. The page links to its JSON twin.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from datacommons import datasets, registry
from datacommons.quality.models import ValidationReport

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment of the package's templates (HTML-escaped)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def report_data(session: Session, report: ValidationReport, *, api: str = "/api/v1") -> dict[str, Any]:
    """Everything a report page shows: the stored report, the version's history and the links."""
    version = session.get(datasets.DatasetVersion, report.version_id)
    transitions = registry.transitions_of(session, version) if version is not None else []
    return {
        **report.report,
        "id": report.id,
        "current_status": version.status if version is not None else None,
        "transitions": [
            {
                "from": t.from_status,
                "to": t.to_status,
                "actor": t.actor,
                "at": t.at.isoformat(),
                "note": t.note,
            }
            for t in transitions
        ],
        "links": {
            "json": f"{api}/admin/reports/{report.id}",
            "html": f"{api}/admin/reports/{report.id}.html",
            "publish": f"{api}/admin/datasets/{report.dataset_id}/versions/{report.version_number}/publish",
        },
    }


def render_html(data: dict[str, Any]) -> str:
    """The HTML page of a report (the data of :func:`report_data`)."""
    return environment().get_template("report.html").render(r=data)
