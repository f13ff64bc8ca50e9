"""The HTTP guards every request passes before a router sees it.

Outermost first: request id (asgi-correlation-id), access log, security headers, CORS (closed unless
configured), body limits (size and slow-upload timeouts), same-origin page forms, rate limits. Each
guard answers with the API's JSON error body, so a refusal reads like every other error of the commons.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datacommons.auth import TOKEN_COOKIE, hash_token
from datacommons.config import Settings
from datacommons.deps import SAFE_METHODS
from datacommons.errors import (
    DataCommonsError,
    Forbidden,
    PayloadTooLarge,
    RequestTimeout,
    TooManyRequests,
)
from datacommons.guards import Guards, Rate
from datacommons.schemas import ERROR_TEXTS

access_log = logging.getLogger("datacommons.access")

#: Pages may load only what the commons serves itself: no CDN, no inline script, no framing.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
#: Swagger UI (and its OAuth2 redirect page) start with an inline script; its assets are still
#: served by the commons.
DOCS_CSP = PAGE_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
#: Self-contained HTML documents under the API (reports, printable consent forms) carry their own
#: ``<style>`` so that a saved copy still reads well; they run no script at all.
DOCUMENT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
    b"cross-origin-opener-policy": b"same-origin",
}


def send_error(exc: DataCommonsError) -> JSONResponse:
    """The JSON error response for ``exc``, for guards that answer before the app."""
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


#: Answers carry tokens, personal data and private figures: no browser or proxy keeps a copy, unless
#: the route says otherwise (downloads revalidate by ETag; the app's own assets may be cached).
NO_STORE = (b"cache-control", b"no-store")
#: Sent only when the commons is reached over https (``DATACOMMONS_PUBLIC_URL``).
HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """Add the security headers to every response (a stricter CSP than any page needs)."""

    def __init__(self, app: ASGIApp, *, docs_path: str = "/docs", https: bool = False) -> None:
        self.app = app
        self.docs_path = docs_path
        base = [*SECURITY_HEADERS.items(), *([HSTS] if https else [])]
        # Built once: every answer gets one of these header sets.
        self.sets = {
            name: [*base, (b"content-security-policy", csp.encode()), NO_STORE]
            for name, csp in (("page", PAGE_CSP), ("docs", DOCS_CSP), ("document", DOCUMENT_CSP))
        }
        self.sets["asset"] = [*base, (b"content-security-policy", PAGE_CSP.encode())]

    def _kind(self, path: str) -> str:
        if path.startswith("/static/"):
            return "asset"
        if path == self.docs_path or path.startswith(self.docs_path + "/"):
            return "docs"
        if path.startswith("/api/") and path.endswith(".html"):
            return "document"
        return "page"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.sets[self._kind(scope["path"])]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AccessLog:
    """One JSON log line per request: method, path (never the query string), status, duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before responding

        async def send_watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_watching)
        finally:
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )


@dataclass(frozen=True)
class BodyLimit:
    """How much of a request body may arrive, and how fast."""

    max_bytes: int
    max_upload_bytes: int
    idle_timeout: float
    total_timeout: float


class BodyLimits:
    """Refuse bodies over their size limit (413) and bodies that arrive too slowly (408).

    A declared ``Content-Length`` over the limit is refused before a byte is read. Otherwise the body
    is counted as it streams: once over the limit, or once the client stalls, the guard answers
    itself and tells the app the client went away, so nothing half-received is ever acted on.
    """

    def __init__(self, app: ASGIApp, *, limit: BodyLimit, guards: Guards) -> None:
        self.app = app
        self.limit = limit
        self.guards = guards

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in {"GET", "HEAD", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        guard = self.guards.of(scope["path"])
        upload = guard is not None and guard.upload
        cap = self.limit.max_upload_bytes if upload else self.limit.max_bytes
        refusal = PayloadTooLarge(f"request body larger than the limit of {cap} bytes")
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            await send_error(refusal)(scope, receive, send)
            return

        received = 0
        deadline = time.monotonic() + self.limit.total_timeout
        answered = False
        started = False

        async def answer(exc: DataCommonsError) -> Message:
            nonlocal answered
            if not started and not answered:
                answered = True
                await send_error(exc)(scope, _no_body, send)
            return {"type": "http.disconnect"}

        async def guarded_receive() -> Message:
            nonlocal received
            if answered:
                return {"type": "http.disconnect"}
            wait = min(self.limit.idle_timeout, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(wait, 0.001))
            except TimeoutError:
                return await answer(
                    RequestTimeout(
                        f"request body did not arrive in time (idle limit {self.limit.idle_timeout:g} s, "
                        f"total limit {self.limit.total_timeout:g} s)"
                    )
                )
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    return await answer(refusal)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the guard already answered; whatever the app says now is moot
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, guarded_receive, guarded_send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class RateLimits:
    """Per-caller rate limits: login-like routes per client address, query routes per token.

    Counters live in this process (a moving window from the ``limits`` library); with N worker
    processes a caller may reach N times the limit, which still bounds a guessing attack.
    """

    def __init__(self, app: ASGIApp, *, login: str, query: str, guards: Guards) -> None:
        self.app = app
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.guards = guards
        self.rules: dict[Rate, tuple[RateLimitItem, Callable[[Scope], str]]] = {
            Rate.LOGIN: (parse(login), _client_key),
            Rate.QUERY: (parse(query), _token_key),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            guard = self.guards.of(scope["path"])
            if guard is not None and guard.rate is not None:
                item, key_of = self.rules[guard.rate]
                name, key = guard.rate.value, key_of(scope)
                if not self.limiter.hit(item, name, key):
                    reset = self.limiter.get_window_stats(item, name, key).reset_time
                    retry = max(1, int(reset - time.time() + 0.999))
                    await send_error(
                        TooManyRequests(
                            f"rate limit of {item} exceeded for {name} requests; retry in {retry} s",
                            headers={"Retry-After": str(retry)},
                        )
                    )(scope, receive, send)
                    return
        await self.app(scope, receive, send)


class SameOriginForms:
    """Refuse unsafe requests to the web pages that another site's page sends (login CSRF).

    Forms that act on a signed-in session carry a CSRF token already; signing in and donor
    registration start a session, so a page elsewhere could sign a visitor into an account of its
    own. Browsers say where a request comes from (``Sec-Fetch-Site``, else ``Origin``): a page route
    answers 403 to an unsafe request from another site (or one whose origin is neither this host
    nor the public URL). The JSON
    API is left to its own rules (bearer tokens, or the cookie with the ``X-CSRF-Token`` header).
    """

    def __init__(self, app: ASGIApp, *, public_url: str) -> None:
        self.app = app
        parts = urlsplit(public_url)
        self.public_origin = f"{parts.scheme}://{parts.netloc}".lower()

    def _cross_site(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None:  # every current browser says it, and it cannot be forged by a page
            return fetch_site.lower() not in ("same-origin", "none")
        origin = (headers.get("origin") or "").lower()
        if origin in ("", "null"):
            # Not a browser, or an older one; with our Referrer-Policy (no-referrer) a browser's
            # own same-site form says ``Origin: null``: nothing to compare.
            return False
        host = headers.get("host", "").lower()
        return not (origin == self.public_origin or (host and urlsplit(origin).netloc == host))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in SAFE_METHODS
            and not scope["path"].startswith("/api/")
            and self._cross_site(scope)
        ):
            exc = Forbidden("cross-site form refused: open the commons' own page and send it from there")
            await send_error(exc)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _client_key(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def _token_key(scope: Scope) -> str:
    """A hash of the caller's token (bearer or cookie), or the client address without one."""
    authorization = Headers(scope=scope).get("authorization", "")
    token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
    token = token or cookie_parser(Headers(scope=scope).get("cookie", "")).get(TOKEN_COOKIE, "")
    if not token:
        return "client:" + _client_key(scope)
    return "token:" + hash_token(token)


def document_guards(openapi: dict[str, Any], guards: Guards) -> dict[str, Any]:
    """Add the answers of the guards to the OpenAPI description (in place).

    Every operation that can carry a body may be refused as too large (413) or too slow (408); the
    rate-limited ones may answer 429 with ``Retry-After``.
    """
    for path, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            if method.upper() not in {"POST", "PUT", "PATCH", "DELETE"}:
                continue
            responses = operation.setdefault("responses", {})
            for status in (408, 413):
                responses.setdefault(str(status), {"description": ERROR_TEXTS[status]})
            guard = guards.of(path) if method.upper() == "POST" else None
            if guard is not None and guard.rate is not None:
                limited = responses.setdefault("429", {"description": ERROR_TEXTS[429]})
                limited.setdefault("headers", {})["Retry-After"] = {
                    "description": "Seconds to wait before trying again",
                    "schema": {"type": "integer"},
                }
    return openapi


def install_middleware(app: FastAPI, settings: Settings, guards: Guards) -> None:
    """Wrap ``app`` in the guards, outermost last (Starlette wraps in reverse order of adding);
    ``guards`` holds the routes the routers asked to guard (it may be filled after this call)."""
    app.add_middleware(
        RateLimits, login=settings.rate_limit_login, query=settings.rate_limit_query, guards=guards
    )
    app.add_middleware(SameOriginForms, public_url=settings.public_url)
    app.add_middleware(
        BodyLimits,
        limit=BodyLimit(
            max_bytes=settings.max_body_bytes,
            max_upload_bytes=settings.max_upload_bytes,
            idle_timeout=settings.body_idle_timeout,
            total_timeout=settings.body_total_timeout,
        ),
        guards=guards,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-CSRF-Token"],
            expose_headers=["X-Request-ID", "ETag", "Retry-After"],
        )
    app.add_middleware(SecurityHeaders, https=settings.public_url.startswith("https://"))
    app.add_middleware(AccessLog)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
