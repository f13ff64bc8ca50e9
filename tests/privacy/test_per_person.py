"""Every donor's privacy loss is bounded for life, across every dataset, version and release.

Each release charges its epsilon to every donor it includes; a donor whose loss would pass the
per-person cap is left out before aggregation, and nothing computed from their records is released.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from consent import privacy_loss
from consent.demo import seed_consent
from consent.eligibility import eligible_donors
from consent.models import LossMember, LossNode
from datacommons import auth
from datacommons.auth import Principal
from datacommons.config import Settings
from datacommons.db import transaction, utcnow
from datacommons.errors import InvalidInput, TooManyRequests
from datacommons.storage import ParquetStore
from privacy import service
from privacy.engine import exact_cells, plan_query
from privacy.frames import RANK
from privacy.models import Release
from privacy.query import Query
from tests.conftest import bearer
from tests.privacy.test_api import (
    DATASET,
    QUERY,
    RESEARCH,
    URL,
    distinct_question,
    make_frame,
    publish_private,
)

CAP = 1.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"privacy_epsilon_per_person": CAP})


def donor_token(sessions, donor_id: str) -> str:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        _, clear = auth.create_token(session, role="donor", name=donor_id, donor_id=donor_id)
    return clear


def eligible(sessions) -> frozenset[str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return eligible_donors(session, dataset_id=DATASET, purpose=RESEARCH, at=utcnow())


def by_year(year: str, epsilon: float = 0.5) -> dict:  # type: ignore[type-arg]
    return {**QUERY, "filters": {"year": [year]}, "epsilon": epsilon}


def test_a_donor_sees_the_loss_of_each_release_that_included_them(  # type: ignore[no-untyped-def]
    client: TestClient, tokens, sessions, settings: Settings
) -> None:
    donors = publish_private(sessions, settings)
    included = sorted(eligible(sessions))
    left_aside = sorted(set(donors) - set(included))  # registered, but no research consent
    assert included and left_aside
    ids = []
    for year in ("2022", "2023"):
        answer = client.post(URL, json=by_year(year), headers=bearer(tokens["analyst"]))
        assert answer.status_code == 200
        assert answer.json()["coverage"] == {"epsilon_per_person": CAP, "rule": service.coverage(CAP)["rule"]}
        ids.append(answer.json()["release_id"])
    me = client.get("/api/v1/donors/me", headers=bearer(donor_token(sessions, included[0])))
    assert me.status_code == 200
    loss = me.json()["privacy_loss"]
    at = [r.pop("at") for r in loss["recent"]]
    assert at == sorted(at, reverse=True)
    # each points at its release's leaf in the public log (the proofs come with /donors/me/uses)
    leaves = [r.pop("log_index") for r in loss["recent"]]
    assert len(set(leaves)) == 2 and all(isinstance(i, int) for i in leaves)
    for r in loss["recent"]:
        r.pop("tree_size", None), r.pop("inclusion_proof", None)
    assert loss == {
        "epsilon_spent": 1.0,
        "epsilon_cap": CAP,
        "epsilon_remaining": 0.0,
        "releases": 2,
        "recent": [
            {
                "release_id": release_id,
                "kind": "release",
                "dataset": DATASET,
                "version": 1,
                "organisation": "org-analyst",
                "purpose": RESEARCH,
                "purpose_label_it": "Ricerca scientifica",
                "purpose_label_en": "Scientific research",
                "epsilon": 0.5,
            }
            for release_id in reversed(ids)
        ],
    }
    # a repeat spends nothing, on the organisation or on any donor
    assert client.post(URL, json=by_year("2022"), headers=bearer(tokens["analyst"])).json()["repeat"]
    other = client.get("/api/v1/donors/me", headers=bearer(donor_token(sessions, left_aside[0])))
    assert other.json()["privacy_loss"] == {
        "epsilon_spent": 0.0,
        "epsilon_cap": CAP,
        "epsilon_remaining": CAP,
        "releases": 0,
        "recent": [],
    }
    second = bearer(donor_token(sessions, included[1]))
    export = client.get("/api/v1/donors/me/export", headers=second).json()
    assert [r["release_id"] for r in export["privacy_loss"]["recent"]] == list(reversed(ids))
    assert [r["release_id"] for r in export["uses"]] == list(reversed(ids))
    uses = client.get("/api/v1/donors/me/uses", headers=second).json()
    assert (uses["count"], [u["release_id"] for u in uses["data"]]) == (2, list(reversed(ids)))
    # a donor left aside sees no use at all, though uses of the dataset were made
    aside = client.get("/api/v1/donors/me/uses", headers=bearer(donor_token(sessions, left_aside[1])))
    assert aside.json() == {"data": [], "count": 0}


def test_donors_at_the_cap_are_absent_from_the_next_release(  # type: ignore[no-untyped-def]
    client: TestClient, tokens, sessions, settings: Settings
) -> None:
    frame = make_frame(n_rows=6000, n_donors=2500).drop(RANK)
    latecomers = frozenset(sorted(set(frame["donor_id"].to_list()))[:300])
    donors = publish_private(sessions, settings, hold_out=latecomers)
    early = eligible(sessions)
    for year in ("2022", "2023"):  # the early donors reach the cap of 1.0
        assert client.post(URL, json=by_year(year), headers=bearer(tokens["analyst"])).status_code == 200
    with transaction(sessions, immediate=True) as session:
        seed_consent(
            session,
            dataset_id=DATASET,
            donor_ids=sorted(latecomers),
            organisation="Coop B",
            settings=settings,
        )
    now_eligible = eligible(sessions)
    late = now_eligible - early
    assert late and late <= latecomers and early <= now_eligible

    third = client.post(URL, json=by_year("2024"), headers=bearer(tokens["researcher"]))
    assert third.status_code == 200
    with sessions() as session:
        release = session.get(Release, third.json()["release_id"])
        assert release is not None and release.donors == len(late)
        members = dict(session.execute(select(LossMember.donor_id, LossMember.group_id)).all())
        spent = {d: privacy_loss.history(session, d)[0] for d in sorted(early)[:50]}
        spent.update({d: privacy_loss.history(session, d)[0] for d in sorted(late)[:50]})
    assert {spent[d] for d in spent if d in early} == {1.0}
    assert {spent[d] for d in spent if d in late} == {0.5}
    assert set(members) == now_eligible  # every included donor, once
    assert donors  # the held-out donors were in the data from the start


def test_an_exhausted_donors_records_change_nothing_in_a_release(  # type: ignore[no-untyped-def]
    client: TestClient, tokens, sessions, settings: Settings
) -> None:
    """One-donor difference: the release is computed identically whether or not the records of a
    donor with no budget left are in the data (so the noise, OpenDP's, is drawn from the same
    distribution around the same values)."""
    frame = make_frame(n_rows=6000, n_donors=2500).drop(RANK)
    latecomers = frozenset(sorted(set(frame["donor_id"].to_list()))[:300])
    publish_private(sessions, settings, hold_out=latecomers)
    exhausted = sorted(eligible(sessions))[0]
    for year in ("2022", "2023"):
        client.post(URL, json=by_year(year), headers=bearer(tokens["analyst"]))
    with transaction(sessions, immediate=True) as session:
        seed_consent(
            session,
            dataset_id=DATASET,
            donor_ids=sorted(latecomers),
            organisation="Coop B",
            settings=settings,
        )
    with sessions() as session:
        everyone = eligible_donors(session, dataset_id=DATASET, purpose=RESEARCH, at=utcnow())
        chosen = privacy_loss.inclusion(session, donors=everyone, epsilon=0.5, cap=CAP)
        tgt = service.target(session, DATASET)
    assert exhausted in everyone and exhausted not in chosen.donors
    ranked = frame.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).over("donor_id").alias(RANK))
    without = ranked.filter(pl.col("donor_id") != exhausted)
    assert without.height < ranked.height
    query = Query.model_validate(
        {
            **by_year("2024"),
            "measures": [
                {"op": "count"},
                {"op": "rows"},
                {"op": "mean", "column": "monthly_wage", "bounds": [0, 5000]},
                {"op": "quantile", "column": "monthly_wage", "bounds": [0, 5000], "q": 0.5},
            ],
        }
    )
    plan = plan_query(query, policy=tgt.policy, schema=tgt.schema)
    with_records = exact_cells(ranked, plan, policy=tgt.policy, eligible=chosen.donors)
    without_records = exact_cells(without, plan, policy=tgt.policy, eligible=chosen.donors)
    for a, b in zip(with_records, without_records, strict=True):
        assert a.tolist() == b.tolist()  # a quantile's: every cell's scores
    answer = client.post(URL, json=query.model_dump(mode="json"), headers=bearer(tokens["researcher"])).json()
    # nothing in the answer speaks of who was left out: the same keys as any answer
    assert set(answer) == {
        "release_id",
        "dataset",
        "version",
        "purpose",
        "program",
        "epsilon",
        "epsilon_spent",
        "alpha",
        "repeat",
        "group_by",
        "measures",
        "rows",
        "created_at",
        "budget",
        "coverage",
    }


def test_a_new_dataset_does_not_restore_a_donors_budget(  # type: ignore[no-untyped-def]
    client: TestClient, tokens, sessions, settings: Settings
) -> None:
    """Loading the same donors under another dataset id: their lifetime loss follows them."""
    publish_private(sessions, settings)
    someone = sorted(eligible(sessions))[0]
    for year in ("2022", "2023"):
        client.post(URL, json=by_year(year), headers=bearer(tokens["analyst"]))
    with sessions() as session:
        assert privacy_loss.history(session, someone)[:2] == (1.0, 2)
        everyone = eligible_donors(session, dataset_id=DATASET, purpose=RESEARCH, at=utcnow())
        # whatever dataset the next release is on, these donors have no budget left
        assert privacy_loss.inclusion(session, donors=everyone, epsilon=0.01, cap=CAP).donors == (frozenset())


def test_an_epsilon_over_the_cap_is_refused(
    client: TestClient,
    tokens,
    sessions,  # type: ignore[no-untyped-def]
    settings: Settings,
) -> None:
    publish_private(sessions, settings)
    with sessions() as session:
        token = auth.authenticate(session, tokens["analyst"])
    store = ParquetStore(settings.store_dir)
    with pytest.raises(InvalidInput) as refused:
        service.release(
            sessions,
            store=store,
            dataset_id=DATASET,
            query=Query.model_validate({**QUERY, "epsilon": 0.5}),
            principal=token,
            epsilon_per_person=0.4,
        )
    assert refused.value.message == (
        "invalid query: epsilon: 0.5 is over each donor's lifetime cap of 0.4: no donor could be included"
    )
    with sessions() as session:
        assert session.scalars(select(Release)).first() is None


def test_concurrent_releases_never_overspend_any_person(sessions, settings: Settings, app) -> None:  # type: ignore[no-untyped-def]
    """200 concurrent releases of 0.1 from many organisations: nobody is charged past the cap."""
    publish_private(sessions, settings, total=100.0, per_org=100.0, n_rows=2000, n_donors=900)
    callers = []
    with transaction(sessions) as session:
        for n in range(8):
            org = auth.get_or_create_organisation(session, f"Coop {n}")
            token, _ = auth.create_token(session, role="analyst", name=f"c{n}", organisation=org)
            callers.append(Principal(token.id, "analyst", f"c{n}", org.id, None))
    store = ParquetStore(settings.store_dir)

    def attempt(i: int) -> str:
        query = Query.model_validate({**distinct_question(i), "epsilon": 0.1})
        try:
            service.release(
                sessions,
                store=store,
                dataset_id=DATASET,
                query=query,
                principal=callers[i % len(callers)],
                epsilon_per_person=CAP,
            )
            return "released"
        except TooManyRequests:
            return "429"

    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(attempt, range(200)))
    assert outcomes.count("released") == 200  # budgets allow them all: only donors run out
    with sessions() as session:
        releases = list(session.scalars(select(Release)))
        included = [r.donors for r in releases]
        nodes = list(session.scalars(select(LossNode)))
        everyone = eligible_donors(session, dataset_id=DATASET, purpose=RESEARCH, at=utcnow())
        losses = {d: privacy_loss.history(session, d) for d in sorted(everyone)}
    assert len(releases) == 200
    assert {spent for spent, _n, _r in losses.values()} == {CAP}  # nano-epsilon amounts: exact
    assert {n for _s, n, _r in losses.values()} == {10}  # ten releases of 0.1, then left out
    assert sorted(included, reverse=True)[:10] == [len(everyone)] * 10
    assert sorted(included)[:190] == [0] * 190
    assert max(node.spent_nano for node in nodes) <= privacy_loss.to_nano(CAP)


def test_the_donor_portal_and_the_query_builder_say_it_in_words(  # type: ignore[no-untyped-def]
    client: TestClient, tokens, sessions, settings: Settings
) -> None:
    from tests.catalog.test_pages import sign_in

    publish_private(sessions, settings)
    someone = sorted(eligible(sessions))[0]
    for year in ("2022", "2023", "2024"):
        client.post(URL, json=by_year(year, 0.25), headers=bearer(tokens["analyst"]))
    sign_in(client, donor_token(sessions, someone))
    italian = client.get("/donor", params={"lang": "it"}).text
    assert "I tuoi dati sono stati inclusi in 3 risposte; perdita di privacy ε 0,75 su 1." in italian
    english = client.get("/donor", params={"lang": "en"}).text
    assert "Your data were included in 3 answers; privacy loss ε 0.75 of 1." in english
    table = english.split('<table id="uses">', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 4  # the header and the three releases
    assert "Scientific research" in table and "org-analyst" in table and "0.25" in table
    sign_in(client, tokens["analyst"])
    builder = client.get(f"/query/{DATASET}", params={"lang": "en"}).text
    assert "Number of people" in builder and "Number of records" in builder
