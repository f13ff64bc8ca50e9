"""Which requests are pages, and their error page (the app's error handlers call these)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import SQLAlchemyError

from datacommons.deps import commons_of
from web.pages import error_page, page_principal

#: Paths that are not web pages: their errors are always the API's JSON body.
NOT_PAGES = ("/api/", "/.well-known/", "/openapi.json", "/docs", "/static/")


def is_page_request(request: Request) -> bool:
    """Whether the request is for a web page (its errors are an HTML page, not JSON)."""
    path = request.url.path
    return not (path.startswith(NOT_PAGES) or path in ("/api", "/docs", "/static"))


def page_error(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """The web front's error page, signed-in header and language included, with ``status``."""
    principal = None
    if status < 500:  # on a 5xx the database may be what failed: do not touch it again
        try:
            with commons_of(request).sessions() as session:
                principal = page_principal(request, session)
        except SQLAlchemyError:
            principal = None
    return error_page(request, principal, status, message, headers)
