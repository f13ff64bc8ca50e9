"""Generate docs/cli.md from ``--help`` and docs/configuration.md from the Settings fields.

``make docs`` writes them; ``tests/test_docs.py`` fails when the committed files differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datacommons.cli import cli  # noqa: E402
from datacommons.config import Settings  # noqa: E402


def _commands(group: click.Group, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found: list[tuple[list[str], click.Command]] = [(path, group)]
    for name in sorted(group.commands):
        command = group.commands[name]
        if isinstance(command, click.Group):
            found += _commands(command, [*path, name])
        else:
            found.append(([*path, name], command))
    return found


def cli_reference() -> str:
    """The CLI reference: the ``--help`` of every command."""
    parts = [
        "# CLI reference\n",
        "Generated from `--help` by `make docs` (scripts/gen_docs.py); a test fails when it drifts.\n",
        "Exit codes: 0 success, 1 a check failed, 2 bad input (with a one-line reason on stderr).\n",
    ]
    for path, command in _commands(cli, ["datacommons"]):
        ctx = click.Context(
            command,
            info_name=" ".join(path),
            terminal_width=88,
            max_content_width=88,
            help_option_names=["-h", "--help"],
        )
        parts.append(f"## `{' '.join(path)}`\n\n```\n{command.get_help(ctx)}\n```\n")
    return "\n".join(parts)


def configuration_reference() -> str:
    """The configuration reference: every setting, its variable, default and meaning."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if default is None:
            shown = "(none)"
        elif isinstance(default, Path) and not default.is_absolute():
            shown = f"`./{default}`"
        else:
            shown = f"`{default}`"
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `DATACOMMONS_{name.upper()}` | {shown} | {description} |")
    return "\n".join(
        [
            "# Configuration reference\n",
            "Generated from `datacommons/config.py` by `make docs`; a test fails when it drifts.",
            "Every setting is read from an environment variable (or a `.env` file in the working",
            "directory). Outside `production`, all have safe defaults: `make run` needs none.\n",
            *rows,
            "",
        ]
    )


def main() -> None:
    (ROOT / "docs" / "cli.md").write_text(cli_reference())
    (ROOT / "docs" / "configuration.md").write_text(configuration_reference())


if __name__ == "__main__":
    main()
