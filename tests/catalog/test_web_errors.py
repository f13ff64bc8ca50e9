"""Errors on web pages are small HTML pages in the reader's language, with the error's status; the API
keeps its JSON error body."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.catalog.test_pages import sign_in


@pytest.mark.parametrize(
    ("path", "status", "title_it", "title_en"),
    [
        ("/datasets/nope", 404, "Pagina non trovata", "Page not found"),
        ("/query/nope", 404, "Pagina non trovata", "Page not found"),
        ("/query/disoccupazione-piemonte", 422, "Richiesta non valida", "Invalid request"),
        ("/?offset=abc", 422, "Richiesta non valida", "Invalid request"),
        ("/no-such-page", 404, "Pagina non trovata", "Page not found"),
    ],
)
def test_page_errors_are_translated_pages(
    client: TestClient,
    tokens,
    catalog,
    path: str,  # type: ignore[no-untyped-def]
    status: int,
    title_it: str,
    title_en: str,
) -> None:
    sign_in(client, tokens["analyst"])
    for lang, title in (("it", title_it), ("en", title_en)):
        page = client.get(path, headers={"accept-language": lang})
        assert page.status_code == status
        assert page.headers["content-type"].startswith("text/html")
        assert f'<html lang="{lang}">' in page.text
        assert f"<title>{title} · " in page.text and f"<h1>{title} " in page.text
        assert 'class="error" role="alert"' in page.text
        assert "Demo" not in page.text and "test analyst" in page.text  # the signed-in header
        assert '"ok": false' not in page.text and '"ok":false' not in page.text


def test_the_error_page_keeps_the_technical_detail_folded(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["analyst"])
    page = client.get("/datasets/nope", params={"lang": "en"}).text
    assert "<summary>Technical detail</summary><pre>no dataset &#39;nope&#39;</pre>" in page
    assert '<a href="/?lang=en">Back to the catalog</a>' in page


def test_the_api_keeps_its_json_errors(client: TestClient, tokens, catalog) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tokens["analyst"])
    missing = client.get("/api/v1/datasets/nope")
    assert missing.status_code == 404
    assert missing.json() == {"ok": False, "error": "no dataset 'nope'", "status": 404, "errors": []}
    bad = client.get("/api/v1/datasets", params={"offset": "abc"})
    assert bad.status_code == 422 and bad.json()["ok"] is False
    assert client.get("/api/v1/nope").headers["content-type"].startswith("application/json")
    assert client.get("/static/nope.css").headers["content-type"].startswith("application/json")
    assert client.get("/.well-known/nope").headers["content-type"].startswith("application/json")


def test_signed_out_visitors_still_go_to_the_sign_in_page(client: TestClient, catalog) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/datasets/nope", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    unknown = client.get("/no-such-page", headers={"accept-language": "en"})
    assert unknown.status_code == 404 and "Page not found" in unknown.text
    assert '<a href="/login?next=/no-such-page">Sign in</a>' in unknown.text
