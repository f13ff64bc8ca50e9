"""The docs cannot drift: generated references match the code, and every command and setting is documented."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from datacommons.config import Settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import gen_docs  # noqa: E402


def test_cli_reference_is_generated_from_help() -> None:
    assert (ROOT / "docs" / "cli.md").read_text() == gen_docs.cli_reference(), (
        "docs/cli.md is stale: run `make docs`"
    )


def test_configuration_reference_lists_every_setting() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    assert text == gen_docs.configuration_reference(), "docs/configuration.md is stale: run `make docs`"
    for name in Settings.model_fields:
        assert f"`DATACOMMONS_{name.upper()}`" in text


def test_every_cli_command_is_in_the_reference() -> None:
    from datacommons.cli import cli

    text = (ROOT / "docs" / "cli.md").read_text()
    for name in cli.commands:
        assert f"## `datacommons {name}" in text


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:sh|bash)?\n(.*?)```", readme, re.S)
    assert first_block is not None
    assert first_block.group(1).split("\n")[:2] == ["make run", "make test"]
