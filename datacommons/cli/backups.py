"""``backup`` and ``restore``, each logged as an act."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from datacommons import acts
from datacommons.cli.base import cli, database, operator, settings_of
from datacommons.config import Settings


def _log_backup_act(settings: Settings, kind: str, purpose: str, manifest: dict[str, Any]) -> None:
    """Log a backup or a restore: when the backup was made and how many log entries it holds (a
    restore that takes the log back shows as a shorter tree to every witness)."""
    from datacommons.backup import Summary

    summary = Summary.of(manifest)
    with database(settings, immediate=True) as session:
        acts.record(
            session,
            acts.Act(
                kind=kind,
                actor=operator(),
                purpose=purpose,
                details={
                    "backup_created_at": manifest["created_at"],
                    "tables": len(summary.tables),
                    "dataset_files": summary.objects,
                    "log_entries_in_backup": summary.tables.get("transparency_log", 0),
                },
            ),
        )


@cli.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.pass_context
def backup(ctx: click.Context, dest: Path) -> None:
    """Back up the database, the Parquet store and the instance secret to DEST.

    DEST is a new directory, or a file name ending in .tar for one archive. Safe while the server
    runs: the database is read in one snapshot. A backup holds token hashes, encrypted donor data
    and (outside production) the instance secret: keep it as safe as the server itself. See
    docs/operations.md.
    """
    from connectors.progress import terminal_progress
    from datacommons.backup import Summary, make_backup

    settings = settings_of(ctx)
    manifest = make_backup(settings=settings, dest=dest, progress=terminal_progress())
    summary = Summary.of(manifest)
    _log_backup_act(settings, "backup", "backup made", manifest)
    click.echo(f"backup written to {dest}: {summary.describe()}")


@cli.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace a target database that already holds data (and a different "
    "secret.key, kept aside as secret.key.replaced-TIME).",
)
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Only check the backup (every file's size and SHA-256); restore nothing.",
)
@click.pass_context
def restore(ctx: click.Context, src: Path, force: bool, check_only: bool) -> None:
    """Restore the backup SRC (a directory or .tar) into the configured database and data dir.

    The whole backup is checked before anything is touched; the database is replaced in one
    transaction. Exit 2 when the target database already holds data (unless --force) or its
    instance secret differs from the backup's, 1 when the backup is damaged. Stop the server first.
    """
    from connectors.progress import terminal_progress
    from datacommons.backup import Summary, restore_backup, verify_backup

    settings = settings_of(ctx)
    if check_only:
        manifest = verify_backup(src, progress=terminal_progress())
        click.echo(f"backup {src} is intact: {Summary.of(manifest).describe()}")
        return
    manifest = restore_backup(settings=settings, src=src, force=force, progress=terminal_progress())
    summary = Summary.of(manifest)
    _log_backup_act(settings, "restore", "backup restored", manifest)
    click.echo(f"restored {src} (made {manifest['created_at']}): {summary.describe()}")
