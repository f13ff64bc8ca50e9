"""DP query latency on the metropolitan-scale synthetic microdata (2.2 million rows).

One grouped query — count and mean monthly wage by comune x age band, over the donors whose consent
covers the purpose — answered three ways in the same run:
1. the commons' DP engine (exact Polars aggregation of truncated rows + OpenDP noise on the cells);
2. the exact, non-private Polars aggregation of the same query over the same consenting donors;
3. OpenDP's own Polars Context at the same epsilon.
Goals: (1)/(2) <= 1.5 and (3)/(1) >= 5. Medians over repeated runs.

Run: .venv/bin/python benchmarks/dp_query.py [--rows 2200000] [--repeat 7]
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

from benchmarks._server import timed  # noqa: E402
from connectors import synthetic  # noqa: E402
from connectors.istat_comuni import turin_codes  # noqa: E402
from datacommons.registry import AccessPolicy  # noqa: E402
from datacommons.storage import ParquetStore  # noqa: E402
from privacy.engine import plan_query, release_cells  # noqa: E402
from privacy.frames import eligible_series, load_frame  # noqa: E402
from privacy.query import Query, check_query  # noqa: E402

EPSILON = 1.0




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--consenting", type=float, default=0.9,
                        help="share of donors whose consent covers the purpose")
    args = parser.parse_args()

    table = synthetic.generate(n_rows=args.rows)
    donors = table["donor_id"].unique().to_pylist()
    rng = np.random.default_rng(1)
    eligible = frozenset(d for d, keep in zip(donors, rng.random(len(donors)) < args.consenting,
                                              strict=True) if keep)
    codes = turin_codes()
    policy = AccessPolicy(
        privacy_unit="donor_id", max_rows_per_unit=synthetic.MAX_ROWS_PER_DONOR,
        public_dimensions={"comune": codes, "age_band": list(synthetic.AGE_BANDS)},
        epsilon_total=100.0, epsilon_per_organisation=100.0, epsilon_per_query=EPSILON)
    schema = {f.name: str(f.type) for f in table.schema}
    query = Query(purpose="dpv:ScientificResearch", group_by=["comune", "age_band"],
                  measures=[{"op": "count"},
                            {"op": "mean", "column": "monthly_wage", "bounds": [0, 5000]}],
                  epsilon=EPSILON)
    check_query(query, policy=policy, schema=schema)

    with tempfile.TemporaryDirectory() as tmp:
        store = ParquetStore(Path(tmp))
        stored = store.write_table(table)
        frame = load_frame(store, stored.content_hash, "donor_id")
    eligible_series(eligible)  # the engine keeps the consenting set between queries; so does the baseline
    print(f"rows: {frame.height:,}; donors: {len(donors):,}; consenting: {len(eligible):,}; "
          f"cells: {len(codes) * len(synthetic.AGE_BANDS):,}; epsilon {EPSILON}")

    def ours():  # type: ignore[no-untyped-def]
        plan = plan_query(query, policy=policy, schema=schema)
        return release_cells(frame, plan, policy=policy, eligible=eligible)

    def exact():  # type: ignore[no-untyped-def]
        consenting = eligible_series(eligible).implode()
        return (frame.lazy().filter(pl.col("donor_id").is_in(consenting))
                .group_by(["comune", "age_band"])
                .agg(pl.len(), pl.col("monthly_wage").mean()).collect())

    keys = pl.DataFrame([(c, a) for c in codes for a in synthetic.AGE_BANDS],
                        schema=["comune", "age_band"], orient="row")

    def opendp_context():  # type: ignore[no-untyped-def]
        consenting = eligible_series(eligible).implode()
        data = frame.lazy().filter(pl.col("donor_id").is_in(consenting)).select(
            "comune", "age_band", "monthly_wage")
        context = dp.Context.compositor(
            data=data, privacy_unit=dp.unit_of(contributions=synthetic.MAX_ROWS_PER_DONOR),
            privacy_loss=dp.loss_of(epsilon=EPSILON), split_evenly_over=1,
            margins=[dp.polars.Margin(by=["comune", "age_band"], invariant="keys",
                                      max_length=10**8)])
        return (context.query().group_by(["comune", "age_band"])
                .agg([dp.len(), pl.col("monthly_wage").fill_null(0).dp.mean((0.0, 5000.0))])
                .with_keys(keys).release().collect())

    ours(), exact()  # warm up
    t_exact, _ = timed(exact, args.repeat)
    t_ours, answer = timed(ours, args.repeat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opendp_context()
        t_opendp, _ = timed(opendp_context, max(3, args.repeat // 2))
    assert isinstance(answer, dict) and len(answer["rows"]) == len(codes) * len(synthetic.AGE_BANDS)
    ratio_exact, ratio_opendp = t_ours / t_exact, t_opendp / t_ours
    print(f"median latency: DP engine {t_ours * 1000:.0f} ms, exact Polars {t_exact * 1000:.0f} ms, "
          f"OpenDP Polars Context {t_opendp * 1000:.0f} ms")
    print(f"DP engine / exact aggregation: {ratio_exact:.2f} (goal <= 1.5)")
    print(f"OpenDP Context / DP engine: {ratio_opendp:.1f}x (goal >= 5)")
    ok = ratio_exact <= 1.5 and ratio_opendp >= 5
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
