"""The Parquet store: immutable, content-addressed dataset versions, written atomically.

A version's file is named by the SHA-256 of its bytes, so the same content is stored once and a stored
file never changes. Writes go to a temporary name in the same file system, are fsynced, then renamed
into place (and the directory fsynced): a reader sees the whole file or nothing, and a crash mid-write
leaves at most a temporary file that :meth:`ParquetStore.sweep` removes. The database row that makes a
version visible is written only after the file is in place.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from datacommons.errors import CheckFailed, NotFound

#: Fixed writer options: the same table always gives the same bytes (and so the same hash).
ROW_GROUP_SIZE = 128 * 1024
WRITE_OPTIONS = {"compression": "zstd", "row_group_size": ROW_GROUP_SIZE, "write_statistics": True}
HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredFile:
    """A file in the store: its content hash, size in bytes, row count and whether it was new."""

    content_hash: str
    size: int
    rows: int
    created: bool


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a rename into it, say) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _place(tmp: Path, final: Path) -> None:
    """Move a complete, fsynced temporary file to its final name, durably."""
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    fsync_dir(final.parent)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ParquetStore:
    """Content-addressed Parquet files under one root directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.objects_dir = self.root / "objects"

    def ensure(self) -> None:
        """Create the store's directories."""
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.objects_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, content_hash: str) -> Path:
        """Where the file with this hash lives (whether or not it exists)."""
        if len(content_hash) != 64 or not all(c in "0123456789abcdef" for c in content_hash):
            raise NotFound(f"not a content hash: {content_hash!r}")
        return self.objects_dir / content_hash[:2] / f"{content_hash}.parquet"

    def exists(self, content_hash: str) -> bool:
        """Whether a file with this hash is in the store."""
        return self.path_for(content_hash).is_file()

    def write_table(self, table: pa.Table) -> StoredFile:
        """Store ``table``; return its hash. The same content is stored once."""
        self.ensure()
        tmp = self.tmp_dir / f"{uuid.uuid4().hex}.parquet.tmp"
        try:
            with tmp.open("wb") as fh:
                pq.write_table(table, fh, **WRITE_OPTIONS)
                fh.flush()
                os.fsync(fh.fileno())
            content_hash = file_sha256(tmp)
            final = self.path_for(content_hash)
            if final.is_file():
                return StoredFile(content_hash, final.stat().st_size, table.num_rows, created=False)
            _place(tmp, final)
            return StoredFile(content_hash, final.stat().st_size, table.num_rows, created=True)
        finally:
            tmp.unlink(missing_ok=True)

    def derived(self, content_hash: str, suffix: str, write: Callable[[Path], None]) -> Path:
        """A file derived from a stored version (a CSV rendering, say), made once and kept.

        ``write`` fills a temporary path; it is fsynced and renamed into place like a version, so a
        reader never sees a partial file. Derived files are named by the version's hash: they never
        go stale.
        """
        final = self.root / "derived" / content_hash[:2] / f"{content_hash}.{suffix}"
        if final.is_file():
            return final
        if not self.exists(content_hash):
            raise NotFound(f"dataset file {content_hash[:12]}… is missing from the store")
        self.ensure()
        tmp = self.tmp_dir / f"{uuid.uuid4().hex}.{suffix}.tmp"
        try:
            write(tmp)
            with tmp.open("rb+") as fh:
                os.fsync(fh.fileno())
            _place(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        return final

    def put_stream(self, src: IO[bytes], content_hash: str) -> str:
        """Copy a stream into the store as the file ``content_hash`` (a restore, say).

        Returns the hash the bytes really have; the file is placed only when it is ``content_hash``.
        """
        final = self.path_for(content_hash)
        self.ensure()
        tmp = self.tmp_dir / f"{uuid.uuid4().hex}.parquet.tmp"
        try:
            digest = hashlib.sha256()
            with tmp.open("wb") as fh:
                while chunk := src.read(HASH_CHUNK):
                    digest.update(chunk)
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            if digest.hexdigest() == content_hash:
                _place(tmp, final)
            return digest.hexdigest()
        finally:
            tmp.unlink(missing_ok=True)

    def read_table(self, content_hash: str, columns: list[str] | None = None) -> pa.Table:
        """Read a stored version (all columns, or the ones named)."""
        path = self.path_for(content_hash)
        if not path.is_file():
            raise NotFound(f"dataset file {content_hash[:12]}… is missing from the store")
        return pq.read_table(path, columns=columns)

    def verify(self, content_hash: str) -> None:
        """Raise :class:`CheckFailed` unless the stored bytes still hash to ``content_hash``."""
        path = self.path_for(content_hash)
        if not path.is_file():
            raise CheckFailed(f"dataset file {content_hash} is missing from the store")
        actual = file_sha256(path)
        if actual != content_hash:
            raise CheckFailed(f"dataset file {content_hash} is corrupt (its bytes hash to {actual})")

    def sweep(self, *, older_than: float = 3600.0) -> int:
        """Remove temporary files left by writes that never finished; return how many.

        Only files older than ``older_than`` seconds go, so a write in progress in another process
        is never disturbed.
        """
        if not self.tmp_dir.is_dir():
            return 0
        removed = 0
        cutoff = time.time() - older_than
        for leftover in self.tmp_dir.glob("*.tmp"):
            try:
                if leftover.stat().st_mtime <= cutoff:
                    leftover.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
