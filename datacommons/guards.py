"""What a router asks of the HTTP guards (:mod:`datacommons.middleware`) for its own routes.

A router module declares its guarded routes beside the routes themselves::

    GUARDS = (Guard("/donors/claim", rate=Rate.LOGIN),)

and the composition root adds them with the prefix it includes the router under. The guards run
before routing, so they match paths as the router will (Starlette's path templates). A guard that
names no POST route of its router is refused when the app is built: a route renamed without its
guard cannot silently lose its rate limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import compile_path


class Rate(StrEnum):
    """Which rate limit a route is under."""

    #: Where a guessing attack would look for a way in (sign-in, registration, claim codes): per
    #: client address.
    LOGIN = "login"
    #: What spends privacy budget or compute: per token.
    QUERY = "query"


@dataclass(frozen=True)
class Guard:
    """One POST route of a router (its path as the router declares it) and what guards it."""

    path: str
    rate: Rate | None = None
    #: The route takes file uploads: the larger body limit applies.
    upload: bool = False


class Guards:
    """The guarded routes of one application."""

    def __init__(self) -> None:
        self._found: list[tuple[re.Pattern[str], str, Guard]] = []

    def add(self, router: APIRouter, guards: Iterable[Guard], *, prefix: str = "") -> None:
        """Guard these routes of ``router``, included under ``prefix``."""
        posts = {r.path for r in router.routes if isinstance(r, APIRoute) and "POST" in (r.methods or ())}
        for guard in guards:
            if guard.path not in posts:
                raise ValueError(f"the guard for {guard.path!r} names no POST route of its router")
            template = prefix + guard.path
            self._found.append((compile_path(template)[0], template, guard))

    def of(self, path: str) -> Guard | None:
        """The guard of a request path (or of a route template), if any."""
        for pattern, template, guard in self._found:
            if path == template or pattern.match(path):
                return guard
        return None
