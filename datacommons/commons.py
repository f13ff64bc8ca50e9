"""One commons instance as an object: its settings, database, store and outbound transport.

``create_app`` builds one and every request reaches it through :data:`datacommons.deps.CommonsDep`;
the CLI builds one per command. Nothing else holds a database engine or a store: two instances in
one process (tests, a restore beside a server) never share a connection pool, a store or a cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from datacommons.config import Settings
from datacommons.db import make_engine, make_sessionmaker, transaction
from datacommons.storage import ParquetStore

T = TypeVar("T")


@dataclass(eq=False)
class Commons:
    """What every request and command of one commons instance shares."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ParquetStore
    #: What the connectors' outbound requests go through (``None``: the network).
    http_transport: httpx.BaseTransport | None = None
    _caches: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(
        cls, settings: Settings, *, http_transport: httpx.BaseTransport | None = None, **engine: Any
    ) -> Commons:
        """The commons ``settings`` describe (``engine``: keyword arguments of :func:`make_engine`)."""
        bound = make_engine(settings.database_url_resolved, **engine)
        return cls(
            settings, bound, make_sessionmaker(bound), ParquetStore(settings.store_dir), http_transport
        )

    @contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[Session]:
        """A session in one transaction of this commons' database (see :func:`datacommons.db.transaction`)."""
        with transaction(self.sessions, immediate=immediate) as session:
            yield session

    def cache(self, name: str, make: Callable[[], T]) -> T:
        """This instance's object called ``name``, made by ``make`` on first use (per-instance caches:
        an index of the catalog, say, that must never outlive or cross its database)."""
        with self._lock:
            if name not in self._caches:
                self._caches[name] = make()
            found: T = self._caches[name]
            return found

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
