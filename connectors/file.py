"""Donated files: CSV, XLSX or Parquet microdata with a declared schema.

This is how an organisation (a social cooperative, an employment service) donates records, such as
the people in its work-integration pathways. The declaration (:class:`DonationSchema`) names the
donor pseudonym column, the public dimensions with their public key sets, the measures and their
types. Every row is checked against it before anything is staged; columns the declaration does not
name are dropped (and listed in the provenance), so a stray name or tax code never enters the store.

A declaration is given as ``--param schema=NAME`` (a built-in one, e.g. ``inserimento-lavorativo``),
``--param schema=@decl.json`` on the command line, or as a JSON object in the API's ``params``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, Field, field_validator, model_validator

from connectors.base import Connector, ConnectorConfig, Fetched, Parsed, Source
from connectors.istat_comuni import TURIN_ID, turin_codes
from connectors.tabular import ColumnType, Delimiter, Encoding, convert_column, read_table
from datacommons.errors import InvalidInput
from datacommons.specs import ColumnSpec, DatasetMeta, PolicySpec, SchemaSpec, Slug

TURIN_CODE_LIST = f"{TURIN_ID}:codice_comune"


class DeclaredColumn(BaseModel):
    """One column of a donation: type, role, and the values it may take."""

    name: str = Field(min_length=1, max_length=100)
    type: ColumnType
    role: Literal["privacy_unit", "dimension", "time", "measure", "attribute"] = "attribute"
    nullable: bool = False
    codes: list[str] | None = None
    code_list: str | None = None
    min: float | None = None
    max: float | None = None
    description: str = ""

    def public_keys(self) -> list[str] | None:
        """The public key set of a dimension (its codes, the Turin comuni, or its year range)."""
        if self.codes is not None:
            return list(self.codes)
        if self.code_list == TURIN_CODE_LIST:
            return turin_codes()
        if self.type == "integer" and self.min is not None and self.max is not None:
            return [str(v) for v in range(int(self.min), int(self.max) + 1)]
        return None


class DonationSchema(BaseModel):
    """The declaration that comes with a donated file."""

    dataset: Slug
    title_it: str
    title_en: str
    description_it: str = ""
    description_en: str = ""
    publisher: str
    geography: str = "ITC11"
    access: Literal["open", "private"] = "private"
    keywords: list[str] = Field(default_factory=list)
    pseudonym: str = Field(description="The donor pseudonym column: the privacy unit")
    max_rows_per_unit: int = Field(ge=1, le=1000)
    columns: list[DeclaredColumn]
    epsilon_total: float = Field(10.0, gt=0)
    epsilon_per_organisation: float = Field(3.0, gt=0)
    epsilon_per_query: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _pseudonym_declared(self) -> DonationSchema:
        names = [c.name for c in self.columns]
        if self.pseudonym not in names:
            raise ValueError(f"the pseudonym column {self.pseudonym!r} is not among the columns")
        if len(set(names)) != len(names):
            raise ValueError("a column is declared twice")
        return self

    def meta(self) -> DatasetMeta:
        """The dataset description, with the declared schema for the quality gate."""
        specs = [
            ColumnSpec(
                name=c.name,
                type=c.type,
                role="privacy_unit" if c.name == self.pseudonym else c.role,
                nullable=c.nullable,
                codes=c.codes,
                code_list=c.code_list,
                min=c.min,
                max=c.max,
                description=c.description,
            )
            for c in self.columns
        ]
        return DatasetMeta(
            id=self.dataset,
            title_it=self.title_it,
            title_en=self.title_en,
            description_it=self.description_it,
            description_en=self.description_en,
            theme="SOCI",
            publisher=self.publisher,
            access=self.access,
            geography=self.geography,
            keywords=self.keywords,
            schema_spec=SchemaSpec(columns=specs),
        )

    def policy(self) -> PolicySpec | None:
        """The access policy of a private donation: pseudonym, row bound, public dimensions."""
        if self.access != "private":
            return None
        dims: dict[str, list[str]] = {}
        for column in self.columns:
            if column.role in ("dimension", "time"):
                keys = column.public_keys()
                if keys is not None:
                    dims[column.name] = keys
        return PolicySpec(
            privacy_unit=self.pseudonym,
            max_rows_per_unit=self.max_rows_per_unit,
            public_dimensions=dims,
            epsilon_total=self.epsilon_total,
            epsilon_per_organisation=self.epsilon_per_organisation,
            epsilon_per_query=self.epsilon_per_query,
        )


def inserimento_lavorativo_schema() -> DonationSchema:
    """The declaration of the *inserimento-lavorativo* donations (see :mod:`connectors.synthetic`)."""
    from connectors import synthetic as s

    return DonationSchema(
        dataset=s.DATASET_ID,
        title_it="Inserimento lavorativo: persone nei percorsi delle cooperative sociali di tipo B",
        title_en="Work integration: people in the pathways of type-B social cooperatives",
        description_it="Microdati donati dalle cooperative sociali di tipo B sulle persone "
        "svantaggiate nei percorsi di inserimento lavorativo (tirocinio, borsa lavoro, assunzione ex "
        "art. 14 D.Lgs. 276/2003): esito occupazionale a 12 mesi e retribuzione mensile. Dati "
        "privati: solo aggregati con privacy differenziale.",
        description_en="Microdata donated by type-B social cooperatives on disadvantaged people in "
        "work-integration pathways (internship, work grant, hiring under art. 14 D.Lgs. 276/2003): "
        "employment 12 months later and monthly wage. Private: only differentially-private "
        "aggregates.",
        publisher="Cooperative sociali di tipo B della Città metropolitana di Torino",
        keywords=["inserimento lavorativo", "work integration", "cooperative sociali", "WISE"],
        pseudonym="donor_id",
        max_rows_per_unit=s.MAX_ROWS_PER_DONOR,
        columns=[
            DeclaredColumn(
                name="donor_id",
                type="string",
                role="privacy_unit",
                description="Pseudonym of the person (never a name or tax code)",
            ),
            DeclaredColumn(
                name="comune",
                type="string",
                role="dimension",
                code_list=TURIN_CODE_LIST,
                description="ISTAT code of the comune",
            ),
            DeclaredColumn(name="age_band", type="string", role="dimension", codes=list(s.AGE_BANDS)),
            DeclaredColumn(name="sex", type="string", role="dimension", codes=list(s.SEXES)),
            DeclaredColumn(name="disadvantage", type="string", role="dimension", codes=list(s.DISADVANTAGES)),
            DeclaredColumn(name="pathway", type="string", role="dimension", codes=list(s.PATHWAYS)),
            DeclaredColumn(
                name="employed_12m",
                type="integer",
                role="measure",
                min=0,
                max=1,
                description="1 if employed 12 months after the pathway",
            ),
            DeclaredColumn(
                name="monthly_wage",
                type="float",
                role="measure",
                min=0,
                max=10000,
                description="Monthly wage in EUR (0 when not employed)",
            ),
            DeclaredColumn(name="year", type="integer", role="time", min=s.YEARS[0], max=s.YEARS[-1]),
        ],
    )


BUILTIN_SCHEMAS = {"inserimento-lavorativo": inserimento_lavorativo_schema}


class FileConfig(ConnectorConfig):
    """The declaration of the donated file, and how to read it."""

    schema_: DonationSchema = Field(alias="schema")
    format: Literal["csv", "xlsx", "parquet"] | None = None
    encoding: Encoding = "utf-8"
    delimiter: Delimiter | None = None

    @field_validator("schema_", mode="before")
    @classmethod
    def _resolve(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text in BUILTIN_SCHEMAS:
                return BUILTIN_SCHEMAS[text]()
            if text.startswith("{"):
                try:
                    return json.loads(text)
                except ValueError as exc:
                    raise ValueError(f"the schema is not valid JSON ({exc})") from exc
            raise ValueError(
                f"unknown schema {text!r}: use one of {', '.join(BUILTIN_SCHEMAS)} or a JSON declaration"
            )
        return value


def check_table(table: pa.Table, decl: DonationSchema, source: str) -> tuple[pa.Table, list[str]]:
    """The donated table converted to its declared types and checked row by row.

    Returns the table with only the declared columns, and the names of the columns dropped.
    """
    by_key = {c.strip().lower(): c for c in table.column_names}
    missing = [c.name for c in decl.columns if c.name.lower() not in by_key]
    if missing:
        found = ", ".join(table.column_names[:12])
        raise InvalidInput(
            f"{source}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (columns found: {found})"
        )
    declared = {c.name.lower() for c in decl.columns}
    dropped = [c for c in table.column_names if c.strip().lower() not in declared]
    arrays = []
    for column in decl.columns:
        values = convert_column(
            table[by_key[column.name.lower()]], column.type, source=source, column=column.name
        )
        if column.type == "string":
            values = pc.utf8_trim_whitespace(values)
        _check_values(values, column, source)
        arrays.append(values)
    out = pa.Table.from_arrays(arrays, names=[c.name for c in decl.columns])
    counts = pc.value_counts(out[decl.pseudonym])
    most = pc.max(counts.field("counts")).as_py()
    if most > decl.max_rows_per_unit:
        at = pc.index(counts.field("counts"), most).as_py()
        who = counts.field("values")[at].as_py()
        raise InvalidInput(
            f"{source}: column {decl.pseudonym}: {who!r} has {most} rows, more than "
            f"the declared {decl.max_rows_per_unit} per person"
        )
    return out, dropped


def _first(mask: pa.ChunkedArray | pa.Array) -> int:
    return int(pc.index(mask, True).as_py())


def _check_values(values: pa.ChunkedArray, column: DeclaredColumn, source: str) -> None:
    where = f"column {column.name}"
    if not column.nullable and values.null_count:
        raise InvalidInput(f"{source}: row {_first(pc.is_null(values)) + 2}, {where}: no value")
    keys = column.public_keys() if column.role in ("dimension", "time") else None
    if keys is not None or column.codes is not None:
        allowed = pa.array(column.codes if column.codes is not None else keys or [])
        as_text = pc.cast(values, pa.string())
        outside = pc.and_(pc.invert(pc.is_in(as_text, allowed)), pc.is_valid(as_text))
        if pc.any(outside).as_py():
            at = _first(outside)
            what = (
                "a comune of the Metropolitan City of Turin"
                if column.code_list == TURIN_CODE_LIST
                else "an allowed value"
            )
            raise InvalidInput(f"{source}: row {at + 2}, {where}: {as_text[at].as_py()!r} is not {what}")
    if column.type in ("integer", "float"):
        for bound, op, word in ((column.min, pc.less, "below"), (column.max, pc.greater, "above")):
            if bound is None:
                continue
            bad = op(values, bound)
            if pc.any(bad).as_py():
                at = _first(bad)
                raise InvalidInput(
                    f"{source}: row {at + 2}, {where}: {values[at].as_py()} is "
                    f"{word} the declared {word == 'below' and 'minimum' or 'maximum'} "
                    f"{bound:g}"
                )


class FileConnector(Connector[FileConfig]):
    """A donated file (CSV, XLSX or Parquet) with a declared schema."""

    name = "file"
    version = "1"
    config_type = FileConfig
    summary = "A donated CSV, XLSX or Parquet file with a declared schema (e.g. inserimento-lavorativo)"
    requires_file = True

    def sources(self) -> Iterator[Source]:
        """Nothing to download: a donation is always a file."""
        raise InvalidInput("file: give the donated file with --file PATH")

    def parse(self, fetched: Fetched) -> Iterator[Parsed]:
        """The donated file, checked against its declaration, as one dataset."""
        decl = self.config.schema_
        source = fetched.name
        with self.converting(source):
            raw = read_table(
                fetched.path,
                source=source,
                fmt=self.config.format,
                encoding=self.config.encoding,
                delimiter=self.config.delimiter,
            )
            table, dropped = check_table(raw, decl, source)
        yield Parsed(
            meta=decl.meta(),
            table=table,
            policy=decl.policy(),
            source_url=f"donation:{source}",
            extra={"source_file": source, "dropped_columns": dropped},
        )
