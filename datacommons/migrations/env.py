"""Alembic environment: runs migrations on the engine handed over by ``datacommons.migrations``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

import consent.models  # noqa: F401,E402

# Every table of every package, so that autogenerate sees them all. Only the tooling imports these;
# the kernel itself never does.
import datacommons.auth  # noqa: F401,E402
import datacommons.quality.models  # noqa: F401,E402
import datacommons.registry  # noqa: F401,E402
import privacy.models  # noqa: F401,E402
from datacommons.db import Base, make_engine

PG_MIGRATION_LOCK = 7286001  # advisory lock id: concurrent starters migrate one at a time

config = context.config
engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url"))


def run_migrations_online() -> None:
    is_sqlite = engine.dialect.name == "sqlite"
    with engine.execution_options(immediate=True).connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=is_sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if engine.dialect.name == "postgresql":
                connection.execute(text(f"SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))
                connection.commit()


run_migrations_online()
