"""Recorded source responses served at the transport level (``httpx.MockTransport``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from connectors.http import HttpClient

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


class Recorded:
    """A fake source: answers by exact URL, records every request, 404 for anything else."""

    def __init__(self, routes: dict[str, Answer] | None = None) -> None:
        self.routes: dict[str, Answer] = dict(routes or {})
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    @property
    def urls(self) -> list[str]:
        """Every URL requested, in order."""
        return [str(r.url) for r in self.requests]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.routes.get(str(request.url))
        if answer is None:
            return httpx.Response(404, text="Not Found")
        return answer(request) if callable(answer) else answer

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def client(self, **kwargs: object) -> HttpClient:
        """An HTTP client on this fake source whose sleeps are recorded, not slept."""
        return HttpClient(transport=self.transport(), sleep=self.sleeps.append, **kwargs)  # type: ignore[arg-type]


def fixture(path: str, *, content_type: str = "text/csv") -> httpx.Response:
    """A recorded body as a 200 answer with its Content-Length."""
    body = (FIXTURES / path).read_bytes()
    return httpx.Response(200, content=body, headers={"Content-Type": content_type})
