"""Extracts for researchers: several marginal tables released together under one epsilon, with a
metadata file (the DCAT distribution, the DP parameters, the accuracy of each table).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any, Literal

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker

from datacommons.auth import Principal
from datacommons.errors import InvalidInput
from datacommons.storage import ParquetStore
from privacy.engine import plan_query, release_cells, restate
from privacy.measures import Measure
from privacy.models import Release
from privacy.query import MIN_ALPHA, Query, check_query, question
from privacy.schemas import ExtractAnswer
from privacy.service import Ask, Target, run

Format = Literal["parquet", "csv"]


class ExtractTable(BaseModel):
    """One marginal table of an extract."""

    name: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    group_by: list[str] = Field(default_factory=list)
    filters: dict[str, list[str]] = Field(default_factory=dict)
    measures: list[Measure] = Field(min_length=1, max_length=10)


class ExtractRequest(BaseModel):
    """An extract: tables released together, sharing one epsilon evenly."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "dataset": "inserimento-lavorativo",
                    "purpose": "dpv:ScientificResearch",
                    "epsilon": 0.5,
                    "tables": [
                        {"name": "by_age", "group_by": ["age_band"], "measures": [{"op": "count"}]},
                        {
                            "name": "wage_by_sex",
                            "group_by": ["sex"],
                            "measures": [{"op": "mean", "column": "monthly_wage", "bounds": [0, 5000]}],
                        },
                    ],
                }
            ]
        }
    )

    dataset: str
    purpose: str
    program: str | None = Field(
        None, max_length=64, description="The program (data-use agreement); see the query's `program`"
    )
    epsilon: float = Field(gt=0)
    alpha: float = Field(0.05, ge=MIN_ALPHA, lt=1, description="1 - confidence level of the intervals")
    tables: list[ExtractTable] = Field(min_length=1, max_length=10)

    def canonical_hash(self) -> str:
        """What a repeat must match: dataset, purpose, epsilon and each table's question (see
        :func:`privacy.query.question`: not alpha, not the program named, not the order of columns)."""
        payload = {
            "dataset": self.dataset,
            "purpose": self.purpose,
            "epsilon": self.epsilon,
            "tables": [{"name": t.name, **question(t)} for t in self.tables],
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _queries(request: ExtractRequest) -> list[Query]:
    if len({t.name for t in request.tables}) != len(request.tables):
        raise InvalidInput("invalid extract: table names must be distinct")
    share = request.epsilon / len(request.tables)
    if not share > 0:  # an epsilon so small its share underflows to zero
        raise InvalidInput("invalid extract: epsilon: too small to share among its tables")
    return [
        Query(
            purpose=request.purpose,
            group_by=t.group_by,
            filters=t.filters,
            measures=t.measures,
            epsilon=share,
            alpha=request.alpha,
        )
        for t in request.tables
    ]


def create_extract(
    factory: sessionmaker[Session],
    *,
    store: ParquetStore,
    request: ExtractRequest,
    principal: Principal,
    epsilon_per_person: float,
) -> ExtractAnswer:
    """Release every table of the extract under the request's epsilon, stored as one release."""
    queries = _queries(request)

    def check(tgt: Target) -> None:
        if request.epsilon > tgt.policy.epsilon_per_query:
            raise InvalidInput(
                f"invalid extract: epsilon {request.epsilon} is over this dataset's "
                f"cap of {tgt.policy.epsilon_per_query} per request"
            )
        for table, query in zip(request.tables, queries, strict=True):
            try:
                check_query(query, policy=tgt.policy, schema=tgt.schema)
            except InvalidInput as exc:
                raise InvalidInput(f"table {table.name}: {exc.message}", errors=exc.errors) from exc

    def compute(tgt: Target, frame: pl.DataFrame, donors: frozenset[str]) -> dict[str, Any]:
        tables = []
        for table, query in zip(request.tables, queries, strict=True):
            plan = plan_query(query, policy=tgt.policy, schema=tgt.schema)
            cells = release_cells(frame, plan, policy=tgt.policy, eligible=donors)
            tables.append(
                {
                    "name": table.name,
                    "group_by": plan.group_by,
                    "filters": table.filters,
                    "epsilon": query.epsilon,
                    **cells,
                }
            )
        return {
            "dataset": tgt.dataset.id,
            "version": tgt.version.number,
            "purpose": request.purpose,
            "epsilon": request.epsilon,
            "alpha": request.alpha,
            "contributions_per_donor": tgt.policy.max_rows_per_unit,
            "licence": tgt.dataset.licence,
            "tables": tables,
        }

    ask = Ask(
        kind="extract",
        answer=ExtractAnswer,
        dataset_id=request.dataset,
        purpose=request.purpose,
        program=request.program,
        epsilon=request.epsilon,
        query_hash=request.canonical_hash(),
        query=request.model_dump(mode="json"),
        check=check,
        compute=compute,
        alpha=request.alpha,
        restate=lambda tgt, result: {
            **result,
            "alpha": request.alpha,
            "tables": [
                {**table, **restate(query, table, policy=tgt.policy, schema=tgt.schema)}
                for table, query in zip(result["tables"], queries, strict=True)
            ],
        },
    )
    return run(factory, store=store, ask=ask, principal=principal, epsilon_per_person=epsilon_per_person)


def mechanisms_of(tables: list[dict[str, Any]]) -> str:
    """The OpenDP mechanisms an extract's tables were released with, in words."""
    used = {part["mechanism"] for t in tables for m in t["measures"] for part in m["parts"]}
    words = []
    if "OpenDP discrete Laplace" in used:
        words.append("OpenDP discrete Laplace (counts, fixed-point sums)")
    words += sorted(used - {"OpenDP discrete Laplace"})
    return "; ".join(words)


def metadata(release: Release, *, base_url: str) -> dict[str, Any]:
    """The extract's metadata: DCAT distribution, DP parameters, accuracy per table, release ids."""
    result = release.result
    url = f"{base_url.rstrip('/')}/api/v1/extracts/{release.id}"
    return {
        "id": release.id,
        "release_ids": [release.id],
        "dataset": result["dataset"],
        "version": result["version"],
        "purpose": release.purpose,
        "program": result.get("program"),
        "created_at": release.created_at.isoformat(),
        "licence": result.get("licence"),
        "differential_privacy": {
            "library": "OpenDP",
            "mechanism": mechanisms_of(result["tables"]),
            "privacy_unit": "donor",
            "contributions_per_donor": result.get("contributions_per_donor"),
            "epsilon": release.epsilon,
            "alpha": result["alpha"],
            "split": "evenly over the tables, then over each table's noisy statistics",
            "coverage": result.get("coverage"),
        },
        "tables": [
            {
                "name": t["name"],
                "group_by": t["group_by"],
                "filters": t["filters"],
                "epsilon": t["epsilon"],
                "cells": len(t["rows"]),
                "accuracy": t["measures"],
            }
            for t in result["tables"]
        ],
        "distributions": [
            {
                "@type": "dcat:Distribution",
                "title": f"Extract {release.id} ({fmt.upper()})",
                "accessURL": f"{url}/download?format={fmt}",
                "mediaType": "application/zip",
                "format": fmt.upper(),
                "license": result.get("licence"),
            }
            for fmt in ("parquet", "csv")
        ],
    }


def flat_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Answer rows as a flat table: intervals become _ci_low/_ci_high, histograms one column per bin."""
    flat: list[dict[str, Any]] = []
    for row in rows:
        out: dict[str, Any] = {}
        for key, value in row.items():
            if key.endswith("_ci"):
                low, high = value if value else (None, None)
                out[f"{key}_low"], out[f"{key}_high"] = low, high
            elif isinstance(value, list):
                for i, v in enumerate(value):
                    out[f"{key}_bin{i}"] = v
            else:
                out[key] = value
        flat.append(out)
    return pa.Table.from_pylist(flat)


def bundle(release: Release, *, fmt: Format, base_url: str) -> bytes:
    """A ZIP with each table as Parquet or CSV and ``metadata.json``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in release.result["tables"]:
            data = flat_table(table["rows"])
            sink = io.BytesIO()
            if fmt == "parquet":
                pq.write_table(data, sink)
            else:
                pacsv.write_csv(data, sink)
            archive.writestr(f"{table['name']}.{fmt}", sink.getvalue())
        archive.writestr(
            "metadata.json", json.dumps(metadata(release, base_url=base_url), ensure_ascii=False, indent=2)
        )
    return buffer.getvalue()
