"""Progress bars for long downloads and conversions: shown with rich only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

Advance = Callable[[int], None]


class Progress(Protocol):
    """Something that reports the progress of named tasks."""

    def task(self, description: str, *, total: int | None = None) -> AbstractContextManager[Advance]:
        """A context manager yielding ``advance(n)`` for one task."""


class NullProgress:
    """Reports nothing (not a terminal, tests, the API)."""

    @contextmanager
    def task(self, description: str, *, total: int | None = None) -> Iterator[Advance]:
        """A task whose progress goes nowhere."""
        yield lambda _n: None


class RichProgress:
    """A rich progress bar on standard error."""

    @contextmanager
    def task(self, description: str, *, total: int | None = None) -> Iterator[Advance]:
        """Show a bar (bytes for a download, rows otherwise) while the task runs."""
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as RichBar

        counted = (
            [DownloadColumn(), TransferSpeedColumn()] if "download" in description else [MofNCompleteColumn()]
        )
        columns = [
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            *counted,
            TimeElapsedColumn(),
        ]
        with RichBar(*columns, console=Console(stderr=True), transient=True) as bar:
            task_id = bar.add_task(description, total=total)
            yield lambda n: bar.advance(task_id, n)


def terminal_progress() -> NullProgress | RichProgress:
    """A rich bar when stderr is a terminal, nothing otherwise."""
    return RichProgress() if sys.stderr.isatty() else NullProgress()
