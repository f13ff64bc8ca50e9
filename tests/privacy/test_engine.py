"""The DP engine: OpenDP's scales, truncation, consent filtering, public keys, and the noise itself."""

from __future__ import annotations

import numpy as np
import opendp.prelude as dp
import polars as pl
import pytest

from datacommons.datasets import AccessPolicy
from datacommons.errors import InvalidInput
from privacy.engine import exact_cells, plan_query, release_cells
from privacy.query import Query, check_query
from tests.privacy.conftest import AGE_BANDS, COMUNI, SCHEMA

dp.enable_features("contrib")


def query(**kw) -> Query:  # type: ignore[no-untyped-def]
    base = {
        "purpose": "dpv:ScientificResearch",
        "group_by": ["comune", "age_band"],
        "measures": [{"op": "count"}],
        "epsilon": 0.5,
    }
    return Query.model_validate({**base, **kw})


def opendp_scales(
    frame: pl.DataFrame,
    aggs: list[pl.Expr],
    epsilon: float,
    k: int,
) -> list[float]:
    """The scales OpenDP's own Polars Context computes for the same query."""
    context = dp.Context.compositor(
        data=frame.lazy(),
        privacy_unit=dp.unit_of(contributions=k),
        privacy_loss=dp.loss_of(epsilon=epsilon),
        split_evenly_over=1,
        margins=[dp.polars.Margin(by=["comune", "age_band"], invariant="keys", max_length=10**8)],
    )
    keys = pl.DataFrame(
        [(c, a) for c in COMUNI for a in AGE_BANDS], schema=["comune", "age_band"], orient="row"
    )
    summary = context.query().group_by(["comune", "age_band"]).agg(aggs).with_keys(keys).summarize()
    return summary["scale"].to_list()


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_noise_scales_are_opendps_own(frame: pl.DataFrame, policy: AccessPolicy) -> None:
    # a mean sums its values around the bounds' midpoint (2,500 EUR = 250,000 cents)
    cents = frame.with_columns(
        ((pl.col("monthly_wage") * 100).round().cast(pl.Int64) - 250_000).alias("wage_c")
    )
    # OpenDP's len() counts rows, as our "rows" measure does ("count" counts persons)
    q = query(
        measures=[
            {"op": "rows"},
            {"op": "sum", "column": "employed_12m", "bounds": [0, 1]},
            {"op": "mean", "column": "monthly_wage", "bounds": [0, 5000]},
        ],
        epsilon=0.6,
    )
    ours = [p.scale * p.unit for p in plan_query(q, policy=policy, schema=SCHEMA).parts]
    theirs = opendp_scales(
        cents,
        [
            dp.len(),
            pl.col("employed_12m").fill_null(0).dp.sum((0, 1)),
            pl.col("wage_c").fill_null(0).dp.sum((-250_000, 250_000)),
        ],
        0.6,
        3,
    )
    # OpenDP reports the fixed-point (cents) column's scale in cents
    theirs[2] /= 100
    assert ours == pytest.approx(theirs, rel=1e-4)
    # 3 statistics share epsilon 0.6: the mean divides by the rows count the query asks for
    assert ours[0] == pytest.approx(3 / 0.2, rel=1e-4)


def test_every_public_cell_is_answered_and_no_other(frame: pl.DataFrame, policy: AccessPolicy) -> None:
    q = query(filters={"age_band": ["25-34", "35-44"]})
    check_query(q, policy=policy, schema=SCHEMA)
    plan = plan_query(q, policy=policy, schema=SCHEMA)
    rows = release_cells(frame, plan, policy=policy, eligible=None)["rows"]
    assert [(r["comune"], r["age_band"]) for r in rows] == [
        (c, a) for c in COMUNI for a in ("25-34", "35-44")
    ]
    assert all(isinstance(r["count"], int) and r["count"] >= 0 for r in rows)
    assert all(r["count_ci"][0] <= r["count"] <= r["count_ci"][1] for r in rows)


def test_contributions_are_truncated_to_the_bound(policy: AccessPolicy) -> None:
    heavy = pl.DataFrame(
        {
            "donor_id": ["D1"] * 10 + ["D2"],
            "comune": [COMUNI[0]] * 11,
            "age_band": ["25-34"] * 11,
            "sex": ["F"] * 11,
            "employed_12m": [1] * 11,
            "monthly_wage": [1000.0] * 11,
            "year": [2024] * 11,
        }
    )
    heavy = heavy.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).over("donor_id").alias("_rank"))
    plan = plan_query(
        query(group_by=[], measures=[{"op": "count"}, {"op": "rows"}]), policy=policy, schema=SCHEMA
    )
    persons, rows = exact_cells(heavy, plan, policy=policy, eligible=None)
    assert (persons.tolist(), rows.tolist()) == ([2], [3 + 1])


def test_count_counts_persons_with_the_sensitivity_that_follows(policy: AccessPolicy) -> None:
    """A person adds at most 1 to a cell's count, in at most min(k, cells) cells (k = 3 here)."""
    many = pl.DataFrame(
        {
            "donor_id": ["D1"] * 3 + ["D2"],
            "comune": [COMUNI[0]] * 4,
            "age_band": ["15-24", "25-34", "25-34", "25-34"],
            "sex": ["F"] * 4,
            "employed_12m": [1] * 4,
            "monthly_wage": [1000.0] * 4,
            "year": [2024] * 4,
        }
    )
    many = many.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).over("donor_id").alias("_rank"))
    plan = plan_query(
        query(group_by=["age_band"], measures=[{"op": "count"}, {"op": "rows"}]), policy=policy, schema=SCHEMA
    )
    persons, rows = exact_cells(many, plan, policy=policy, eligible=None)
    assert (persons.tolist(), rows.tolist()) == ([1, 2, 0, 0, 0], [1, 3, 0, 0, 0])
    assert [(p.kind, p.sensitivity) for p in plan.parts] == [("persons", 3), ("rows", 3)]
    one_cell = plan_query(query(group_by=[], measures=[{"op": "count"}]), policy=policy, schema=SCHEMA)
    two_cells = plan_query(query(group_by=["sex"], measures=[{"op": "count"}]), policy=policy, schema=SCHEMA)
    assert [p.sensitivity for p in one_cell.parts + two_cells.parts] == [1, 2]
    assert one_cell.parts[0].scale == pytest.approx(1 / 0.5, rel=1e-4)


def test_only_eligible_donors_count(frame: pl.DataFrame, policy: AccessPolicy) -> None:
    plan = plan_query(
        query(
            group_by=[],
            measures=[{"op": "count"}, {"op": "sum", "column": "monthly_wage", "bounds": [0, 5000]}],
        ),
        policy=policy,
        schema=SCHEMA,
    )
    donors = frozenset(frame["donor_id"].to_list())
    one = sorted(donors)[0]
    rows_of_one = frame.filter((pl.col("donor_id") == one) & (pl.col("_rank") < 3))
    everyone = exact_cells(frame, plan, policy=policy, eligible=donors)
    without = exact_cells(frame, plan, policy=policy, eligible=donors - {one})
    assert everyone[0][0] - without[0][0] == 1  # one person fewer
    wage_cents = int((rows_of_one["monthly_wage"] * 100).round().sum())
    assert everyone[1][0] - without[1][0] == wage_cents
    assert exact_cells(frame, plan, policy=policy, eligible=frozenset())[0].tolist() == [0]


def test_released_errors_follow_the_claimed_noise(frame: pl.DataFrame, policy: AccessPolicy) -> None:
    """Over many cells, released - exact has the Laplace scale the answer claims."""
    plan = plan_query(query(group_by=["comune", "age_band", "sex"]), policy=policy, schema=SCHEMA)
    (part,) = plan.parts
    exact = exact_cells(frame, plan, policy=policy, eligible=None)[0]
    errors = []
    for _ in range(25):
        from privacy.mechanisms import noisy_integers

        errors.append(noisy_integers(exact, part.scale) - exact)
    err = np.concatenate(errors).astype(float)  # 25 x 400 cells = 10,000 draws
    assert part.scale == pytest.approx(6.0, rel=1e-4)  # k=3, epsilon 0.5
    assert abs(err.mean()) < 0.3
    # a Laplace(b) variable has mean |x| = b and variance 2 b^2 (discrete: within 1% at b = 6)
    assert np.abs(err).mean() == pytest.approx(part.scale, rel=0.05)
    assert err.std() == pytest.approx(np.sqrt(2) * part.scale, rel=0.05)
    inside = np.abs(err) <= part.accuracy(0.05)
    assert inside.mean() == pytest.approx(0.95, abs=0.01)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"group_by": ["nope"]}, "group_by.0: unknown column 'nope'"),
        ({"group_by": ["employed_12m"]}, "group_by.0: 'employed_12m' is not a public dimension"),
        ({"group_by": ["donor_id"]}, "'donor_id' identifies donors"),
        (
            {"measures": [{"op": "mean", "column": "monthly_wage"}]},
            "measures.0: mean of 'monthly_wage' needs bounds [lower, upper]",
        ),
        ({"measures": [{"op": "sum", "column": "sex", "bounds": [0, 1]}]}, "'sex' is not numeric"),
        ({"epsilon": 3.0}, "epsilon: 3.0 is over this dataset's cap of 1.0 per query"),
        ({"filters": {"sex": ["X"]}}, "filters.sex: not in the public key set: X"),
        ({"purpose": "research"}, "purpose: 'research' is not a DPV purpose"),
    ],
)
def test_bad_queries_are_refused_clearly(policy: AccessPolicy, change: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInput, match="invalid query: ") as info:
        check_query(query(**change), policy=policy, schema=SCHEMA)
    assert message in info.value.message


def test_mean_and_quantile_and_histogram(frame: pl.DataFrame, policy: AccessPolicy) -> None:
    q = query(
        group_by=["sex"],
        epsilon=1.0,
        measures=[
            {"op": "mean", "column": "monthly_wage", "bounds": [0, 5000]},
            {"op": "quantile", "column": "monthly_wage", "bounds": [0, 5000], "q": 0.5},
            {"op": "histogram", "column": "employed_12m", "bins": [0, 0.5, 1]},
        ],
    )
    check_query(q, policy=policy, schema=SCHEMA)
    result = release_cells(frame, plan_query(q, policy=policy, schema=SCHEMA), policy=policy, eligible=None)
    exact_mean = (
        frame.filter(pl.col("_rank") < 3)
        .group_by("sex")
        .agg(pl.col("monthly_wage").mean())
        .sort("sex")["monthly_wage"]
        .to_list()
    )
    for row, truth in zip(result["rows"], exact_mean, strict=True):
        assert row["mean_monthly_wage"] == pytest.approx(truth, abs=60)
        assert row["mean_monthly_wage_ci"][0] <= row["mean_monthly_wage"] <= row["mean_monthly_wage_ci"][1]
        assert 0 <= row["q50_monthly_wage"] <= 5000
        assert len(row["hist_employed_12m"]) == 2
    assert [m["name"] for m in result["measures"]] == [
        "mean_monthly_wage",
        "q50_monthly_wage",
        "hist_employed_12m",
    ]
