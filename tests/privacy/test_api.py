"""DP queries and extracts over HTTP: preview, release, repeats, budgets, consent, extracts."""

from __future__ import annotations

import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from consent.demo import seed_consent
from consent.eligibility import eligible_donors
from consent.ledger import withdraw
from consent.models import Consent, TransparencyEntry
from consent.receipts import Signer
from datacommons import auth, registry
from datacommons.auth import Principal
from datacommons.config import Settings
from datacommons.db import transaction, utcnow
from datacommons.errors import TooManyRequests
from datacommons.specs import DatasetMeta, PolicySpec
from datacommons.storage import ParquetStore
from privacy import service
from privacy.models import Release
from privacy.query import Query
from tests.conftest import bearer
from tests.privacy.conftest import AGE_BANDS, COMUNI, make_frame

DATASET = "inserimento-lavorativo"
RESEARCH = "dpv:ScientificResearch"
URL = f"/api/v1/datasets/{DATASET}/queries"
QUERY = {
    "purpose": RESEARCH,
    "group_by": ["comune", "age_band"],
    "measures": [{"op": "count"}, {"op": "mean", "column": "monthly_wage", "bounds": [0, 5000]}],
    "epsilon": 0.5,
}


def distinct_question(i: int) -> dict:  # type: ignore[type-arg]
    """The i-th of 1,200 different questions of QUERY's shape, each on one cell of comune x age band
    for one year and sex (neither alpha nor the order of the columns makes a question different)."""
    assert 0 <= i < 1200
    filters = {
        "comune": [COMUNI[i % 40]],
        "age_band": [AGE_BANDS[i // 40 % 5]],
        "year": [("2022", "2023", "2024")[i // 200 % 3]],
        "sex": [("F", "M")[i // 600]],
    }
    return {**QUERY, "filters": filters}


def publish_private(
    sessions,
    settings: Settings,
    *,
    total: float = 3.0,
    per_org: float = 2.0,  # type: ignore[no-untyped-def]
    n_rows: int = 6000,
    n_donors: int = 2500,
    hold_out: frozenset[str] = frozenset(),
    dataset_id: str = DATASET,
    seed: bool = True,
) -> list[str]:
    """Publish ``dataset_id`` (synthetic rows) with its policy; with ``seed``, its donors registered
    by "Coop B" with the demo consents. Returns the pseudonyms of its rows."""
    frame = make_frame(n_rows=n_rows, n_donors=n_donors).drop("_rank")
    store = ParquetStore(settings.store_dir)
    with transaction(sessions, immediate=True) as session:
        dataset = registry.upsert_dataset(
            session,
            meta=DatasetMeta(
                id=dataset_id,
                title_it="Inserimento lavorativo",
                title_en="Work integration",
                publisher="Cooperative",
                access="private",
            ),
        )
        version, _ = registry.stage_table(
            session, store=store, dataset=dataset, table=frame.to_arrow(), provenance={}, actor="test"
        )
        registry.transition(session, version=version, to="validated", actor="test")
        registry.publish(session, dataset_id=dataset_id, number=version.number, actor="test")
        registry.set_policy(
            session,
            dataset=dataset,
            spec=PolicySpec(
                privacy_unit="donor_id",
                max_rows_per_unit=3,
                public_dimensions={
                    "comune": COMUNI,
                    "age_band": AGE_BANDS,
                    "sex": ["F", "M"],
                    "year": ["2022", "2023", "2024"],
                },
                epsilon_total=total,
                epsilon_per_organisation=per_org,
                epsilon_per_query=1.0,
            ),
        )
        donors = sorted(set(frame["donor_id"].to_list()) - hold_out)
        if seed:
            seed_consent(
                session, dataset_id=DATASET, donor_ids=donors, organisation="Coop B", settings=settings
            )
    return donors


def test_preview_spends_nothing_and_release_spends_what_it_said(client: TestClient, tokens, private) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens["analyst"])
    preview = client.post(f"{URL}/preview", json=QUERY, headers=headers)
    assert preview.status_code == 200
    body = preview.json()
    assert (body["epsilon"], body["epsilon_spent"], body["cells"], body["affordable"]) == (
        0.5,
        0.0,
        len(COMUNI) * len(AGE_BANDS),
        True,
    )
    assert body["budget"]["organisation"] == {
        "scope": body["budget"]["organisation"]["scope"],
        "limit": 2.0,
        "spent": 0.0,
        "remaining": 2.0,
    }
    count = body["measures"][0]["parts"][0]
    assert count["mechanism"] == "OpenDP discrete Laplace"
    assert count["scale"] == pytest.approx(3 / (0.5 / 3), rel=1e-4)  # 3 statistics share 0.5
    assert client.post(f"{URL}/preview", json=QUERY, headers=headers).json()["budget"] == body["budget"]

    released = client.post(URL, json=QUERY, headers=headers)
    assert released.status_code == 200
    answer = released.json()
    assert (answer["epsilon_spent"], answer["repeat"]) == (0.5, False)
    assert answer["measures"] == body["measures"]  # the scales and intervals preview promised
    assert answer["budget"]["organisation"]["spent"] == 0.5
    assert answer["budget"]["dataset_total"]["remaining"] == 2.5

    again = client.post(URL, json=QUERY, headers=headers).json()
    assert (again["repeat"], again["epsilon_spent"], again["release_id"]) == (True, 0.0, answer["release_id"])
    assert again["rows"] == answer["rows"]
    assert again["budget"]["organisation"]["spent"] == 0.5
    budget = client.get("/api/v1/budget", headers=headers).json()
    assert budget["count"] == 1 and budget["data"][0]["budget"]["organisation"]["spent"] == 0.5


def test_answers_hold_only_public_keys_and_no_rows(client: TestClient, tokens, private) -> None:  # type: ignore[no-untyped-def]
    answer = client.post(URL, json=QUERY, headers=bearer(tokens["researcher"]))
    body = answer.json()
    assert {(r["comune"], r["age_band"]) for r in body["rows"]} == {(c, a) for c in COMUNI for a in AGE_BANDS}
    assert all(
        set(r)
        == {
            "comune",
            "age_band",
            "count",
            "count_raw",
            "count_ci",
            "count_unreliable",
            "mean_monthly_wage",
            "mean_monthly_wage_raw",
            "mean_monthly_wage_ci",
            "mean_monthly_wage_unreliable",
        }
        for r in body["rows"]
    )
    assert not any(donor in answer.text for donor in private[:200])
    assert all(r["count"] >= 0 and isinstance(r["count"], int) for r in body["rows"])


def test_over_budget_is_429_with_what_remains(client: TestClient, tokens, private) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens["analyst"])
    for year in ("2022", "2023", "2024", "2022,2023"):
        query = {**QUERY, "filters": {"year": year.split(",")}, "epsilon": 0.5}
        assert client.post(URL, json=query, headers=headers).status_code == 200
    refused = client.post(URL, json={**QUERY, "epsilon": 0.1}, headers=headers)
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"].startswith("privacy budget exhausted: this query needs epsilon 0.1, org:")
    assert body["errors"][0]["budgets"]["organisation"]["remaining"] == 0.0
    # another organisation still has its own share of the version's total
    assert (
        client.post(URL, json={**QUERY, "epsilon": 0.1}, headers=bearer(tokens["researcher"])).status_code
        == 200
    )


def test_concurrent_releases_never_overspend(sessions, settings: Settings, app) -> None:  # type: ignore[no-untyped-def]
    """200 concurrent releases against a budget that allows 10: exactly 10 released."""
    publish_private(sessions, settings, total=1.0, per_org=1.0, n_rows=2000, n_donors=900)
    with transaction(sessions) as session:
        org = auth.get_or_create_organisation(session, "Coop concorrente")
        token, _ = auth.create_token(session, role="analyst", name="c", organisation=org)
    caller = Principal(token.id, "analyst", "c", org.id, None)
    store = ParquetStore(settings.store_dir)

    def attempt(i: int) -> str:
        query = Query.model_validate({**distinct_question(i), "epsilon": 0.1})
        try:
            service.release(
                sessions,
                store=store,
                dataset_id=DATASET,
                query=query,
                principal=caller,
                epsilon_per_person=settings.privacy_epsilon_per_person,
            )
            return "released"
        except TooManyRequests:
            return "429"

    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(attempt, range(200)))
    assert outcomes.count("released") == 10 and outcomes.count("429") == 190
    with transaction(sessions) as session:
        assert len(list(session.scalars(select(Release)))) == 10
        uses = session.scalars(select(TransparencyEntry).where(TransparencyEntry.kind == "release"))
        assert len(list(uses)) == 10


def test_withdrawn_donor_is_absent_from_the_next_release(
    client: TestClient,
    tokens,
    private,  # type: ignore[no-untyped-def]
    sessions,
    settings: Settings,
) -> None:
    headers = bearer(tokens["analyst"])
    first = client.post(URL, json=QUERY, headers=headers).json()
    with transaction(sessions) as session:
        before = eligible_donors(session, dataset_id=DATASET, purpose=RESEARCH, at=utcnow())
        donor = sorted(before)[0]
        consent = session.scalars(
            select(Consent).where(Consent.donor_id == donor, Consent.program_id == f"{DATASET}-ricerca")
        ).one()
    with transaction(sessions, immediate=True) as session:
        withdraw(session, donor_id=donor, consent_id=consent.id, signer=Signer.of(settings))
    second = client.post(URL, json={**QUERY, "epsilon": 0.4}, headers=headers).json()
    with transaction(sessions) as session:
        after = eligible_donors(session, dataset_id=DATASET, purpose=RESEARCH, at=utcnow())
        releases = {r.id: r.donors for r in session.scalars(select(Release))}
    assert before - after == {donor} and len(after) == len(before) - 1
    assert releases[first["release_id"]] == len(before)
    assert releases[second["release_id"]] == len(before) - 1
    # the earlier release stays as it was
    assert client.post(URL, json=QUERY, headers=headers).json()["rows"] == first["rows"]


def test_who_may_ask_what(client: TestClient, tokens, private, catalog_open) -> None:  # type: ignore[no-untyped-def]
    assert client.post(URL, json=QUERY, headers=bearer(tokens["donor"])).status_code == 403
    assert client.post(URL, json=QUERY).status_code == 401
    missing = client.post("/api/v1/datasets/nope/queries", json=QUERY, headers=bearer(tokens["analyst"]))
    assert (missing.status_code, missing.json()["error"]) == (404, "no dataset 'nope'")
    opened = client.post("/api/v1/datasets/aperto/queries", json=QUERY, headers=bearer(tokens["analyst"]))
    assert opened.status_code == 422 and "is open: download it" in opened.json()["error"]
    bad = client.post(URL, json={**QUERY, "group_by": ["donor_id"]}, headers=bearer(tokens["analyst"]))
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"loc": "group_by.0", "msg": "'donor_id' identifies donors: it can never be grouped or filtered on"}
    ]


@pytest.fixture
def catalog_open(sessions):  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        registry.upsert_dataset(
            session, meta=DatasetMeta(id="aperto", title_it="a", title_en="a", publisher="p")
        )


def test_extracts_release_tables_together(client: TestClient, tokens, private) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(tokens["researcher"])
    request = {
        "dataset": DATASET,
        "purpose": RESEARCH,
        "epsilon": 0.6,
        "tables": [
            {"name": "by_sex", "group_by": ["sex"], "measures": [{"op": "count"}]},
            {
                "name": "by_year_age",
                "group_by": ["year", "age_band"],
                "measures": [{"op": "count"}, {"op": "sum", "column": "employed_12m", "bounds": [0, 1]}],
            },
        ],
    }
    created = client.post("/api/v1/extracts", json=request, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["epsilon_spent"], [t["epsilon"] for t in body["tables"]]) == (0.6, [0.3, 0.3])
    assert [len(t["rows"]) for t in body["tables"]] == [2, 15]
    extract_id = body["release_id"]

    meta = client.get(f"/api/v1/extracts/{extract_id}", headers=headers).json()
    assert meta["release_ids"] == [extract_id]
    assert meta["differential_privacy"]["epsilon"] == 0.6
    assert [t["cells"] for t in meta["tables"]] == [2, 15]
    assert [d["format"] for d in meta["distributions"]] == ["PARQUET", "CSV"]
    assert {d["@type"] for d in meta["distributions"]} == {"dcat:Distribution"}

    for fmt in ("parquet", "csv"):
        zipped = client.get(
            f"/api/v1/extracts/{extract_id}/download", params={"format": fmt}, headers=headers
        )
        assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(zipped.content))
        assert sorted(archive.namelist()) == sorted(["by_sex." + fmt, "by_year_age." + fmt, "metadata.json"])
        assert json.loads(archive.read("metadata.json"))["id"] == extract_id
    table = pq.read_table(
        io.BytesIO(
            zipfile.ZipFile(
                io.BytesIO(client.get(f"/api/v1/extracts/{extract_id}/download", headers=headers).content)
            ).read("by_sex.parquet")
        )
    )
    assert table.column_names == [
        "sex",
        "count",
        "count_raw",
        "count_ci_low",
        "count_ci_high",
        "count_unreliable",
    ]

    repeat = client.post("/api/v1/extracts", json=request, headers=headers).json()
    assert (repeat["repeat"], repeat["epsilon_spent"]) == (True, 0.0)
    # analysts may not make extracts; another organisation cannot read this one
    assert client.post("/api/v1/extracts", json=request, headers=bearer(tokens["analyst"])).status_code == 403
    assert client.get(f"/api/v1/extracts/{extract_id}", headers=bearer(tokens["admin"])).status_code == 404
