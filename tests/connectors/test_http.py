"""The shared HTTP client: retries with exponential backoff, Retry-After, terminal errors (fake clock)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from connectors.http import HttpClient, SourceRejected, SourceUnavailable

URL = "https://example.org/data.csv"


def scripted(*answers: httpx.Response | Exception) -> tuple[list[str], httpx.MockTransport]:
    """A transport that gives the answers in order, recording the URLs asked."""
    seen: list[str] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return seen, httpx.MockTransport(handler)


def test_5xx_is_retried_with_exponential_backoff(tmp_path: Path) -> None:
    seen, transport = scripted(
        httpx.Response(503),
        httpx.Response(502),
        httpx.Response(500),
        httpx.Response(200, content=b"a,b\n1,2\n"),
    )
    sleeps: list[float] = []
    with HttpClient(transport=transport, sleep=sleeps.append, backoff=1.5) as http:
        download = http.download(URL, source="test", dest_dir=tmp_path)
    assert sleeps == [1.5, 3.0, 6.0]
    assert seen == [URL] * 4
    assert download.path.read_bytes() == b"a,b\n1,2\n"
    assert download.sha256 == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert download.size == 8


def test_retry_after_seconds_is_honoured() -> None:
    seen, transport = scripted(
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, content=b"{}")
    )
    sleeps: list[float] = []
    with HttpClient(transport=transport, sleep=sleeps.append) as http:
        body, _ = http.get_bytes(URL, source="test")
    assert (body, sleeps, len(seen)) == (b"{}", [7.0], 2)


def test_retry_after_http_date_is_measured_on_the_injected_clock() -> None:
    now = datetime(2026, 5, 22, 9, 0, 0, tzinfo=UTC)
    _, transport = scripted(
        httpx.Response(503, headers={"Retry-After": "Fri, 22 May 2026 09:00:30 GMT"}),
        httpx.Response(200, content=b"ok"),
    )
    sleeps: list[float] = []
    with HttpClient(transport=transport, sleep=sleeps.append, now=lambda: now) as http:
        http.get_bytes(URL, source="test")
    assert sleeps == [30.0]


def test_connection_errors_are_retried_then_name_the_source() -> None:
    seen, transport = scripted(*[httpx.ConnectError("connection refused")] * 3)
    sleeps: list[float] = []
    with (
        HttpClient(transport=transport, sleep=sleeps.append, attempts=3) as http,
        pytest.raises(SourceUnavailable) as caught,
    ):
        http.get_bytes(URL, source="eurostat lfst_r_lfu3rt")
    assert sleeps == [1.0, 2.0] and len(seen) == 3
    assert caught.value.message == (
        f"eurostat lfst_r_lfu3rt: GET {URL} failed (ConnectError: connection refused) after 3 attempts"
    )
    assert caught.value.exit_code == 1 and caught.value.transient


def test_persistent_5xx_is_a_terminal_error_naming_source_and_status() -> None:
    _, transport = scripted(*[httpx.Response(503)] * 4)
    sleeps: list[float] = []
    with (
        HttpClient(transport=transport, sleep=sleeps.append, attempts=4, max_wait=5) as http,
        pytest.raises(SourceUnavailable) as caught,
    ):
        http.get_bytes(URL, source="istat 151_914", params={"startPeriod": "2019"})
    assert sleeps == [1.0, 2.0, 4.0]
    assert caught.value.message == (
        f"istat 151_914: GET {URL}?startPeriod=2019 answered 503 Service Unavailable after 4 attempts"
    )
    assert caught.value.status == 503


def test_a_4xx_is_not_retried() -> None:
    seen, transport = scripted(httpx.Response(404))
    sleeps: list[float] = []
    with (
        HttpClient(transport=transport, sleep=sleeps.append) as http,
        pytest.raises(SourceRejected) as caught,
    ):
        http.get_bytes(URL, source="ckan package_show")
    assert (sleeps, len(seen)) == ([], 1)
    assert caught.value.message == f"ckan package_show: GET {URL} answered 404 Not Found"
    assert caught.value.exit_code == 2 and not caught.value.transient


def test_a_body_cut_short_is_retried_then_refused(tmp_path: Path) -> None:
    def short() -> httpx.Response:
        return httpx.Response(200, content=b"DATAFLOW,TIME_PERIOD\n", headers={"Content-Length": "4096"})

    _, transport = scripted(short(), short())
    sleeps: list[float] = []
    with (
        HttpClient(transport=transport, sleep=sleeps.append, attempts=2) as http,
        pytest.raises(SourceRejected) as caught,
    ):
        http.download(URL, source="eurostat", dest_dir=tmp_path)
    assert sleeps == [1.0]
    assert "truncated download" in caught.value.message and "21 of 4096 bytes" in caught.value.message
    assert list(tmp_path.iterdir()) == []  # no partial file left behind
