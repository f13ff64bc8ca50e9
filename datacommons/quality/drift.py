"""Drift of a version against the dataset's current published version — reported as warnings.

A drift never rejects a version (the data may really have changed); it tells the administrator what
to look at before publishing: the row count changed by more than a threshold, categories appeared or
vanished in a dimension, or the mean of a measure moved by more than a threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from datacommons.specs import SchemaSpec

CATEGORY_ROLES = frozenset({"dimension", "time"})
CATEGORY_TYPES = frozenset({"string", "integer", "boolean"})


@dataclass(frozen=True)
class DriftThresholds:
    """When a change is worth a warning."""

    rows: float = 0.2  #: relative change of the row count (0.2 = ±20 %)
    mean: float = 0.1  #: relative change of a measure's mean (0.1 = ±10 %)
    max_categories: int = 1000  #: columns with more distinct values are not compared
    max_listed: int = 20  #: how many new or vanished categories a warning lists


DEFAULT_THRESHOLDS = DriftThresholds()


def category_columns(spec: SchemaSpec) -> list[str]:
    """The columns whose set of values is compared: dimensions, time, and coded columns."""
    return [
        c.name
        for c in spec.columns
        if c.role not in ("privacy_unit", "key")
        and c.type in CATEGORY_TYPES
        and (c.role in CATEGORY_ROLES or c.codes or c.code_list)
    ]


def measure_columns(spec: SchemaSpec) -> list[str]:
    """The numeric measures whose mean is compared."""
    return [c.name for c in spec.columns if c.role == "measure" and c.type in ("integer", "float")]


def _mean(column: pa.ChunkedArray) -> float | None:
    value = pc.mean(column).as_py()
    return float(value) if value is not None else None


def drift_warnings(
    spec: SchemaSpec,
    *,
    new: pa.Table,
    old: pa.Table,
    old_number: int,
    thresholds: DriftThresholds = DEFAULT_THRESHOLDS,
) -> list[dict[str, Any]]:
    """The warnings for ``new`` against ``old`` (``old_number``, the current published version)."""
    warnings: list[dict[str, Any]] = []
    before, after = old.num_rows, new.num_rows
    change = (after - before) / before if before else None
    if change is not None and abs(change) > thresholds.rows:
        warnings.append(
            {
                "kind": "row_count",
                "column": None,
                "previous": before,
                "current": after,
                "change": round(change, 4),
                "message": f"row count changed by {change:+.1%} ({before} → {after}) since version "
                f"{old_number}",
            }
        )
    shared = set(new.column_names) & set(old.column_names)
    for name in category_columns(spec):
        if name not in shared:
            continue
        now = set(pc.unique(new[name]).to_pylist()) - {None}
        then = set(pc.unique(old[name]).to_pylist()) - {None}
        if max(len(now), len(then)) > thresholds.max_categories:
            continue
        for kind, values, verb in (
            ("new_categories", now - then, "appeared"),
            ("vanished_categories", then - now, "vanished"),
        ):
            if values:
                listed = sorted(values, key=str)[: thresholds.max_listed]
                warnings.append(
                    {
                        "kind": kind,
                        "column": name,
                        "values": listed,
                        "count": len(values),
                        "message": f"{len(values)} value(s) of {name} {verb} since version "
                        f"{old_number}: "
                        + ", ".join(map(str, listed))
                        + (" …" if len(values) > len(listed) else ""),
                    }
                )
    for name in measure_columns(spec):
        if name not in shared:
            continue
        then_mean, now_mean = _mean(old[name]), _mean(new[name])
        if then_mean is None or now_mean is None:
            continue
        scale = abs(then_mean) or 1.0
        shift = (now_mean - then_mean) / scale
        if abs(shift) > thresholds.mean:
            warnings.append(
                {
                    "kind": "mean_shift",
                    "column": name,
                    "previous": round(then_mean, 6),
                    "current": round(now_mean, 6),
                    "change": round(shift, 4),
                    "message": f"mean of {name} moved by {shift:+.1%} ({then_mean:.4g} → "
                    f"{now_mean:.4g}) since version {old_number}",
                }
            )
    return warnings
