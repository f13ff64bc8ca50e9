"""A quantile is OpenDP's private quantile, computed in two halves: every cell's quantile scores at once
in Polars (no row handed to OpenDP), then OpenDP's noisy max on each cell's score vector.

``make_private_quantile`` is ``make_quantile_score_candidates >> make_noisy_max(scale * alpha_den,
negate=True) >> candidates[index]``. These tests hold the engine to each half: its scores equal
OpenDP's transformation's exactly, its noisy max composed with that transformation has OpenDP's
privacy map, and its releases are distributed as ``make_private_quantile``'s.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import opendp.prelude as dp
import polars as pl
import pytest

from datacommons.datasets import AccessPolicy
from privacy import mechanisms
from privacy.engine import Plan, exact_cells, plan_query, release_cells
from privacy.frames import RANK
from privacy.measures import QUANTILE_CANDIDATES, Part, Quantile
from privacy.query import Query
from tests.privacy.conftest import SCHEMA
from tests.privacy.test_api import RESEARCH

QS = (0.1, 0.5, 0.9)
LOW, HIGH = -20.0, 100.0
SIZES = (0, 1, 2, 3, 7, 40, 250, 1_000)


def float_domain() -> tuple[dp.Domain, dp.Metric]:
    return dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()


def opendp_private_quantile(candidates: tuple[float, ...], q: float, scale: float) -> dp.Measurement:
    return dp.m.make_private_quantile(
        *float_domain(), dp.max_divergence(), candidates=list(candidates), alpha=q, scale=scale
    )


def quantile_part(q: float, candidates: tuple[float, ...] | None = None) -> Part:
    """The engine's own part for a quantile of ``value`` in [LOW, HIGH] (its candidates, or others)."""
    measure = Quantile(op="quantile", column="value", bounds=(LOW, HIGH), q=q)
    (part,) = measure.parts(0, k=3, cells=1, epsilon=1.0, schema={"value": "double"})
    return part if candidates is None else replace(part, candidates=candidates)


def random_cells(seed: int, candidates: tuple[float, ...]) -> dict[str, list[float | None]]:
    """Cells of many sizes whose values tie on candidates, fall outside the bounds, or are missing."""
    rng = np.random.default_rng(seed)
    cells: dict[str, list[float | None]] = {}
    for i, size in enumerate(SIZES * 3):
        values: list[float | None] = []
        for _ in range(size):
            kind = rng.random()
            if kind < 0.25:
                values.append(float(rng.choice(candidates)))  # a tie on a candidate
            elif kind < 0.32:
                values.append(None)
            elif kind < 0.37:
                values.append(math.nan)
            elif kind < 0.42:
                values.append(float(rng.choice([LOW, HIGH, -0.0, -1e12, 1e12, -math.inf, math.inf])))
            elif kind < 0.55:
                values.append(float(rng.uniform(LOW - 50, HIGH + 50)))  # some outside the bounds
            else:  # bunched, so that several candidates share a score
                values.append(float(rng.normal(30, 3 if i % 2 else 15)))
        cells[f"cell{i:02d}"] = values
    return cells


def frame_of(cells: dict[str, list[float | None]]) -> pl.DataFrame:
    rows = [(cell, v) for cell, values in cells.items() for v in values]
    return pl.DataFrame(
        {
            "cell": [cell for cell, _ in rows],
            "value": [v for _, v in rows],
            RANK: [0] * len(rows),
        },
        schema={"cell": pl.String, "value": pl.Float64, RANK: pl.UInt32},
    )


def as_engine_clamps(values: list[float | None]) -> list[float]:
    """What the engine always handed OpenDP: NaN and missing as the lower bound, then clamped."""
    return [LOW if v is None or math.isnan(v) else min(max(v, LOW), HIGH) for v in values]


POLICY = AccessPolicy(
    privacy_unit="donor_id",
    max_rows_per_unit=3,
    public_dimensions={"cell": []},
    epsilon_total=5.0,
    epsilon_per_organisation=2.0,
    epsilon_per_query=1.0,
)


def plan_of(part: Part, keys: list[str] | None) -> Plan:
    query = Query.model_validate(
        {
            "purpose": RESEARCH,
            "group_by": ["cell"] if keys is not None else [],
            "measures": [{"op": "quantile", "column": "value", "bounds": [LOW, HIGH], "q": part.q}],
            "epsilon": 1.0,
        }
    )
    group_by, cells = (["cell"], [(k,) for k in keys]) if keys is not None else ([], [()])
    return Plan(query=query, group_by=group_by, keys=cells, parts=[part])


#: Candidates off the engine's grid: 0.0 (which -0.0 ties on), close pairs, the bounds themselves.
IRREGULAR = (-20.0, -3.5, 0.0, 1e-9, 7.25, 30.0, 30.5, 99.0, 100.0)


@pytest.mark.parametrize("q", QS)
@pytest.mark.parametrize("grid", ["engine", "irregular"])
def test_the_engine_scores_every_cell_exactly_as_opendp(q: float, grid: str) -> None:
    part = quantile_part(q, None if grid == "engine" else IRREGULAR)
    assert len(part.candidates) == (QUANTILE_CANDIDATES if grid == "engine" else len(IRREGULAR))
    transformation = dp.t.make_quantile_score_candidates(
        *float_domain(), candidates=list(part.candidates), alpha=q
    )
    for seed in range(3):
        cells = random_cells(seed * 10 + QS.index(q), part.candidates)
        # the cells of the plan in another order than the frame's, and one with no row at all
        keys = sorted(cells, reverse=True) + ["nobody"]
        (scores,) = exact_cells(frame_of(cells), plan_of(part, keys), policy=POLICY, eligible=None)
        assert scores.dtype == np.uint64 and scores.shape == (len(keys), len(part.candidates))
        for key, row in zip(keys, scores.tolist(), strict=True):
            assert row == transformation(as_engine_clamps(cells.get(key, []))), key


@pytest.mark.parametrize("q", QS)
def test_a_query_without_groups_is_one_cell_scored_as_opendp(q: float) -> None:
    part = quantile_part(q)
    values = random_cells(99, part.candidates)["cell07"]  # 1,000 values
    (scores,) = exact_cells(frame_of({"all": values}), plan_of(part, None), policy=POLICY, eligible=None)
    transformation = dp.t.make_quantile_score_candidates(
        *float_domain(), candidates=list(part.candidates), alpha=q
    )
    assert scores.tolist() == [transformation(as_engine_clamps(values))]


@pytest.mark.parametrize("q", QS)
def test_the_engine_scores_the_truncated_consenting_rows_as_opendp(
    q: float, frame: pl.DataFrame, policy: AccessPolicy
) -> None:
    """The real path: the test dataset's cells (comune x age band), rows past a donor's third and
    donors left out dropped; OpenDP scores each cell's remaining wages the same."""
    donors = frame["donor_id"].unique().sort().to_list()
    eligible = frozenset(donors[::2])
    query = Query.model_validate(
        {
            "purpose": RESEARCH,
            "group_by": ["comune", "age_band"],
            "measures": [{"op": "quantile", "column": "monthly_wage", "bounds": [0, 2000], "q": q}],
            "epsilon": 1.0,
        }
    )
    plan = plan_query(query, policy=policy, schema=SCHEMA)
    (part,) = plan.parts
    (scores,) = exact_cells(frame, plan, policy=policy, eligible=eligible)
    kept = frame.filter(pl.col(RANK) < 3, pl.col("donor_id").is_in(list(eligible)))
    lists = kept.group_by("comune", "age_band").agg(pl.col("monthly_wage").clip(0, 2000))
    by_cell = {(r["comune"], r["age_band"]): r["monthly_wage"] for r in lists.to_dicts()}
    transformation = dp.t.make_quantile_score_candidates(
        *float_domain(), candidates=list(part.candidates), alpha=q
    )
    assert len(plan.keys) == 200
    for key, row in zip(plan.keys, scores.tolist(), strict=True):
        assert row == transformation(by_cell.get(key, []))


@pytest.mark.parametrize("q", [*QS, 0.25, 1 / 3, 0.999])
def test_the_fraction_of_alpha_is_opendps(q: float) -> None:
    """OpenDP's score_candidates_constants: q itself if its denominator is below 10,000, else
    round(q * 10,000) / 10,000 (unknown size)."""
    num, den = mechanisms.quantile_alpha(q)
    exact = q.as_integer_ratio()
    assert (num, den) == (exact if exact[1] < 10_000 else (round(q * 10_000), 10_000))


@pytest.mark.parametrize("q", QS)
@pytest.mark.parametrize("scale", [0.37, 3.0, 41.0])
def test_noisy_max_on_the_scores_has_opendps_privacy_map(q: float, scale: float) -> None:
    candidates = quantile_part(q).candidates
    chain = mechanisms.quantile_score_transformation(candidates, q) >> mechanisms.quantile_selection(
        candidates, q, scale
    )
    private_quantile = opendp_private_quantile(candidates, q, scale)
    for d_in in (1, 2, 3, 6, 10):
        assert chain.map(d_in) == private_quantile.map(d_in)


@pytest.mark.parametrize("q", QS)
def test_the_calibrated_scale_spends_the_epsilon_asked_on_the_chain(q: float) -> None:
    """quantile_scale searches make_private_quantile itself; the chain the engine runs spends the same."""
    part = quantile_part(q)
    chain = mechanisms.quantile_score_transformation(part.candidates, q) >> mechanisms.quantile_selection(
        part.candidates, q, part.scale
    )
    assert chain.map(3) == opendp_private_quantile(part.candidates, q, part.scale).map(3) <= 1.0
    assert chain.map(3) == pytest.approx(1.0, rel=1e-6)


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The largest gap between the two samples' empirical distribution functions."""
    points = np.union1d(a, b)
    cdf_a = np.searchsorted(np.sort(a), points, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), points, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


DRAWS = 2_000


@pytest.mark.parametrize("q", [0.1, 0.5])
def test_releases_are_distributed_as_opendps_private_quantile(q: float) -> None:
    """2,000 releases of one cell each way. For two samples of 2,000 from one distribution, the
    Kolmogorov-Smirnov distance exceeds 0.1 with probability below 1e-7 (it comes out near 0.02): a
    loose bound that does not flake, yet one that catches the noise scale left unmultiplied by
    alpha_den (a distance near 0.25 at q = 0.5, 0.9 at q = 0.1), checked below too."""
    part = quantile_part(q)
    rng = np.random.default_rng(5)
    values = [float(v) for v in rng.normal(40, 6, 30)] + [part.candidates[50]] * 3 + [None, math.nan]
    scale = 4.0
    (scores,) = exact_cells(frame_of({"c": values}), plan_of(part, ["c"]), policy=POLICY, eligible=None)
    ours = mechanisms.private_quantiles(np.repeat(scores, DRAWS, axis=0), part.candidates, q, scale)
    theirs_measurement = opendp_private_quantile(part.candidates, q, scale)
    clamped = as_engine_clamps(values)
    theirs = np.asarray([theirs_measurement(clamped) for _ in range(DRAWS)])
    assert set(ours) <= set(part.candidates)
    _, counts = np.unique(ours, return_counts=True)
    assert len(counts) >= 4 and counts.max() < 0.8 * DRAWS  # spread over several candidates
    assert ks_distance(ours, theirs) < 0.1
    # the test's power: forgetting OpenDP's multiplication of the scale by alpha_den is caught
    _num, den = mechanisms.quantile_alpha(q)
    wrong = mechanisms.private_quantiles(np.repeat(scores, DRAWS, axis=0), part.candidates, q, scale / den)
    assert ks_distance(wrong, theirs) > 0.15


def test_each_cell_costs_one_noisy_max_over_its_scores_whatever_its_rows(
    frame: pl.DataFrame, policy: AccessPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No row reaches OpenDP: one measurement is built per query and invoked once per cell, on a
    vector as long as the candidates, however many rows the cell holds."""
    invoked: list[tuple[int, ...]] = []
    called: list[int] = []
    real_rows, real_call = mechanisms.invoke_on_rows, dp.Measurement.__call__

    def on_rows(measurement, rows):  # type: ignore[no-untyped-def]
        invoked.append(rows.shape)
        return real_rows(measurement, rows)

    def call(self, arg):  # type: ignore[no-untyped-def]
        called.append(len(arg))
        return real_call(self, arg)

    query = Query.model_validate(
        {
            "purpose": RESEARCH,
            "group_by": ["comune", "age_band"],
            "measures": [{"op": "quantile", "column": "monthly_wage", "bounds": [0, 5000], "q": 0.5}],
            "epsilon": 1.0,
        }
    )
    plan = plan_query(query, policy=policy, schema=SCHEMA)
    mechanisms.quantile_alpha(0.5)  # cached constants, read once off OpenDP's transformation
    monkeypatch.setattr(mechanisms, "invoke_on_rows", on_rows)
    monkeypatch.setattr(dp.Measurement, "__call__", call)
    rows = release_cells(frame, plan, policy=policy, eligible=None)["rows"]
    assert len(rows) == 200 and called == []
    assert sorted(invoked) == [(100, QUANTILE_CANDIDATES)] * 2  # 200 cells, on two threads
    assert all(row["q50_monthly_wage"] in set(np.round(plan.parts[0].candidates, 2)) for row in rows)


def test_the_rows_are_released_by_the_very_calls_a_measurement_makes() -> None:
    """invoke_on_rows makes OpenDP's own C API calls, without the Python conversions: at noise scale 0
    OpenDP's noisy max is the exact lowest score, so both ways give the same index for every row."""
    part = quantile_part(0.5)
    cells = random_cells(3, part.candidates)
    keys = sorted(cells)
    (scores,) = exact_cells(frame_of(cells), plan_of(part, keys), policy=POLICY, eligible=None)
    exact = mechanisms.quantile_selection(part.candidates, 0.5, 0.0)
    assert mechanisms.invoke_on_rows(exact, scores) == [exact(row) for row in scores.tolist()]
    assert mechanisms.invoke_on_rows(exact, scores[:0]) == []


def test_opendps_errors_are_raised_as_opendp_raises_them() -> None:
    measurement = mechanisms.quantile_selection((0.0, 1.0, 2.0), 0.5, 1.0)
    with pytest.raises(dp.OpenDPException, match="candidates set is empty"):
        mechanisms.invoke_on_rows(measurement, np.zeros((2, 0), dtype=np.uint64))
    with pytest.raises(TypeError):
        mechanisms.invoke_on_rows(measurement, np.zeros((2, 3), dtype=np.int64))
    laplace = mechanisms.laplace_measurement(1.0)  # takes Vec<i64>
    with pytest.raises(TypeError, match="Vec<i64>"):
        mechanisms.invoke_on_rows(laplace, np.zeros((2, 3), dtype=np.uint64))
