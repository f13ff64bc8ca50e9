"""The one HTTP client every connector uses: timeouts, retries with backoff, downloads with a checksum.

A request is retried on 429, on 5xx answers and on connection errors (refused, reset, timed out, body
cut short), waiting ``backoff * 2**attempt`` seconds, or what the source's ``Retry-After`` header asks.
When the attempts run out the error names the source, the URL and the last status:

    SourceUnavailable (Unavailable, 503, exit 1)   transient: the source is down or busy; retry later
    SourceRejected (InvalidInput, 422, exit 2)     terminal: the source refused the request (4xx) or
                                                   sent something that is not the data (cut short)

The clock and ``sleep`` are injected so that tests exercise the backoff without waiting.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from connectors.progress import NullProgress, Progress
from datacommons import __version__
from datacommons.errors import InvalidInput, Unavailable

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = f"datacommons-torino/{__version__} (+https://github.com/; data commons connectors)"
CHUNK = 1 << 16


class SourceUnavailable(Unavailable):
    """A source is down, busy or unreachable after every retry (transient: retrying later may help)."""

    transient = True


class SourceRejected(InvalidInput):
    """A source refused the request or sent a broken answer (terminal: the same request fails again)."""

    transient = False


class _Truncated(Exception):
    """A body shorter than its Content-Length (retried like a connection error)."""


@dataclass(frozen=True)
class Download:
    """A downloaded body saved to a local file, with what provenance needs."""

    path: Path
    url: str
    sha256: str
    size: int
    retrieved_at: str
    headers: Mapping[str, str] = field(default_factory=dict)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def retry_after_seconds(value: str | None, *, now: Callable[[], datetime]) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date), if any."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


class HttpClient:
    """A small synchronous HTTP client with retries, shared by all connectors of one ingest."""

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        attempts: int = 5,
        backoff: float = 1.0,
        max_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.now = now
        self._client = httpx.Client(
            transport=transport, timeout=timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
        )

    def close(self) -> None:
        """Release the connections."""
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _wait(self, attempt: int, response: httpx.Response | None) -> float:
        asked = retry_after_seconds(response.headers.get("Retry-After") if response else None, now=self.now)
        if asked is not None:
            return min(asked, self.max_wait)
        return min(self.backoff * 2**attempt, self.max_wait)

    def _request(
        self,
        url: str,
        *,
        source: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        on_response: Callable[[httpx.Response], object],
    ) -> object:
        """GET ``url``, hand a good streamed response to ``on_response``, retrying what may pass."""
        last = ""
        truncated = False
        for attempt in range(self.attempts):
            response: httpx.Response | None = None
            try:
                with self._client.stream("GET", url, params=params, headers=headers) as response:
                    if response.status_code < 400:
                        return on_response(response)
                    last = f"answered {response.status_code} {response.reason_phrase}".rstrip()
                    if response.status_code not in RETRY_STATUSES:
                        raise SourceRejected(f"{source}: GET {response.request.url} {last}")
            except (httpx.TransportError, _Truncated) as exc:
                truncated = isinstance(exc, _Truncated)
                kind = "truncated download" if truncated else type(exc).__name__
                last = f"failed ({kind}: {exc})" if str(exc) else f"failed ({kind})"
                response = None
            if attempt + 1 < self.attempts:
                self.sleep(self._wait(attempt, response))
        full = str(httpx.URL(url, params=params)) if params else url
        message = f"{source}: GET {full} {last} after {self.attempts} attempts"
        if truncated:
            raise SourceRejected(message)
        raise SourceUnavailable(message)

    def get_bytes(
        self,
        url: str,
        *,
        source: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[bytes, httpx.Headers]:
        """The whole body of a small answer (an API call, a metadata document) and its headers."""

        def read(response: httpx.Response) -> tuple[bytes, httpx.Headers]:
            body = response.read()
            _check_length(response, len(body))
            return body, response.headers

        return self._request(
            url,
            source=source,
            params=params,
            headers=headers,  # type: ignore[return-value]
            on_response=read,
        )

    def download(
        self,
        url: str,
        *,
        source: str,
        dest_dir: Path,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        progress: Progress | None = None,
    ) -> Download:
        """Stream ``url`` to a file in ``dest_dir`` (with a progress bar) and hash it on the way."""
        dest_dir.mkdir(parents=True, exist_ok=True)
        progress = progress or NullProgress()

        def save(response: httpx.Response) -> Download:
            path = dest_dir / f"download-{uuid.uuid4().hex}"
            digest = hashlib.sha256()
            size = 0
            total = int(response.headers.get("Content-Length", "0") or 0) or None
            try:
                with path.open("wb") as fh, progress.task(f"{source}: download", total=total) as advance:
                    for chunk in response.iter_bytes(CHUNK):
                        fh.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                        advance(len(chunk))
                _check_length(response, size)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            return Download(
                path=path,
                url=str(response.request.url),
                sha256=digest.hexdigest(),
                size=size,
                retrieved_at=_now_iso(),
                headers=dict(response.headers),
            )

        return self._request(
            url,
            source=source,
            params=params,
            headers=headers,  # type: ignore[return-value]
            on_response=save,
        )


def _check_length(response: httpx.Response, size: int) -> None:
    declared = response.headers.get("Content-Length")
    encoded = response.headers.get("Content-Encoding", "identity") not in ("", "identity")
    if declared and declared.isdigit() and not encoded and size < int(declared):
        raise _Truncated(f"body cut short: {size} of {declared} bytes")
