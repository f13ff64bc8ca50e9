"""The Parquet store: content addressing, atomic writes, integrity checks."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pyarrow as pa
import pytest

from datacommons.errors import CheckFailed, NotFound
from datacommons.storage import ParquetStore


def sample(n: int = 1000, offset: int = 0) -> pa.Table:
    return pa.table({"id": list(range(offset, offset + n)), "label": [f"r{i}" for i in range(n)]})


def test_same_content_is_stored_once(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    first = store.write_table(sample())
    again = store.write_table(sample())
    rechunked = store.write_table(pa.concat_tables([sample().slice(0, 10), sample().slice(10)]))
    assert first.created and not again.created and not rechunked.created
    assert first.content_hash == again.content_hash == rechunked.content_hash
    assert len(list(store.objects_dir.rglob("*.parquet"))) == 1
    assert list(store.tmp_dir.iterdir()) == []


def test_different_content_gets_a_different_hash(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    assert store.write_table(sample()).content_hash != store.write_table(sample(offset=1)).content_hash


def test_reads_back_what_was_written(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    stored = store.write_table(sample(50))
    assert stored.rows == 50
    assert store.read_table(stored.content_hash).equals(sample(50))
    assert store.read_table(stored.content_hash, columns=["id"]).column_names == ["id"]


def test_verify_detects_corruption(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    stored = store.write_table(sample())
    store.verify(stored.content_hash)
    path = store.path_for(stored.content_hash)
    os.chmod(path, 0o644)
    with path.open("r+b") as fh:
        fh.seek(20)
        fh.write(b"\x00\x01\x02")
    with pytest.raises(CheckFailed, match="corrupt"):
        store.verify(stored.content_hash)


def test_unknown_or_malformed_hash_is_not_found(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    with pytest.raises(NotFound):
        store.read_table("0" * 64)
    with pytest.raises(NotFound):
        store.path_for("../../etc/passwd")


def test_sweep_removes_only_old_leftovers(tmp_path: Path) -> None:
    store = ParquetStore(tmp_path)
    store.ensure()
    old = store.tmp_dir / "old.parquet.tmp"
    fresh = store.tmp_dir / "fresh.parquet.tmp"
    old.write_bytes(b"partial")
    fresh.write_bytes(b"in progress")
    past = time.time() - 7200
    os.utime(old, (past, past))
    assert store.sweep() == 1
    assert not old.exists() and fresh.exists()
