"""``datacommons demo``: seed the demo catalog and tokens (idempotent).

Part of the composition root (with ``app.py`` and ``cli.py``): it may import every package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from connectors.istat_comuni import TURIN_NUTS3, read_comuni, reference_path, turin_subset
from consent.transparency import log_publication
from consent.demo import seed_consent
from datacommons import auth, registry
from datacommons.config import Settings
from datacommons.db import make_engine, make_sessionmaker, transaction
from datacommons.errors import InvalidInput
from datacommons.migrations import upgrade
from datacommons.quality.gate import failure_error, validate_version
from datacommons.registry import ColumnSpec, DatasetMeta, SchemaSpec
from datacommons.storage import ParquetStore, file_sha256

ACTOR = "system:demo"
COMUNI_ID = "comuni-torino"
PRIVATE_ID = "inserimento-lavorativo"
#: The organisation that donates the private dataset's records (and registers their donors).
DONOR_ORGANISATION = "Cooperativa sociale Il Ponte (demo)"
#: The donors of the private dataset. TODO(merge): the ids of the synthetic microdata generator.
DEMO_DONOR_IDS = [f"D{i:07d}" for i in range(1, 501)]

#: One demo token per role: (role, token name, organisation or donor id).
DEMO_TOKENS: tuple[tuple[str, str, str], ...] = (
    ("admin", "Demo administrator", "Città metropolitana di Torino — data commons"),
    ("analyst", "Demo analyst", "Cooperativa sociale Il Ponte (demo)"),
    ("researcher", "Demo researcher", "Università di Torino — gruppo di ricerca (demo)"),
    ("donor", "Demo donor", "demo-donor-0001"),
)

COMUNI_META = DatasetMeta(
    id=COMUNI_ID,
    title_it="Comuni della Città metropolitana di Torino",
    title_en="Municipalities of the Metropolitan City of Turin",
    description_it="I 312 comuni della Città metropolitana di Torino (NUTS3 ITC11) con codici ISTAT, "
    "codice catastale e codici NUTS 2021: la geografia di riferimento di ogni dataset del commons. "
    "Fonte: ISTAT, Elenco dei comuni italiani.",
    description_en="The 312 municipalities of the Metropolitan City of Turin (NUTS3 ITC11) with ISTAT "
    "codes, cadastral code and NUTS 2021 codes: the reference geography every dataset of the commons "
    "is checked against. Source: ISTAT, list of Italian municipalities.",
    theme="REGI",
    publisher="ISTAT",
    access="open",
    geography=TURIN_NUTS3,
    licence="https://creativecommons.org/licenses/by/3.0/it/",
    keywords=["comuni", "municipalities", "geografia", "geography", "ISTAT", "NUTS", "Torino", "Turin"],
    frequency="ANNUAL",
    schema_spec=SchemaSpec(
        columns=[
            ColumnSpec(name="codice_comune", type="string", role="key", unique=True,
                       description="ISTAT code of the comune (6 characters)"),
            ColumnSpec(name="comune", type="string", role="attribute", nullable=False),
            ColumnSpec(name="denominazione_completa", type="string", nullable=False),
            ColumnSpec(name="codice_catastale", type="string", unique=True, nullable=False),
            ColumnSpec(name="sigla_provincia", type="string", role="dimension", codes=["TO"]),
            ColumnSpec(name="unita_sovracomunale", type="string", role="dimension"),
            ColumnSpec(name="codice_regione", type="string", role="dimension", codes=["01"]),
            ColumnSpec(name="regione", type="string", role="dimension", codes=["Piemonte"]),
            ColumnSpec(name="capoluogo", type="boolean", nullable=False),
            ColumnSpec(name="nuts1", type="string", role="dimension", codes=["ITC"]),
            ColumnSpec(name="nuts2", type="string", role="dimension", codes=["ITC1"]),
            ColumnSpec(name="nuts3", type="string", role="dimension", codes=[TURIN_NUTS3]),
        ],
        keys=["codice_comune"],
        expectations=[
            {"type": "expect_table_row_count_to_equal", "kwargs": {"value": 312},
             "description": "the Metropolitan City of Turin has 312 comuni"},
            {"type": "expect_column_values_to_match_regex",
             "kwargs": {"column": "codice_comune", "regex": r"^001\d{3}$"},
             "description": "ISTAT codes of the province of Turin are 001 + 3 digits"},
            {"type": "expect_column_distinct_values_to_contain_set",
             "kwargs": {"column": "codice_comune", "value_set": ["001272"]},
             "description": "Torino (001272) is present"},
        ],
    ),
)


@dataclass
class DemoResult:
    """What the demo did: datasets and their published version, and the demo tokens."""

    datasets: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def seed_comuni(session: registry.Session, store: ParquetStore) -> registry.DatasetVersion:
    """Stage, validate (quality gate) and publish the reference geography from ISTAT's list."""
    path = reference_path()
    table = turin_subset(read_comuni(path))
    dataset = registry.upsert_dataset(session, meta=COMUNI_META)
    provenance = {
        "connector": "istat-comuni",
        "connector_version": "1",
        "source_url": "https://www.istat.it/classificazione/codici-dei-comuni-delle-province-e-delle-regioni/",
        "source_file": path.name,
        "source_sha256": file_sha256(path),
        "retrieved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "filter": "nuts3 = ITC11",
        "attribution": "Fonte: ISTAT",
    }
    version, _ = registry.stage_table(session, store=store, dataset=dataset, table=table,
                                      provenance=provenance, actor=ACTOR)
    if version.status in ("staged", "rejected"):
        report = validate_version(session, store=store, version=version, actor=ACTOR)
        if not report.success:
            raise failure_error(report)
    registry.publish(session, dataset_id=dataset.id, number=version.number, actor=ACTOR)
    return version


def run_demo(settings: Settings) -> DemoResult:
    """Migrate, seed the demo datasets and tokens; running it again changes nothing."""
    if settings.env == "production":
        raise InvalidInput("the demo seeds well-known tokens and is refused in production")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    registry.on_publication(log_publication)
    engine = make_engine(settings.database_url_resolved)
    try:
        upgrade(engine)
        store = ParquetStore(settings.store_dir)
        factory = make_sessionmaker(engine)
        result = DemoResult()
        secret = settings.secret_key_bytes()
        with transaction(factory, immediate=True) as session:
            for role, name, owner in DEMO_TOKENS:
                org = None if role == "donor" else auth.get_or_create_organisation(session, owner)
                _token, clear = auth.create_token(
                    session, role=role, name=name, organisation=org,
                    donor_id=owner if role == "donor" else None,
                    value=auth.derived_token_value(secret, f"demo:{role}"),
                )
                result.tokens[role] = clear
        with transaction(factory, immediate=True) as session:
            version = seed_comuni(session, store)
            result.datasets[COMUNI_ID] = version.number
        with transaction(factory, immediate=True) as session:
            seed_consent(session, dataset_id=PRIVATE_ID, donor_ids=DEMO_DONOR_IDS,
                         organisation=DONOR_ORGANISATION, settings=settings)
        return result
    finally:
        engine.dispose()
