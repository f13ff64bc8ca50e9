"""Reading tabular files (CSV, XLSX, Parquet) and converting their columns, with precise errors.

Every error names the file and, where it can, the row (1-based, the header being row 1) and the
column, so that whoever sent the file can fix it.
"""

from __future__ import annotations

import codecs
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import AfterValidator, Field

from connectors.base import line_number, sniff
from datacommons.errors import InvalidInput

Format = Literal["csv", "xlsx", "parquet"]
ColumnType = Literal["string", "integer", "float", "boolean", "date"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "float": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
}
TYPE_WORDS = {
    "integer": "an integer",
    "float": "a number",
    "boolean": "true/false (or 0/1)",
    "date": "a date (YYYY-MM-DD)",
    "string": "text",
}
TRUE = ["1", "true", "True", "TRUE", "yes", "si", "sì", "y", "t"]
FALSE = ["0", "false", "False", "FALSE", "no", "n", "f"]


def _known_encoding(name: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError:
        raise ValueError(f"unknown encoding {name!r} (utf-8, latin-1, cp1252, ...)") from None
    return name


#: A text encoding Python knows, as a connector parameter.
Encoding = Annotated[str, AfterValidator(_known_encoding)]
#: A CSV delimiter: one character.
Delimiter = Annotated[
    str, Field(min_length=1, max_length=1, description="one character, e.g. ; or , (sniffed when not given)")
]


def detect_format(path: Path, head: bytes, declared: str | None = None) -> Format:
    """The file's format: declared, or from its first bytes, or from its extension."""
    if declared:
        fmt = declared.lower().lstrip(".")
        if fmt not in ("csv", "xlsx", "parquet"):
            raise InvalidInput(f"{path.name}: unknown format {declared!r} (csv, xlsx or parquet)")
        return fmt  # type: ignore[return-value]
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("xlsx", "parquet"):
        return suffix  # type: ignore[return-value]
    return "csv"


def read_table(
    path: Path,
    *,
    source: str | None = None,
    fmt: str | None = None,
    encoding: str = "utf-8",
    delimiter: str | None = None,
) -> pa.Table:
    """Read a CSV (every column as text), an XLSX (first sheet) or a Parquet file."""
    source = source or path.name
    head = sniff(path, source=source)
    kind = detect_format(path, head, fmt)
    if kind == "parquet":
        table = _read_parquet(path, source)
    elif kind == "xlsx":
        table = _read_xlsx(path, source)
    else:
        table = _read_csv(path, source, head, encoding, delimiter)
    if table.num_rows == 0:
        raise InvalidInput(f"{source}: the file has a header but no rows")
    return table.rename_columns([str(c).strip() for c in table.column_names])


def _read_parquet(path: Path, source: str) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(
            f"{source}: not a valid Parquet file (truncated or corrupt: {str(exc).splitlines()[0]})"
        ) from exc


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(path: Path, source: str) -> pa.Table:
    from openpyxl import load_workbook

    with path.open("rb") as fh:  # a file object: openpyxl would refuse a name without .xlsx
        try:
            book = load_workbook(fh, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise InvalidInput(f"{source}: not a valid XLSX file (truncated or corrupt: {exc})") from exc
        try:
            rows = book.worksheets[0].iter_rows(values_only=True)
            header = next(rows, None)
            if not header or all(h is None for h in header):
                raise InvalidInput(f"{source}: the first sheet is empty")
            names = [str(h).strip() if h is not None else f"column_{i + 1}" for i, h in enumerate(header)]
            columns: list[list[str | None]] = [[] for _ in names]
            for row in rows:
                if row is None or all(v is None for v in row):
                    continue
                for i in range(len(names)):
                    columns[i].append(_cell(row[i]) if i < len(row) else None)
        except (zipfile.BadZipFile, EOFError) as exc:
            raise InvalidInput(f"{source}: not a valid XLSX file (truncated or corrupt: {exc})") from exc
        finally:
            book.close()
    return pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, columns, strict=True)})


def _sniff_delimiter(head: bytes) -> str:
    first = head.split(b"\n", 1)[0]
    counts = {d: first.count(d.encode()) for d in (",", ";", "\t", "|")}
    return max(counts, key=lambda d: counts[d])


def _locate_encoding_error(path: Path, source: str, encoding: str) -> InvalidInput:
    data = path.read_bytes()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        return InvalidInput(
            f"{source}: row {row} is not {encoding} (byte 0x{data[exc.start]:02x} "
            f"at offset {exc.start}); declare the file's encoding or save it as "
            f"{encoding}"
        )
    return InvalidInput(f"{source}: the file is not valid {encoding}")


def _read_csv(path: Path, source: str, head: bytes, encoding: str, delimiter: str | None) -> pa.Table:
    bad: list[pacsv.InvalidRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter or _sniff_delimiter(head), invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=_all_strings(path, head, encoding, delimiter),
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=[""],
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        text = str(exc)
        if isinstance(exc, UnicodeDecodeError) or "utf8" in text.lower() or "decode" in text.lower():
            raise _locate_encoding_error(path, source, encoding) from exc
        if "Empty CSV file" in text:
            raise InvalidInput(f"{source}: the file is empty") from exc
        raise InvalidInput(f"{source}: not a valid CSV file ({text.splitlines()[0]})") from exc
    if bad:
        row = bad[0]
        number = row.number
        if number is None:
            number = line_number(path, row.text, encoding=encoding)
        where = f"row {number}" if number is not None else "a row"
        raise InvalidInput(
            f"{source}: {where} has {row.actual_columns} fields instead of "
            f"{row.expected_columns} (a truncated or malformed file?)"
        )
    return table


def _all_strings(path: Path, head: bytes, encoding: str, delimiter: str | None) -> dict[str, pa.DataType]:
    """Read every column as text: types are decided by the caller, with precise errors."""
    import csv
    import io

    try:
        first = head.decode(encoding, errors="strict")
    except UnicodeDecodeError:
        first = head.decode(encoding, errors="ignore")
    first = first.lstrip("\ufeff")
    header = next(csv.reader(io.StringIO(first), delimiter=delimiter or _sniff_delimiter(head)), [])
    return {h: pa.string() for h in header}


def convert_column(
    values: pa.ChunkedArray, kind: ColumnType, *, source: str, column: str, row_offset: int = 2
) -> pa.ChunkedArray:
    """Convert a column to a declared type; the first bad value is named with its row."""
    target = ARROW_TYPES[kind]
    if values.type == target:
        return values
    if kind == "string":
        return pc.cast(values, pa.string())
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        values = pc.utf8_trim_whitespace(values)
        if kind == "boolean":
            truthy = pc.is_in(values, pa.array(TRUE))
            falsy = pc.is_in(values, pa.array(FALSE))
            good = pc.or_(pc.or_(truthy, falsy), pc.is_null(values))
            if not pc.all(good).as_py():
                _raise_bad(values, good, kind, source, column, row_offset)
            return pc.if_else(pc.is_null(values), None, truthy)
        if kind == "float":
            values = pc.replace_substring(values, ",", ".")  # Italian decimal comma
    try:
        return pc.cast(values, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        good = _castable(values, target)
        _raise_bad(values, good, kind, source, column, row_offset)
        raise  # pragma: no cover - _raise_bad always raises


def _castable(values: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """Which values cast cleanly (slow path, only to find the first bad row)."""
    flags = []
    for value in values.to_pylist():
        try:
            pc.cast(pa.array([value], values.type), target)
            flags.append(True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            flags.append(False)
            break
    flags += [True] * (len(values) - len(flags))
    return pa.chunked_array([pa.array(flags, pa.bool_())])


def _raise_bad(
    values: pa.ChunkedArray, good: Any, kind: str, source: str, column: str, row_offset: int
) -> None:
    index = pc.index(good, False).as_py()
    value = values[index].as_py()
    raise InvalidInput(
        f"{source}: row {index + row_offset}, column {column}: {value!r} is not {TYPE_WORDS[kind]}"
    )


def infer_types(table: pa.Table) -> pa.Table:
    """Text columns that hold only integers or only numbers become integer or float columns
    (codes with leading zeros stay text)."""
    out = table
    for i, name in enumerate(table.column_names):
        column = table[name]
        if not pa.types.is_string(column.type):
            continue
        trimmed = pc.utf8_trim_whitespace(column)
        if pc.any(pc.match_substring_regex(trimmed, r"^0[0-9]")).as_py():
            continue  # a code with leading zeros (ISTAT 001272, a CAP): text, not a number
        for target in (pa.int64(), pa.float64()):
            try:
                candidate = trimmed if target == pa.int64() else pc.replace_substring(trimmed, ",", ".")
                out = out.set_column(i, name, pc.cast(candidate, target))
                break
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
    return out
