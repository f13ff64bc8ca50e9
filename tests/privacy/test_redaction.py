"""Erasure reaches the data: after DELETE /donors/me no current or older version of the dataset holds
the donor's rows, the rewrite is recorded, and a later donation of the same file leaves them out."""

from __future__ import annotations

import pyarrow.compute as pc
from fastapi.testclient import TestClient
from sqlalchemy import select

from connectors import ingest
from connectors.base import Load, Provenance
from datacommons import auth, registry
from datacommons.config import Settings
from datacommons.datasets import DatasetVersion
from datacommons.db import transaction
from datacommons.redaction import REDACTED_FROM, DatasetRedaction
from datacommons.specs import DatasetMeta
from datacommons.storage import ParquetStore
from tests.conftest import bearer
from tests.privacy.conftest import make_frame
from tests.privacy.test_api import DATASET, QUERY, URL, publish_private


def versions(sessions) -> list[DatasetVersion]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        found = session.scalars(select(DatasetVersion).where(DatasetVersion.dataset_id == DATASET))
        return sorted(found, key=lambda v: v.number)


def rows_of(store: ParquetStore, version: DatasetVersion, unit: str) -> int:
    table = store.read_table(version.content_hash)
    return int(pc.sum(pc.equal(table["donor_id"], unit)).as_py() or 0)


def test_no_version_holds_an_erased_donors_rows(  # type: ignore[no-untyped-def]
    client: TestClient, tokens, sessions, settings: Settings
) -> None:
    publish_private(sessions, settings)
    store = ParquetStore(settings.store_dir)
    frame = make_frame(n_rows=6000, n_donors=2500).drop("_rank")
    with transaction(sessions, immediate=True) as session:  # an older version, and the current one
        dataset = registry.get_dataset(session, DATASET)
        second, _ = registry.stage_table(
            session, store=store, dataset=dataset, table=frame.head(5000).to_arrow(), provenance={}, actor="t"
        )
        registry.transition(session, version=second, to="validated", actor="t")
        registry.publish(session, dataset_id=DATASET, number=second.number, actor="t")
    first, current = versions(sessions)
    unit = frame.head(5000)["donor_id"][0]  # a donor with rows in both versions
    held = {v.number: rows_of(store, v, unit) for v in (first, current)}
    assert all(held.values())
    with transaction(sessions) as session:  # the donor's own session (test setup: no route mints one)
        _token, donor_token = auth.create_token(session, role="donor", name="d", donor_id=unit)
    old_files = [store.path_for(v.content_hash) for v in (first, current)]
    assert all(p.is_file() for p in old_files)

    assert client.delete("/api/v1/donors/me", headers=bearer(donor_token)).status_code == 200

    after = versions(sessions)
    for before, now in zip((first, current), after, strict=True):
        assert now.content_hash != before.content_hash
        assert rows_of(store, now, unit) == 0
        assert now.rows == before.rows - held[before.number]
        metadata = store.read_table(now.content_hash).schema.metadata
        assert metadata[REDACTED_FROM] == before.content_hash.encode()
    assert not any(p.exists() for p in old_files)  # the files that held the rows are gone
    with sessions() as session:
        recorded = session.scalars(select(DatasetRedaction).order_by(DatasetRedaction.id)).all()
        assert [(r.previous_hash, r.rows_removed, r.reason) for r in recorded] == [
            (first.content_hash, held[first.number], "erasure of a donor"),
            (current.content_hash, held[current.number], "erasure of a donor"),
        ]
    # queries go on over the redacted current version
    assert client.post(URL, json=QUERY, headers=bearer(tokens["analyst"])).status_code == 200

    # the cooperative donates the same file again: the erased donor's rows stay out
    with transaction(sessions, immediate=True) as session:
        result = ingest.stage(
            session,
            store=store,
            connector_name="file",
            items=[
                Load(
                    meta=DatasetMeta(
                        id=DATASET,
                        title_it="Inserimento lavorativo",
                        title_en="Work integration",
                        publisher="Cooperative",
                        access="private",
                    ),
                    table=frame.to_arrow(),
                    provenance=Provenance(
                        connector="file",
                        connector_version="1",
                        source_url="file:donation.csv",
                        retrieved_at="2026-12-01T00:00:00Z",
                        sha256="0" * 64,
                    ),
                )
            ],
            actor="t",
        )
    [staged] = result.staged
    with sessions() as session:
        version = session.scalars(
            select(DatasetVersion).where(
                DatasetVersion.dataset_id == DATASET, DatasetVersion.number == staged.version
            )
        ).one()
        assert version.provenance["erased_rows_dropped"] == int((frame["donor_id"] == unit).sum())
    assert rows_of(store, version, unit) == 0
    assert version.rows == frame.height - int((frame["donor_id"] == unit).sum())
