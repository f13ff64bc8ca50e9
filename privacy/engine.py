"""The DP engine: plan a query (budget split, sensitivities, OpenDP noise scales), aggregate exactly
with Polars over the consenting donors' truncated rows, then release with OpenDP noise.

Every cell of the answer is a combination of public keys from the dataset's policy, whether or not any
row falls in it, so the set of keys released never depends on the private data.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl

from datacommons.datasets import AccessPolicy
from datacommons.errors import InvalidInput
from privacy import mechanisms
from privacy.frames import RANK, UNIT_ID, eligible_series, fixed_point
from privacy.measures import Part, rows_part
from privacy.query import Query

#: The measure index of the record count that means share when no ``rows`` measure gives it.
SHARED = -1


@dataclass(frozen=True)
class Plan:
    """How a query will be answered: its cells and noisy parts."""

    query: Query
    group_by: list[str]
    keys: list[tuple[str, ...]]
    parts: list[Part]

    @property
    def epsilon(self) -> float:
        return sum(p.epsilon for p in self.parts)

    def own_parts(self, index: int) -> list[Part]:
        """The parts measure ``index`` released itself."""
        return [p for p in self.parts if p.measure == index]

    def records(self) -> list[Part]:
        """The one noisy record count the means divide by (a ``rows`` measure's, or the shared one)."""
        return [p for p in self.parts if p.kind == "rows"][:1] if self.needs_records else []

    @property
    def needs_records(self) -> bool:
        return any(m.needs_records for m in self.query.measures)


def plan_query(query: Query, *, policy: AccessPolicy, schema: dict[str, str]) -> Plan:
    """Split the query's epsilon evenly over its noisy statistics and find each one's noise scale.

    Every measure is one statistic; means divide by one noisy record count, shared by all of them and
    by a ``rows`` measure if the query asks for one (else released once more, as measure -1). The
    query must already have passed :func:`privacy.query.check_query`.
    """
    k = policy.max_rows_per_unit
    key_sets = [query.filters.get(c) or policy.public_dimensions[c] for c in query.group_by]
    keys: list[tuple[str, ...]] = list(itertools.product(*key_sets)) if query.group_by else [()]
    if len(set(keys)) != len(keys) or len(set(query.group_by)) != len(query.group_by):
        # Never reached after check_query; kept so no caller can ever buy two noisy copies of a cell.
        raise InvalidInput("invalid query: the same cell would be answered twice")
    shared = any(m.needs_records for m in query.measures) and not any(m.gives_records for m in query.measures)
    per_part = query.epsilon / (len(query.measures) + shared)  # one noisy statistic per measure
    parts: list[Part] = []
    for index, measure in enumerate(query.measures):
        parts += measure.parts(index, k=k, cells=len(keys), epsilon=per_part, schema=schema)
    if shared:
        parts.append(rows_part(SHARED, k=k, epsilon=per_part))
    return Plan(query=query, group_by=list(query.group_by), keys=keys, parts=parts)


def _selected(
    frame: pl.DataFrame, plan: Plan, *, policy: AccessPolicy, eligible: frozenset[str] | None
) -> pl.LazyFrame:
    lazy = frame.lazy().filter(pl.col(RANK) < policy.max_rows_per_unit)
    if eligible is not None:
        lazy = lazy.filter(pl.col(policy.privacy_unit).is_in(eligible_series(eligible).implode()))
    for column, values in plan.query.filters.items():
        lazy = lazy.filter(_as_string(frame, column).is_in(values))
    return lazy


def _as_string(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A public dimension as text, the form of its public keys (no cast when it is text already)."""
    return pl.col(column) if frame.schema[column] == pl.String else pl.col(column).cast(pl.String)


def _fixed_point_sum(frame: pl.DataFrame, part: Part) -> pl.Expr:
    """The exact sum, in integer units, of the part's column clamped to the part's bounds.

    Floats are summed in fixed point: each value rounded to ``1 / FIXED_POINT`` (the loaded frame
    holds that integer form already), then clamped to the bounds widened to whole units, which is
    what the sensitivity was computed on. A centred part sums each value less its centre.
    """
    total = _clamped_sum(frame, part)
    return total - pl.len().cast(pl.Int64) * part.centre if part.centre else total


def _clamped_sum(frame: pl.DataFrame, part: Part) -> pl.Expr:
    assert part.column is not None
    factor = round(1 / part.unit)
    low, high = math.floor(part.low * factor), math.ceil(part.high * factor)
    if factor == 1:
        values = _number(part.column).fill_null(0).clip(low, high).round()
        return values.cast(pl.Int64).sum()
    name = fixed_point(part.column)
    if name in frame.columns:
        return pl.col(name).fill_null(0).clip(low, high).sum()
    scaled = (_number(part.column) * factor).round().cast(pl.Int64)
    return scaled.fill_null(0).clip(low, high).sum()


def _number(column: str) -> pl.Expr:
    """A numeric column as floats, NaN as null.

    A NaN would make the integer cast fail, and a failure that depends on whether some donor's
    value is NaN would be a free oracle (nothing is spent on a failed query): NaN counts as missing.
    """
    return pl.col(column).cast(pl.Float64).fill_nan(None)


def exact_cells(
    frame: pl.DataFrame, plan: Plan, *, policy: AccessPolicy, eligible: frozenset[str] | None
) -> list[np.ndarray]:
    """The exact value of every part in every cell (integer units), before any noise.

    Returns, per part, an int64 array over the plan's cells; histograms give a (cells, bins) array and
    quantiles a (cells, candidates) uint64 array of OpenDP's quantile scores (:func:`_quantile_scores`).
    """
    lazy = _selected(frame, plan, policy=policy, eligible=eligible)
    by = [_as_string(frame, c) for c in plan.group_by]
    aggs: list[pl.Expr] = []
    quantiles: list[pl.LazyFrame] = []
    for i, part in enumerate(plan.parts):
        name = f"p{i}"
        if part.kind == "persons":
            unit = UNIT_ID if UNIT_ID in frame.columns else policy.privacy_unit
            aggs.append(pl.col(unit).n_unique().cast(pl.Int64).alias(name))
        elif part.kind == "rows":
            aggs.append(pl.len().cast(pl.Int64).alias(name))
        elif part.kind == "sum":
            aggs.append(_fixed_point_sum(frame, part).alias(name))
        elif part.kind == "histogram":
            assert part.column is not None
            edges = list(part.candidates)
            value = _number(part.column).clip(edges[0], edges[-1])
            for b in range(len(edges) - 1):
                upper = value <= edges[b + 1] if b == len(edges) - 2 else value < edges[b + 1]
                aggs.append(((value >= edges[b]) & upper).sum().cast(pl.Int64).alias(f"{name}_{b}"))
        else:
            quantiles.append(_quantile_counts(lazy, by, part))
    if not aggs:
        main = None
    elif plan.group_by:
        main = lazy.group_by(by).agg(aggs)
    else:
        main = lazy.select(aggs)
    # one collect: the rows are selected once for the aggregates and the quantiles' counts
    collected = pl.collect_all(([main] if main is not None else []) + quantiles)
    counts = iter(collected[1:] if main is not None else collected)
    keys = _keys_frame(plan)
    cells = pl.DataFrame()
    if main is not None:
        grouped = collected[0]
        if plan.group_by:
            cells = keys.join(grouped, on=plan.group_by, how="left", nulls_equal=False, maintain_order="left")
        else:
            cells = grouped
    out: list[np.ndarray] = []
    for i, part in enumerate(plan.parts):
        name = f"p{i}"
        if part.kind == "histogram":
            cols = [f"{name}_{b}" for b in range(len(part.candidates) - 1)]
            out.append(cells.select(cols).fill_null(0).to_numpy().astype(np.int64))
        elif part.kind == "quantile":
            out.append(_quantile_scores(next(counts), keys, plan, part))
        else:
            out.append(cells[name].fill_null(0).to_numpy().astype(np.int64))
    return out


def _keys_frame(plan: Plan) -> pl.DataFrame:
    """The plan's cells, one row each in the plan's order (no columns without a group-by)."""
    if not plan.group_by:
        return pl.DataFrame()
    return pl.DataFrame(
        [list(col) for col in zip(*plan.keys, strict=True)], schema=plan.group_by, orient="col"
    )


#: Per quantile count: a value's number of candidates below it, and at or below it.
_BELOW, _AT_MOST, _CELL = "_candidates_below", "_candidates_at_most", "_cell"


def _quantile_counts(lazy: pl.LazyFrame, by: list[pl.Expr], part: Part) -> pl.LazyFrame:
    """How many of each cell's values have each number of candidates below them (and at or below).

    Each value is clamped as a quantile's values always were (missing and NaN as the lower bound).
    Candidate ``c_j`` then has ``#(x < c_j)`` values below it: those with at most ``j`` candidates at
    or below them, and ``#(x <= c_j)`` values at or below it: those with at most ``j`` candidates
    below them. One row per cell and pair of numbers: at most (candidates + 1) x 2 per cell.
    """
    assert part.column is not None
    values = _number(part.column).fill_null(part.low).clip(part.low, part.high)
    candidates = pl.lit(pl.Series(_ordered(part), dtype=pl.Float64))
    positions = [
        candidates.search_sorted(values, side="left").alias(_BELOW),
        candidates.search_sorted(values, side="right").alias(_AT_MOST),
    ]
    return lazy.group_by([*by, *positions]).agg(pl.len().alias("n"))


def _ordered(part: Part) -> tuple[float, ...]:
    """A quantile's candidates in increasing order (OpenDP's private quantile sorts them too)."""
    return tuple(sorted(part.candidates))


def _quantile_scores(counts: pl.DataFrame, keys: pl.DataFrame, plan: Plan, part: Part) -> np.ndarray:
    """Every cell's OpenDP quantile scores (cells x candidates), from :func:`_quantile_counts`.

    Per-cell work only (no row is looked at again): histograms of the two positions, their running
    sums over the candidates, and OpenDP's score formula (:func:`mechanisms.quantile_scores`).
    """
    width = len(part.candidates) + 1
    if plan.group_by:
        counts = counts.join(keys.with_row_index(_CELL), on=plan.group_by, how="inner", nulls_equal=False)
        cell = counts[_CELL].to_numpy().astype(np.int64)
    else:
        cell = np.zeros(counts.height, dtype=np.int64)
    n = counts["n"].to_numpy().astype(np.uint64)
    # hist_lo[i, j]: values of cell i with j candidates below them, hist_ro: with j at or below them
    hist_lo = np.zeros((len(plan.keys), width), dtype=np.uint64)
    hist_ro = np.zeros((len(plan.keys), width), dtype=np.uint64)
    np.add.at(hist_lo, (cell, counts[_BELOW].to_numpy().astype(np.int64)), n)
    np.add.at(hist_ro, (cell, counts[_AT_MOST].to_numpy().astype(np.int64)), n)
    below = np.cumsum(hist_ro, axis=1, dtype=np.uint64)[:, :-1]
    at_most = np.cumsum(hist_lo, axis=1, dtype=np.uint64)[:, :-1]
    return mechanisms.quantile_scores(below, at_most, hist_lo.sum(axis=1, dtype=np.uint64), part.q)


def _quantiles(part: Part, scores: np.ndarray) -> np.ndarray:
    """OpenDP's private quantile of each cell, from its scores."""
    return mechanisms.private_quantiles(scores, _ordered(part), part.q, part.scale)


def _shape(plan: Plan, part: Part) -> tuple[int, ...]:
    """The shape of a part's exact values: one per cell, or cells x bins for a histogram."""
    cells = len(plan.keys)
    return (cells, len(part.candidates) - 1) if part.kind == "histogram" else (cells,)


def release_cells(
    frame: pl.DataFrame, plan: Plan, *, policy: AccessPolicy, eligible: frozenset[str] | None
) -> dict[str, Any]:
    """Answer the query: exact aggregates, OpenDP noise, post-processing into answer rows."""
    integer = [i for i, part in enumerate(plan.parts) if part.kind != "quantile"]
    noise = mechanisms.draw_noise(
        [(_shape(plan, plan.parts[i]), plan.parts[i].scale) for i in integer]
    )  # drawn while the data is aggregated
    exact = exact_cells(frame, plan, policy=policy, eligible=eligible)
    drawn = dict(zip(integer, noise.wait(), strict=True))
    noisy = [
        _quantiles(part, values) if part.kind == "quantile" else np.asarray(values, dtype=np.int64) + drawn[i]
        for i, (part, values) in enumerate(zip(plan.parts, exact, strict=True))
    ]
    return {"rows": build_rows(plan, noisy), "measures": describe(plan), "noisy": stored_noise(plan, noisy)}


def stored_noise(plan: Plan, noisy: list[np.ndarray]) -> list[dict[str, Any]]:
    """The raw noisy value of every part with the scale and sensitivity it was drawn at: what a
    release keeps so its intervals can be stated again at another confidence level."""
    return [
        {"scale": p.scale, "sensitivity": p.sensitivity, "values": v.tolist()}
        for p, v in zip(plan.parts, noisy, strict=True)
    ]


def restate(
    query: Query, stored: dict[str, Any], *, policy: AccessPolicy, schema: dict[str, str]
) -> dict[str, Any]:
    """A stored answer (rows and noisy values) stated again at ``query``'s alpha: the same noisy
    values, their intervals at another confidence level. The cells are the stored ones, and each
    part keeps the scale and sensitivity it was drawn at, whatever the policy says now."""
    plan = plan_query(query, policy=policy, schema=schema)
    keys = [tuple(row[c] for c in plan.group_by) for row in stored["rows"]]
    return restated(replace(plan, keys=keys), stored["noisy"])


def restated(plan: Plan, stored: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows and accuracy at the plan's alpha from stored noisy values (no new noise)."""
    if len(stored) != len(plan.parts):
        raise ValueError("the stored release has other parts than its query plans")
    parts = [
        replace(p, scale=float(s["scale"]), sensitivity=int(s["sensitivity"]))
        for p, s in zip(plan.parts, stored, strict=True)
    ]
    plan = replace(plan, parts=parts)
    noisy = [
        np.asarray(s["values"], dtype=float if p.kind == "quantile" else np.int64)
        for p, s in zip(parts, stored, strict=True)
    ]
    return {"rows": build_rows(plan, noisy), "measures": describe(plan), "noisy": stored}


def build_rows(plan: Plan, noisy: list[np.ndarray]) -> list[dict[str, Any]]:
    """Post-process noisy parts into one row per cell, each measure finishing its own columns."""
    rows: list[dict[str, Any]] = [dict(zip(plan.group_by, key, strict=True)) for key in plan.keys]
    by_measure: dict[int, list[tuple[Part, np.ndarray]]] = {}
    for part, values in zip(plan.parts, noisy, strict=True):
        by_measure.setdefault(part.measure, []).append((part, values))
    records = plan.records()
    shared = [(p, v) for p, v in zip(plan.parts, noisy, strict=True) if p in records]
    for index, measure in enumerate(plan.query.measures):
        measure.finish(rows, by_measure[index], plan.query.alpha, records=shared)
    return rows


def describe(plan: Plan) -> list[dict[str, Any]]:
    """Per measure: epsilon, the half-width of its interval where the data does not decide it, and
    for each noisy part (its own, and the shared record count a mean divides by) the OpenDP noise
    scale and interval half-width."""
    alpha = plan.query.alpha
    records = plan.records()
    out = []
    for index, measure in enumerate(plan.query.measures):
        own = plan.own_parts(index)
        uses = [p for p in records if p.measure != index] if measure.needs_records else []
        info: dict[str, Any] = {
            "name": measure.name,
            "op": measure.op,
            "column": measure.measured,
            "epsilon": sum(p.epsilon for p in own),
            "alpha": alpha,
            **measure.precision(own, alpha, records=records),
            "parts": [_part_info(p, alpha, shared=False) for p in own]
            + [_part_info(p, alpha, shared=True) for p in uses],
        }
        out.append(info)
    return out


def _part_info(p: Part, alpha: float, *, shared: bool) -> dict[str, Any]:
    return {
        "statistic": p.kind,
        "mechanism": p.mechanism,
        "epsilon": p.epsilon,
        "sensitivity": p.sensitivity * p.unit if p.kind != "quantile" else p.sensitivity,
        "scale": p.scale * p.unit,
        "ci_halfwidth": p.accuracy(alpha),
        "shared": shared,
    }
