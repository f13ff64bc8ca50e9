"""SDMX-CSV 1.0 (Eurostat, ISTAT) read into a tidy Arrow table with pyarrow's multi-threaded reader.

SDMX-CSV 1.0 has a header ``DATAFLOW[,LAST UPDATE],<dimension>…,TIME_PERIOD,OBS_VALUE[,<attribute>…]``.
The tidy table keeps each dimension (lower case), ``time``, ``value`` (float, null where the source
writes ``:`` or nothing) and ``flag`` (``OBS_FLAG`` at Eurostat, ``OBS_STATUS`` at ISTAT). Values with
a flag glued on (``6.1 b``, the TSV habit) are split. Bad input raises
:class:`~datacommons.errors.InvalidInput` naming the file, the row and the column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors.base import Connector, Fetched, line_number, sniff
from datacommons.errors import InvalidInput
from datacommons.specs import ColumnSpec

PREFIX_COLUMNS = ("DATAFLOW", "LAST UPDATE")
FLAG_COLUMNS = ("OBS_FLAG", "OBS_STATUS")
NULLS = [":", "", ": ", "NaN"]
BLOCK_SIZE = 1 << 22


@dataclass(frozen=True)
class SdmxData:
    """A parsed SDMX-CSV file: the tidy table, its dataflow, its upstream last update and dimensions."""

    table: pa.Table
    dataflow: str
    last_update: str | None
    dimensions: list[str]


def parse_last_update(text: str | None) -> str | None:
    """Eurostat's ``LAST UPDATE`` (``22/05/26 11:00:00``) or an ISO date-time, as ISO 8601."""
    if not text or not text.strip():
        return None
    text = text.strip()
    for fmt in ("%d/%m/%y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).isoformat()
        except ValueError:
            continue
    try:  # an annotation such as 2026-05-22T11:00:00+0200: the source's local time, as written
        return datetime.fromisoformat(text).replace(tzinfo=None).isoformat()
    except ValueError:
        return text


def flow_id(dataflow: str) -> str:
    """The flow's id from a ``DATAFLOW`` cell such as ``ESTAT:LFST_R_LFU3RT(1.0)``."""
    match = re.fullmatch(r"(?:[^:]+:)?([^()]+)(?:\(.*\))?", dataflow.strip())
    return (match.group(1) if match else dataflow).strip().lower()


def _first_rows(path: Path, source: str) -> tuple[list[str], list[str] | None]:
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut by the read boundary
            _encoding_error(path, source)
        text = head[: exc.start].decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0] if rows else []
    first = rows[1] if len(rows) > 1 and len(rows[1]) == len(header) else None
    return header, first


def _encoding_error(path: Path, source: str) -> None:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        raise InvalidInput(
            f"{source}: row {row} is not UTF-8 (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); save the file as UTF-8"
        ) from None
    raise InvalidInput(f"{source}: the file is not valid UTF-8")


def _bad_row(path: Path, source: str, row: pacsv.InvalidRow) -> InvalidInput:
    number = row.number
    if number is None:  # parallel parsing does not always know the line: find it
        number = line_number(path, row.text)
    where = f"row {number}" if number is not None else "a row"
    return InvalidInput(
        f"{source}: {where} has {row.actual_columns} fields instead of "
        f"{row.expected_columns} (a truncated or malformed file?)"
    )


def read_sdmx_csv(path: Path, *, source: str | None = None) -> SdmxData:
    """Read an SDMX-CSV 1.0 file into its tidy table."""
    source = source or path.name
    sniff(path, source=source)
    header, first = _first_rows(path, source)
    upper = [h.strip().upper() for h in header]
    for required in ("DATAFLOW", "TIME_PERIOD", "OBS_VALUE"):
        if required not in upper:
            shown = ",".join(header[:8])
            raise InvalidInput(f"{source}: no column {required} (not SDMX-CSV 1.0? header: {shown})")
    if first is None:
        raise InvalidInput(f"{source}: the file has a header but no observations")
    t_at = upper.index("TIME_PERIOD")
    dims = [h for h, u in zip(header[:t_at], upper[:t_at], strict=True) if u not in PREFIX_COLUMNS]
    flag = next((header[upper.index(f)] for f in FLAG_COLUMNS if f in upper), None)
    value_col = header[upper.index("OBS_VALUE")]
    time_col = header[t_at]
    dataflow = first[upper.index("DATAFLOW")]
    last_update = parse_last_update(first[upper.index("LAST UPDATE")]) if "LAST UPDATE" in upper else None
    wanted = [*dims, time_col, value_col, *([flag] if flag else [])]
    types = {c: pa.string() for c in wanted}
    types[value_col] = pa.float64()
    bad: list[pacsv.InvalidRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(row)
        return "skip"

    def read(column_types: dict[str, pa.DataType]) -> pa.Table:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=column_types,
                include_columns=wanted,
                null_values=NULLS,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )

    try:
        try:
            table = read(types)
        except pa.ArrowInvalid as exc:
            if "conversion error to double" not in str(exc):
                raise
            bad.clear()
            table = _split_flags(read({**types, value_col: pa.string()}), value_col, flag, source)
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "utf8" in str(exc).lower():
            _encoding_error(path, source)
        raise InvalidInput(f"{source}: not a valid SDMX-CSV file ({str(exc).splitlines()[0]})") from exc
    if bad:
        raise _bad_row(path, source, bad[0])
    if table.num_rows == 0:
        raise InvalidInput(f"{source}: the file has a header but no observations")
    for dim in dims:
        nulls = table[dim].null_count
        if nulls:
            index = pc.index(pc.is_null(table[dim]), True).as_py()
            raise InvalidInput(f"{source}: row {index + 2} has no value in column {dim}")
    names = [d.lower() for d in dims] + ["time", "value"]
    columns = [table[d] for d in dims] + [table[time_col], table[value_col]]
    names.append("flag")
    if flag is None and "OBS_FLAG" in table.column_names:  # flags split off the values
        flag = "OBS_FLAG"
    columns.append(table[flag] if flag else pa.nulls(table.num_rows, pa.string()))
    tidy = pa.Table.from_arrays(columns, names=names)
    return SdmxData(
        table=tidy, dataflow=dataflow, last_update=last_update, dimensions=[d.lower() for d in dims]
    )


def _split_flags(table: pa.Table, value_col: str, flag: str | None, source: str) -> pa.Table:
    """Values such as ``6.1 b`` or ``: u``: the number to ``value``, the letters to the flag."""
    raw = pc.utf8_trim_whitespace(table[value_col])
    number = pc.extract_regex(raw, r"^(?P<n>[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|:)?\s*(?P<f>[a-z]*)$")
    ok = pc.is_valid(number)
    if not pc.all(pc.or_(ok, pc.is_null(raw))).as_py():
        index = pc.index(pc.and_(pc.invert(ok), pc.is_valid(raw)), True).as_py()
        value = raw[index].as_py()
        raise InvalidInput(f"{source}: row {index + 2}, column {value_col}: {value!r} is not a number")
    digits = pc.struct_field(number, "n")
    digits = pc.if_else(pc.equal(digits, ":"), None, digits)
    digits = pc.if_else(pc.equal(digits, ""), None, digits)
    values = pc.cast(digits, pa.float64())
    letters = pc.struct_field(number, "f")
    letters = pc.if_else(pc.equal(letters, ""), None, letters)
    out = table.set_column(table.column_names.index(value_col), value_col, values)
    if flag:
        merged = pc.coalesce(table[flag], letters)
        out = out.set_column(out.column_names.index(flag), flag, merged)
    else:
        out = out.append_column("OBS_FLAG", letters)
    return out


def tidy_columns(
    data: SdmxData,
    *,
    area: str,
    area_rules: dict[str, Any],
    value: ColumnSpec,
    flag_description: str,
    time_description: str = "",
) -> list[ColumnSpec]:
    """The declared schema of a tidy SDMX table: its dimensions (non-null strings; the ``area``
    dimension with ``area_rules`` such as codes or a code list), then time, value and flag."""
    columns = [
        ColumnSpec(
            name=d, type="string", role="dimension", nullable=False, **(area_rules if d == area else {})
        )
        for d in data.dimensions
    ]
    return columns + [
        ColumnSpec(name="time", type="string", role="time", nullable=False, description=time_description),
        value,
        ColumnSpec(name="flag", type="string", role="attribute", nullable=True, description=flag_description),
    ]


def read_fetched(connector: Connector[Any], fetched: Fetched) -> tuple[str, SdmxData]:
    """A fetched flow's SDMX-CSV (or the SDMX-CSV file given, whose flow it names), checked to be
    the flow that was asked for: ``(flow id, data)``."""
    source = fetched.source
    if source is None:
        with connector.converting(fetched.name):
            data = read_sdmx_csv(fetched.path, source=fetched.name)
        return flow_id(data.dataflow), data
    flow = str(source.ref)
    with connector.converting(source.source):
        data = read_sdmx_csv(fetched.path, source=f"{source.source} ({fetched.url})")
    if flow_id(data.dataflow) != flow.lower():
        raise InvalidInput(f"{connector.name} {flow}: the answer is flow {data.dataflow}")
    return flow, data
