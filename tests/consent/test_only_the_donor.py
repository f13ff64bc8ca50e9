"""Only the donor gives their consent: no administrator can obtain a donor's credential, and no
other role can give, withdraw or renew a consent (the review's reproduction: an admin minted a donor
token for a self-registered donor, read their name and consented in their name)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from datacommons.config import Settings
from tests.conftest import bearer
from tests.consent.conftest import give, make_program, register
from tests.support.cli import run_cli


def test_no_admin_route_mints_a_donor_token(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    donor_id, _token = register(client, name="Anna Rossi", email="anna@example.org")
    for body in ({"role": "donor", "name": "x", "donor_id": donor_id}, {"role": "donor", "name": "x"}):
        answer = client.post("/api/v1/admin/tokens", json=body, headers=bearer(tokens["admin"]))
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["loc"] == ["body", "role"]
    # an extra donor_id on another role is no way in either: the token is that role's, no donor's
    other = client.post(
        "/api/v1/admin/tokens",
        headers=bearer(tokens["admin"]),
        json={"role": "analyst", "name": "x", "organisation": "Coop", "donor_id": donor_id},
    )
    assert other.status_code == 201 and other.json()["donor_id"] is None
    me = client.get("/api/v1/donors/me", headers=bearer(other.json()["token"]))
    assert me.status_code == 403


def test_the_cli_mints_no_donor_token(settings: Settings) -> None:
    result = run_cli(settings, "token", "create", "--role", "donor", "--name", "x")
    assert result.returncode == 2
    assert "'donor' is not one of 'admin', 'analyst', 'researcher'" in result.stderr


def test_no_other_role_gives_withdraws_or_renews_a_consent(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    program = make_program(client, tokens["admin"])
    _donor_id, donor = register(client)
    consent = give(client, donor, program["id"])["consent"]
    for role in ("admin", "analyst", "researcher"):
        headers = bearer(tokens[role])
        calls = [
            client.post(
                "/api/v1/consents", headers=headers, json={"program_id": program["id"], "text_version": 1}
            ),
            client.post(f"/api/v1/consents/{consent['id']}/withdraw", headers=headers),
            client.post(f"/api/v1/consents/{consent['id']}/renew", headers=headers, json={"text_version": 1}),
            client.get("/api/v1/donors/me", headers=headers),
        ]
        assert [c.status_code for c in calls] == [403] * 4, role
        assert {c.json()["error"] for c in calls} == {f"this needs the role donor; your token is {role}"}
