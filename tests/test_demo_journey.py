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
        versions = client.get("/api/v1/datasets/comuni-torino/versions",
                              headers=bearer(result.tokens["analyst"])).json()
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
