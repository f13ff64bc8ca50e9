"""Erasure is real: after DELETE /donors/me the donor's wrapped data key is in no file of the
instance — on SQLite not the database, not its write-ahead log (the review unwrapped it from the
WAL); on PostgreSQL in no table file of the server (its WAL is the documented exception)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from consent.models import DonorKey
from datacommons.app import create_app
from datacommons.config import Settings
from tests.conftest import bearer
from tests.consent.conftest import register


def files_holding(root: Path, needle: bytes) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()
    )


def test_the_erased_key_is_in_no_file(tmp_path: Path) -> None:
    # Always SQLite, in the data directory, whichever database the suite runs on: it is SQLite's
    # files that are checked.
    settings = Settings(
        _env_file=None, env="test", data_dir=tmp_path / "var", secret_key="test-secret-" + "x" * 32
    )
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            donor_id, token = register(client, name="Carla Verdi", email="carla@example.org")
            _other, _token = register(client, name="Dario Neri")
            with app.state.commons.sessions() as session:
                key = session.get(DonorKey, donor_id)
                assert key is not None
                wrapped = bytes(key.wrapped_key)
            assert len(wrapped) >= 32
            # the key is really written somewhere now (database or log), so the check can fail
            assert files_holding(tmp_path, wrapped)
            assert client.delete("/api/v1/donors/me", headers=bearer(token)).status_code == 200
            assert files_holding(tmp_path, wrapped) == []
            # the other donor's key is untouched
            assert client.get("/api/v1/donors/me", headers=bearer(_token)).json()["name"] == ("Dario Neri")
    finally:
        app.state.commons.engine.dispose()


def database_files(app) -> Path:  # type: ignore[no-untyped-def]
    """Where the suite's database keeps its files: SQLite's beside the database file; PostgreSQL's
    database directory under the server's data directory (its WAL, pg_wal, is not under it)."""
    if app.state.commons.engine.dialect.name != "postgresql":
        return Path(str(app.state.commons.engine.url.database)).parent
    with app.state.commons.engine.connect() as conn:
        data = Path(conn.execute(text("SHOW data_directory")).scalar_one())
        table = Path(conn.execute(text("SELECT pg_relation_filepath('donor_keys')")).scalar_one())
    return data / table.parent


def flush(app) -> None:  # type: ignore[no-untyped-def]
    """Write whatever the server holds in memory to its files (PostgreSQL's shared buffers)."""
    if app.state.commons.engine.dialect.name == "postgresql":
        with app.state.commons.engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))


def test_the_erased_key_is_in_no_file_of_the_suites_database(
    client: TestClient, app, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    root = database_files(app)
    donor_id, token = register(client, name="Carla Verdi", email="carla@example.org")
    with app.state.commons.sessions() as session:
        wrapped = bytes(session.get(DonorKey, donor_id).wrapped_key)
    flush(app)
    assert files_holding(root, wrapped)  # the key is in the files now, so the check can fail
    assert client.delete("/api/v1/donors/me", headers=bearer(token)).status_code == 200
    flush(app)
    assert files_holding(root, wrapped) == []
