"""Fixtures of the quality-gate tests: the reference geography and a small private microdata set."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy.orm import Session, sessionmaker

from datacommons import registry
from datacommons.datasets import DatasetVersion
from datacommons.db import transaction
from datacommons.demo import seed_comuni
from datacommons.specs import DatasetMeta, SchemaSpec
from datacommons.storage import ParquetStore

MICRO_ID = "inclusion-outcomes"
DONORS = ["D0000001", "D0000002", "D0000003", "D0000004"]

SPEC: dict[str, Any] = {
    "columns": [
        {"name": "donor_id", "type": "string", "role": "privacy_unit"},
        {
            "name": "comune",
            "type": "string",
            "role": "dimension",
            "code_list": "comuni-torino:codice_comune",
            "nullable": False,
        },
        {"name": "sex", "type": "string", "role": "dimension", "codes": ["F", "M"]},
        {
            "name": "pathway",
            "type": "string",
            "role": "dimension",
            "codes": ["internship", "work-grant", "art14-hiring"],
        },
        {"name": "employed_12m", "type": "integer", "role": "measure", "min": 0, "max": 1},
        {"name": "monthly_wage", "type": "float", "role": "measure", "min": 0},
        {"name": "year", "type": "integer", "role": "time", "min": 2019, "max": 2024},
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


def micro_meta(spec: dict[str, Any] | None = None) -> DatasetMeta:
    """The private microdata's description, with ``spec`` as its declared schema."""
    return DatasetMeta(
        id=MICRO_ID,
        title_it="Esiti di inserimento lavorativo",
        title_en="Job-placement outcomes",
        publisher="Cooperativa (test)",
        access="private",
        schema_spec=SchemaSpec.model_validate(spec or SPEC),
    )


def micro_rows(n: int = 4, **changes: Any) -> dict[str, list[Any]]:
    """``n`` clean rows (one donor each, 2024), with some columns replaced by ``changes``."""
    comuni = ["001272", "001001", "001002", "001272"]
    rows: dict[str, list[Any]] = {
        "donor_id": [f"D{i + 1:07d}" for i in range(n)],
        "comune": [comuni[i % 4] for i in range(n)],
        "sex": ["F" if i % 2 else "M" for i in range(n)],
        "pathway": ["internship" if i % 3 else "work-grant" for i in range(n)],
        "employed_12m": [1 if i % 2 == 0 else 0 for i in range(n)],
        "monthly_wage": [1200.0 if i % 2 == 0 else 0.0 for i in range(n)],
        "year": [2024] * n,
    }
    rows.update(changes)
    return rows


def table_of(rows: dict[str, list[Any]]) -> pa.Table:
    """The Arrow table of ``rows`` (integers as int64, wages as float64)."""
    types = {"employed_12m": pa.int64(), "year": pa.int64(), "monthly_wage": pa.float64()}
    return pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in rows.items()})


@pytest.fixture
def reference(session_factory: sessionmaker[Session], store: ParquetStore) -> None:
    """The 312 comuni of ITC11, published (the code list of the microdata's comune column)."""
    with transaction(session_factory, immediate=True) as session:
        seed_comuni(session, store)


def stage(
    session: Session,
    store: ParquetStore,
    rows: dict[str, list[Any]],
    spec: dict[str, Any] | None = None,
) -> DatasetVersion:
    """Declare the microdata dataset and stage ``rows`` as a new version of it."""
    dataset = registry.upsert_dataset(session, meta=micro_meta(spec))
    version, _ = registry.stage_table(
        session,
        store=store,
        dataset=dataset,
        table=table_of(rows),
        provenance={"connector": "test"},
        actor="test:ingest",
    )
    return version
