"""Benchmark: validating the 2.2-million-row synthetic microdata vs reading it into memory.

Target: the Great Expectations run takes at most 3x as long as reading the Parquet file into the
in-memory form the gate validates (``pq.read_table(...)`` then
``datacommons.quality.engine.to_frame``: pandas with nullable dtypes). Both are measured in this
run, on the same file; the ratio is printed.

    .venv/bin/python benchmarks/validate.py [--rows 2200000] [--repeat 3]

The data comes from the project's synthetic generator (``connectors/synthetic.py``) and is checked
against the schema the ``file`` connector declares for it (``inserimento_lavorativo_schema``); the
suite is also run with the stricter hand-written ``SPEC`` below (keys, a dataset-specific rule).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors import synthetic  # noqa: E402
from connectors.file import inserimento_lavorativo_schema  # noqa: E402
from connectors.istat_comuni import read_comuni, reference_path, turin_subset  # noqa: E402
from datacommons.quality.engine import run_checks, to_frame  # noqa: E402
from datacommons.quality.suite import derive_checks  # noqa: E402
from datacommons.specs import SchemaSpec  # noqa: E402
from datacommons.storage import WRITE_OPTIONS  # noqa: E402

AGE_BANDS = ["15-24", "25-34", "35-44", "45-54", "55-64"]
SEXES = ["F", "M"]
DISADVANTAGES = ["disability", "long-term-unemployed", "neet", "former-detainee", "migrant"]
PATHWAYS = ["internship", "work-grant", "art14-hiring"]
YEARS = list(range(2019, 2025))

#: The declared schema of the microdata (what a connector would declare for it).
SPEC = SchemaSpec.model_validate(
    {
        "columns": [
            {"name": "donor_id", "type": "string", "role": "privacy_unit"},
            {
                "name": "comune",
                "type": "string",
                "role": "dimension",
                "code_list": "comuni-torino:codice_comune",
                "nullable": False,
            },
            {
                "name": "age_band",
                "type": "string",
                "role": "dimension",
                "codes": AGE_BANDS,
                "nullable": False,
            },
            {"name": "sex", "type": "string", "role": "dimension", "codes": SEXES, "nullable": False},
            {
                "name": "disadvantage",
                "type": "string",
                "role": "dimension",
                "codes": DISADVANTAGES,
                "nullable": False,
            },
            {"name": "pathway", "type": "string", "role": "dimension", "codes": PATHWAYS, "nullable": False},
            {
                "name": "employed_12m",
                "type": "integer",
                "role": "measure",
                "codes": ["0", "1"],
                "nullable": False,
            },
            {
                "name": "monthly_wage",
                "type": "float",
                "role": "measure",
                "min": 0,
                "max": 20000,
                "nullable": False,
            },
            {"name": "year", "type": "integer", "role": "time", "min": 2019, "max": 2024, "nullable": False},
        ],
        "keys": ["donor_id", "year"],
        "expectations": [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {
                    "column": "monthly_wage",
                    "max_value": 0,
                    "row_condition": "employed_12m == 0",
                    "condition_parser": "pandas",
                },
                "description": "no wage without employment",
            },
        ],
    }
)


def comuni_codes() -> np.ndarray:
    """The 312 ISTAT codes of the comuni of ITC11."""
    table = turin_subset(read_comuni(reference_path()))
    return np.asarray(table["codice_comune"].to_pylist())


def synthetic_microdata(rows: int, *, seed: int = 7) -> pa.Table:
    """``rows`` rows of synthetic microdata: one row per donor and year, 2019-2024."""
    rng = np.random.default_rng(seed)
    donors = -(-rows // len(YEARS))
    ids = np.char.add("D", np.char.zfill(np.arange(1, donors + 1).astype(str), 7))
    donor = np.repeat(np.arange(donors), len(YEARS))[:rows]
    year = np.tile(np.asarray(YEARS, dtype=np.int64), donors)[:rows]
    codes = comuni_codes()
    employed = (rng.random(rows) < 0.55).astype(np.int64)
    wage = np.where(employed == 1, rng.gamma(9.0, 150.0, rows).round(2), 0.0)

    def pick(values: list[str], per_donor: bool = True) -> pa.Array:
        choice = rng.integers(0, len(values), donors if per_donor else rows)
        picked = np.asarray(values)[choice]
        return pa.array(picked[donor] if per_donor else picked)

    return pa.table(
        {
            "donor_id": pa.array(ids[donor]),
            "comune": pick(list(codes)),
            "age_band": pick(AGE_BANDS),
            "sex": pick(SEXES),
            "disadvantage": pick(DISADVANTAGES),
            "pathway": pick(PATHWAYS, per_donor=False),
            "employed_12m": pa.array(employed),
            "monthly_wage": pa.array(wage),
            "year": pa.array(year),
        }
    )


def main() -> None:
    """Write the data, then time reading it and validating it; print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_200_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median counts")
    args = parser.parse_args()

    spec = inserimento_lavorativo_schema().meta().schema_spec
    assert spec is not None
    lists = {name: list(comuni_codes()) for name in ("comuni-torino:codice_comune",)}
    checks = derive_checks(spec, code_lists=lists)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "microdata.parquet"
        pq.write_table(synthetic.generate(n_rows=args.rows), path, **WRITE_OPTIONS)
        size = path.stat().st_size
        run_checks(to_frame(pq.read_table(path).slice(0, 1000)), checks)  # warm GE's imports

        reads, validations = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            frame = to_frame(pq.read_table(path))
            reads.append(time.perf_counter() - start)
            start = time.perf_counter()
            results = run_checks(frame, checks, hidden_columns=["donor_id"])
            validations.append(time.perf_counter() - start)
            failed = [r["name"] for r in results if not r["success"]]
            if failed:
                raise SystemExit(f"the synthetic data failed its own suite: {failed}")
            del frame

    read, validate = statistics.median(reads), statistics.median(validations)
    print(f"rows: {args.rows:,}  file: {size / 1e6:.1f} MB  expectations: {len(checks)}")
    print("baseline: pq.read_table(path) + datacommons.quality.engine.to_frame (pandas, nullable dtypes)")
    print(f"read into memory:       {read:7.3f} s  (median of {args.repeat})")
    print(f"validate (GE, pandas):  {validate:7.3f} s  (median of {args.repeat})")
    print(f"ratio validate/read:    {validate / read:7.2f}  (target <= 3.00)")
    print(f"ratio (read+validate)/read: {(read + validate) / read:5.2f}  (the whole gate run)")


if __name__ == "__main__":
    main()
