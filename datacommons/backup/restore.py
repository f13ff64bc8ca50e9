"""Restoring a backup: checked first, then the store's files, then the schema and every row in one
transaction."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    cast,
    func,
    inspect,
    select,
    text,
)

from datacommons import __version__
from datacommons.backup.format import (
    BATCH,
    NOT_DATA,
    SECRET_FILE,
    Advance,
    Progress,
    _decode,
    _encode,
    _secret_in_force,
    _Silent,
    _tag,
    secret_fingerprint,
)
from datacommons.backup.read import _opened, _Source, _verify
from datacommons.backup.write import _table_order
from datacommons.config import Settings, write_secret_file
from datacommons.datasets import DatasetVersion
from datacommons.db import make_engine, utcnow
from datacommons.errors import CheckFailed, InvalidInput
from datacommons.migrations import PG_MIGRATION_LOCK, known_revisions, upgrade
from datacommons.storage import ParquetStore

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
