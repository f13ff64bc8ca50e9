"""The application: health, OpenAPI, and one error body for every failure."""

from __future__ import annotations

from fastapi.testclient import TestClient

from datacommons import __version__
from datacommons.app import create_app
from datacommons.config import Settings


def test_health_answers(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "version": __version__}


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/health" in spec["paths"] and "/api/v1/datasets" in spec["paths"]
    assert spec["paths"]["/api/v1/datasets"]["get"]["responses"]["401"]["content"]
    assert "swagger" in client.get("/docs").text.lower()


def test_unknown_route_uses_the_error_body(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error": "Not Found", "status": 404, "errors": []}


def test_unexpected_exception_is_a_500_without_stack_trace(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/api/v1/explode")
    def explode() -> None:
        raise RuntimeError("secret internals at /srv/commons/x.py line 42")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/explode")
    app.state.commons.engine.dispose()
    assert response.status_code == 500
    assert response.json() == {
        "ok": False,
        "status": 500,
        "errors": [],
        "error": "internal error: the commons could not complete this request",
    }
    assert "secret internals" not in response.text and "Traceback" not in response.text


def test_validation_errors_name_the_field(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/admin/tokens",
        headers={"Authorization": f"Bearer {tokens['admin']}"},
        json={"role": "analyst"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False and body["status"] == 422
    assert body["error"] == "invalid request: body.name: Field required"
    assert body["errors"] == [{"loc": ["body", "name"], "msg": "Field required", "type": "missing"}]
