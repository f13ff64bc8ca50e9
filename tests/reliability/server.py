"""The real server as a child process: start it, wait until it answers, kill it, list its workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from datacommons.config import Settings
from tests.support.cli import ROOT, cli_env

START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One ``datacommons serve`` process (and its workers), in a process group of its own."""

    settings: Settings
    workers: int = 1
    slow: list[str] = field(default_factory=list)
    delay: float = 0.2
    busy_ms: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    _log_start: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def marks(self) -> Path:
        """The file the slow steps append a line to whenever a write reaches one."""
        return self.settings.data_dir.parent / "slow-steps.log"

    @property
    def log(self) -> Path:
        return self.settings.data_dir.parent / "server.log"

    def start(self) -> Server:
        """Start the server on a fresh port and wait until ``/api/v1/health`` answers."""
        self.port = free_port()
        env = {
            **cli_env(self.settings),
            **self.env,
            "RELIABILITY_MARKS": str(self.marks),
            "RELIABILITY_SLOW": ",".join(self.slow),
            "RELIABILITY_DELAY": str(self.delay),
            "RELIABILITY_BUSY_MS": str(self.busy_ms or ""),
        }
        # The fault bootstrap is the real CLI plus slow steps; workers > 1 get the plain CLI.
        module = "tests.reliability.faults" if self.workers == 1 else "datacommons.cli"
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._log_start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    module,
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the server exited with {self.process.returncode}:\n"
                    + self.log.read_text(errors="replace")[-3000:]
                )
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(
                    "the server did not answer within a minute:\n"
                    + self.log.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.05)
        if self.workers > 1:  # every worker must be up, not only the first to accept
            deadline = time.monotonic() + START_TIMEOUT
            while len(self.worker_pids()) < self.workers or not self._all_workers_started():
                assert time.monotonic() < deadline, "the workers did not all start"
                time.sleep(0.1)
        return self

    def output(self) -> str:
        """What the server printed since it was last started."""
        with self.log.open("rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace")

    def _all_workers_started(self) -> bool:
        return self.output().count("Application startup complete") >= self.workers

    def kill(self) -> None:
        """SIGKILL the server (the whole process group): no shutdown code runs."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM), or kill it if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass

    def worker_pids(self) -> list[int]:
        """The server's uvicorn worker processes (children started by multiprocessing's spawn)."""
        assert self.process is not None
        return [pid for pid in children(self.process.pid) if b"spawn_main" in _read(f"/proc/{pid}/cmdline")]

    def mark_count(self) -> int:
        """How many times a write reached a slow step so far."""
        try:
            return len(self.marks.read_text().splitlines())
        except FileNotFoundError:
            return 0


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def children(pid: int) -> list[int]:
    """The direct children of ``pid``, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _read(f"/proc/{entry}/stat")
            # the command name (2nd field) is in parentheses and may hold spaces: split after it
            fields = stat[stat.rfind(b")") + 2 :].split()
            if len(fields) > 1 and int(fields[1]) == pid:
                found.append(int(entry))
    return sorted(found)


def cpu_ticks(pid: int) -> int:
    """CPU time a process has used (user + system), in clock ticks."""
    stat = _read(f"/proc/{pid}/stat")
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


@contextmanager
def serving(settings: Settings, **options: Any) -> Iterator[Server]:
    """A started server, stopped (or killed) at the end whatever happens."""
    server = Server(settings, **options).start()
    try:
        yield server
    finally:
        server.stop()


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)
