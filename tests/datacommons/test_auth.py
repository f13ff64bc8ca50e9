"""Tokens: hashed at rest, 401 without a valid one, 403 without the role."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from datacommons import auth
from datacommons.db import transaction
from tests.conftest import bearer


def test_tokens_are_not_stored_in_clear(client: TestClient, tokens: dict[str, str], app) -> None:  # type: ignore[no-untyped-def]
    engine = app.state.commons.engine
    dump = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                dump.append(" ".join(str(v) for v in row))
    everything = "\n".join(dump)
    for clear in tokens.values():
        assert clear not in everything
        assert clear[10:] not in everything  # not even the secret part after the hint
        assert auth.hash_token(clear) in everything


def test_missing_token_is_401_with_the_error_body(client: TestClient) -> None:
    response = client.get("/api/v1/datasets")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "ok": False,
        "error": "this endpoint needs an API token",
        "status": 401,
        "errors": [],
    }


def test_unknown_token_and_wrong_scheme_are_401(client: TestClient) -> None:
    assert client.get("/api/v1/datasets", headers=bearer("dc_nope")).json()["error"] == "unknown token"
    response = client.get("/api/v1/datasets", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    assert response.json()["error"] == "use 'Authorization: Bearer <token>'"


def test_wrong_role_is_403(client: TestClient, tokens: dict[str, str]) -> None:
    for role in ("analyst", "researcher", "donor"):
        response = client.get("/api/v1/admin/tokens", headers=bearer(tokens[role]))
        assert response.status_code == 403, role
        assert response.json() == {
            "ok": False,
            "status": 403,
            "errors": [],
            "error": f"this needs the role admin; your token is {role}",
        }
    assert client.get("/api/v1/admin/tokens", headers=bearer(tokens["admin"])).status_code == 200


def test_every_role_reads_the_catalog(client: TestClient, tokens: dict[str, str]) -> None:
    for role, token in tokens.items():
        assert client.get("/api/v1/datasets", headers=bearer(token)).status_code == 200, role


def test_revoked_and_expired_tokens_are_refused(client: TestClient, tokens: dict[str, str], sessions) -> None:  # type: ignore[no-untyped-def]
    created = client.post(
        "/api/v1/admin/tokens",
        headers=bearer(tokens["admin"]),
        json={"role": "analyst", "name": "temp", "organisation": "Coop"},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("dc_") and body["role"] == "analyst"
    assert client.get("/api/v1/datasets", headers=bearer(body["token"])).status_code == 200
    listed = client.get("/api/v1/admin/tokens", headers=bearer(tokens["admin"])).json()
    assert listed["count"] == 5 and all("token" not in t for t in listed["data"])
    revoked = client.post(f"/api/v1/admin/tokens/{body['id']}/revoke", headers=bearer(tokens["admin"]))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    refused = client.get("/api/v1/datasets", headers=bearer(body["token"]))
    assert (refused.status_code, refused.json()["error"]) == (401, "this token was revoked")

    with transaction(sessions) as session:
        org = auth.get_or_create_organisation(session, "Coop")
        _, old = auth.create_token(
            session, role="analyst", name="old", organisation=org, ttl=timedelta(seconds=-1)
        )
    refused = client.get("/api/v1/datasets", headers=bearer(old))
    assert (refused.status_code, refused.json()["error"]) == (401, "this token has expired")


def test_token_rules(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    bad_role = client.post("/api/v1/admin/tokens", headers=admin, json={"role": "root", "name": "x"})
    assert bad_role.status_code == 422 and bad_role.json()["errors"][0]["loc"] == ["body", "role"]
    no_org = client.post("/api/v1/admin/tokens", headers=admin, json={"role": "analyst", "name": "x"})
    assert no_org.status_code == 422
    assert no_org.json()["error"] == "a analyst token must belong to an organisation"
    missing = client.post("/api/v1/admin/tokens/999/revoke", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"] == "no token 999"
