"""Progress bars appear only in a terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from connectors import progress


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert isinstance(progress.terminal_progress(), progress.NullProgress)


def test_a_bar_when_stderr_is_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    monkeypatch.setattr("sys.stderr", out)
    bar = progress.terminal_progress()
    assert isinstance(bar, progress.RichProgress)
    monkeypatch.setattr(
        "rich.console.Console", lambda **kw: Console(file=out, force_terminal=True, width=100)
    )
    with bar.task("eurostat lfst_r_lfu3rt: download", total=2048) as advance:
        advance(1024)
        advance(1024)
    assert "eurostat lfst_r_lfu3rt: download" in out.getvalue()
