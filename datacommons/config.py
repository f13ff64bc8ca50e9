"""Settings: one :class:`Settings`, read from ``DATACOMMONS_*`` environment variables (or ``.env``).

Every field is documented in ``docs/configuration.md``; a test fails when the two drift.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from limits import parse
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from datacommons.errors import InvalidInput

#: Values that must never be used as a secret outside development.
#: Hosts a production public URL may not name: nobody else can reach them.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
UNSAFE_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development", "test"})


class Settings(BaseSettings):
    """The configuration of one data commons instance."""

    model_config = SettingsConfigDict(env_prefix="DATACOMMONS_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        "development",
        description="Deployment environment. `production` refuses unsafe defaults "
        "(a missing or placeholder secret key, demo seeding).",
    )
    data_dir: Path = Field(
        Path("./var"),
        description="Directory for the SQLite database, the Parquet store and generated keys.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database. Default: a SQLite file `datacommons.sqlite3` "
        "in the data directory (WAL mode). Use `postgresql+psycopg://user:pass@host/db` for PostgreSQL.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Master secret (at least 32 characters). Required in production; in development "
        "and test a random one is generated once into `<data_dir>/secret.key`.",
    )
    db_pool_size: int = Field(
        20, ge=1, le=1000, description="Database connections each server process keeps open."
    )
    db_max_overflow: int = Field(
        200,
        ge=0,
        le=5000,
        description="Extra connections a server process may open under load. On PostgreSQL keep "
        "workers x (pool size + overflow) under the server's max_connections (or use a pooler).",
    )
    host: str = Field("127.0.0.1", description="Address `datacommons serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `datacommons serve` listens on.")
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="Base URL the commons is reached at; used in printed links, in DCAT-AP identifiers "
        "and as the issuer (`iss`) of consent receipts. Required in production, as an https:// URL.",
    )
    migrate_on_start: bool = Field(
        True, description="Apply pending database migrations when the server starts."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Minimum level of log records written to standard error."
    )
    token_ttl_days: int = Field(365, ge=1, description="Lifetime of a newly created API token, in days.")
    max_body_bytes: int = Field(
        1 << 20,
        ge=1024,
        description="Largest request body accepted, in bytes (413 beyond it).",
    )
    max_upload_bytes: int = Field(
        256 << 20,
        ge=1024,
        description="Largest file upload accepted by `POST /api/v1/admin/ingest/{connector}`, in bytes.",
    )
    body_idle_timeout: float = Field(
        30.0,
        gt=0,
        description="Seconds a request body may stall before the request is refused (408).",
    )
    body_total_timeout: float = Field(
        600.0,
        gt=0,
        description="Seconds a whole request body (an upload) may take to arrive (408).",
    )
    rate_limit_query: str = Field(
        "120/minute",
        description="Rate limit per token on DP queries, previews and extracts "
        "(`limits` notation: `N/second|minute|hour|day`; 429 beyond it).",
    )
    rate_limit_login: str = Field(
        "20/minute",
        description="Rate limit per client address on sign-in, donor registration and claim codes.",
    )
    privacy_epsilon_per_person: float = Field(
        10.0,
        gt=0,
        le=100,
        description="Each donor's lifetime privacy-loss cap (epsilon), across every dataset, version "
        "and release of the commons. A donor whose loss would pass it is left out of further "
        "releases (lowering it leaves out everyone already past the new cap).",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (CORS), as a JSON list, e.g. "
        '`["https://portal.example.org"]`. Empty: CORS closed.',
    )
    witness_keys: list[str] = Field(
        default_factory=list,
        description="Verifier keys (C2SP vkey, type 0x04) of the witnesses whose cosignatures of the "
        "transparency log's checkpoints the commons accepts and serves, as a JSON list, e.g. "
        '`["uni.example/w1+1a2b3c4d+BA…"]` (each witness prints its key in `witness.vkey`). '
        "Empty: no cosignature is accepted.",
    )
    forwarded_allow_ips: str | None = Field(
        None,
        description="Addresses of trusted reverse proxies (comma-separated) whose X-Forwarded-For "
        "header gives the client address used by the login rate limit. Empty: no proxy trusted.",
    )

    @field_validator("rate_limit_query", "rate_limit_login")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit like '120/minute': {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if key.strip().lower() in UNSAFE_SECRETS or len(key) < 32:
                raise ValueError(
                    "DATACOMMONS_SECRET_KEY must be set to a random value of at least 32 characters "
                    "in production"
                )
            url = urlsplit(self.public_url)
            if url.scheme != "https" or not url.hostname or url.hostname in LOOPBACK_HOSTS:
                raise ValueError(
                    "DATACOMMONS_PUBLIC_URL must be the https:// address the commons is reached at "
                    "in production: it is the issuer (iss) of every consent receipt and the base of "
                    f"every published identifier (got {self.public_url!r})"
                )
        return self

    @property
    def database_url_resolved(self) -> str:
        """The database URL in force: the configured one, or the SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'datacommons.sqlite3').resolve()}"

    @property
    def store_dir(self) -> Path:
        """Where the Parquet store keeps dataset versions."""
        return self.data_dir / "store"

    @property
    def secret_key_path(self) -> Path:
        """Where the generated secret is kept when ``secret_key`` is not set (development, test)."""
        return self.data_dir / "secret.key"

    def secret_key_bytes(self) -> bytes:
        """The master secret; outside production it is generated once and kept in the data directory."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        if self.env == "production":  # pragma: no cover - the validator already refused this
            raise InvalidInput("DATACOMMONS_SECRET_KEY is required in production")
        path = self.secret_key_path
        if not path.exists():
            write_secret_file(path, secrets.token_urlsafe(48), replace=False)
        return path.read_text().strip().encode()


def write_secret_file(path: Path, value: str, *, replace: bool) -> None:
    """Write a secret (mode 0600) atomically and durably; without ``replace``, a file already there
    wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".secret.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # atomic, and never overwrites a key another process wrote first
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    fd = os.open(path.parent, os.O_RDONLY)  # the rename itself survives a crash
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
