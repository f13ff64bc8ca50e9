"""Fixtures shared by every suite.

Each test gets its own data directory and its own, already migrated database: a copy of a migrated
SQLite file, or a PostgreSQL database cloned from a migrated template. ``pytest --db=postgresql`` runs
the whole suite on a real PostgreSQL 15 server that the fixtures start and stop.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from datacommons import auth
from datacommons.app import create_app
from datacommons.config import Settings
from datacommons.db import make_engine, make_sessionmaker, transaction
from datacommons.migrations import upgrade
from datacommons.storage import ParquetStore
from tests.support.pgserver import new_database, postgres_server

TEMPLATE_DB = "datacommons_template"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="database to run the suite on (postgresql starts a throw-away server)",
    )


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def pg_url(db_kind: str) -> Iterator[str | None]:
    """The URL of the session's PostgreSQL server (None on the SQLite leg)."""
    if db_kind != "postgresql":
        yield None
        return
    with postgres_server() as url:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {TEMPLATE_DB}"))
        admin.dispose()
        template = make_engine(make_url(url).set(database=TEMPLATE_DB).render_as_string(False))
        upgrade(template)
        template.dispose()
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory, db_kind: str) -> Path | None:
    if db_kind != "sqlite":
        return None
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def database_url(tmp_path: Path, pg_url: str | None, sqlite_template: Path | None) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    if pg_url is None:
        assert sqlite_template is not None
        path = tmp_path / "datacommons.sqlite3"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    with new_database(pg_url, "t", template=TEMPLATE_DB) as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings of a test instance: its own data directory and database."""
    return Settings(
        _env_file=None,
        env="test",
        data_dir=tmp_path / "var",
        database_url=database_url,
        secret_key="test-secret-" + "x" * 32,
    )


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    yield application
    application.state.commons.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def sessions(app):  # type: ignore[no-untyped-def]
    """The app's session factory, for arranging and inspecting records directly."""
    return app.state.commons.sessions


@pytest.fixture
def tokens(client: TestClient, sessions) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One token per role (admin, analyst, researcher, donor), by role."""
    out: dict[str, str] = {}
    with transaction(sessions) as session:
        for role in auth.ROLES:
            org = None if role == "donor" else auth.get_or_create_organisation(session, f"org-{role}")
            _, clear = auth.create_token(
                session,
                role=role,
                name=f"test {role}",
                organisation=org,
                donor_id="donor-test-1" if role == "donor" else None,
            )
            out[role] = clear
    return out


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def store(settings: Settings) -> ParquetStore:
    """The test instance's Parquet store."""
    return ParquetStore(settings.store_dir)


@pytest.fixture
def session_factory(settings: Settings):  # type: ignore[no-untyped-def]
    """A session factory on the test database without an app."""
    engine = make_engine(settings.database_url_resolved)
    yield make_sessionmaker(engine)
    engine.dispose()
