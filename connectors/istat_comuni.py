"""ISTAT's list of Italian municipalities (*Elenco dei comuni italiani*), read into Arrow.

The file is ``;``-separated, latin-1, with quoted headers that contain line breaks; ISTAT renames and
footnotes its columns between releases, so columns are matched by header text, not position.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from datacommons.errors import InvalidInput

REFERENCE_FILE = "Elenco-comuni-italiani.csv"
TURIN_SIGLA = "TO"
TURIN_NUTS3 = "ITC11"


def reference_path() -> Path:
    """The copy of ISTAT's list shipped with the project (Fonte: ISTAT, CC BY 3.0 IT)."""
    return Path(__file__).resolve().parent / "reference" / REFERENCE_FILE


def _norm(header: str) -> str:
    text = re.sub(r"\(\d+\)", " ", header.lower())  # footnote markers such as "(3)"
    return re.sub(r"\s+", " ", text).strip()


def _nuts(level: str) -> Callable[[str], int | None]:
    """A matcher for 'Codice NUTSn YYYY' that prefers the newest classification."""

    def match(header: str) -> int | None:
        found = re.fullmatch(rf"codice nuts{level} (\d{{4}})", header)
        return int(found.group(1)) if found else None

    return match


#: Output column -> how to recognise its header (exact normalised text, prefix, or NUTS year).
COLUMNS: dict[str, str | Callable[[str], int | None]] = {
    "codice_comune": "codice comune formato alfanumerico",
    "comune": "denominazione in italiano",
    "denominazione_completa": "denominazione (italiana e straniera)",
    "codice_catastale": "codice catastale del comune",
    "sigla_provincia": "sigla automobilistica",
    "unita_sovracomunale": "denominazione dell'unità territoriale sovracomunale",
    "codice_regione": "codice regione",
    "regione": "denominazione regione",
    "capoluogo": "flag comune capoluogo",
    "nuts1": _nuts("1"),
    "nuts2": _nuts("2"),
    "nuts3": _nuts("3"),
}
REQUIRED = ("codice_comune", "comune", "sigla_provincia", "regione", "nuts1", "nuts2", "nuts3")


def match_columns(headers: list[str]) -> dict[str, str]:
    """Map output columns to the file's headers; :class:`InvalidInput` names any that are missing."""
    normalised = {_norm(h): h for h in headers}
    found: dict[str, str] = {}
    for out, rule in COLUMNS.items():
        if isinstance(rule, str):
            hits = [orig for norm, orig in normalised.items() if norm == rule or norm.startswith(rule)]
            if hits:
                found[out] = hits[0]
        else:
            years = [(year, orig) for norm, orig in normalised.items() if (year := rule(norm))]
            if years:
                found[out] = max(years)[1]
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        raise InvalidInput(
            "not ISTAT's list of comuni: no column for " + ", ".join(missing)
            + f" (headers found: {', '.join(repr(h) for h in headers[:6])}…)"
        )
    return found


def _decode(raw: bytes, source: str) -> str:
    if not raw.strip():
        raise InvalidInput(f"{source}: the file is empty")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # ISTAT's own encoding


def read_comuni(path: Path) -> pa.Table:
    """All comuni of ISTAT's list at ``path``, as strings with tidy column names."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{source}: cannot read the file ({exc.strerror})") from exc
    text = _decode(raw, source)
    headers = next(csv.reader(io.StringIO(text), delimiter=";"), [])
    mapping = match_columns(headers)
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            parse_options=pacsv.ParseOptions(delimiter=";", newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in headers},
                include_columns=list(mapping.values()),
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InvalidInput(f"{source}: not a valid ';'-separated file ({exc})") from exc
    table = table.rename_columns([{v: k for k, v in mapping.items()}[c] for c in table.column_names])
    table = table.select([c for c in COLUMNS if c in mapping])
    if "capoluogo" in mapping:
        flag = pc.equal(table["capoluogo"], "1")
        table = table.set_column(table.column_names.index("capoluogo"), "capoluogo", flag)
    codes = table["codice_comune"]
    if pc.any(pc.not_equal(pc.utf8_length(codes), 6)).as_py():
        raise InvalidInput(f"{source}: column {mapping['codice_comune']!r} holds codes that are not "
                           "6 characters long")
    if table.num_rows == 0:
        raise InvalidInput(f"{source}: the file has a header but no comuni")
    return table


def turin_subset(table: pa.Table) -> pa.Table:
    """The comuni of the Metropolitan City of Turin (NUTS3 ITC11), sorted by code."""
    mask = pc.equal(table["nuts3"], TURIN_NUTS3)
    return table.filter(mask).sort_by("codice_comune")
