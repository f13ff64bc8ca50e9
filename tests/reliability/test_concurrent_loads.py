"""Loads of one dataset at the same moment, from separate processes' worth of connections, all succeed.

Several API workers may ingest into the same dataset at once (two administrators, a retry). On
PostgreSQL nothing serialised them: the first load of a new dataset failed with an integrity error
(a 500) when another created the dataset first, and two loads raced for the same version number
(a 409 "try again"). Now the dataset's row is locked for the load, as SQLite's write lock does.
"""

from __future__ import annotations

import threading

import pyarrow as pa

from datacommons import registry
from datacommons.config import Settings
from datacommons.db import make_engine, make_sessionmaker, transaction
from datacommons.specs import DatasetMeta
from datacommons.storage import ParquetStore

LOADS = 6


def test_concurrent_first_loads_of_a_dataset_are_numbered_in_turn(settings: Settings) -> None:
    engines = [make_engine(settings.database_url_resolved) for _ in range(LOADS)]
    store = ParquetStore(settings.store_dir)
    barrier = threading.Barrier(LOADS)
    outcomes: list[object] = []

    def load(i: int) -> None:
        barrier.wait()
        try:
            with transaction(make_sessionmaker(engines[i]), immediate=True) as session:
                dataset = registry.upsert_dataset(
                    session,
                    meta=DatasetMeta(
                        id="disoccupati", title_it="Disoccupati", title_en="Unemployed", publisher="ISTAT"
                    ),
                )
                version, created = registry.stage_table(
                    session,
                    store=store,
                    dataset=dataset,
                    table=pa.table({"anno": [2020 + i], "valore": [float(i)]}),
                    provenance={"load": i},
                    actor="test",
                )
                outcomes.append((version.number, created))
        except Exception as exc:  # shown by the assertion below
            outcomes.append(exc)

    try:
        threads = [threading.Thread(target=load, args=(i,)) for i in range(LOADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes, key=str) == [(n, True) for n in range(1, LOADS + 1)]
        with make_sessionmaker(engines[0])() as session:
            versions = registry.list_versions(session, "disoccupati")
            assert sorted(v.provenance["load"] for v in versions) == list(range(LOADS))
    finally:
        for engine in engines:
            engine.dispose()
