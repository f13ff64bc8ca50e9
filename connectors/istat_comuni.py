"""ISTAT's list of Italian municipalities (*Elenco dei comuni italiani*), read into Arrow.

The file is ``;``-separated, latin-1, with quoted headers that contain line breaks; ISTAT renames and
footnotes its columns between releases, so columns are matched by header text, not position.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors.base import Connector, ConnectorConfig, Fetched, Parsed, Source, sniff
from datacommons.errors import InvalidInput
from datacommons.specs import ColumnSpec, DatasetMeta, SchemaSpec

REFERENCE_FILE = "Elenco-comuni-italiani.csv"
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
#: What the codes of each comune look like: a bad one (often the cut last row) is named.
CODE_PATTERNS = (
    ("codice_comune", r"^[0-9]{6}$", "a 6-digit ISTAT code"),
    ("nuts1", r"^IT[A-Z]$", "a NUTS1 code"),
    ("nuts2", r"^IT[A-Z][0-9]$", "a NUTS2 code"),
    ("nuts3", r"^IT[A-Z][0-9][0-9A-Z]$", "a NUTS3 code"),
)
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
            "not ISTAT's list of comuni: no column for "
            + ", ".join(missing)
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


def read_comuni(path: Path, *, source: str | None = None) -> pa.Table:
    """All comuni of ISTAT's list at ``path``, as strings with tidy column names."""
    source = source or str(path)
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
    if table.num_rows == 0:
        raise InvalidInput(f"{source}: the file has a header but no comuni")
    for column, pattern, what in CODE_PATTERNS:
        bad = pc.invert(pc.match_substring_regex(table[column], pattern))
        if pc.any(bad).as_py():
            at = pc.index(bad, True).as_py()
            hint = " (a truncated file?)" if at == table.num_rows - 1 else ""
            raise InvalidInput(
                f"{source}: row {at + 2}, column {mapping[column].strip()!r}: "
                f"{table[column][at].as_py()!r} is not {what}{hint}"
            )
    return table


def turin_subset(table: pa.Table) -> pa.Table:
    """The comuni of the Metropolitan City of Turin (NUTS3 ITC11), sorted by code."""
    mask = pc.equal(table["nuts3"], TURIN_NUTS3)
    return table.filter(mask).sort_by("codice_comune")


# --- the ``istat-comuni`` connector -------------------------------------------------------------

SOURCE_URL = "https://www.istat.it/storage/codici-unita-amministrative/Elenco-comuni-italiani.csv"
SOURCE_PAGE = "https://www.istat.it/classificazione/codici-dei-comuni-delle-province-e-delle-regioni/"
ITALY_ID = "comuni-italia"
TURIN_ID = "comuni-torino"
TURIN_COUNT = 312
LICENCE = "https://creativecommons.org/licenses/by/3.0/it/"
KEYWORDS = ["comuni", "municipalities", "geografia", "geography", "ISTAT", "NUTS"]


def _column_specs(turin: bool, present: list[str]) -> list[ColumnSpec]:
    specs = {
        "codice_comune": ColumnSpec(
            name="codice_comune",
            type="string",
            role="key",
            nullable=False,
            unique=True,
            description="ISTAT code of the comune (6 digits)",
        ),
        "comune": ColumnSpec(name="comune", type="string", role="attribute", nullable=False),
        "denominazione_completa": ColumnSpec(name="denominazione_completa", type="string"),
        "codice_catastale": ColumnSpec(name="codice_catastale", type="string", unique=True),
        "sigla_provincia": ColumnSpec(
            name="sigla_provincia",
            type="string",
            role="dimension",
            nullable=False,
            **({"codes": ["TO"]} if turin else {}),
        ),
        "unita_sovracomunale": ColumnSpec(name="unita_sovracomunale", type="string"),
        "codice_regione": ColumnSpec(name="codice_regione", type="string", role="dimension"),
        "regione": ColumnSpec(name="regione", type="string", role="dimension", nullable=False),
        "capoluogo": ColumnSpec(name="capoluogo", type="boolean"),
        "nuts1": ColumnSpec(name="nuts1", type="string", role="dimension", nullable=False),
        "nuts2": ColumnSpec(
            name="nuts2",
            type="string",
            role="dimension",
            nullable=False,
            **({"codes": ["ITC1"]} if turin else {}),
        ),
        "nuts3": ColumnSpec(
            name="nuts3",
            type="string",
            role="dimension",
            nullable=False,
            **({"codes": [TURIN_NUTS3]} if turin else {}),
        ),
    }
    return [specs[name] for name in present if name in specs]


def italy_meta(table: pa.Table) -> DatasetMeta:
    """The description of the list of every Italian comune."""
    return DatasetMeta(
        id=ITALY_ID,
        title_it="Comuni italiani",
        title_en="Italian municipalities",
        description_it="Tutti i comuni italiani con codici ISTAT, codice catastale e codici NUTS. "
        "Fonte: ISTAT, Elenco dei comuni italiani.",
        description_en="Every Italian municipality with ISTAT codes, cadastral code and NUTS codes. "
        "Source: ISTAT, list of Italian municipalities.",
        theme="REGI",
        publisher="ISTAT",
        access="open",
        geography="IT",
        licence=LICENCE,
        keywords=[*KEYWORDS, "Italia", "Italy"],
        frequency="ANNUAL",
        schema_spec=SchemaSpec(columns=_column_specs(False, table.column_names), keys=["codice_comune"]),
    )


def turin_meta(table: pa.Table) -> DatasetMeta:
    """The description of the Turin reference geography (312 comuni of ITC11)."""
    return DatasetMeta(
        id=TURIN_ID,
        title_it="Comuni della Città metropolitana di Torino",
        title_en="Municipalities of the Metropolitan City of Turin",
        description_it="I 312 comuni della Città metropolitana di Torino (NUTS3 ITC11) con codici "
        "ISTAT, codice catastale e codici NUTS 2021: la geografia di riferimento di ogni dataset del "
        "commons. Fonte: ISTAT, Elenco dei comuni italiani.",
        description_en="The 312 municipalities of the Metropolitan City of Turin (NUTS3 ITC11) with "
        "ISTAT codes, cadastral code and NUTS 2021 codes: the reference geography every dataset of "
        "the commons is checked against. Source: ISTAT, list of Italian municipalities.",
        theme="REGI",
        publisher="ISTAT",
        access="open",
        geography=TURIN_NUTS3,
        licence=LICENCE,
        keywords=[*KEYWORDS, "Torino", "Turin"],
        frequency="ANNUAL",
        schema_spec=SchemaSpec(
            columns=_column_specs(True, table.column_names),
            keys=["codice_comune"],
            expectations=[{"type": "expect_table_row_count_to_equal", "kwargs": {"value": TURIN_COUNT}}],
        ),
    )


def turin_codes() -> list[str]:
    """The 312 ISTAT codes of the Turin reference, from the bundled list (public reference data)."""
    return list(_turin_codes())


@lru_cache(maxsize=1)
def _turin_codes() -> tuple[str, ...]:
    return tuple(turin_subset(read_comuni(reference_path()))["codice_comune"].to_pylist())


class IstatComuniConfig(ConnectorConfig):
    """Where to fetch ISTAT's list when no file is given."""

    url: str = SOURCE_URL


class IstatComuniConnector(Connector[IstatComuniConfig]):
    """ISTAT's list of comuni: ``comuni-italia`` (all) and ``comuni-torino`` (the 312 of ITC11)."""

    name = "istat-comuni"
    version = "1"
    config_type = IstatComuniConfig
    summary = "ISTAT's list of comuni: every comune with NUTS codes, and the Turin reference (312)"

    def sources(self) -> Iterator[Source]:
        """The list at ``url`` (its ``Last-Modified`` recorded, if any)."""
        yield Source(
            dataset_id=ITALY_ID,
            url=self.config.url,
            source="istat-comuni",
            last_update_header="last-modified",
        )

    def parse(self, fetched: Fetched) -> Iterator[Parsed]:
        """Both datasets from one copy of the list (the given file, or a download)."""
        shown = fetched.path.name if fetched.source is None else Path(self.config.url).name
        sniff(fetched.path, source=shown)
        with self.converting(shown):
            every = read_comuni(fetched.path, source=shown)
        turin = turin_subset(every)
        if turin.num_rows == 0:
            raise InvalidInput(f"{shown}: no comune has NUTS3 {TURIN_NUTS3} (not ISTAT's list?)")
        extra = {"source_file": shown, "source_page": SOURCE_PAGE, "attribution": "Fonte: ISTAT"}
        yield Parsed(meta=italy_meta(every), table=every.sort_by("codice_comune"), extra=extra)
        yield Parsed(meta=turin_meta(turin), table=turin, extra={**extra, "filter": f"nuts3 = {TURIN_NUTS3}"})
