"""Budgets belong to a dataset's whole lineage: a new version, a re-ingest of the same rows in another
order or a rollback never restores spent budget (the review's second reproduction)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from datacommons import registry
from datacommons.config import Settings
from datacommons.db import transaction
from datacommons.storage import ParquetStore
from tests.conftest import bearer
from tests.privacy.conftest import make_frame
from tests.privacy.test_api import DATASET, QUERY, URL, publish_private


def republish_shuffled(sessions, settings: Settings) -> int:  # type: ignore[no-untyped-def]
    """Stage the same rows in another order as a new version and publish it; its number."""
    frame = make_frame(n_rows=6000, n_donors=2500).drop("_rank").sample(fraction=1.0, shuffle=True, seed=3)
    with transaction(sessions, immediate=True) as session:
        dataset = registry.get_dataset(session, DATASET)
        version, _ = registry.stage_table(
            session,
            store=ParquetStore(settings.store_dir),
            dataset=dataset,
            table=frame.to_arrow(),
            provenance={},
            actor="test",
        )
        registry.transition(session, version=version, to="validated", actor="test")
        registry.publish(session, dataset_id=DATASET, number=version.number, actor="test")
        return version.number


def spent(client: TestClient, token: str) -> tuple[int, float, float]:
    body = client.get("/api/v1/budget", headers=bearer(token)).json()["data"][0]
    return (
        body["version"],
        body["budget"]["dataset_total"]["spent"],
        body["budget"]["organisation"]["spent"],
    )


def test_spending_carries_over_new_versions_and_rollbacks(
    client: TestClient,
    tokens,
    sessions,  # type: ignore[no-untyped-def]
    settings: Settings,
) -> None:
    publish_private(sessions, settings, total=3.0, per_org=1.0)
    analyst = tokens["analyst"]
    for year in ("2022", "2023"):
        answer = client.post(
            URL, json={**QUERY, "filters": {"year": [year]}, "epsilon": 0.5}, headers=bearer(analyst)
        )
        assert answer.status_code == 200
    assert spent(client, analyst) == (1, 1.0, 1.0)

    assert republish_shuffled(sessions, settings) == 2
    assert spent(client, analyst) == (2, 1.0, 1.0)  # the new version opened no fresh budget
    refused = client.post(URL, json={**QUERY, "epsilon": 0.1}, headers=bearer(analyst))
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["budgets"]["organisation"] == {
        "scope": refused.json()["errors"][0]["budgets"]["organisation"]["scope"],
        "limit": 1.0,
        "spent": 1.0,
        "remaining": 0.0,
    }

    with transaction(sessions, immediate=True) as session:  # roll back to version 1
        registry.publish(session, dataset_id=DATASET, number=1, actor="test")
    assert spent(client, analyst) == (1, 1.0, 1.0)
    assert client.post(URL, json={**QUERY, "epsilon": 0.1}, headers=bearer(analyst)).status_code == 429
    # another organisation spends on the same total, whatever the version
    assert (
        client.post(URL, json={**QUERY, "epsilon": 0.5}, headers=bearer(tokens["researcher"])).status_code
        == 200
    )
    assert spent(client, tokens["researcher"]) == (1, 1.5, 0.5)
