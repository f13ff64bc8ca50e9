"""The web front's two languages. Pages pick Italian or English from ``?lang=``, then the ``dc_lang``
cookie, then the browser's Accept-Language, defaulting to Italian."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal
from fastapi import Request
from jinja2 import Environment, pass_context
from markupsafe import Markup, escape

from datacommons.vocabularies import DATA_THEMES, FREQUENCIES, NUTS_LABELS, PURPOSES, label_of
from web.texts import TEXTS


def pick_lang(request: Request) -> Literal["it", "en"]:
    """The language of this request's page."""
    asked = request.query_params.get("lang") or request.cookies.get("dc_lang")
    if asked == "it":
        return "it"
    if asked == "en":
        return "en"
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "it"


def translator(lang: str):  # type: ignore[no-untyped-def]
    """``t(key)``: the text of ``key`` in ``lang``."""

    def t(key: str) -> str:
        entry = TEXTS.get(key)
        return entry[lang] if entry else key

    return t


def format_number(value: Any, lang: str, digits: int | None = None) -> str:
    """A number as a reader of ``lang`` writes it (7.901 and 6,5 in Italian; 7,901 and 6.5 in
    English), with ``digits`` decimals when given; None is nothing."""
    if value is None or value == "":
        return ""
    if digits is None:
        return format_decimal(value, locale=lang)
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(float(value), format=pattern, locale=lang)


#: How a moment is written: day/month/year in Italian, "4 May 2026" in English (CLDR patterns).
DATETIME_PATTERNS = {"it": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy HH:mm"}


def as_utc(value: Any) -> datetime | None:
    """A datetime (or an ISO 8601 text) in UTC; naive times are the database's UTC; None if none."""
    if value is None or value == "" or value == "None":
        return None
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_datetime(value: Any, lang: str, *, naive_is_utc: bool = True) -> Markup:
    """A ``<time>`` element: the moment in UTC, marked as UTC (01/12/2026 07:18 UTC in Italian,
    1 Dec 2026 07:18 UTC in English). A text that is no time is shown as it is. A naive time is
    ours (UTC) unless ``naive_is_utc`` is false (a source's own clock): then it has no zone mark."""
    zoned = isinstance(value, datetime) and value.tzinfo is not None
    if isinstance(value, str) and value not in ("", "None"):
        try:
            zoned = datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return escape(value)
    moment = as_utc(value)
    if moment is None:
        return Markup("") if value in (None, "", "None") else escape(str(value))
    zone = " UTC" if zoned or naive_is_utc else ""
    shown = (
        babel_datetime(moment, DATETIME_PATTERNS.get(lang, DATETIME_PATTERNS["it"]), tzinfo=UTC, locale=lang)
        + zone
    )
    stamp = moment.isoformat() if zone else moment.replace(tzinfo=None).isoformat()
    return Markup('<time datetime="{}">{}</time>').format(stamp, shown)


def code_label(kind: str, code: str, lang: str) -> str:
    """The label of a code the catalog uses (theme, frequency, geography, access, format, status,
    purpose, use, column of a statistical table), in ``lang``; the code itself when it has none."""
    code = str(code or "")
    found: str | None = None
    if kind == "theme":
        found = label_of(DATA_THEMES, code, lang)
    elif kind == "frequency":
        found = label_of(FREQUENCIES, code, lang)
    elif kind == "geography":
        found = label_of(NUTS_LABELS, code, lang)
    elif kind == "purpose" and code in PURPOSES:
        found = PURPOSES[code][1 if lang == "en" else 0]
    elif kind in ("access", "format", "status", "use", "column"):
        key = {"access": code, "column": f"col_{code.lower()}"}.get(kind, f"{kind}_{code}")
        entry = TEXTS.get(key)
        found = entry[lang] if entry else None
    return found or code


def install(env: Environment) -> None:
    """Give the templates the filters and functions that depend on the page's language:
    ``num``, ``when``, ``label(kind, code)`` and ``coded(kind, code)`` (the label, with the code as
    a tooltip and as small secondary text)."""

    @pass_context
    def num(context: Any, value: Any, digits: int | None = None) -> str:
        return format_number(value, context.get("lang", "it"), digits)

    @pass_context
    def when(context: Any, value: Any, naive_is_utc: bool = True) -> Markup:
        return format_datetime(value, context.get("lang", "it"), naive_is_utc=naive_is_utc)

    @pass_context
    def label(context: Any, kind: str, code: str) -> str:
        return code_label(kind, code, context.get("lang", "it"))

    @pass_context
    def coded(context: Any, kind: str, code: str) -> Markup:
        text = code_label(kind, code, context.get("lang", "it"))
        if text == code:
            return escape(code)
        return Markup('<span title="{0}">{1}</span> <small class="code">{0}</small>').format(code, text)

    env.filters["num"] = num
    env.filters["when"] = when
    env.globals["label"] = label
    env.globals["coded"] = coded
