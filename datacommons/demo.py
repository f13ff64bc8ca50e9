"""``datacommons demo``: seed the demo catalog and tokens (idempotent).

Part of the composition root (with ``app.py`` and ``cli.py``): it may import every package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from connectors.istat_comuni import TURIN_NUTS3, read_comuni, reference_path, turin_subset
from consent.demo import seed_consent
from datacommons import auth, registry
from datacommons.config import Settings
from datacommons.db import make_engine, make_sessionmaker, transaction
from datacommons.errors import CheckFailed, InvalidInput
from datacommons.migrations import upgrade
from datacommons.registry import DatasetMeta
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
)


@dataclass
class DemoResult:
    """What the demo did: datasets and their published version, and the demo tokens."""

    datasets: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def check_reference_geography(table: pa.Table) -> None:
    """The structural checks the Turin reference must pass before it is published."""
    codes = table["codice_comune"].to_pylist()
    if len(codes) != 312 or len(set(codes)) != 312:
        raise CheckFailed(f"the Turin reference must have 312 distinct comuni, found {len(set(codes))}")
    if "001272" not in codes:
        raise CheckFailed("the Turin reference lacks Torino (001272)")


def seed_comuni(session: registry.Session, store: ParquetStore) -> registry.DatasetVersion:
    """Stage, check and publish the reference geography from ISTAT's list."""
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
        check_reference_geography(table)
        registry.transition(session, version=version, to="validated", actor=ACTOR,
                            note="reference geography: 312 distinct comuni, Torino present")
    registry.publish(session, dataset_id=dataset.id, number=version.number, actor=ACTOR)
    return version


def run_demo(settings: Settings) -> DemoResult:
    """Migrate, seed the demo datasets and tokens; running it again changes nothing."""
    if settings.env == "production":
        raise InvalidInput("the demo seeds well-known tokens and is refused in production")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
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
