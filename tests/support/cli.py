"""Running the real ``datacommons`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from datacommons.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment that points the command at a test instance."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATACOMMONS_")}
    env.update(
        {
            "DATACOMMONS_ENV": settings.env,
            "DATACOMMONS_DATA_DIR": str(settings.data_dir),
            "DATACOMMONS_DATABASE_URL": settings.database_url_resolved,
            "PYTHONPATH": str(ROOT),
        }
    )
    if settings.secret_key is not None:
        env["DATACOMMONS_SECRET_KEY"] = settings.secret_key.get_secret_value()
    return env


def run_cli(
    settings: Settings,
    *args: str,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``datacommons ARGS`` against the test instance; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "datacommons.cli", *args],
        env={**cli_env(settings), **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=settings.data_dir.parent,
    )
