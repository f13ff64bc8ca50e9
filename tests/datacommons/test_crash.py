"""A process killed while writing a dataset version leaves no visible partial version."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pytest

from datacommons import registry
from datacommons.config import Settings
from datacommons.db import transaction
from datacommons.specs import DatasetMeta
from datacommons.storage import ParquetStore

CHILD = textwrap.dedent(
    """
    import sys, time, pathlib
    import pyarrow as pa
    from datacommons import registry, storage
    from datacommons.db import make_engine, make_sessionmaker, transaction
    from datacommons.specs import DatasetMeta

    url, store_dir, marker, phase = sys.argv[1:5]
    ready = pathlib.Path(marker)

    if phase == "file":
        real_write = storage.pq.write_table
        def half_write(table, where, **kw):
            real_write(table.slice(0, table.num_rows // 2), where, **kw)
            where.flush()
            ready.write_text("writing")
            time.sleep(600)
        storage.pq.write_table = half_write
    else:
        real_stage = registry.stage_version
        def stall(session, **kw):
            ready.write_text("stored, not registered")
            time.sleep(600)
        registry.stage_version = stall

    table = pa.table({"n": list(range(200_000))})
    factory = make_sessionmaker(make_engine(url))
    with transaction(factory, immediate=True) as session:
        ds = registry.upsert_dataset(session, meta=DatasetMeta(
            id="crashy", title_it="t", title_en="t", publisher="p"))
        registry.stage_table(session, store=storage.ParquetStore(pathlib.Path(store_dir)),
                             dataset=ds, table=table, provenance={}, actor="test")
    """
)


@pytest.mark.parametrize("phase", ["file", "registration"])
def test_killed_writer_leaves_no_visible_version(
    phase: str,
    settings: Settings,
    session_factory,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    marker = tmp_path / "ready"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            settings.database_url_resolved,
            str(settings.store_dir),
            str(marker),
            phase,
        ],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, "the writer ended before it could be killed"
        assert time.monotonic() < deadline, "the writer never reached the write"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    store = ParquetStore(settings.store_dir)
    with transaction(session_factory) as session:
        assert registry.list_datasets(session) == []  # the whole transaction died with it
    if phase == "file":
        assert list(store.objects_dir.rglob("*.parquet")) == []
        assert len(list(store.tmp_dir.glob("*.tmp"))) == 1  # a leftover under a temporary name
    else:
        assert len(list(store.objects_dir.rglob("*.parquet"))) == 1  # complete, but unregistered

    # the same load, run again, completes normally and is the dataset's first version
    table = pa.table({"n": list(range(200_000))})
    with transaction(session_factory, immediate=True) as session:
        ds = registry.upsert_dataset(
            session, meta=DatasetMeta(id="crashy", title_it="t", title_en="t", publisher="p")
        )
        version, created = registry.stage_table(
            session, store=store, dataset=ds, table=table, provenance={}, actor="test"
        )
    assert created and version.number == 1 and version.rows == 200_000
    assert store.read_table(version.content_hash).num_rows == 200_000
