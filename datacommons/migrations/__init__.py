"""Alembic migrations of the commons' database, applied by ``datacommons init`` and on start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

HERE = Path(__file__).resolve().parent
#: PostgreSQL advisory lock id: concurrent starters (and a restore) migrate one at a time.
PG_MIGRATION_LOCK = 7286001


def alembic_config(bind: Engine | Connection) -> Config:
    """An Alembic configuration that runs on ``bind`` (no alembic.ini needed).

    Given a :class:`~sqlalchemy.Connection` already in a transaction, migrations run inside that
    transaction and commit or roll back with it (``datacommons restore`` relies on this).
    """
    config = Config()
    config.set_main_option("script_location", str(HERE))
    url = bind.engine.url.render_as_string(hide_password=False)
    # ConfigParser treats % as interpolation: an escaped URL (a password with %, :memory:) breaks it.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if isinstance(bind, Connection):
        config.attributes["connection"] = bind
    else:
        config.attributes["engine"] = bind
    return config


def upgrade(bind: Engine | Connection, revision: str = "heads") -> None:
    """Bring the database up to ``revision`` (by default every branch's newest).

    Packages add their tables on branches of their own off the kernel's revisions, so "heads" applies
    them all.
    """
    command.upgrade(alembic_config(bind), revision)


def current_revision(engine: Engine) -> str | None:
    """The revisions the database is at (comma-separated heads), or None for an empty database."""
    heads = current_heads(engine)
    return ", ".join(heads) or None


def current_heads(bind: Engine | Connection) -> list[str]:
    """The revisions the database is at, sorted (empty for a database never migrated)."""
    from alembic.runtime.migration import MigrationContext

    if isinstance(bind, Connection):
        return sorted(MigrationContext.configure(bind).get_current_heads())
    with bind.connect() as conn:
        return sorted(MigrationContext.configure(conn).get_current_heads())


def known_revisions() -> set[str]:
    """Every revision id this version of the code can migrate to."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
