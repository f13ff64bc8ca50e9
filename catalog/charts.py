"""Charts of open datasets for the dataset page: a trend over time, or a bar chart by comune.

Only open (already aggregated, public) data is ever charted. The chart is computed here as data and
as ready-to-draw SVG coordinates, so the page needs no JavaScript library.

A statistical table has more dimensions than a chart has axes: the chart keeps one slice of every other
dimension, the total where the table has one (sex ``T``, education ``TOTAL``), and says which slice it
shows (:attr:`Chart.slice`). Attribute columns (observation flags, units, notes) are no dimensions and
never slice the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from datacommons.datasets import Dataset
from datacommons.specs import SchemaSpec
from datacommons.storage import ParquetStore

TIME_NAMES = ("TIME_PERIOD", "time_period", "year", "anno", "time")
MEASURE_NAMES = ("OBS_VALUE", "obs_value", "value", "valore")
AREA_NAMES = ("geo", "comune", "codice_comune", "territorio", "REF_AREA", "ref_area")
MAX_SERIES = 5
MAX_BARS = 15
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP, PAD_RIGHT = 640, 260, 68, 36, 12, 30
COLOURS = ("#0b5cad", "#c2410c", "#15803d", "#7e22ce", "#b91c1c")
#: Codes that mean "all of them" in SDMX, Eurostat and ISTAT code lists, by preference.
TOTAL_CODES = ("T", "TOTAL", "_T", "_TOTAL", "TOT", "9", "99", "TOTALE", "ALL", "_Z")
#: Columns that annotate an observation (not dimensions), when the schema does not say so.
ATTRIBUTE_NAMES = ("flag", "obs_flag", "obs_status", "conf_status", "note", "notes", "qualifier")


@dataclass
class Series:
    """One line (or the bars) of a chart: a label and (x label, value) points."""

    label: str
    points: list[tuple[str, float]]
    colour: str = COLOURS[0]
    path: str = ""
    dots: list[tuple[float, float, str, float]] = field(default_factory=list)


@dataclass
class Chart:
    """A chart ready to draw: kind, axis labels, series with SVG coordinates, y-axis ticks."""

    kind: str
    x_label: str
    y_label: str
    series: list[Series]
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, float]] = field(default_factory=list)
    bars: list[dict[str, Any]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    pad_left: int = PAD_LEFT
    #: The slice shown: (column, value kept, whether the value is the column's total).
    slice: list[tuple[str, str, bool]] = field(default_factory=list)


def _pick(
    columns: dict[str, pl.DataType], spec: SchemaSpec | None, role: str, names: tuple[str, ...], numeric: bool
) -> str | None:
    if spec is not None:
        for col in spec.columns:
            if col.role == role and col.name in columns:
                return col.name
    for name in names:
        if name in columns and (not numeric or columns[name].is_numeric()):
            return name
    return None


def _y_scale(values: list[float]) -> tuple[float, float]:
    low, high = min(values + [0.0]), max(values)
    if high == low:
        high = low + 1
    return low, high


def _y(value: float, low: float, high: float) -> float:
    usable = HEIGHT - PAD_TOP - PAD_BOTTOM
    return round(PAD_TOP + usable * (1 - (value - low) / (high - low)), 1)


def _ticks(low: float, high: float) -> list[tuple[float, float]]:
    """Five y-axis ticks: (SVG y, value); the page formats the value in its language."""
    return [(_y(low + (high - low) * i / 4, low, high), low + (high - low) * i / 4) for i in range(5)]


def _total(values: list[str]) -> str | None:
    """The value of ``values`` that stands for all of them, if there is one."""
    upper = {v.strip().upper(): v for v in values}
    return next((upper[code] for code in TOTAL_CODES if code in upper), None)


def _slice(
    frame: pl.DataFrame, spec: SchemaSpec | None, keep: tuple[str | None, ...]
) -> tuple[pl.DataFrame, list[tuple[str, str, bool]]]:
    """One slice of every dimension but ``keep``: its total if it has one, else its most frequent
    value. Attribute columns and values that are null are never chosen."""
    roles = {c.name: c.role for c in spec.columns} if spec is not None else {}
    chosen: list[tuple[str, str, bool]] = []
    for col, dtype in frame.schema.items():
        if col in keep or dtype != pl.String:
            continue
        role = roles.get(col)
        if (role is not None and role not in ("dimension", "key")) or col.lower() in ATTRIBUTE_NAMES:
            continue
        values = frame[col].drop_nulls()
        if values.n_unique() <= 1 and values.len() == frame.height:
            continue  # one value everywhere: nothing to choose
        if values.is_empty():
            continue
        total = _total(values.unique().to_list())
        value = total if total is not None else str(values.value_counts(sort=True)[col][0])
        frame = frame.filter(pl.col(col) == value)
        chosen.append((col, value, total is not None))
    return frame, chosen


def _line(
    frame: pl.DataFrame, time: str, measure: str, area: str | None, spec: SchemaSpec | None = None
) -> Chart | None:
    frame, chosen = _slice(frame, spec, (time, measure, area))
    frame = frame.filter(pl.col(measure).is_not_null())
    if frame.is_empty():
        return None
    groups = frame[area].drop_nulls().unique(maintain_order=True).to_list()[:MAX_SERIES] if area else [None]
    times = sorted(frame[time].cast(pl.String).unique().to_list())
    if len(times) < 2:
        return None
    series = []
    for i, key in enumerate(groups):
        part = frame if key is None or area is None else frame.filter(pl.col(area) == key)
        agg = part.group_by(pl.col(time).cast(pl.String)).agg(pl.col(measure).mean()).sort(time)
        points = [(str(t), float(v)) for t, v in agg.iter_rows()]
        series.append(Series(str(key) if key is not None else measure, points, COLOURS[i]))
    values = [v for s in series for _, v in s.points]
    low, high = _y_scale(values)
    step = (WIDTH - PAD_LEFT - PAD_RIGHT) / max(1, len(times) - 1)
    x_of = {t: round(PAD_LEFT + i * step, 1) for i, t in enumerate(times)}
    for s in series:
        coords = [(x_of[t], _y(v, low, high), t, v) for t, v in s.points]
        s.path = " ".join(f"{x},{y}" for x, y, _, _ in coords)
        s.dots = coords
    every = max(1, len(times) // 8)
    x_ticks = [(x_of[t], t) for i, t in enumerate(times) if i % every == 0 or i == len(times) - 1]
    return Chart("line", time, measure, series, x_ticks, _ticks(low, high), slice=chosen)


def _bars(frame: pl.DataFrame, area: str, measure: str, spec: SchemaSpec | None = None) -> Chart | None:
    frame, chosen = _slice(frame, spec, (area, measure))
    agg = (
        frame.filter(pl.col(measure).is_not_null())
        .group_by(area)
        .agg(pl.col(measure).sum())
        .sort(measure, descending=True)
        .head(MAX_BARS)
    )
    if agg.is_empty():
        return None
    points = [(str(k), float(v)) for k, v in agg.iter_rows()]
    low, high = _y_scale([v for _, v in points])
    slot = (WIDTH - PAD_LEFT - PAD_RIGHT) / len(points)
    bars = []
    for i, (label, value) in enumerate(points):
        top, base = _y(max(value, 0), low, high), _y(min(value, 0), low, high)
        bars.append(
            {
                "x": round(PAD_LEFT + i * slot + slot * 0.1, 1),
                "y": top,
                "w": round(slot * 0.8, 1),
                "h": round(max(base - top, 1), 1),
                "label": label,
                "value": value,
            }
        )
    return Chart("bar", area, measure, [Series(measure, points)], [], _ticks(low, high), bars, slice=chosen)


def chart_for(dataset: Dataset, store: ParquetStore) -> Chart | None:
    """The chart of an open dataset's current version, if it has something to plot."""
    version = dataset.current_version
    if dataset.access != "open" or version is None:
        return None
    spec = SchemaSpec.model_validate(dataset.schema_spec) if dataset.schema_spec else None
    frame = pl.from_arrow(store.read_table(version.content_hash))
    assert isinstance(frame, pl.DataFrame)
    columns = dict(frame.schema)
    measure = _pick(columns, spec, "measure", MEASURE_NAMES, numeric=True)
    if measure is None:
        return None
    time = _pick(columns, spec, "time", TIME_NAMES, numeric=False)
    area = next((n for n in AREA_NAMES if n in columns), None)
    if time is not None:
        return _line(frame, time, measure, area, spec)
    if area is not None:
        return _bars(frame, area, measure, spec)
    return None
