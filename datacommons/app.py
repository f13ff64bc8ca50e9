"""The FastAPI application factory: the composition root of the HTTP service."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DataError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

import catalog.api
import catalog.dcat_api
import connectors.api
import consent.api
import consent.tlog_api
import datacommons.quality.api
import datacommons.tokens_api
import privacy.api
import privacy.policy_api
import web
from consent import log_keys
from datacommons import __version__
from datacommons.commons import Commons
from datacommons.config import Settings, get_settings
from datacommons.db import unavailable_error
from datacommons.errors import DataCommonsError
from datacommons.guards import Guards
from datacommons.middleware import document_guards, install_middleware
from datacommons.migrations import upgrade
from datacommons.schemas import Health, error_responses, json_errors
from web.errors import is_page_request, page_error

log = logging.getLogger("datacommons")

API = "/api/v1"


def error_response(
    status: int, message: str, errors: list[Any] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error body of the API."""
    body = {"ok": False, "error": message, "status": status, "errors": errors or []}
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error, expected or not, as the API's JSON error body; or, for a web page, as a
    small HTML page in the reader's language with the same status."""

    def answer(
        request: Request,
        status: int,
        message: str,
        errors: list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        extra = dict(headers) if headers is not None else None
        if is_page_request(request):
            return page_error(request, status, message, extra)
        return error_response(status, message, errors, extra)

    @app.exception_handler(DataCommonsError)
    async def _domain(request: Request, exc: DataCommonsError) -> Response:
        if exc.status >= 500:  # a dependency is down: the operator should hear of it
            log.warning("%s %s answered %d: %s", request.method, request.url.path, exc.status, exc.message)
        return answer(request, exc.status, exc.message, exc.errors, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(part) for part in first["loc"])
        return answer(request, 422, f"invalid request: {where}: {first['msg']}", errors)

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, _exc: DataError) -> Response:
        # The database refused a value of the request (PostgreSQL: a NUL character in text, a
        # number out of its type's range): the input is wrong, not the commons.
        return answer(
            request,
            422,
            "invalid input: a value the database cannot store (a NUL character, or a number out of range)",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return answer(request, exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError) -> Response:
        # A database that is down, restarting or locked is a 503 the client may retry, wherever
        # the request met it (authentication, a read, a write), never an internal error.
        unavailable = unavailable_error(exc)
        if unavailable is None:
            return await _unexpected(request, exc)
        log.warning(
            "database unavailable on %s %s: %s",
            request.method,
            request.url.path,
            type(getattr(exc, "orig", None) or exc).__name__,
        )
        return answer(request, unavailable.status, unavailable.message, headers=unavailable.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        message = "internal error: the commons could not complete this request"
        if is_page_request(request):
            try:
                return page_error(request, 500, message)
            except Exception:  # the error page itself failed: fall back to the plain body
                log.exception("the error page failed on %s", request.url.path)
        return error_response(500, message)


def create_app(
    settings: Settings | None = None, *, http_transport: httpx.BaseTransport | None = None
) -> FastAPI:
    """Build the application for ``settings`` (by default, the process settings).

    ``http_transport`` is what the connectors' outbound requests go through: the network by default,
    recorded answers in the tests (the only thing they mock is what is outside the machine)."""
    settings = settings or get_settings()
    commons = Commons.open(
        settings,
        http_transport=http_transport,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.migrate_on_start:
            upgrade(commons.engine)
        commons.store.ensure()
        commons.store.sweep()
        with commons.transaction(immediate=True) as session:
            log_keys.load(session, settings.secret_key_bytes(), settings.public_url)  # made once, kept
        yield
        commons.close()

    # Swagger UI at /docs with its assets served by the commons (fastapi-offline), never from a CDN.
    app = FastAPIOffline(
        redoc_url=None,
        static_url="/static/swagger",
        title="Data commons for the social economy — Torino",
        version=__version__,
        description="Catalog, consent registry, quality gate and differentially-private queries "
        "over public and donated data on social and labour inclusion in the Metropolitan City of Turin.",
        lifespan=lifespan,
        responses=error_responses(500),
    )
    describe = app.openapi
    guards = Guards()
    app.openapi = lambda: json_errors(document_guards(describe(), guards))  # type: ignore[method-assign]
    app.state.commons = commons
    install_error_handlers(app)
    install_middleware(app, settings, guards)

    @app.get(f"{API}/health", tags=["meta"], response_model=Health)
    def health() -> Health:
        """Liveness: the service answers."""
        return Health(ok=True, version=__version__)

    # Before catalog.api: its /datasets/{dataset_id} would otherwise swallow /datasets/{id}.jsonld.
    app.include_router(catalog.dcat_api.router, prefix=API)
    app.include_router(catalog.api.router, prefix=API)
    app.include_router(datacommons.tokens_api.router, prefix=API)
    # Before the quality router: its /admin/reports/{report_id} would swallow /admin/reports/altruism.
    app.include_router(consent.api.router, prefix=API)
    guards.add(consent.api.router, consent.api.GUARDS, prefix=API)
    app.include_router(consent.api.admin_router, prefix=API)
    app.include_router(consent.api.wellknown_router)
    app.include_router(consent.tlog_api.router, prefix=API)
    app.include_router(datacommons.quality.api.router, prefix=API)
    web.install(app, guards)

    app.include_router(privacy.api.router, prefix=API)
    guards.add(privacy.api.router, privacy.api.GUARDS, prefix=API)
    app.include_router(privacy.policy_api.router, prefix=API)
    app.include_router(connectors.api.router, prefix=API)
    guards.add(connectors.api.router, connectors.api.GUARDS, prefix=API)
    return app
