"""Deriving the expectation suite of a dataset from its declared schema.

The suite is a list of :class:`Check` — a Great Expectations expectation (snake-case type and
kwargs) with where it came from and a one-line rule an administrator can read. For every declared
column:

- it exists, and its values have the declared type;
- it has no nulls when it is not nullable, a key, or the privacy unit (the donor id);
- its values are unique when declared unique;
- its values are in the allowed set: the declared ``codes`` and the values of its ``code_list``
  (``"<dataset-id>:<column>"``: the distinct values of that column in that dataset's current
  published version — e.g. ``comuni-torino:codice_comune`` for the 312 comuni of ITC11);
- its values are within ``min``/``max``.

Then the declared ``keys`` are unique together, and the dataset-specific ``expectations`` of the
schema are appended as given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow.compute as pc
from sqlalchemy.orm import Session

from datacommons.errors import InvalidInput
from datacommons.registry import get_dataset
from datacommons.specs import ColumnSpec, SchemaSpec
from datacommons.storage import ParquetStore

#: The pandas dtypes (as GE names them) that satisfy a declared column type; :func:`engine.to_frame`
#: reads every integer column as int64 (Int64 with nulls) and dates as datetime64[ns].
TYPE_NAMES: dict[str, list[str]] = {
    "string": ["StringDtype"],
    "integer": ["int64", "Int64Dtype"],
    "float": ["float16", "float32", "float64"],
    "boolean": ["BooleanDtype"],
    "date": ["datetime64[ns]"],
}

#: Roles whose columns may never be null.
NOT_NULL_ROLES = frozenset({"key", "privacy_unit"})


@dataclass(frozen=True)
class Check:
    """One expectation of a suite: GE type and kwargs, its origin and a readable rule."""

    type: str
    kwargs: dict[str, Any]
    origin: Literal["schema", "config"]
    rule: str
    columns: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        """How reports name it: ``expect_...(column, ...)``."""
        return f"{self.type}({', '.join(self.columns)})" if self.columns else self.type


def _typed(column: ColumnSpec, values: Sequence[Any]) -> list[Any]:
    """Allowed values converted to the column's type (codes are declared as strings)."""
    out: set[Any] = set()
    for value in values:
        if value is None:
            continue
        try:
            if column.type == "integer":
                out.add(int(value))
            elif column.type == "float":
                out.add(float(value))
            elif column.type == "boolean":
                out.add(value if isinstance(value, bool) else str(value).lower() in ("1", "true"))
            else:
                out.add(str(value))
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"column {column.name}: allowed value {value!r} is not a {column.type}"
            ) from exc
    return sorted(out)


def _columns_of(kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    """The columns a dataset-specific expectation is about (for naming and privacy)."""
    cols: list[str] = []
    for key in ("column", "column_A", "column_B"):
        if isinstance(kwargs.get(key), str):
            cols.append(kwargs[key])
    for key in ("column_list", "column_set"):
        if isinstance(kwargs.get(key), list):
            cols.extend(str(c) for c in kwargs[key])
    return tuple(cols)


def derive_checks(spec: SchemaSpec, *, code_lists: Mapping[str, Sequence[Any]]) -> list[Check]:
    """The suite of a schema; ``code_lists`` gives the values of every code list it names."""
    checks: list[Check] = []
    unique_cols: set[str] = set()
    key_cols = set(spec.keys)
    for col in spec.columns:
        name = col.name
        one = (name,)
        checks.append(
            Check("expect_column_to_exist", {"column": name}, "schema", f"column {name} is present", one)
        )
        checks.append(
            Check(
                "expect_column_values_to_be_in_type_list",
                {"column": name, "type_list": TYPE_NAMES[col.type]},
                "schema",
                f"{name} is of type {col.type}",
                one,
            )
        )
        if not col.nullable or col.role in NOT_NULL_ROLES or name in key_cols:
            why = "the privacy unit" if col.role == "privacy_unit" else "required"
            checks.append(
                Check(
                    "expect_column_values_to_not_be_null",
                    {"column": name},
                    "schema",
                    f"{name} is never null ({why})",
                    one,
                )
            )
        if col.unique or spec.keys == [name]:
            unique_cols.add(name)
            checks.append(
                Check(
                    "expect_column_values_to_be_unique", {"column": name}, "schema", f"{name} is unique", one
                )
            )
        allowed: list[Any] = list(col.codes or [])
        sources = []
        if col.codes:
            sources.append(f"{len(col.codes)} declared codes")
        if col.code_list:
            if col.code_list not in code_lists:
                raise InvalidInput(f"column {name}: code list {col.code_list!r} was not resolved")
            allowed.extend(code_lists[col.code_list])
            sources.append(f"code list {col.code_list}")
        if sources:
            value_set = _typed(col, allowed)
            checks.append(
                Check(
                    "expect_column_values_to_be_in_set",
                    {"column": name, "value_set": value_set},
                    "schema",
                    f"{name} is one of {len(value_set)} values ({' + '.join(sources)})",
                    one,
                )
            )
        if (col.min is not None or col.max is not None) and col.type not in ("integer", "float"):
            raise InvalidInput(f"column {name}: min/max apply to integer and float columns only")
        if col.min is not None or col.max is not None:
            bounds = {"min_value": col.min, "max_value": col.max}
            if col.type == "integer":
                bounds = {k: int(v) if v is not None else None for k, v in bounds.items()}
            text = " and ".join(
                part
                for part in (
                    f">= {col.min:g}" if col.min is not None else "",
                    f"<= {col.max:g}" if col.max is not None else "",
                )
                if part
            )
            checks.append(
                Check(
                    "expect_column_values_to_be_between",
                    {"column": name, **bounds},
                    "schema",
                    f"{name} is {text}",
                    one,
                )
            )
    if len(spec.keys) > 1:
        checks.append(
            Check(
                "expect_compound_columns_to_be_unique",
                {"column_list": list(spec.keys)},
                "schema",
                f"({', '.join(spec.keys)}) is unique together",
                tuple(spec.keys),
            )
        )
    for index, item in enumerate(spec.expectations):
        kind = item.get("type") or item.get("expectation_type")
        kwargs = item.get("kwargs", {})
        if not isinstance(kind, str) or not kind.startswith("expect_") or not isinstance(kwargs, dict):
            raise InvalidInput(
                f"dataset-specific expectation #{index + 1} needs a 'type' (expect_...) and 'kwargs'"
            )
        rule = str(item.get("description") or item.get("meta", {}).get("notes") or kind)
        checks.append(Check(kind, dict(kwargs), "config", rule, _columns_of(kwargs)))
    return checks


def code_list_names(spec: SchemaSpec) -> list[str]:
    """The code lists a schema names, in order, without repeats."""
    return list(dict.fromkeys(c.code_list for c in spec.columns if c.code_list))


def resolve_code_lists(session: Session, *, store: ParquetStore, spec: SchemaSpec) -> dict[str, list[Any]]:
    """The values of every code list of ``spec``: the distinct values of a published column.

    A code list is named ``"<dataset-id>:<column>"``; the reference dataset must have a current
    published version holding that column, or :class:`InvalidInput` says what is missing.
    """
    out: dict[str, list[Any]] = {}
    for name in code_list_names(spec):
        dataset_id, sep, column = name.partition(":")
        if not sep or not dataset_id or not column:
            raise InvalidInput(
                f"code list {name!r}: name it '<dataset-id>:<column>', e.g. 'comuni-torino:codice_comune'"
            )
        reference = get_dataset(session, dataset_id)
        current = reference.current_version
        if current is None:
            raise InvalidInput(f"code list {name!r}: dataset {dataset_id} has no published version")
        fields = {f["name"] for f in current.arrow_schema}
        if column not in fields:
            raise InvalidInput(f"code list {name!r}: dataset {dataset_id} has no column {column}")
        values = pc.unique(store.read_table(current.content_hash, columns=[column])[column])
        out[name] = [v for v in values.to_pylist() if v is not None]
    return out
