"""Administrators read and change a private dataset's budget, never below what is spent."""

from __future__ import annotations

from fastapi.testclient import TestClient

from datacommons import registry
from datacommons.db import transaction
from datacommons.specs import DatasetMeta
from tests.conftest import bearer
from tests.privacy.test_api import DATASET, QUERY, URL, publish_private

POLICY = f"/api/v1/admin/datasets/{DATASET}/policy"


def test_the_budget_is_read_and_raised_and_queries_use_the_new_one(
    client: TestClient,
    tokens,  # type: ignore[no-untyped-def]
    sessions,
    settings,
) -> None:
    publish_private(sessions, settings, total=3.0, per_org=1.0)
    admin = bearer(tokens["admin"])
    assert client.post(URL, json=QUERY, headers=bearer(tokens["analyst"])).status_code == 200
    before = client.get(POLICY, headers=admin).json()
    assert {
        k: before[k]
        for k in (
            "dataset",
            "version",
            "epsilon_total",
            "epsilon_per_organisation",
            "epsilon_per_query",
            "spent_total",
            "spent_most_by_one_organisation",
        )
    } == {
        "dataset": DATASET,
        "version": 1,
        "epsilon_total": 3.0,
        "epsilon_per_organisation": 1.0,
        "epsilon_per_query": 1.0,
        "spent_total": 0.5,
        "spent_most_by_one_organisation": 0.5,
    }
    assert before["privacy_unit"] == "donor_id" and before["max_rows_per_unit"] == 3

    second = {**QUERY, "epsilon": 0.6}  # 0.5 + 0.6 is over the organisation's 1.0
    assert client.post(URL, json=second, headers=bearer(tokens["analyst"])).status_code == 429
    raised = client.put(
        f"{POLICY}/budget",
        headers=admin,
        json={"epsilon_total": 5.0, "epsilon_per_organisation": 2.0, "epsilon_per_query": 1.0},
    )
    assert raised.status_code == 200, raised.text
    assert (raised.json()["epsilon_total"], raised.json()["epsilon_per_organisation"]) == (5.0, 2.0)
    assert client.post(URL, json=second, headers=bearer(tokens["analyst"])).status_code == 200
    budget = client.get("/api/v1/budget", headers=bearer(tokens["analyst"])).json()["data"][0]
    assert budget["budget"]["organisation"] == {
        "scope": budget["budget"]["organisation"]["scope"],
        "limit": 2.0,
        "spent": 1.1,
        "remaining": 0.9,
    }


def test_a_budget_below_what_is_spent_or_out_of_order_is_refused(
    client: TestClient,
    tokens,  # type: ignore[no-untyped-def]
    sessions,
    settings,
) -> None:
    publish_private(sessions, settings, total=3.0, per_org=2.0)
    admin = bearer(tokens["admin"])
    assert client.post(URL, json=QUERY, headers=bearer(tokens["analyst"])).status_code == 200
    below = client.put(
        f"{POLICY}/budget",
        headers=admin,
        json={"epsilon_total": 0.4, "epsilon_per_organisation": 0.4, "epsilon_per_query": 0.1},
    )
    assert below.status_code == 409
    assert below.json()["error"] == ("epsilon_total 0.4 is below the 0.5 already spent on this dataset")
    disordered = client.put(
        f"{POLICY}/budget",
        headers=admin,
        json={"epsilon_total": 1.0, "epsilon_per_organisation": 2.0, "epsilon_per_query": 0.5},
    )
    assert disordered.status_code == 422
    assert "epsilon_per_query <= epsilon_per_organisation <= epsilon_total" in disordered.json()["error"]
    assert client.get(POLICY, headers=admin).json()["epsilon_total"] == 3.0  # unchanged


def test_only_administrators_and_only_private_datasets(
    client: TestClient,
    tokens,
    sessions,  # type: ignore[no-untyped-def]
    settings,
) -> None:
    publish_private(sessions, settings)
    for role in ("analyst", "researcher", "donor"):
        assert client.get(POLICY, headers=bearer(tokens[role])).status_code == 403
        assert (
            client.put(
                f"{POLICY}/budget",
                headers=bearer(tokens[role]),
                json={"epsilon_total": 9.0, "epsilon_per_organisation": 9.0, "epsilon_per_query": 9.0},
            ).status_code
            == 403
        )
    assert client.get(POLICY).status_code == 401
    missing = client.get("/api/v1/admin/datasets/no-such-dataset/policy", headers=bearer(tokens["admin"]))
    assert missing.status_code == 404


def test_an_open_dataset_has_no_budget(client: TestClient, tokens, sessions) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        registry.upsert_dataset(
            session, meta=DatasetMeta(id="aperto", title_it="Aperto", title_en="Open", publisher="ISTAT")
        )
    answer = client.get("/api/v1/admin/datasets/aperto/policy", headers=bearer(tokens["admin"]))
    assert answer.status_code == 422
    assert answer.json()["error"] == "dataset aperto is open: only private datasets have a policy"
