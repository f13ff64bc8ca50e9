"""Making a backup: one consistent snapshot of every table, the store's files, the secret, the
manifest last."""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    ForeignKeyConstraint,
    MetaData,
    Table,
    Text,
    cast,
    func,
    select,
)
from sqlalchemy.sql.ddl import sort_tables_and_constraints

from datacommons import __version__
from datacommons.backup.format import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    NOT_DATA,
    SECRET_FILE,
    Advance,
    Progress,
    _copy_hashed,
    _encode,
    _fsync_tree,
    _HashingWriter,
    _secret_in_force,
    _Silent,
    _tag,
    secret_fingerprint,
)
from datacommons.config import Settings
from datacommons.datasets import DatasetVersion
from datacommons.db import make_engine, utcnow
from datacommons.errors import CheckFailed, InvalidInput
from datacommons.migrations import current_heads, known_revisions
from datacommons.storage import ParquetStore, fsync_dir

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
