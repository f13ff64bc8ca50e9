"""A private dataset's exact size never leaves the commons: its row counts are withheld."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import bearer

PRIVATE = "inserimento-lavorativo"
OPEN = "disoccupazione-piemonte"


def test_the_catalog_withholds_the_row_count_of_private_microdata(
    client: TestClient,
    tokens,  # type: ignore[no-untyped-def]
    catalog,
) -> None:
    for role in ("analyst", "researcher", "donor", "admin"):
        headers = bearer(tokens[role])
        private = client.get(f"/api/v1/datasets/{PRIVATE}", headers=headers).json()
        assert (private["current_version"]["rows"], private["current_version"]["size_bytes"]) == (None, None)
        versions = client.get(f"/api/v1/datasets/{PRIVATE}/versions", headers=headers).json()
        assert [(v["number"], v["rows"], v["size_bytes"]) for v in versions["data"]] == [(1, None, None)]
        hits = client.get("/api/v1/datasets", params={"q": "inserimento"}, headers=headers).json()
        assert [h["current_version"]["rows"] for h in hits["data"] if h["id"] == PRIVATE] == [None]
        opened = client.get(f"/api/v1/datasets/{OPEN}", headers=headers).json()
        assert opened["current_version"]["rows"] == 3 and opened["current_version"]["size_bytes"] > 0
    client.cookies.set("dc_token", tokens["analyst"])
    page = client.get(f"/datasets/{PRIVATE}")
    assert page.status_code == 200 and "None" not in page.text


def test_the_transparency_log_of_a_private_publication_has_no_row_count(
    client: TestClient,
    tokens,  # type: ignore[no-untyped-def]
    catalog,
) -> None:
    log = client.get("/api/v1/admin/audit/log", headers=bearer(tokens["admin"]))
    assert log.status_code == 200, log.text
    published = {e["datasets"][0]: e["details"] for e in log.json()["data"] if e["kind"] == "publication"}
    assert published[OPEN] == {
        "version": 1,
        "replaces_version": None,
        "content_hash": published[OPEN]["content_hash"],
        "rows": 3,
    }
    assert "rows" not in published[PRIVATE] and published[PRIVATE]["version"] == 1
