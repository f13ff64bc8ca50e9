"""The yearly activity report (DGA art. 20(2)), as JSON and HTML, from the registry and the log."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from consent import transparency
from consent.transparency import USES, record_use
from datacommons.config import Settings
from datacommons.db import transaction, utcnow
from tests.conftest import bearer
from tests.consent.conftest import DATASET, PROGRAM, give, register
from tests.support.cli import run_cli


def test_yearly_report_counts_consents_and_uses(
    client: TestClient, tokens, program, sessions, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    tokens_of = [register(client)[1] for _ in range(3)]
    consents = [give(client, t, PROGRAM["id"])["consent"] for t in tokens_of]
    client.post(f"/api/v1/consents/{consents[0]['id']}/withdraw", headers=bearer(tokens_of[0]))
    with transaction(sessions, immediate=True) as session:
        record_use(
            session,
            kind="release",
            actor="analyst:A",
            organisation="Coop Il Ponte",
            purpose="dpv:ScientificResearch",
            datasets=[DATASET],
        )
        record_use(
            session,
            kind="extract",
            actor="researcher:R",
            organisation="UniTo",
            purpose="dpv:ScientificResearch",
            datasets=[DATASET],
            fee_eur=25.0,
        )
        record_use(
            session,
            kind="publication",
            actor="admin:P",
            purpose="dpv:PublicPolicyMaking",
            datasets=["comuni-torino"],
            fee_eur=0.5,
        )
    year = utcnow().year
    answer = client.get(f"/api/v1/admin/reports/altruism?year={year}", headers=bearer(tokens["admin"]))
    assert answer.status_code == 200
    report = answer.json()
    assert report["year"] == year and report["report"] == "DGA art. 20(2) annual activity report"
    assert report["donors"] == {"registered_by_period_end": 3, "registered_in_year": 3, "erased_in_year": 0}
    [row] = report["programs"]
    assert {
        k: row[k]
        for k in (
            "id",
            "consents_given",
            "consents_withdrawn",
            "consents_renewed",
            "consents_expired",
            "donors_with_consent_at_period_end",
            "datasets",
            "text_versions",
        )
    } == {
        "id": PROGRAM["id"],
        "consents_given": 3,
        "consents_withdrawn": 1,
        "consents_renewed": 0,
        "consents_expired": 0,
        "donors_with_consent_at_period_end": 2,
        "datasets": [DATASET],
        "text_versions": [1],
    }
    uses = report["uses"]
    assert (uses["count"], uses["fees_eur_total"]) == (3, 25.5)
    assert uses["by_kind"] == {"extract": 1, "publication": 1, "release": 1}
    assert uses["by_purpose"] == {"dpv:PublicPolicyMaking": 1, "dpv:ScientificResearch": 2}
    assert uses["by_organisation"] == {"Coop Il Ponte": 1, "UniTo": 1, "admin:P": 1}
    # the three uses, the commitments of three consents given and one withdrawn, and the acts
    # (tokens issued, the program created) around them
    with transaction(sessions) as session:
        logged = len(transparency.list_entries(session))
        acts = [e.kind for e in transparency.list_entries(session) if e.kind not in (*USES, "consent")]
    assert logged == 7 + len(acts) and set(acts) == {"token", "program"}
    assert report["transparency_log"] == {"ok": True, "count": logged, "first_bad_id": None, "reason": None}
    empty = client.get(
        f"/api/v1/admin/reports/altruism?year={year - 1}", headers=bearer(tokens["admin"])
    ).json()
    assert empty["uses"]["count"] == 0 and empty["programs"][0]["consents_given"] == 0

    page = client.get(f"/api/v1/admin/reports/altruism.html?year={year}", headers=bearer(tokens["admin"]))
    assert page.status_code == 200
    for shown in (
        f"Annual activity report {year}",
        "UniTo",
        "25.50",
        "integro / intact",
        f"/api/v1/admin/reports/altruism?year={year}",
    ):
        assert shown in page.text
    assert (
        client.get("/api/v1/admin/reports/altruism", headers=bearer(tokens["researcher"])).status_code == 403
    )

    printed = run_cli(settings, "audit", "report", "--year", str(year))
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout)["uses"] == uses
