"""The DP query model: what a social enterprise or researcher may ask of a private dataset.

A query groups by public dimensions only (their key sets come from the dataset's policy, i.e. from
public reference data, never from the private rows), filters on public dimensions, and asks for
measures with declared bounds under one epsilon. :func:`check_query` turns every breach into a clear
:class:`~datacommons.errors.InvalidInput` listing all problems at once.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from datacommons.datasets import AccessPolicy
from datacommons.errors import InvalidInput
from privacy.measures import Measure

MAX_CELLS = 50_000
#: The smallest epsilon a query (or each table of an extract) may spend: below it a charge rounded
#: to whole nano-epsilon would be mostly rounding.
MIN_EPSILON = 1e-6
#: The smallest alpha (1 - confidence level) an interval may be asked at: below it the interval's
#: half-width overflows (at 5e-324 it is infinite) while telling nothing more.
MIN_ALPHA = 1e-9
PURPOSE = re.compile(r"^dpv:[A-Za-z][A-Za-z0-9]*$")


class Query(BaseModel):
    """A differentially-private aggregate query."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "purpose": "dpv:ScientificResearch",
                    "group_by": ["comune", "age_band"],
                    "filters": {"sex": ["F"]},
                    "measures": [
                        {"op": "count"},
                        {"op": "mean", "column": "monthly_wage", "bounds": [0, 5000]},
                    ],
                    "epsilon": 0.5,
                }
            ]
        }
    )

    purpose: str = Field(description="The declared purpose, a W3C DPV term such as dpv:ScientificResearch")
    program: str | None = Field(
        None,
        max_length=64,
        description="The program (data-use agreement) to query under; may be left out when the "
        "purpose resolves to exactly one program whose consent text names your organisation",
    )
    group_by: list[str] = Field(default_factory=list)
    filters: dict[str, list[str]] = Field(default_factory=dict)
    measures: list[Measure] = Field(min_length=1, max_length=10)
    epsilon: float = Field(gt=0, description="The privacy loss this query may spend")
    alpha: float = Field(0.05, ge=MIN_ALPHA, lt=1, description="1 - confidence level of the intervals")

    def canonical_hash(self) -> str:
        """A stable hash of the question asked (what a repeat must match to reuse a release)."""
        payload = {"purpose": self.purpose, "epsilon": self.epsilon, **question(self)}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


class Asked(Protocol):
    """A query or an extract's table: cells and measures."""

    group_by: list[str]
    filters: dict[str, list[str]]
    measures: list[Measure]


def question(table: Asked) -> dict[str, Any]:
    """What a query (or an extract's table) asks, for its repeat key: its cells and measures.

    Left out: the program named (the one resolved keys repeats), alpha (it only changes how the same
    noisy values are stated) and the order of the grouped columns and of the filter values (they ask
    nothing new).
    """
    return {
        "group_by": sorted(table.group_by),
        "filters": {k: sorted(v) for k, v in sorted(table.filters.items())},
        "measures": [m.key() for m in table.measures],
    }


def _repeated(items: list[str]) -> list[str]:
    """The items that occur more than once, in the order of their first repetition."""
    seen: set[str] = set()
    repeated: list[str] = []
    for item in items:
        if item in seen and item not in repeated:
            repeated.append(item)
        seen.add(item)
    return repeated


def check_query(query: Query, *, policy: AccessPolicy, schema: dict[str, str]) -> None:
    """Raise :class:`InvalidInput` naming every way ``query`` breaks the dataset's policy.

    ``schema`` maps each column of the dataset to its Arrow type name.
    """
    errors: list[dict[str, Any]] = []

    def bad(where: str, msg: str) -> None:
        errors.append({"loc": where, "msg": msg})

    dims = policy.public_dimensions
    unit = policy.privacy_unit

    def check_dimension(where: str, column: str) -> bool:
        if column == unit:
            bad(where, f"{column!r} identifies donors: it can never be grouped or filtered on")
        elif column not in schema:
            bad(where, f"unknown column {column!r}")
        elif column not in dims:
            bad(where, f"{column!r} is not a public dimension (public: {', '.join(sorted(dims))})")
        else:
            return True
        return False

    if not PURPOSE.match(query.purpose):
        bad("purpose", f"{query.purpose!r} is not a DPV purpose such as dpv:ScientificResearch")
    for column in _repeated(query.group_by):
        bad("group_by", f"{column!r} is repeated: each column may be grouped on once")
    cells = 1
    for i, column in enumerate(query.group_by):
        if check_dimension(f"group_by.{i}", column):
            keys = query.filters.get(column) or dims[column]
            cells *= len(keys)
    if cells > MAX_CELLS:
        bad("group_by", f"{cells} cells is more than the {MAX_CELLS} a query may ask for")
    else:
        # a histogram releases a noisy value per bin in every cell: those count towards the cap
        widest = max(m.values_per_cell for m in query.measures)
        if cells * widest > MAX_CELLS:
            bad(
                "measures",
                f"{cells} cells x {widest} bins = {cells * widest} noisy values is more than the "
                f"{MAX_CELLS} a query may ask for",
            )
    for column, values in query.filters.items():
        if check_dimension(f"filters.{column}", column):
            unknown = sorted(set(values) - set(dims[column]))
            if not values:
                bad(f"filters.{column}", "an empty filter selects nothing")
            elif unknown:
                bad(f"filters.{column}", f"not in the public key set: {', '.join(unknown[:5])}")
            # A repeated value would make a repeated cell, each copy with its own noise: averaging
            # the copies would undo the noise. Refused, never silently merged, so the analyst
            # learns that the query as written is not what would be answered.
            for value in _repeated(values):
                bad(f"filters.{column}", f"{value!r} is repeated: each value may be asked once")
    names = [m.name for m in query.measures]
    if len(set(names)) != len(names):
        bad("measures", "the same measure is asked twice")
    for i, measure in enumerate(query.measures):
        for problem in measure.problems(schema=schema, unit=unit):
            bad(f"measures.{i}", problem)
    if query.epsilon < MIN_EPSILON:
        bad("epsilon", f"{query.epsilon:g} is below the minimum of {MIN_EPSILON:g} a query may spend")
    if query.epsilon > policy.epsilon_per_query:
        bad("epsilon", f"{query.epsilon} is over this dataset's cap of {policy.epsilon_per_query} per query")
    if errors:
        first = errors[0]
        raise InvalidInput(f"invalid query: {first['loc']}: {first['msg']}", errors=errors)
