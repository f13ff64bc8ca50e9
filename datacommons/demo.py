"""``datacommons demo``: seed the demo catalog and tokens (idempotent, offline).

Part of the composition root (with ``app.py`` and ``cli.py``): it may import every package. Every demo
dataset enters through the real connectors' local-file path, from snapshots shipped in the package
(``connectors/reference/``, ``connectors/samples/``) or, for the donated microdata, from the synthetic
generator written to a file first.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
from sqlalchemy.orm import Session, sessionmaker

from connectors import synthetic
from connectors.http import HttpClient
from connectors.ingest import IngestResult, ingest
from connectors.istat_comuni import TURIN_ID, reference_path
from consent.demo import seed_consent
from datacommons import auth, datasets, registry
from datacommons.config import Settings
from datacommons.db import make_engine, make_sessionmaker, transaction
from datacommons.errors import InvalidInput
from datacommons.migrations import upgrade
from datacommons.quality.gate import failure_error, validate_version
from datacommons.storage import ParquetStore

ACTOR = "system:demo"
COMUNI_ID = TURIN_ID
SAMPLES = Path(__file__).resolve().parents[1] / "connectors" / "samples"
#: Donors in the demo's synthetic donation (about 40,000 rows).
DEMO_DONORS = 28_000
DEMO_SEED = 2030
PRIVATE_ID = synthetic.DATASET_ID
#: The organisation that donates the private dataset's records (and registers their donors).
DONOR_ORGANISATION = "Cooperativa sociale Il Ponte (demo)"

#: One demo token per role: (role, token name, organisation or donor id).
DEMO_TOKENS: tuple[tuple[str, str, str], ...] = (
    ("admin", "Demo administrator", "Città metropolitana di Torino — data commons"),
    ("analyst", "Demo analyst", "Cooperativa sociale Il Ponte (demo)"),
    ("researcher", "Demo researcher", "Università di Torino — gruppo di ricerca (demo)"),
    ("donor", "Demo donor", "demo-donor-0001"),
)


@dataclass
class DemoResult:
    """What the demo did: datasets and their published version, and the demo tokens."""

    datasets: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def publish_staged(session: registry.Session, store: ParquetStore, result: IngestResult) -> dict[str, int]:
    """Publish every version an ingest staged; the quality gate has already run on each (at ingest).

    A demo version that did not pass the gate stops the demo with the failing expectations named.
    """
    published: dict[str, int] = {}
    for item in result.staged:
        version = registry.get_version(session, item.dataset_id, item.version)
        if version.status in ("staged", "rejected"):
            report = validate_version(session, store=store, version=version, actor=ACTOR)
            if not report.success:
                raise failure_error(report)
        registry.publish(session, dataset_id=item.dataset_id, number=item.version, actor=ACTOR)
        published[item.dataset_id] = item.version
    return published


def seed_comuni(session: Session, store: ParquetStore) -> datasets.DatasetVersion:
    """Ingest ISTAT's list (shipped copy) and publish the Turin reference and the Italian list."""
    result = ingest(
        session, store=store, connector_name="istat-comuni", file=reference_path(), params={}, actor=ACTOR
    )
    publish_staged(session, store, result)
    version = registry.get_dataset(session, TURIN_ID).current_version
    assert version is not None
    return version


def _demo_steps(work: Path) -> list[tuple[str, Path | None, dict[str, Any]]]:
    """(connector, file, params) of each demo ingest, in order: the reference geography first."""
    donation = work / "inserimento-lavorativo-demo.parquet"
    pq.write_table(synthetic.generate(n_donors=DEMO_DONORS, seed=DEMO_SEED), donation)
    return [
        ("istat-comuni", reference_path(), {}),
        ("plan2030", None, {}),
        ("eurostat", SAMPLES / "eurostat_lfst_r_lfu3rt.csv", {}),
        ("istat", SAMPLES / "istat_151_914.csv", {}),
        ("file", donation, {"schema": "inserimento-lavorativo"}),
    ]


def seed_datasets(factory: sessionmaker[Session], store: ParquetStore) -> dict[str, int]:
    """Ingest and publish every demo dataset, each connector in its own transaction."""
    published: dict[str, int] = {}

    def offline(request: httpx.Request) -> httpx.Response:
        raise InvalidInput(f"the demo is offline: no request to {request.url}")

    with (
        tempfile.TemporaryDirectory(prefix="demo-") as tmp,
        HttpClient(transport=httpx.MockTransport(offline), attempts=1) as http,
    ):
        for connector, file, params in _demo_steps(Path(tmp)):
            with transaction(factory, immediate=True) as session:
                result = ingest(
                    session,
                    store=store,
                    connector_name=connector,
                    file=file,
                    params=params,
                    actor=ACTOR,
                    http=http,
                )
                published.update(publish_staged(session, store, result))
    return published


def donated_ids(session: Session, store: ParquetStore) -> list[str]:
    """The donor pseudonyms in the demo's published donation (the donors the organisation registers)."""
    version = registry.get_dataset(session, PRIVATE_ID).current_version
    if version is None:
        raise InvalidInput(f"{PRIVATE_ID} has no published version")
    donors = store.read_table(version.content_hash, columns=["donor_id"])["donor_id"]
    return sorted(set(donors.to_pylist()))


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
                    session,
                    role=role,
                    name=name,
                    organisation=org,
                    donor_id=owner if role == "donor" else None,
                    value=auth.derived_token_value(secret, f"demo:{role}"),
                )
                result.tokens[role] = clear
        result.datasets.update(seed_datasets(factory, store))
        with transaction(factory, immediate=True) as session:
            seed_consent(
                session,
                dataset_id=PRIVATE_ID,
                donor_ids=donated_ids(session, store),
                organisation=DONOR_ORGANISATION,
                settings=settings,
            )
        return result
    finally:
        engine.dispose()
