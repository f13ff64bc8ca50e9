"""A small catalog to search and download from."""

from __future__ import annotations

import pyarrow as pa
import pytest

from datacommons import registry
from datacommons.db import transaction
from datacommons.specs import DatasetMeta, PolicySpec
from datacommons.storage import ParquetStore

DATASETS = [
    DatasetMeta(
        id="disoccupazione-piemonte",
        title_it="Tasso di disoccupazione in Piemonte",
        title_en="Unemployment rate in Piedmont",
        publisher="Eurostat",
        theme="SOCI",
        geography="ITC1",
        keywords=["lavoro", "labour"],
        frequency="ANNUAL",
        description_it="Disoccupati sul totale delle forze di lavoro, età 15-74.",
        description_en="Unemployed persons as a share of the labour force, aged 15-74.",
    ),
    DatasetMeta(
        id="occupazione-torino",
        title_it="Tasso di occupazione, Città metropolitana",
        title_en="Employment rate, metropolitan city",
        publisher="ISTAT",
        theme="SOCI",
        geography="ITC11",
        keywords=["lavoro", "employment"],
        frequency="ANNUAL",
    ),
    DatasetMeta(
        id="cooperative-sociali",
        title_it="Cooperative sociali e imprese sociali",
        title_en="Social cooperatives and social enterprises",
        publisher="Città metropolitana di Torino",
        theme="ECON",
        geography="ITC11",
        keywords=["economia sociale", "social economy"],
    ),
    DatasetMeta(
        id="inserimento-lavorativo",
        title_it="Percorsi di inserimento lavorativo",
        title_en="Work-integration pathways",
        publisher="Cooperative sociali di tipo B",
        theme="SOCI",
        geography="ITC11",
        access="private",
        keywords=["inclusione"],
    ),
]


def publish_table(session, store, meta, table) -> None:  # type: ignore[no-untyped-def]
    dataset = registry.upsert_dataset(session, meta=meta)
    version, _ = registry.stage_table(
        session, store=store, dataset=dataset, table=table, provenance={"connector": "test"}, actor="test"
    )
    registry.transition(session, version=version, to="validated", actor="test")
    registry.publish(session, dataset_id=meta.id, number=version.number, actor="test")


@pytest.fixture
def catalog(settings, sessions):  # type: ignore[no-untyped-def]
    store = ParquetStore(settings.store_dir)
    with transaction(sessions) as session:
        publish_table(
            session,
            store,
            DATASETS[0],
            pa.table({"geo": ["ITC1"] * 3, "year": [2022, 2023, 2024], "value": [7.1, 6.9, 6.5]}),
        )
        publish_table(
            session,
            store,
            DATASETS[1],
            pa.table({"geo": ["ITC11"] * 2, "year": [2023, 2024], "value": [66.0, 67.2]}),
        )
        registry.upsert_dataset(session, meta=DATASETS[2])  # described, nothing published yet
        publish_table(
            session,
            store,
            DATASETS[3],
            pa.table({"donor_id": ["D1", "D2"], "year": [2024, 2024], "monthly_wage": [900.0, 1200.0]}),
        )
        private = registry.get_dataset(session, "inserimento-lavorativo")
        registry.set_policy(
            session,
            dataset=private,
            spec=PolicySpec(
                privacy_unit="donor_id", max_rows_per_unit=3, public_dimensions={"year": ["2023", "2024"]}
            ),
        )
    return store
