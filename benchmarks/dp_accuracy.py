"""DP accuracy: the commons' engine against OpenDP's own Polars Context, on the same query and epsilon.

One grouped query over the synthetic microdata — records, mean monthly wage and median monthly wage by
age band x sex (bounds [0, 5000] EUR, 101 candidates for the median) — released many times by both:
1. the commons' DP engine (a mean sums around its bounds' midpoint and divides by the record count
   the query releases anyway; epsilon split over 3 statistics);
2. OpenDP's Polars Context with ``dp.len()``, ``.dp.mean()`` (over integer cents, as the engine sums)
   and ``.dp.quantile()``: its mean is a sum and a count of its own, and the Context calibrates one
   noise scale for all four statistics.
Printed: the RMSE per cell of each measure against the exact value, the ratio engine / OpenDP, and the
empirical coverage of the engine's released 95% intervals. Goals: mean RMSE <= 0.6x OpenDP Context's,
count <= 1.0x, coverage of the count's and the mean's intervals within 2 points of 95%.

Run: .venv/bin/python benchmarks/dp_accuracy.py [--rows 40000] [--releases 200] [--plot PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import opendp.prelude as dp
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors import synthetic  # noqa: E402
from datacommons.datasets import AccessPolicy  # noqa: E402
from datacommons.storage import ParquetStore  # noqa: E402
from privacy.engine import plan_query, release_cells  # noqa: E402
from privacy.frames import load_frame  # noqa: E402
from privacy.measures import QUANTILE_CANDIDATES  # noqa: E402
from privacy.query import Query, check_query  # noqa: E402

EPSILON = 0.5
ALPHA = 0.05
BOUNDS = (0.0, 5000.0)
BY = ["age_band", "sex"]
MEASURES = ("rows", "mean", "median")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40_000, help="rows of synthetic microdata")
    parser.add_argument("--releases", type=int, default=200, help="releases of the query by each")
    parser.add_argument("--plot", type=Path, help="write the RMSE ratios as an SVG bar chart here")
    args = parser.parse_args()

    table = synthetic.generate(n_rows=args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        store = ParquetStore(Path(tmp))
        frame = load_frame(store, store.write_table(table).content_hash, "donor_id")
    k = synthetic.MAX_ROWS_PER_DONOR
    policy = AccessPolicy(
        privacy_unit="donor_id",
        max_rows_per_unit=k,
        public_dimensions={"age_band": list(synthetic.AGE_BANDS), "sex": list(synthetic.SEXES)},
        epsilon_total=1e9,
        epsilon_per_organisation=1e9,
        epsilon_per_query=EPSILON,
    )
    schema = {f.name: str(f.type) for f in table.schema}
    query = Query.model_validate(
        {
            "purpose": "dpv:ScientificResearch",
            "group_by": BY,
            "measures": [
                {"op": "rows"},
                {"op": "mean", "column": "monthly_wage", "bounds": list(BOUNDS)},
                {"op": "quantile", "column": "monthly_wage", "bounds": list(BOUNDS), "q": 0.5},
            ],
            "epsilon": EPSILON,
            "alpha": ALPHA,
        }
    )
    check_query(query, policy=policy, schema=schema)
    plan = plan_query(query, policy=policy, schema=schema)
    keys = [dict(zip(BY, key, strict=True)) for key in plan.keys]

    wage = pl.col("monthly_wage").cast(pl.Float64).fill_nan(None).fill_null(0.0).clip(*BOUNDS)
    exact = (
        frame.filter(pl.col("_rank") < k)
        .group_by(BY)
        .agg(pl.len().alias("rows"), wage.mean().alias("mean"), wage.median().alias("median"))
    )
    truth = {tuple(r[c] for c in BY): r for r in exact.to_dicts()}
    true = {m: np.asarray([truth[tuple(key.values())][m] for key in keys], dtype=float) for m in MEASURES}
    cells = np.asarray([truth[tuple(key.values())]["rows"] for key in keys])
    print(
        f"rows: {frame.height:,}; cells: {len(keys)} ({BY[0]} x {BY[1]}, {cells.min():,} to "
        f"{cells.max():,} records each); epsilon {EPSILON}; {args.releases} releases by each"
    )

    ours: dict[str, list[np.ndarray]] = {m: [] for m in MEASURES}
    covered = {"rows": 0, "mean": 0}
    for _ in range(args.releases):
        rows = release_cells(frame, plan, policy=policy, eligible=None)["rows"]
        for m, name in zip(MEASURES, ("rows", "mean_monthly_wage", "q50_monthly_wage"), strict=True):
            ours[m].append(np.asarray([r[name] for r in rows], dtype=float))
        for r, t_rows, t_mean in zip(rows, true["rows"], true["mean"], strict=True):
            covered["rows"] += r["rows_ci"][0] <= t_rows <= r["rows_ci"][1]
            covered["mean"] += r["mean_monthly_wage_ci"][0] <= t_mean <= r["mean_monthly_wage_ci"][1]

    candidates = [float(c) for c in np.linspace(*BOUNDS, QUANTILE_CANDIDATES)]
    key_frame = pl.DataFrame(keys)
    theirs: dict[str, list[np.ndarray]] = {m: [] for m in MEASURES}
    assert not frame["monthly_wage"].is_nan().any()  # so OpenDP's fill_null is the engine's filling
    filled = pl.col("monthly_wage").fill_null(0.0)
    # OpenDP sums floats with a rounding allowance that grows with the data's size; in integer cents
    # (as the engine sums) it needs none
    cents = (filled * 100).round().cast(pl.Int64).alias("cents")
    data = frame.lazy().filter(pl.col("_rank") < k).select(*BY, "monthly_wage", cents)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(args.releases):
            context = dp.Context.compositor(
                data=data,
                privacy_unit=dp.unit_of(contributions=k),
                privacy_loss=dp.loss_of(epsilon=EPSILON),
                split_evenly_over=1,
                margins=[dp.polars.Margin(by=BY, invariant="keys", max_length=frame.height)],
            )
            released = (
                context.query()
                .group_by(BY)
                .agg(
                    dp.len().alias("rows"),
                    pl.col("cents").dp.mean((0, round(BOUNDS[1] * 100))).alias("mean"),
                    filled.dp.quantile(0.5, candidates).alias("median"),
                )
                .with_keys(key_frame)
                .release()
                .collect()
            )
            released = key_frame.join(released, on=BY, how="left", maintain_order="left").with_columns(
                pl.col("mean") / 100  # cents to EUR
            )
            for m in MEASURES:
                theirs[m].append(released[m].cast(pl.Float64).to_numpy())

    def rmse(values: list[np.ndarray], m: str) -> float:
        return float(np.sqrt(np.mean((np.stack(values) - true[m]) ** 2)))

    total = args.releases * len(keys)
    ratios = {}
    print(f"{'measure':<8} {'engine RMSE':>12} {'OpenDP RMSE':>12} {'ratio':>7}")
    for m in MEASURES:
        a, b = rmse(ours[m], m), rmse(theirs[m], m)
        ratios[m] = a / b
        print(f"{m:<8} {a:>12.2f} {b:>12.2f} {a / b:>7.2f}")
    coverage = {m: n / total for m, n in covered.items()}
    print(
        f"coverage of the released {1 - ALPHA:.0%} intervals over {total:,} cells: "
        f"count {coverage['rows']:.1%}, mean {coverage['mean']:.1%}"
    )
    print(f"mean RMSE / OpenDP Context's: {ratios['mean']:.2f} (goal <= 0.6)")
    print(f"count RMSE / OpenDP Context's: {ratios['rows']:.2f} (goal <= 1.0)")
    print(f"median RMSE / OpenDP Context's: {ratios['median']:.2f} (no goal; the same mechanism)")
    if args.plot:
        args.plot.write_text(svg(ratios), encoding="utf-8")
        print(f"plot: {args.plot}")
    ok = (
        ratios["mean"] <= 0.6
        and ratios["rows"] <= 1.0
        and all(abs(c - (1 - ALPHA)) <= 0.02 for c in coverage.values())
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def svg(ratios: dict[str, float]) -> str:
    """The RMSE of each measure, OpenDP Context's as 1, as a small bar chart."""
    labels = {"rows": "count of records", "mean": "mean wage", "median": "median wage"}
    width, bar, gap, left, top = 520, 26, 18, 150, 40
    height = top + len(ratios) * (2 * bar + gap) + 30
    scale = (width - left - 60) / max(1.0, *ratios.values())
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="RMSE of the engine and of OpenDP Context">',
        "<style>text{font:13px sans-serif}</style>",
        f'<text x="{left}" y="20">RMSE per cell, OpenDP Polars Context = 1 '
        f"(same query, epsilon {EPSILON})</text>",
    ]
    y = top
    for m, ratio in ratios.items():
        out.append(f'<text x="{left - 8}" y="{y + bar + 4}" text-anchor="end">{labels[m]}</text>')
        for value, colour, who in ((1.0, "#9aa5b1", "OpenDP"), (ratio, "#1f6f8b", "commons")):
            w = value * scale
            out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 4}" fill="{colour}"/>')
            out.append(f'<text x="{left + w + 6:.1f}" y="{y + bar - 10}">{who} {value:.2f}</text>')
            y += bar
        y += gap
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
