"""The yearly activity report of a data-altruism organisation (DGA art. 20(2)), built from the
registry and the transparency log. JSON and HTML render the same data (:func:`altruism_report`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from consent import programs, transparency
from consent.models import Consent, ConsentEvent, ConsentPeriod, ConsentText, Donor
from datacommons.db import utcnow
from datacommons.errors import InvalidInput

#: The data-altruism organisation the report is about.
ORGANISATION = "Città metropolitana di Torino — data commons"

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    if not 2000 <= year <= 2100:
        raise InvalidInput("year must be between 2000 and 2100")
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def altruism_report(session: Session, *, year: int, organisation: str) -> dict[str, Any]:
    """What the commons did as a data-altruism organisation in ``year``."""
    start, end = _year_bounds(year)
    cutoff = min(end, utcnow())
    program_rows = []
    for program in programs.list_programs(session):
        events = Counter(
            dict(
                session.execute(
                    select(ConsentEvent.event, func.count())
                    .join(Consent, Consent.id == ConsentEvent.consent_id)
                    .where(Consent.program_id == program.id, ConsentEvent.at >= start, ConsentEvent.at < end)
                    .group_by(ConsentEvent.event)
                ).all()
            )
        )
        active = session.scalar(
            select(func.count(func.distinct(ConsentPeriod.donor_id)))
            .join(ConsentText, ConsentText.id == ConsentPeriod.text_id)
            .where(
                ConsentText.program_id == program.id,
                ConsentPeriod.void.is_(False),
                ConsentPeriod.valid_from < cutoff,
                or_(ConsentPeriod.ended_at.is_(None), ConsentPeriod.ended_at >= cutoff),
                or_(ConsentPeriod.valid_until.is_(None), ConsentPeriod.valid_until >= cutoff),
            )
        )
        texts = programs.list_texts(session, program)
        program_rows.append(
            {
                "id": program.id,
                "title_it": program.title_it,
                "title_en": program.title_en,
                "purpose": program.purpose,
                "controller": program.controller,
                "retention_days": program.retention_days,
                "datasets": sorted({d for t in texts for d in t.datasets}),
                "text_versions": [t.version for t in texts],
                "consents_given": events.get("given", 0),
                "consents_renewed": events.get("renewed", 0),
                "consents_withdrawn": events.get("withdrawn", 0),
                "consents_expired": events.get("expired", 0),
                "donors_with_consent_at_period_end": int(active or 0),
            }
        )
    # uses of data only: consent events are in the log as commitments, counted from the registry
    entries = [
        e for e in transparency.list_entries(session, since=start, until=end) if e.kind in transparency.USES
    ]
    fees = [e.fee_eur for e in entries if e.fee_eur is not None]
    return {
        "report": "DGA art. 20(2) annual activity report",
        "year": year,
        "period": {"from": start, "to": end},
        "organisation": organisation,
        "generated_at": utcnow(),
        "donors": {
            "registered_by_period_end": int(
                session.scalar(select(func.count()).select_from(Donor).where(Donor.created_at < end)) or 0
            ),
            "registered_in_year": int(
                session.scalar(
                    select(func.count())
                    .select_from(Donor)
                    .where(Donor.created_at >= start, Donor.created_at < end)
                )
                or 0
            ),
            "erased_in_year": int(
                session.scalar(
                    select(func.count())
                    .select_from(Donor)
                    .where(Donor.erased_at >= start, Donor.erased_at < end)
                )
                or 0
            ),
        },
        "programs": program_rows,
        "uses": {
            "count": len(entries),
            "by_kind": dict(sorted(Counter(e.kind for e in entries).items())),
            "by_purpose": dict(sorted(Counter(e.purpose for e in entries).items())),
            "by_organisation": dict(sorted(Counter(e.organisation or e.actor for e in entries).items())),
            "fees_eur_total": round(sum(fees), 2),
            "entries": [
                {
                    "id": e.id,
                    "at": e.at,
                    "kind": e.kind,
                    "actor": e.actor,
                    "organisation": e.organisation,
                    "purpose": e.purpose,
                    "datasets": list(e.datasets),
                    "fee_eur": e.fee_eur,
                }
                for e in entries
            ],
        },
        "transparency_log": transparency.verify_chain(session).as_dict(),
    }


def render_html(report: dict[str, Any], *, json_url: str) -> str:
    """The printable HTML of a yearly report (it links to its JSON twin)."""
    return TEMPLATES.get_template("altruism_report.html").render(r=report, json_url=json_url)


def render_form_html(form: dict[str, Any], *, json_url: str) -> str:
    """The printable consent form of a program."""
    return TEMPLATES.get_template("consent_form.html").render(f=form, json_url=json_url)
