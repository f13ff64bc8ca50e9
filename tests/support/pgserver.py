"""A real, throw-away PostgreSQL server in a temporary directory, for the PostgreSQL leg of the tests.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as the ``postgres``
user. It listens on 127.0.0.1 on a free port, trusts local connections, and is stopped and removed
when the tests end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path(os.environ.get("DATACOMMONS_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextmanager
def postgres_server(*, fsync: bool = False) -> Iterator[str]:
    """Start a PostgreSQL server; yield the SQLAlchemy URL of its ``postgres`` database."""
    if not (PG_BIN / "postgres").exists():
        raise RuntimeError(
            f"PostgreSQL 15 server binaries not found in {PG_BIN}: "
            "install them with 'apt-get install -y postgresql-15' (make test does it)"
        )
    root = Path(tempfile.mkdtemp(prefix="datacommons-pg-"))
    data = root / "data"
    port = _free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    os.chmod(root, 0o700)
    run = {"check": True, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            **run,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=300 "
            f"-c fsync={'on' if fsync else 'off'} -c full_page_writes=off "
            "-c synchronous_commit=off"
        )
        subprocess.run(
            _as_server_user(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(root / "server.log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            **run,
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"could not start PostgreSQL: {exc.stdout.decode(errors='replace')}") from exc
    finally:
        subprocess.run(
            _as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def new_database(server_url: str, prefix: str, *, template: str | None = None) -> Iterator[str]:
    """A new database on the server (a copy of ``template`` if given); its URL; dropped after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
