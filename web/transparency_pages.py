"""The public page of the transparency log, ``/trasparenza`` (``/transparency`` leads there): its
entries newest first, filtered by kind, dataset, organisation and period, the latest signed
checkpoint with the log's verifier key, and how to check them. No account is needed.

The page shows what the log publishes (:func:`consent.tlog.entry_public`), never the actor kept
beside an entry. It reads a page at a time: the filters are plain predicates in SQL, the entries are
walked newest first along the primary key and paged by position (keyset paging, ``before`` and
``after`` a leaf index), and nothing counts the matches, so a log of millions of entries is never
read whole. The entries shown stop at the checkpoint shown: the page is one state of the log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import ColumnElement, cast, exists, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from consent import cosignatures, tlog
from consent.models import TransparencyEntry
from consent.tlog_api import log_key
from consent.transparency import KINDS
from datacommons.datasets import Dataset
from datacommons.deps import SessionDep, commons_of
from web.i18n import code_label, format_datetime, format_number, pick_lang, translator
from web.pages import page_principal, render
from web.texts import TEXTS

router = APIRouter(include_in_schema=False)

PATH = "/trasparenza"
#: Entries on one page.
PAGE_SIZE = 50
#: Longest text of one detail before it is cut (the entry's JSON has it whole).
DETAIL_CHARS = 80
HEX = re.compile(r"[0-9a-f]{32,}")


# --- the filters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogFilter:
    """What the reader asked for: a kind, a dataset, an organisation and a period (both days included)."""

    kind: str = ""
    dataset: str = ""
    organisation: str = ""
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.kind or self.dataset or self.organisation or self.since or self.until)

    def pairs(self) -> list[tuple[str, str]]:
        """The filter as query parameters (only those set)."""
        found = [
            ("kind", self.kind),
            ("dataset", self.dataset),
            ("organisation", self.organisation),
            ("from", self.since.isoformat() if self.since else ""),
            ("to", self.until.isoformat() if self.until else ""),
        ]
        return [(name, value) for name, value in found if value]

    def clauses(self, dialect: str) -> list[ColumnElement[bool]]:
        """The filter as SQL predicates on the log's table."""
        where: list[ColumnElement[bool]] = []
        if self.kind:
            where.append(TransparencyEntry.kind == self.kind)
        if self.organisation:
            where.append(TransparencyEntry.organisation == self.organisation)
        if self.dataset:
            where.append(names_dataset(dialect, self.dataset))
        if self.since is not None:
            where.append(TransparencyEntry.at >= datetime.combine(self.since, time(), UTC))
        if self.until is not None:
            where.append(TransparencyEntry.at < datetime.combine(self.until + timedelta(days=1), time(), UTC))
        return where


def names_dataset(dialect: str, dataset: str) -> ColumnElement[bool]:
    """Whether an entry's ``datasets`` (a JSON list) holds ``dataset``: JSON containment on
    PostgreSQL, a lookup in ``json_each`` on SQLite. Both compare whole ids (no prefix, no pattern)."""
    if dialect == "postgresql":
        return cast(TransparencyEntry.datasets, JSONB).contains([dataset])
    each = func.json_each(TransparencyEntry.datasets).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(each.c.value == dataset))


@dataclass(frozen=True)
class Problem:
    """A value of the form the page cannot use: the text that says so, and the value."""

    key: str
    value: str = ""


def _day(raw: str, problems: list[Problem]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(Problem("tlog_bad_date", raw))
        return None


def _position(raw: str, problems: list[Problem]) -> int | None:
    if not raw:
        return None
    if raw.isdigit() and len(raw) <= 18:
        return int(raw)
    problems.append(Problem("tlog_bad_position", raw))
    return None


@dataclass(frozen=True)
class LogQuery:
    """A request of the page: the filter, where the page starts, and what was wrong with it."""

    filter: LogFilter
    before: int | None = None
    after: int | None = None
    problems: tuple[Problem, ...] = ()


def parse_query(params: Mapping[str, str]) -> LogQuery:
    """Read the page's query parameters; a value it cannot use is a :class:`Problem`, not an error."""
    problems: list[Problem] = []
    kind = params.get("kind", "").strip()
    if kind and kind not in KINDS:
        problems.append(Problem("tlog_bad_kind", kind))
    since = _day(params.get("from", "").strip(), problems)
    until = _day(params.get("to", "").strip(), problems)
    if since is not None and until is not None and until < since:
        problems.append(Problem("tlog_bad_period"))
    before = _position(params.get("before", "").strip(), problems)
    after = _position(params.get("after", "").strip(), problems)
    chosen = LogFilter(
        kind=kind if kind in KINDS else "",
        dataset=params.get("dataset", "").strip(),
        organisation=params.get("organisation", "").strip(),
        since=since,
        until=until,
    )
    return LogQuery(chosen, before, after if before is None else None, tuple(problems))


# --- reading the log -------------------------------------------------------------------------------


@dataclass
class LogSlice:
    """The entries of one page (newest first) and whether there are newer and older matches."""

    entries: list[TransparencyEntry] = field(default_factory=list)
    newer: bool = False
    older: bool = False


def read_slice(
    session: Session, *, size: int, where: list[ColumnElement[bool]], query: LogQuery, limit: int
) -> LogSlice:
    """The matching entries of the tree of ``size`` leaves on this page: ``limit`` before leaf
    ``query.before`` (or the newest), or the ``limit`` just after leaf ``query.after``."""
    key = TransparencyEntry.id  # leaf index + 1
    base = [key <= size, *where]

    def any_where(*more: ColumnElement[bool]) -> bool:
        return session.scalar(select(key).where(*base, *more).limit(1)) is not None

    if query.after is not None:
        rows = list(
            session.scalars(
                select(TransparencyEntry).where(*base, key > query.after + 1).order_by(key).limit(limit + 1)
            )
        )
        newer = len(rows) > limit
        rows = rows[:limit][::-1]
        older = any_where(key <= query.after + 1)
        return LogSlice(rows, newer, older)
    more = [key <= query.before] if query.before is not None else []
    rows = list(
        session.scalars(select(TransparencyEntry).where(*base, *more).order_by(key.desc()).limit(limit + 1))
    )
    newer = query.before is not None and any_where(key > query.before)
    return LogSlice(rows[:limit], newer, len(rows) > limit)


# --- showing an entry ------------------------------------------------------------------------------


def _short(text: str) -> str:
    if HEX.fullmatch(text):
        return text[:12] + "…"
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def detail_value(key: str, value: Any, t: Callable[[str], str], lang: str) -> tuple[str, str]:
    """A detail as the page writes it, with its whole value as a tooltip when it was shortened."""
    if isinstance(value, bool):
        text = t("tlog_yes") if value else t("tlog_no")
    elif isinstance(value, int | float):
        text = format_number(value, lang)
    elif key == "role" and f"role_{value}" in TEXTS:
        text = t(f"role_{value}")
    elif key in ("status", "status_before"):
        text = code_label("status", str(value), lang)
    elif key == "purpose":
        text = code_label("purpose", str(value), lang)
    elif key.endswith("_at") and isinstance(value, str):
        text = str(format_datetime(value, lang).striptags())
    elif isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = ", ".join(
            f"{k} ({len(v)})" if isinstance(v, list | dict) else f"{k}: {v}" for k, v in value.items()
        )
    else:
        text = str(value)
    shown = _short(text)
    return shown, (text if shown != text else "")


def details_view(public: dict[str, Any], t: Callable[[str], str], lang: str) -> list[dict[str, str]]:
    """An entry's details in a short, readable form: a label and a value each (empty ones left out)."""
    shown = []
    for key, value in public["details"].items():
        if value is None or value == "" or value == [] or value == {}:
            continue
        label = t(f"tlog_d_{key}") if f"tlog_d_{key}" in TEXTS else key
        text, whole = detail_value(key, value, t, lang)
        shown.append({"label": label, "value": text, "title": whole})
    if public["fee_eur"] is not None:
        shown.append({"label": t("tlog_fee"), "value": f"€ {format_number(public['fee_eur'], lang, 2)}"})
    return shown


def kind_label(kind: str, t: Callable[[str], str]) -> str:
    """The name of a kind of entry in the page's language (the kind itself if it has none)."""
    return t(f"kind_{kind}") if f"kind_{kind}" in TEXTS else kind


def purpose_label(purpose: str, lang: str) -> str:
    """A purpose in the page's language: a DPV purpose, or one of the log's own purposes."""
    key = f"tlog_p_{purpose}"
    if key in TEXTS:
        return TEXTS[key][lang]
    return code_label("purpose", purpose, lang)


def entry_view(
    entry: TransparencyEntry, *, known: set[str], t: Callable[[str], str], lang: str
) -> dict[str, Any]:
    """One row of the page, made from the published entry alone (so never its actor)."""
    public = tlog.entry_public(entry)
    commitment = str(public["details"].get("commitment", "")) if public["kind"] == "consent" else ""
    return {
        "index": public["index"],
        "at": public["at"],
        "kind": public["kind"],
        "kind_label": kind_label(public["kind"], t),
        "organisation": public["organisation"],
        "purpose": public["purpose"],
        "purpose_label": purpose_label(public["purpose"], lang),
        "datasets": [{"id": d, "known": d in known} for d in public["datasets"]],
        "commitment": commitment,
        "details": [] if commitment else details_view(public, t, lang),
    }


# --- the page --------------------------------------------------------------------------------------


def transparency_data(
    session: Session, *, keys: tlog.LogKeys, query: LogQuery, lang: str, limit: int = PAGE_SIZE
) -> dict[str, Any]:
    """Everything the page shows: the latest checkpoint (as ``/transparency/checkpoint`` serves it,
    with the witnesses' cosignatures of it), its tree size, the verifier key and, when the query is
    usable, the matching entries of that tree on this page."""
    size = tlog.tree_size(session)
    note = cosignatures.with_cosignatures(session, keys, size)
    witnessed = len(cosignatures.lines_for(session, size))
    t = translator(lang)
    found = LogSlice()
    if not query.problems:
        dialect = session.get_bind().dialect.name
        found = read_slice(session, size=size, where=query.filter.clauses(dialect), query=query, limit=limit)
    ids = {d for entry in found.entries for d in entry.datasets}
    known = set(session.scalars(select(Dataset.id).where(Dataset.id.in_(ids)))) if ids else set()
    return {
        "checkpoint": note,
        "origin": keys.origin,
        "tree_size": size,
        "verifier_key": keys.verifier_key,
        "cosignatures": witnessed,
        "cosigned_size": cosignatures.latest_cosigned_size(session),
        "entries": [entry_view(e, known=known, t=t, lang=lang) for e in found.entries],
        "newer": found.newer,
        "older": found.older,
        "limit": limit,
    }


def _link(pairs: list[tuple[str, str]]) -> str:
    return PATH + "?" + urlencode(pairs)


@router.get(PATH, response_class=HTMLResponse)
def transparency_page(request: Request, session: SessionDep) -> HTMLResponse:
    """The public transparency log (anyone; a signed-in user sees the usual header)."""
    lang = pick_lang(request)
    t = translator(lang)
    query = parse_query(request.query_params)
    data = transparency_data(session, keys=log_key(request, session), query=query, lang=lang)
    chosen = query.filter
    keep = [*chosen.pairs(), ("lang", lang)]
    entries = data["entries"]

    def only_organisation(name: str) -> str:
        pairs = [(k, v) for k, v in chosen.pairs() if k != "organisation"]
        return _link([*pairs, ("organisation", name), ("lang", lang)])

    if entries:
        first, last = entries[0]["index"], entries[-1]["index"]
        json_url = f"/api/v1/transparency/entries?start={last}&end={first + 1}"
    else:
        json_url = "/api/v1/transparency/entries"
    base = commons_of(request).settings.public_url.rstrip("/")
    return render(
        request,
        "transparency.html",
        {
            "data": data,
            "filter": chosen,
            "kinds": [(kind, kind_label(kind, t)) for kind in KINDS],
            "problems": [t(p.key).format(value=p.value) for p in query.problems],
            "newer_link": _link([*keep, ("after", str(entries[0]["index"]))]) if data["newer"] else "",
            "older_link": _link([*keep, ("before", str(entries[-1]["index"]))]) if data["older"] else "",
            "newest_link": _link(keep) if query.before is not None or query.after is not None else "",
            "clear_link": _link([("lang", lang)]) if chosen.active else "",
            "only_organisation": only_organisation,
            "public_url": base,
            "json_url": json_url,
        },
        principal=page_principal(request, session),
        status=422 if query.problems else 200,
    )


@router.get("/transparency")
def transparency_in_english(request: Request) -> RedirectResponse:
    """The page's English address: the same page, in English unless the address asks otherwise."""
    params = dict(request.query_params)
    params.setdefault("lang", "en")
    return RedirectResponse(_link(list(params.items())), status_code=307)
