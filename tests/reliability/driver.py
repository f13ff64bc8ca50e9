"""Clients that keep a server busy and remember which requests it acknowledged."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

#: One request: a key naming it, and the call that sends it.
Job = tuple[Any, Callable[[httpx.Client], httpx.Response]]


@dataclass
class Drive:
    """Client threads sending their jobs one after the other until told to stop or cut off.

    A request is *acknowledged* when its response arrived (whatever the status); it is *cut* when the
    connection died before the response (the server was killed with it in flight).
    """

    url: str
    lanes: list[Iterable[Job]]
    acknowledged: list[tuple[Any, httpx.Response]] = field(default_factory=list)
    cut: list[Any] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Drive:
        for lane in self.lanes:
            thread = threading.Thread(target=self._run, args=(lane,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def _run(self, lane: Iterable[Job]) -> None:
        # A new connection per request: requests spread over the workers like separate clients.
        with httpx.Client(
            base_url=self.url, timeout=60, limits=httpx.Limits(max_keepalive_connections=0)
        ) as client:
            for key, send in lane:
                if self.stop.is_set():
                    return
                try:
                    response = send(client)
                except httpx.TransportError:
                    with self.lock:
                        self.cut.append(key)
                    return
                with self.lock:
                    self.acknowledged.append((key, response))

    def join(self, timeout: float = 60.0) -> Drive:
        for thread in self.threads:
            thread.join(timeout)
            assert not thread.is_alive(), "a client thread is stuck"
        return self

    def ok(self, *statuses: int) -> list[tuple[Any, httpx.Response]]:
        """The acknowledged requests answered with one of ``statuses``."""
        return [(k, r) for k, r in self.acknowledged if r.status_code in statuses]

    def statuses(self) -> set[int]:
        return {r.status_code for _, r in self.acknowledged}
