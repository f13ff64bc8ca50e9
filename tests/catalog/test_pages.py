"""The web pages, rendered by the app (the browser journeys are in tests/web/)."""

from __future__ import annotations

from fastapi.testclient import TestClient


def sign_in(client: TestClient, token: str) -> None:
    response = client.post("/login", data={"token": token, "next": "/"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_pages_need_sign_in(client: TestClient, catalog) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/?q=lavoro", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F%3Fq%3Dlavoro"
    page = client.get("/login")
    assert page.status_code == 200 and '<html lang="it">' in page.text
    assert '<label for="token">' in page.text


def test_wrong_token_is_refused(client: TestClient) -> None:
    page = client.post("/login", data={"token": "dc_wrong"}, headers={"accept-language": "en"})
    assert page.status_code == 401 and "Invalid token." in page.text


def test_catalog_page_searches_and_counts(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["analyst"])
    page = client.get("/", params={"q": "disoccupazione", "lang": "en"})
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "Unemployment rate in Piedmont" in page.text
    assert "<strong>1</strong> results" in page.text
    assert 'href="/api/v1/datasets?q=disoccupazione&amp;lang=en"' in page.text  # the JSON twin
    italian = client.get("/")  # the language choice is remembered in a cookie
    assert '<html lang="en">' in italian.text
    assert "Tasso di disoccupazione" not in client.get("/", params={"lang": "en"}).text


def test_dataset_page_shows_metadata_chart_and_downloads(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["researcher"])
    page = client.get("/datasets/disoccupazione-piemonte", params={"lang": "it"})
    assert page.status_code == 200
    assert "<h1>Tasso di disoccupazione in Piemonte</h1>" in page.text
    assert '<svg class="chart"' in page.text and "<polyline" in page.text
    assert "/api/v1/datasets/disoccupazione-piemonte/download?format=csv" in page.text
    private = client.get("/datasets/inserimento-lavorativo", params={"lang": "en"})
    assert "cannot be downloaded" in private.text and "/download?format=" not in private.text
    assert 'href="/query/inserimento-lavorativo?lang=en"' in private.text


def test_cookie_requests_need_the_csrf_token(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["admin"])
    # a GET with the cookie alone works; a POST with the cookie alone is refused
    assert client.get("/api/v1/datasets").status_code == 200
    refused = client.post("/api/v1/admin/tokens", json={"role": "analyst", "name": "x", "organisation": "o"})
    assert refused.status_code == 403
    assert refused.json()["error"] == "missing or wrong CSRF token (X-CSRF-Token header)"
    accepted = client.post(
        "/api/v1/admin/tokens",
        json={"role": "analyst", "name": "x", "organisation": "o"},
        headers={"X-CSRF-Token": client.cookies["dc_csrf"]},
    )
    assert accepted.status_code == 201
