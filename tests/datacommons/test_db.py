"""The database layer: migrations, SQLite pragmas, timestamps in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from datacommons import registry
from datacommons.config import Settings
from datacommons.db import make_engine, make_sessionmaker, transaction
from datacommons.migrations import current_revision, upgrade
from datacommons.specs import DatasetMeta

TABLES = {
    "datasets",
    "dataset_versions",
    "version_transitions",
    "access_policies",
    "organisations",
    "api_tokens",
    "alembic_version",
}


def test_migrations_create_every_table_and_are_idempotent(settings: Settings) -> None:
    engine = make_engine(settings.database_url_resolved)
    upgrade(engine)
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert current_revision(engine) is not None
    engine.dispose()


def test_foreign_keys_are_enforced_and_sqlite_runs_in_wal_mode(settings: Settings, db_kind: str) -> None:
    engine = make_engine(settings.database_url_resolved)
    upgrade(engine)
    try:
        if db_kind == "sqlite":
            with engine.connect() as conn:
                assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        # on both databases a row naming a version that does not exist is refused
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO version_transitions (version_id, from_status, to_status, actor, "
                    "note, at) VALUES (999999, NULL, 'staged', 't', '', CURRENT_TIMESTAMP)"
                )
            )
    finally:
        engine.dispose()


def test_timestamps_come_back_aware_and_in_utc(session_factory) -> None:  # type: ignore[no-untyped-def]
    rome = timezone(timedelta(hours=1))
    meta = DatasetMeta(id="tz-check", title_it="t", title_en="t", publisher="p")
    with transaction(session_factory) as session:
        dataset = registry.upsert_dataset(session, meta=meta)
        dataset.modified_at = datetime(2026, 1, 1, 12, 0, tzinfo=rome)
    with transaction(session_factory) as session:
        again = registry.get_dataset(session, "tz-check")
        assert again.modified_at == datetime(2026, 1, 1, 11, 0, tzinfo=UTC)
        assert again.modified_at.tzinfo is not None


def test_a_failed_transaction_leaves_nothing(session_factory) -> None:  # type: ignore[no-untyped-def]
    meta = DatasetMeta(id="rolled-back", title_it="t", title_en="t", publisher="p")
    try:
        with transaction(session_factory) as session:
            registry.upsert_dataset(session, meta=meta)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    factory = make_sessionmaker(session_factory.kw["bind"])
    with factory() as session:
        assert registry.list_datasets(session) == []
