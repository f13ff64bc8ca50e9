"""Write synthetic *inserimento-lavorativo* donations at any scale (default: the metropolitan 2.2M rows).

python benchmarks/synthetic.py --rows 2200000 --out inserimento-lavorativo.parquet
datacommons ingest file --file inserimento-lavorativo.parquet --param schema=inserimento-lavorativo
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.synthetic import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_200_000)
    parser.add_argument("--seed", type=int, default=2030)
    parser.add_argument(
        "--out", type=Path, default=Path("inserimento-lavorativo.parquet"), help="a .parquet or .csv file"
    )
    args = parser.parse_args()
    start = time.perf_counter()
    table = generate(n_rows=args.rows, seed=args.seed)
    generated = time.perf_counter() - start
    if args.out.suffix == ".csv":
        pacsv.write_csv(table, args.out)
    else:
        pq.write_table(table, args.out)
    print(f"{table.num_rows:,} rows generated in {generated:.2f} s, written to {args.out}")


if __name__ == "__main__":
    main()
