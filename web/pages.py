"""The web front's pages: catalog, dataset, sign in and out.

Each page is built from the same functions as its JSON twin (linked from the page). Pages sign in with
an API token kept in an HttpOnly cookie; unsafe requests made with that cookie must carry the CSRF
token (see :func:`datacommons.auth.bearer_token`).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from catalog import search
from catalog.charts import chart_for
from catalog.schemas import DatasetPublic, VersionPublic
from datacommons import registry
from datacommons.auth import CSRF_COOKIE, TOKEN_COOKIE, Principal, authenticate
from datacommons.deps import SessionDep, commons_of
from datacommons.errors import Unauthorized
from datacommons.guards import Guard, Rate
from privacy.api import QUERY_ROLES
from web import i18n
from web.i18n import pick_lang, translator

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
i18n.install(templates.env)
router = APIRouter(include_in_schema=False)
GUARDS = (Guard("/login", rate=Rate.LOGIN),)

LANG_COOKIE = "dc_lang"


class SignInRequired(Exception):
    """Raised by a page that needs a signed-in user; the app redirects to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def page_principal(request: Request, session: SessionDep) -> Principal | None:
    """The signed-in user of a page, if any (an invalid cookie counts as signed out)."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        return None
    try:
        return authenticate(session, token)
    except Unauthorized:
        return None


def require_page_user(request: Request, session: SessionDep) -> Principal:
    """The signed-in user, or a redirect to the sign-in page."""
    principal = page_principal(request, session)
    if principal is None:
        raise SignInRequired(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))
    return principal


def forbidden_page(request: Request, principal: Principal, reason: str) -> HTMLResponse:
    """The page a signed-in user without the role sees (403), with ways out."""
    return render(request, "forbidden.html", {"reason": reason}, principal=principal, status=403)


def error_page(
    request: Request,
    principal: Principal | None,
    status: int,
    detail: str,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The small page a browser gets for an error on a page route (the API answers JSON)."""
    response = render(
        request, "error.html", {"status": status, "detail": detail}, principal=principal, status=status
    )
    for name, value in (headers or {}).items():
        response.headers.setdefault(name, value)
    return response


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    principal: Principal | None,
    status: int = 200,
) -> HTMLResponse:
    """Render a page with the language, the user and the CSRF token every page needs."""
    lang = pick_lang(request)
    params = dict(request.query_params)

    def lang_query(code: str) -> str:
        return urlencode({**params, "lang": code})

    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "t": translator(lang),
            "principal": principal,
            "lang_query": lang_query,
            "csrf": request.cookies.get(CSRF_COOKIE, ""),
            "json_url": None,
            **context,
        },
        status_code=status,
    )
    if request.query_params.get("lang") in ("it", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, session: SessionDep, next: str = "/") -> HTMLResponse:
    return render(
        request, "login.html", {"next": next, "error": None}, principal=page_principal(request, session)
    )


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.post("/login")
def login(
    request: Request, session: SessionDep, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/"
) -> Response:
    try:
        authenticate(session, token.strip())
    except Unauthorized:
        t = translator(pick_lang(request))
        return render(
            request, "login.html", {"next": next, "error": t("bad_token")}, principal=None, status=401
        )
    secure = commons_of(request).settings.public_url.startswith("https://")
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        TOKEN_COOKIE, token.strip(), httponly=True, samesite="lax", secure=secure, max_age=12 * 3600
    )
    response.set_cookie(
        CSRF_COOKIE, secrets.token_urlsafe(24), samesite="strict", secure=secure, max_age=12 * 3600
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    response = RedirectResponse("/login", status_code=303)
    if csrf and secrets.compare_digest(csrf, request.cookies.get(CSRF_COOKIE, "")):
        response.delete_cookie(TOKEN_COOKIE)
        response.delete_cookie(CSRF_COOKIE)
    return response


FACET_NAMES = search.FACETS


@router.get("/", response_class=HTMLResponse)
def catalog_page(request: Request, session: SessionDep, q: str = "", offset: int = 0) -> HTMLResponse:
    principal = require_page_user(request, session)
    filters = {
        name: request.query_params.getlist(name) for name in FACET_NAMES if request.query_params.getlist(name)
    }
    limit = 20
    lang = pick_lang(request)
    commons = commons_of(request)
    result = search.search(
        session,
        commons.store,
        indexes=search.indexes_of(commons),
        q=q,
        filters=filters,
        lang=lang,
        limit=limit,
        offset=max(0, offset),
    )

    def facet_link(name: str, value: str) -> str:
        chosen = {k: list(v) for k, v in filters.items()}
        values = chosen.setdefault(name, [])
        if value in values:
            values.remove(value)
        else:
            values.append(value)
        pairs = [("q", q), ("lang", lang)] + [(k, v) for k, vs in chosen.items() for v in vs]
        return "/?" + urlencode(pairs)

    def page_link(new_offset: int) -> str:
        pairs = [("q", q), ("lang", lang), ("offset", str(max(0, new_offset)))]
        pairs += [(k, v) for k, vs in filters.items() for v in vs]
        return "/?" + urlencode(pairs)

    api_pairs = [("q", q), ("lang", lang)] + [(k, v) for k, vs in filters.items() for v in vs]
    return render(
        request,
        "catalog.html",
        {
            "q": q,
            "filters": filters,
            "items": result.items,
            "count": result.count,
            "facets": result.facets,
            "limit": limit,
            "offset": offset,
            "facet_link": facet_link,
            "page_link": page_link,
            "json_url": "/api/v1/datasets?" + urlencode(api_pairs),
        },
        principal=principal,
    )


#: Provenance keys the dataset page names, in the order it shows them, and how it shows each.
PROVENANCE_FIELDS: tuple[tuple[str, str], ...] = (
    ("source_url", "link"),
    ("source_page", "link"),
    ("sources", "list"),
    ("attribution", "text"),
    ("dataflow", "code"),
    ("source_file", "code"),
    ("filter", "code"),
    ("retrieved_at", "time"),
    ("upstream_last_update", "source_time"),
    ("connector", "connector"),
    ("sha256", "code"),
    ("dropped_columns", "list"),
)


def _empty(value: Any) -> bool:
    return value is None or value in ("", "None", "null") or value == [] or value == {}


def provenance_view(provenance: dict[str, Any]) -> dict[str, Any]:
    """A version's provenance as the dataset page shows it: the known fields (empty ones left out)
    with how to show each, and the rest (e.g. the connector's parameters) as indented JSON."""
    fields = []
    for key, kind in PROVENANCE_FIELDS:
        value = provenance.get(key)
        if _empty(value):
            continue
        if kind == "connector" and not _empty(provenance.get("connector_version")):
            value = f"{value} (v{provenance['connector_version']})"
        if kind == "list":
            value = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        if kind == "link" and not str(value).startswith(("http://", "https://")):
            kind = "code"
        fields.append({"key": key, "kind": kind, "value": value})
    known = {key for key, _ in PROVENANCE_FIELDS} | {"connector_version"}
    rest = {k: v for k, v in provenance.items() if k not in known and not _empty(v)}
    return {
        "fields": fields,
        "rest": json.dumps(rest, indent=2, ensure_ascii=False, default=str) if rest else "",
    }


@router.get("/datasets/{dataset_id}", response_class=HTMLResponse)
def dataset_page(dataset_id: str, request: Request, session: SessionDep) -> HTMLResponse:
    principal = require_page_user(request, session)
    dataset = registry.get_dataset(session, dataset_id)
    versions = [
        VersionPublic.model_validate(v).model_dump(mode="json")
        for v in registry.list_versions(session, dataset_id)
    ]
    current = dataset.current_version
    return render(
        request,
        "dataset.html",
        {
            "d": DatasetPublic.of(dataset).model_dump(mode="json"),
            "versions": versions,
            "provenance": provenance_view(current.provenance or {}) if current is not None else None,
            "can_query": principal.role in QUERY_ROLES,
            "chart": chart_for(dataset, commons_of(request).store),
            "json_url": f"/api/v1/datasets/{dataset_id}",
        },
        principal=principal,
    )
