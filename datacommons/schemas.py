"""Response schemas shared by every router: the error body, list envelopes, health."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")

#: The largest id, version or page number a request may name: PostgreSQL's INTEGER. A bigger one
#: would reach the database and fail there (500) instead of being refused (422).
MAX_INT = 2**31 - 1


class ErrorBody(BaseModel):
    """The body of every error answer."""

    ok: bool = False
    error: str
    status: int
    errors: list[Any] = []


class ListOf(BaseModel, Generic[T]):
    """A list answer: the items and how many there are in all."""

    data: list[T]
    count: int


#: The most items one page of a list may hold, and the furthest a list may be paged into.
MAX_PAGE_SIZE = 1000
MAX_OFFSET = 1_000_000
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class Paging:
    """Which slice of a list to answer: ``limit`` items from ``offset``."""

    limit: int
    offset: int

    def window(self, items: Sequence[T]) -> list[T]:
        """The items of this page."""
        return list(items[self.offset : self.offset + self.limit])

    def of(self, items: Sequence[T]) -> ListOf[T]:
        """The page of ``items``, with the count of them all."""
        return ListOf[T](data=self.window(items), count=len(items))


class Health(BaseModel):
    """The answer of the health check."""

    ok: bool
    version: str


ERROR_TEXTS = {
    400: "Bad request: the body is not well-formed (e.g. not valid JSON)",
    401: "No token, or an unknown, expired or revoked one",
    403: "The token lacks the role, or the record is not the caller's",
    404: "No such record",
    408: "The request body arrived too slowly",
    409: "The record's state forbids this",
    413: "The body or upload is too large",
    422: "Invalid input",
    429: "Rate limit or privacy budget exhausted",
    500: "Unexpected error",
    503: "A dependency is unavailable; retry later",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses, all with the error body."""
    return {s: {"model": ErrorBody, "description": ERROR_TEXTS[s]} for s in statuses}


ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorBody"}


def json_errors(openapi: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI description with every error answer as the one JSON error body (in place).

    One handler renders every error as :class:`ErrorBody` in ``application/json`` (see
    :func:`datacommons.app.install_error_handlers`), but FastAPI documents a route's extra responses
    in the route's own media type (an HTML page would claim HTML errors) and its own 422 body.
    """
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith(("4", "5")):
                    response["content"] = {"application/json": {"schema": dict(ERROR_SCHEMA)}}
    components = openapi.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return openapi


def file_response(
    description: str, *media_types: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """The OpenAPI ``200`` entry of a route that answers a file: binary content, documented headers."""
    entry: dict[str, Any] = {
        "description": description,
        "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in media_types},
    }
    if headers:
        entry["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()
        }
    return entry
