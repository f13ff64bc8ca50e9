"""The first thing a new user does: seed the demo, then list the catalog with the analyst token."""

from __future__ import annotations

import pyarrow.compute as pc
from fastapi.testclient import TestClient

from datacommons.config import Settings
from datacommons.demo import run_demo
from datacommons.storage import ParquetStore
from tests.conftest import bearer


def test_analyst_lists_the_comuni_of_turin(settings: Settings, app) -> None:  # type: ignore[no-untyped-def]
    result = run_demo(settings)
    assert set(result.tokens) == {"admin", "analyst", "researcher", "donor"}
    with TestClient(app) as client:
        assert client.get("/api/v1/health").status_code == 200
        listing = client.get("/api/v1/datasets", headers=bearer(result.tokens["analyst"]))
        assert listing.status_code == 200
        body = listing.json()
        comuni = next(d for d in body["data"] if d["id"] == "comuni-torino")
        versions = client.get(
            "/api/v1/datasets/comuni-torino/versions", headers=bearer(result.tokens["analyst"])
        ).json()
    assert body["count"] == len(body["data"])
    assert comuni["access"] == "open" and comuni["geography"] == "ITC11"
    assert comuni["current_version"]["rows"] == 312
    assert comuni["current_version"]["provenance"]["attribution"] == "Fonte: ISTAT"
    assert versions["count"] == 1 and versions["data"][0]["status"] == "published"

    table = ParquetStore(settings.store_dir).read_table(comuni["current_version"]["content_hash"])
    assert table.num_rows == 312
    assert set(pc.unique(table["nuts3"]).to_pylist()) == {"ITC11"}
    torino = table.filter(pc.equal(table["codice_comune"], "001272")).to_pylist()
    assert [(r["comune"], r["capoluogo"]) for r in torino] == [("Torino", True)]


def test_the_demo_catalog_answers_in_both_languages(settings: Settings, app) -> None:  # type: ignore[no-untyped-def]
    result = run_demo(settings)
    headers = bearer(result.tokens["analyst"])
    with TestClient(app) as client:
        everything = client.get("/api/v1/datasets", params={"limit": 100}, headers=headers).json()
        found = {
            q: client.get("/api/v1/datasets", params={"q": q}, headers=headers).json()
            for q in ("disoccupazione", "unemployment")
        }
    unemployment = {"eurostat-lfst-r-lfu3rt", "istat-151-914"}
    assert {d["id"] for d in found["disoccupazione"]["data"]} == unemployment
    assert {d["id"] for d in found["unemployment"]["data"]} == unemployment
    # facet counts are the counts of the listed datasets
    data = everything["data"]
    assert everything["count"] == len(data) == 6
    for facet, field in (
        ("theme", "theme"),
        ("publisher", "publisher"),
        ("access", "access"),
        ("geography", "geography"),
    ):
        expected: dict[str, int] = {}
        for d in data:
            expected[d[field]] = expected.get(d[field], 0) + 1
        assert everything["facets"][facet] == dict(sorted(expected.items(), key=lambda kv: (-kv[1], kv[0])))
    assert everything["facets"]["access"] == {"open": 5, "private": 1}
    assert everything["facets"]["format"] == {"CSV": 5, "PARQUET": 5, "DP-API": 1}
