"""Alembic migrations of the commons' database, applied by ``datacommons init`` and on start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

HERE = Path(__file__).resolve().parent


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that runs on ``engine`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the database up to ``revision`` (by default every branch's newest).

    Packages add their tables on branches of their own off the kernel's revisions, so "heads" applies
    them all.
    """
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The revisions the database is at (comma-separated heads), or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ", ".join(sorted(heads)) or None
