"""Donor isolation: donor A's token never reads or changes donor B's records, on any route."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient

from consent import privacy_loss
from consent.transparency import record_use
from datacommons.db import transaction, utcnow
from tests.conftest import bearer
from tests.consent.conftest import PROGRAM, give, make_program, register


@pytest.fixture
def two_donors(client: TestClient, tokens, sessions):  # type: ignore[no-untyped-def]
    """Donors A and B, each with consent to a program on a different dataset, and one use of each."""
    make_program(client, tokens["admin"], id="prog-a", text={**PROGRAM["text"], "datasets": ["ds-a"]})
    make_program(client, tokens["admin"], id="prog-b", text={**PROGRAM["text"], "datasets": ["ds-b"]})
    a_id, a_token = register(client, "ds-a", name="Anna Alfa", email="anna@example.org")
    b_id, b_token = register(client, "ds-b", name="Bruno Beta", email="bruno@example.org")
    a_consent = give(client, a_token, "prog-a")["consent"]
    b_consent = give(client, b_token, "prog-b")["consent"]
    with transaction(sessions, immediate=True) as session:
        for dataset, donor in (("ds-a", a_id), ("ds-b", b_id)):
            record_use(
                session,
                kind="release",
                actor="analyst:x",
                purpose="dpv:ScientificResearch",
                datasets=[dataset],
                details={"release": dataset},
            )
            included = frozenset({donor})  # the release included that donor's records
            chosen = privacy_loss.inclusion(session, donors=included, epsilon=0.1, cap=10.0)
            privacy_loss.charge(
                session,
                eligible=included,
                chosen=chosen,
                epsilon=0.1,
                cap=10.0,
                use=privacy_loss.Use(
                    f"rel-{dataset}", "release", dataset, 1, "Coop", "dpv:ScientificResearch", 0.1, utcnow()
                ),
            )
    return {"a": (a_id, a_token, a_consent), "b": (b_id, b_token, b_consent)}


def b_is_untouched(client: TestClient, two_donors) -> None:  # type: ignore[no-untyped-def]
    b_id, b_token, b_consent = two_donors["b"]
    mine = client.get(f"/api/v1/consents/{b_consent['id']}", headers=bearer(b_token))
    assert mine.status_code == 200
    assert mine.json()["status"] == "active"
    assert [e["event"] for e in mine.json()["events"]] == ["given"]
    assert client.get("/api/v1/donors/me", headers=bearer(b_token)).json()["donor_id"] == b_id


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/consents/{id}", None),
        ("GET", "/api/v1/consents/{id}/receipt", None),
        ("POST", "/api/v1/consents/{id}/withdraw", None),
        ("POST", "/api/v1/consents/{id}/renew", {"text_version": 1}),
    ],
)
def test_another_donors_consent_is_not_found(
    client: TestClient, two_donors, method: str, path: str, body
) -> None:  # type: ignore[no-untyped-def]
    _a_id, a_token, _a_consent = two_donors["a"]
    _b_id, _b_token, b_consent = two_donors["b"]
    theirs = client.request(method, path.format(id=b_consent["id"]), json=body, headers=bearer(a_token))
    nobody = client.request(method, path.format(id=str(uuid.uuid4())), json=body, headers=bearer(a_token))
    assert theirs.status_code == 404
    assert theirs.json() == nobody.json()  # the answer does not reveal that it exists
    b_is_untouched(client, two_donors)


def test_own_record_routes_show_only_the_callers_records(client: TestClient, two_donors) -> None:  # type: ignore[no-untyped-def]
    a_id, a_token, a_consent = two_donors["a"]
    b_id, _b_token, b_consent = two_donors["b"]
    me = client.get("/api/v1/donors/me", headers=bearer(a_token)).json()
    assert (me["donor_id"], me["name"], me["email"]) == (a_id, "Anna Alfa", "anna@example.org")
    assert [c["id"] for c in me["consents"]] == [a_consent["id"]]
    assert me["datasets"] == ["ds-a"]

    listed = client.get("/api/v1/consents", headers=bearer(a_token)).json()
    assert [c["id"] for c in listed["data"]] == [a_consent["id"]]

    uses = client.get("/api/v1/donors/me/uses", headers=bearer(a_token)).json()
    assert [u["dataset"] for u in uses["data"]] == ["ds-a"]

    export = client.get("/api/v1/donors/me/export", headers=bearer(a_token))
    assert export.status_code == 200
    text = export.text
    for secret in (b_id, b_consent["id"], "Bruno", "bruno@example.org", "ds-b"):
        assert secret not in text
    assert json.loads(text)["donor_id"] == a_id
    b_is_untouched(client, two_donors)


def test_writes_act_on_the_caller_only(client: TestClient, two_donors) -> None:  # type: ignore[no-untyped-def]
    a_id, a_token, _a_consent = two_donors["a"]
    b_id, b_token, _b_consent = two_donors["b"]
    # A body naming another donor is ignored: consent is always the caller's, and A has no records
    # in B's dataset, so there is nothing of A's to consent to there.
    answer = client.post(
        "/api/v1/consents",
        headers=bearer(a_token),
        json={"program_id": "prog-b", "text_version": 1, "donor_id": b_id},
    )
    assert answer.status_code == 422
    assert "none of them holds your records (they are in ds-a)" in answer.json()["error"]
    mine = client.get("/api/v1/consents", headers=bearer(a_token)).json()
    assert mine["count"] == 1
    assert client.get("/api/v1/consents", headers=bearer(b_token)).json()["count"] == 1

    assert client.delete("/api/v1/donors/me", headers=bearer(a_token)).status_code == 200
    assert client.get("/api/v1/donors/me", headers=bearer(a_token)).status_code == 401
    b_is_untouched(client, two_donors)
    assert a_id != b_id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/donors/me"),
        ("GET", "/api/v1/donors/me/uses"),
        ("GET", "/api/v1/donors/me/export"),
        ("DELETE", "/api/v1/donors/me"),
        ("GET", "/api/v1/consents"),
        ("POST", "/api/v1/consents"),
    ],
)
def test_donor_routes_need_a_donor_token(client: TestClient, tokens, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    assert client.request(method, path).status_code == 401
    answer = client.request(
        method, path, headers=bearer(tokens["analyst"]), json={"program_id": "x", "text_version": 1}
    )
    assert answer.status_code == 403
    assert answer.json()["error"] == "this needs the role donor; your token is analyst"
