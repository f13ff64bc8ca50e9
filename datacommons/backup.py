"""Backup and restore: the database, the Parquet store and the instance secret, taken while serving.

A backup is a directory, or the same content as one uncompressed ``.tar`` file::

    db/<table>.jsonl                      one JSON array per row, in primary-key order
    store/objects/<xx>/<sha256>.parquet   every dataset file a version in the snapshot refers to
    keys/secret.key                       the instance secret, when it lives in the data directory
    manifest.json                         written last: revisions, tables, columns, row counts and
                                          the size and SHA-256 of every other file

*Consistent while the server runs.* Every table is read in one read-only transaction: a
``SERIALIZABLE READ ONLY DEFERRABLE`` snapshot on PostgreSQL, a WAL read transaction on SQLite, so
writers go on and the backup holds exactly the committed state of one instant (a transparency log
and its head that agree, every consent with its events). Dataset files are immutable and written
before the row that registers them, so every file the snapshot names exists; each is hashed while
it is copied and must match its name.

*Portable.* Rows are JSON with one type tag per column (``datetime`` in UTC ISO 8601, ``bytes`` in
base64, ``json`` as its text), and the manifest records the Alembic revisions: a backup of a SQLite
instance restores into PostgreSQL and back. Restore builds the schema with the migrations at the
backup's revisions, loads the rows, then migrates to this version's newest revisions.

*Never half done.* A backup is written under a hidden ``.NAME.partial-…`` name and renamed into
place once its manifest is fsynced, so a killed backup never looks complete. Restore first checks
the manifest and the hash of every file, touches nothing if one is wrong, copies dataset files into
the store (content-addressed: an extra file changes nothing), then replaces the schema and loads
every row in ONE transaction: the target database is either untouched or fully restored.

*Secrets.* Every key the commons holds (donors' data keys, receipt-signing keys) is in the database,
wrapped under keys derived from the instance secret; the secret itself is ``DATACOMMONS_SECRET_KEY``
or ``<data_dir>/secret.key``. A backup includes ``secret.key`` when that file is the secret in force,
and always records a fingerprint of the secret, so restore refuses a target whose secret would leave
donor data and signing keys unreadable.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tarfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Text,
    bindparam,
    cast,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.sql.ddl import sort_tables_and_constraints
from sqlalchemy.types import TypeEngine

from datacommons import __version__
from datacommons.config import Settings, write_secret_file
from datacommons.db import make_engine, utcnow
from datacommons.errors import CheckFailed, InvalidInput
from datacommons.migrations import PG_MIGRATION_LOCK, current_heads, known_revisions, upgrade
from datacommons.registry import DatasetVersion
from datacommons.storage import HASH_CHUNK, ParquetStore, fsync_dir

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


# --- backup -----------------------------------------------------------------------------------------


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One read-only transaction that sees the committed state of one instant."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # DEFERRABLE waits for a snapshot no concurrent serializable writer can invalidate,
            # then reads without taking locks or risking a serialization failure.
            conn.execution_options(
                isolation_level="SERIALIZABLE", postgresql_readonly=True, postgresql_deferrable=True
            )
        # SQLite (WAL): the read transaction's snapshot is fixed by its first read; writers
        # append to the WAL meanwhile and are never blocked.
        with conn.begin():
            yield conn


def _table_order(metadata: MetaData) -> tuple[list[Table], list[ForeignKeyConstraint]]:
    """Tables parents first, and the foreign keys that close a cycle (filled in after the rows)."""
    tables = sorted((t for t in metadata.tables.values() if t.name not in NOT_DATA), key=lambda t: t.name)

    def sort(breaks: set[ForeignKeyConstraint]) -> tuple[list[Table], list[ForeignKeyConstraint]]:
        ordered: list[Table] = []
        cyclic: list[ForeignKeyConstraint] = []
        for table, constraints in sort_tables_and_constraints(
            tables, filter_fn=lambda c: True if c in breaks else None
        ):
            if table is not None:
                ordered.append(table)
            else:
                cyclic.extend(c for c in constraints if isinstance(c, ForeignKeyConstraint))
        return ordered, cyclic

    ordered, cyclic = sort(set())
    if cyclic:
        # SQLAlchemy breaks a cycle anywhere; it must break at a nullable key (datasets'
        # current version), which is inserted empty and filled in once both rows exist.
        involved = {c.table.name for c in cyclic} | {c.referred_table.name for c in cyclic}
        breaks = {
            fk
            for t in tables
            if t.name in involved
            for fk in t.foreign_key_constraints
            if fk.referred_table.name in involved and all(c.nullable for c in fk.columns)
        }
        ordered, cyclic = sort(breaks)
    return ordered, cyclic


def _dump_table(conn: Connection, table: Table, writer: _HashingWriter, advance: Advance) -> dict[str, Any]:
    """Write a table's rows as JSON Lines; its entry in the manifest (without the file hash)."""
    columns = [{"name": c.name, "type": _tag(c.type)} for c in table.columns]
    # JSON columns are read as their text: it keeps SQL NULL apart from a JSON null.
    selected = [
        cast(c, Text).label(c.name) if info["type"] == "json" else c
        for c, info in zip(table.columns, columns, strict=True)
    ]
    order = list(table.primary_key.columns) or list(table.columns)
    result = conn.execute(
        select(*selected).order_by(*order), execution_options={"stream_results": True, "yield_per": 2000}
    )
    tags = [info["type"] for info in columns]
    rows = 0
    for partition in result.partitions():
        lines = [
            json.dumps(
                [_encode(tag, value) for tag, value in zip(tags, row, strict=True)],
                ensure_ascii=False,
                separators=(",", ":"),
            )
            + "\n"
            for row in partition
        ]
        writer.write("".join(lines).encode("utf-8"))
        rows += len(lines)
        advance(len(lines))
    return {
        "name": table.name,
        "file": f"db/{table.name}.jsonl",
        "columns": columns,
        "primary_key": [c.name for c in table.primary_key.columns],
        "rows": rows,
    }


def _write_manifest(work: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest last, atomically: its presence marks a finished backup."""
    data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    tmp = work / f".{MANIFEST}.tmp"
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, work / MANIFEST)
    _fsync_tree(work)


def _archive(work: Path, dest: Path, files: list[str]) -> None:
    """Pack a finished backup directory into one .tar at ``dest`` (the manifest as last member)."""
    tmp = dest.parent / f".{dest.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for name in [*files, MANIFEST]:
                    info = tar.gettarinfo(str(work / name), arcname=name)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    with (work / name).open("rb") as fh:
                        tar.addfile(info, fh)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def make_backup(*, settings: Settings, dest: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Back up the instance of ``settings`` to ``dest`` (a new directory, or a ``.tar`` file).

    Safe while the server runs (see the module docstring). Returns the manifest. Raises
    :class:`InvalidInput` when ``dest`` exists or the database was never migrated, and
    :class:`CheckFailed` when a dataset file is missing or corrupt (nothing is left at ``dest``).
    """
    progress = progress or _Silent()
    dest = Path(dest)
    if dest.exists() or dest.is_symlink():
        raise InvalidInput(f"{dest} already exists: a backup never overwrites anything, choose a new name")
    if not dest.parent.is_dir():
        raise InvalidInput(f"cannot write {dest}: the directory {dest.parent} does not exist")
    archive = dest.suffix == ".tar"
    work = dest.parent / f".{dest.name}.partial-{uuid.uuid4().hex[:8]}"
    work.mkdir(mode=0o700)  # it holds token hashes, encrypted donor data and maybe the secret
    try:
        files: dict[str, dict[str, Any]] = {}
        engine = make_engine(settings.database_url_resolved, pool_size=1, max_overflow=0)
        try:
            if engine.dialect.name == "sqlite" and not Path(engine.url.database or "").is_file():
                raise InvalidInput(f"no database at {engine.url.database}: nothing to back up")
            with _snapshot(engine) as conn:
                taken_at = utcnow()
                revisions = current_heads(conn)
                if not revisions:
                    raise InvalidInput(
                        "the database has never been migrated: nothing to back up "
                        "(run datacommons init first)"
                    )
                unknown = sorted(set(revisions) - known_revisions())
                if unknown:
                    raise InvalidInput(
                        f"the database is at revision {', '.join(unknown)}, which "
                        f"datacommons {__version__} does not know: back it up with "
                        "the version that runs it"
                    )
                metadata = MetaData()
                metadata.reflect(conn)
                ordered, _cyclic = _table_order(metadata)
                total = sum(conn.scalar(select(func.count()).select_from(t)) or 0 for t in ordered)
                tables = []
                with progress.task("backing up the database (rows)", total=total) as advance:
                    for table in ordered:
                        writer = _HashingWriter(work / "db" / f"{table.name}.jsonl")
                        try:
                            entry = _dump_table(conn, table, writer, advance)
                        finally:
                            files[f"db/{table.name}.jsonl"] = writer.close()
                        tables.append(entry)
                hashes = (
                    sorted(set(conn.scalars(select(DatasetVersion.content_hash).distinct())))
                    if DatasetVersion.__tablename__ in metadata.tables
                    else []
                )
                dialect = engine.dialect.name
        finally:
            engine.dispose()
        # The snapshot is over: the files it names are immutable, so copying them needs no lock.
        store = ParquetStore(settings.store_dir)
        objects: dict[str, str] = {}
        with progress.task("copying dataset files", total=len(hashes)) as advance:
            for content_hash in hashes:
                source = store.path_for(content_hash)
                if not source.is_file():
                    raise CheckFailed(
                        f"dataset file {content_hash} is missing from the store "
                        f"({source}): no backup was written"
                    )
                name = f"store/objects/{content_hash[:2]}/{content_hash}.parquet"
                with source.open("rb") as fh:
                    files[name] = _copy_hashed(fh, work / name)
                if files[name]["sha256"] != content_hash:
                    raise CheckFailed(
                        f"dataset file {content_hash} in the store is corrupt (its "
                        f"bytes hash to {files[name]['sha256']}): no backup was written"
                    )
                objects[content_hash] = name
                advance(1)
        secret, secret_path = _secret_in_force(settings)
        if secret_path is not None:
            with secret_path.open("rb") as fh:
                files[SECRET_FILE] = _copy_hashed(fh, work / SECRET_FILE)
            os.chmod(work / SECRET_FILE, 0o600)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": taken_at.isoformat(),
            "datacommons_version": __version__,
            "database": {"dialect": dialect, "revisions": revisions},
            "tables": tables,
            "store": objects,
            "secret": {
                "included": secret_path is not None,
                "fingerprint": secret_fingerprint(secret) if secret is not None else None,
            },
            "files": files,
        }
        _write_manifest(work, manifest)
        if archive:
            _archive(work, dest, sorted(files))
            shutil.rmtree(work)
        else:
            os.replace(work, dest)
        fsync_dir(dest.parent)
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- reading a backup -------------------------------------------------------------------------------


class _Source:
    """The files of a backup, in a directory or in a .tar (read in place, never extracted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tar: tarfile.TarFile | None = None
        self.members: dict[str, tarfile.TarInfo] = {}
        if path.is_file():
            try:
                self.tar = tarfile.open(path, "r:")  # noqa: SIM115 - closed by close()
            except (tarfile.TarError, OSError) as exc:
                raise InvalidInput(
                    f"{path} is not a backup: neither a directory nor a readable .tar file"
                ) from exc
            try:
                self.members = {m.name: m for m in self.tar.getmembers()}
            except (tarfile.TarError, OSError) as exc:
                self.tar.close()
                raise CheckFailed(f"the backup archive {path} is truncated or damaged") from exc
        elif not path.is_dir():
            raise InvalidInput(f"no backup at {path}")

    def close(self) -> None:
        if self.tar is not None:
            self.tar.close()

    def size(self, name: str) -> int | None:
        """The size of a file of the backup, or None if it is not there."""
        if self.tar is None:
            path = self.path / name
            return path.stat().st_size if path.is_file() and not path.is_symlink() else None
        member = self.members.get(name)
        return member.size if member is not None and member.isfile() else None

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """A file of the backup, for reading."""
        if self.tar is None:
            with (self.path / name).open("rb") as fh:
                yield fh
            return
        member = self.tar.extractfile(self.members[name])
        assert member is not None  # size() has checked it is a regular file
        with member:
            yield member


@contextmanager
def _opened(path: Path) -> Iterator[_Source]:
    source = _Source(Path(path))
    try:
        yield source
    finally:
        source.close()


def _read_manifest(source: _Source) -> dict[str, Any]:
    if source.size(MANIFEST) is None:
        raise InvalidInput(
            f"{source.path} has no {MANIFEST}: it is not a backup, or a backup that did not finish"
        )
    try:
        with source.open(MANIFEST) as fh:
            manifest = json.loads(fh.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckFailed(f"the backup's {MANIFEST} is damaged (not valid JSON)") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput(f"{source.path} is not a datacommons backup")
    if not isinstance(manifest.get("format_version"), int) or manifest["format_version"] > FORMAT_VERSION:
        raise InvalidInput(
            f"the backup's format {manifest.get('format_version')!r} is newer than "
            f"this datacommons ({__version__}) reads: restore it with a newer version"
        )
    try:
        for key in ("database", "tables", "store", "secret", "files"):
            manifest[key]  # noqa: B018 - presence check
        manifest["files"] = {_safe_relative(k): v for k, v in manifest["files"].items()}
        for table in manifest["tables"]:
            if table["file"] not in manifest["files"]:
                raise KeyError(table["file"])
        for content_hash, name in manifest["store"].items():
            if name not in manifest["files"] or manifest["files"][name]["sha256"] != content_hash:
                raise KeyError(name)
        if manifest["secret"]["included"] and SECRET_FILE not in manifest["files"]:
            raise KeyError(SECRET_FILE)
    except (KeyError, TypeError, AttributeError) as exc:
        raise CheckFailed(f"the backup's {MANIFEST} is damaged (it lacks {exc})") from exc
    return manifest


def _verify(source: _Source, progress: Progress) -> dict[str, Any]:
    """The manifest, once every file it lists has its recorded size, hash and row count."""
    manifest = _read_manifest(source)
    rows_of = {t["file"]: t["rows"] for t in manifest["tables"]}
    total = sum(entry["bytes"] for entry in manifest["files"].values())
    with progress.task("checking the backup (bytes)", total=total) as advance:
        for name, entry in sorted(manifest["files"].items()):
            size = source.size(name)
            if size is None:
                raise CheckFailed(f"the backup is incomplete: {name} is missing")
            if size != entry["bytes"]:
                raise CheckFailed(
                    f"the backup is damaged: {name} has {size} bytes, the manifest says {entry['bytes']}"
                )
            digest, lines = hashlib.sha256(), 0
            try:
                with source.open(name) as fh:
                    while chunk := fh.read(HASH_CHUNK):
                        digest.update(chunk)
                        lines += chunk.count(b"\n")
                        advance(len(chunk))
            except (tarfile.TarError, OSError) as exc:
                raise CheckFailed(f"the backup is damaged: {name} cannot be read ({exc})") from exc
            if digest.hexdigest() != entry["sha256"]:
                raise CheckFailed(f"the backup is damaged: {name} does not match its SHA-256")
            if name in rows_of and lines != rows_of[name]:
                raise CheckFailed(
                    f"the backup is damaged: {name} has {lines} rows, the manifest says {rows_of[name]}"
                )
    return manifest


def verify_backup(path: Path, *, progress: Progress | None = None) -> dict[str, Any]:
    """Check a backup without restoring it; its manifest, or an error naming the first bad file."""
    with _opened(path) as source:
        return _verify(source, progress or _Silent())


# --- restore ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SecretPlan:
    """What restore does with the instance secret: nothing, or write the backup's secret.key."""

    write: bool
    target: Path
    replaces: bool = False


def _plan_secret(settings: Settings, manifest: dict[str, Any], *, force: bool) -> _SecretPlan:
    """Decide, before touching anything, how the restored instance gets the backup's secret."""
    target = settings.data_dir / "secret.key"
    wanted = manifest["secret"]["fingerprint"]
    included = bool(manifest["secret"]["included"])
    if wanted is None:  # the backed-up instance never had a secret, so nothing is encrypted
        return _SecretPlan(False, target)
    current, path = _secret_in_force(settings)
    if current is not None and secret_fingerprint(current) == wanted:
        return _SecretPlan(False, target)
    if current is not None and path is None:
        hint = " (unset it to use the secret.key in the backup)" if included else ""
        raise InvalidInput(
            "DATACOMMONS_SECRET_KEY is not the secret of the backed-up instance: "
            f"donor data and signing keys would not decrypt{hint}"
        )
    if not included:
        raise InvalidInput(
            "the backup does not hold the instance secret (it came from "
            "DATACOMMONS_SECRET_KEY): set DATACOMMONS_SECRET_KEY to that secret "
            "and restore again"
        )
    if current is not None and not force:
        raise InvalidInput(
            f"{target} holds another instance secret: pass --force to replace it "
            "(the old one is kept next to it)"
        )
    return _SecretPlan(True, target, replaces=current is not None)


def _apply_secret(plan: _SecretPlan, source: _Source) -> Callable[[], None]:
    """Install the backup's secret.key; return what undoes it should the restore fail."""
    if not plan.write:
        return lambda: None
    plan.target.parent.mkdir(parents=True, exist_ok=True)
    aside: Path | None = None
    if plan.replaces:
        aside = plan.target.with_name(f"secret.key.replaced-{utcnow():%Y%m%dT%H%M%S%f}")
        os.replace(plan.target, aside)
    with source.open(SECRET_FILE) as fh:
        write_secret_file(plan.target, fh.read().decode(), replace=True)

    def undo() -> None:
        if aside is not None:
            os.replace(aside, plan.target)  # the target's own secret, back in place
        else:
            plan.target.unlink(missing_ok=True)

    return undo


def _restore_store(
    source: _Source, manifest: dict[str, Any], store: ParquetStore, progress: Progress
) -> None:
    """Copy every dataset file into the store (temp, fsync, rename), checking each hash again."""
    store.ensure()
    with progress.task("restoring dataset files", total=len(manifest["store"])) as advance:
        for content_hash, name in sorted(manifest["store"].items()):
            final = store.path_for(content_hash)
            if final.is_file():
                try:
                    store.verify(content_hash)
                    advance(1)
                    continue
                except CheckFailed:
                    pass  # a damaged copy in the target: replace it with the good one
            with source.open(name) as fh:
                if store.put_stream(fh, content_hash) != content_hash:
                    raise CheckFailed(f"the backup's {name} changed while it was restored")
            advance(1)


def _fresh_schema() -> tuple[set[str], dict[str, set[tuple[Any, ...]]]]:
    """The tables of a freshly migrated database and the rows the migrations seed in them."""
    engine = make_engine("sqlite:///:memory:")
    try:
        with engine.connect() as conn:
            upgrade(conn)
            conn.commit()
            metadata = MetaData()
            metadata.reflect(conn)
            seeds = {
                name: _rows_of(conn, table) for name, table in metadata.tables.items() if name not in NOT_DATA
            }
        return set(metadata.tables), seeds
    finally:
        engine.dispose()


def _rows_of(conn: Connection, table: Table, limit: int | None = None) -> set[tuple[Any, ...]]:
    tags = [_tag(c.type) for c in table.columns]
    query = select(
        *[cast(c, Text) if tag == "json" else c for c, tag in zip(table.columns, tags, strict=True)]
    ).limit(limit)
    return {tuple(_encode(tag, v) for tag, v in zip(tags, row, strict=True)) for row in conn.execute(query)}


def _data_held(engine: Engine, managed: set[str], seeds: dict[str, set[tuple[Any, ...]]]) -> str | None:
    """Which table of the target holds data (rows other than what the migrations seed), if any."""
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        metadata = MetaData()
        metadata.reflect(conn, only=sorted((present & managed) - NOT_DATA))
        for name, table in sorted(metadata.tables.items()):
            expected = seeds.get(name, set())
            count = conn.scalar(select(func.count()).select_from(table)) or 0
            if count > len(expected) or not _rows_of(conn, table, len(expected) + 1) <= expected:
                return f"table {name} has {count} row(s)"
    return None


def _insert_table(target: Table) -> Table:
    """``target``'s columns for INSERT, with JSON columns that write None as SQL NULL."""
    return Table(
        target.name,
        MetaData(),
        *[
            Column(c.name, JSON(none_as_null=True) if isinstance(c.type, JSON) else c.type)
            for c in target.columns
        ],
    )


def _load_rows(
    conn: Connection,
    source: _Source,
    entry: dict[str, Any],
    target: Table,
    deferred: set[str],
    advance: Advance,
) -> list[dict[str, Any]]:
    """Insert a table's rows; return the values of ``deferred`` columns to set afterwards."""
    names = [c["name"] for c in entry["columns"]]
    tags = [c["type"] for c in entry["columns"]]
    missing = set(names) ^ {c.name for c in target.columns}
    if missing:
        raise CheckFailed(
            f"table {target.name} of the backup does not match the schema at its "
            f"revision (columns {', '.join(sorted(missing))})"
        )
    insert = _insert_table(target).insert()
    pk = entry["primary_key"]
    later: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    with source.open(entry["file"]) as fh:
        for line in fh:
            values = json.loads(line)
            row = {name: _decode(tag, value) for name, tag, value in zip(names, tags, values, strict=True)}
            if deferred:
                kept = {c: row[c] for c in deferred if row[c] is not None}
                if kept:
                    later.append({"pk": {k: row[k] for k in pk}, "values": kept})
                    for column in kept:
                        row[column] = None
            batch.append(row)
            if len(batch) >= BATCH:
                conn.execute(insert, batch)
                advance(len(batch))
                batch = []
    if batch:
        conn.execute(insert, batch)
        advance(len(batch))
    return later


def _fill_deferred(conn: Connection, table: Table, pk: list[str], later: list[dict[str, Any]]) -> None:
    """Set the foreign keys that close a cycle, once the rows they point to are all in."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for item in later:
        row = {f"k_{k}": v for k, v in item["pk"].items()}
        row.update({f"v_{c}": v for c, v in item["values"].items()})
        by_columns.setdefault(tuple(sorted(item["values"])), []).append(row)
    for columns, rows in by_columns.items():
        statement = (
            table.update()
            .where(*[table.c[k] == bindparam(f"k_{k}") for k in pk])
            .values({c: bindparam(f"v_{c}") for c in columns})
        )
        conn.execute(statement, rows)


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """On PostgreSQL, move each serial primary key's sequence past the restored ids."""
    quote = conn.dialect.identifier_preparer.quote
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = conn.scalar(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": quote(table.name), "c": column.name}
            )
            if sequence:
                conn.execute(
                    text(
                        f"SELECT setval(:s, COALESCE((SELECT MAX({quote(column.name)}) "
                        f"FROM {quote(table.name)}), 0) + 1, false)"
                    ),
                    {"s": sequence},
                )


def _load_database(
    conn: Connection, source: _Source, manifest: dict[str, Any], managed: set[str], progress: Progress
) -> None:
    """Replace the schema and load every row, in the caller's transaction on ``conn``."""
    dialect = conn.dialect.name
    quote = conn.dialect.identifier_preparer.quote
    if dialect == "postgresql":
        # Servers starting meanwhile wait to migrate until this transaction ends.
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
    entries = {t["name"]: t for t in manifest["tables"]}
    present = set(inspect(conn).get_table_names())
    for name in sorted(present & (managed | set(entries) | NOT_DATA)):
        conn.exec_driver_sql(
            f"DROP TABLE IF EXISTS {quote(name)}" + (" CASCADE" if dialect == "postgresql" else "")
        )
    for revision in manifest["database"]["revisions"]:
        upgrade(conn, revision)
    metadata = MetaData()
    metadata.reflect(conn)
    absent = sorted(set(entries) - set(metadata.tables))
    if absent:
        raise CheckFailed(f"the backup has tables its revision does not create: {', '.join(absent)}")
    ordered, cyclic = _table_order(metadata)
    for table in reversed(ordered):  # the rows the migrations seeded make way for the backup's
        conn.execute(table.delete())
    deferred: dict[str, set[str]] = {}
    for constraint in cyclic:
        deferred.setdefault(constraint.table.name, set()).update(constraint.column_keys)
    updates: dict[str, list[dict[str, Any]]] = {}
    total = sum(t["rows"] for t in manifest["tables"])
    with progress.task("restoring the database (rows)", total=total) as advance:
        for table in ordered:
            if table.name in entries:
                updates[table.name] = _load_rows(
                    conn, source, entries[table.name], table, deferred.get(table.name, set()), advance
                )
    for name, later in updates.items():
        _fill_deferred(conn, metadata.tables[name], entries[name]["primary_key"], later)
    if dialect == "postgresql":
        _reset_sequences(conn, ordered)
    for name, entry in entries.items():
        count = conn.scalar(select(func.count()).select_from(metadata.tables[name]))
        if count != entry["rows"]:
            raise CheckFailed(f"table {name} holds {count} rows after loading, the backup {entry['rows']}")
    if dialect == "sqlite":
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
        if broken is not None:
            raise CheckFailed(f"the backup breaks a foreign key of table {broken[0]}")
    missing = set(conn.scalars(select(DatasetVersion.content_hash).distinct())) - set(manifest["store"])
    if missing:
        raise CheckFailed(f"the backup lacks dataset file {sorted(missing)[0]} that a version needs")
    upgrade(conn)  # a backup of an older version: bring it to this version's schema


def _sqlite_pragma(conn: Connection, pragma: str) -> None:
    """Run a pragma on SQLite's own connection, outside any transaction SQLAlchemy would begin."""
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute(pragma)


def restore_backup(
    *, settings: Settings, src: Path, force: bool = False, progress: Progress | None = None
) -> dict[str, Any]:
    """Restore the backup at ``src`` into the database and data directory of ``settings``.

    Checks the whole backup first and refuses (:class:`InvalidInput`, nothing touched) when the
    target database already holds data and ``force`` is false, when the backup comes from a newer
    version, or when the target's instance secret would not decrypt the backup's keys. A damaged
    backup raises :class:`CheckFailed`, also before anything is touched. Returns the manifest.

    Stop the server of the target instance first: a restore replaces its database.
    """
    progress = progress or _Silent()
    with _opened(Path(src)) as source:
        manifest = _verify(source, progress)
        unknown = sorted(set(manifest["database"]["revisions"]) - known_revisions())
        if unknown:
            raise InvalidInput(
                f"the backup is at database revision {', '.join(unknown)}, which "
                f"datacommons {__version__} does not know: restore it with "
                f"datacommons {manifest['datacommons_version']} or newer"
            )
        plan = _plan_secret(settings, manifest, force=force)
        managed, seeds = _fresh_schema()
        url = settings.database_url_resolved
        engine = make_engine(url, pool_size=1, max_overflow=0)
        try:
            sqlite_file = engine.url.database if engine.dialect.name == "sqlite" else None
            if not (sqlite_file and not Path(sqlite_file).exists()):
                held = _data_held(engine, managed, seeds)
                if held and not force:
                    raise InvalidInput(
                        f"the target database already holds data ({held}): "
                        "restore into an empty database, or pass --force to "
                        "replace it"
                    )
            if sqlite_file:
                Path(sqlite_file).parent.mkdir(parents=True, exist_ok=True)
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            _restore_store(source, manifest, ParquetStore(settings.store_dir), progress)
            undo_secret = _apply_secret(plan, source)
            try:
                with engine.connect() as conn:
                    if engine.dialect.name == "sqlite":
                        # Foreign keys are checked once, all rows loaded (PRAGMA foreign_key_check
                        # above); the pragma only changes outside a transaction, hence the driver.
                        _sqlite_pragma(conn, "PRAGMA foreign_keys=OFF")
                        conn = conn.execution_options(immediate=True)
                    try:
                        with conn.begin():
                            _load_database(conn, source, manifest, managed, progress)
                    finally:
                        if engine.dialect.name == "sqlite":
                            _sqlite_pragma(conn, "PRAGMA foreign_keys=ON")
            except BaseException:
                undo_secret()
                raise
        finally:
            engine.dispose()
    return manifest
