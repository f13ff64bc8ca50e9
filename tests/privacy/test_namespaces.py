"""Pseudonyms belong to the organisation that gave them (the review's reproduction).

A second private dataset, donated by another cooperative, uses D0000001… for other people. A donor
whom the first cooperative registered as D0000001 consents to a program covering both datasets: their
consent must release nothing of the second dataset, and the second cooperative must be able to
register its own D0000001, before and after the first one's erasure.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from consent import eligibility
from datacommons.config import Settings
from datacommons.db import utcnow
from privacy.models import Release
from tests.conftest import bearer
from tests.consent.conftest import PROGRAM, give, make_program
from tests.privacy.test_api import publish_private

FIRST = "inserimento-lavorativo"
SECOND = "altra-cooperativa"
RESEARCH = "dpv:ScientificResearch"


def register(client: TestClient, admin: str, organisation: str, dataset: str, pseudonym: str):  # type: ignore[no-untyped-def]
    answer = client.post(
        "/api/v1/admin/donors",
        headers=bearer(admin),
        json={"organisation": organisation, "dataset_ids": [dataset], "donor_ids": [pseudonym]},
    )
    return answer


def test_one_cooperatives_d0000001_never_releases_anothers(  # type: ignore[no-untyped-def]
    client: TestClient, tokens, sessions, settings: Settings
) -> None:
    pseudonyms = publish_private(sessions, settings, dataset_id=SECOND, n_rows=200, n_donors=20, seed=False)
    assert "D0000001" in pseudonyms  # the second dataset's own D0000001, someone else
    admin = tokens["admin"]
    make_program(client, admin, text={**PROGRAM["text"], "datasets": [FIRST, SECOND]})
    first = register(client, admin, "Cooperativa Prima", FIRST, "D0000001")
    assert first.status_code == 201, first.text
    [row] = first.json()["data"]
    claimed = client.post(
        "/api/v1/donors/claim", json={"donor_id": row["donor_id"], "code": row["claim_code"]}
    )
    donor_token = claimed.json()["token"]
    give(client, donor_token, PROGRAM["id"])  # allowed: the program covers the first dataset too

    with sessions() as session:
        second = eligibility.eligible(session, dataset_id=SECOND, purpose=RESEARCH, at=utcnow())
        assert second.records == frozenset() and second.donors == frozenset()
        own = eligibility.eligible(session, dataset_id=FIRST, purpose=RESEARCH, at=utcnow())
        assert own.pseudonyms == {row["donor_id"]: "D0000001"}

    query = {"purpose": RESEARCH, "measures": [{"op": "count"}], "epsilon": 0.5}
    answer = client.post(f"/api/v1/datasets/{SECOND}/queries", json=query, headers=bearer(tokens["analyst"]))
    assert answer.status_code == 200, answer.text
    with sessions() as session:
        release = session.scalars(select(Release).where(Release.dataset_id == SECOND)).one()
        assert release.donors == 0  # nobody's records: the count stayed 0, only noise was released

    assert client.delete("/api/v1/donors/me", headers=bearer(donor_token)).status_code == 200
    with sessions() as session:
        own = eligibility.eligible(session, dataset_id=FIRST, purpose=RESEARCH, at=utcnow())
        assert own.donors == frozenset()

    # After the erasure the second cooperative registers its own D0000001: another person.
    other = register(client, admin, "Cooperativa Seconda", SECOND, "D0000001")
    assert other.status_code == 201, other.text
    assert other.json()["data"][0]["donor_id"] != row["donor_id"]
    # ... and nobody can link another cooperative's D0000001 to the second dataset's records,
    taken = register(client, admin, "Cooperativa Prima", SECOND, "D0000001")
    assert taken.status_code == 409
    assert "belong to a donor another organisation registered" in taken.json()["error"]
    # nor give the erased person's pseudonym in the first dataset to someone else.
    again = register(client, admin, "Cooperativa Prima", FIRST, "D0000001")
    assert again.status_code == 409
    assert again.json()["error"] == (
        f"D0000001 in {FIRST} belonged to a donor who was erased: give this person a pseudonym of their own"
    )


def test_consent_to_a_program_covering_none_of_the_donors_records_is_refused(  # type: ignore[no-untyped-def]
    client: TestClient, tokens
) -> None:
    admin = tokens["admin"]
    make_program(client, admin, text={**PROGRAM["text"], "datasets": [SECOND]})
    [row] = register(client, admin, "Cooperativa Prima", FIRST, "D0000001").json()["data"]
    token = client.post(
        "/api/v1/donors/claim", json={"donor_id": row["donor_id"], "code": row["claim_code"]}
    ).json()["token"]
    answer = client.post(
        "/api/v1/consents", json={"program_id": PROGRAM["id"], "text_version": 1}, headers=bearer(token)
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == (
        f"this program covers {SECOND}, and none of them holds your records "
        f"(they are in {FIRST}): there is nothing of yours to consent to"
    )
    assert client.get("/api/v1/consents", headers=bearer(token)).json()["count"] == 0
