"""The FastAPI dependencies every router uses, in one place: the request's database session, the
authenticated caller and their role, record ids and paging. FastAPI stays here and in the routers:
``db``, ``auth`` and ``schemas`` are plain Python the CLI and the tests use without a web server."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from datacommons.auth import CSRF_COOKIE, ROLES, TOKEN_COOKIE, Principal, authenticate
from datacommons.commons import Commons
from datacommons.errors import Forbidden, Unauthorized
from datacommons.schemas import DEFAULT_PAGE_SIZE, MAX_INT, MAX_OFFSET, MAX_PAGE_SIZE, Paging

# --- the commons and its database ----------------------------------------------------------------


def commons_of(request: Request) -> Commons:
    """The commons instance serving ``request`` (the one ``create_app`` built)."""
    commons: Commons = request.app.state.commons
    return commons


CommonsDep = Annotated[Commons, Depends(commons_of)]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """FastAPI dependency: a session for one request (routers commit what they acknowledge).

    It is ``async`` on purpose: its teardown (which returns the connection to the pool) then runs on
    the event loop. A sync teardown needs a worker thread, and with every thread waiting for a
    pooled connection that only a teardown would free, the server would deadlock under load.
    """
    session: Session = commons_of(request).sessions()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


# --- the caller ----------------------------------------------------------------------------------


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_token(request: Request) -> str | None:
    """The token of a request: ``Authorization: Bearer …``, else the web front's session cookie.

    A cookie is sent by the browser whatever page asks, so an unsafe request authenticated by the
    cookie must also carry the CSRF token (header ``X-CSRF-Token`` equal to the ``dc_csrf`` cookie,
    which other sites cannot read).
    """
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        return value.strip()
    cookie = request.cookies.get(TOKEN_COOKIE)
    if not cookie:
        return None
    if request.method not in SAFE_METHODS:
        sent, expected = request.headers.get("x-csrf-token", ""), request.cookies.get(CSRF_COOKIE, "")
        if not expected or not hmac.compare_digest(sent, expected):
            raise Forbidden("missing or wrong CSRF token (X-CSRF-Token header)")
    return cookie


#: How a caller presents a token, as the OpenAPI description declares it (``/docs`` offers both).
#: They only document: :func:`bearer_token` reads and checks the request itself.
BEARER_SCHEME = HTTPBearer(
    auto_error=False, scheme_name="token", description="An API token: `Authorization: Bearer dc_…`"
)
COOKIE_SCHEME = APIKeyCookie(
    name=TOKEN_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="The web front's session cookie; unsafe requests also need the X-CSRF-Token header",
)


def get_principal(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER_SCHEME)] = None,
    _cookie: Annotated[str | None, Depends(COOKIE_SCHEME)] = None,
) -> Principal:
    """FastAPI dependency: the authenticated caller (401 otherwise).

    It uses a session of its own, closed at once: a connection held from authentication until the
    endpoint gets a worker thread would let waiting requests hold every pooled connection while
    every thread waits for one.
    """
    clear = bearer_token(request)
    if clear is None:
        raise Unauthorized("this endpoint needs an API token")
    with commons_of(request).sessions() as session:
        return authenticate(session, clear)


def require_role(*roles: str) -> Callable[[Principal], Principal]:
    """FastAPI dependency factory: the caller must have one of ``roles`` (403 otherwise)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(roles)}; your token is {principal.role}")
        return principal

    return dependency


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
AdminPrincipal = Annotated[Principal, Depends(require_role("admin"))]
AnyRolePrincipal = Annotated[Principal, Depends(require_role(*ROLES))]


# --- ids and paging ------------------------------------------------------------------------------

#: An integer path parameter that names a record (an id or a version number).
IntId = Annotated[int, Path(ge=1, le=MAX_INT)]


def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0,
) -> Paging:
    """FastAPI dependency: the ``limit`` and ``offset`` of a list route (422 beyond the caps)."""
    return Paging(limit=limit, offset=offset)


PagingDep = Annotated[Paging, Depends(paging)]
