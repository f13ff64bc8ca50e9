"""Answers as accurate as the budget allows: a centred sum and one shared record count for means,
intervals that are never of zero width where noise was added, unbiased raw values beside the
post-processed ones, repeats that do not depend on alpha or on the order of the question."""

from __future__ import annotations

import numpy as np
import opendp.prelude as dp
import polars as pl
import pytest
from fastapi.testclient import TestClient

from datacommons.datasets import AccessPolicy
from datacommons.errors import InvalidInput
from privacy import mechanisms
from privacy.engine import build_rows, exact_cells, plan_query, release_cells
from privacy.frames import FIXED_POINT
from privacy.query import MAX_CELLS, Query, check_query
from tests.conftest import bearer
from tests.privacy.conftest import SCHEMA
from tests.privacy.test_api import DATASET, RESEARCH, URL

MEAN = {"op": "mean", "column": "monthly_wage", "bounds": [0, 5000]}


def query(**kw) -> Query:  # type: ignore[no-untyped-def]
    base = {"purpose": RESEARCH, "group_by": ["sex"], "measures": [MEAN], "epsilon": 0.5}
    return Query.model_validate({**base, **kw})


def test_a_mean_sums_around_the_midpoint_of_its_bounds(policy: AccessPolicy) -> None:
    (total, count) = plan_query(query(), policy=policy, schema=SCHEMA).parts
    # values in [0, 5000] summed as (value - 2500): a donor moves the sum by at most k * 2500
    assert (total.kind, count.kind) == ("sum", "rows")
    assert total.sensitivity == 3 * 2500 * FIXED_POINT
    assert total.scale == pytest.approx(mechanisms.laplace_scale(3 * 2500 * FIXED_POINT, 0.25))


def test_means_share_the_record_count_the_query_asks_for(policy: AccessPolicy) -> None:
    """rows + two means: three statistics (one count, two sums), not five."""
    second = {"op": "mean", "column": "employed_12m", "bounds": [0, 1]}
    plan = plan_query(query(measures=[{"op": "rows"}, MEAN, second]), policy=policy, schema=SCHEMA)
    assert [p.kind for p in plan.parts] == ["rows", "sum", "sum"]
    assert all(p.epsilon == pytest.approx(0.5 / 3) for p in plan.parts)
    alone = plan_query(query(measures=[MEAN, second]), policy=policy, schema=SCHEMA)
    assert sorted(p.kind for p in alone.parts) == ["rows", "sum", "sum"]


def test_the_mean_is_more_accurate_at_the_same_epsilon(frame: pl.DataFrame, policy: AccessPolicy) -> None:
    """The review's figure: the mean wage per cell at epsilon 0.5, over repeated releases."""
    plan = plan_query(query(group_by=["comune"]), policy=policy, schema=SCHEMA)
    truth = (
        frame.filter(pl.col("_rank") < 3)
        .group_by("comune")
        .agg(pl.col("monthly_wage").mean())
        .sort("comune")["monthly_wage"]
        .to_numpy()
    )
    errors = []
    for _ in range(20):
        rows = release_cells(frame, plan, policy=policy, eligible=None)["rows"]
        errors.append(np.asarray([r["mean_monthly_wage"] for r in rows]) - truth)
    rmse = float(np.sqrt(np.mean(np.concatenate(errors) ** 2)))
    # the plan before (a sum around 0, sensitivity k * 5000) measured 215 EUR on this frame
    assert rmse < 150


def test_a_mean_drowned_in_noise_has_an_honest_interval(policy: AccessPolicy) -> None:
    """The review's row: mean 0, ci [0, 0], 'reliable', while the sum's noise was +-561,700 EUR."""
    plan = plan_query(query(epsilon=0.16), policy=policy, schema=SCHEMA)
    total, count = plan.parts
    half = total.accuracy(0.05) or 0.0
    assert half > 100_000 and (count.accuracy(0.05) or 0.0) < 200  # the count itself is good
    # one cell whose noisy sum came out far below anything its 660 records could hold, one ordinary
    centred = np.asarray([-round((660 * 2500 + 10 * half) * FIXED_POINT), 50 * FIXED_POINT])
    counts = np.asarray([660, 660])
    rows = build_rows(plan, [centred, counts])
    low, high = rows[0]["mean_monthly_wage_ci"]
    assert high > low, rows[0]
    assert rows[0]["mean_monthly_wage_unreliable"] is True
    # the interval is the whole of the bounds or less, never outside them
    assert 0 <= low < high <= 5000


def test_no_released_interval_has_zero_width(frame: pl.DataFrame, policy: AccessPolicy) -> None:
    q = query(
        group_by=["comune", "age_band", "sex"],
        epsilon=0.05,
        measures=[
            {"op": "count"},
            {"op": "rows"},
            {"op": "sum", "column": "monthly_wage", "bounds": [0, 5000]},
            MEAN,
        ],
    )
    rows = release_cells(frame, plan_query(q, policy=policy, schema=SCHEMA), policy=policy, eligible=None)[
        "rows"
    ]
    for row in rows:
        for name in ("count", "rows", "sum_monthly_wage", "mean_monthly_wage"):
            low, high = row[f"{name}_ci"]
            assert high > low, (name, row)


def test_raw_values_are_unbiased_and_published_beside_the_rounded_ones(
    frame: pl.DataFrame, policy: AccessPolicy
) -> None:
    """Over 400 small cells (about 15 persons each, many with 0 after clamping), the raw values sum to
    the truth within the noise; the post-processed ones (non-negative) overshoot."""
    q = query(group_by=["comune", "age_band", "sex"], epsilon=0.05, measures=[{"op": "count"}])
    plan = plan_query(q, policy=policy, schema=SCHEMA)
    exact = exact_cells(frame, plan, policy=policy, eligible=None)[0]
    rows = release_cells(frame, plan, policy=policy, eligible=None)["rows"]
    raw = np.asarray([r["count_raw"] for r in rows], dtype=float)
    rounded = np.asarray([r["count"] for r in rows], dtype=float)
    assert (rounded >= 0).all() and (raw < 0).any()
    # sd of the sum of 400 independent draws: sqrt(400 * 2) * scale
    spread = np.sqrt(len(rows) * 2) * plan.parts[0].scale
    assert abs(raw.sum() - exact.sum()) < 4 * spread
    assert rounded.sum() - exact.sum() > abs(raw.sum() - exact.sum())


def test_histogram_bins_count_towards_the_cell_cap(policy: AccessPolicy) -> None:
    bins = list(range(0, 101))  # 100 bins
    q = query(
        group_by=["comune", "age_band", "sex", "year"],  # 40 x 5 x 2 x 3 = 1,200 cells
        measures=[{"op": "histogram", "column": "monthly_wage", "bins": bins}],
    )
    with pytest.raises(InvalidInput) as refused:
        check_query(q, policy=policy, schema=SCHEMA)
    assert (
        f"1200 cells x 100 bins = 120000 noisy values is more than the {MAX_CELLS}" in refused.value.message
    )


def test_a_quantile_builds_its_opendp_measurement_once_per_query(
    frame: pl.DataFrame, policy: AccessPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-cell work is OpenDP's noisy max on each cell's quantile scores: built once per query
    (not once per cell), and make_private_quantile itself, which takes rows, is not invoked."""
    built: dict[str, int] = {"make_noisy_max": 0, "make_private_quantile": 0}
    for name in built:
        real = getattr(dp.m, name)

        def counting(*args, _name=name, _real=real, **kwargs):  # type: ignore[no-untyped-def]
            built[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(dp.m, name, counting)
    q = query(
        group_by=["comune", "age_band"],
        measures=[{"op": "quantile", "column": "monthly_wage", "bounds": [0, 5000], "q": 0.5}],
    )
    plan = plan_query(q, policy=policy, schema=SCHEMA)  # the scale's search builds its own
    built.update(make_noisy_max=0, make_private_quantile=0)
    rows = release_cells(frame, plan, policy=policy, eligible=None)["rows"]
    assert len(rows) == 200 and built == {"make_noisy_max": 1, "make_private_quantile": 0}


def test_the_same_question_at_another_alpha_or_order_is_a_repeat(
    client: TestClient,
    tokens,
    private,  # type: ignore[no-untyped-def]
) -> None:
    headers = bearer(tokens["analyst"])
    body = {
        "purpose": RESEARCH,
        "group_by": ["sex", "age_band"],
        "filters": {"year": ["2023", "2022"]},
        "measures": [{"op": "count"}, MEAN],
        "epsilon": 0.4,
    }
    first = client.post(URL, json=body, headers=headers).json()
    assert (first["repeat"], first["epsilon_spent"]) == (False, 0.4)
    reordered = {**body, "group_by": ["age_band", "sex"], "filters": {"year": ["2022", "2023"]}}
    again = client.post(URL, json={**reordered, "alpha": 0.01}, headers=headers).json()
    assert (again["repeat"], again["epsilon_spent"], again["release_id"]) == (True, 0.0, first["release_id"])
    assert again["budget"]["organisation"]["spent"] == 0.4
    # the same noisy values, with intervals at the alpha asked: wider at 99% than at 95%
    assert again["alpha"] == 0.01
    by_key = {(r["sex"], r["age_band"]): r for r in first["rows"]}
    for row in again["rows"]:
        before = by_key[(row["sex"], row["age_band"])]
        assert row["count_raw"] == before["count_raw"] and row["count"] == before["count"]
        low, high = row["count_ci"]
        assert low <= before["count_ci"][0] and high >= before["count_ci"][1]
        assert high - low > before["count_ci"][1] - before["count_ci"][0]
    part = next(m for m in again["measures"] if m["name"] == "count")["parts"][0]
    assert part["ci_halfwidth"] == pytest.approx(mechanisms.accuracy(part["scale"], 0.01))


def test_an_extract_carries_raw_values_and_names_its_mechanisms(
    client: TestClient,
    tokens,
    private,  # type: ignore[no-untyped-def]
) -> None:
    headers = bearer(tokens["researcher"])
    request = {
        "dataset": DATASET,
        "purpose": RESEARCH,
        "epsilon": 0.6,
        "tables": [
            {"name": "by_sex", "group_by": ["sex"], "measures": [{"op": "count"}]},
            {
                "name": "median_by_age",
                "group_by": ["age_band"],
                "measures": [{"op": "quantile", "column": "monthly_wage", "bounds": [0, 5000], "q": 0.5}],
            },
        ],
    }
    created = client.post("/api/v1/extracts", json=request, headers=headers)
    assert created.status_code == 201, created.text
    rows = created.json()["tables"][0]["rows"]
    assert all(isinstance(r["count_raw"], int) for r in rows)
    meta = client.get(f"/api/v1/extracts/{created.json()['release_id']}", headers=headers).json()
    mechanism = meta["differential_privacy"]["mechanism"]
    assert "discrete Laplace" in mechanism and "private quantile" in mechanism


def test_intervals_cover_the_truth_as_often_as_they_say(frame: pl.DataFrame, policy: AccessPolicy) -> None:
    """Over 30 releases of 40 cells, the 95% intervals of the mean and of the record count hold the
    exact value about 95% of the time: neither overstated nor understated."""
    plan = plan_query(
        query(group_by=["comune"], measures=[{"op": "rows"}, MEAN]), policy=policy, schema=SCHEMA
    )
    kept = frame.filter(pl.col("_rank") < 3).group_by("comune").agg(pl.len(), pl.col("monthly_wage").mean())
    truth = {r["comune"]: r for r in kept.to_dicts()}
    hits = {"rows": 0, "mean_monthly_wage": 0}
    total = 0
    for _ in range(30):
        for row in release_cells(frame, plan, policy=policy, eligible=None)["rows"]:
            exact = truth[row["comune"]]
            total += 1
            hits["rows"] += row["rows_ci"][0] <= exact["len"] <= row["rows_ci"][1]
            low, high = row["mean_monthly_wage_ci"]
            hits["mean_monthly_wage"] += low <= exact["monthly_wage"] <= high
    assert hits["mean_monthly_wage"] / total == pytest.approx(0.95, abs=0.03)
    assert hits["rows"] / total == pytest.approx(0.95, abs=0.03)
