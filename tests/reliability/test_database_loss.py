"""When the database goes away the server answers 503 with the one error body, and recovers by itself.

On PostgreSQL: the server's connections are terminated with writes in flight, and the database server
is stopped and started again. On SQLite, where there is no connection to lose, the equivalent is
another process holding the write lock beyond the busy timeout (a backup, a long maintenance
transaction): writes wait, then answer 503, reads go on, and everything works once the lock is gone.
In every case the server process is never restarted, and nothing a 503 answered was done.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from consent.models import ConsentEvent
from datacommons.config import Settings
from datacommons.db import make_engine, make_sessionmaker
from datacommons.migrations import upgrade
from tests.conftest import bearer
from tests.reliability.driver import Drive
from tests.reliability.pg import own_postgres
from tests.reliability.seed import admin_token, grant_body, program_and_donors
from tests.reliability.server import Server, wait_until


def unavailable(message: str) -> dict[str, Any]:
    """The 503 body."""
    return {"ok": False, "error": message, "status": 503, "errors": []}


LOST = unavailable("the database connection was lost; try again")
DOWN = unavailable("the database is unavailable; try again later")
BUSY = unavailable("the database is busy (another write holds its lock); try again")

BUSY_MS = 1000


def terminate_connections(url: str) -> int:
    """Terminate every other connection to the database of ``url``, as an operator (or a failover)
    would; return how many."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        engine.dispose()


def open_transactions(url: str) -> int:
    """How many other connections to the database of ``url`` are inside a transaction now."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


@contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """Hold the SQLite database's write lock from another process's point of view, then let go."""
    path = make_url(settings.database_url_resolved).database
    assert path is not None
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def answers(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


def events(factory) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(ConsentEvent)) or 0)


def test_lost_connections_answer_503_and_the_next_requests_succeed(  # type: ignore[no-untyped-def]
    db_kind: str, settings: Settings, session_factory
) -> None:
    tokens = program_and_donors(session_factory, 3)
    admin = bearer(admin_token(session_factory))
    lanes = [
        [
            (
                donor_id,
                lambda client, t=token: client.post("/api/v1/consents", json=grant_body(), headers=bearer(t)),
            )
        ]
        for donor_id, token in sorted(tokens.items())
    ]
    # every consent write pauses 1 s inside its transaction: the fault strikes while it waits
    server = Server(settings, slow=["consent-event"], delay=1.0, busy_ms=BUSY_MS).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.get("/api/v1/datasets", headers=admin).status_code == 200
            if db_kind == "postgresql":
                drive = Drive(server.url, lanes).start()
                # one write pauses in its step; the others wait for the row locks it holds
                wait_until(
                    lambda: (
                        server.mark_count() >= 1 and open_transactions(settings.database_url_resolved) >= 3
                    ),
                    timeout=30,
                    what="three consent writes in their transactions",
                )
                assert terminate_connections(settings.database_url_resolved) >= 3
                expected = LOST
            else:
                with write_lock(settings):
                    drive = Drive(server.url, lanes).start().join()
                    # reads go on while writes wait for the lock
                    read = client.get("/api/v1/programs")
                    assert (read.status_code, read.json()["count"]) == (200, 1)
                expected = BUSY
            drive.join()
            assert drive.cut == []
            assert [answers(r) for _, r in drive.acknowledged] == [(503, expected)] * 3
            assert {r.headers["retry-after"] for _, r in drive.acknowledged} == {"2"}
            assert events(session_factory) == 0  # what a 503 answered was not done

            # the very next requests succeed, on the same server process
            read = client.get("/api/v1/datasets", headers=admin)
            assert (read.status_code, read.json()["count"]) == (200, 0)
            for donor_id, token in sorted(tokens.items()):
                again = client.post("/api/v1/consents", json=grant_body(), headers=bearer(token))
                assert again.status_code == 201, again.text
                mine = client.get("/api/v1/consents", headers=bearer(token)).json()
                assert [c["status"] for c in mine["data"]] == ["active"], donor_id
            assert events(session_factory) == 3
        assert server.process is not None and server.process.poll() is None
    finally:
        server.stop()


def test_database_down_answers_503_until_it_is_back(  # type: ignore[no-untyped-def]
    db_kind: str, settings: Settings, session_factory, tmp_path: Path
) -> None:
    if db_kind == "postgresql":
        with own_postgres() as postgres:
            engine = make_engine(postgres.url)
            upgrade(engine)
            engine.dispose()
            own = Settings(
                _env_file=None,
                env="test",
                data_dir=tmp_path / "own",
                database_url=postgres.url,
                secret_key=settings.secret_key,
            )
            engine = make_engine(own.database_url_resolved)
            try:
                outage_and_recovery(
                    own, make_sessionmaker(engine), stop=postgres.stop, start=postgres.start, expected=DOWN
                )
            finally:
                engine.dispose()
    else:
        lock = write_lock(settings)
        outage_and_recovery(
            settings,
            session_factory,
            stop=lock.__enter__,
            start=lambda: lock.__exit__(None, None, None),
            expected=BUSY,
            reads_survive=True,
        )


def outage_and_recovery(
    settings: Settings,
    factory,
    *,
    stop,
    start,  # type: ignore[no-untyped-def]
    expected: dict[str, Any],
    reads_survive: bool = False,
) -> None:
    """Requests of every kind before, during and after an outage of the database."""
    tokens = program_and_donors(factory, 3)
    admin = bearer(admin_token(factory))
    (first, one), (second, two), (third, three) = sorted(tokens.items())
    reads = [
        ("GET", "/api/v1/datasets", admin, None),  # authenticated
        ("GET", "/api/v1/programs", {}, None),  # public
        ("GET", "/api/v1/consents", bearer(two), None),
    ]  # a donor's own records
    writes = [
        ("POST", "/api/v1/consents", bearer(two), grant_body()),
        ("POST", "/api/v1/donors", {}, {"name": "Maria"}),
        (
            "POST",
            "/api/v1/admin/programs/ricerca-inserimento/texts",
            admin,
            {
                "text_it": "Acconsento all'uso dei miei dati per la ricerca.",
                "text_en": "I agree to the use of my data for research.",
                "datasets": ["inserimento-lavorativo"],
                "data_categories": ["wage"],
                "recipients": ["class:researchers"],
            },
        ),
    ]
    server = Server(settings, busy_ms=BUSY_MS).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:

            def send(method: str, path: str, headers: dict[str, str], body: Any) -> httpx.Response:
                return client.request(method, path, headers=headers, json=body)

            assert send("POST", "/api/v1/consents", bearer(one), grant_body()).status_code == 201
            before = events(factory)
            stop()
            try:
                assert client.get("/api/v1/health").status_code == 200  # liveness needs no database
                for method, path, headers, body in writes + ([] if reads_survive else reads):
                    answer = send(method, path, headers, body)
                    assert answers(answer) == (503, expected), (method, path)
                for method, path, headers, body in reads if reads_survive else []:
                    assert send(method, path, headers, body).status_code == 200, path
            finally:
                start()
            assert events(factory) == before  # nothing answered with 503 was done

            for method, path, headers, body in reads + writes:  # the same server, recovered
                answer = send(method, path, headers, body)
                assert answer.status_code in (200, 201), (path, answer.text)
            assert send("POST", "/api/v1/consents", bearer(three), grant_body(version=2)).status_code == 201
            assert events(factory) == before + 2
        assert server.process is not None and server.process.poll() is None
    finally:
        server.stop()
