"""The backup's format: its manifest and summary, the secret's fingerprint, how values and files
are written."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Numeric,
)
from sqlalchemy.types import TypeEngine

from datacommons.config import Settings
from datacommons.errors import CheckFailed
from datacommons.storage import HASH_CHUNK, fsync_dir

FORMAT = "datacommons-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SECRET_FILE = "keys/secret.key"
#: Rows per INSERT batch on restore.
BATCH = 1000
#: Tables that are not data: Alembic's bookkeeping is rebuilt by the migrations.
NOT_DATA = frozenset({"alembic_version"})

Advance = Callable[[int], None]


class Progress(Protocol):
    """Reports the progress of named tasks (``connectors.progress`` has a terminal one)."""

    def task(self, description: str, *, total: int | None = None) -> AbstractContextManager[Advance]:
        """A context manager yielding ``advance(n)`` for one task."""


class _Silent:
    """No progress shown."""

    def task(self, description: str, *, total: int | None = None) -> AbstractContextManager[Advance]:
        return nullcontext(lambda _n: None)


@dataclass(frozen=True)
class Summary:
    """What a backup holds (from its manifest): tables with their row counts, files, the secret."""

    tables: dict[str, int]
    objects: int
    object_bytes: int
    secret_included: bool
    revisions: list[str]

    @classmethod
    def of(cls, manifest: dict[str, Any]) -> Summary:
        """The summary of a (verified) manifest."""
        return cls(
            tables={t["name"]: t["rows"] for t in manifest["tables"]},
            objects=len(manifest["store"]),
            object_bytes=sum(manifest["files"][f]["bytes"] for f in manifest["store"].values()),
            secret_included=manifest["secret"]["included"],
            revisions=list(manifest["database"]["revisions"]),
        )

    def describe(self) -> str:
        """One line: tables, rows, dataset files and whether the secret is inside."""
        rows = sum(self.tables.values())
        secret = (
            "instance secret included"
            if self.secret_included
            else "instance secret NOT included (it comes from DATACOMMONS_SECRET_KEY)"
        )
        return (
            f"{len(self.tables)} tables, {rows} rows, {self.objects} dataset files "
            f"({self.object_bytes / 1e6:.1f} MB), {secret}"
        )


# --- the secret -------------------------------------------------------------------------------------


def secret_fingerprint(secret: bytes) -> str:
    """A one-way fingerprint of the instance secret: tells whether two secrets are the same."""
    return hashlib.sha256(b"datacommons-backup-v1\0" + secret).hexdigest()


def _secret_in_force(settings: Settings) -> tuple[bytes | None, Path | None]:
    """The secret the instance uses and the file it comes from (None when it is a setting).

    Read like :meth:`Settings.secret_key_bytes`, but never creates a secret that does not exist.
    """
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value().encode(), None
    path = settings.data_dir / "secret.key"
    if path.is_file():
        return path.read_text().strip().encode(), path
    return None, None


# --- values -----------------------------------------------------------------------------------------


def _tag(type_: TypeEngine[Any]) -> str:
    """The portable type of a column, from its reflected type."""
    if isinstance(type_, JSON):
        return "json"
    if isinstance(type_, DateTime):
        return "datetime"
    if isinstance(type_, Date):
        return "date"
    if isinstance(type_, LargeBinary):
        return "bytes"
    if isinstance(type_, Boolean):
        return "bool"
    if isinstance(type_, Integer):
        return "int"
    if isinstance(type_, Float):
        return "float"
    if isinstance(type_, Numeric):
        return "decimal"
    return "str"


def _encode(tag: str, value: Any) -> Any:
    """A column value as JSON (JSON columns are read as their text, see :func:`_dump_table`)."""
    if value is None:
        return None
    if tag == "datetime":
        # SQLite gives back naive values; the commons stores every timestamp in UTC.
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.isoformat()
    if tag == "date":
        return value.isoformat()
    if tag == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if tag == "bool":
        return bool(value)
    if tag == "int":
        return int(value)
    if tag == "float":
        return float(value)
    if tag in ("decimal", "str", "json"):
        return str(value)
    raise ValueError(f"unknown column type {tag!r}")  # pragma: no cover - tags are ours


def _decode(tag: str, value: Any) -> Any:
    """The inverse of :func:`_encode`, ready to bind to the target's column."""
    if value is None:
        return None
    if tag == "datetime":
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if tag == "date":
        return date.fromisoformat(value)
    if tag == "bytes":
        return base64.b64decode(value)
    if tag == "json":
        loaded = json.loads(value)
        # A JSON 'null' stays JSON null; a missing value (SQL NULL) was None above.
        return JSON.NULL if loaded is None else loaded
    if tag == "decimal":
        return Decimal(value)
    return value


# --- files ------------------------------------------------------------------------------------------


class _HashingWriter:
    """Writes a file, hashing and counting its bytes; fsynced on close."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.fh = path.open("wb")
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.fh.write(data)
        self.digest.update(data)
        self.size += len(data)

    def close(self) -> dict[str, Any]:
        """Flush, fsync and close; the file's entry in the manifest."""
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        return {"sha256": self.digest.hexdigest(), "bytes": self.size}


def _fsync_tree(root: Path) -> None:
    """fsync every directory under ``root`` (files were fsynced when written)."""
    for current, _dirs, _files in os.walk(root):
        fsync_dir(Path(current))


def _copy_hashed(src: IO[bytes], dest: Path) -> dict[str, Any]:
    """Copy a stream to ``dest`` (fsynced), returning its size and SHA-256."""
    writer = _HashingWriter(dest)
    try:
        while chunk := src.read(HASH_CHUNK):
            writer.write(chunk)
    finally:
        entry = writer.close()
    return entry


def _safe_relative(name: str) -> str:
    """``name`` if it is a plain relative path inside a backup; :class:`CheckFailed` otherwise."""
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts):
        raise CheckFailed(f"the backup's manifest names an unsafe path {name!r}")
    return str(path)
