"""Running a suite with Great Expectations (pandas engine) and turning its results into plain JSON.

Each run uses its own ephemeral context (no files, no analytics, no progress bars). The whole suite
is validated in one call so that GE shares metrics between expectations; results are matched back to
their :class:`~datacommons.quality.suite.Check` by an index kept in each expectation's ``meta``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import uuid
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa

from datacommons.errors import InvalidInput
from datacommons.quality.suite import Check

# Before GE is imported: a validation never phones home.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402
import great_expectations.execution_engine.pandas_execution_engine as gx_pandas  # noqa: E402
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.expectations.expectation_configuration import (  # noqa: E402
    ExpectationConfiguration,
)

# GE labels each in-memory batch with an MD5 of the whole frame (``hash_pandas_object``) when it is
# under 1 GB, twice per run: on 2.2 million rows that costs twice the read itself and checks
# nothing.
# The batch is ours and lives for one run, so the fingerprint is switched off (GE has no setting).
gx_pandas.HASH_THRESHOLD = 0

#: How many unexpected values a report shows per expectation.
EXAMPLES = 5
#: BASIC gives counts and the first unexpected values; SUMMARY would add the unexpected rows' index,
#: which costs a filtered copy of the whole frame per expectation and tells an administrator
#: nothing.
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": EXAMPLES * 4}

#: Arrow types read as pandas' nullable dtypes, so that GE recognises the dtype of a string column.
_NULLABLE: dict[pa.DataType, Any] = {
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype("pyarrow"),
    pa.large_string(): pd.StringDtype("pyarrow"),
    pa.string_view(): pd.StringDtype("pyarrow"),
}


def to_frame(table: pa.Table) -> pd.DataFrame:
    """The in-memory form a version is validated in (pandas).

    Strings and booleans become pandas' nullable dtypes; integers become numpy ``int64`` — or the
    nullable ``Int64`` when the column has nulls, so that a null never turns an integer column into
    floats; dates and timestamps become ``datetime64[ns]``. GE compares numpy ``int64``/``float64``
    and ``datetime64[ns]`` columns with vectorised code and other dtypes value by value, hence the
    choice.
    """
    frame = table.to_pandas(
        types_mapper=_NULLABLE.get, date_as_object=False, coerce_temporal_nanoseconds=True
    )
    for name, column in zip(table.column_names, table.columns, strict=True):
        if not pa.types.is_integer(column.type):
            continue
        if column.null_count:
            frame[name] = column.to_pandas(types_mapper=lambda _t: pd.Int64Dtype())
        elif frame[name].dtype != "int64":
            frame[name] = frame[name].astype("int64")
    return frame


def plain(value: Any) -> Any:
    """A value as JSON can hold it (numpy scalars, NaN, timestamps, tuples...)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, list | tuple | dict):
        try:
            return plain(value.item())
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    return str(value)


def _context() -> Any:
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


@contextmanager
def _string_conditions_allowed() -> Iterator[None]:
    """Silence GE's deprecation of string row conditions.

    Dataset-specific expectations come from JSON configuration, where a row condition can only be a
    string; GE 1.9+ deprecates string conditions but still supports them.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*(row_condition|condition_parser).*", category=DeprecationWarning
        )
        yield


def _expectation(check: Check, index: int) -> Any:
    try:
        with _string_conditions_allowed():
            config = ExpectationConfiguration(type=check.type, kwargs=check.kwargs, meta={"check": index})
            return config.to_domain_obj()
    except Exception as exc:  # GE raises many kinds for an unknown type or bad kwargs
        raise InvalidInput(
            f"expectation {check.name} is not a valid Great Expectations "
            f"expectation: {' '.join(str(exc).split())[:300]}"
        ) from exc


def _examples(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Up to :data:`EXAMPLES` distinct unexpected values, with how often each is among the first."""
    seen: Counter[str] = Counter()
    first: dict[str, Any] = {}
    for value in result.get("partial_unexpected_list") or []:
        value = plain(value)
        key = json.dumps(value, sort_keys=True)
        first.setdefault(key, value)
        seen[key] += 1
    return [{"value": first[key], "count": count} for key, count in seen.most_common(EXAMPLES)]


def run_checks(
    frame: pd.DataFrame, checks: Sequence[Check], *, hidden_columns: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Validate ``frame`` against ``checks`` with Great Expectations; one JSON result per check.

    Checks on a column of ``hidden_columns`` (privacy units) never carry example values. Checks on a
    declared column that is missing are not run: ``expect_column_to_exist`` fails and names it.
    """
    hidden = set(hidden_columns)
    present = set(frame.columns)
    runnable = [
        (i, c)
        for i, c in enumerate(checks)
        if c.type == "expect_column_to_exist" or c.origin == "config" or set(c.columns) <= present
    ]
    outcome: dict[int, dict[str, Any]] = {}
    if runnable:
        context = _context()
        name = f"run-{uuid.uuid4().hex[:12]}"
        batch_definition = (
            context.data_sources.add_pandas(name)
            .add_dataframe_asset("version")
            .add_batch_definition_whole_dataframe("whole")
        )
        suite = gx.ExpectationSuite(name=name)
        for index, check in runnable:
            suite.add_expectation(_expectation(check, index))
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        with _string_conditions_allowed():
            validation = batch.validate(suite, result_format=RESULT_FORMAT)
        for res in validation.results:
            index = int(res.expectation_config.meta["check"])
            outcome[index] = res.to_json_dict()
    rows: list[dict[str, Any]] = []
    for index, check in enumerate(checks):
        res = outcome.get(index)
        row: dict[str, Any] = {
            "name": check.name,
            "type": check.type,
            "columns": list(check.columns),
            "origin": check.origin,
            "rule": check.rule,
            "kwargs": _shown_kwargs(check.kwargs),
        }
        if res is None:
            row.update(
                success=False,
                skipped=True,
                exception="not run: a column it needs is missing",
                element_count=None,
                unexpected_count=None,
                unexpected_percent=None,
                observed_value=None,
                examples=[],
                examples_withheld=False,
            )
            rows.append(row)
            continue
        result = res.get("result") or {}
        exception = res.get("exception_info") or {}
        message = None
        if exception.get("raised_exception"):
            message = exception.get("exception_message")
        else:  # a suite run nests exception info per metric
            for info in exception.values() if isinstance(exception, dict) else ():
                if isinstance(info, dict) and info.get("raised_exception"):
                    message = info.get("exception_message")
                    break
        withheld = bool(hidden & set(check.columns))
        row.update(
            success=bool(res.get("success")) and message is None,
            skipped=False,
            exception=" ".join(str(message).split())[:500] if message else None,
            element_count=plain(result.get("element_count")),
            unexpected_count=plain(result.get("unexpected_count")),
            unexpected_percent=plain(result.get("unexpected_percent")),
            observed_value=None if withheld else plain(result.get("observed_value")),
            examples=[] if withheld else _examples(result),
            examples_withheld=withheld,
        )
        rows.append(row)
    return rows


def _shown_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Kwargs as a report shows them: long value sets cut to their first values and a count."""
    shown: dict[str, Any] = {}
    for key, value in kwargs.items():
        if isinstance(value, list | tuple | set) and len(value) > 12:
            items = list(value)
            shown[key] = {"first": plain(items[:10]), "count": len(items)}
        else:
            shown[key] = plain(value)
    return shown
