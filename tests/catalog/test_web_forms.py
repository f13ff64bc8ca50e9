"""The query builder, donor portal and admin pages as HTML (the journeys in tests/web/ drive them)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.catalog.test_pages import sign_in


def test_query_builder_offers_the_policy_dimensions(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["analyst"])
    page = client.get("/query/inserimento-lavorativo", params={"lang": "en"})
    assert page.status_code == 200
    assert '<label for="epsilon">Epsilon (privacy loss)</label>' in page.text
    assert 'name="group_by" value="year"' in page.text
    assert 'id="extract"' not in page.text  # analysts cannot download extracts
    assert '<script src="/static/app.js"></script>' in page.text
    sign_in(client, tokens["researcher"])
    assert 'id="extract"' in client.get("/query/inserimento-lavorativo").text
    open_dataset = client.get("/query/disoccupazione-piemonte")
    assert open_dataset.status_code == 422
    assert "is open" in open_dataset.json()["error"]


def test_donor_registers_signed_out_and_gets_a_session(client: TestClient) -> None:
    form = client.get("/donor", params={"lang": "en"})
    assert form.status_code == 200 and '<label for="name">Name (optional)</label>' in form.text
    page = client.post("/donor/register", data={"name": "Anna", "email": ""},
                       headers={"accept-language": "en"})
    assert page.status_code == 201
    token = client.cookies.get("dc_token")
    assert token and token.startswith("dc_") and f'value="{token}"' in page.text
    assert "Keep it: it is shown only now" in page.text
    again = client.get("/donor", params={"lang": "en"})
    assert "Your token" not in again.text and "Export my data (JSON)" in again.text
    bad = client.post("/donor/register", data={"email": "not-an-email"})
    assert bad.status_code == 422


def test_admin_page_is_for_administrators(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/login?next=%2Fadmin"
    sign_in(client, tokens["analyst"])
    assert client.get("/admin").status_code == 403
    sign_in(client, tokens["admin"])
    page = client.get("/admin", params={"lang": "en"})
    assert page.status_code == 200
    chain = client.get("/api/v1/admin/audit/verify").json()
    assert chain["ok"] and f"Chain intact ({chain['count']} entries)" in page.text
    assert "inserimento-lavorativo" in page.text
    assert "/api/v1/admin/reports/altruism.html" in page.text


def test_the_registration_answer_links_back_to_the_portal(client: TestClient) -> None:
    answer = client.get("/donor/register", params={"lang": "en"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/donor?lang=en"
