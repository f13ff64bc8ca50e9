"""Settings: defaults, the environment, and what production refuses."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from datacommons.config import Settings


def test_defaults_put_everything_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("DATACOMMONS_"):
            monkeypatch.delenv(key)
    settings = Settings(_env_file=None)
    assert settings.env == "development"
    assert settings.data_dir == Path("./var")
    assert settings.database_url_resolved == f"sqlite:///{Path('var/datacommons.sqlite3').resolve()}"
    assert settings.store_dir == Path("var/store")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_environment_variables_use_the_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATACOMMONS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATACOMMONS_DATABASE_URL", "postgresql+psycopg://u@db/commons")
    monkeypatch.setenv("DATACOMMONS_PORT", "9000")
    settings = Settings(_env_file=None)
    assert settings.data_dir == tmp_path
    assert settings.database_url_resolved == "postgresql+psycopg://u@db/commons"
    assert settings.port == 9000


@pytest.mark.parametrize("secret", [None, "changeme", "short-but-not-placeholder"])
def test_production_refuses_missing_or_unsafe_secret(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="DATACOMMONS_SECRET_KEY"):
        Settings(_env_file=None, env="production", secret_key=secret)


def test_production_accepts_a_real_secret() -> None:
    settings = Settings(
        _env_file=None, env="production", secret_key="k" * 48, public_url="https://dati.example.it"
    )
    assert settings.secret_key_bytes() == b"k" * 48


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "https://localhost", "http://dati.example.it", "dati.example.it"]
)
def test_production_needs_the_public_https_url_receipts_are_issued_by(url: str) -> None:
    with pytest.raises(ValidationError, match="DATACOMMONS_PUBLIC_URL must be the https:// address"):
        Settings(_env_file=None, env="production", secret_key="k" * 48, public_url=url)


def test_development_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    first = settings.secret_key_bytes()
    assert len(first) >= 48
    assert Settings(_env_file=None, data_dir=tmp_path).secret_key_bytes() == first
    mode = stat.S_IMODE((tmp_path / "secret.key").stat().st_mode)
    assert mode == 0o600
    assert list(tmp_path.glob(".secret.*")) == []
