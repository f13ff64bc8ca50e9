"""Private dataset versions loaded for querying, kept in memory.

Versions are immutable and content-addressed, so a loaded frame is cached by its content hash and
never goes stale. Each frame carries ``_rank``: the position of a row among its donor's rows, which
bounds each donor's contribution (rows with ``_rank >= max_rows_per_unit`` are truncated), ``_unit``:
the donor's pseudonym as a small integer, and for
every float column ``c`` its fixed-point integer form ``_fp_c`` (``round(c * FIXED_POINT)``), computed
once per version instead of once per query.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import polars as pl

from datacommons.storage import ParquetStore

RANK = "_rank"
#: A donor's pseudonym as a small integer (persons are counted on it: hashing integers is faster).
UNIT_ID = "_unit"
#: Fixed-point resolution of float sums: 1/100 (cents, for wages in EUR).
FIXED_POINT = 100


def fixed_point(column: str) -> str:
    """The name of a float column's fixed-point integer form in a loaded frame."""
    return f"_fp_{column}"


_CACHE: OrderedDict[tuple[str, str], pl.DataFrame] = OrderedDict()
_LOCK = threading.Lock()
CACHE_SIZE = 4


def load_frame(store: ParquetStore, content_hash: str, privacy_unit: str) -> pl.DataFrame:
    """The version's rows with their per-donor rank (cached)."""
    key = (content_hash, privacy_unit)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    frame = pl.from_arrow(store.read_table(content_hash))
    assert isinstance(frame, pl.DataFrame)
    floats = [name for name, dtype in frame.schema.items() if dtype in (pl.Float32, pl.Float64)]
    frame = frame.with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).over(privacy_unit).alias(RANK),
        pl.col(privacy_unit).rank("dense").cast(pl.UInt32).alias(UNIT_ID),
        # NaN counts as missing (an integer cast of NaN would fail; see privacy.engine._number)
        *[
            (pl.col(c).cast(pl.Float64).fill_nan(None) * FIXED_POINT)
            .round()
            .cast(pl.Int64)
            .alias(fixed_point(c))
            for c in floats
        ],
    )
    with _LOCK:
        _CACHE[key] = frame
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return frame


_ELIGIBLE: dict[tuple[int, int], tuple[frozenset[str], pl.Series]] = {}


def eligible_series(donors: frozenset[str]) -> pl.Series:
    """The eligible donors as a Series for ``is_in`` (cached: the same set is asked again and again)."""
    key = (len(donors), hash(donors))
    found = _ELIGIBLE.get(key)
    if found is not None and (found[0] is donors or found[0] == donors):
        return found[1]
    series = pl.Series("eligible", sorted(donors), dtype=pl.String)
    if len(_ELIGIBLE) > 16:
        _ELIGIBLE.clear()
    _ELIGIBLE[key] = (donors, series)
    return series
