"""Response schemas shared by every router: the error body, list envelopes, health."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


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


class Health(BaseModel):
    """The answer of the health check."""

    ok: bool
    version: str


ERROR_TEXTS = {
    400: "Bad request",
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
