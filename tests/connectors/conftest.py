"""Fixtures of the connector tests: run an ingest on the test database, look at what it staged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connectors.http import HttpClient
from connectors.ingest import IngestResult, ingest
from datacommons import registry
from datacommons.db import transaction
from datacommons.storage import ParquetStore

Run = Callable[..., IngestResult]


@pytest.fixture
def run(session_factory, store: ParquetStore) -> Run:  # type: ignore[no-untyped-def]
    """Run ``ingest`` in its own transaction, as the CLI does."""

    def go(
        connector: str,
        *,
        file: Path | None = None,
        params: dict[str, Any] | None = None,
        http: HttpClient | None = None,
    ) -> IngestResult:
        with transaction(session_factory, immediate=True) as session:
            return ingest(
                session,
                store=store,
                connector_name=connector,
                file=file,
                params=params or {},
                actor="test",
                http=http,
            )

    return go


@pytest.fixture
def versions(session_factory) -> Callable[[], dict[str, list[int]]]:  # type: ignore[no-untyped-def]
    """Every dataset's version numbers."""

    def look() -> dict[str, list[int]]:
        with transaction(session_factory) as session:
            return {
                d.id: sorted(v.number for v in registry.list_versions(session, d.id))
                for d in registry.list_datasets(session)
            }

    return look
