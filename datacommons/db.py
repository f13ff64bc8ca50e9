"""The database: SQLAlchemy 2 engine, sessions and the declarative base.

SQLite (WAL mode, foreign keys on) is the embedded default; PostgreSQL is used by URL. Services take a
:class:`~sqlalchemy.orm.Session` and never commit on their own unless they document it; the caller (a
request, a CLI command) owns the transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from datacommons.errors import Unavailable

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table of the commons."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    """The current instant, timezone-aware."""
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """An instant as ISO 8601 UTC with a Z and microseconds, or None."""
    if value is None:
        return None
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted content is overwritten with zeros, not left in free space: an erased donor's key must
    # be gone from the file (Debian's build has it on by default; others do not).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


#: The tables whose deleted rows must leave the database's files after an erasure.
SCRUBBED_TABLES = ("donor_keys",)


def scrub(engine: Engine) -> bool:
    """After an erasure, leave no old copy of erased rows in the database's files.

    SQLite keeps old page images in its write-ahead log until a checkpoint: copy the log into the
    database (whose deleted content ``secure_delete`` has zeroed) and truncate it to nothing.
    Returns whether that completed (False while another connection still reads an older snapshot;
    the next checkpoint does it).

    PostgreSQL keeps a deleted row in the table's pages until they are rewritten: ``VACUUM FULL``
    writes :data:`SCRUBBED_TABLES` (a few small rows) into new files and drops the old ones. The
    server's own WAL still holds the row until its segments are recycled: see docs/security.md.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside one
            for table in SCRUBBED_TABLES:
                conn.exec_driver_sql(f"VACUUM (FULL) {table}")
        return True
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as conn:
        # on the driver's own connection, outside any transaction (a checkpoint inside one is busy)
        raw = conn.connection.driver_connection
        assert raw is not None
        busy, _log, _done = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def _sqlite_on_begin(conn: Connection) -> None:
    # A write transaction that reads before it writes must hold the write lock from its start, or a
    # concurrent writer makes it fail with SQLITE_BUSY_SNAPSHOT instead of waiting.
    immediate = conn.get_execution_options().get("immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


#: How long a SQLite statement waits for another writer's lock before failing (then: 503).
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: Connections per process (the server sets them from DATACOMMONS_DB_POOL_SIZE / _MAX_OVERFLOW).
#: A request holds its connection until its response is sent; under load many requests wait to
#: send while 40 worker threads need connections of their own, so the pool must be larger than
#: the thread pool or every thread ends up waiting for a connection.
POOL_SIZE = 20
MAX_OVERFLOW = 200


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``, with the SQLite pragmas the commons relies on."""
    # Statement parameters hold token hashes and encrypted personal data: never in a log or an error.
    kwargs.setdefault("hide_parameters", True)
    if ":memory:" not in url:
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", MAX_OVERFLOW)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """The session factory used by requests and commands."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session], *, immediate: bool = False) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error.

    ``immediate=True`` takes the write lock at the start on SQLite (a no-op on PostgreSQL, where row
    locks and conditional updates do the same job).
    """
    if immediate:
        session = factory(bind=factory.kw["bind"].execution_options(immediate=True))
    else:
        session = factory()
    try:
        with session.begin():
            yield session
    except SQLAlchemyError as exc:
        unavailable = unavailable_error(exc)
        if unavailable is not None:
            raise unavailable from exc
        raise
    finally:
        session.close()


#: Messages of SQLite errors a retry can cure (another writer's lock, a full or vanished disk).
SQLITE_TRANSIENT = ("locked", "busy", "disk i/o error", "unable to open", "disk is full")
RETRY_AFTER = {"Retry-After": "2"}


def unavailable_error(exc: BaseException) -> Unavailable | None:
    """The 503 a database failure stands for, or ``None`` when a retry cannot help.

    Lost or refused connections, a server that is down, a lock held beyond the busy timeout, a
    serialization failure or an exhausted pool are the database being unavailable for a moment:
    the request did nothing and may be sent again. Anything else (a constraint, a missing table, a
    bad statement) is a bug and stays a 500.
    """
    if isinstance(exc, PoolTimeout):
        return Unavailable(
            "the database has no free connection (too much load); try again", headers=RETRY_AFTER
        )
    if not isinstance(exc, DBAPIError):
        return None
    if exc.connection_invalidated:
        return Unavailable("the database connection was lost; try again", headers=RETRY_AFTER)
    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    if isinstance(exc.orig, sqlite3.Error):
        text = str(exc.orig).lower()
        if "locked" in text or "busy" in text:
            return Unavailable(
                "the database is busy (another write holds its lock); try again", headers=RETRY_AFTER
            )
        if any(part in text for part in SQLITE_TRANSIENT):
            return Unavailable(f"the database cannot be used ({text}); try again later", headers=RETRY_AFTER)
        return None
    return Unavailable("the database is unavailable; try again later", headers=RETRY_AFTER)
