"""The figures of the metropolitan plan for the social economy (Torino 2030), as a curated open dataset.

The plan quotes a handful of figures on the social economy of the Metropolitan City of Turin; each is
kept here with its source (Osservatorio sull'imprenditorialità sociale 2023; Euricse 2024) in
``connectors/reference/plan2030.csv``. ``--file`` loads a revised copy with the same columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from connectors.base import Connector, ConnectorConfig, Fetched, Load, Parsed, Unchanged
from connectors.file import DeclaredColumn, DonationSchema, check_table
from connectors.tabular import read_table
from datacommons.specs import ColumnSpec, DatasetMeta, SchemaSpec

DATASET_ID = "plan2030"
SOURCE_URL = "https://www.cittametropolitana.torino.it/"
UNITS = ["count", "percent", "EUR"]
AREAS = ["ITC11", "ITC1"]


def reference_path() -> Path:
    """The curated figures shipped with the project."""
    return Path(__file__).resolve().parent / "reference" / "plan2030.csv"


COLUMNS = [
    DeclaredColumn(name="indicator", type="string", role="dimension"),
    DeclaredColumn(name="area", type="string", role="dimension", codes=AREAS),
    DeclaredColumn(name="value", type="float", role="measure", min=0),
    DeclaredColumn(name="unit", type="string", role="attribute", codes=UNITS),
    DeclaredColumn(name="qualifier", type="string", role="attribute", nullable=True, codes=["more_than"]),
    DeclaredColumn(name="source_year", type="integer", role="attribute", min=2000, max=2100),
    DeclaredColumn(name="source", type="string", role="attribute"),
    DeclaredColumn(name="description_it", type="string", role="attribute"),
    DeclaredColumn(name="description_en", type="string", role="attribute"),
]

#: The curated file is checked with the same machinery as a donation (one row per figure and area).
DECLARATION = DonationSchema(
    dataset=DATASET_ID,
    title_it="x",
    title_en="x",
    publisher="x",
    access="open",
    pseudonym="indicator",
    max_rows_per_unit=len(AREAS),
    columns=COLUMNS,
)

META = DatasetMeta(
    id=DATASET_ID,
    title_it="Economia sociale nella Città metropolitana di Torino: le cifre del Piano 2030",
    title_en="The social economy of the Metropolitan City of Turin: the figures of the 2030 plan",
    description_it="Le cifre del piano metropolitano per l'economia sociale, ciascuna con la sua "
    "fonte: organizzazioni a impatto sociale, cooperative sociali, imprese sociali, APS, ODV, start-up "
    "a vocazione sociale, società benefit, altre cooperative, valore della produzione e lavoratori "
    "delle cooperative. Fonti: Osservatorio sull'imprenditorialità sociale 2023; Euricse 2024.",
    description_en="The figures of the metropolitan plan for the social economy, each with its "
    "source: social-impact organisations, social cooperatives, social enterprises, social promotion "
    "associations, volunteer organisations, start-ups with a social vocation, benefit companies, "
    "other cooperatives, cooperatives' production value and workers. Sources: Osservatorio "
    "sull'imprenditorialità sociale 2023; Euricse 2024.",
    theme="SOCI",
    publisher="Città metropolitana di Torino",
    access="open",
    geography="ITC11",
    keywords=[
        "economia sociale",
        "social economy",
        "terzo settore",
        "third sector",
        "Torino 2030",
        "cooperative sociali",
        "social cooperatives",
    ],
    frequency="IRREG",
    schema_spec=SchemaSpec(
        columns=[
            ColumnSpec(
                name=c.name,
                type=c.type,
                role="key" if c.name in ("indicator", "area") else c.role,
                nullable=c.nullable,
                codes=c.codes,
                min=c.min,
                max=c.max,
            )
            for c in COLUMNS
        ],
        keys=["indicator", "area"],
    ),
)


class Plan2030Config(ConnectorConfig):
    """No settings: the figures are curated in the repository."""


class Plan2030Connector(Connector[Plan2030Config]):
    """The curated figures of the metropolitan plan for the social economy."""

    name = "plan2030"
    version = "1"
    config_type = Plan2030Config
    summary = "The figures of the Turin metropolitan plan for the social economy, with sources"

    def extract(self, *, file: Path | None) -> Iterator[Load | Unchanged]:
        """The curated figures: the bundled file, or a revised copy given with ``--file``."""
        return super().extract(file=file or reference_path())

    def parse(self, fetched: Fetched) -> Iterator[Parsed]:
        """The figures, each row checked (one per figure and area, with its source)."""
        name = fetched.path.name
        table, _ = check_table(read_table(fetched.path, source=name), DECLARATION, name)
        yield Parsed(
            meta=META,
            table=table,
            source_url=SOURCE_URL,
            extra={"source_file": name, "sources": sorted(set(table["source"].to_pylist()))},
        )
