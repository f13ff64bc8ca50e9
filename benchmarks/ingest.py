"""Benchmark: a 1-million-row SDMX-CSV file to a staged dataset version, against bare pyarrow.

The baseline is the least a conversion can do: ``pyarrow.csv.read_csv`` then
``pyarrow.parquet.write_table`` of the same file. Ours is the whole ingest: the ``eurostat`` connector
(parse, tidy columns, ``:`` and flags), the Parquet store (fixed writer options, fsync, SHA-256) and
the registry (a staged version in SQLite). Both are measured in the same run, best of ``--repeat``;
the script prints the throughput ratio (the goal is >= 0.5).

    python benchmarks/ingest.py [--rows 1000000] [--repeat 3]
    python benchmarks/ingest.py --synthetic 2200000   # also time the metropolitan-scale generator
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.ingest import ingest  # noqa: E402
from datacommons.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from datacommons.migrations import upgrade  # noqa: E402
from datacommons.storage import ParquetStore  # noqa: E402


def make_sdmx_csv(path: Path, rows: int, seed: int = 1) -> None:
    """An Eurostat-like SDMX-CSV 1.0 file of ``rows`` observations (some ``:``, some flags)."""
    rng = np.random.default_rng(seed)
    geos = np.array(
        [
            "IT",
            "ITC1",
            "ITC2",
            "ITC3",
            "ITC4",
            "ITH1",
            "ITH2",
            "ITH3",
            "ITH4",
            "ITH5",
            "ITI1",
            "ITI2",
            "ITI3",
            "ITI4",
            "ITF1",
            "ITF2",
            "ITF3",
            "ITF4",
            "ITF5",
            "ITF6",
            "ITG1",
            "ITG2",
        ]
    )
    values = rng.normal(8.0, 3.0, rows).clip(0.5, 40).round(1).astype(str).astype(object)
    missing = rng.random(rows) < 0.02
    values[missing] = ":"
    flags = np.where(missing, "u", np.where(rng.random(rows) < 0.05, "b", ""))
    table = pa.table(
        {
            "DATAFLOW": pa.array(["ESTAT:LFST_R_LFU3RT(1.0)"] * rows),
            "LAST UPDATE": pa.array(["22/05/26 11:00:00"] * rows),
            "freq": pa.array(["A"] * rows),
            "isced11": pa.array(rng.choice(["TOTAL", "ED0-2", "ED3_4", "ED5-8"], rows)),
            "sex": pa.array(rng.choice(["T", "M", "F"], rows)),
            "age": pa.array(rng.choice(["Y15-24", "Y15-74", "Y20-64", "Y25-74"], rows)),
            "unit": pa.array(["PC"] * rows),
            "geo": pa.array(rng.choice(geos, rows)),
            "TIME_PERIOD": pa.array(rng.integers(1999, 2026, rows).astype(str)),
            "OBS_VALUE": pa.array(values.astype(str)),
            "OBS_FLAG": pa.array(flags),
            "CONF_STATUS": pa.array([""] * rows),
        }
    )
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="none"))


def bare(path: Path, out: Path) -> float:
    """Seconds for a bare pyarrow CSV-to-Parquet conversion."""
    start = time.perf_counter()
    pq.write_table(pacsv.read_csv(path), out)
    return time.perf_counter() - start


def ours(path: Path, work: Path) -> float:
    """Seconds for ``datacommons ingest eurostat --file`` (connector, store, registry)."""
    work.mkdir(parents=True)
    engine = make_engine(f"sqlite:///{work / 'db.sqlite3'}")
    upgrade(engine)
    store = ParquetStore(work / "store")
    start = time.perf_counter()
    with transaction(make_sessionmaker(engine), immediate=True) as session:
        result = ingest(session, store=store, connector_name="eurostat", file=path, actor="bench")
    elapsed = time.perf_counter() - start
    engine.dispose()
    assert result.staged and result.staged[0].created
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--synthetic",
        type=int,
        default=0,
        help="also generate this many synthetic inserimento-lavorativo rows",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        root = Path(tmp)
        src = root / "lfst_r_lfu3rt.csv"
        make_sdmx_csv(src, args.rows)
        size = src.stat().st_size / 1e6
        print(f"SDMX-CSV file: {args.rows:,} rows, {size:.1f} MB")
        base_times, our_times = [], []
        for i in range(args.repeat):
            base_times.append(bare(src, root / f"bare-{i}.parquet"))
            our_times.append(ours(src, root / f"ours-{i}"))
        best_base, best_ours = min(base_times), min(our_times)
        print(f"bare pyarrow read_csv + write_table: {best_base:.3f} s ({args.rows / best_base:,.0f} rows/s)")
        print(f"datacommons ingest eurostat --file: {best_ours:.3f} s ({args.rows / best_ours:,.0f} rows/s)")
        print(f"throughput ratio (ours / bare): {best_base / best_ours:.2f} (goal >= 0.50)")
        if args.synthetic:
            from connectors.synthetic import generate

            start = time.perf_counter()
            table = generate(n_rows=args.synthetic, seed=2030)
            print(
                f"synthetic inserimento-lavorativo: {table.num_rows:,} rows in "
                f"{time.perf_counter() - start:.2f} s"
            )


if __name__ == "__main__":
    main()
