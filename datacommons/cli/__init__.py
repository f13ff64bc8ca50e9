"""The ``datacommons`` command: the composition root of the command line, one module per group.

Exit codes: 0 success, 1 a check failed, 2 bad input — always with a one-line reason on stderr.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from pydantic import ValidationError

from datacommons.cli import audit, backups, consent_cmds, data, instance, tokens  # noqa: F401 - they register
from datacommons.cli.base import cli
from datacommons.errors import DataCommonsError

__all__ = ["cli", "main"]


def one_line(text: str) -> str:
    """Fold a message to one line for stderr."""
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every error into an exit code and a one-line reason."""
    code: Any
    try:
        code = cli.main(args=argv, prog_name="datacommons", standalone_mode=False)
    except click.UsageError as exc:
        click.echo(f"datacommons: error: {one_line(exc.format_message())}", err=True)
        code = 2
    except click.Abort:
        click.echo("datacommons: aborted", err=True)
        code = 1
    except ValidationError as exc:  # settings from the environment
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        click.echo(f"datacommons: error: invalid setting {where}: {one_line(first['msg'])}", err=True)
        code = 2
    except DataCommonsError as exc:
        click.echo(f"datacommons: error: {one_line(exc.message)}", err=True)
        code = exc.exit_code
    except Exception as exc:  # an unexpected failure: one line, the traceback only when debugging
        if os.environ.get("DATACOMMONS_LOG_LEVEL", "").upper() == "DEBUG":
            raise
        click.echo(
            f"datacommons: internal error: {type(exc).__name__}: {one_line(str(exc))} "
            "(set DATACOMMONS_LOG_LEVEL=DEBUG for the traceback)",
            err=True,
        )
        code = 1
    sys.exit(code if isinstance(code, int) else 0)
