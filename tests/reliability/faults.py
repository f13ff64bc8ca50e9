"""Run the real ``datacommons`` command with slow steps, so a test can kill it in the middle of a write.

``python -m tests.reliability.faults serve --port N`` is ``datacommons serve --port N`` with, when
``RELIABILITY_SLOW`` names steps (comma-separated, see :data:`STEPS`), a pause *inside* each named step
of every write: the step runs, appends one line to the file ``RELIABILITY_MARKS`` ("this write is now
in the middle of its transaction"), then sleeps ``RELIABILITY_DELAY`` seconds before the write goes on
to commit. A test that waits for a mark and then kills the server therefore kills it with at least one
write half done. Nothing else changes: the same application, the same uvicorn server, the same database
code. ``RELIABILITY_BUSY_MS`` shortens SQLite's busy timeout (30 s), so a test can hold the write lock
beyond it quickly.

Only a single-process server (``--workers 1``) is patched: uvicorn starts extra workers as fresh
interpreters.
"""

from __future__ import annotations

import functools
import importlib
import os
import time
from collections.abc import Callable
from typing import Any

#: Step name -> the (module, attribute) it pauses after, and what a kill there leaves behind.
STEPS: dict[str, tuple[str, str]] = {
    # the version's Parquet file is written under its temporary name, not yet renamed into place
    "parquet-write": ("pyarrow.parquet", "write_table"),
    # the file is in place and the version row flushed, not committed
    "stage-version": ("datacommons.registry", "stage_version"),
    # an entry (a publication, a release, an act) is appended to the transparency log, not committed
    "record-use": ("consent.transparency", "_append"),
    # a consent event and its receipt are flushed, not committed
    "consent-event": ("consent.ledger", "record_event"),
    # epsilon is reserved on the ledger, the release not yet stored
    "budget-reserve": ("privacy.ledger", "reserve"),
}


def _mark(step: str) -> None:
    marks = os.environ["RELIABILITY_MARKS"]
    fd = os.open(marks, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{os.getpid()} {step}\n".encode())
    finally:
        os.close(fd)


def slowed(step: str, original: Callable[..., Any], delay: float) -> Callable[..., Any]:
    """``original``, followed by a mark and a pause."""

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        _mark(step)
        time.sleep(delay)
        return result

    return wrapper


def install() -> None:
    """Apply the environment's slow steps and busy timeout to this process."""
    import datacommons.db

    busy = os.environ.get("RELIABILITY_BUSY_MS")
    if busy:
        datacommons.db.SQLITE_BUSY_TIMEOUT_MS = int(busy)
    delay = float(os.environ.get("RELIABILITY_DELAY", "0.2"))
    names = [n for n in os.environ.get("RELIABILITY_SLOW", "").split(",") if n]
    for name in names:
        module_name, attribute = STEPS[name]
        module = importlib.import_module(module_name)
        setattr(module, attribute, slowed(name, getattr(module, attribute), delay))


if __name__ == "__main__":
    install()
    from datacommons.cli import main

    main()
