"""The command group, and what every command shares: its settings, a migrated database, who runs it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from datacommons import __version__
from datacommons.commons import Commons
from datacommons.config import Settings, get_settings
from datacommons.logs import configure_logging
from datacommons.migrations import upgrade


def operator() -> str:
    """Who runs this command, as acts record it (kept beside the log, never published)."""
    return f"cli:{os.environ.get('USER', 'operator')}"


def settings_of(ctx: click.Context) -> Settings:
    """The settings of this invocation (read once, on first use)."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        obj["settings"] = get_settings()
        configure_logging(obj["settings"].log_level)
    return obj["settings"]


@contextmanager
def opened(settings: Settings) -> Iterator[Commons]:
    """The commons of one command, its database migrated; closed when the command ends."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    commons = Commons.open(settings)
    try:
        upgrade(commons.engine)
        yield commons
    finally:
        commons.close()


@contextmanager
def database(settings: Settings, *, immediate: bool = False) -> Iterator[Session]:
    """A migrated database and one transaction on it, for one command."""
    with opened(settings) as commons, commons.transaction(immediate=immediate) as session:
        yield session


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="datacommons")
def cli() -> None:
    """Data commons for the social economy of the Metropolitan City of Turin.

    Settings come from DATACOMMONS_* environment variables (see docs/configuration.md).
    """
