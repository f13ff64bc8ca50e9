"""The exception tree of the data commons.

Every error a service raises is a :class:`DataCommonsError`; each class carries the HTTP status the API
answers with and the exit code the CLI ends with. Routers never build error responses themselves: one
handler in :mod:`datacommons.app` renders every error as
``{"ok": false, "error": "...", "status": N, "errors": [...]}``.

    DataCommonsError (500, exit 1)
    ├── BadRequest (400, exit 2)           the input is wrong; nothing was done
    │   ├── InvalidInput (422, exit 2)     well-formed, but fails a rule (unknown column, bad slug, ...)
    │   ├── PayloadTooLarge (413, exit 2)  a body or upload over its limit
    │   └── RequestTimeout (408, exit 2)   a body that arrives too slowly
    ├── Unauthorized (401, exit 2)         no token, or an unknown, expired or revoked one
    ├── Forbidden (403, exit 2)            a known caller without the role or the right to this record
    ├── NotFound (404, exit 2)             no such dataset, version, token, ...
    ├── Conflict (409, exit 1)             the state forbids it (publishing a rejected version, ...)
    ├── CheckFailed (409, exit 1)          a check ran and failed (validation, audit chain)
    ├── TooManyRequests (429, exit 1)      a rate limit or a privacy budget is exhausted
    └── Unavailable (503, exit 1)          a dependency (the database, a source) is down; retry later
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import AfterValidator

T = TypeVar("T")


class DataCommonsError(Exception):
    """Base of every error the data commons raises on purpose."""

    status: int = 500
    exit_code: int = 1
    default_message = "internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.errors = errors or []
        self.headers = headers or {}
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        """The JSON error body every API error uses."""
        return {"ok": False, "error": self.message, "status": self.status, "errors": self.errors}


class BadRequest(DataCommonsError):
    """The input is wrong; nothing was done."""

    status = 400
    exit_code = 2
    default_message = "bad request"


class InvalidInput(BadRequest):
    """The input is well-formed but breaks a rule."""

    status = 422
    default_message = "invalid input"


class PayloadTooLarge(BadRequest):
    """A request body or an upload is over its size limit."""

    status = 413
    default_message = "payload too large"


class RequestTimeout(BadRequest):
    """A request body did not arrive in time (a stalled or deliberately slow upload)."""

    status = 408
    default_message = "request body timeout"


class Unauthorized(DataCommonsError):
    """No credentials, or credentials the commons does not accept."""

    status = 401
    exit_code = 2
    default_message = "authentication required"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(DataCommonsError):
    """A known caller without the right to do this."""

    status = 403
    exit_code = 2
    default_message = "forbidden"


class NotFound(DataCommonsError):
    """The record asked for does not exist (or is not visible to the caller)."""

    status = 404
    exit_code = 2
    default_message = "not found"


class Conflict(DataCommonsError):
    """The current state of a record forbids the operation."""

    status = 409
    default_message = "conflict"


class CheckFailed(Conflict):
    """A check ran and did not pass (data validation, audit chain verification)."""

    default_message = "check failed"


class TooManyRequests(DataCommonsError):
    """A rate limit or a privacy budget is exhausted."""

    status = 429
    default_message = "too many requests"


class Unavailable(DataCommonsError):
    """A dependency is down; the same request may succeed later."""

    status = 503
    default_message = "service unavailable"


def validated_by(check: Callable[[T], T]) -> AfterValidator:
    """A pydantic validator running ``check``: its :class:`InvalidInput` becomes a field error, so a
    model reports it at the field with the same message the API and the CLI give."""

    def run(value: T) -> T:
        try:
            return check(value)
        except InvalidInput as exc:
            raise ValueError(exc.message) from exc

    return AfterValidator(run)
