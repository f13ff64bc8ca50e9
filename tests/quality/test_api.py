"""The admin API of the gate: validate, publish (409 unless validated), reports in JSON and HTML."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from datacommons.db import transaction
from datacommons.demo import seed_comuni
from tests.conftest import bearer
from tests.quality.conftest import DONORS, MICRO_ID, micro_rows, stage

BASE = f"/api/v1/admin/datasets/{MICRO_ID}/versions"


@pytest.fixture
def staged(app, sessions):  # type: ignore[no-untyped-def]
    """Stage one clean and one bad version (unknown comune, negative wage, null donor id)."""
    store = app.state.commons.store
    with transaction(sessions, immediate=True) as session:
        seed_comuni(session, store)
        stage(session, store, micro_rows())
        stage(
            session,
            store,
            micro_rows(
                comune=["001272", "099999", "001002", "001272"],
                monthly_wage=[1200.0, 0.0, -50.0, 0.0],
                donor_id=["D0000001", None, "D0000003", "D0000004"],
            ),
        )


FAILING = [
    "expect_column_values_to_not_be_null(donor_id)",
    "expect_column_values_to_be_in_set(comune)",
    "expect_column_values_to_be_between(monthly_wage)",
]


@pytest.mark.usefixtures("staged")
def test_a_bad_version_is_rejected_with_409_and_cannot_be_published(
    client: TestClient, tokens: dict[str, str]
) -> None:
    admin = bearer(tokens["admin"])
    answer = client.post(f"{BASE}/2/validate", headers=admin)
    assert answer.status_code == 409
    body = answer.json()
    assert body["status"] == 409 and body["ok"] is False
    assert [e["expectation"] for e in body["errors"]] == FAILING
    assert body["error"].startswith(f"version 2 of {MICRO_ID} failed validation (report ")
    assert body["error"].endswith(", ".join(FAILING))

    refused = client.post(f"{BASE}/2/publish", headers=admin)
    assert refused.status_code == 409
    report_id = client.get(f"{BASE}/2/report", headers=admin).json()["id"]
    assert refused.json() == {
        "ok": False,
        "status": 409,
        "error": f"version 2 of {MICRO_ID} is rejected: only a validated version can be published; "
        f"its last validation (report {report_id}) failed: " + ", ".join(FAILING),
        "errors": [{"expectation": name, "report": report_id} for name in FAILING],
    }


@pytest.mark.usefixtures("staged")
def test_a_staged_version_cannot_be_published_before_validation(
    client: TestClient, tokens: dict[str, str]
) -> None:
    refused = client.post(f"{BASE}/1/publish", headers=bearer(tokens["admin"]))
    assert refused.status_code == 409
    assert refused.json()["error"] == (
        f"version 1 of {MICRO_ID} is staged: only a validated version can be published; it has not "
        "been validated yet (run: datacommons validate)"
    )


@pytest.mark.usefixtures("staged")
def test_a_good_version_is_validated_then_published(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    answer = client.post(f"{BASE}/1/validate", headers=admin)
    assert answer.status_code == 200
    report = answer.json()
    assert (report["success"], report["status_before"], report["status"], report["actor"]) == (
        True,
        "staged",
        "validated",
        "admin:test admin",
    )
    assert report["links"] == {
        "json": f"/api/v1/admin/reports/{report['id']}",
        "html": f"/api/v1/admin/reports/{report['id']}.html",
        "publish": f"{BASE}/1/publish",
    }
    published = client.post(f"{BASE}/1/publish", headers=admin)
    assert published.status_code == 200
    body = published.json()
    assert (body["dataset_id"], body["number"], body["status"], body["current"]) == (
        MICRO_ID,
        1,
        "published",
        True,
    )
    assert [(t["from_status"], t["to_status"], t["actor"]) for t in body["transitions"]] == [
        (None, "staged", "test:ingest"),
        ("staged", "validated", "admin:test admin"),
        ("validated", "published", "admin:test admin"),
    ]
    versions = client.get(f"/api/v1/datasets/{MICRO_ID}", headers=admin).json()
    assert versions["current_version"]["number"] == 1


@pytest.mark.usefixtures("staged")
def test_the_report_page_renders_for_an_admin_only(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    client.post(f"{BASE}/2/validate", headers=admin)
    report = client.get(f"{BASE}/2/report", headers=admin).json()
    page = client.get(f"/api/v1/admin/reports/{report['id']}.html", headers=admin)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert f"{MICRO_ID}, version 2" in html and "FAILED" in html
    for name in FAILING:
        assert name in html
    assert "099999" in html and "-50.0" in html
    assert "withheld (donor identifiers)" in html
    assert not [d for d in DONORS if d in html]
    assert client.get(f"/api/v1/admin/reports/{report['id']}", headers=admin).json() == report
    listing = client.get(f"{BASE}/2/reports", headers=admin).json()
    assert (listing["count"], listing["data"][0]["id"]) == (1, report["id"])

    for role in ("analyst", "researcher", "donor"):
        other = bearer(tokens[role])
        for url in (
            f"/api/v1/admin/reports/{report['id']}.html",
            f"/api/v1/admin/reports/{report['id']}",
            f"{BASE}/2/report",
        ):
            denied = client.get(url, headers=other)
            assert denied.status_code == 403, (role, url)
            assert denied.json()["error"] == f"this needs the role admin; your token is {role}"
        assert client.post(f"{BASE}/1/validate", headers=other).status_code == 403
        assert client.post(f"{BASE}/1/publish", headers=other).status_code == 403
    assert client.get(f"/api/v1/admin/reports/{report['id']}.html").status_code == 401


def test_unknown_versions_and_reports_are_404(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    assert client.post(f"{BASE}/1/validate", headers=admin).json()["error"] == (f"no dataset {MICRO_ID!r}")
    assert client.get("/api/v1/admin/reports/999.html", headers=admin).status_code == 404


def test_the_report_page_escapes_the_values_it_shows(
    app,
    sessions,
    client: TestClient,
    tokens: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    with transaction(sessions, immediate=True) as session:
        seed_comuni(session, app.state.commons.store)
        stage(
            session,
            app.state.commons.store,
            micro_rows(pathway=["<script>alert(1)</script>", "work-grant", "internship", "internship"]),
        )
    admin = bearer(tokens["admin"])
    assert client.post(f"{BASE}/1/validate", headers=admin).status_code == 409
    report = client.get(f"{BASE}/1/report", headers=admin).json()
    assert [(t["from"], t["to"]) for t in report["transitions"]] == [
        (None, "staged"),
        ("staged", "rejected"),
    ]
    html = client.get(report["links"]["html"], headers=admin).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
