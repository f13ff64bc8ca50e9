"""Ingest over HTTP: admin only, JSON params, multipart upload, errors as the one error body."""

from __future__ import annotations

import json

import pyarrow.csv as pacsv
from fastapi.testclient import TestClient

from connectors import synthetic
from datacommons.app import create_app
from tests.conftest import bearer
from tests.connectors.recorded import FIXTURES, Recorded, fixture
from tests.connectors.test_istat import URLS as ISTAT_URLS


def test_only_an_administrator_may_ingest(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    for role in ("analyst", "researcher", "donor"):
        answer = client.post("/api/v1/admin/ingest/plan2030", json={}, headers=bearer(tokens[role]))
        assert answer.status_code == 403, role
    assert client.post("/api/v1/admin/ingest/plan2030", json={}).status_code == 401


def test_plan2030_with_json_params(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    answer = client.post(
        "/api/v1/admin/ingest/plan2030", json={"params": {}}, headers=bearer(tokens["admin"])
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    staged = body["staged"][0]
    assert body == {
        "connector": "plan2030",
        "unchanged": [],
        "staged": [
            {
                "dataset_id": "plan2030",
                "version": 1,
                "created": True,
                "rows": 17,
                "status": "validated",
                "content_hash": staged["content_hash"],
                "failures": [],
                "gate_note": "",
            }
        ],
    }
    versions = client.get("/api/v1/datasets/plan2030/versions", headers=bearer(tokens["admin"]))
    assert versions.json()["data"][0]["created_by"] == "admin:test admin"


def test_istat_over_http_with_recorded_answers(settings, tokens) -> None:  # type: ignore[no-untyped-def]
    istat = Recorded({ISTAT_URLS["150_915"]: fixture("istat/150_915.csv")})
    app = create_app(settings, http_transport=istat.transport())  # the network, answered offline
    with TestClient(app) as client:
        answer = client.post(
            "/api/v1/admin/ingest/istat",
            json={"params": {"flows": ["150_915"]}},
            headers=bearer(tokens["admin"]),
        )
    app.state.commons.engine.dispose()
    assert answer.status_code == 200, answer.text
    assert istat.urls == [ISTAT_URLS["150_915"]]
    assert [(s["dataset_id"], s["rows"]) for s in answer.json()["staged"]] == [("istat-150-915", 36)]


def test_a_donation_uploaded_as_multipart(client: TestClient, tokens, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "donazione.csv"
    pacsv.write_csv(synthetic.generate(n_donors=50, seed=3), path)
    with path.open("rb") as fh:
        answer = client.post(
            "/api/v1/admin/ingest/file",
            headers=bearer(tokens["admin"]),
            data={"params": json.dumps({"schema": "inserimento-lavorativo"})},
            files={"file": ("donazione.csv", fh, "text/csv")},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["staged"][0]["dataset_id"] == "inserimento-lavorativo"
    dataset = client.get("/api/v1/datasets/inserimento-lavorativo", headers=bearer(tokens["admin"]))
    assert dataset.json()["access"] == "private"


def test_a_bad_upload_is_a_422_naming_the_file_and_stages_nothing(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    text = (FIXTURES / "eurostat/lfst_r_lfu3rt.csv").read_text()
    answer = client.post(
        "/api/v1/admin/ingest/eurostat",
        headers=bearer(tokens["admin"]),
        files={"file": ("lfst_r_lfu3rt.csv", text[:700].encode(), "text/csv")},
    )
    assert answer.status_code == 422
    assert answer.json() == {
        "ok": False,
        "status": 422,
        "errors": [],
        "error": "lfst_r_lfu3rt.csv: row 9 has 8 fields instead of 12 (a truncated or malformed file?)",
    }
    listing = client.get("/api/v1/datasets", headers=bearer(tokens["admin"]))
    assert (listing.json()["data"], listing.json()["count"]) == ([], 0)


def test_unknown_connector_and_bad_params(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    admin = bearer(tokens["admin"])
    unknown = client.post("/api/v1/admin/ingest/nope", json={}, headers=admin)
    assert unknown.status_code == 422
    assert unknown.json()["error"] == (
        "unknown connector 'nope'; known: ckan, eurostat, file, istat, istat-comuni, plan2030"
    )
    bad = client.post("/api/v1/admin/ingest/eurostat", json={"params": {"flow": "x"}}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["error"] == "connector eurostat: parameter flow: Extra inputs are not permitted"
    outside = client.post("/api/v1/admin/ingest/eurostat", json={"flows": ["x"]}, headers=admin)
    assert outside.status_code == 422
    assert outside.json()["error"] == 'unknown field flows: put connector parameters under "params"'
    not_json = client.post(
        "/api/v1/admin/ingest/eurostat", content=b"{", headers={**admin, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 422 and not_json.json()["error"].startswith("params: not valid JSON")


def test_connectors_are_listed_with_their_parameters(client: TestClient, tokens) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/api/v1/admin/connectors", headers=bearer(tokens["admin"]))
    assert answer.status_code == 200
    body = answer.json()
    assert [c["name"] for c in body["data"]] == [
        "ckan",
        "eurostat",
        "file",
        "istat",
        "istat-comuni",
        "plan2030",
    ]
    eurostat = next(c for c in body["data"] if c["name"] == "eurostat")
    assert eurostat["params"]["properties"]["flows"]["default"] == [
        "lfst_r_lfu3rt",
        "lfst_r_lfe2emprt",
        "ilc_peps11n",
        "edat_lfse_22",
    ]
    assert next(c for c in body["data"] if c["name"] == "file")["requires_file"] is True
