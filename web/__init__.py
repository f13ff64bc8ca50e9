"""The web front: server-rendered pages (Jinja2) in Italian and English, assets served by the app.

It sits at composition level beside ``datacommons.app`` and ``datacommons.cli``: pages may import
every package. :func:`install` adds its routes, its static files and the redirect to sign in; the
app's error handlers ask :mod:`web.errors` whether a request is for a page and render its error page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from datacommons.guards import Guards
from web import admin_pages, donor_pages, pages, query_pages, transparency_pages


def install(app: FastAPI, guards: Guards) -> None:
    """Add the pages, their assets (``/static``) and the sign-in redirect to ``app``, and the pages'
    rate limits to ``guards``."""
    for module in (pages, query_pages, donor_pages, admin_pages, transparency_pages):
        app.include_router(module.router)
        guards.add(module.router, getattr(module, "GUARDS", ()))
    app.mount("/static", StaticFiles(directory=str(pages.HERE / "static")), name="static")

    @app.exception_handler(pages.SignInRequired)
    async def _sign_in(_request: Request, exc: pages.SignInRequired) -> RedirectResponse:
        return RedirectResponse("/login?" + urlencode({"next": exc.next_url}), status_code=303)
