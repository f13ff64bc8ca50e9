"""The guards in front of every route: security headers, CORS, body limits, slow bodies, rate limits."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from consent.models import Donor
from datacommons.app import create_app
from datacommons.config import Settings
from datacommons.guards import Guard, Guards, Rate
from datacommons.middleware import BodyLimit, BodyLimits
from tests.conftest import bearer


def configured(settings: Settings, **changes: Any) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update=changes))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.commons.engine.dispose()


def test_pages_and_api_carry_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/login", "/api/v1/health"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
        assert "unsafe-inline" not in csp


def test_api_docs_are_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text and "https://" not in page.text.split("<body>")[0]
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/swagger/swagger-ui.css").status_code == 200
    assert client.get("/redoc").status_code == 404  # not offered: Swagger UI is enough


def test_every_response_names_its_request_id(client: TestClient) -> None:
    mine = str(uuid.uuid4())
    assert client.get("/api/v1/health", headers={"X-Request-ID": mine}).headers["x-request-id"] == mine
    made = client.get("/api/v1/health").headers["x-request-id"]
    assert uuid.UUID(made).version == 4


def test_cors_is_closed_by_default(client: TestClient) -> None:
    preflight = client.options(
        "/api/v1/datasets",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    plain = client.get("/api/v1/health", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in plain.headers


def test_cors_opens_to_the_configured_origins_only(settings: Settings) -> None:
    for client in configured(settings, cors_origins=["https://portal.example.org"]):
        allowed = client.options(
            "/api/v1/datasets",
            headers={
                "Origin": "https://portal.example.org",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://portal.example.org"
        other = client.get("/api/v1/health", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers


def donor_count(client: TestClient) -> int:
    with client.app.state.commons.sessions() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(Donor)) or 0)


def test_a_body_over_the_limit_is_refused_before_it_is_read(settings: Settings) -> None:
    for client in configured(settings, max_body_bytes=2048):
        big = {"name": "x" * 5000}
        answer = client.post("/api/v1/donors", json=big)
        assert answer.status_code == 413
        assert answer.json() == {
            "ok": False,
            "status": 413,
            "errors": [],
            "error": "request body larger than the limit of 2048 bytes",
        }

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            yield b'{"name": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'"}'

        streamed = client.post(
            "/api/v1/donors", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        assert streamed.json()["error"] == "request body larger than the limit of 2048 bytes"
        # nothing was registered by either attempt; a small body still works
        assert donor_count(client) == 0
        assert client.post("/api/v1/donors", json={"name": "Ada"}).status_code == 201
        assert donor_count(client) == 1


def test_uploads_have_their_own_larger_limit(settings: Settings, tokens: dict[str, str]) -> None:
    for client in configured(settings, max_body_bytes=2048, max_upload_bytes=8192):
        csv = b"anno,valore\n" + b"2024,1\n" * 2000  # 14 kB, over the upload limit
        answer = client.post(
            "/api/v1/admin/ingest/file",
            headers=bearer(tokens["admin"]),
            files={"file": ("big.csv", csv, "text/csv")},
            data={"params": '{"dataset_id": "big"}'},
        )
        assert answer.status_code == 413
        assert answer.json()["error"] == "request body larger than the limit of 8192 bytes"
        small = client.post(
            "/api/v1/admin/ingest/file",
            headers=bearer(tokens["admin"]),
            files={"file": ("small.csv", b"anno,valore\n2024,1\n" * 10, "text/csv")},
            data={"params": '{"dataset_id": "small"}'},
        )
        # under the upload limit (though over the JSON one): it reaches the connector, which reads it
        assert small.status_code == 422, small.text
        assert "schema" in small.json()["error"]


def test_a_stalled_body_times_out_with_408() -> None:
    sent: list[dict[str, Any]] = []
    reached = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await receive()
        reached.append(await receive())  # the guard tells the app the client went away

    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls > 1:
            await asyncio.sleep(30)  # the client stalls after its first chunk
        return {"type": "http.request", "body": b"{", "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    guard = BodyLimits(
        app,
        limit=BodyLimit(max_bytes=1000, max_upload_bytes=1000, idle_timeout=0.2, total_timeout=5),
        guards=Guards(),
    )
    scope = {"type": "http", "method": "POST", "path": "/api/v1/donors", "headers": []}
    started = time.monotonic()
    # In a thread of its own: a browser test in the same worker may hold this thread's event loop.
    thread = threading.Thread(target=asyncio.run, args=(guard(scope, receive, send),))
    thread.start()
    thread.join(timeout=10)
    assert time.monotonic() - started < 3
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 408
    assert b"request body did not arrive in time" in sent[1]["body"]
    assert reached == [{"type": "http.disconnect"}]


@pytest.fixture
def live(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on a loopback port, with a short body timeout."""
    app = create_app(settings.model_copy(update={"body_idle_timeout": 0.5}))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.commons.engine.dispose()


def test_a_slow_upload_over_a_real_socket_gets_408(live: str) -> None:
    host, port = live.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/donors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"name": '
        )  # then nothing more
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert b'"status":408' in reply and b"request body did not arrive in time" in reply


def test_login_like_routes_are_rate_limited_per_client(settings: Settings) -> None:
    for client in configured(settings, rate_limit_login="3/minute"):
        statuses = [client.post("/login", data={"token": f"dc_wrong{i}"}).status_code for i in range(3)]
        assert statuses == [401, 401, 401]
        limited = client.post("/login", data={"token": "dc_wrong4"})
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) in range(1, 61)
        body = limited.json()
        assert body["status"] == 429 and body["error"].startswith("rate limit of 3 per 1 minute")
        # registration shares the login budget of this client
        assert client.post("/api/v1/donors", json={}).status_code == 429


def test_guessing_claim_codes_on_the_portal_page_is_rate_limited(settings: Settings) -> None:
    """The web form that claims a record with a one-time code is a guessing target, like /login."""
    for client in configured(settings, rate_limit_login="3/minute"):
        form = {"donor_id": "dn-none", "code": "wrong"}
        headers = {"Sec-Fetch-Site": "same-origin"}
        statuses = [client.post("/donor/claim", data=form, headers=headers).status_code for _ in range(4)]
        assert statuses[:3] == [404, 404, 404]
        assert statuses[3] == 429


def test_a_guard_must_name_a_route_of_its_router() -> None:
    router = APIRouter()

    @router.post("/donors")
    def register() -> None: ...

    guards = Guards()
    guards.add(router, [Guard("/donors", rate=Rate.LOGIN)], prefix="/api/v1")
    assert guards.of("/api/v1/donors") == Guard("/donors", rate=Rate.LOGIN)
    assert guards.of("/api/v1/donors/x") is None
    with pytest.raises(ValueError, match="names no POST route"):
        guards.add(router, [Guard("/donor", rate=Rate.LOGIN)])


def test_queries_are_rate_limited_per_token(settings: Settings, tokens: dict[str, str]) -> None:
    path = "/api/v1/datasets/no-such-dataset/queries/preview"
    query = {"purpose": "dpv:ScientificResearch", "measures": [{"op": "count"}], "epsilon": 0.1}
    for client in configured(settings, rate_limit_query="2/minute"):
        analyst = [
            client.post(path, json=query, headers=bearer(tokens["analyst"])).status_code for _ in range(3)
        ]
        assert analyst == [404, 404, 429]
        # another token has its own allowance
        assert client.post(path, json=query, headers=bearer(tokens["researcher"])).status_code == 404
        # GETs are not counted
        assert client.get("/api/v1/budget", headers=bearer(tokens["analyst"])).status_code == 200


def test_a_bad_rate_limit_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="not a rate limit like '120/minute'"):
        Settings(_env_file=None, rate_limit_query="lots")


def test_self_contained_documents_may_style_but_not_script(
    client: TestClient, tokens: dict[str, str]
) -> None:
    report = client.get("/api/v1/admin/reports/altruism.html", headers=bearer(tokens["admin"]))
    assert report.status_code == 200 and "<style" in report.text
    csp = report.headers["content-security-policy"]
    assert "style-src 'unsafe-inline'" in csp and "default-src 'none'" in csp
    assert "script-src" not in csp  # falls back to default-src 'none': no script at all


def test_answers_are_not_stored_by_browsers_or_proxies(client: TestClient) -> None:
    registered = client.post("/api/v1/donors", json={"name": "Maria Rossi"})
    assert registered.status_code == 201 and "token" in registered.json()
    assert registered.headers["cache-control"] == "no-store"
    token = registered.json()["token"]
    assert (
        client.get("/api/v1/donors/me/export", headers={"Authorization": f"Bearer {token}"}).headers[
            "cache-control"
        ]
        == "no-store"
    )
    for path in ("/", "/login", "/api/v1/health"):
        assert client.get(path).headers["cache-control"] == "no-store"
    # The app's own assets may be cached; no HSTS on plain http.
    asset = client.get("/static/swagger/swagger-ui.css")
    assert asset.status_code == 200 and asset.headers.get("cache-control") != "no-store"
    assert "strict-transport-security" not in asset.headers


def test_hsts_when_the_commons_is_reached_over_https(settings: Settings) -> None:
    for client in configured(settings, public_url="https://dati.example.org"):
        for path in ("/", "/api/v1/health", "/static/swagger/swagger-ui.css"):
            assert client.get(path).headers["strict-transport-security"] == "max-age=31536000"


def test_another_site_cannot_sign_a_visitor_in(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    form = {"token": tokens["analyst"], "next": "/"}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-site"},
    ):
        refused = client.post("/login", data=form, headers=headers, follow_redirects=False)
        assert refused.status_code == 403, headers
        assert refused.json()["error"].startswith("cross-site form refused")
        assert "dc_token" not in refused.cookies
        registered = client.post("/donor/register", data={"name": "x"}, headers=headers)
        assert registered.status_code == 403
    assert donor_count(client) == 0
    # The commons' own page (same host, or the public URL) and clients that send no Origin sign in.
    # Chromium's own form says Origin: null under Referrer-Policy: no-referrer.
    for headers in (
        {"Origin": "http://testserver"},
        {"Origin": "http://127.0.0.1:8000"},
        {},
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "null"},
    ):
        signed_in = client.post("/login", data=form, headers=headers, follow_redirects=False)
        assert signed_in.status_code == 303, headers
        assert "dc_token" in signed_in.cookies
