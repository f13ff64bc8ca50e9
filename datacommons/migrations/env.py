"""Alembic environment: runs migrations on the engine handed over by ``datacommons.migrations``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

import consent.models  # noqa: F401,E402

# Every table of every package, so that autogenerate sees them all. Only the tooling imports these;
# the kernel itself never does.
import datacommons.auth  # noqa: F401,E402
import datacommons.datasets  # noqa: F401,E402
import datacommons.quality.models  # noqa: F401,E402
import datacommons.redaction  # noqa: F401,E402
import privacy.models  # noqa: F401,E402
from datacommons.db import Base, make_engine
from datacommons.migrations import PG_MIGRATION_LOCK

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    given: Connection | None = config.attributes.get("connection")
    if given is not None:
        # A caller's connection already in its transaction (a restore): Alembic sees the external
        # transaction and migrates inside it, so schema and rows commit or roll back together.
        _configure(given)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = config.attributes.get("engine") or make_engine(str(config.get_main_option("sqlalchemy.url")))
    with engine.execution_options(immediate=True).connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))
            connection.commit()
        try:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if engine.dialect.name == "postgresql":
                connection.execute(text(f"SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))
                connection.commit()


run_migrations_online()
